//! Glucose-control metrics over a member's record.
//!
//! Definitions follow the international consensus on CGM time in range (Battelino et al.,
//! Diabetes Care 2019;42:1593) and the conventions of the R package iglu (Broll et al. 2021),
//! which most CGM papers use; figures agree with iglu's to floating-point precision on the
//! same data (see `tests/iglu_differential.rs`). In short:
//!
//! - all glucose is mg/dL (1 mmol/L = 18 mg/dL, converted once when a reading is parsed);
//! - mean is arithmetic, SD is the **sample** SD (n − 1), CV = 100 · SD / mean;
//! - in-range percentages are inclusive (lo ≤ g ≤ hi), below is strict (g < t), above is
//!   strict (g > t), all over the count of readings;
//! - meter flags `LO`/`HI` count as below/above every threshold in percentages and are left
//!   out of mean, SD, GMI, J-index and the risk indices, which need numbers.
//!
//! A metric that is undefined for the record (the mean of nothing, the SD of one value) is
//! `None`, serialised as JSON `null`, never a made-up 0.

pub mod coverage;
pub mod daily;
pub mod distribution;
pub mod episodes;
pub mod risk;

use crate::glucose::MG_DL_PER_MMOL_L;
use crate::member::MemberId;
use crate::reading::Context;
use crate::record::Record;
use chrono::{DateTime, FixedOffset};
use distribution::{Tally, percent};
use rust_decimal::Decimal;
use serde::Serialize;

/// Consensus and guideline thresholds, in mg/dL.
pub mod thresholds {
    use crate::glucose::MG_DL_PER_MMOL_L;

    /// Level 2 hypoglycaemia: below 54 mg/dL (3.0 mmol/L).
    pub const HYPO_LEVEL2_MG_DL: f64 = 54.0;
    /// Level 1 hypoglycaemia and the bottom of the target range: 70 mg/dL (3.9 mmol/L).
    pub const HYPO_MG_DL: f64 = 70.0;
    /// The top of the target range: 180 mg/dL (10.0 mmol/L).
    pub const HYPER_MG_DL: f64 = 180.0;
    /// Level 2 hyperglycaemia: above 250 mg/dL (13.9 mmol/L).
    pub const HYPER_LEVEL2_MG_DL: f64 = 250.0;
    /// Chinese T2DM guideline (2020) fasting / pre-meal capillary target, 4.4–7.0 mmol/L,
    /// computed with the same factor as readings so that `7.0` mmol/L is in range exactly.
    pub const FASTING_TARGET_MG_DL: (f64, f64) = (4.4 * MG_DL_PER_MMOL_L, 7.0 * MG_DL_PER_MMOL_L);
    /// Chinese T2DM guideline (2020) non-fasting target: below 10.0 mmol/L.
    pub const POST_MEAL_TARGET_BELOW_MG_DL: f64 = 10.0 * MG_DL_PER_MMOL_L;
}

use thresholds::{
    FASTING_TARGET_MG_DL, HYPER_LEVEL2_MG_DL, HYPER_MG_DL, HYPO_LEVEL2_MG_DL, HYPO_MG_DL,
    POST_MEAL_TARGET_BELOW_MG_DL,
};

