//! Each reference policy against a plain-Rust model of the same plan, on random records.
//!
//! A model is written from the plan (policy.toml and the comments of rules.rhai), not from
//! the engine: it computes every figure from the readings and labs itself — local days in the
//! plan's zone with chrono-tz, percentages over readings, the median sampling interval and
//! active percent by the formulas in shared/design/domain.md, a two-pass mean and SD — then
//! applies the plan's thresholds, tables, caps, rounding and premium limits in `Decimal`.
//! The one engine convention a model borrows is how a script sees a continuous figure: rounded
//! half-even to 6 decimal places (`METRIC_DECIMAL_PLACES` in record_view.rs), which is what
//! the plan's thresholds are compared with.
//!
//! Bulk readings (a CGM trace, a year of finger-sticks) come from a small seeded generator
//! whose seed and shape parameters proptest draws and shrinks; short SMBG records are drawn
//! reading by reading.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone};
use chrono_tz::Tz;
use incentive_engine::policy::{
    Decision, EvaluationInput, History, MemberProfile, Package, Path, PriorOutcome, load,
};
use incentive_engine::{
    BuiltReadings, Context, Glucose, GlucoseValue, Hba1c, LabResult, Period, Reading, Source,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::{BTreeMap, BTreeSet};

/// Random records per policy: enough to reach every branch, few enough for a debug build.
const CASES: u32 = 64;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;

// ---------------------------------------------------------------------------------------------
// What a decision says, and how the engine is asked for one.

/// The fields of a decision a model predicts.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Outcome {
    reward: Decimal,
    premium_adjustment_percent: Decimal,
    tier: Option<String>,
    points: i64,
    qualified: bool,
    flags: Vec<String>,
}

impl Outcome {
    fn nothing() -> Self {
        Self {
            reward: Decimal::ZERO,
            premium_adjustment_percent: Decimal::ZERO,
            tier: None,
            points: 0,
            qualified: false,
            flags: Vec::new(),
        }
    }

    fn of(d: &Decision) -> Self {
        let mut flags = d.flags.clone();
        flags.sort();
        Self {
            reward: d.reward,
            premium_adjustment_percent: d.premium_adjustment_percent,
            tier: d.tier.clone(),
            points: d.points,
            qualified: d.qualified,
            flags,
        }
    }
}

/// One reading as a model sees it: UTC milliseconds, the offset it was written with, mg/dL
/// (−∞ for a meter's `LO`, +∞ for `HI`) and its context.
#[derive(Clone, Copy, Debug)]
struct R {
    t: i64,
    offset_s: i32,
    mg_dl: f64,
    context: Context,
    source: Source,
}

impl R {
    fn reading(self) -> Reading {
        let offset = FixedOffset::east_opt(self.offset_s).unwrap();
        let value = if self.mg_dl == f64::NEG_INFINITY {
            GlucoseValue::Low
        } else if self.mg_dl == f64::INFINITY {
            GlucoseValue::High
        } else {
            GlucoseValue::Measured(Glucose::from_mg_dl(self.mg_dl).unwrap())
        };
        Reading {
            time: offset.timestamp_millis_opt(self.t).single().unwrap(),
            value,
            context: self.context,
            source: self.source,
        }
    }
}

/// A member-period to put to a policy.
#[derive(Clone, Debug)]
struct Case {
    member: MemberProfile,
    period: Period,
    readings: Vec<R>,
    labs: Vec<LabResult>,
    history: History,
}

impl Case {
    fn new(period: Period, readings: Vec<R>) -> Self {
        Self {
            member: MemberProfile::new(common::member_id("D001")),
            period,
            readings,
            labs: Vec::new(),
            history: History::default(),
        }
    }
}

fn package(name: &str) -> Package {
    let dir = common::policies_dir().join(name);
    load(&common::package(&dir)).unwrap_or_else(|e| panic!("{name} does not load:\n{e}"))
}

fn decide(package: &Package, case: &Case) -> Decision {
    let built: BuiltReadings = case.readings.iter().map(|r| r.reading()).collect();
    assert_eq!(built.duplicates, 0, "the generators make distinct times");
    let input = EvaluationInput {
        member: &case.member,
        period: case.period,
        readings: &built.readings,
        labs: &case.labs,
        history: &case.history,
    };
    let decision = package
        .policy
        .evaluate(&input)
        .unwrap_or_else(|e| panic!("{} failed on a valid record: {e}", package.policy.id()));
    // The compiled path, which `evaluate` runs, decides as the interpreter does.
    let reference = package.policy.evaluate_on(&input, Path::Interpreted);
    assert_eq!(
        Ok(&decision),
        reference.as_ref(),
        "the interpreter decides otherwise"
    );
    decision
}

