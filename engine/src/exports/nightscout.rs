//! Nightscout's entries, as its API and its exports write them: a JSON array of entries, each a
//! sensor reading (`type: "sgv"`, `sgv` in mg/dL, a number or a string) or a meter reading
//! (`"mbg"`), timed by `date` (ms since the epoch) with `utcOffset` (minutes), or by
//! `dateString`. Read element by element: an export of years is never held whole.
//!
//! Dexcom writes its error states as glucose values 0 to 12 (sensor not ready, calibration
//! needed, no antenna …): those are dropped and counted, never taken for readings. A value
//! below the plausible range (20 mg/dL) is kept as LO and above it (600) as HI.

use super::{Export, ExportError, ExportOptions, ExportReport, Format};
use crate::glucose::{Glucose, GlucoseValue};
use crate::reading::{Context, Reading, Source};
use chrono::{DateTime, FixedOffset, TimeZone};
use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::io::Read;

/// The highest of Dexcom's error codes written as a glucose value.
const DEXCOM_ERROR_CODE_MAX: f64 = 12.0;

#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "type")]
    kind: Option<String>,
    sgv: Option<Value>,
    mbg: Option<Value>,
    date: Option<Value>,
    #[serde(rename = "dateString")]
    date_string: Option<String>,
    #[serde(rename = "utcOffset")]
    utc_offset: Option<Value>,
}

/// Reads a Nightscout entries array.
pub fn read_nightscout(input: impl Read, options: &ExportOptions) -> Result<Export, ExportError> {
    let mut state = State {
        options,
        readings: Vec::new(),
        report: ExportReport {
            format: Some(Format::Nightscout),
            ..ExportReport::default()
        },
        failed: None,
    };
    let mut de = serde_json::Deserializer::from_reader(input);
    let read = (&mut de)
        .deserialize_seq(Entries(&mut state))
        .and_then(|()| de.end());
    if let Some(e) = state.failed.take() {
        return Err(e);
    }
    read.map_err(|e| {
        if e.is_data() && e.line() <= 1 && state.report.rows == 0 {
            ExportError::NotThisFormat {
                source_name: options.source_name.clone(),
                format: Format::Nightscout,
                problem: format!("not a JSON array of entries ({e})"),
            }
        } else {
            ExportError::Read {
                source_name: options.source_name.clone(),
                line: e.line() as u64,
                message: e.to_string(),
            }
        }
    })?;
    Ok(Export {
        readings: state.readings,
        apart: Vec::new(),
        report: state.report,
    })
}

struct State<'o> {
    options: &'o ExportOptions,
    readings: Vec<Reading>,
    report: ExportReport,
    /// The entry that stopped the read, with why.
    failed: Option<ExportError>,
}

struct Entries<'s, 'o>(&'s mut State<'o>);

impl<'de> Visitor<'de> for Entries<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of Nightscout entries")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let state = self.0;
        while let Some(entry) = seq.next_element_seed(EntrySeed)? {
            state.report.rows += 1;
            let index = state.report.rows;
            if let Err(e) = state.take(index, entry) {
                state.failed = Some(e);
                return Err(serde::de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

/// An element as an entry where it is an object, else nothing (counted and dropped).
struct EntrySeed;

impl<'de> DeserializeSeed<'de> for EntrySeed {
    type Value = Option<Entry>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Entry>, D::Error> {
        let value = Value::deserialize(d)?;
        Ok(serde_json::from_value(value).ok())
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl State<'_> {
    fn error(&self, index: u64, field: &'static str, problem: String) -> ExportError {
        ExportError::Entry {
            source_name: self.options.source_name.clone(),
            index,
            field,
            problem,
        }
    }

    fn take(&mut self, index: u64, entry: Option<Entry>) -> Result<(), ExportError> {
        let Some(entry) = entry else {
            self.report.drop("elements that are not entries");
            return Ok(());
        };
        let (field, value, source) = match entry.kind.as_deref() {
            Some("sgv") => ("sgv", entry.sgv.as_ref(), Source::Cgm),
            Some("mbg") => ("mbg", entry.mbg.as_ref(), Source::Smbg),
            Some("cal") => {
                self.report.drop("sensor calibration records (not glucose)");
                return Ok(());
            }
            _ => {
                self.report.drop("other entry types (not glucose)");
                return Ok(());
            }
        };
        let Some(value) = value else {
            return Err(self.error(index, field, "is missing".into()));
        };
        let Some(mg_dl) = number(value).filter(|v| v.is_finite()) else {
            return Err(self.error(
                index,
                field,
                format!(
                    "`{}` is not a glucose value in mg/dL",
                    crate::text::excerpt(&value.to_string())
                ),
            ));
        };
        if (0.0..=DEXCOM_ERROR_CODE_MAX).contains(&mg_dl) {
            self.report.drop("Dexcom error codes (0–12), not readings");
            return Ok(());
        }
        let glucose = match Glucose::from_mg_dl(mg_dl) {
            Ok(g) => GlucoseValue::Measured(g),
            Err(_) if mg_dl < 20.0 && mg_dl > 0.0 => {
                self.report.kept_as_lo += 1;
                GlucoseValue::Low
            }
            Err(_) if mg_dl > 600.0 => {
                self.report.kept_as_hi += 1;
                GlucoseValue::High
            }
            Err(e) => return Err(self.error(index, field, e.to_string())),
        };
        let time = self.time(index, &entry)?;
        self.readings.push(Reading {
            time,
            value: glucose,
            context: Context::Unknown,
            source,
        });
        self.report.kept += 1;
        Ok(())
    }

    /// `date` with `utcOffset`, else `dateString` with the offset it writes.
    fn time(&self, index: u64, entry: &Entry) -> Result<DateTime<FixedOffset>, ExportError> {
        let offset_minutes = entry
            .utc_offset
            .as_ref()
            .and_then(number)
            .filter(|m| m.abs() <= 18.0 * 60.0);
        let written = entry
            .date_string
            .as_deref()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok());
        if let Some(ms) = entry
            .date
            .as_ref()
            .and_then(number)
            .filter(|ms| ms.fract() == 0.0)
        {
            // INVARIANT: a whole number of ms, checked above; beyond i64 it fails below.
            #[expect(
                clippy::cast_possible_truncation,
                reason = "a whole number, range-checked by chrono"
            )]
            let ms = ms as i64;
            #[expect(clippy::cast_possible_truncation, reason = "at most 18 hours")]
            let offset = match (offset_minutes, written) {
                (Some(m), _) => FixedOffset::east_opt(m as i32 * 60),
                (None, Some(w)) => Some(*w.offset()),
                (None, None) => FixedOffset::east_opt(0),
            };
            return offset
                .and_then(|o| o.timestamp_millis_opt(ms).single())
                .ok_or_else(|| self.error(index, "date", format!("{ms} is not a time")));
        }
        written.ok_or_else(|| {
            self.error(
                index,
                "date",
                "neither `date` (ms since 1970) nor `dateString` (RFC 3339) gives the time".into(),
            )
        })
    }
}
