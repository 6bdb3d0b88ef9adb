//! A member's glucose-control record: readings and lab results, optionally for one period.

use crate::lab::LabResult;
use crate::member::MemberId;
use crate::period::{Period, PeriodError, Window};
use crate::readings::Readings;
use chrono::{NaiveDate, Offset, TimeZone};
use chrono_tz::Tz;
use std::sync::OnceLock;

/// Where one day ends and the next begins, for day-based metrics (days with readings,
/// streaks of days). A policy uses its own time zone; a bare readings file uses the offset
/// each reading was written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DayBoundary {
    ReadingOffset,
    Zone(Tz),
}

impl DayBoundary {
    /// The local day of an instant, as days since 1970-01-01.
    pub fn day_number(self, utc_ms: i64, offset_s: i32) -> i64 {
        let offset_s = match self {
            Self::ReadingOffset => offset_s,
            Self::Zone(zone) => match chrono::DateTime::from_timestamp_millis(utc_ms) {
                Some(t) => zone
                    .offset_from_utc_datetime(&t.naive_utc())
                    .fix()
                    .local_minus_utc(),
                None => offset_s,
            },
        };
        utc_ms
            .saturating_add(i64::from(offset_s) * 1000)
            .div_euclid(86_400_000)
    }

    /// The local calendar day of an instant.
    pub fn day_of(self, utc_ms: i64, offset_s: i32) -> NaiveDate {
        date_of_day_number(self.day_number(utc_ms, offset_s))
    }
}

/// Days since 1970-01-01 as a calendar date (saturating at chrono's limits).
pub fn date_of_day_number(day_number: i64) -> NaiveDate {
    // 1970-01-01 is day 719,163 counted from 0001-01-01 as day 1.
    i32::try_from(day_number.saturating_add(719_163))
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .unwrap_or(NaiveDate::MIN)
}

/// Spans of time over which a zone's UTC offset is constant, found by bisection: a handful of
/// zone lookups per record instead of one per reading (which was a seventh of a whole policy
/// evaluation). No zone changes its offset twice within [`OFFSET_SPAN_MS_MAX`].
fn offset_spans(zone: Tz, start_ms: i64, end_ms: i64) -> Vec<(i64, i32)> {
    let offset_at = |ms: i64| match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => zone
            .offset_from_utc_datetime(&t.naive_utc())
            .fix()
            .local_minus_utc(),
        None => 0,
    };
    let mut spans = vec![(start_ms, offset_at(start_ms))];
    // Walk in steps no longer than the shortest gap between two changes; bisect any step
    // whose ends disagree down to the minute where the offset changes.
    let mut a = start_ms;
    while a < end_ms {
        let b = a.saturating_add(OFFSET_SPAN_MS_MAX).min(end_ms);
        let (oa, ob) = (offset_at(a), offset_at(b));
        if oa != ob {
            let (mut lo, mut hi) = (a, b);
            while hi - lo > 60_000 {
                let mid = lo + (hi - lo) / 2;
                if offset_at(mid) == oa {
                    lo = mid
                } else {
                    hi = mid
                }
            }
            // Transitions fall on whole minutes: find the first millisecond of the new offset.
            let mut t = lo;
            while t < hi && offset_at(t) == oa {
                t += 1000;
            }
            spans.push((t, offset_at(t)));
        }
        a = b;
    }
    spans
}

/// The longest span assumed to hold at most one change of UTC offset (7 days; real zones
/// change at most a few times a year, the closest pair about a month apart).
const OFFSET_SPAN_MS_MAX: i64 = 7 * 86_400_000;

/// Local day numbers of a record's readings, computed once on first use. Always equal to any
/// other cache: it is derived from the record, not part of it.
#[derive(Clone, Debug, Default)]
struct DayCache(OnceLock<Vec<i64>>);

impl PartialEq for DayCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// A member's readings and HbA1c results, the unit every metric and every policy reads.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    member: MemberId,
    readings: Readings,
    labs: Vec<LabResult>,
    window: Option<Window>,
    days: DayBoundary,
    day_numbers: DayCache,
}

impl Record {
    /// Every reading given, no period: days follow each reading's own offset.
    pub fn new(member: MemberId, readings: Readings, mut labs: Vec<LabResult>) -> Self {
        labs.sort_by_key(|l| l.time);
        Self {
            member,
            readings,
            labs,
            window: None,
            days: DayBoundary::ReadingOffset,
            day_numbers: DayCache::default(),
        }
    }