/// Every metric of a record. The first fields, through `days_with_readings`, are the
/// `incentive metrics --format json` contract in product.md, in its order; the rest extend it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Metrics {
    pub member_id: MemberId,
    /// All readings after de-duplication, `LO`/`HI` included.
    pub n_readings: u64,
    pub first_time: Option<DateTime<FixedOffset>>,
    pub last_time: Option<DateTime<FixedOffset>>,
    pub mean_mg_dl: Option<f64>,
    pub mean_mmol_l: Option<f64>,
    /// Sample standard deviation (n − 1).
    pub sd_mg_dl: Option<f64>,
    /// CV % = 100 · SD / mean. Consensus target ≤ 36.
    pub cv_percent: Option<f64>,
    /// GMI % = 3.31 + 0.02392 · mean mg/dL (Bergenstal et al., Diabetes Care 2018;41:2275).
    pub gmi_percent: Option<f64>,
    /// % of readings with 70 ≤ g ≤ 180 mg/dL. Target > 70.
    pub tir_percent: Option<f64>,
    /// % of readings with g < 70 mg/dL (levels 1 and 2). Target < 4.
    pub tbr_percent: Option<f64>,
    /// % of readings with g < 54 mg/dL. Target < 1.
    pub tbr_level2_percent: Option<f64>,
    /// % of readings with g > 180 mg/dL (levels 1 and 2). Target < 25.
    pub tar_percent: Option<f64>,
    /// % of readings with g > 250 mg/dL. Target < 5.
    pub tar_level2_percent: Option<f64>,
    /// Glycaemia Risk Index (Klonoff et al., J Diabetes Sci Technol 2023;17:1226):
    /// 3.0·VLow + 2.4·Low + 1.6·VHigh + 0.8·High, capped at 100; VLow = % < 54,
    /// Low = % in [54, 70), VHigh = % > 250, High = % in (180, 250].
    pub gri: Option<f64>,
    /// J-index = 0.001 · (mean + SD)² (Wojcicki 1995).
    pub j_index: Option<f64>,
    /// Low blood glucose index (Kovatchev); see [`risk`].
    pub lbgi: Option<f64>,
    /// High blood glucose index (Kovatchev); see [`risk`].
    pub hbgi: Option<f64>,
    /// Share of expected CGM readings present (CGM only); see [`coverage::active_percent`].
    pub active_percent: Option<f64>,
    /// Distinct local days with at least one reading.
    pub days_with_readings: u64,

    /// Readings with a number, i.e. `n_readings` less `LO`/`HI` flags.
    pub n_measured: u64,
    /// Readings the meter flagged `LO`.
    pub n_low_flags: u64,
    /// Readings the meter flagged `HI`.
    pub n_high_flags: u64,
    /// Median interval between readings, whole minutes; see [`coverage::sampling_interval_minutes`].
    pub sampling_interval_minutes: Option<f64>,
    /// See [`coverage::readings_per_week`].
    pub readings_per_week: Option<f64>,
    /// Readings tagged fasting.
    pub fasting_n: u64,
    /// % of fasting readings in 4.4–7.0 mmol/L inclusive (Chinese T2DM guideline 2020).
    pub fasting_in_target_percent: Option<f64>,
    /// Readings tagged post-meal (two hours after a meal).
    pub post_meal_n: u64,
    /// % of post-meal readings below 10.0 mmol/L (Chinese T2DM guideline 2020).
    pub post_meal_in_target_percent: Option<f64>,
    /// Episodes < 70 mg/dL lasting ≥ 15 min (CGM only); see [`episodes`].
    pub hypo_episodes: Option<u64>,
    /// Episodes < 54 mg/dL lasting ≥ 15 min (CGM only).
    pub hypo_level2_episodes: Option<u64>,
    /// Episodes > 180 mg/dL lasting ≥ 15 min (CGM only).
    pub hyper_episodes: Option<u64>,
    /// Episodes > 250 mg/dL lasting ≥ 15 min (CGM only).
    pub hyper_level2_episodes: Option<u64>,
    /// The most recent HbA1c in the record (before its window ends, when it has one), %.
    #[serde(with = "rust_decimal::serde::float_option")]
    pub hba1c_latest_percent: Option<Decimal>,
    /// Latest HbA1c minus the earliest in the record (before its window ends, when it has
    /// one), percentage points (negative is better). A policy's `hba1c_change_points` looks
    /// back 365 days from the period's end instead: a plan's "fall over the year".
    #[serde(with = "rust_decimal::serde::float_option")]
    pub hba1c_change_points: Option<Decimal>,
}

