//! The member's record as a script sees it: every glucose-control metric is a property whose
//! value comes from the native metrics module, computed on first use and then cached, so a
//! script pays only for the metrics it reads and never loops over readings for a mean.
//!
//! Metrics reach a script as exact decimals: counts as integers, percentages and other
//! continuous figures rounded half-even to [`METRIC_DECIMAL_PLACES`] places (which also takes
//! away binary floating-point noise: 7 of 10 readings is `70`, not `70.00000000000001`), and a
//! metric that is undefined for the record (the CV of one reading) as `()`.
//! The metrics a decision read are listed in it, with the values it saw.

use crate::glucose::MG_DL_PER_MMOL_L;
use crate::lab::LabResult;
use crate::metrics::distribution::{Tally, percent_above, percent_below, percent_in_range};
use crate::metrics::thresholds::{FASTING_TARGET_MG_DL, POST_MEAL_TARGET_BELOW_MG_DL};
use crate::metrics::thresholds::{HYPER_LEVEL2_MG_DL, HYPER_MG_DL, HYPO_LEVEL2_MG_DL, HYPO_MG_DL};
use crate::metrics::{context_share, coverage, daily, episodes, risk};
use crate::period::{Period, PeriodKind, Window};
use crate::reading::Context;
use crate::record::{DayBoundary, Record};
use rust_decimal::Decimal;
use serde::Serialize;
use std::sync::{Arc, OnceLock};

/// Decimal places of continuous metrics as scripts see them.
pub const METRIC_DECIMAL_PLACES: u32 = 6;

/// A metric's value as a script sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum MetricValue {
    Integer(i64),
    Decimal(Decimal),
    Missing,
}

impl MetricValue {
    fn of_f64(x: Option<f64>) -> Self {
        x.filter(|v| v.is_finite())
            .and_then(Decimal::from_f64_retain)
            .map_or(Self::Missing, |d| {
                Self::Decimal(d.round_dp(METRIC_DECIMAL_PLACES).normalize())
            })
    }

    fn of_count(n: u64) -> Self {
        Self::Integer(i64::try_from(n).unwrap_or(i64::MAX))
    }

    /// The value as text: `()` when undefined, as a script sees it.
    pub fn shown(self) -> String {
        match self {
            Self::Integer(i) => i.to_string(),
            Self::Decimal(d) => d.to_string(),
            Self::Missing => "()".to_owned(),
        }
    }

    pub fn to_dynamic(self) -> rhai::Dynamic {
        match self {
            Self::Integer(i) => rhai::Dynamic::from_int(i),
            Self::Decimal(d) => rhai::Dynamic::from_decimal(d),
            Self::Missing => rhai::Dynamic::UNIT,
        }
    }
}

macro_rules! metrics {
    ($($variant:ident => $name:literal : $doc:literal,)*) => {
        /// Every metric a script can read as a property of `record`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Metric { $($variant,)* }
        impl Metric {
            pub const ALL: &'static [Metric] = &[$(Metric::$variant,)*];
            pub fn name(self) -> &'static str { match self { $(Metric::$variant => $name,)* } }
            /// One line for the policy author's reference.
            pub fn doc(self) -> &'static str { match self { $(Metric::$variant => $doc,)* } }
        }
    };
}