/// Runs `CASES` random records of `strategy` through the policy and the model.
fn agree<S: Strategy<Value = Case>>(policy: &str, strategy: S, model: impl Fn(&Case) -> Outcome) {
    let package = package(policy);
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&strategy, |case| {
        let decision = decide(&package, &case);
        let got = Outcome::of(&decision);
        let want = model(&case);
        if got != want {
            return Err(TestCaseError::fail(format!(
                "{policy} decided {got:?}\nthe model says {want:?}\nthe decision's explanation:\n  {}",
                package.policy.catalogs.explanation(0, &decision).join("\n  ")
            )));
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

// ---------------------------------------------------------------------------------------------
// What every model shares: figures as a script sees them, days, windows, caps.

/// A continuous figure as a script sees it: rounded half-even to 6 decimal places.
fn seen(x: f64) -> Decimal {
    Decimal::from_f64_retain(x)
        .unwrap()
        .round_dp_with_strategy(6, RoundingStrategy::MidpointNearestEven)
}

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// `count` of `total` readings, in percent.
fn percent(count: usize, total: usize) -> f64 {
    100.0 * count as f64 / total as f64
}

/// The UTC milliseconds of local midnight starting `day` in `zone`.
fn midnight(zone: Tz, day: NaiveDate) -> i64 {
    zone.from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap())
        .earliest()
        .unwrap()
        .timestamp_millis()
}

fn local_day(zone: Tz, t: i64) -> NaiveDate {
    DateTime::from_timestamp_millis(t)
        .unwrap()
        .with_timezone(&zone)
        .date_naive()
}

/// `[start, end)` of a period in `zone`, in UTC milliseconds.
fn window(zone: Tz, period: Period) -> (i64, i64) {
    let first = period.first_day().unwrap();
    let next = period.next().first_day().unwrap();
    (midnight(zone, first), midnight(zone, next))
}

/// The readings inside `[start, end)`, in time order.
fn inside(readings: &[R], (start, end): (i64, i64)) -> Vec<R> {
    let mut rs: Vec<R> = readings
        .iter()
        .copied()
        .filter(|r| start <= r.t && r.t < end)
        .collect();
    rs.sort_by_key(|r| r.t);
    rs
}

/// Readings counted at most once per `gap_minutes`: one within the gap after the last counted
/// reading is a repeat.
fn spaced(readings: &[R], gap_minutes: i64) -> i64 {
    let mut last: Option<i64> = None;
    let mut n = 0;
    for r in readings {
        if last.is_none_or(|l| r.t - l >= gap_minutes * MINUTE_MS) {
            n += 1;
            last = Some(r.t);
        }
    }
    n
}

fn distinct_days(zone: Tz, readings: &[R]) -> BTreeSet<NaiveDate> {
    readings.iter().map(|r| local_day(zone, r.t)).collect()
}

/// The share of fasting readings within 4.4–7.0 mmol/L inclusive, and how many there were.
fn fasting_share(readings: &[R]) -> (usize, Option<f64>) {
    let fasting: Vec<f64> = readings
        .iter()
        .filter(|r| r.context == Context::Fasting)
        .map(|r| r.mg_dl)
        .collect();
    let hits = fasting
        .iter()
        .filter(|&&g| (4.4 * 18.0..=7.0 * 18.0).contains(&g))
        .count();
    let n = fasting.len();
    (n, (n > 0).then(|| percent(hits, n)))
}

/// What an earlier period of the same plan paid and whether it met the target.
#[derive(Clone, Debug)]
struct Prior {
    period: Period,
    reward: Decimal,
    points: i64,
    qualified: bool,
}

fn history_of(priors: &[Prior]) -> Vec<PriorOutcome> {
    priors
        .iter()
        .map(|p| PriorOutcome {
            period: p.period,
            reward: p.reward,
            premium_adjustment_percent: Decimal::ZERO,
            tier: Some("silver".to_owned()),
            points: p.points,
            qualified: p.qualified,
            metrics: Default::default(),
        })
        .collect()
}

/// Rewards paid earlier in the same calendar year as `period`.
fn paid_this_year(outcomes: &[PriorOutcome], period: Period) -> Decimal {
    outcomes
        .iter()
        .filter(|o| o.period < period && o.period.year() == period.year())
        .map(|o| o.reward)
        .sum()
}

/// The plan's caps, as a model applies them after rounding.
struct Caps {
    places: u32,
    per_period: Option<Decimal>,
    /// The yearly cap, with what was paid earlier in the year.
    per_year: Option<(Decimal, Decimal)>,
    /// The pool's budget, with what it has paid, when that is known.
    pool: Option<(Decimal, Decimal)>,
}

impl Caps {
    /// The amount paid: rounded half-even to the minor unit, then no more than any cap, and a
    /// cap never exceeded by rounding (what is left is rounded down).
    fn apply(&self, raw: Decimal) -> Decimal {
        let down = |d: Decimal| {
            d.max(Decimal::ZERO)
                .round_dp_with_strategy(self.places, RoundingStrategy::ToZero)
        };
        let mut reward =
            raw.round_dp_with_strategy(self.places, RoundingStrategy::MidpointNearestEven);
        if let Some(cap) = self.per_period {
            reward = reward.min(cap);
        }
        if let Some((cap, paid)) = self.per_year {
            reward = reward.min(down(cap - paid));
        }
        if let Some((budget, paid)) = self.pool {
            reward = reward.min(down(budget - paid));
        }
        reward
    }
}

/// A small deterministic generator for bulk readings (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1_u64 << 53) as f64
    }

    /// Roughly normal: the sum of three uniforms, scaled to unit variance.
    fn normal(&mut self) -> f64 {
        (self.unit() + self.unit() + self.unit() - 1.5) * 2.0
    }
}

