//! Nightscout's entries, as its API and its exports write them: a JSON array of entries, each a
//! sensor reading (`type: "sgv"`, `sgv` in mg/dL, a number or a string) or a meter reading
//! (`"mbg"`), timed by `date` (ms since the epoch) with `utcOffset` (minutes), or by
//! `dateString`. Read element by element (`json_stream`): an export of years is never held
//! whole.
//!
//! Dexcom writes its error states as glucose values 0 to 12 (sensor not ready, calibration
//! needed, no antenna …): those are dropped and counted, never taken for readings. A value
//! below the plausible range (20 mg/dL) is kept as LO and above it (600) as HI.

use super::json_stream::{JsonValues, StreamError};
use super::{Export, ExportError, ExportOptions, ExportReport, Format};
use crate::glucose::{Glucose, GlucoseValue};
use crate::reading::{Context, Reading, Source};
use chrono::{DateTime, FixedOffset, TimeZone};
use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::io::Read;

/// The highest of Dexcom's error codes written as a glucose value.
const DEXCOM_ERROR_CODE_MAX: f64 = 12.0;

#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "type")]
    kind: Option<Kind>,
    sgv: Option<Num>,
    mbg: Option<Num>,
    date: Option<Num>,
    #[serde(rename = "dateString")]
    date_string: Option<Stamp>,
    #[serde(rename = "utcOffset")]
    utc_offset: Option<Num>,
}

/// `type`: what an entry is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sgv,
    Mbg,
    Cal,
    Other,
}

/// A number, written as one or as text; what it was when it is neither.
enum Num {
    Number(f64),
    NotANumber(String),
}

/// `dateString`, read as a time where it is one.
/// Kept as written and read as a time only where `date` and `utcOffset` do not say it: parsing
/// it for every entry was a third of the reader's time.
struct Stamp(Option<String>);

struct KindVisitor;

impl Visitor<'_> for KindVisitor {
    type Value = Kind;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an entry type")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Kind, E> {
        Ok(match v {
            "sgv" => Kind::Sgv,
            "mbg" => Kind::Mbg,
            "cal" => Kind::Cal,
            _ => Kind::Other,
        })
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Kind, D::Error> {
        // A type that is not text is no type this reads.
        d.deserialize_any(OrOther(KindVisitor, Kind::Other))
    }
}

struct NumVisitor;

impl Visitor<'_> for NumVisitor {
    type Value = Num;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a number")
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Num, E> {
        Ok(Num::Number(v))
    }
    #[expect(
        clippy::cast_precision_loss,
        reason = "glucose, ms and offsets are far below 2^53"
    )]
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Num, E> {
        Ok(Num::Number(v as f64))
    }
    #[expect(
        clippy::cast_precision_loss,
        reason = "glucose, ms and offsets are far below 2^53"
    )]
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Num, E> {
        Ok(Num::Number(v as f64))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Num, E> {
        Ok(match v.trim().parse::<f64>() {
            Ok(n) => Num::Number(n),
            Err(_) => Num::NotANumber(format!("\"{}\"", crate::text::excerpt(v))),
        })
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Num, D::Error> {
        d.deserialize_any(OrOther(
            NumVisitor,
            Num::NotANumber("a value of another type".into()),
        ))
    }
}

struct StampVisitor;

impl Visitor<'_> for StampVisitor {
    type Value = Stamp;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a time")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Stamp, E> {
        Ok(Stamp(Some(v.to_owned())))
    }
}

impl<'de> Deserialize<'de> for Stamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Stamp, D::Error> {
        d.deserialize_any(OrOther(StampVisitor, Stamp(None)))
    }
}

/// A visitor that takes what its inner visitor takes and, for any other JSON value (consumed
/// whole), gives the value beside it.
struct OrOther<V, T>(V, T);

