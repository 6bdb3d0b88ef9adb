//! Local times without an offset, as device exports write them, made instants in the zone the
//! reader was told (`--tz`). A time the zone skipped (the spring-forward hour) is read with the
//! offset before the change — the device's clock had not moved yet — and a time the zone
//! repeats (the fall-back hour) is the later of its two instants when the file's order says
//! the earlier has passed, else the earlier. Both are counted: they are where a day's figures
//! could be an hour out.

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDateTime, Offset, TimeZone};
use chrono_tz::Tz;

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
