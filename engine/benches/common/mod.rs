//! Shared by `benches/policy.rs` and `bench/zen-compare` (which includes this file by path):
//! synthetic SMBG member-months, the tangdaifu-smbg plan written by hand in native Rust over
//! the engine's metrics code, and the same rule run by Rhai over precomputed metrics.
//!
//! Everything here is deterministic: the same members, readings and decisions every run.

#![allow(dead_code, reason = "each bench binary uses its own subset")]
#![allow(
    clippy::panic,
    clippy::expect_used,
    reason = "a bench whose setup is wrong must stop, not measure something else"
)]

use chrono::{FixedOffset, NaiveDate, TimeZone};
use incentive_engine::lab::Hba1c;
use incentive_engine::metrics::thresholds::FASTING_TARGET_MG_DL;
use incentive_engine::metrics::{context_share, coverage, daily};
use incentive_engine::policy::compiled::CompiledScript;
use incentive_engine::policy::decision::MetricsUsed;
use incentive_engine::policy::explanation::{Args, Line, Message, Reason};
use incentive_engine::policy::host::engine;
use incentive_engine::policy::manifest::Manifest;
use incentive_engine::policy::record_view::{METRIC_DECIMAL_PLACES, MetricValue};
use incentive_engine::policy::tables::TableRows;
use incentive_engine::policy::terms::TermValue;
use incentive_engine::policy::{
    Decision, ENGINE_VERSION, EvaluationInput, History, HistorySummary, MemberProfile, Policy,
    PolicySource, PriorOutcome, SourceFile,
};
use incentive_engine::{
    Context, Glucose, GlucoseValue, LabResult, MemberId, Period, Reading, Readings,
    ReadingsBuilder, Record, Source,
};
use rhai::{AST, CallFnOptions, Dynamic, ImmutableString, Map, OptimizationLevel, Scope};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::path::Path;
use std::sync::Arc;

// ---------------------------------------------------------------------------------------------
// Deterministic numbers

/// Knuth's MMIX LCG; the top 32 bits are the good ones.
#[derive(Clone, Debug)]
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Self {
        let mut l = Self(seed ^ 0x2545_f491_4f6c_dd1d);
        l.next_u32();
        l
    }

    pub fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 32) as u32
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        f64::from(self.next_u32()) / 4_294_967_296.0
    }

    /// Uniform integer in `lo..=hi`.
    pub fn between(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.next_u32() % (hi - lo + 1)
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-12);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

// ---------------------------------------------------------------------------------------------
// Synthetic member-months

/// Everything one evaluation reads, owned.
#[derive(Clone, Debug)]
pub struct MemberMonth {
    pub member: MemberProfile,
    pub readings: Readings,
    pub labs: Vec<LabResult>,
    pub history: History,
}

impl MemberMonth {
    pub fn input(&self, period: Period) -> EvaluationInput<'_> {
        EvaluationInput {
            member: &self.member,
            period,
            readings: &self.readings,
            labs: &self.labs,
            history: &self.history,
        }
    }
}

pub fn member_id(text: &str) -> MemberId {
    MemberId::parse(text).expect("a valid member id")
}

pub fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("+08:00")
}

/// When a finger-stick meter's user pricks, as in examples/readings/make_smbg.py, plus a
/// reading after breakfast: (hour, minute, context, mean mmol/L above fasting, SD factor).
const SLOTS: [(u32, u32, Context, f64, f64); 5] = [
    (7, 0, Context::Fasting, 0.0, 1.0),
    (9, 30, Context::PostMeal, 3.0, 1.4),
    (11, 30, Context::PreMeal, 0.4, 1.0),
    (14, 0, Context::PostMeal, 2.6, 1.4),
    (22, 0, Context::Bedtime, 1.4, 1.2),
];

