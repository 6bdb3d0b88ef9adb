//! Medtronic CareLink's CSV export: `;`-separated with decimal commas, a preamble about the
//! patient and the report, then one section per device — a line `-------;Guardian Connect;
//! Pump;…` and the section's own `Index;Date;Time;…` header — newest row first. The pump's
//! section carries finger-stick readings (`BG Reading`), the sensor's its readings (`Sensor
//! Glucose`): two sources, kept as such. `Date` (`2021/07/25`) and `Time` are apart and local,
//! without an offset.

use super::local_time::LocalClock;
use super::{Export, ExportError, ExportOptions, ExportReport, Format};
use crate::glucose::{GlucoseUnit, GlucoseValue};
use crate::reading::{Context, Reading, Source};
use chrono::NaiveDateTime;
use std::io::Read;

/// Where a section's fields are.
struct Section {
    date: usize,
    time: usize,
    /// (column, unit, source, field name)
    values: Vec<(usize, GlucoseUnit, Source, &'static str)>,
    calibration: Option<usize>,
}

fn section(header: &csv::StringRecord) -> Option<Section> {
    let find = |name: &str| header.iter().position(|h| h.trim() == name);
    let mut values = Vec::new();
    for (name, unit, source) in [
        ("Sensor Glucose (mg/dL)", GlucoseUnit::MgDl, Source::Cgm),
        ("Sensor Glucose (mmol/L)", GlucoseUnit::MmolL, Source::Cgm),
        ("BG Reading (mg/dL)", GlucoseUnit::MgDl, Source::Smbg),
        ("BG Reading (mmol/L)", GlucoseUnit::MmolL, Source::Smbg),
    ] {
        if let Some(i) = find(name) {
            values.push((i, unit, source, name));
        }
    }
    Some(Section {
        date: find("Date")?,
        time: find("Time")?,
        values,
        calibration: find("Sensor Calibration BG (mg/dL)")
            .or_else(|| find("Sensor Calibration BG (mmol/L)")),
    })
}

/// Reads a CareLink export of one patient's data.
pub fn read_carelink(input: impl Read, options: &ExportOptions) -> Result<Export, ExportError> {
    let format = Format::CareLink;
    let source_name = || options.source_name.clone();
    let zone = options.zone_for(format)?;
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    // Newest first: a repeated local hour is read backwards.
    let mut clock = LocalClock::descending(zone);
    let mut report = ExportReport {
        format: Some(format),
        ..ExportReport::default()
    };
    let mut readings = Vec::new();
    let mut current: Option<Section> = None;
    let mut sections = 0_u32;
    let mut record = csv::StringRecord::new();
    while let Some(line) = options.next_record(&mut csv, &mut record)? {
        let first = record.get(0).unwrap_or_default().trim();
        if first.starts_with("-------") {
            current = None;
            continue;
        }
        if first == "Index" {
            current = section(&record);
            sections += 1;
            continue;
        }
        let Some(s) = &current else {
            // The preamble: the patient, the report's dates, a remark.
            continue;
        };
        report.rows += 1;
        let row_error = |field: &'static str, problem: String| ExportError::Row {
            source_name: source_name(),
            line,
            field,
            problem,
        };
        let found = s.values.iter().find_map(|(i, unit, source, name)| {
            let text = record.get(*i).unwrap_or_default().trim();
            (!text.is_empty()).then_some((text, *unit, *source, *name))
        });
        let Some((text, unit, source, name)) = found else {
            let calibration = s
                .calibration
                .is_some_and(|i| !record.get(i).unwrap_or_default().trim().is_empty());
            report.drop(if calibration {
                "sensor calibrations (their finger-stick is a BG Reading row)"
            } else {
                "pump and sensor events (not glucose)"
            });
            continue;
        };
        // Decimal commas: `5,6` is 5.6.
        let value = GlucoseValue::parse(&text.replace(',', "."), unit)
            .map_err(|e| row_error(name, e.to_string()))?;
        match value {
            GlucoseValue::Low => report.kept_as_lo += 1,
            GlucoseValue::High => report.kept_as_hi += 1,
            GlucoseValue::Measured(_) => {}
        }
        let date = record.get(s.date).unwrap_or_default().trim();
        let time = record.get(s.time).unwrap_or_default().trim();
        let local = NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y/%m/%d %H:%M:%S")
            .or_else(|_| {
                NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%d.%m.%Y %H:%M:%S")
            })
            .map_err(|_| {
                row_error(
                    "Date",
                    format!(
                        "`{} {}` is not a date and time such as 2021/07/25 09:35:28",
                        crate::text::excerpt(date),
                        crate::text::excerpt(time)
                    ),
                )
            })?;
        let at = clock
            .instant(local)
            .ok_or_else(|| row_error("Time", format!("{local} cannot be placed in {zone}")))?;
        readings.push(Reading {
            time: at,
            value,
            context: Context::Unknown,
            source,
        });
        report.kept += 1;
    }
    if sections == 0 {
        return Err(ExportError::NotThisFormat {
            source_name: source_name(),
            format,
            problem: "no section header (`Index;Date;Time;…`)".into(),
        });
    }
    report.local_times_skipped_by_the_zone = clock.in_gap;
    report.local_times_repeated_by_the_zone = clock.in_overlap;
    Ok(Export {
        readings,
        apart: Vec::new(),
        labs: Vec::new(),
        report,
    })
}