impl<'de, V: Visitor<'de, Value = T>, T> Visitor<'de> for OrOther<V, T> {
    type Value = T;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.expecting(f)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
        self.0.visit_str::<E>(v).or(Ok(self.1))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<T, E> {
        self.0.visit_f64::<E>(v).or(Ok(self.1))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<T, E> {
        self.0.visit_i64::<E>(v).or(Ok(self.1))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<T, E> {
        self.0.visit_u64::<E>(v).or(Ok(self.1))
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<T, E> {
        Ok(self.1)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<T, E> {
        Ok(self.1)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(self.1)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(self.1)
    }
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
    };
    let stream_error = |e: StreamError| match e {
        StreamError::Io(e) => ExportError::Read {
            source_name: options.source_name.clone(),
            line: 0,
            message: e.to_string(),
        },
        StreamError::Shape { line, problem } => ExportError::Read {
            source_name: options.source_name.clone(),
            line,
            message: problem,
        },
        StreamError::Value { line, error } => ExportError::Read {
            source_name: options.source_name.clone(),
            line,
            message: error.to_string(),
        },
    };
    let mut json = JsonValues::new(input);
    let mut entries = json.open_array().map_err(|e| match e {
        StreamError::Shape { .. } => ExportError::NotThisFormat {
            source_name: options.source_name.clone(),
            format: Format::Nightscout,
            problem: "not a JSON array of entries".into(),
        },
        other => stream_error(other),
    })?;
    while let Some(MaybeEntry(entry)) = json.next_element(&mut entries).map_err(stream_error)? {
        state.report.rows += 1;
        let index = state.report.rows;
        state.take(index, entry)?;
    }
    json.finish().map_err(stream_error)?;
    Ok(Export {
        readings: state.readings,
        apart: Vec::new(),
        labs: Vec::new(),
        report: state.report,
    })
}

struct State<'o> {
    options: &'o ExportOptions,
    readings: Vec<Reading>,
    report: ExportReport,
}

/// An element as an entry where it is an object, else nothing (counted and dropped).
struct MaybeEntry(Option<Entry>);

impl<'de> Deserialize<'de> for MaybeEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<MaybeEntry, D::Error> {
        d.deserialize_any(EntryOrNot).map(MaybeEntry)
    }
}

/// An object is read as an entry; any other element is consumed and is none.
struct EntryOrNot;

impl<'de> Visitor<'de> for EntryOrNot {
    type Value = Option<Entry>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an entry")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<Entry>, A::Error> {
        Entry::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Some)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<Entry>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Option<Entry>, E> {
        Ok(None)
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Option<Entry>, E> {
        Ok(None)
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Option<Entry>, E> {
        Ok(None)
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Option<Entry>, E> {
        Ok(None)
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Option<Entry>, E> {
        Ok(None)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Option<Entry>, E> {
        Ok(None)
    }
}

fn number(v: &Num) -> Option<f64> {
    match v {
        Num::Number(n) => Some(*n),
        Num::NotANumber(_) => None,
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
        let (field, value, source) = match entry.kind {
            Some(Kind::Sgv) => ("sgv", entry.sgv.as_ref(), Source::Cgm),
            Some(Kind::Mbg) => ("mbg", entry.mbg.as_ref(), Source::Smbg),
            Some(Kind::Cal) => {
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
                    match value {
                        Num::NotANumber(t) => t.clone(),
                        Num::Number(n) => n.to_string(),
                    }
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
        let written = || {
            entry
                .date_string
                .as_ref()
                .and_then(|s| s.0.as_deref())
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        };
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
            let offset = match offset_minutes {
                Some(m) => FixedOffset::east_opt(m as i32 * 60),
                None => Some(written().map_or(chrono::Offset::fix(&chrono::Utc), |w| *w.offset())),
            };
            return offset
                .and_then(|o| o.timestamp_millis_opt(ms).single())
                .ok_or_else(|| self.error(index, "date", format!("{ms} is not a time")));
        }
        written().ok_or_else(|| {
            self.error(
                index,
                "date",
                "neither `date` (ms since 1970) nor `dateString` (RFC 3339) gives the time".into(),
            )
        })
    }
}
