//! Dexcom Clarity's CSV export: one row per event, the sensor's readings as `EGV` rows
//! (estimated glucose values) in mg/dL or mmol/L, `Low`/`High` where the reading was outside
//! the sensor's range, finger-stick `Calibration`s, and rows about the patient and the device.
//! Times are the device's local time, without an offset.

use super::local_time::LocalClock;
use super::{Export, ExportError, ExportOptions, ExportReport, Format};
use crate::glucose::{GlucoseUnit, GlucoseValue};
use crate::reading::{Context, Reading, Source};
use std::io::Read;

const TIME: &str = "Timestamp (YYYY-MM-DDThh:mm:ss)";
const EVENT: &str = "Event Type";

/// Event types that describe the patient or the device, not glucose.
const ABOUT_PATIENT_OR_DEVICE: [&str; 4] = ["FirstName", "LastName", "DateOfBirth", "Device"];
/// Event types Clarity writes that are not glucose readings, by name in the report.
const OTHER_EVENTS: [&str; 6] = ["Insulin", "Carbs", "Exercise", "Health", "Alert", "Notes"];

/// Reads a Clarity export of one patient's data.
pub fn read_dexcom_clarity(
    input: impl Read,
    options: &ExportOptions,
) -> Result<Export, ExportError> {
    let format = Format::DexcomClarity;
    let source_name = || options.source_name.clone();
    let zone = options.zone_for(format)?;
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(input);
    let header = csv
        .headers()
        .map_err(|e| ExportError::Read {
            source_name: source_name(),
            line: 1,
            message: e.to_string(),
        })?
        .clone();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}').trim() == name)
    };
    let not_this = |problem: String| options.not_this(format, problem);
    let time = column(TIME).ok_or_else(|| not_this(format!("no `{TIME}` column")))?;
    let event = column(EVENT).ok_or_else(|| not_this(format!("no `{EVENT}` column")))?;
    let (value, unit) = match (
        column("Glucose Value (mg/dL)"),
        column("Glucose Value (mmol/L)"),
    ) {
        (Some(c), _) => (c, GlucoseUnit::MgDl),
        (None, Some(c)) => (c, GlucoseUnit::MmolL),
        (None, None) => {
            return Err(not_this(
                "no `Glucose Value (mg/dL)` or `Glucose Value (mmol/L)` column".into(),
            ));
        }
    };
    let mut clock = LocalClock::new(zone);
    let mut report = ExportReport {
        format: Some(format),
        ..ExportReport::default()
    };
    let mut readings = Vec::new();
    let mut record = csv::StringRecord::new();
    while let Some(line) = options.next_record(&mut csv, &mut record)? {
        report.rows += 1;
        let kind = record.get(event).unwrap_or_default().trim();
        let source = match kind {
            "EGV" => Source::Cgm,
            "Calibration" => Source::Smbg,
            k if ABOUT_PATIENT_OR_DEVICE.contains(&k) => {
                report.drop("patient or device information");
                continue;
            }
            k if OTHER_EVENTS.contains(&k) => {
                report.drop(&format!("{} events (not glucose)", k.to_ascii_lowercase()));
                continue;
            }
            _ => {
                report.drop("other events (not glucose)");
                continue;
            }
        };
        let row_error = |field: &'static str, problem: String| ExportError::Row {
            source_name: source_name(),
            line,
            field,
            problem,
        };
        let text = record.get(time).unwrap_or_default().trim();
        let local = super::local_time::iso_local(text).ok_or_else(|| {
            row_error(
                TIME,
                format!(
                    "`{}` is not a time such as 2023-08-08T04:10:35",
                    crate::text::excerpt(text)
                ),
            )
        })?;
        let at = clock
            .instant(local)
            .ok_or_else(|| row_error(TIME, format!("{local} cannot be placed in {zone}")))?;
        let written = record.get(value).unwrap_or_default().trim();
        // Clarity writes `Low` and `High` where the sensor read outside its range.
        let glucose = match written {
            "Low" => {
                report.kept_as_lo += 1;
                GlucoseValue::Low
            }
            "High" => {
                report.kept_as_hi += 1;
                GlucoseValue::High
            }
            v => GlucoseValue::parse(v, unit).map_err(|e| {
                row_error(
                    if unit == GlucoseUnit::MgDl {
                        "Glucose Value (mg/dL)"
                    } else {
                        "Glucose Value (mmol/L)"
                    },
                    e.to_string(),
                )
            })?,
        };
        readings.push(Reading {
            time: at,
            value: glucose,
            context: Context::Unknown,
            source,
        });
        report.kept += 1;
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
