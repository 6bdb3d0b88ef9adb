//! Timestamps as readings carry them: RFC 3339 with an explicit UTC offset.

use chrono::{DateTime, FixedOffset, NaiveDateTime};

/// Why a timestamp was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error(
        "time `{0}` has no UTC offset; write it as RFC 3339 with an offset, e.g. `2026-03-01T08:00:00+08:00`"
    )]
    NoOffset(String),
    #[error("time `{0}` is not an RFC 3339 timestamp, e.g. `2026-03-01T08:00:00+08:00`")]
    Invalid(String),
}

/// Parses an RFC 3339 timestamp and insists on its offset: a reading without one cannot be
/// placed in the policy's period, and guessing a zone is how payouts end up in the wrong month.
pub fn parse_timestamp(text: &str) -> Result<DateTime<FixedOffset>, TimeError> {
    let text = text.trim();
    match DateTime::parse_from_rfc3339(text) {
        Ok(t) => Ok(t),
        Err(_) => {
            let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f"));
            if naive.is_ok() {
                Err(TimeError::NoOffset(text.to_owned()))
            } else {
                Err(TimeError::Invalid(text.to_owned()))
            }
        }
    }
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
    fn offsets_and_fractions_are_kept() {
        let t = parse_timestamp("2026-03-01T08:00:00.5+08:00");
        assert_eq!(
            t.map(|t| (t.timestamp_millis(), t.offset().local_minus_utc())),
            Ok((1_772_323_200_500, 8 * 3600))
        );
    }
}