metrics! {
    NReadings => "n_readings": "readings in the period, `LO`/`HI` included (integer)",
    NMeasured => "n_measured": "readings with a number, not a meter flag (integer)",
    NLowFlags => "n_low_flags": "readings the meter showed as `LO` (integer)",
    NHighFlags => "n_high_flags": "readings the meter showed as `HI` (integer)",
    DaysWithReadings => "days_with_readings": "local days (policy time zone) with at least one reading (integer)",
    FastingN => "fasting_n": "readings tagged fasting (integer)",
    PostMealN => "post_meal_n": "readings tagged post-meal (integer)",
    FastingInTarget => "fasting_in_target_percent": "% of fasting readings within 4.4–7.0 mmol/L, inclusive; `()` without fasting readings",
    PostMealInTarget => "post_meal_in_target_percent": "% of post-meal readings below 10.0 mmol/L; `()` without post-meal readings",
    ReadingsPerWeek => "readings_per_week": "readings ÷ (days in the period ÷ 7)",
    MeanMgDl => "mean_mg_dl": "mean glucose, mg/dL",
    MeanMmolL => "mean_mmol_l": "mean glucose, mmol/L (÷ 18)",
    SdMgDl => "sd_mg_dl": "sample standard deviation, mg/dL",
    CvPercent => "cv_percent": "coefficient of variation, % (consensus target ≤ 36)",
    GmiPercent => "gmi_percent": "glucose management indicator, % (3.31 + 0.02392 × mean mg/dL)",
    TirPercent => "tir_percent": "% of readings 70–180 mg/dL inclusive (target > 70)",
    TbrPercent => "tbr_percent": "% of readings below 70 mg/dL (target < 4)",
    TbrLevel2Percent => "tbr_level2_percent": "% of readings below 54 mg/dL (target < 1)",
    TarPercent => "tar_percent": "% of readings above 180 mg/dL (target < 25)",
    TarLevel2Percent => "tar_level2_percent": "% of readings above 250 mg/dL (target < 5)",
    Gri => "gri": "glycaemia risk index, 0–100",
    JIndex => "j_index": "J-index, 0.001 × (mean + sd)², mg/dL",
    Lbgi => "lbgi": "low blood glucose index (Kovatchev)",
    Hbgi => "hbgi": "high blood glucose index (Kovatchev)",
    ActivePercent => "active_percent": "CGM: % of expected readings present (consensus: ≥ 70 over ≥ 14 days)",
    WearDays => "wear_days": "days from the first reading to the last",
    SamplingIntervalMinutes => "sampling_interval_minutes": "median minutes between readings, rounded",
    HypoEpisodes => "hypo_episodes": "CGM: episodes below 70 mg/dL lasting ≥ 15 minutes (integer)",
    HypoLevel2Episodes => "hypo_level2_episodes": "CGM: episodes below 54 mg/dL lasting ≥ 15 minutes (integer)",
    HyperEpisodes => "hyper_episodes": "CGM: episodes above 180 mg/dL lasting ≥ 15 minutes (integer)",
    HyperLevel2Episodes => "hyper_level2_episodes": "CGM: episodes above 250 mg/dL lasting ≥ 15 minutes (integer)",
    Hba1cLatest => "hba1c_latest_percent": "the latest HbA1c before the period ends, %; `()` if none",
    Hba1cChange => "hba1c_change_points": "latest HbA1c minus the earliest in the 365 days before the period ends, points; `()` with fewer than two",
}

/// How many metrics a script can read.
const METRIC_COUNT: usize = Metric::ALL.len();

/// The record of one member-period, shared cheaply with the script (an `Arc`).
#[derive(Clone, Debug)]
pub struct RecordView(Arc<RecordInner>);

#[derive(Debug)]
struct RecordInner {
    record: Record,
    period: Period,
    window: Window,
    /// HbA1c results taken before the period ends, oldest first.
    labs: Vec<LabResult>,
    tally: OnceLock<Tally>,
    interval: OnceLock<Option<f64>>,
    /// One cell per metric, in the order of [`Metric::ALL`]: no allocation beyond the `Arc`.
    values: [OnceLock<MetricValue>; METRIC_COUNT],
    /// The months and the quarters inside the period, once a script asks for them: the same
    /// views each time, so what the script read of each is listed with the decision.
    parts: [OnceLock<Vec<RecordView>>; 2],
}

const DAY_MS: i64 = 86_400_000;

impl RecordView {
    pub fn new(record: Record, period: Period, window: Window) -> Self {
        let end_ms = window.end.timestamp_millis();
        let labs = record
            .labs()
            .iter()
            .filter(|l| l.time.timestamp_millis() < end_ms)
            .copied()
            .collect();
        Self(Arc::new(RecordInner {
            record,
            period,
            window,
            labs,
            tally: OnceLock::new(),
            interval: OnceLock::new(),
            values: std::array::from_fn(|_| OnceLock::new()),
            parts: [OnceLock::new(), OnceLock::new()],
        }))
    }

