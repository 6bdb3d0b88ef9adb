//! A member's glucose-control record: readings and lab results, optionally for one period.

use crate::lab::LabResult;
use crate::member::MemberId;
use crate::period::{Period, PeriodError, Window};
use crate::readings::Readings;
use chrono::{NaiveDate, Offset, TimeZone};
use chrono_tz::Tz;

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

/// A member's readings and HbA1c results, the unit every metric and every policy reads.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    member: MemberId,
    readings: Readings,
    labs: Vec<LabResult>,
    window: Option<Window>,
    days: DayBoundary,
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
        self
    }

    pub fn with_day_boundary(mut self, days: DayBoundary) -> Self {
        self.days = days;
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
        let t = *self.readings.times_ms().get(i)?;
        let o = *self.readings.offsets_s().get(i)?;
        Some(self.days.day_number(t, o))
    }
}