/// `n` SMBG member-months of March 2026 (Asia/Shanghai), each with 30–90 finger-stick readings
/// at meal-related times, fasting the most often measured, in mmol/L with one decimal as meters
/// show them. Control varies by member: fasting means of 5–10 mmol/L for most, 12–15 for one in
/// twelve (who may trigger the clinician flag); SDs of 0.8–1.8 mmol/L, wider after meals;
/// `LO`/`HI` where a value leaves the meter's range (below 1.2, above 33.3 mmol/L). Profiles, an HbA1c for
/// half of them and January–February outcomes make the hashed inputs and the caps realistic.
pub fn smbg_member_months(n: usize) -> Vec<MemberMonth> {
    let offset = shanghai();
    let days = 31;
    (0..n)
        .map(|k| {
            let mut rng = Lcg::new(k as u64 + 1);
            let target = f64::from(rng.between(30, 90));
            // Fasting first: p_f for the 31 mornings, the rest spread over the other slots.
            let p_fasting = (1.4 * target / (days as f64 * 5.0)).min(0.95);
            let p_other = ((target - p_fasting * days as f64) / (days as f64 * 4.0)).max(0.0);
            let poorly = k % 12 == 11;
            let control = rng.uniform();
            let fasting_mean = if poorly {
                12.0 + 3.0 * control
            } else {
                5.0 + 5.0 * control
            };
            let sd = 0.8 + 1.0 * rng.uniform();
            let mut builder = ReadingsBuilder::with_capacity(100);
            for day in 1..=days {
                for &(hour, minute, context, above, sd_factor) in &SLOTS {
                    let p = if context == Context::Fasting {
                        p_fasting
                    } else {
                        p_other
                    };
                    if rng.uniform() >= p {
                        continue;
                    }
                    let jitter = rng.between(0, 25);
                    let time = offset
                        .with_ymd_and_hms(2026, 3, day, hour, minute, 0)
                        .single()
                        .expect("a March 2026 time")
                        + chrono::TimeDelta::minutes(i64::from(jitter));
                    let mmol = fasting_mean + above + sd * sd_factor * rng.normal();
                    let mmol = (mmol * 10.0).round() / 10.0;
                    let value = if mmol < 1.2 {
                        GlucoseValue::Low
                    } else if mmol > 33.3 {
                        GlucoseValue::High
                    } else {
                        GlucoseValue::Measured(Glucose::from_mmol_l(mmol).expect("plausible"))
                    };
                    builder.push(Reading {
                        time: time.fixed_offset(),
                        value,
                        context,
                        source: Source::Smbg,
                    });
                }
            }
            let id = format!("M{:07}", k + 1);
            let mut member = MemberProfile::new(member_id(&id));
            member.age = Some(35 + rng.between(0, 40));
            member.sex = Some(if k % 2 == 0 { "female" } else { "male" }.to_owned());
            member.region = Some("Shanghai".to_owned());
            member.diabetes_type = Some("type2".to_owned());
            member.insulin = Some(k % 5 == 0);
            member.enrolled_on = NaiveDate::from_ymd_opt(2025, 1 + rng.between(0, 11), 1);
            let labs = if k % 2 == 0 {
                let percent = Decimal::new(i64::from(60 + rng.between(0, 40)), 1);
                vec![LabResult {
                    time: offset
                        .with_ymd_and_hms(2026, 1, 1 + rng.between(0, 27), 9, 0, 0)
                        .single()
                        .expect("a January 2026 time"),
                    hba1c: Hba1c::from_percent(percent).expect("plausible HbA1c"),
                }]
            } else {
                Vec::new()
            };
            let outcomes = ["2026-01", "2026-02"]
                .iter()
                .map(|p| {
                    let step = i64::from(rng.between(0, 3)) * 10;
                    PriorOutcome {
                        period: Period::parse(p).expect("a month"),
                        reward: Decimal::new(step * 100, 2),
                        premium_adjustment_percent: Decimal::ZERO,
                        tier: None,
                        points: 0,
                        qualified: step > 0,
                        metrics: Default::default(),
                    }
                })
                .collect();
            let history = History {
                outcomes,
                premium_loading_percent: Decimal::ZERO,
                pool_paid: Some(Decimal::new(1_234_567_800, 2)),
                group_paid_this_year: None,
            };
            MemberMonth {
                member,
                readings: builder.finish().readings,
                labs,
                history,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Packages

/// Reads a policy package directory the way the CLI does: policy.toml, rules.rhai, cases/*.
pub fn package(dir: &Path) -> PolicySource {
    let mut files = Vec::new();
    for name in ["policy.toml", "rules.rhai"] {
        if let Ok(text) = std::fs::read_to_string(dir.join(name)) {
            files.push(SourceFile::new(name, text));
        }
    }
    if let Ok(entries) = std::fs::read_dir(dir.join("cases")) {
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if let Ok(text) = std::fs::read_to_string(&p) {
                files.push(SourceFile::new(format!("cases/{name}"), text));
            }
        }
    }
    PolicySource {
        name: dir.display().to_string(),
        files,
    }
}

pub fn load_policy(source: &PolicySource) -> Policy {
    match incentive_engine::policy::load(source) {
        Ok(p) => p.policy,
        Err(d) => panic!("package {} must load: {d:?}", source.name),
    }
}

// ---------------------------------------------------------------------------------------------
// tangdaifu-smbg by hand

/// The plan's terms and table, read from its manifest once.
#[derive(Clone, Debug)]
pub struct NativePlan {
    pub monthly_premium: TermValue,
    pub min_readings: TermValue,
    pub min_measuring_days: TermValue,
    pub reading_gap_minutes: i64,
    pub min_fasting_readings: TermValue,
    pub hyper_alert_mg_dl: f64,
    pub hyper_alert_days: i64,
    /// `from ≤ key < to` → rebate percent.
    pub steps: Vec<(Option<Decimal>, Option<Decimal>, TermValue)>,
}

fn term<'a>(m: &'a Manifest, name: &str) -> &'a TermValue {
    &m.term(name)
        .unwrap_or_else(|| panic!("tangdaifu-smbg has a term `{name}`"))
        .value
}

fn integer(v: &TermValue) -> i64 {
    match v {
        TermValue::Integer(i) => *i,
        TermValue::Decimal(d) => d.to_i64().expect("a whole number"),
        other => panic!("not a number: {other:?}"),
    }
}

fn decimal(v: &TermValue) -> Decimal {
    match v {
        TermValue::Integer(i) => Decimal::from(*i),
        TermValue::Decimal(d) => *d,
        other => panic!("not a number: {other:?}"),
    }
}

/// How a script's `${…}` writes a number term: a decimal or an integer as Rust displays it.
fn show(v: &TermValue) -> String {
    match v {
        TermValue::Integer(i) => i.to_string(),
        TermValue::Decimal(d) => d.to_string(),
        TermValue::Text(s) => s.clone(),
        TermValue::Flag(b) => b.to_string(),
    }
}

impl NativePlan {
    pub fn of(m: &Manifest) -> Self {
        let table = m
            .table("rebate_percent_by_fasting_in_target")
            .expect("the rebate table");
        let TableRows::Steps(steps) = &table.rows else {
            panic!("the rebate table has steps")
        };
        Self {
            monthly_premium: term(m, "monthly_premium").clone(),
            min_readings: term(m, "min_readings").clone(),
            min_measuring_days: term(m, "min_measuring_days").clone(),
            reading_gap_minutes: integer(term(m, "reading_gap_minutes")),
            min_fasting_readings: term(m, "min_fasting_readings").clone(),
            hyper_alert_mg_dl: decimal(term(m, "hyper_alert")).to_f64().unwrap_or(f64::NAN),
            hyper_alert_days: integer(term(m, "hyper_alert_days")),
            steps: steps
                .iter()
                .filter_map(|s| match &s.value {
                    incentive_engine::policy::tables::Cell::Value(v) => {
                        Some((s.from, s.to, v.clone()))
                    }
                    incentive_engine::policy::tables::Cell::Inner(_) => None,
                })
                .collect(),
        }
    }

    fn rebate(&self, share: Decimal) -> Option<&TermValue> {
        self.steps
            .iter()
            .find(|(from, to, _)| from.is_none_or(|f| f <= share) && to.is_none_or(|t| share < t))
            .map(|(_, _, v)| v)
    }
}

/// A continuous metric as scripts see it (`MetricValue::of_f64`).
pub fn decimal_metric(x: Option<f64>) -> Option<Decimal> {
    x.filter(|v| v.is_finite())
        .and_then(Decimal::from_f64_retain)
        .map(|d| d.round_dp(METRIC_DECIMAL_PLACES).normalize())
}

/// Readings counted at most once per `gap_minutes` (`RecordView::readings_spaced`).
pub fn readings_spaced(times_ms: &[i64], gap_minutes: i64) -> i64 {
    let gap_ms = gap_minutes.saturating_mul(60_000);
    let mut last: Option<i64> = None;
    let mut n = 0;
    for &t in times_ms {
        if last.is_none_or(|l| t - l >= gap_ms) {
            n += 1;
            last = Some(t);
        }
    }
    n
}

/// What the rule reads; implemented over a record (computed on first use, like the script's
/// `record`) and over precomputed values.
pub trait RuleMetrics {
    fn run_above_hyper_alert(&mut self, plan: &NativePlan) -> i64;
    fn readings_spaced(&mut self, plan: &NativePlan) -> i64;
    fn days_with_readings(&mut self) -> i64;
    fn fasting(&mut self) -> (i64, Option<Decimal>);
}

/// The metrics the rule reads, computed beforehand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleInputs {
    pub run_above_hyper_alert: i64,
    pub readings_spaced: i64,
    pub days_with_readings: i64,
    pub fasting_n: i64,
    pub fasting_in_target_percent: Option<Decimal>,
}