/// A glucose value as a meter or sensor reports it: whole mg/dL within 40–400.
fn mg(x: f64) -> f64 {
    x.round().clamp(40.0, 400.0)
}

const OFFSETS_S: [i32; 5] = [8 * 3600, 9 * 3600, 13 * 3600, 0, -5 * 3600];

// ---------------------------------------------------------------------------------------------
// tangdaifu-smbg: monthly finger-stick rebate.

/// A finger-stick value: whole mg/dL, in the fasting target (80–126) more often the better
/// the member's `control` (0–100), anywhere in 40–400 otherwise; sometimes exactly on a
/// threshold of the plan, sometimes a meter flag. Thresholds are given in mg/dL: 4.4, 7.0 and 13.9 mmol/L are
/// 79.2, 126 and 250.2 mg/dL. (Not as 13.9 mmol/L: that reading is stored as 250.20000000000002
/// mg/dL while the term is exactly 250.2, an engine issue reported separately, and this test is
/// about the plans.)
fn smbg_value(control: u32) -> impl Strategy<Value = f64> {
    prop_oneof![
        4 * control => (80_u32..=126).prop_map(f64::from),
        100 - control => (40_u32..=400).prop_map(f64::from),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(f64::INFINITY),
        4 => prop::sample::select(vec![79.2, 126.0, 250.2, 79.0, 127.0, 251.0]),
    ]
}

fn smbg_context() -> impl Strategy<Value = Context> {
    prop_oneof![
        8 => Just(Context::Fasting),
        5 => Just(Context::PostMeal),
        1 => Just(Context::PreMeal),
        1 => Just(Context::Bedtime),
        1 => Just(Context::Random),
        1 => Just(Context::Unknown),
    ]
}

/// Earlier months of the plan: distinct months up to 14 back, with what each paid.
fn monthly_priors(period: Period) -> impl Strategy<Value = Vec<Prior>> {
    prop::collection::btree_map(1_u32..=14, (0_i64..=15_000, any::<bool>()), 0..=6).prop_map(
        move |m| {
            m.into_iter()
                .map(|(back, (cents, qualified))| {
                    let mut p = period;
                    for _ in 0..back {
                        p = p.previous();
                    }
                    Prior {
                        period: p,
                        reward: Decimal::new(cents, 2),
                        points: 0,
                        qualified,
                    }
                })
                .collect()
        },
    )
}

fn tangdaifu_case() -> impl Strategy<Value = Case> {
    // Often a handful of readings, so the measuring gate (4 an hour apart, on 4 days) is near.
    (
        1_u32..=12,
        0_u32..=100,
        prop_oneof![1 => 0_usize..=10, 2 => 0_usize..=120],
    )
        .prop_flat_map(|(month, control, n)| {
            let period = Period::parse(&format!("2026-{month:02}")).unwrap();
            (
                Just(period),
                prop::collection::vec(
                    (
                        prop::option::weighted(0.3, 1_i64..=90),
                        0_i64..33 * 1440,
                        smbg_value(control),
                        smbg_context(),
                        prop::sample::select(OFFSETS_S.to_vec()),
                    ),
                    n,
                ),
                monthly_priors(period),
                prop::option::weighted(0.2, 0_i64..=4_000),
            )
        })
        .prop_map(|(period, raw, priors, pool_short)| {
            let (start, _) = window(chrono_tz::Asia::Shanghai, period);
            // From a day before the month to a few days after it; some readings follow the
            // one before within minutes (a repeat the plan counts once).
            let mut times = BTreeSet::new();
            let mut readings = Vec::new();
            let mut previous: Option<i64> = None;
            for (burst, minute, mg_dl, context, offset_s) in raw {
                let t = match (burst, previous) {
                    (Some(gap), Some(p)) => p + gap * MINUTE_MS,
                    _ => start - DAY_MS + minute * MINUTE_MS,
                };
                previous = Some(t);
                if times.insert(t) {
                    readings.push(R {
                        t,
                        offset_s,
                        mg_dl,
                        context,
                        source: Source::Smbg,
                    });
                }
            }
            let mut case = Case::new(period, readings);
            case.history.outcomes = history_of(&priors);
            case.history.pool_paid =
                pool_short.map(|cents| dec("200000000.00") - Decimal::new(cents, 2));
            case
        })
}