    pub fn record(&self) -> &Record {
        &self.0.record
    }

    /// The same record with nothing read of it yet: what a second run starts from, so it lists
    /// only what it read itself.
    pub fn afresh(&self) -> Self {
        Self::new(self.0.record.clone(), self.0.period, self.0.window)
    }

    pub fn period(&self) -> Period {
        self.0.period
    }

    pub fn window(&self) -> &Window {
        &self.0.window
    }

    /// The record of each period of `kind` inside this one, in order: the months of a quarter
    /// or a year, the quarters of a year (a period of `kind` is its own only one). Days count in
    /// the same zone, and each one's HbA1c look-back ends with it. The error says why a period
    /// has no such parts (a month has no quarters).
    pub fn sub_periods(&self, kind: PeriodKind) -> Result<Vec<RecordView>, String> {
        let cell = match kind {
            PeriodKind::Monthly => self.0.parts.first(),
            PeriodKind::Quarterly => self.0.parts.get(1),
            PeriodKind::Annual => None,
        };
        if let Some(parts) = cell.and_then(OnceLock::get) {
            return Ok(parts.clone());
        }
        let out = self.cut(kind)?;
        if let Some(cell) = cell {
            let _ = cell.set(out.clone());
        }
        Ok(out)
    }

    /// What the script read of each month or quarter inside the period, by its period, where
    /// it read anything.
    pub fn used_by_period(
        &self,
    ) -> std::collections::BTreeMap<String, Vec<(&'static str, MetricValue)>> {
        self.0
            .parts
            .iter()
            .filter_map(OnceLock::get)
            .flatten()
            .map(|part| (part.period().to_string(), part.used()))
            .filter(|(_, used)| !used.is_empty())
            .collect()
    }

    fn cut(&self, kind: PeriodKind) -> Result<Vec<RecordView>, String> {
        let period = self.period();
        let rank = |k: PeriodKind| match k {
            PeriodKind::Monthly => 0,
            PeriodKind::Quarterly => 1,
            PeriodKind::Annual => 2,
        };
        if rank(kind) > rank(period.kind()) {
            return Err(format!(
                "{period} is a {} period: it has no {} periods inside it",
                period.kind().as_str(),
                kind.as_str()
            ));
        }
        let DayBoundary::Zone(zone) = self.record().day_boundary() else {
            return Err(format!("{period} has no time zone to cut it by"));
        };
        let (Some(first), Some(last)) = (period.first_day(), period.last_day()) else {
            return Err(format!("{period} is outside the calendar"));
        };
        let mut part = Period::containing_day(kind, first);
        let mut out = Vec::new();
        while part.first_day().is_some_and(|d| d <= last) {
            let window = part.window(zone).map_err(|e| e.to_string())?;
            let record = Record::new(
                self.record().member().clone(),
                self.record().readings().within(&window),
                self.record().labs().to_vec(),
            )
            .within(window)
            .with_day_boundary(DayBoundary::Zone(zone));
            out.push(RecordView::new(record, part, window));
            part = part.next();
        }
        Ok(out)
    }

    fn values(&self) -> &[f64] {
        self.0.record.readings().values_mg_dl()
    }

    fn tally(&self) -> &Tally {
        self.0.tally.get_or_init(|| Tally::of(self.values()))
    }

    fn interval(&self) -> Option<f64> {
        *self.0.interval.get_or_init(|| {
            coverage::sampling_interval_minutes(self.0.record.readings().times_ms())
        })
    }

    /// The metric's value, computing it on first use.
    pub fn get(&self, metric: Metric) -> MetricValue {
        // The enum's discriminants are the positions in `Metric::ALL` (declared in one list).
        let index = metric as usize;
        match self.0.values.get(index) {
            Some(cell) => *cell.get_or_init(|| self.compute(metric)),
            None => self.compute(metric),
        }
    }