impl RuleMetrics for &RuleInputs {
    fn run_above_hyper_alert(&mut self, _: &NativePlan) -> i64 {
        self.run_above_hyper_alert
    }
    fn readings_spaced(&mut self, _: &NativePlan) -> i64 {
        self.readings_spaced
    }
    fn days_with_readings(&mut self) -> i64 {
        self.days_with_readings
    }
    fn fasting(&mut self) -> (i64, Option<Decimal>) {
        (self.fasting_n, self.fasting_in_target_percent)
    }
}

/// A record's metrics, each computed when the rule first reads it.
pub struct LazyMetrics<'a> {
    pub record: &'a Record,
    fasting: Option<(i64, Option<Decimal>)>,
}

impl<'a> LazyMetrics<'a> {
    pub fn new(record: &'a Record) -> Self {
        Self {
            record,
            fasting: None,
        }
    }
}

impl RuleMetrics for LazyMetrics<'_> {
    fn run_above_hyper_alert(&mut self, plan: &NativePlan) -> i64 {
        let days = daily::daily_summaries(self.record);
        i64::from(daily::longest_run_of_days(&days, |d| {
            d.all_above(plan.hyper_alert_mg_dl)
        }))
    }
    fn readings_spaced(&mut self, plan: &NativePlan) -> i64 {
        readings_spaced(self.record.readings().times_ms(), plan.reading_gap_minutes)
    }
    fn days_with_readings(&mut self) -> i64 {
        coverage::days_with_readings(self.record) as i64
    }
    fn fasting(&mut self) -> (i64, Option<Decimal>) {
        *self.fasting.get_or_insert_with(|| {
            let (n, share) = context_share(self.record, Context::Fasting, |g| {
                FASTING_TARGET_MG_DL.0 <= g && g <= FASTING_TARGET_MG_DL.1
            });
            (n as i64, decimal_metric(share))
        })
    }
}