/// 糖大夫 monthly rebate, from policies/tangdaifu-smbg.
fn tangdaifu_model(case: &Case) -> Outcome {
    let zone = chrono_tz::Asia::Shanghai;
    let rs = inside(&case.readings, window(zone, case.period));
    let mut out = Outcome::nothing();

    // Every reading above 13.9 mmol/L (250.2 mg/dL) on 3 consecutive days: a clinician follows up.
    let mut lowest_by_day: BTreeMap<NaiveDate, f64> = BTreeMap::new();
    for r in &rs {
        let low = lowest_by_day
            .entry(local_day(zone, r.t))
            .or_insert(f64::INFINITY);
        *low = low.min(r.mg_dl);
    }
    let (mut run, mut best, mut previous) = (0, 0, None::<NaiveDate>);
    for (&day, &lowest) in &lowest_by_day {
        if lowest > 250.2 {
            run = if previous.is_some_and(|p| p.succ_opt() == Some(day)) {
                run + 1
            } else {
                1
            };
            previous = Some(day);
            best = best.max(run);
        } else {
            run = 0;
            previous = None;
        }
    }
    if best >= 3 {
        out.flags.push("clinician_follow_up".to_owned());
    }

    // Measuring gate: 4 readings an hour apart, on 4 different days.
    if spaced(&rs, 60) < 4 || lowest_by_day.len() < 4 {
        return out;
    }
    // Control: at least 2 fasting readings; the share in target sets the share of 100 CNY back.
    let (n, share) = fasting_share(&rs);
    let Some(share) = share.filter(|_| n >= 2) else {
        return out;
    };
    let share = seen(share);
    let rebate_percent = if share < dec("50") {
        0
    } else if share < dec("70") {
        10
    } else if share < dec("90") {
        20
    } else {
        30
    };
    let raw = dec("100.00") * Decimal::from(rebate_percent) / dec("100");
    let caps = Caps {
        places: 2,
        per_period: Some(dec("30.00")),
        // The lesser of 300 CNY and 25% of the 1200 CNY annual premium.
        per_year: Some((
            dec("300.00").min(dec("1200") * dec("0.25")),
            paid_this_year(&case.history.outcomes, case.period),
        )),
        pool: case.history.pool_paid.map(|p| (dec("200000000.00"), p)),
    };
    out.reward = caps.apply(raw);
    out.qualified = rebate_percent > 0;
    out
}

#[test]
fn tangdaifu_smbg_agrees_with_a_plain_rust_model_on_random_records() {
    agree("tangdaifu-smbg", tangdaifu_case(), tangdaifu_model);
}

// ---------------------------------------------------------------------------------------------
// cgm-consensus: quarterly CGM time in range.

/// The shape of a sensor record; the readings come from a seeded generator.
#[derive(Clone, Debug)]
struct CgmShape {
    /// Where the trace starts, in minutes from the quarter's first midnight (may be before it).
    start_minute: i64,
    readings: u32,
    /// Minutes between readings: 15 for a sensor, more for finger-sticks sent as a trace.
    step_minutes: i64,
    /// Up to this many seconds of jitter on each reading, as real sensors drift.
    jitter_s: i64,
    /// (after which reading, how many 15-minute slots are missing).
    gaps: Vec<(u32, u32)>,
    mean: f64,
    spread: f64,
    /// Chance in a thousand that a reading is a low (40–69 mg/dL).
    lows_per_mille: u64,
    seed: u64,
}

fn cgm_case() -> impl Strategy<Value = Case> {
    (
        (
            1_u32..=4,
            prop_oneof![3 => 0_i64..=60 * 1440, 1 => -20 * 1440_i64..=80 * 1440],
            prop_oneof![1 => 0_u32..=3, 8 => 1000_u32..=3000],
            prop_oneof![9 => Just(15_i64), 1 => 16_i64..=300],
            prop_oneof![3 => Just(0_i64), 1 => 0_i64..=40],
        ),
        (
            prop::collection::vec(
                (0_u32..3000, prop_oneof![2 => 1_u32..=20, 1 => 1_u32..=500]),
                0..=6,
            ),
            100.0..200.0_f64,
            10.0..60.0_f64,
            prop_oneof![3 => Just(0_u64), 2 => 0_u64..=60],
            any::<u64>(),
        ),
        prop::collection::btree_map(1_u32..=4, (0_i64..=20_000, any::<bool>()), 0..=4),
    )
        .prop_map(
            |(
                (quarter, start_minute, readings, step_minutes, jitter_s),
                (gaps, mean, spread, lows_per_mille, seed),
                priors,
            )| {
                let shape = CgmShape {
                    start_minute,
                    readings,
                    step_minutes,
                    jitter_s,
                    gaps,
                    mean,
                    spread,
                    lows_per_mille,
                    seed,
                };
                let period = Period::parse(&format!("2026-Q{quarter}")).unwrap();
                let mut case = Case::new(period, cgm_trace(&shape, period));
                case.history.outcomes = history_of(
                    &priors
                        .into_iter()
                        .map(|(back, (cents, qualified))| {
                            let mut p = period;
                            for _ in 0..back {
                                p = p.previous();
                            }
                            Prior {
                                period: p,
                                reward: Decimal::new(cents, 2),
                                points: 0,
                                qualified,
                            }
                        })
                        .collect::<Vec<_>>(),
                );
                case
            },
        )
}