    /// The metrics read so far, in the fixed order of [`Metric::ALL`].
    pub fn used(&self) -> Vec<(&'static str, MetricValue)> {
        Metric::ALL
            .iter()
            .zip(&self.0.values)
            .filter_map(|(m, cell)| cell.get().map(|v| (m.name(), *v)))
            .collect()
    }

    fn compute(&self, metric: Metric) -> MetricValue {
        use Metric as M;
        let record = &self.0.record;
        let readings = record.readings();
        let times = readings.times_ms();
        let values = self.values();
        let f = MetricValue::of_f64;
        let ranges = || self.tally().ranges();
        let mean = || self.tally().mean();
        let sd = || self.tally().sd();
        let episodes = |out: fn(f64) -> bool| match self.interval() {
            Some(dt) => episodes::count_episodes_at(times, values, dt, out)
                .map_or(MetricValue::Missing, MetricValue::of_count),
            None => MetricValue::Missing,
        };
        match metric {
            M::NReadings => MetricValue::of_count(readings.len() as u64),
            M::NMeasured => MetricValue::of_count(self.tally().n_numeric),
            M::NLowFlags => MetricValue::of_count(
                values.iter().filter(|v| **v == f64::NEG_INFINITY).count() as u64,
            ),
            M::NHighFlags => {
                MetricValue::of_count(values.iter().filter(|v| **v == f64::INFINITY).count() as u64)
            }
            M::DaysWithReadings => MetricValue::of_count(coverage::days_with_readings(record)),
            M::FastingN => {
                MetricValue::of_count(context_share(record, Context::Fasting, |_| true).0)
            }
            M::PostMealN => {
                MetricValue::of_count(context_share(record, Context::PostMeal, |_| true).0)
            }
            M::FastingInTarget => f(context_share(record, Context::Fasting, |g| {
                FASTING_TARGET_MG_DL.0 <= g && g <= FASTING_TARGET_MG_DL.1
            })
            .1),
            M::PostMealInTarget => f(context_share(record, Context::PostMeal, |g| {
                g < POST_MEAL_TARGET_BELOW_MG_DL
            })
            .1),
            M::ReadingsPerWeek => f(coverage::readings_per_week(record)),
            M::MeanMgDl => f(mean()),
            M::MeanMmolL => f(mean().map(|m| m / MG_DL_PER_MMOL_L)),
            M::SdMgDl => f(sd()),
            M::CvPercent => f(mean().zip(sd()).map(|(m, s)| 100.0 * s / m)),
            M::GmiPercent => f(mean().map(|m| 3.31 + 0.02392 * m)),
            M::TirPercent => f(ranges().map(|r| r.tir)),
            M::TbrPercent => f(ranges().map(|r| r.tbr)),
            M::TbrLevel2Percent => f(ranges().map(|r| r.tbr_level2)),
            M::TarPercent => f(ranges().map(|r| r.tar)),
            M::TarLevel2Percent => f(ranges().map(|r| r.tar_level2)),
            M::Gri => f(ranges().map(|r| r.gri)),
            M::JIndex => f(mean().zip(sd()).map(|(m, s)| 0.001 * (m + s) * (m + s))),
            M::Lbgi => f(risk::lbgi_hbgi(values).map(|r| r.0)),
            M::Hbgi => f(risk::lbgi_hbgi(values).map(|r| r.1)),
            M::ActivePercent => f(self
                .interval()
                .and_then(|dt| coverage::active_percent_at(times, dt))),
            M::WearDays => f(match (times.first(), times.last()) {
                (Some(a), Some(b)) => Some((b - a) as f64 / DAY_MS as f64),
                _ => None,
            }),
            M::SamplingIntervalMinutes => f(self.interval()),
            M::HypoEpisodes => episodes(|g| g < HYPO_MG_DL),
            M::HypoLevel2Episodes => episodes(|g| g < HYPO_LEVEL2_MG_DL),
            M::HyperEpisodes => episodes(|g| g > HYPER_MG_DL),
            M::HyperLevel2Episodes => episodes(|g| g > HYPER_LEVEL2_MG_DL),
            M::Hba1cLatest => self.0.labs.last().map_or(MetricValue::Missing, |l| {
                MetricValue::Decimal(l.hba1c.percent())
            }),
            M::Hba1cChange => {
                let recent = self.labs_within_days(365);
                match recent {
                    [first, .., last] => {
                        MetricValue::Decimal(last.hba1c.percent() - first.hba1c.percent())
                    }
                    _ => MetricValue::Missing,
                }
            }
        }
    }

