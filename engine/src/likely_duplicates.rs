//! The same finger-stick written twice by two apps: the meter's app sends 126 mg/dL at 07:02:41,
//! the patient types 7.0 mmol/L at 07:00 into another. Neither is a duplicate by the store's
//! key (same member, instant and source), so both would count — one test, two readings — and
//! a plan that pays by the number of readings would pay twice. Such pairs are found here so a
//! caller can report them and keep them out, never silently keep both or drop one.
//!
//! A pair is likely the same reading when both are finger-sticks (a sensor reads every few
//! minutes, so its neighbours agree by nature), no more than
//! [`LIKELY_DUPLICATE_WINDOW_MINUTES`] apart (people type the time they remember, to the
//! minute or the quarter hour), and their values agree within what writing them in the other
//! unit can change: a mg/dL value is whole (±0.5), a mmol/L value has one decimal (±0.05
//! mmol/L = ±0.9 mg/dL), so two writings of one value differ by at most
//! [`LIKELY_DUPLICATE_MG_DL_MAX`]. A meter's LO (HI) matches another LO (HI).

use crate::glucose::GlucoseValue;
use crate::reading::{Reading, Source};
use chrono::{DateTime, FixedOffset};
use serde::Serialize;

/// Minutes apart two writings of one finger-stick may be at most.
pub const LIKELY_DUPLICATE_WINDOW_MINUTES: i64 = 10;

/// mg/dL two writings of one value may differ by at most: half a mg/dL plus half of 0.1
/// mmol/L (0.9 mg/dL).
pub const LIKELY_DUPLICATE_MG_DL_MAX: f64 = 1.4;

/// A reading that is likely one already there, written again by another app or by hand.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LikelyDuplicate {
    /// Its position among the readings checked.
    pub index: usize,
    pub time: DateTime<FixedOffset>,
    /// The reading it likely repeats: when it was taken.
    pub repeats: DateTime<FixedOffset>,
}

fn is_finger_stick(r: &Reading) -> bool {
    matches!(r.source, Source::Smbg | Source::Unspecified)
}

/// Whether two readings are likely one finger-stick written twice (and are not the very same
/// reading, which the store's own key already finds).
pub fn same_finger_stick(a: &Reading, b: &Reading) -> bool {
    if !is_finger_stick(a) || !is_finger_stick(b) {
        return false;
    }
    if a.time == b.time && a.source == b.source {
        return false;
    }
    let apart_ms = (a.time.timestamp_millis() - b.time.timestamp_millis()).abs();
    if apart_ms > LIKELY_DUPLICATE_WINDOW_MINUTES * 60_000 {
        return false;
    }
    match (a.value, b.value) {
        (GlucoseValue::Measured(x), GlucoseValue::Measured(y)) => {
            (x.mg_dl() - y.mg_dl()).abs() <= LIKELY_DUPLICATE_MG_DL_MAX
        }
        (GlucoseValue::Low, GlucoseValue::Low) | (GlucoseValue::High, GlucoseValue::High) => true,
        _ => false,
    }
}

/// Of `incoming`, those likely repeating a reading of `on_record` or an earlier one of
/// `incoming` itself. Each is reported once, with the first reading it repeats; the reading
/// it repeats stays. `on_record` need not be sorted.
pub fn likely_duplicates(on_record: &[Reading], incoming: &[Reading]) -> Vec<LikelyDuplicate> {
    // Finger-sticks are a few a day: sorted by time, each is compared only with those within
    // the window of it.
    let mut kept: Vec<Reading> = on_record
        .iter()
        .filter(|r| is_finger_stick(r))
        .copied()
        .collect();
    kept.sort_by_key(|r| r.time.timestamp_millis());
    let window_ms = LIKELY_DUPLICATE_WINDOW_MINUTES * 60_000;
    let mut found = Vec::new();
    for (index, reading) in incoming.iter().enumerate() {
        if !is_finger_stick(reading) {
            continue;
        }
        let t = reading.time.timestamp_millis();
        let from = kept.partition_point(|k| k.time.timestamp_millis() < t - window_ms);
        let repeats = kept
            .iter()
            .skip(from)
            .take_while(|k| k.time.timestamp_millis() <= t + window_ms)
            .find(|k| same_finger_stick(k, reading));
        match repeats {
            Some(k) => found.push(LikelyDuplicate {
                index,
                time: reading.time,
                repeats: k.time,
            }),
            None => {
                let at = kept.partition_point(|k| k.time.timestamp_millis() <= t);
                kept.insert(at, *reading);
            }
        }
    }
    found
}