fn cgm_trace(shape: &CgmShape, period: Period) -> Vec<R> {
    let (start, _) = window(chrono_tz::Asia::Shanghai, period);
    let mut rng = Rng(shape.seed);
    let mut t = start + shape.start_minute * MINUTE_MS;
    let mut out = Vec::new();
    for i in 0..shape.readings {
        for &(after, missing) in &shape.gaps {
            if after == i {
                t += i64::from(missing) * 15 * MINUTE_MS;
            }
        }
        let jitter = if shape.jitter_s > 0 {
            rng.below(2 * shape.jitter_s as u64 + 1) as i64 - shape.jitter_s
        } else {
            0
        };
        let roll = rng.below(1000);
        let mg_dl = if roll < 2 {
            f64::NEG_INFINITY
        } else if roll < 4 {
            f64::INFINITY
        } else if roll < 4 + shape.lows_per_mille {
            40.0 + rng.below(30) as f64
        } else {
            mg(shape.mean + shape.spread * rng.normal())
        };
        out.push(R {
            t: t + jitter * 1000,
            offset_s: 8 * 3600,
            mg_dl,
            context: Context::Unknown,
            source: Source::Cgm,
        });
        t += shape.step_minutes * MINUTE_MS;
    }
    out
}

/// The median interval between readings, in whole minutes rounded half to even.
fn sampling_interval_minutes(rs: &[R]) -> Option<f64> {
    let mut intervals: Vec<i64> = rs.windows(2).map(|w| w[1].t - w[0].t).collect();
    if intervals.is_empty() {
        return None;
    }
    intervals.sort_unstable();
    let n = intervals.len();
    let median_ms = if n % 2 == 1 {
        intervals[n / 2] as f64
    } else {
        (intervals[n / 2 - 1] as f64 + intervals[n / 2] as f64) / 2.0
    };
    Some((median_ms / MINUTE_MS as f64).round_ties_even())
}

/// Active percent (domain.md): expected = round(span / dt) + 1; missing = round((Σ intervals
/// longer than dt − their count · dt) / dt); 100 · (expected − missing) / expected. Only for a
/// sensor's sampling (dt of 1–15 minutes).
fn active_percent(rs: &[R], dt: f64) -> Option<f64> {
    if !(dt > 0.0 && dt <= 15.0) {
        return None;
    }
    let span = (rs.last()?.t - rs.first()?.t) as f64 / MINUTE_MS as f64;
    let expected = (span / dt).round_ties_even() + 1.0;
    let long: Vec<f64> = rs
        .windows(2)
        .map(|w| (w[1].t - w[0].t) as f64 / MINUTE_MS as f64)
        .filter(|&d| d > dt)
        .collect();
    let missing = ((long.iter().sum::<f64>() - long.len() as f64 * dt) / dt).round_ties_even();
    Some(100.0 * (expected - missing) / expected)
}

