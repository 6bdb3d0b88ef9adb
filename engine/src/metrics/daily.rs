//! Day-by-day summaries of a record, and the longest run of consecutive days meeting a condition.
//!
//! Rules like "readings above 13.9 mmol/L three days running → clinician follow-up" or
//! "fasting measured on 20 days of the month" are questions about days, not readings.

use crate::glucose::GlucoseValue;
use crate::reading::Context;
use crate::record::{Record, date_of_day_number};
use chrono::NaiveDate;

/// What happened on one local day.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DaySummary {
    pub day: NaiveDate,
    /// Days since 1970-01-01, for telling consecutive days apart cheaply.
    pub day_number: i64,
    pub n_readings: u32,
    pub n_fasting: u32,
    /// The day's lowest value; `LO` if the meter showed it.
    pub lowest: GlucoseValue,
    /// The day's highest value; `HI` if the meter showed it.
    pub highest: GlucoseValue,
}

impl DaySummary {
    /// Every reading of the day was strictly above `mg_dl` (`HI` counts as above).
    pub fn all_above(&self, mg_dl: f64) -> bool {
        self.lowest.encode() > mg_dl
    }

    /// Every reading of the day was strictly below `mg_dl` (`LO` counts as below).
    pub fn all_below(&self, mg_dl: f64) -> bool {
        self.highest.encode() < mg_dl
    }

    /// At least one reading of the day was strictly below `mg_dl`.
    pub fn any_below(&self, mg_dl: f64) -> bool {
        self.lowest.encode() < mg_dl
    }

    /// At least one reading of the day was strictly above `mg_dl`.
    pub fn any_above(&self, mg_dl: f64) -> bool {
        self.highest.encode() > mg_dl
    }
}

/// One summary per local day that has readings, in day order.
pub fn daily_summaries(record: &Record) -> Vec<DaySummary> {
    let readings = record.readings();
    let mut rows: Vec<(i64, f64, Context)> = (0..readings.len())
        .filter_map(|i| {
            Some((
                record.day_number_of(i)?,
                *readings.values_mg_dl().get(i)?,
                *readings.contexts().get(i)?,
            ))
        })
        .collect();
    // Sorted by UTC already; only varying offsets can put local days out of order.
    if !rows.is_sorted_by_key(|r| r.0) {
        rows.sort_by_key(|r| r.0);
    }
    let mut out: Vec<DaySummary> = Vec::new();
    for (day_number, v, context) in rows {
        let fasting = u32::from(context == Context::Fasting);
        match out.last_mut() {
            Some(d) if d.day_number == day_number => {
                d.n_readings += 1;
                d.n_fasting += fasting;
                if v < d.lowest.encode() {
                    d.lowest = GlucoseValue::decode(v);
                }
                if v > d.highest.encode() {
                    d.highest = GlucoseValue::decode(v);
                }
            }
            _ => out.push(DaySummary {
                day: date_of_day_number(day_number),
                day_number,
                n_readings: 1,
                n_fasting: fasting,
                lowest: GlucoseValue::decode(v),
                highest: GlucoseValue::decode(v),
            }),
        }
    }
    out
}

/// The longest run of consecutive calendar days on which `condition` holds. A day without
/// readings breaks a run: nothing is known about it.
pub fn longest_run_of_days(days: &[DaySummary], condition: impl Fn(&DaySummary) -> bool) -> u32 {
    let mut best = 0;
    let mut run = 0;
    let mut previous: Option<i64> = None;
    for d in days {
        if condition(d) {
            run = if previous.is_some_and(|p| p + 1 == d.day_number) {
                run + 1
            } else {
                1
            };
            previous = Some(d.day_number);
            best = best.max(run);
        } else {
            run = 0;
            previous = None;
        }
    }
    best
}
