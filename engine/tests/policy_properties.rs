//! Properties every policy evaluation keeps, on random records: the same bytes every time and
//! on every thread, never more than any cap, rounding within half a minor unit, and no type
//! error from a policy that passed `check`.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers fail the test by panicking"
)]

mod common;

use chrono::{Duration, FixedOffset, TimeZone};
use incentive_engine::policy::{
    EvaluationError, EvaluationInput, History, MemberProfile, Package, PolicySource, PriorOutcome,
    SourceFile, load,
};
use incentive_engine::{
    Context, Glucose, GlucoseValue, Hba1c, LabResult, Period, Reading, Readings, ReadingsBuilder,
    Source,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

/// A random member-period: readings anywhere in (and a little around) the period, some labs,
/// some attributes and an earlier history.
#[derive(Clone, Debug)]
struct Member {
    readings: Vec<(i64, u8, u8, u8)>,
    labs: Vec<(i64, i64)>,
    age: Option<u32>,
    insulin: Option<bool>,
    enrolled_days_before: Option<i64>,
    outcomes: Vec<(u8, i64, i64, bool)>,
    loading: i64,
    pool_paid: Option<i64>,
}

fn member() -> impl Strategy<Value = Member> {
    (
        prop::collection::vec((0_i64..100 * 86_400, 0_u8..=255, 0_u8..6, 0_u8..3), 0..160),
        prop::collection::vec((0_i64..400, 30_i64..150), 0..4),
        prop::option::of(0_u32..110),
        prop::option::of(any::<bool>()),
        prop::option::of(0_i64..2000),
        prop::collection::vec((1_u8..14, 0_i64..50_000, 0_i64..500, any::<bool>()), 0..12),
        -5_i64..30,
        prop::option::of(0_i64..30_000_000_000),
    )
        .prop_map(
            |(readings, labs, age, insulin, enrolled_days_before, outcomes, loading, pool_paid)| {
                Member {
                    readings,
                    labs,
                    age,
                    insulin,
                    enrolled_days_before,
                    outcomes,
                    loading,
                    pool_paid,
                }
            },
        )
}

struct Built {
    profile: MemberProfile,
    period: Period,
    readings: Readings,
    labs: Vec<LabResult>,
    history: History,
}

fn build(package: &Package, m: &Member) -> Built {
    let manifest = &package.policy.manifest;
    let period = Period::containing_day(manifest.period, manifest.effective_from);
    let start = period.window(manifest.timezone).unwrap().start;
    let span_s = (period.window(manifest.timezone).unwrap().end - start).num_seconds();
    let offset = FixedOffset::east_opt(8 * 3600).unwrap();
    let mut builder = ReadingsBuilder::new();
    for &(t, v, c, s) in &m.readings {
        // Spread over the period, with a few just outside it.
        let at = start + Duration::seconds(t * span_s / (100 * 86_400) - 3600);
        let value = match v {
            0 => GlucoseValue::Low,
            255 => GlucoseValue::High,
            v => GlucoseValue::Measured(Glucose::from_mg_dl(30.0 + f64::from(v) * 1.7).unwrap()),
        };
        let context = [
            Context::Fasting,
            Context::PostMeal,
            Context::PreMeal,
            Context::Bedtime,
            Context::Random,
            Context::Unknown,
        ][usize::from(c)];
        let source = [Source::Smbg, Source::Cgm, Source::Unspecified][usize::from(s)];
        builder.push(Reading {
            time: offset.from_utc_datetime(&at.naive_utc()),
            value,
            context,
            source,
        });
    }
    let labs = m
        .labs
        .iter()
        .map(|&(days_before, tenths)| LabResult {
            time: offset.from_utc_datetime(&(start - Duration::days(days_before - 30)).naive_utc()),
            hba1c: Hba1c::from_percent(Decimal::new(tenths, 1)).unwrap(),
        })
        .collect();
    let mut p = period;
    let outcomes = m
        .outcomes
        .iter()
        .map(|&(step, reward_cents, points, qualified)| {
            for _ in 0..step {
                p = p.previous();
            }
            PriorOutcome {
                period: p,
                reward: Decimal::new(reward_cents, 2),
                premium_adjustment_percent: Decimal::ZERO,
                tier: Some("silver".into()),
                points,
                qualified,
                metrics: Default::default(),
            }
        })
        .collect();
    let mut profile = MemberProfile::new(common::member_id("P1"));
    profile.age = m.age;
    profile.insulin = m.insulin;
    profile.enrolled_on = m
        .enrolled_days_before
        .map(|d| manifest.effective_from - Duration::days(d));
    Built {
        profile,
        period,
        readings: builder.finish().readings,
        labs,
        history: History {
            outcomes,
            premium_loading_percent: Decimal::from(m.loading),
            pool_paid: m.pool_paid.map(|c| Decimal::new(c, 2)),
            group_paid_this_year: None,
        },
    }
}

fn input(b: &Built) -> EvaluationInput<'_> {
    EvaluationInput {
        member: &b.profile,
        period: b.period,
        readings: &b.readings,
        labs: &b.labs,
        history: &b.history,
    }
}