/// Coefficient of variation over the glucose numbers (not LO/HI), sample SD, two passes.
fn cv_percent(rs: &[R]) -> Option<f64> {
    let xs: Vec<f64> = rs
        .iter()
        .map(|r| r.mg_dl)
        .filter(|g| g.is_finite())
        .collect();
    if xs.len() < 2 {
        return None;
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    Some(100.0 * sd / mean)
}

/// CGM consensus quarterly reward, from policies/cgm-consensus.
fn cgm_model(case: &Case) -> Outcome {
    let rs = inside(
        &case.readings,
        window(chrono_tz::Asia::Shanghai, case.period),
    );
    let mut out = Outcome::nothing();
    // Sufficiency: a sensor's trace, worn ≥ 14 days with ≥ 70% of its readings present.
    let Some(active) = sampling_interval_minutes(&rs).and_then(|dt| active_percent(&rs, dt)) else {
        return out;
    };
    let worn_days = (rs[rs.len() - 1].t - rs[0].t) as f64 / DAY_MS as f64;
    if seen(worn_days) < dec("14") || seen(active) < dec("70") {
        return out;
    }
    let n = rs.len();
    let share = |f: fn(f64) -> bool| seen(percent(rs.iter().filter(|r| f(r.mg_dl)).count(), n));
    if share(|g| g < 54.0) >= dec("1") {
        out.flags.push("hypoglycaemia_review".to_owned());
    }
    let tir = share(|g| (70.0..=180.0).contains(&g));
    let tbr = share(|g| g < 70.0);
    let cv = cv_percent(&rs).map(seen);
    let tier = if tir > dec("70") && tbr < dec("4") && cv.is_some_and(|cv| cv <= dec("36")) {
        "gold"
    } else if tir > dec("50") && tbr < dec("4") {
        "silver"
    } else {
        "bronze"
    };
    let mut raw = match tier {
        "gold" => dec("150.00"),
        "silver" => dec("80.00"),
        _ => dec("20.00"),
    };
    let qualified_last_quarter = case
        .history
        .outcomes
        .iter()
        .any(|o| o.period == case.period.previous() && o.qualified);
    if tier == "gold" && qualified_last_quarter {
        raw += dec("50.00");
    }
    let caps = Caps {
        places: 2,
        per_period: Some(dec("180.00")),
        per_year: Some((
            dec("500.00"),
            paid_this_year(&case.history.outcomes, case.period),
        )),
        pool: None,
    };
    out.reward = caps.apply(raw);
    out.tier = Some(tier.to_owned());
    out.qualified = tier != "bronze";
    out
}

#[test]
fn cgm_consensus_agrees_with_a_plain_rust_model_on_random_records() {
    agree("cgm-consensus", cgm_case(), cgm_model);
}

// ---------------------------------------------------------------------------------------------
// vitality-status: annual points, status and premium loading.

/// The shape of a year of finger-sticks; the readings come from a seeded generator.
#[derive(Clone, Debug)]
struct YearShape {
    /// Distinct days with readings, anywhere from 3 days before the year to 4 days after it.
    days: u32,
    /// 1–3 readings a day.
    per_day: u64,
    /// Chance in a thousand that a fasting reading is in 4.4–7.0 mmol/L.
    in_target_per_mille: u64,
    seed: u64,
}

fn year_of_readings(shape: &YearShape, zone: Tz, year: i32) -> Vec<R> {
    let mut rng = Rng(shape.seed);
    let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
    let mut days = BTreeSet::new();
    while days.len() < shape.days as usize {
        days.insert(rng.below(372) as i64 - 3);
    }
    let mut out = Vec::new();
    for d in days {
        let midnight = midnight(zone, first + Duration::days(d));
        let mut t = midnight + (6 * 60 + rng.below(120) as i64) * MINUTE_MS;
        for k in 0..=rng.below(shape.per_day) {
            let context = match (k, rng.below(6)) {
                (0, 0..=3) => Context::Fasting,
                (_, 0 | 1) => Context::PostMeal,
                (_, 2) => Context::Fasting,
                _ => Context::Bedtime,
            };
            let mg_dl = match (context, rng.below(1000)) {
                (_, 0) => f64::NEG_INFINITY,
                (_, 1) => f64::INFINITY,
                (Context::Fasting, roll) if roll < shape.in_target_per_mille => {
                    79.2 + rng.below(47) as f64
                }
                (Context::Fasting, _) => {
                    if rng.below(4) == 0 {
                        60.0 + rng.below(19) as f64
                    } else {
                        127.0 + rng.below(100) as f64
                    }
                }
                _ => mg(160.0 + 50.0 * rng.normal()),
            };
            out.push(R {
                t,
                offset_s: OFFSETS_S[rng.below(OFFSETS_S.len() as u64) as usize],
                mg_dl,
                context,
                source: Source::Smbg,
            });
            // The next reading: sometimes a repeat within the hour, usually hours later.
            t += if rng.below(5) == 0 {
                (1 + rng.below(59) as i64) * MINUTE_MS
            } else {
                (2 + rng.below(10) as i64) * 60 * MINUTE_MS
            };
        }
    }
    out
}

/// HbA1c results around `period`, keyed by day: day 0 is 400 days before the period starts,
/// day 825 some 60 days after a year's period ends.
fn labs_around(zone: Tz, period: Period, raw: &BTreeMap<i64, i64>) -> Vec<LabResult> {
    let (start, _) = window(zone, period);
    raw.iter()
        .map(|(&day, &tenths)| {
            let t = start + (day - 400) * DAY_MS + 9 * 3600 * 1000;
            let offset = zone
                .offset_from_utc_datetime(&DateTime::from_timestamp_millis(t).unwrap().naive_utc());
            LabResult {
                time: DateTime::from_timestamp_millis(t)
                    .unwrap()
                    .with_timezone(&chrono::Offset::fix(&offset)),
                hba1c: Hba1c::from_percent(Decimal::new(tenths, 1)).unwrap(),
            }
        })
        .collect()
}

fn vitality_case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![4 => Just(2026), 1 => Just(2027)],
        (
            prop_oneof![1 => 0_u32..=20, 3 => 0_u32..=330],
            1_u64..=3,
            prop_oneof![1 => 0_u64..=1000, 1 => 850_u64..=1000],
            any::<u64>(),
        ),
        prop::collection::btree_map(0_i64..825, 55_i64..=95, 0..=3),
        prop::collection::btree_map(2023_i32..=2027, 0_i64..=2000, 0..=3),
        -300_i64..=2500,
    )
        .prop_map(
            |(year, (days, per_day, in_target_per_mille, seed), labs, priors, loading_cents)| {
                let zone = chrono_tz::Pacific::Auckland;
                let shape = YearShape {
                    days,
                    per_day,
                    in_target_per_mille,
                    seed,
                };
                let period = Period::parse(&year.to_string()).unwrap();
                let mut case = Case::new(period, year_of_readings(&shape, zone, year));
                case.labs = labs_around(zone, period, &labs);
                case.history.outcomes = history_of(
                    &priors
                        .into_iter()
                        .map(|(y, points)| Prior {
                            period: Period::parse(&y.to_string()).unwrap(),
                            reward: Decimal::ZERO,
                            points,
                            qualified: points > 500,
                        })
                        .collect::<Vec<_>>(),
                );
                case.history.premium_loading_percent = Decimal::new(loading_cents, 2);
                case
            },
        )
}

