//! Apple's times (`2019-04-03 08:12:00 +0800`), read once a day rather than once a reading.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

/// Two ASCII digits as a number.
pub(super) fn two(a: u8, b: u8) -> Option<u32> {
    (a.is_ascii_digit() && b.is_ascii_digit())
        .then(|| u32::from(a - b'0') * 10 + u32::from(b - b'0'))
}

/// Seconds in a day.
pub(super) const DAY_SECONDS: u32 = 86_400;

/// A local date and offset as Apple writes them, with where that day's midnight falls in UTC:
/// readings come in order, hundreds a day, so a date is read once a day rather than once a
/// reading (chrono's calendar was a tenth of a record's time).
#[derive(Clone, Copy)]
pub(super) struct Day {
    /// `YYYYMMDD±HHMM`, as written.
    key: [u8; 13],
    offset: FixedOffset,
    /// The UTC date of local midnight, the date after it, and the seconds into the first.
    utc_date: NaiveDate,
    next_utc_date: Option<NaiveDate>,
    midnight_seconds: u32,
}

impl Day {
    pub(super) fn new(key: [u8; 13]) -> Option<Day> {
        let [y1, y2, y3, y4, mo1, mo2, d1, d2, sign, oh1, oh2, om1, om2] = key;
        let year = i32::try_from(two(y1, y2)? * 100 + two(y3, y4)?).ok()?;
        let date = NaiveDate::from_ymd_opt(year, two(mo1, mo2)?, two(d1, d2)?)?;
        let (hours, minutes) = (two(oh1, oh2)?, two(om1, om2)?);
        if minutes >= 60 {
            return None;
        }
        let seconds = i32::try_from((hours * 60 + minutes) * 60).ok()?;
        let offset = match sign {
            b'+' => FixedOffset::east_opt(seconds)?,
            b'-' => FixedOffset::west_opt(seconds)?,
            _ => return None,
        };
        let midnight = date.and_time(NaiveTime::MIN).checked_sub_offset(offset)?;
        Some(Day {
            key,
            offset,
            utc_date: midnight.date(),
            next_utc_date: midnight.date().succ_opt(),
            midnight_seconds: midnight.time().num_seconds_from_midnight(),
        })
    }
}

/// `2019-04-03 08:12:00 +0800`, read by position; `day` is the date read last.
pub(super) fn apple_time(text: &str, day: &mut Option<Day>) -> Option<DateTime<FixedOffset>> {
    let b = text.as_bytes();
    let Some((&[y1, y2, y3, y4, b'-', mo1, mo2, b'-', d1, d2, b' '], b)) = b.split_first_chunk()
    else {
        return None;
    };
    let Some((&[h1, h2, b':', mi1, mi2, b':', s1, s2, b' '], b)) = b.split_first_chunk() else {
        return None;
    };
    let &[sign, oh1, oh2, om1, om2] = b else {
        return None;
    };
    let (hours, minutes, seconds) = (two(h1, h2)?, two(mi1, mi2)?, two(s1, s2)?);
    if hours >= 24 || minutes >= 60 || seconds >= 60 {
        return None;
    }
    let key = [y1, y2, y3, y4, mo1, mo2, d1, d2, sign, oh1, oh2, om1, om2];
    let d = match day {
        Some(d) if d.key == key => *d,
        _ => *day.insert(Day::new(key)?),
    };
    let since = d.midnight_seconds + (hours * 60 + minutes) * 60 + seconds;
    let (date, since) = if since < DAY_SECONDS {
        (d.utc_date, since)
    } else {
        (d.next_utc_date?, since - DAY_SECONDS)
    };
    let time = NaiveTime::from_num_seconds_from_midnight_opt(since, 0)?;
    Some(DateTime::from_naive_utc_and_offset(
        NaiveDateTime::new(date, time),
        d.offset,
    ))
}