/// Every reference package, loaded once for the whole test binary.
fn reference_packages() -> &'static [(String, Package)] {
    static PACKAGES: std::sync::OnceLock<Vec<(String, Package)>> = std::sync::OnceLock::new();
    PACKAGES.get_or_init(|| {
        common::policy_dirs()
            .iter()
            .map(|d| {
                let name = d.file_name().unwrap().to_string_lossy().into_owned();
                let package =
                    load(&common::package(d)).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
                (name, package)
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn a_policy_that_passed_check_never_fails_on_a_valid_record(m in member()) {
        for (name, package) in reference_packages() {
            let built = build(package, &m);
            match package.policy.evaluate(&input(&built)) {
                Ok(_) => {}
                Err(e @ (EvaluationError::Script { .. } | EvaluationError::BadDecision { .. } | EvaluationError::Arithmetic { .. })) => {
                    prop_assert!(false, "{name} failed on a valid record: {e}");
                }
                Err(_) => {}
            }
        }
    }

    #[test]
    fn evaluation_gives_the_same_bytes_twice_and_on_every_thread(m in member()) {
        for (name, package) in reference_packages() {
            let built = build(package, &m);
            let first = package.policy.evaluate(&input(&built)).map(|d| d.to_json()).map_err(|e| e.to_string());
            let again = package.policy.evaluate(&input(&built)).map(|d| d.to_json()).map_err(|e| e.to_string());
            prop_assert_eq!(&first, &again, "{}", name);
            let on_threads: Vec<_> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..3).map(|_| s.spawn(|| package.policy.evaluate(&input(&built)).map(|d| d.to_json()).map_err(|e| e.to_string()))).collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            for other in on_threads {
                prop_assert_eq!(&first, &other, "{}", name);
            }
        }
    }

    #[test]
    fn a_reward_never_exceeds_any_cap_and_is_whole_minor_units(m in member()) {
        for (name, package) in reference_packages() {
            let built = build(package, &m);
            let Ok(d) = package.policy.evaluate(&input(&built)) else { continue };
            let manifest = &package.policy.manifest;
            prop_assert!(d.reward >= Decimal::ZERO);
            let unit = manifest.rounding.minor_unit;
            prop_assert_eq!(d.reward % unit, Decimal::ZERO, "{}: {} is not whole minor units", name, d.reward);
            let summary = built.history.as_of(built.period);
            if let Some(cap) = &manifest.caps.per_period {
                prop_assert!(d.reward <= cap.amount, "{}: {} over the period cap {}", name, d.reward, cap.amount);
            }
            if let Some(cap) = &manifest.caps.per_year {
                prop_assert!(d.reward <= (cap.amount - summary.payouts_this_year).max(Decimal::ZERO), "{}: over the yearly cap", name);
            }
            if let (Some(budget), Some(paid)) = (manifest.caps.pool_budget, summary.pool_paid) {
                prop_assert!(d.reward <= (budget - paid).max(Decimal::ZERO), "{}: over the pool", name);
            }
            let loading = summary.premium_loading_percent + d.premium_adjustment_percent;
            if let Some(floor) = manifest.premium.loading_floor_percent {
                // A loading already under the floor is never pushed further down.
                prop_assert!(loading >= floor.min(summary.premium_loading_percent), "{}: loading {} under the floor", name, loading);
            }
            if let Some(cap) = manifest.premium.loading_cap_percent {
                prop_assert!(loading <= cap.max(summary.premium_loading_percent), "{}: loading {} over the cap", name, loading);
            }
        }
    }

    #[test]
    fn rounding_moves_a_reward_by_at_most_half_a_minor_unit(numerator in 0_i64..10_000_000, divisor in 1_i64..97, half_up in any::<bool>()) {
        let manifest = format!(
            "id = \"rounding\"\nversion = \"1\"\nname = \"r\"\ninsurer = \"i\"\ncurrency = \"CNY\"\ntimezone = \"UTC\"\nperiod = \"monthly\"\neffective_from = 2026-01-01\n\n[terms]\nnumerator = {{ type = \"decimal\", value = \"{}\" }}\ndivisor = {{ type = \"count\", value = {divisor} }}\n\n[rounding]\nminor_unit = 0.01\nmode = \"{}\"\n",
            Decimal::new(numerator, 3),
            if half_up { "half_up" } else { "half_even" }
        );
        let script = "fn decide(record, member, history) { #{ reward: terms.numerator / terms.divisor } }";
        let package = load(&PolicySource { name: "rounding".into(), files: vec![SourceFile::new("policy.toml", manifest), SourceFile::new("rules.rhai", script)] }).unwrap();
        let built = Built { profile: MemberProfile::new(common::member_id("P1")), period: Period::parse("2026-01").unwrap(), readings: Readings::default(), labs: vec![], history: History::default() };
        let d = package.policy.evaluate(&input(&built)).unwrap();
        let exact = Decimal::new(numerator, 3) / Decimal::from(divisor);
        prop_assert!((d.reward - exact).abs() <= Decimal::new(5, 3), "{} from {}", d.reward, exact);
        prop_assert_eq!(d.reward.scale(), 2);
    }
}
