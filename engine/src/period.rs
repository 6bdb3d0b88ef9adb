//! Policy periods (a month, a quarter, a year) and their bounds in the policy's time zone.
//!
//! A period runs from local midnight on its first day to local midnight on the first day of
//! the next period, half-open: a reading at 23:59:59+08:00 on 31 March belongs to March in
//! Asia/Shanghai, one at 00:00:00+08:00 on 1 April to April.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How long a policy period is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Monthly,
    Quarterly,
    Annual,
}

impl PeriodKind {
    /// The word policy.toml uses: `monthly`, `quarterly`, `annual`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Monthly => "monthly",
            Self::Quarterly => "quarterly",
            Self::Annual => "annual",
        }
    }
}

/// One period of a policy, named the way insurers write it: `2026-03`, `2026-Q1`, `2026`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    Month { year: i32, month: u32 },
    Quarter { year: i32, quarter: u32 },
    Year { year: i32 },
}

/// Why a period could not be parsed or placed in time.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("`{0}` is not a period (expected `2026-03`, `2026-Q1` or `2026`)")]
    Invalid(String),
    #[error("period {0} is outside the supported years 1900–9999")]
    OutOfRange(String),
    #[error("period `{0}` has white space around it; write it alone, such as `2026-03`")]
    Padded(String),
}

/// The first year a period, or a reading, may fall in.
pub const YEAR_MIN: i32 = 1900;
/// The last year a period, or a reading, may fall in.
pub const YEAR_MAX: i32 = 9999;

impl Period {
    pub fn parse(text: &str) -> Result<Self, PeriodError> {
        let invalid = || PeriodError::Invalid(crate::text::excerpt(text));
        // Refused rather than trimmed: a period is also part of what makes two requests "the
        // same" for an idempotency key, and `2026-03\n` must not be one request to the
        // decision and another to the key.
        let text_trimmed = text.trim();
        if text_trimmed != text {
            return Err(PeriodError::Padded(crate::text::excerpt(
                &text.escape_default().to_string(),
            )));
        }
        let (year_text, rest) = match text_trimmed.split_once('-') {
            Some((y, r)) => (y, Some(r)),
            None => (text_trimmed, None),
        };
        if year_text.len() != 4 {
            return Err(invalid());
        }
        let year: i32 = year_text.parse().map_err(|_| invalid())?;
        let period = match rest {
            None => Self::Year { year },
            Some(q) if q.starts_with(['Q', 'q']) => {
                let quarter: u32 = q.get(1..).unwrap_or("").parse().map_err(|_| invalid())?;
                if !(1..=4).contains(&quarter) || q.len() != 2 {
                    return Err(invalid());
                }
                Self::Quarter { year, quarter }
            }
            Some(m) => {
                let month: u32 = m.parse().map_err(|_| invalid())?;
                if !(1..=12).contains(&month) || m.len() != 2 {
                    return Err(invalid());
                }
                Self::Month { year, month }
            }
        };
        if !(YEAR_MIN..=YEAR_MAX).contains(&year) {
            return Err(PeriodError::OutOfRange(crate::text::excerpt(text)));
        }
        Ok(period)
    }

    pub fn kind(self) -> PeriodKind {
        match self {
            Self::Month { .. } => PeriodKind::Monthly,
            Self::Quarter { .. } => PeriodKind::Quarterly,
            Self::Year { .. } => PeriodKind::Annual,
        }
    }

    /// The first local day of the period.
    pub fn first_day(self) -> Option<NaiveDate> {
        match self {
            Self::Month { year, month } => NaiveDate::from_ymd_opt(year, month, 1),
            Self::Quarter { year, quarter } => {
                NaiveDate::from_ymd_opt(year, (quarter.saturating_sub(1)) * 3 + 1, 1)
            }
            Self::Year { year } => NaiveDate::from_ymd_opt(year, 1, 1),
        }
    }

    /// The period after this one, of the same kind.
    pub fn next(self) -> Self {
        match self {
            Self::Month { year, month: 12 } => Self::Month {
                year: year + 1,
                month: 1,
            },
            Self::Month { year, month } => Self::Month {
                year,
                month: month + 1,
            },
            Self::Quarter { year, quarter: 4 } => Self::Quarter {
                year: year + 1,
                quarter: 1,
            },
            Self::Quarter { year, quarter } => Self::Quarter {
                year,
                quarter: quarter + 1,
            },
            Self::Year { year } => Self::Year { year: year + 1 },
        }
    }