/// Computes every metric the rule may read (for the rule-only benchmarks).
pub fn rule_inputs(plan: &NativePlan, record: &Record) -> RuleInputs {
    let mut m = LazyMetrics::new(record);
    let (fasting_n, fasting_in_target_percent) = m.fasting();
    RuleInputs {
        run_above_hyper_alert: m.run_above_hyper_alert(plan),
        readings_spaced: m.readings_spaced(plan),
        days_with_readings: m.days_with_readings(),
        fasting_n,
        fasting_in_target_percent,
    }
}

/// What the rule decides, before caps and rounding.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleOutcome {
    pub reward: Decimal,
    pub qualified: bool,
    pub reasons: Vec<Line>,
    pub flags: Vec<String>,
    /// What the rule read of `days_with_readings`, `fasting_n`, `fasting_in_target_percent`
    /// (the decision lists the metrics read, as `metrics_used`).
    pub used: Vec<(&'static str, MetricValue)>,
}

fn opt_metric(d: Option<Decimal>) -> MetricValue {
    d.map_or(MetricValue::Missing, MetricValue::Decimal)
}

/// rules.rhai, line for line. With `reasons` false, no explanation strings are built (the
/// like-for-like comparison with a rule engine whose outputs are only the numbers and flags);
/// with `track` false, the metrics read are not listed (only a whole decision lists them).
pub fn decide(
    plan: &NativePlan,
    m: &mut impl RuleMetrics,
    reasons: bool,
    track: bool,
) -> RuleOutcome {
    let mut out = RuleOutcome::default();
    let run = m.run_above_hyper_alert(plan);
    if run >= plan.hyper_alert_days {
        out.flags.push("clinician_follow_up".to_owned());
        if reasons {
            out.reasons
                .push(message("clinician-follow-up", [("days", run.to_string())]));
        }
    }
    let counted = m.readings_spaced(plan);
    let days = m.days_with_readings();
    if track {
        out.used
            .push(("days_with_readings", MetricValue::Integer(days)));
    }
    if counted < integer(&plan.min_readings) || days < integer(&plan.min_measuring_days) {
        if reasons {
            out.reasons.push(message(
                "measuring-gate-not-met",
                [
                    ("readings", counted.to_string()),
                    ("days", days.to_string()),
                    ("readings_needed", show(&plan.min_readings)),
                    ("days_needed", show(&plan.min_measuring_days)),
                ],
            ));
        }
        return out;
    }
    if reasons {
        out.reasons.push(message(
            "measuring-gate-met",
            [
                ("readings", counted.to_string()),
                ("days", days.to_string()),
            ],
        ));
    }
    let (fasting_n, share) = m.fasting();
    if track {
        out.used
            .push(("fasting_n", MetricValue::Integer(fasting_n)));
    }
    if fasting_n < integer(&plan.min_fasting_readings) {
        if reasons {
            out.reasons.push(message(
                "too-few-fasting-readings",
                [
                    ("fasting", fasting_n.to_string()),
                    ("needed", show(&plan.min_fasting_readings)),
                ],
            ));
        }
        return out;
    }
    if track {
        out.used
            .push(("fasting_in_target_percent", opt_metric(share)));
    }
    let Some(share) = share else {
        panic!("fasting readings without a share")
    };
    let Some(rebate) = plan.rebate(share) else {
        panic!("{share} is outside the rebate table")
    };
    let percent = decimal(rebate);
    out.reward = decimal(&plan.monthly_premium) * percent / Decimal::ONE_HUNDRED;
    out.qualified = percent > Decimal::ZERO;
    if reasons {
        out.reasons.push(message(
            "fasting-share",
            [
                ("share", share.to_string()),
                ("fasting", fasting_n.to_string()),
                ("rebate", show(rebate)),
                ("premium", show(&plan.monthly_premium)),
            ],
        ));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The engine's caps and rounding, as `Policy::apply_caps` and `apply_premium_limits` do them

pub fn apply_caps(
    m: &Manifest,
    reward: Decimal,
    history: &HistorySummary,
    why: &mut Vec<Line>,
) -> Decimal {
    let cur = &m.currency;
    let rounding = &m.rounding;
    let mut amount = rounding.money(reward);
    if amount != reward {
        why.push(message(
            "engine-rounded",
            [
                ("given", reward.to_string()),
                ("paid", amount.to_string()),
                ("currency", cur.clone()),
                ("mode", rounding.mode.name().to_owned()),
                ("unit", rounding.minor_unit.to_string()),
            ],
        ));
    }
    if let Some(cap) = &m.caps.per_period
        && amount > cap.amount
    {
        why.push(message(
            "engine-capped-period",
            [
                ("paid", cap.amount.to_string()),
                ("cap", cap.amount.to_string()),
                ("given", amount.to_string()),
            ],
        ));
        amount = cap.amount;
    }
    if let Some(cap) = &m.caps.per_year {
        let left = rounding.money_down((cap.amount - history.payouts_this_year).max(Decimal::ZERO));
        if amount > left {
            why.push(message(
                "engine-capped-year",
                [
                    ("paid", left.to_string()),
                    ("cap", cap.amount.to_string()),
                    ("earlier", history.payouts_this_year.to_string()),
                    ("given", amount.to_string()),
                ],
            ));
            amount = left;
        }
    }
    if let (Some(budget), Some(paid)) = (m.caps.pool_budget, history.pool_paid) {
        let left = (budget - paid).max(Decimal::ZERO);
        let fits = rounding.money_down(left);
        if amount > fits {
            why.push(message(
                "engine-capped-pool",
                [
                    ("paid", fits.to_string()),
                    ("pool", budget.to_string()),
                    ("left", left.to_string()),
                    ("given", amount.to_string()),
                ],
            ));
            amount = fits;
        }
    }
    amount.rescale(rounding.places());
    amount
}

/// An explanation line: a message and its arguments, as `reason(…)` and the engine make them.
fn message<const N: usize>(id: &str, args: [(&str, String); N]) -> Line {
    Line::Message(Message::new(
        id.to_owned(),
        Args::new(args.map(|(k, v)| (k.to_owned(), v))),
    ))
}

/// A zero premium adjustment through the premium limits (the plan has none), as the engine
/// writes it.
pub fn premium_zero(m: &Manifest) -> Decimal {
    let mut out = Decimal::ZERO.round_dp_with_strategy(
        m.rounding.premium_percent_places,
        m.rounding.mode.strategy(),
    );
    out.rescale(m.rounding.premium_percent_places);
    out
}

/// The whole evaluation by hand: the member's record for the period, the metrics the rule
/// reads (each on first use), the rule, caps and rounding, and the same `Decision`, with
/// `input_hash` left to the caller (pass `hash` to compute it).
pub fn native_evaluate(
    policy: &Policy,
    plan: &NativePlan,
    input: &EvaluationInput<'_>,
    hash: impl FnOnce(&EvaluationInput<'_>, &Record) -> String,
) -> Decision {
    let m = &policy.manifest;
    let period = input.period;
    let first = period.first_day();
    assert!(
        period.kind() == m.period
            && first
                .is_some_and(|d| d >= m.effective_from && m.effective_to.is_none_or(|to| d <= to)),
        "a period the plan covers"
    );
    let record = Record::for_period(
        input.member.id.clone(),
        input.readings,
        input.labs.to_vec(),
        period,
        m.timezone,
    )
    .expect("a period with a window");
    let input_hash = hash(input, &record);
    let history = input.history.as_of(period);
    let raw = decide(plan, &mut LazyMetrics::new(&record), true, true);
    let mut explanation = raw.reasons;
    let reward = apply_caps(m, raw.reward, &history, &mut explanation);
    Decision {
        member_id: input.member.id.as_str().to_owned(),
        policy_id: m.id.clone(),
        policy_version: m.version.clone(),
        policy_hash: policy.content_hash.clone(),
        engine_version: ENGINE_VERSION.to_owned(),
        period: period.to_string(),
        input_hash,
        currency: m.currency.clone(),
        reward,
        premium_adjustment_percent: premium_zero(m),
        tier: None,
        points: 0,
        qualified: raw.qualified,
        flags: raw.flags,
        metrics_used: MetricsUsed(raw.used),
        metrics_used_by_period: Default::default(),
        kept: MetricsUsed::default(),
        explanation,
    }
}

// ---------------------------------------------------------------------------------------------
// The same rule in Rhai, over precomputed metrics

/// rules.rhai with the two record methods the rule calls read from precomputed properties
/// instead, so `record` can be a map of numbers.
pub fn rule_only_script(rules_rhai: &str) -> String {
    let mut text = rules_rhai.to_owned();
    for (from, to) in [
        (
            "record.longest_run_of_days_above(terms.hyper_alert)",
            "record.run_above_hyper_alert",
        ),
        (
            "record.readings_spaced(terms.reading_gap_minutes)",
            "record.readings_spaced",
        ),
    ] {
        assert!(text.contains(from), "rules.rhai calls `{from}`");
        text = text.replace(from, to);
    }
    text
}

/// rules.rhai without its explanation lines (each `reasons.push(…)`, over as many lines as
/// its parentheses take): the rule's numbers and flags only.
pub fn without_reasons(script: &str) -> String {
    let mut open = 0i32;
    let mut kept = Vec::new();
    for line in script.lines() {
        if open == 0 && !line.trim_start().starts_with("reasons.push(") {
            kept.push(line);
            continue;
        }
        open += line.matches('(').count() as i32 - line.matches(')').count() as i32;
    }
    kept.join("\n")
}

fn term_dynamic(v: &TermValue) -> Dynamic {
    match v {
        TermValue::Decimal(d) => Dynamic::from_decimal(*d),
        TermValue::Integer(i) => Dynamic::from_int(*i),
        TermValue::Text(s) => Dynamic::from(ImmutableString::from(s.as_str())),
        TermValue::Flag(b) => Dynamic::from_bool(*b),
    }
}

/// Compiles a script on the engine's sandbox the way `policy::load` does: terms and tables
/// as constants, folded by the optimiser.
pub fn compile_rule(m: &Manifest, text: &str) -> AST {
    let mut terms = Map::new();
    for t in &m.terms {
        terms.insert(t.name.as_str().into(), term_dynamic(&t.value));
    }
    let mut tables = Map::new();
    for t in &m.tables {
        tables.insert(t.name.as_str().into(), Dynamic::from(Arc::new(t.clone())));
    }
    let mut scope = Scope::new();
    scope.push_constant("terms", terms);
    scope.push_constant("tables", tables);
    let engine = engine();
    let ast = match engine.compile_with_scope(&scope, text) {
        Ok(ast) => ast,
        Err(e) => panic!("rule script must compile: {e}"),
    };
    engine.optimize_ast(&scope, ast, OptimizationLevel::Full)
}

/// Precomputed metrics as the map the rule-only script reads as `record`.
pub fn rhai_record(i: &RuleInputs) -> Map {
    let mut m = Map::new();
    m.insert(
        "run_above_hyper_alert".into(),
        Dynamic::from_int(i.run_above_hyper_alert),
    );
    m.insert(
        "readings_spaced".into(),
        Dynamic::from_int(i.readings_spaced),
    );
    m.insert(
        "days_with_readings".into(),
        Dynamic::from_int(i.days_with_readings),
    );
    m.insert("fasting_n".into(), Dynamic::from_int(i.fasting_n));
    m.insert(
        "fasting_in_target_percent".into(),
        i.fasting_in_target_percent
            .map_or(Dynamic::UNIT, Dynamic::from_decimal),
    );
    m
}

fn strings(v: Option<Dynamic>) -> Vec<String> {
    v.and_then(|v| v.try_cast::<rhai::Array>())
        .map(|a| {
            a.into_iter()
                .filter_map(|s| s.into_immutable_string().ok().map(|s| s.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// The reasons a script gave: its `reason(…)` messages and its texts.
fn lines(v: Option<Dynamic>) -> Vec<Line> {
    v.and_then(|v| v.try_cast::<rhai::Array>())
        .map(|a| {
            a.into_iter()
                .filter_map(|item| match item.try_cast_result::<Reason>() {
                    Ok(r) => Some(Line::Message(r.into_message())),
                    Err(item) => item
                        .into_immutable_string()
                        .ok()
                        .map(|s| Line::Text(s.to_string())),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Runs the rule-only script over one member's precomputed metrics and reads its decision map
/// into a [`RuleOutcome`] (without `used`).
pub fn rhai_rule(ast: &AST, record: &Map) -> RuleOutcome {
    let mut scope = Scope::new();
    let options = CallFnOptions::new().eval_ast(false).rewind_scope(true);
    let returned: Dynamic = match engine().call_fn_with_options(
        options,
        &mut scope,
        ast,
        "decide",
        (record.clone(), Dynamic::UNIT, Dynamic::UNIT),
    ) {
        Ok(v) => v,
        Err(e) => panic!("the rule must run: {e}"),
    };
    rule_outcome(returned)
}

/// [`rhai_rule`] on the script compiled (`policy::compiled`), as `Policy::evaluate` runs it.
pub fn compiled_rule(script: &CompiledScript, record: &Map) -> RuleOutcome {
    let returned = script
        .decide([
            Dynamic::from_map(record.clone()),
            Dynamic::UNIT,
            Dynamic::UNIT,
        ])
        .expect("the compiled rule decides without the interpreter");
    rule_outcome(returned)
}

fn rule_outcome(returned: Dynamic) -> RuleOutcome {
    let Some(mut map) = returned.try_cast::<Map>() else {
        panic!("the rule returns a map")
    };
    let reward = match map.get("reward") {
        Some(v) => v
            .clone()
            .try_cast::<Decimal>()
            .or_else(|| v.as_int().ok().map(Decimal::from))
            .expect("a number"),
        None => panic!("a reward"),
    };
    RuleOutcome {
        reward,
        qualified: map
            .get("qualified")
            .and_then(|v| v.as_bool().ok())
            .unwrap_or(false),
        reasons: lines(map.remove("reasons")),
        flags: strings(map.remove("flags")),
        used: Vec::new(),
    }
}

/// The repository's policies/ directory, from this file's crate (engine/ or bench/zen-compare/).
pub fn policies_dir(manifest_dir: &str) -> std::path::PathBuf {
    let here = Path::new(manifest_dir);
    [here.join("../policies"), here.join("../../policies")]
        .into_iter()
        .find(|p| p.join("tangdaifu-smbg").is_dir())
        .expect("the repository's policies/ directory")
}