    /// HbA1c results in the `days` before the period ends.
    pub fn labs_within_days(&self, days: i64) -> &[LabResult] {
        let end = self.0.window.end.timestamp_millis();
        let start = end.saturating_sub(days.saturating_mul(DAY_MS));
        let first = self
            .0
            .labs
            .partition_point(|l| l.time.timestamp_millis() < start);
        self.0.labs.get(first..).unwrap_or_default()
    }

    /// Readings counted at most once per `gap_minutes`: a reading within the gap after the
    /// last counted one is a repeat, not a new measurement (anti-gaming).
    pub fn readings_spaced(&self, gap_minutes: i64) -> i64 {
        let gap_ms = gap_minutes.saturating_mul(60_000);
        let mut last: Option<i64> = None;
        let mut n = 0;
        for &t in self.0.record.readings().times_ms() {
            if last.is_none_or(|l| t - l >= gap_ms) {
                n += 1;
                last = Some(t);
            }
        }
        n
    }

    /// Local days with at least one reading tagged `context`.
    pub fn days_with_context(&self, context: Context) -> i64 {
        let record = &self.0.record;
        let mut days: Vec<i64> = (0..record.readings().len())
            .filter(|&i| record.readings().contexts().get(i) == Some(&context))
            .filter_map(|i| record.day_number_of(i))
            .collect();
        days.sort_unstable();
        days.dedup();
        days.len() as i64
    }

    /// The longest run of consecutive local days on which every reading was above `mg_dl`.
    pub fn longest_run_of_days_above(&self, mg_dl: f64) -> i64 {
        let days = daily::daily_summaries(&self.0.record);
        i64::from(daily::longest_run_of_days(&days, |d| d.all_above(mg_dl)))
    }

    /// The longest run of consecutive local days on which every reading was below `mg_dl`.
    pub fn longest_run_of_days_below(&self, mg_dl: f64) -> i64 {
        let days = daily::daily_summaries(&self.0.record);
        i64::from(daily::longest_run_of_days(&days, |d| d.all_below(mg_dl)))
    }

    /// `% of readings tagged `context` with `lo ≤ g ≤ hi` mg/dL: a target by context, such as
    /// ADA's fasting 80–130 mg/dL; `()` without readings of that context.
    pub fn percent_in_range_for(&self, context: Context, lo: f64, hi: f64) -> MetricValue {
        let contexts = self.0.record.readings().contexts();
        let of_context: Vec<f64> = self
            .values()
            .iter()
            .zip(contexts)
            .filter(|(_, c)| **c == context)
            .map(|(v, _)| *v)
            .collect();
        MetricValue::of_f64(percent_in_range(&of_context, lo, hi))
    }

    pub fn percent_in_range(&self, lo: f64, hi: f64) -> MetricValue {
        MetricValue::of_f64(percent_in_range(self.values(), lo, hi))
    }

    pub fn percent_below(&self, t: f64) -> MetricValue {
        MetricValue::of_f64(percent_below(self.values(), t))
    }

    pub fn percent_above(&self, t: f64) -> MetricValue {
        MetricValue::of_f64(percent_above(self.values(), t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_metrics_discriminant_is_its_position_in_the_list() {
        for (i, m) in Metric::ALL.iter().enumerate() {
            assert_eq!(*m as usize, i, "{}", m.name());
        }
    }
}
