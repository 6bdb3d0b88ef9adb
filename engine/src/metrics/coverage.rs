//! How much of the time the data covers: sampling interval, active percent, days with readings.

use crate::metrics::distribution::as_f64;
use crate::record::Record;

const MS_PER_MINUTE: f64 = 60_000.0;

/// The coarsest sampling interval, in minutes, at which data counts as CGM. CGM-only metrics
/// (active percent, episodes) are `None` above it: a finger-stick meter is not "active" or
/// "inactive" between pricks.
pub const CGM_SAMPLING_MINUTES_MAX: f64 = 15.0;

/// The median interval between consecutive readings, in whole minutes (ties to even, as R's
/// and Python's `round`). `None` for fewer than two readings.
pub fn sampling_interval_minutes(times_ms: &[i64]) -> Option<f64> {
    let mut diffs: Vec<i64> = times_ms
        .windows(2)
        .filter_map(|w| match w {
            [a, b] => Some(b - a),
            _ => None,
        })
        .collect();
    let n = diffs.len();
    if n == 0 {
        return None;
    }
    let mid = n / 2;
    let (_, &mut upper, _) = diffs.select_nth_unstable(mid);
    let median_ms = if n % 2 == 1 {
        upper as f64
    } else {
        let lower = diffs
            .get(..mid)
            .and_then(|l| l.iter().max())
            .copied()
            .unwrap_or(upper);
        (lower as f64 + upper as f64) / 2.0
    };
    Some((median_ms / MS_PER_MINUTE).round_ties_even())
}

/// Active percent: the share of the expected CGM readings that are present.
///
/// With dt the sampling interval ([`sampling_interval_minutes`]), over the span from the first
/// to the last reading: expected = round(span / dt) + 1; missing = round((Σ of the intervals
/// longer than dt − their count · dt) / dt); active = 100 · (expected − missing) / expected.
///
/// Source: Danne et al., Diabetes Care 2017;40:1631; iglu `active_percent` (automatic range).
/// `None` for fewer than two readings, readings less than 30 s apart (dt rounds to 0), or
/// finger-stick data (dt above [`CGM_SAMPLING_MINUTES_MAX`]).
pub fn active_percent(times_ms: &[i64]) -> Option<f64> {
    active_percent_at(times_ms, sampling_interval_minutes(times_ms)?)
}

/// [`active_percent`] with the sampling interval `dt` (minutes) already known.
pub fn active_percent_at(times_ms: &[i64], dt: f64) -> Option<f64> {
    if !(dt > 0.0 && dt <= CGM_SAMPLING_MINUTES_MAX) {
        return None;
    }
    let (first, last) = (times_ms.first()?, times_ms.last()?);
    let span_minutes = (last - first) as f64 / MS_PER_MINUTE;
    let expected = (span_minutes / dt).round_ties_even() + 1.0;
    let (gap_minutes, gaps) = times_ms
        .windows(2)
        .filter_map(|w| match w {
            [a, b] => Some((b - a) as f64 / MS_PER_MINUTE),
            _ => None,
        })
        .filter(|&d| d > dt)
        .fold((0.0, 0_u64), |(sum, n), d| (sum + d, n + 1));
    let missing = ((gap_minutes - as_f64(gaps) * dt) / dt).round_ties_even();
    Some(100.0 * (expected - missing) / expected)
}

/// Distinct local days with at least one reading, days counted as the record says.
pub fn days_with_readings(record: &Record) -> u64 {
    let mut days: Vec<i64> = (0..record.readings().len())
        .filter_map(|i| record.day_number_of(i))
        .collect();
    // Sorted by UTC time already; local days are out of order only if the offsets vary.
    if !days.is_sorted() {
        days.sort_unstable();
    }
    days.dedup();
    days.len() as u64
}

/// Readings per week: n ÷ (days ÷ 7), with days the record's window when it has one (a
/// monthly policy asks "per week of the month"), else the local days from the first reading's
/// to the last's, both counted whole. `None` for an empty record without a window.
pub fn readings_per_week(record: &Record) -> Option<f64> {
    let n = as_f64(record.readings().len() as u64);
    let days = match record.window() {
        Some(w) => w.days(),
        None => {
            let last = record.readings().len().checked_sub(1)?;
            let first_day = record.day_number_of(0)?;
            let last_day = record.day_number_of(last)?;
            (last_day - first_day + 1) as f64
        }
    };
    (days > 0.0).then(|| n * 7.0 / days)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn a_regular_trace_is_fully_active() {
        let times: Vec<i64> = (0..10).map(|i| i * 5 * MIN).collect();
        assert_eq!(sampling_interval_minutes(&times), Some(5.0));
        assert_eq!(active_percent(&times), Some(100.0));
    }

    #[test]
    fn a_missing_reading_is_counted_as_iglu_does() {
        // iglu's own example: readings at 0, 10 of a 5-minute grid 0, 5, 10 → 66.67 %.
        // With one interval of 10 the median is 10, so use a longer trace for a 5-minute dt.
        let times = [0, 5 * MIN, 10 * MIN, 20 * MIN, 25 * MIN];
        // dt 5; expected 6; one gap of 10 → missing 1; active 5/6.
        assert_eq!(active_percent(&times), Some(100.0 * 5.0 / 6.0));
    }

    #[test]
    fn the_median_interval_rounds_half_to_even() {
        // Intervals 2.5 min → rounds to 2 (even), as R and Python do.
        let times = [0, 150_000, 300_000];
        assert_eq!(sampling_interval_minutes(&times), Some(2.0));
        // Even count: median of 3 and 6 minutes is 4.5 → 4.
        let times = [0, 3 * MIN, 9 * MIN];
        assert_eq!(sampling_interval_minutes(&times), Some(4.0));
    }

    #[test]
    fn too_few_too_dense_or_finger_stick_readings_have_no_active_percent() {
        assert_eq!(active_percent(&[]), None);
        assert_eq!(active_percent(&[0]), None);
        assert_eq!(active_percent(&[0, 1000, 2000]), None);
        assert_eq!(active_percent(&[0, 15 * MIN, 30 * MIN]), Some(100.0));
        assert_eq!(active_percent(&[0, 16 * MIN, 32 * MIN]), None);
    }
}
