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

    let mut taking = Taking {
        unit,
        zone,
        clock: LocalClock::new(zone),
        report: ExportReport {
            format: Some(format),
            ..ExportReport::default()
        },
        readings: Vec::new(),
        scans: Vec::new(),
        source_name: &options.source_name,
    };
    // The date order: as told, else from the first row that shows it. Rows before that one
    // wait, as text; every later row is read as it comes.
    let mut order = options.date_order;
    let mut waiting: Vec<Row> = Vec::new();
    while let Some(line) = options.next_record(&mut csv, &mut record)? {
        taking.report.rows += 1;
        let field = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or_default().trim();
        let (source, value) = match field(Some(kind)) {
            "0" => (Kind::Historic, field(Some(historic))),
            "1" => (Kind::Scan, field(scan)),
            "2" => (Kind::Strip, field(strip)),
            other => {
                taking.report.drop(match other {
                    "3" => "ketone records (not glucose)",
                    "4" => "insulin records (not glucose)",
                    "5" => "food records (not glucose)",
                    "6" => "notes and time changes (not glucose)",
                    _ => "other record types (not glucose)",
                });
                continue;
            }
        };
        let time_text = field(Some(time));
        order = order.or_else(|| shown_order(time_text));
        match order {
            None => waiting.push(Row {
                line,
                time: time_text.to_owned(),
                source,
                value: value.to_owned(),
            }),
            Some(o) => {
                for row in waiting.drain(..) {
                    taking.take(row.line, &row.time, row.source, &row.value, o)?;
                }
                taking.take(line, time_text, source, value, o)?;
            }
        }
    }
    if let Some(first) = waiting.first() {
        return Err(ExportError::Row {
            source_name: source_name(),
            line: first.line,
            field: TIME,
            problem: "its dates could be day first or month first (no part above 12); give the order with --date-order dmy or mdy".into(),
        });
    }
    let Taking {
        clock,
        mut report,
        readings,
        scans,
        ..
    } = taking;
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
        labs: Vec::new(),
        report,
    })
}

/// What the rows read so far made.
struct Taking<'o> {
    unit: GlucoseUnit,
    zone: chrono_tz::Tz,
    clock: LocalClock,
    report: ExportReport,
    readings: Vec<Reading>,
    scans: Vec<Reading>,
    source_name: &'o str,
}

impl Taking<'_> {
    /// Reads one glucose row in the file's date order.
    fn take(
        &mut self,
        line: u64,
        time: &str,
        source: Kind,
        value: &str,
        order: DateOrder,
    ) -> Result<(), ExportError> {
        let row_error = |field: &'static str, problem: String| ExportError::Row {
            source_name: self.source_name.to_owned(),
            line,
            field,
            problem,
        };
        let other = match order {
            DateOrder::DayFirst => DateOrder::MonthFirst,
            DateOrder::MonthFirst => DateOrder::DayFirst,
        };
        let local = match parse_time(time, order) {
            Some(t) => t,
            None if parse_time(time, other).is_some() => {
                return Err(row_error(TIME, "its dates put the day first in some rows and the month first in others; give the order with --date-order dmy or mdy".into()));
            }
            None => {
                return Err(row_error(
                    TIME,
                    format!(
                        "`{}` is not a time such as {}",
                        crate::text::excerpt(time),
                        match order {
                            DateOrder::MonthFirst => "12-05-2019 04:25 PM",
                            DateOrder::DayFirst => "05-12-2019 16:25",
                        }
                    ),
                ));
            }
        };
        let glucose = GlucoseValue::parse(value, self.unit).map_err(|e| {
            row_error(
                match source {
                    Kind::Historic => "Historic Glucose",
                    Kind::Scan => "Scan Glucose",
                    Kind::Strip => "Strip Glucose",
                },
                e.to_string(),
            )
        })?;
        let zone = self.zone;
        let at = self
            .clock
            .instant(local)
            .ok_or_else(|| row_error(TIME, format!("{local} cannot be placed in {zone}")))?;
        match glucose {
            GlucoseValue::Low => self.report.kept_as_lo += 1,
            GlucoseValue::High => self.report.kept_as_hi += 1,
            GlucoseValue::Measured(_) => {}
        }
        let reading = Reading {
            time: at,
            value: glucose,
            context: Context::Unknown,
            source: if source == Kind::Strip {
                Source::Smbg
            } else {
                Source::Cgm
            },
        };
        if source == Kind::Scan {
            self.scans.push(reading);
        } else {
            self.readings.push(reading);
        }
        Ok(())
    }
}

/// The date order one time shows: `AM`/`PM` (the US layout, month first), a first part above
/// 12 (a day: day first) or a second part above 12 (month first); else none.
fn shown_order(time: &str) -> Option<DateOrder> {
    let t = time.trim_end();
    let tail = t.len().checked_sub(2).and_then(|i| t.get(i..))?;
    if tail.eq_ignore_ascii_case("am") || tail.eq_ignore_ascii_case("pm") {
        return Some(DateOrder::MonthFirst);
    }
    let mut parts = t.split(['-', '/', '.']);
    let first: u32 = parts.next()?.trim().parse().ok()?;
    let second: u32 = parts.next()?.trim().parse().ok()?;
    if first > 12 {
        Some(DateOrder::DayFirst)
    } else if second > 12 {
        Some(DateOrder::MonthFirst)
    } else {
        None
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
