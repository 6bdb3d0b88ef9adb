//! The single pass over glucose values behind the mean, SD and every consensus percentage.

use crate::metrics::thresholds::{HYPER_LEVEL2_MG_DL, HYPER_MG_DL, HYPO_LEVEL2_MG_DL, HYPO_MG_DL};

/// Independent accumulators per lane, so the loop has no chain of dependent additions and the
/// compiler can keep them in vector registers. The lane count is part of the result's bytes
/// (floating-point addition is not associative): change it and every mean moves in its last bit.
const LANES: usize = 8;

/// Counts and shifted sums over a column of values, as [`crate::Readings::values_mg_dl`]
/// encodes them (mg/dL; `LO` = −∞, `HI` = +∞).
///
/// Mean and variance use the shifted-data method: sums of `x − K` and `(x − K)²` with `K` the
/// first measured value. With `K` near the mean this is as accurate as the two-pass method R
/// and iglu use (agreement to ~1e-13 relative on real traces), in one pass.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tally {
    /// All readings, flags included.
    pub n: u64,
    /// Readings with a number (not `LO`/`HI`).
    pub n_numeric: u64,
    pub shift: f64,
    pub sum_dev: f64,
    pub sum_sq_dev: f64,
    /// g < 54 mg/dL (`LO` included).
    pub below_54: u64,
    /// g < 70 mg/dL (`LO` included).
    pub below_70: u64,
    /// g ≤ 180 mg/dL (`LO` included, `HI` not).
    pub at_most_180: u64,
    /// g > 250 mg/dL (`HI` included).
    pub above_250: u64,
}

impl Tally {
    // The counters add with `wrapping_add`: none can exceed `values.len()`, so they cannot
    // overflow, and a checked add (release builds keep overflow checks) would put a branch in
    // every lane and keep the loop from vectorising — 2.8x slower, measured.
    #[expect(
        clippy::indexing_slicing,
        reason = "every lane array has LANES elements and l < LANES"
    )]
    pub fn of(values: &[f64]) -> Self {
        let shift = values
            .iter()
            .copied()
            .find(|v| v.is_finite())
            .unwrap_or(0.0);
        let mut s1 = [0.0_f64; LANES];
        let mut s2 = [0.0_f64; LANES];
        let mut numeric = [0_u64; LANES];
        let mut b54 = [0_u64; LANES];
        let mut b70 = [0_u64; LANES];
        let mut le180 = [0_u64; LANES];
        let mut a250 = [0_u64; LANES];
        let mut add = |chunk: &[f64; LANES]| {
            for l in 0..LANES {
                let v = chunk[l];
                let finite = v.is_finite();
                let d = if finite { v - shift } else { 0.0 };
                s1[l] += d;
                s2[l] += d * d;
                numeric[l] = numeric[l].wrapping_add(u64::from(finite));
                b54[l] = b54[l].wrapping_add(u64::from(v < HYPO_LEVEL2_MG_DL));
                b70[l] = b70[l].wrapping_add(u64::from(v < HYPO_MG_DL));
                le180[l] = le180[l].wrapping_add(u64::from(v <= HYPER_MG_DL));
                a250[l] = a250[l].wrapping_add(u64::from(v > HYPER_LEVEL2_MG_DL));
            }
        };
        let (chunks, rest) = values.as_chunks::<LANES>();
        chunks.iter().for_each(&mut add);
        // The tail, padded with NaN: not finite, so it adds a zero deviation, and every
        // comparison with it is false, so it counts nowhere. The sums stay the same bytes.
        let mut last = [f64::NAN; LANES];
        last.iter_mut().zip(rest).for_each(|(slot, &v)| *slot = v);
        add(&last);
        Self {
            n: values.len() as u64,
            n_numeric: numeric.iter().sum(),
            shift,
            sum_dev: s1.iter().sum(),
            sum_sq_dev: s2.iter().sum(),
            below_54: b54.iter().sum(),
            below_70: b70.iter().sum(),
            at_most_180: le180.iter().sum(),
            above_250: a250.iter().sum(),
        }
    }

    /// Arithmetic mean of the measured values; `None` when there are none.
    pub fn mean(&self) -> Option<f64> {
        (self.n_numeric > 0).then(|| self.shift + self.sum_dev / as_f64(self.n_numeric))
    }

    /// Sample standard deviation (n − 1); `None` for fewer than two measured values.
    pub fn sd(&self) -> Option<f64> {
        if self.n_numeric < 2 {
            return None;
        }
        let n = as_f64(self.n_numeric);
        let ss = self.sum_sq_dev - self.sum_dev * self.sum_dev / n;
        // Rounding can leave a hair below zero for all-equal values.
        Some((ss.max(0.0) / (n - 1.0)).sqrt())
    }

    /// TIR, TBR, TAR at both levels and GRI; `None` for an empty record.
    pub fn ranges(&self) -> Option<ConsensusRanges> {
        let tbr = self.percent(self.below_70)?;
        let tbr_level2 = self.percent(self.below_54)?;
        let tar = self.percent(self.n - self.at_most_180)?;
        let tar_level2 = self.percent(self.above_250)?;
        let tir = self.percent(self.at_most_180 - self.below_70)?;
        let gri = (3.0 * tbr_level2
            + 2.4 * (tbr - tbr_level2)
            + 1.6 * tar_level2
            + 0.8 * (tar - tar_level2))
            .min(100.0);
        Some(ConsensusRanges {
            tir,
            tbr,
            tbr_level2,
            tar,
            tar_level2,
            gri,
        })
    }

    /// `count` as a percentage of all readings; `None` for an empty record.
    pub fn percent(&self, count: u64) -> Option<f64> {
        percent(count, self.n)
    }
}

