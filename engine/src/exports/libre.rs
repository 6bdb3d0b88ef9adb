//! LibreView's CSV export (FreeStyle Libre), US and EU layouts: a line or two about the report
//! above the header, then one row per record. `Record Type` 0 is the sensor's historic trace
//! (every 15 minutes), 1 a scan (a reading on demand: kept apart, not mixed into the trace,
//! where it would count the same quarter-hour twice), 2 a finger-stick strip, 3 ketones,
//! 4 insulin, 5 food, 6 notes and time changes. Times are the device's local time without an offset:
//! `MM-DD-YYYY hh:mm AM/PM` (US) or day-first `DD-MM-YYYY HH:MM` (EU). Values in mg/dL or
//! mmol/L as the columns say.

use super::local_time::LocalClock;
use super::{DateOrder, Export, ExportError, ExportOptions, ExportReport, Format};
use crate::glucose::{GlucoseUnit, GlucoseValue};
use crate::reading::{Context, Reading, Source};
use chrono::{NaiveDate, NaiveDateTime};
use std::io::Read;

const TIME: &str = "Device Timestamp";
const KIND: &str = "Record Type";
/// Lines a report may have above its header.
const PREAMBLE_LINES_MAX: usize = 5;

/// A row kept for a second look, once the file's date order is known.
struct Row {
    line: u64,
    time: String,
    source: Kind,
    value: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Historic,
    Scan,
    Strip,
}

/// Reads a LibreView export of one patient's data.
pub fn read_libreview(input: impl Read, options: &ExportOptions) -> Result<Export, ExportError> {
    let format = Format::LibreView;
    let source_name = || options.source_name.clone();
    let zone = options.zone_for(format)?;
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let not_this = |problem: String| options.not_this(format, problem);
    // The header: the first line naming the timestamp and the record type.
    let mut record = csv::StringRecord::new();
    let mut header = None;
    for _ in 0..PREAMBLE_LINES_MAX {
        if options.next_record(&mut csv, &mut record)?.is_none() {
            break;
        }
        if record.iter().any(|f| f.trim() == TIME) && record.iter().any(|f| f.trim() == KIND) {
            header = Some(record.clone());
            break;
        }
    }
    let header = header.ok_or_else(|| {
        not_this(format!(
            "no header with `{TIME}` and `{KIND}` in its first {PREAMBLE_LINES_MAX} lines"
        ))
    })?;
    let column = |prefix: &str| {
        header
            .iter()
            .position(|h| h.trim().starts_with(prefix))
            .map(|i| (i, header.get(i).unwrap_or_default().trim().to_owned()))
    };
    let time = column(TIME).map(|c| c.0).unwrap_or_default();
    let kind = column(KIND).map(|c| c.0).unwrap_or_default();
    let unit_of = |name: &str| {
        if name.ends_with("mmol/L") {
            Some(GlucoseUnit::MmolL)
        } else if name.ends_with("mg/dL") {
            Some(GlucoseUnit::MgDl)
        } else {
            None
        }
    };
    let (historic, historic_name) = column("Historic Glucose")
        .ok_or_else(|| not_this("no `Historic Glucose` column".into()))?;
    let unit = unit_of(&historic_name)
        .ok_or_else(|| not_this(format!("`{historic_name}` names no unit (mg/dL or mmol/L)")))?;
    let scan = column("Scan Glucose").map(|c| c.0);
    let strip = column("Strip Glucose").map(|c| c.0);

    let mut report = ExportReport {
        format: Some(format),
        ..ExportReport::default()
    };
    let mut rows = Vec::new();
    while let Some(line) = options.next_record(&mut csv, &mut record)? {
        report.rows += 1;
        let field = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or_default().trim();
        let (source, value) = match field(Some(kind)) {
            "0" => (Kind::Historic, field(Some(historic))),
            "1" => (Kind::Scan, field(scan)),
            "2" => (Kind::Strip, field(strip)),
            "3" => {
                report.drop("ketone records (not glucose)");
                continue;
            }
            "4" => {
                report.drop("insulin records (not glucose)");
                continue;
            }
            "5" => {
                report.drop("food records (not glucose)");
                continue;
            }
            "6" => {
                report.drop("notes and time changes (not glucose)");
                continue;
            }
            _ => {
                report.drop("other record types (not glucose)");
                continue;
            }
        };
        rows.push(Row {
            line,
            time: field(Some(time)).to_owned(),
            source,
            value: value.to_owned(),
        });
    }
    let order = date_order(&rows, options.date_order).map_err(|problem| ExportError::Row {
        source_name: source_name(),
        line: rows.first().map_or(0, |r| r.line),
        field: TIME,
        problem,
    })?;
    let mut clock = LocalClock::new(zone);
    let mut readings = Vec::with_capacity(rows.len());
    let mut scans = Vec::new();
    for row in rows {
        let row_error = |field: &'static str, problem: String| ExportError::Row {
            source_name: source_name(),
            line: row.line,
            field,
            problem,
        };
        let local = parse_time(&row.time, order).ok_or_else(|| {
            row_error(
                TIME,
                format!(
                    "`{}` is not a time such as {}",
                    crate::text::excerpt(&row.time),
                    match order {
                        DateOrder::MonthFirst => "12-05-2019 04:25 PM",
                        DateOrder::DayFirst => "05-12-2019 16:25",
                    }
                ),
            )
        })?;
        let value = GlucoseValue::parse(&row.value, unit).map_err(|e| {
            row_error(
                match row.source {
                    Kind::Historic => "Historic Glucose",
                    Kind::Scan => "Scan Glucose",
                    Kind::Strip => "Strip Glucose",
                },
                e.to_string(),
            )
        })?;
        match value {
            GlucoseValue::Low => report.kept_as_lo += 1,
            GlucoseValue::High => report.kept_as_hi += 1,
            GlucoseValue::Measured(_) => {}
        }
        let at = clock
            .instant(local)
            .ok_or_else(|| row_error(TIME, format!("{local} cannot be placed in {zone}")))?;
        let reading = Reading {
            time: at,
            value,
            context: Context::Unknown,
            source: if row.source == Kind::Strip {
                Source::Smbg
            } else {
                Source::Cgm
            },
        };
        if row.source == Kind::Scan {
            scans.push(reading);
        } else {
            readings.push(reading);
        }
    }
    report.kept = readings.len() as u64;
    report.kept_apart = scans.len() as u64;
    if !scans.is_empty() {
        report.kept_apart_why = Some("sensor scans, apart from the sensor's historic trace".into());
    }
    report.local_times_skipped_by_the_zone = clock.in_gap;
    report.local_times_repeated_by_the_zone = clock.in_overlap;
    Ok(Export {
        readings,
        apart: scans,
        report,
    })
}

