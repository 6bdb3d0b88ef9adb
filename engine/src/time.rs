//! Timestamps as readings carry them: RFC 3339 with an explicit UTC offset.

use crate::period::{YEAR_MAX, YEAR_MIN};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDateTime};

/// Why a timestamp was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error(
        "time `{0}` has no UTC offset; write it as RFC 3339 with an offset, e.g. `2026-03-01T08:00:00+08:00`"
    )]
    NoOffset(String),
    #[error("time `{0}` is not an RFC 3339 timestamp, e.g. `2026-03-01T08:00:00+08:00`")]
    Invalid(String),
    #[error("time `{0}` is outside the years 1900–9999 that periods cover")]
    OutOfRange(String),
}

/// Parses an RFC 3339 timestamp and insists on its offset: a reading without one cannot be
/// placed in the policy's period, and guessing a zone is how payouts end up in the wrong month.
pub fn parse_timestamp(text: &str) -> Result<DateTime<FixedOffset>, TimeError> {
    let text = text.trim();
    match DateTime::parse_from_rfc3339(text) {
        // A reading no period can hold (year 0000, say) would be stored and never counted.
        Ok(t) if !(YEAR_MIN..=YEAR_MAX).contains(&t.year()) => {
            Err(TimeError::OutOfRange(crate::text::excerpt(text)))
        }
        Ok(t) => Ok(t),
        Err(_) => {
            let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f"));
            if naive.is_ok() {
                Err(TimeError::NoOffset(crate::text::excerpt(text)))
            } else {
                Err(TimeError::Invalid(crate::text::excerpt(text)))
            }
        }
    }
}

/// A timestamp as [`crate::Readings`] stores it: UTC milliseconds since the epoch (fractions
/// below a millisecond truncated, as chrono's `timestamp_millis`) and the offset in seconds.
pub fn parse_timestamp_parts(text: &str) -> Result<(i64, i32), TimeError> {
    if let Some(parts) = fixed_shape_parts(text.as_bytes()) {
        return Ok(parts);
    }
    parse_timestamp(text).map(|t| (t.timestamp_millis(), t.offset().local_minus_utc()))
}

/// The shape meters and platforms send, `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)`, read straight
/// to milliseconds and offset. A readings file parses one timestamp per row, and chrono's
/// general parser and `DateTime` construction were a fifth of `incentive metrics`' time on a
/// ten-million-row file. Anything else — another shape, a leap second, an impossible date —
/// returns `None` and goes to chrono, which stays the reference: a property test checks that
/// both agree on every timestamp chrono accepts.
fn fixed_shape_parts(b: &[u8]) -> Option<(i64, i32)> {
    let head: &[u8; 19] = b.get(..19)?.try_into().ok()?;
    let [
        y0,
        y1,
        y2,
        y3,
        b'-',
        m0,
        m1,
        b'-',
        d0,
        d1,
        b'T',
        h0,
        h1,
        b':',
        n0,
        n1,
        b':',
        s0,
        s1,
    ] = *head
    else {
        return None;
    };
    let year = number(&[y0, y1, y2, y3])?;
    // Years no period covers go to chrono's path, which refuses them with the reason.
    if year < i64::from(YEAR_MIN) {
        return None;
    }
    let (month, day) = (number(&[m0, m1])?, number(&[d0, d1])?);
    let (hour, minute, second) = (number(&[h0, h1])?, number(&[n0, n1])?, number(&[s0, s1])?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = b.get(19..)?;
    let mut millis = 0;
    if let [b'.', fraction @ ..] = rest {
        let n = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return None;
        }
        // The first three digits, right-padded: ".5" is 500 ms, ".123456" is 123 ms.
        let mut padded = [b'0'; 3];
        for (slot, &c) in padded.iter_mut().zip(fraction.iter().take(n)) {
            *slot = c;
        }
        millis = number(&padded)?;
        rest = fraction.get(n..)?;
    }
    let offset_s = match *rest {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), oh0, oh1, b':', om0, om1] => {
            let (h, m) = (number(&[oh0, oh1])?, number(&[om0, om1])?);
            if h > 23 || m > 59 {
                return None;
            }
            if sign == b'-' {
                -(h * 3600 + m * 60)
            } else {
                h * 3600 + m * 60
            }
        }
        _ => return None,
    };
    let local_s = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    Some((
        (local_s - offset_s) * 1000 + millis,
        i32::try_from(offset_s).ok()?,
    ))
}

/// ASCII decimal digits as a number; `None` if any byte is not a digit.
fn number<const N: usize>(digits: &[u8; N]) -> Option<i64> {
    let mut n = 0;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + i64::from(d);
    }
    Some(n)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timestamp_without_offset_is_refused_and_says_so() {
        assert_eq!(
            parse_timestamp("2026-03-01T08:00:00"),
            Err(TimeError::NoOffset("2026-03-01T08:00:00".into()))
        );
        assert_eq!(
            parse_timestamp("2026-03-01 08:00:00"),
            Err(TimeError::NoOffset("2026-03-01 08:00:00".into()))
        );
        assert_eq!(
            parse_timestamp("yesterday"),
            Err(TimeError::Invalid("yesterday".into()))
        );
    }

    #[test]
    fn the_fast_path_and_chrono_agree_on_awkward_timestamps() {
        for text in [
            "2026-03-01T08:00:00+08:00",
            "2026-03-01T08:00:00Z",
            "2026-03-01t08:00:00z",
            "2026-03-01 08:00:00+08:00",
            "2026-03-01T08:00:00.123456789-05:30",
            "2026-03-01T08:00:00.5+14:00",
            "1969-12-31T23:59:59.999-00:01",
            "2016-12-31T23:59:60Z",
            "2024-02-29T00:00:00+00:00",
            // Found by the property test: the offset's digits must not pad a short fraction.
            "1900-01-01T00:00:00.0+10:00",
            "2026-03-01T08:00:00.1+12:34",
        ] {
            let chrono =
                DateTime::parse_from_rfc3339(text).map(|t| (t, t.offset().local_minus_utc()));
            let ours = parse_timestamp(text).map(|t| (t, t.offset().local_minus_utc()));
            assert_eq!(ours.ok(), chrono.ok(), "{text}");
        }
        for bad in [
            "2023-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-03-01T24:00:00Z",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_reading_in_a_year_no_period_covers_is_refused_on_both_paths() {
        for text in [
            "0000-01-01T00:00:00Z",
            "0000-01-01T00:00:00.0+10:00",
            "1899-12-31T23:59:59+08:00",
        ] {
            assert_eq!(
                parse_timestamp(text),
                Err(TimeError::OutOfRange(text.into())),
                "{text}"
            );
            assert_eq!(
                parse_timestamp_parts(text),
                Err(TimeError::OutOfRange(text.into())),
                "{text}"
            );
        }
        assert!(parse_timestamp_parts("1900-01-01T00:00:00+00:00").is_ok());
        assert!(parse_timestamp_parts("9999-12-31T23:59:59+00:00").is_ok());
    }

    #[test]
    fn offsets_and_fractions_are_kept() {
        let t = parse_timestamp("2026-03-01T08:00:00.5+08:00");
        assert_eq!(
            t.map(|t| (t.timestamp_millis(), t.offset().local_minus_utc())),
            Ok((1_772_323_200_500, 8 * 3600))
        );
    }
}