    /// The period before this one, of the same kind.
    pub fn previous(self) -> Self {
        match self {
            Self::Month { year, month: 1 } => Self::Month {
                year: year - 1,
                month: 12,
            },
            Self::Month { year, month } => Self::Month {
                year,
                month: month - 1,
            },
            Self::Quarter { year, quarter: 1 } => Self::Quarter {
                year: year - 1,
                quarter: 4,
            },
            Self::Quarter { year, quarter } => Self::Quarter {
                year,
                quarter: quarter - 1,
            },
            Self::Year { year } => Self::Year { year: year - 1 },
        }
    }

    /// The calendar year the period falls in: the plan year of annual caps and points.
    pub fn year(self) -> i32 {
        match self {
            Self::Month { year, .. } | Self::Quarter { year, .. } | Self::Year { year } => year,
        }
    }

    /// The last local day of the period.
    pub fn last_day(self) -> Option<NaiveDate> {
        self.next().first_day()?.pred_opt()
    }

    /// The period of `kind` that contains local day `day`.
    pub fn containing_day(kind: PeriodKind, day: NaiveDate) -> Self {
        let year = day.year();
        match kind {
            PeriodKind::Monthly => Self::Month {
                year,
                month: day.month(),
            },
            PeriodKind::Quarterly => Self::Quarter {
                year,
                quarter: (day.month() - 1) / 3 + 1,
            },
            PeriodKind::Annual => Self::Year { year },
        }
    }

    /// The period of `kind` that contains `instant`, with days counted in `zone`.
    pub fn containing(kind: PeriodKind, instant: DateTime<Utc>, zone: Tz) -> Self {
        Self::containing_day(kind, instant.with_timezone(&zone).date_naive())
    }

    /// The half-open interval `[start, end)` the period covers in `zone`.
    pub fn window(self, zone: Tz) -> Result<Window, PeriodError> {
        let out_of_range = || PeriodError::OutOfRange(self.to_string());
        let start_day = self.first_day().ok_or_else(out_of_range)?;
        let end_day = self.next().first_day().ok_or_else(out_of_range)?;
        Ok(Window {
            start: local_midnight(zone, start_day).ok_or_else(out_of_range)?,
            end: local_midnight(zone, end_day).ok_or_else(out_of_range)?,
        })
    }
}

/// The first instant of `day` in `zone`. Where a zone skips midnight (a daylight-saving jump,
/// as in some historical American zones) the day starts at the first local time that exists.
pub(crate) fn local_midnight(zone: Tz, day: NaiveDate) -> Option<DateTime<Utc>> {
    let mut local = day.and_hms_opt(0, 0, 0)?;
    // A DST gap is at most two hours; step through it a quarter-hour at a time.
    for _ in 0..=8 {
        if let Some(t) = zone.from_local_datetime(&local).earliest() {
            return Some(t.with_timezone(&Utc));
        }
        local += chrono::Duration::minutes(15);
    }
    None
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            Self::Quarter { year, quarter } => write!(f, "{year:04}-Q{quarter}"),
            Self::Year { year } => write!(f, "{year:04}"),
        }
    }
}

impl Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Written on the stack and handed over whole: `collect_str` would have a JSON writer
        // escape it a fragment at a time, and every stored history and input hash writes
        // a period for each of a member's earlier outcomes.
        let mut text = [0u8; PERIOD_TEXT_BYTES_MAX];
        let mut cursor = std::io::Cursor::new(&mut text[..]);
        match std::io::Write::write_fmt(&mut cursor, format_args!("{self}")) {
            Ok(()) => {
                let end = usize::try_from(cursor.position()).unwrap_or(0);
                match text.get(..end).map(std::str::from_utf8) {
                    Some(Ok(text)) => s.serialize_str(text),
                    _ => s.collect_str(self),
                }
            }
            Err(_) => s.collect_str(self),
        }
    }
}