/// The labs in the `days` before `end`, oldest first.
fn labs_within(labs: &[LabResult], end: i64, days: i64) -> Vec<LabResult> {
    let mut within: Vec<LabResult> = labs
        .iter()
        .copied()
        .filter(|l| {
            let t = l.time.timestamp_millis();
            end - days * DAY_MS <= t && t < end
        })
        .collect();
    within.sort_by_key(|l| l.time);
    within
}

/// Keeps the member's premium loading within `[floor, cap]`: a change is cut short where it
/// would cross a limit, and never reversed (a loading already outside is not pushed further
/// out, nor pulled in by more than the change).
fn within_loading_limits(
    change: Decimal,
    loading: Decimal,
    floor: Decimal,
    cap: Decimal,
) -> Decimal {
    if change < Decimal::ZERO {
        change.max((floor - loading).min(Decimal::ZERO))
    } else {
        change.min((cap - loading).max(Decimal::ZERO))
    }
}

/// Glucose Vitality status, from policies/vitality-status.
fn vitality_model(case: &Case) -> Outcome {
    let zone = chrono_tz::Pacific::Auckland;
    let (start, end) = window(zone, case.period);
    let rs = inside(&case.readings, (start, end));

    let day_points = (2 * distinct_days(zone, &rs).len() as i64).min(400);
    let reading_points = spaced(&rs, 60).min(300);
    let fasting_points = match fasting_share(&rs) {
        (n, Some(share)) if n >= 12 => {
            let share = seen(share);
            if share < dec("50") {
                0
            } else if share < dec("70") {
                100
            } else if share < dec("90") {
                200
            } else {
                300
            }
        }
        _ => 0,
    };
    // HbA1c: a result in the plan year (its days, 365 or 366), and the latest below 7.0%.
    let year_days = (end - start) / DAY_MS;
    let in_year = labs_within(&case.labs, end, year_days);
    let hba1c_points = match in_year.last() {
        None => 0,
        Some(latest) if latest.hba1c.percent() < dec("7.0") => 500,
        Some(_) => 100,
    };
    let earned = day_points + reading_points + fasting_points + hba1c_points;

    let last_year: i64 = case
        .history
        .outcomes
        .iter()
        .filter(|o| o.period.year() == case.period.year() - 1)
        .map(|o| o.points)
        .sum();
    let carried = (Decimal::from(last_year) * dec("10") / dec("100")).floor();
    let total = Decimal::from(earned) + carried;
    let (status, change, reward) = if total < dec("500") {
        ("bronze", dec("2"), dec("0.00"))
    } else if total < dec("900") {
        ("silver", dec("1"), dec("0.00"))
    } else if total < dec("1200") {
        ("gold", dec("0"), dec("50.00"))
    } else {
        ("platinum", dec("-2"), dec("100.00"))
    };
    let caps = Caps {
        places: 2,
        per_period: Some(dec("100.00")),
        per_year: None,
        pool: None,
    };
    Outcome {
        reward: caps.apply(reward),
        premium_adjustment_percent: within_loading_limits(
            change,
            case.history.premium_loading_percent,
            dec("0"),
            dec("20"),
        ),
        tier: Some(status.to_owned()),
        points: earned,
        qualified: status != "bronze",
        flags: Vec::new(),
    }
}