    /// The readings of one period, with days counted in the policy's zone.
    ///
    /// Lab results are kept whole: an HbA1c look-back reaches before the period by design.
    pub fn for_period(
        member: MemberId,
        readings: &Readings,
        labs: Vec<LabResult>,
        period: Period,
        zone: Tz,
    ) -> Result<Self, PeriodError> {
        let window = period.window(zone)?;
        let mut record = Self::new(member, readings.within(&window), labs);
        record.window = Some(window);
        record.days = DayBoundary::Zone(zone);
        Ok(record)
    }

    /// Restricts the record to `window` (readings outside it are left out), keeping the
    /// window so rates such as readings per week are per the window, not per the data's span.
    pub fn within(mut self, window: Window) -> Self {
        self.readings = std::mem::take(&mut self.readings).into_within(&window);
        self.window = Some(window);
        self.day_numbers = DayCache::default();
        self
    }

    pub fn with_day_boundary(mut self, days: DayBoundary) -> Self {
        self.days = days;
        self.day_numbers = DayCache::default();
        self
    }

    pub fn member(&self) -> &MemberId {
        &self.member
    }

    pub fn readings(&self) -> &Readings {
        &self.readings
    }

    /// HbA1c results, oldest first.
    pub fn labs(&self) -> &[LabResult] {
        &self.labs
    }

    pub fn window(&self) -> Option<&Window> {
        self.window.as_ref()
    }

    pub fn day_boundary(&self) -> DayBoundary {
        self.days
    }

    /// Local day of reading `i`.
    pub fn day_number_of(&self, i: usize) -> Option<i64> {
        self.day_numbers().get(i).copied()
    }

    /// Local day of every reading, in reading order (days since 1970-01-01).
    pub fn day_numbers(&self) -> &[i64] {
        self.day_numbers.0.get_or_init(|| {
            let times = self.readings.times_ms();
            let offsets = self.readings.offsets_s();
            match (self.days, times.first(), times.last()) {
                (DayBoundary::Zone(zone), Some(&first), Some(&last)) => {
                    let spans = offset_spans(zone, first, last);
                    let mut span = 0;
                    times
                        .iter()
                        .map(|&t| {
                            while spans.get(span + 1).is_some_and(|(start, _)| *start <= t) {
                                span += 1;
                            }
                            let offset = spans.get(span).map_or(0, |(_, o)| *o);
                            DayBoundary::ReadingOffset.day_number(t, offset)
                        })
                        .collect()
                }
                _ => times
                    .iter()
                    .zip(offsets)
                    .map(|(&t, &o)| self.days.day_number(t, o))
                    .collect(),
            }
        })
    }
}

#[cfg(test)]
mod day_tests {
    use super::*;
    use crate::glucose::{Glucose, GlucoseValue};
    use crate::reading::{Context, Reading, Source};
    use crate::readings::ReadingsBuilder;
    use proptest::prelude::*;

    proptest! {
        /// The spans shortcut gives every reading the day a per-reading zone lookup gives,
        /// across DST changes (including Lord Howe's half-hour one).
        #[test]
        fn local_days_from_offset_spans_match_a_lookup_per_reading(
            start in 1_700_000_000_000_i64..1_800_000_000_000,
            steps in prop::collection::vec(1_i64..40 * 3_600_000, 1..200),
            zone in prop::sample::select(vec![chrono_tz::America::New_York, chrono_tz::Pacific::Auckland, chrono_tz::Australia::Lord_Howe, chrono_tz::Asia::Shanghai, chrono_tz::Europe::London]),
        ) {
            let mut builder = ReadingsBuilder::new();
            let mut t = start;
            for step in steps {
                t += step;
                let utc = chrono::DateTime::from_timestamp_millis(t).unwrap();
                let time = utc.with_timezone(&chrono::FixedOffset::east_opt(0).unwrap());
                builder.push(Reading { time, value: GlucoseValue::Measured(Glucose::from_mg_dl(100.0).unwrap()), context: Context::Unknown, source: Source::Cgm });
            }
            let record = Record::new(MemberId::parse("M").unwrap(), builder.finish().readings, vec![]).with_day_boundary(DayBoundary::Zone(zone));
            let expected: Vec<i64> = record.readings().times_ms().iter().zip(record.readings().offsets_s()).map(|(&t, &o)| DayBoundary::Zone(zone).day_number(t, o)).collect();
            prop_assert_eq!(record.day_numbers(), expected.as_slice());
        }
    }
}