/// Room for any period's text, even one built with fields no parse allows: an `i32` year
/// (eleven characters), a dash and a `u32` (ten). A longer one would go through `collect_str`.
const PERIOD_TEXT_BYTES_MAX: usize = 32;

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A half-open interval of time `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Window {
    /// `None` when `end` is not after `start`.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Option<Self> {
        (end > start).then_some(Self { start, end })
    }

    pub fn contains_millis(&self, utc_millis: i64) -> bool {
        self.start.timestamp_millis() <= utc_millis && utc_millis < self.end.timestamp_millis()
    }

    /// Length in days, fractional where the window is not whole days (or spans a DST change).
    pub fn days(&self) -> f64 {
        // i64 milliseconds to f64 is exact for any window shorter than 285,000 years.
        let millis = (self.end - self.start).num_milliseconds() as f64;
        millis / 86_400_000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_timestamp;

    fn shanghai() -> Tz {
        chrono_tz::Asia::Shanghai
    }

    #[test]
    fn a_period_is_written_in_json_as_it_prints_whatever_its_fields() {
        let periods = [
            Period::Month {
                year: 2026,
                month: 3,
            },
            Period::Quarter {
                year: 7,
                quarter: 4,
            },
            Period::Year { year: 9999 },
            Period::Month {
                year: i32::MIN,
                month: u32::MAX,
            },
            Period::Quarter {
                year: i32::MAX,
                quarter: u32::MAX,
            },
            Period::Year { year: -1 },
        ];
        for p in periods {
            assert_eq!(
                serde_json::to_string(&p).ok(),
                Some(format!("\"{p}\"")),
                "{p:?}"
            );
        }
    }

    #[test]
    fn periods_parse_in_the_three_spellings_and_print_back() {
        for text in ["2026-03", "2026-Q1", "2026", "2026-12", "2026-Q4"] {
            assert_eq!(
                Period::parse(text).map(|p| p.to_string()),
                Ok(text.to_owned())
            );
        }
        for bad in [
            "2026-13", "2026-00", "2026-Q5", "2026-3", "26-03", "2026-Q", "March", "",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            Period::parse("1066"),
            Err(PeriodError::OutOfRange(_))
        ));
    }

    #[test]
    fn a_period_with_white_space_around_it_is_refused_not_trimmed() {
        for padded in ["2026-03 ", " 2026-03", "2026-03\n", "2026-Q1\t"] {
            assert!(
                matches!(Period::parse(padded), Err(PeriodError::Padded(_))),
                "{}",
                padded.escape_default()
            );
        }
    }

    #[test]
    fn the_last_second_of_a_month_belongs_to_it_and_midnight_to_the_next() {
        let march = Period::parse("2026-03").and_then(|p| p.window(shanghai()));
        let Ok(march) = march else {
            unreachable!("March 2026 has a window")
        };
        let last = parse_timestamp("2026-03-31T23:59:59+08:00").map(|t| t.timestamp_millis());
        let next = parse_timestamp("2026-04-01T00:00:00+08:00").map(|t| t.timestamp_millis());
        let first = parse_timestamp("2026-03-01T00:00:00+08:00").map(|t| t.timestamp_millis());
        assert_eq!(last.map(|t| march.contains_millis(t)), Ok(true));
        assert_eq!(next.map(|t| march.contains_millis(t)), Ok(false));
        assert_eq!(first.map(|t| march.contains_millis(t)), Ok(true));
        // The same instant, 2026-03-31T16:00:00Z, is April in Shanghai but March in UTC.
        let instant = parse_timestamp("2026-03-31T16:00:00Z").map(|t| t.with_timezone(&Utc));
        let instant2 = instant.clone();
        assert_eq!(
            instant.map(|t| Period::containing(PeriodKind::Monthly, t, shanghai()).to_string()),
            Ok("2026-04".to_owned())
        );
        assert_eq!(
            instant2
                .map(|t| Period::containing(PeriodKind::Monthly, t, chrono_tz::UTC).to_string()),
            Ok("2026-03".to_owned())
        );
    }

    #[test]
    fn quarters_and_years_roll_over() {
        assert_eq!(
            Period::parse("2026-Q4").map(Period::next),
            Period::parse("2027-Q1")
        );
        assert_eq!(
            Period::parse("2026-12").map(Period::next),
            Period::parse("2027-01")
        );
        let q1 = Period::parse("2026-Q1").and_then(|p| p.window(shanghai()));
        assert_eq!(q1.map(|w| w.days()), Ok(90.0));
        let leap = Period::parse("2028").and_then(|p| p.window(chrono_tz::UTC));
        assert_eq!(leap.map(|w| w.days()), Ok(366.0));
    }

    #[test]
    fn a_day_whose_midnight_does_not_exist_starts_at_the_first_local_time_that_does() {
        // São Paulo sprang forward at midnight on 4 November 2018: 00:00 became 01:00 (−02:00).
        let day = NaiveDate::from_ymd_opt(2018, 11, 4);
        let start = day.and_then(|d| local_midnight(chrono_tz::America::Sao_Paulo, d));
        let expected = parse_timestamp("2018-11-04T01:00:00-02:00").map(|t| t.with_timezone(&Utc));
        assert_eq!(start, expected.ok());
    }

    #[test]
    fn a_month_spanning_a_dst_change_has_its_true_length() {
        // New York springs forward on 8 March 2026: March is 31 days less one hour.
        let march = Period::parse("2026-03").and_then(|p| p.window(chrono_tz::America::New_York));
        assert_eq!(march.map(|w| w.days()), Ok(31.0 - 1.0 / 24.0));
    }
}