/// Computes every metric of `record`.
pub fn compute_metrics(record: &Record) -> Metrics {
    let readings = record.readings();
    let values = readings.values_mg_dl();
    let times = readings.times_ms();
    let tally = Tally::of(values);
    let mean = tally.mean();
    let sd = tally.sd();

    let ranges = tally.ranges();
    let n_low_flags = values.iter().filter(|v| **v == f64::NEG_INFINITY).count() as u64;
    let risk = risk::lbgi_hbgi(values);
    let (fasting_n, fasting_in) = context_share(record, Context::Fasting, |g| {
        FASTING_TARGET_MG_DL.0 <= g && g <= FASTING_TARGET_MG_DL.1
    });
    let (post_meal_n, post_meal_in) = context_share(record, Context::PostMeal, |g| {
        g < POST_MEAL_TARGET_BELOW_MG_DL
    });
    // The sampling interval is a selection over every interval: find it once.
    let dt = coverage::sampling_interval_minutes(times);
    let episodes = |out: fn(f64) -> bool| {
        dt.and_then(|dt| episodes::count_episodes_at(times, values, dt, out))
    };
    // Results after the record's window are in the future of the period measured.
    let labs = match record.window() {
        Some(w) => {
            let end = w.end.timestamp_millis();
            let n = record
                .labs()
                .partition_point(|l| l.time.timestamp_millis() < end);
            record.labs().get(..n).unwrap_or_default()
        }
        None => record.labs(),
    };
    let hba1c_latest = labs.last().map(|l| l.hba1c.percent());
    let hba1c_change = match labs {
        [first, .., last] => Some(last.hba1c.percent() - first.hba1c.percent()),
        _ => None,
    };

    Metrics {
        member_id: record.member().clone(),
        n_readings: tally.n,
        first_time: readings.time(0),
        last_time: readings.len().checked_sub(1).and_then(|i| readings.time(i)),
        mean_mg_dl: mean,
        mean_mmol_l: mean.map(|m| m / MG_DL_PER_MMOL_L),
        sd_mg_dl: sd,
        cv_percent: mean.zip(sd).map(|(m, s)| 100.0 * s / m),
        gmi_percent: mean.map(|m| 3.31 + 0.02392 * m),
        tir_percent: ranges.map(|r| r.tir),
        tbr_percent: ranges.map(|r| r.tbr),
        tbr_level2_percent: ranges.map(|r| r.tbr_level2),
        tar_percent: ranges.map(|r| r.tar),
        tar_level2_percent: ranges.map(|r| r.tar_level2),
        gri: ranges.map(|r| r.gri),
        j_index: mean.zip(sd).map(|(m, s)| 0.001 * (m + s) * (m + s)),
        lbgi: risk.map(|r| r.0),
        hbgi: risk.map(|r| r.1),
        active_percent: dt.and_then(|dt| coverage::active_percent_at(times, dt)),
        days_with_readings: coverage::days_with_readings(record),
        n_measured: tally.n_numeric,
        n_low_flags,
        n_high_flags: tally.n - tally.n_numeric - n_low_flags,
        sampling_interval_minutes: dt,
        readings_per_week: coverage::readings_per_week(record),
        fasting_n,
        fasting_in_target_percent: fasting_in,
        post_meal_n,
        post_meal_in_target_percent: post_meal_in,
        hypo_episodes: episodes(|g| g < HYPO_MG_DL),
        hypo_level2_episodes: episodes(|g| g < HYPO_LEVEL2_MG_DL),
        hyper_episodes: episodes(|g| g > HYPER_MG_DL),
        hyper_level2_episodes: episodes(|g| g > HYPER_LEVEL2_MG_DL),
        hba1c_latest_percent: hba1c_latest,
        hba1c_change_points: hba1c_change,
    }
}

/// How many readings carry `context`, and the percentage of them for which `on_target` holds.
pub fn context_share(
    record: &Record,
    context: Context,
    on_target: impl Fn(f64) -> bool,
) -> (u64, Option<f64>) {
    let readings = record.readings();
    let (n, hits) = readings
        .contexts()
        .iter()
        .zip(readings.values_mg_dl())
        .filter(|(c, _)| **c == context)
        .fold((0_u64, 0_u64), |(n, hits), (_, &g)| {
            (n + 1, hits + u64::from(on_target(g)))
        });
    (n, percent(hits, n))
}
