//! Local times without an offset, as device exports write them, made instants in the zone the
//! reader was told (`--tz`). A time the zone skipped (the spring-forward hour) is read with the
//! offset before the change — the device's clock had not moved yet — and a time the zone
//! repeats (the fall-back hour) is the later of its two instants when the file's order says
//! the earlier has passed, else the earlier. Both are counted: they are where a day's figures
//! could be an hour out.

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDateTime, Offset, TimeZone};
use chrono_tz::Tz;

/// Two ASCII digits as a number.
fn two(b: &[u8], at: usize) -> Option<u32> {
    let (a, c) = (*b.get(at)?, *b.get(at + 1)?);
    (a.is_ascii_digit() && c.is_ascii_digit())
        .then(|| u32::from(a - b'0') * 10 + u32::from(c - b'0'))
}

/// `2023-08-08T04:10:35` or `2023-08-08 04:10:35`, read by position: the layout every row of
/// an export has, without a format string parsed again for each row.
pub(crate) fn iso_local(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() != 19
        || b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !matches!(b.get(10), Some(b'T' | b' '))
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
    {
        return None;
    }
    let year = i32::try_from(two(b, 0)? * 100 + two(b, 2)?).ok()?;
    let date = chrono::NaiveDate::from_ymd_opt(year, two(b, 5)?, two(b, 8)?)?;
    date.and_hms_opt(two(b, 11)?, two(b, 14)?, two(b, 17)?)
}

/// `16:25`, `16:25:30` or `04:25 PM`: a time of day, read by position.
pub(crate) fn time_of_day(text: &str) -> Option<chrono::NaiveTime> {
    let text = text.trim();
    let (clock, pm) = match text.len().checked_sub(2).and_then(|i| text.get(i..)) {
        Some(s) if s.eq_ignore_ascii_case("pm") => {
            (text.get(..text.len() - 2)?.trim_end(), Some(true))
        }
        Some(s) if s.eq_ignore_ascii_case("am") => {
            (text.get(..text.len() - 2)?.trim_end(), Some(false))
        }
        _ => (text, None),
    };
    // An hour of one digit (`4:25 PM`) is read as `04:25 PM`.
    let padded;
    let b = if clock.as_bytes().get(1) == Some(&b':') {
        padded = format!("0{clock}");
        padded.as_bytes()
    } else {
        clock.as_bytes()
    };
    let (hour, minute) = (two(b, 0)?, two(b, 3)?);
    if b.get(2) != Some(&b':') {
        return None;
    }
    let second = match b.len() {
        5 => 0,
        8 if b.get(5) == Some(&b':') => two(b, 6)?,
        _ => return None,
    };
    let hour = match pm {
        None => hour,
        Some(_) if !(1..=12).contains(&hour) => return None,
        Some(false) => hour % 12,
        Some(true) => hour % 12 + 12,
    };
    chrono::NaiveTime::from_hms_opt(hour, minute, second)
}

/// The zone and what reading it has met.
#[derive(Clone, Debug)]
pub struct LocalClock {
    zone: Tz,
    /// The instant read last, in ms, for the order of a repeated hour.
    last_ms: Option<i64>,
    /// Whether the file runs newest first (CareLink).
    descending: bool,
    /// Times the zone skipped.
    pub in_gap: u64,
    /// Times the zone repeats.
    pub in_overlap: u64,
}

impl LocalClock {
    pub fn new(zone: Tz) -> Self {
        Self {
            zone,
            last_ms: None,
            descending: false,
            in_gap: 0,
            in_overlap: 0,
        }
    }

    /// For a file that runs newest first: a repeated hour is met at its later instant first.
    pub fn descending(zone: Tz) -> Self {
        Self {
            descending: true,
            ..Self::new(zone)
        }
    }