#[test]
fn vitality_status_agrees_with_a_plain_rust_model_on_random_records() {
    agree("vitality-status", vitality_case(), vitality_model);
}

// ---------------------------------------------------------------------------------------------
// hba1c-outcome: a month's premium back for an HbA1c result.

fn hba1c_case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![4 => Just(2026), 1 => Just(2027)],
        // Mostly inside the 18–75 band, often right at its edges, sometimes unknown.
        prop::option::weighted(
            0.9,
            prop_oneof![1 => 17_u32..=18, 1 => 75_u32..=76, 6 => 18_u32..=75],
        ),
        // Days enrolled before the year: mostly enough, often right at 90, some joining during it.
        prop::option::weighted(
            0.9,
            prop_oneof![1 => 88_i64..=91, 1 => -60_i64..=0, 6 => 90_i64..=800],
        ),
        // Results mostly in the plan year, some before it or after it.
        prop::collection::btree_map(
            prop_oneof![1 => 0_i64..825, 2 => 400_i64..765],
            prop_oneof![3 => 55_i64..=75, 2 => 70_i64..=89, 1 => 85_i64..=100],
            0..=4,
        ),
        prop::option::weighted(0.3, -1_000_i64..=6_000),
    )
        .prop_map(|(year, age, enrolled_days_before, labs, pool_left)| {
            let zone = chrono_tz::Asia::Tokyo;
            let period = Period::parse(&year.to_string()).unwrap();
            let mut case = Case::new(period, Vec::new());
            case.member.age = age;
            case.member.enrolled_on =
                enrolled_days_before.map(|d| period.first_day().unwrap() - Duration::days(d));
            case.labs = labs_around(zone, period, &labs);
            case.history.pool_paid = pool_left.map(|left| dec("10000000") - Decimal::from(left));
            case
        })
}

/// HbA1c outcome refund, from policies/hba1c-outcome.
fn hba1c_model(case: &Case) -> Outcome {
    let (start, end) = window(chrono_tz::Asia::Tokyo, case.period);
    let mut out = Outcome::nothing();
    let year = labs_within(&case.labs, end, 365);
    if year.iter().any(|l| l.hba1c.percent() >= dec("9.0")) {
        out.flags.push("care_management".to_owned());
    }
    let first_day = local_day(chrono_tz::Asia::Tokyo, start);
    let eligible = case.member.age.is_some_and(|a| (18..=75).contains(&a))
        && case
            .member
            .enrolled_on
            .is_some_and(|e| (first_day - e).num_days() >= 90)
        && out.flags.is_empty();
    let (Some(earliest), Some(latest)) = (year.first(), year.last()) else {
        return out;
    };
    let (earliest, latest) = (earliest.hba1c.percent(), latest.hba1c.percent());
    let met = latest < dec("7.0") || (year.len() >= 2 && latest - earliest <= dec("-0.5"));
    if !(eligible && met) {
        return out;
    }
    let caps = Caps {
        places: 0,
        per_period: Some(dec("4500")),
        per_year: None,
        pool: case.history.pool_paid.map(|p| (dec("10000000"), p)),
    };
    out.reward = caps.apply(dec("4500"));
    out.qualified = true;
    out
}

#[test]
fn hba1c_outcome_agrees_with_a_plain_rust_model_on_random_records() {
    agree("hba1c-outcome", hba1c_case(), hba1c_model);
}

// The models are only as good as their reach: check each one meets every outcome it can give.

#[test]
fn the_random_records_reach_every_tier_of_each_plan() {
    // A fixed seed: this checks the generators, and must not depend on luck.
    let mut runner = TestRunner::deterministic();
    let mut seen_outcomes: BTreeSet<String> = BTreeSet::new();
    let mut note = |policy: &str, o: &Outcome| {
        seen_outcomes.insert(format!(
            "{policy} {} {}",
            o.tier.as_deref().unwrap_or("-"),
            o.reward
        ));
    };
    for _ in 0..CASES {
        let c = cgm_case().new_tree(&mut runner).unwrap().current();
        note("cgm", &cgm_model(&c));
        let v = vitality_case().new_tree(&mut runner).unwrap().current();
        note("vitality", &vitality_model(&v));
    }
    let tiers = |policy: &str, tier: &str| {
        seen_outcomes
            .iter()
            .any(|s| s.starts_with(&format!("{policy} {tier} ")))
    };
    for tier in ["gold", "silver", "bronze", "-"] {
        assert!(
            tiers("cgm", tier),
            "no cgm record reached {tier}: {seen_outcomes:?}"
        );
    }
    for tier in ["platinum", "gold", "silver", "bronze"] {
        assert!(
            tiers("vitality", tier),
            "no vitality record reached {tier}: {seen_outcomes:?}"
        );
    }
}