/// The file's date order: as told, else `AM`/`PM` (the US layout, month first), else what its
/// dates show (a first part above 12 is a day, a second part above 12 a day too); refused when
/// nothing shows it.
fn date_order(rows: &[Row], told: Option<DateOrder>) -> Result<DateOrder, String> {
    if let Some(order) = told {
        return Ok(order);
    }
    let mut day_first = false;
    let mut month_first = false;
    for row in rows {
        let t = row.time.to_ascii_uppercase();
        if t.ends_with("AM") || t.ends_with("PM") {
            return Ok(DateOrder::MonthFirst);
        }
        let mut parts = t.split(['-', '/', '.']);
        let first: u32 = parts
            .next()
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(0);
        let second: u32 = parts
            .next()
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(0);
        day_first |= first > 12;
        month_first |= second > 12;
    }
    match (day_first, month_first) {
        (true, false) => Ok(DateOrder::DayFirst),
        (false, true) => Ok(DateOrder::MonthFirst),
        (true, true) => Err("its dates put the day first in some rows and the month first in others; give the order with --date-order dmy or mdy".into()),
        (false, false) => Err("its dates could be day first or month first (no part above 12); give the order with --date-order dmy or mdy".into()),
    }
}

fn parse_time(text: &str, order: DateOrder) -> Option<NaiveDateTime> {
    let (date, rest) = text.trim().split_once(' ')?;
    let mut parts = date.split(['-', '/', '.']);
    let (a, b, year): (u32, u32, i32) = (
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
    );
    let (month, day) = match order {
        DateOrder::MonthFirst => (a, b),
        DateOrder::DayFirst => (b, a),
    };
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let time = super::local_time::time_of_day(rest)?;
    Some(date.and_time(time))
}