    /// The instant of `local` in the zone, with its offset.
    pub fn instant(&mut self, local: NaiveDateTime) -> Option<DateTime<FixedOffset>> {
        let at = match self.zone.from_local_datetime(&local) {
            LocalResult::Single(t) => t.fixed_offset(),
            LocalResult::Ambiguous(earlier, later) => {
                self.in_overlap += 1;
                let (earlier, later) = (earlier.fixed_offset(), later.fixed_offset());
                if self.descending {
                    // Read backwards: the later instant, until the file has gone back past it.
                    match self.last_ms {
                        Some(last) if later.timestamp_millis() >= last => earlier,
                        _ => later,
                    }
                } else {
                    match self.last_ms {
                        Some(last) if earlier.timestamp_millis() <= last => later,
                        _ => earlier,
                    }
                }
            }
            LocalResult::None => {
                self.in_gap += 1;
                // The offset in force just before the gap: an hour earlier is always outside it.
                let before = local - chrono::Duration::hours(3);
                let offset = self
                    .zone
                    .offset_from_local_datetime(&before)
                    .earliest()?
                    .fix();
                offset.from_local_datetime(&local).single()?
            }
        };
        self.last_ms = Some(at.timestamp_millis());
        Some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap_or_default()
    }

    #[test]
    fn export_times_read_by_position_are_those_chrono_reads() {
        for text in [
            "2023-08-08T04:10:35",
            "2023-08-08 04:10:35",
            "2024-02-29T23:59:59",
        ] {
            let want =
                NaiveDateTime::parse_from_str(&text.replace(' ', "T"), "%Y-%m-%dT%H:%M:%S").ok();
            assert_eq!(iso_local(text), want, "{text}");
        }
        for bad in [
            "2023-02-30T04:10:35",
            "2023-08-08T24:00:00",
            "2023-8-08T04:10:35",
            "",
            "2023-08-08T04:10:3x",
        ] {
            assert_eq!(iso_local(bad), None, "{bad}");
        }
        let t = |h, m, s| chrono::NaiveTime::from_hms_opt(h, m, s);
        assert_eq!(time_of_day("16:25"), t(16, 25, 0));
        assert_eq!(time_of_day("16:25:30"), t(16, 25, 30));
        assert_eq!(time_of_day("04:25 PM"), t(16, 25, 0));
        assert_eq!(time_of_day("12:05 AM"), t(0, 5, 0));
        assert_eq!(time_of_day("12:05 pm"), t(12, 5, 0));
        assert_eq!(time_of_day("4:25 PM"), t(16, 25, 0));
        for bad in ["13:05 PM", "00:05 AM", "425 PM", "16:60", "16:25:"] {
            assert_eq!(time_of_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_skipped_hour_keeps_the_offset_before_it_and_a_repeated_one_follows_the_files_order() {
        let mut clock = LocalClock::new(chrono_tz::Europe::Berlin);
        // 2021-03-28 02:30 does not exist in Berlin: read at +01:00.
        let gap = clock.instant(local("2021-03-28T02:30:00"));
        assert_eq!(
            gap.map(|t| t.to_rfc3339()),
            Some("2021-03-28T02:30:00+01:00".into())
        );
        assert_eq!(clock.in_gap, 1);
        // 2021-10-31 02:30 happens twice: first at +02:00, then, after 02:55 +02:00, at +01:00.
        let mut clock = LocalClock::new(chrono_tz::Europe::Berlin);
        let first = clock
            .instant(local("2021-10-31T02:30:00"))
            .map(|t| t.to_rfc3339());
        let _ = clock.instant(local("2021-10-31T02:55:00"));
        let again = clock
            .instant(local("2021-10-31T02:30:00"))
            .map(|t| t.to_rfc3339());
        assert_eq!(first, Some("2021-10-31T02:30:00+02:00".into()));
        assert_eq!(again, Some("2021-10-31T02:30:00+01:00".into()));
        assert_eq!(clock.in_overlap, 3);
        // The same night read newest first: the later 02:30 (+01:00) first, then, once the file
        // has gone back to 02:05 (+01:00), the earlier one.
        let mut clock = LocalClock::descending(chrono_tz::Europe::Berlin);
        let newest = clock
            .instant(local("2021-10-31T02:30:00"))
            .map(|t| t.to_rfc3339());
        let _ = clock.instant(local("2021-10-31T02:05:00"));
        let oldest = clock
            .instant(local("2021-10-31T02:30:00"))
            .map(|t| t.to_rfc3339());
        assert_eq!(newest, Some("2021-10-31T02:30:00+01:00".into()));
        assert_eq!(oldest, Some("2021-10-31T02:30:00+02:00".into()));
    }
}