/// The consensus range percentages of a record, and the Glycaemia Risk Index built on them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConsensusRanges {
    /// % with 70 ≤ g ≤ 180 mg/dL.
    pub tir: f64,
    /// % with g < 70 mg/dL.
    pub tbr: f64,
    /// % with g < 54 mg/dL.
    pub tbr_level2: f64,
    /// % with g > 180 mg/dL.
    pub tar: f64,
    /// % with g > 250 mg/dL.
    pub tar_level2: f64,
    /// 3.0·VLow + 2.4·Low + 1.6·VHigh + 0.8·High, capped at 100 (Klonoff 2023).
    pub gri: f64,
}

/// `count / total × 100`, `None` when `total` is zero.
pub fn percent(count: u64, total: u64) -> Option<f64> {
    (total > 0).then(|| 100.0 * as_f64(count) / as_f64(total))
}

/// Converts a count to `f64`. Counts here are readings held in memory, far below 2^53.
pub(crate) fn as_f64(count: u64) -> f64 {
    // Exact: counts of readings held in memory stay far below 2^53.
    count as f64
}

/// Percentage of readings with `lo ≤ g ≤ hi` (inclusive, as iglu's `in_range_percent`).
pub fn percent_in_range(values: &[f64], lo: f64, hi: f64) -> Option<f64> {
    let count = values.iter().filter(|&&v| lo <= v && v <= hi).count();
    percent(count as u64, values.len() as u64)
}

/// Percentage of readings with `g < threshold` (strict, as iglu's `below_percent`).
pub fn percent_below(values: &[f64], threshold: f64) -> Option<f64> {
    let count = values.iter().filter(|&&v| v < threshold).count();
    percent(count as u64, values.len() as u64)
}

/// Percentage of readings with `g > threshold` (strict, as iglu's `above_percent`).
pub fn percent_above(values: &[f64], threshold: f64) -> Option<f64> {
    let count = values.iter().filter(|&&v| v > threshold).count();
    percent(count as u64, values.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tally_of_nothing_has_no_mean_and_no_percentages() {
        let t = Tally::of(&[]);
        assert_eq!((t.n, t.mean(), t.sd(), t.percent(0)), (0, None, None, None));
    }

    #[test]
    fn sums_agree_with_a_naive_two_pass_computation_for_every_tail_length() {
        for n in 1..40_usize {
            let values: Vec<f64> = (0..n).map(|i| 60.0 + (i * 37 % 23) as f64 * 9.5).collect();
            let t = Tally::of(&values);
            let mean = values.iter().sum::<f64>() / n as f64;
            assert!(
                (t.mean().unwrap_or(f64::NAN) - mean).abs() < 1e-9,
                "n = {n}"
            );
            if n > 1 {
                let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
                assert!(
                    (t.sd().unwrap_or(f64::NAN) - var.sqrt()).abs() < 1e-9,
                    "n = {n}"
                );
            }
            let below = values.iter().filter(|&&v| v < 70.0).count() as u64;
            assert_eq!(t.below_70, below, "n = {n}");
        }
    }

    #[test]
    fn flags_count_in_the_percentages_but_not_in_the_mean() {
        let t = Tally::of(&[f64::NEG_INFINITY, 100.0, 200.0, f64::INFINITY]);
        assert_eq!((t.n, t.n_numeric), (4, 2));
        assert_eq!(t.mean(), Some(150.0));
        assert_eq!(
            (t.below_54, t.below_70, t.at_most_180, t.above_250),
            (1, 1, 2, 1)
        );
        assert_eq!(percent_below(&[f64::NEG_INFINITY, 100.0], 70.0), Some(50.0));
        assert_eq!(percent_above(&[f64::INFINITY, 100.0], 250.0), Some(50.0));
    }
}
