//! Glucose data as devices and apps export it, read as it comes: each reader streams its
//! format and returns the readings with a report of what it kept and, by reason, what it
//! dropped — nothing leaves unseen. [`detect`] tells the format from the file's first bytes.
//!
//! The engine does no I/O: the caller opens the file and hands over a [`std::io::Read`].
//! Exports that write local time without an offset need the zone the device was in
//! ([`ExportOptions::zone`]); a reader refuses to guess it.

mod apple_health;
mod carelink;
mod dexcom;
mod fhir;
mod json_stream;
mod libre;
mod local_time;
mod nightscout;
mod sibionics;

pub use apple_health::read_apple_health;
pub use carelink::read_carelink;
pub use dexcom::read_dexcom_clarity;
pub use fhir::{FhirExport, Identifier, Person, read_fhir};
pub use libre::read_libreview;
pub use local_time::LocalClock;
pub use nightscout::read_nightscout;
pub use sibionics::read_sibionics;

use crate::lab::LabResult;
use crate::reading::Reading;
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// A format a readings file may be in. Written (in reports, in JSON) by the name
/// `--readings-format` takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    /// `incentive`'s own CSV (product.md): `member_id`, `time` with its offset, a value column.
    IncentiveCsv,
    /// Dexcom Clarity's CSV export.
    DexcomClarity,
    /// Nightscout's entries (its API's JSON and its exports).
    Nightscout,
    /// LibreView's CSV export (FreeStyle Libre), US and EU layouts.
    LibreView,
    /// Medtronic CareLink's CSV export.
    CareLink,
    /// HL7 FHIR R4 JSON: an Observation, a Bundle of them, or NDJSON (FHIR bulk data).
    Fhir,
    /// Apple Health's `export.xml`.
    AppleHealth,
    /// The SiBionics app's export: an Excel workbook (.xlsx, often named .xls).
    SiBionics,
}

impl Format {
    pub const ALL: [Format; 8] = [
        Format::IncentiveCsv,
        Format::DexcomClarity,
        Format::Nightscout,
        Format::LibreView,
        Format::CareLink,
        Format::Fhir,
        Format::AppleHealth,
        Format::SiBionics,
    ];

    /// The name `--readings-format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::IncentiveCsv => "incentive-csv",
            Format::DexcomClarity => "dexcom-clarity",
            Format::Nightscout => "nightscout",
            Format::LibreView => "libreview",
            Format::CareLink => "carelink",
            Format::Fhir => "fhir",
            Format::AppleHealth => "apple-health",
            Format::SiBionics => "sibionics",
        }
    }

    pub fn parse(name: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|f| f.name()).collect();
                format!(
                    "`{}` is not a readings format (formats: {})",
                    crate::text::excerpt(name),
                    names.join(", ")
                )
            })
    }
}

impl Serialize for Format {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `\n`s in `bytes`, counted in blocks of 255 into a byte, which the compiler vectorises: the
/// lines a reader names in messages, counted a buffer at a time.
pub(crate) fn count_newlines(bytes: &[u8]) -> u64 {
    bytes
        .chunks(255)
        .map(|block| {
            let n = block
                .iter()
                .fold(0u8, |n, &b| n.wrapping_add(u8::from(b == b'\n')));
            u64::from(n)
        })
        .sum()
}

/// Bytes of a file's start [`detect`] reads.
pub const DETECT_BYTES: usize = 4096;

/// The format of a file from its first bytes (at most [`DETECT_BYTES`]), or `None`.
pub fn detect(head: &[u8]) -> Option<Format> {
    // An Excel workbook is a zip archive, whatever its name says; the only one read is
    // SiBionics' export.
    if head.starts_with(b"PK\x03\x04") {
        return Some(Format::SiBionics);
    }
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}');
    let first = text.lines().next().unwrap_or_default().to_ascii_lowercase();
    if first.contains("event type") && first.contains("timestamp (yyyy-mm-ddthh:mm:ss)") {
        return Some(Format::DexcomClarity);
    }
    if text
        .lines()
        .take(20)
        .any(|l| l.starts_with("Index;Date;Time;") || l.starts_with("-------;") && l.contains(';'))
    {
        return Some(Format::CareLink);
    }
    if text
        .lines()
        .take(5)
        .any(|l| l.contains("Device Timestamp") && l.contains("Record Type"))
    {
        return Some(Format::LibreView);
    }
    let start = text.trim_start();
    // Apple's export.xml opens with a DTD of some 7 KB: its `<!DOCTYPE HealthData` comes first.
    if start.starts_with('<')
        && (text.contains("<!DOCTYPE HealthData") || text.contains("<HealthData"))
    {
        return Some(Format::AppleHealth);
    }
    if start.starts_with('{') && text.contains("\"resourceType\"") {
        return Some(Format::Fhir);
    }
    if start.starts_with('[')
        && (text.contains("\"sgv\"") || text.contains("\"mbg\"") || text.contains("\"dateString\""))
    {
        return Some(Format::Nightscout);
    }
    if first.contains("time") && first.contains("glucose") {
        return Some(Format::IncentiveCsv);
    }
    None
}

/// How to read an export.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    /// The name used in messages: the file's path, or `<stdin>`.
    pub source_name: String,
    /// The zone the device's clock was in, for exports without offsets.
    pub zone: Option<Tz>,
    /// The order of day and month in dates that do not say it (LibreView's 24-hour layout).
    pub date_order: Option<DateOrder>,
}

impl ExportOptions {
    /// The zone the device's clock was in, or the refusal naming the flag to give it.
    pub(crate) fn zone_for(&self, format: Format) -> Result<Tz, ExportError> {
        self.zone.ok_or_else(|| ExportError::NeedsZone {
            source_name: self.source_name.clone(),
            format,
        })
    }

    pub(crate) fn not_this(&self, format: Format, problem: String) -> ExportError {
        ExportError::NotThisFormat {
            source_name: self.source_name.clone(),
            format,
            problem,
        }
    }

    /// The next record of a CSV export into `record`, with the line it starts on; `None` at
    /// the end.
    pub(crate) fn next_record<R: std::io::Read>(
        &self,
        csv: &mut csv::Reader<R>,
        record: &mut csv::StringRecord,
    ) -> Result<Option<u64>, ExportError> {
        let line = csv.position().line();
        match csv.read_record(record) {
            Ok(true) => Ok(Some(line)),
            Ok(false) => Ok(None),
            Err(e) => Err(ExportError::Read {
                source_name: self.source_name.clone(),
                line,
                message: e.to_string(),
            }),
        }
    }
}

/// Which comes first in a date such as `05-12-2019`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateOrder {
    /// `05-12-2019` is 5 December (`--date-order dmy`).
    DayFirst,
    /// `05-12-2019` is 12 May (`--date-order mdy`).
    MonthFirst,
}

impl DateOrder {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "dmy" => Ok(Self::DayFirst),
            "mdy" => Ok(Self::MonthFirst),
            other => Err(format!(
                "`{}` is not a date order (dmy: day first; mdy: month first)",
                crate::text::excerpt(other)
            )),
        }
    }
}

/// What a reader did with every row. `rows = kept + kept_apart + kept_labs + Σ dropped`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ExportReport {
    pub format: Option<Format>,
    pub rows: u64,
    pub kept: u64,
    /// Of those kept, the readings below or above the device's range, kept as `LO`/`HI`.
    pub kept_as_lo: u64,
    pub kept_as_hi: u64,
    /// Readings kept apart from the rest, and why (LibreView's scans beside its trace).
    pub kept_apart: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept_apart_why: Option<String>,
    /// Laboratory results kept (HbA1c), beside the readings.
    #[serde(skip_serializing_if = "is_zero")]
    pub kept_labs: u64,
    /// Rows dropped, by reason in words.
    pub dropped: BTreeMap<String, u64>,
    /// Local times the zone skipped (read with the offset before the change) and repeats
    /// (read in the file's order).
    pub local_times_skipped_by_the_zone: u64,
    pub local_times_repeated_by_the_zone: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl ExportReport {
    pub(crate) fn drop(&mut self, reason: &str) {
        *self.dropped.entry(reason.to_owned()).or_default() += 1;
    }

    /// The report in one line, for a person: `dexcom-clarity: 2,859 rows: 2,855 kept (33 as
    /// LO, 317 as HI); dropped 4 (patient or device information)`.
    pub fn summary(&self) -> String {
        let format = self.format.map_or("readings", Format::name);
        let mut out = format!("{format}: {} rows: {} kept", self.rows, self.kept);
        if self.kept_as_lo + self.kept_as_hi > 0 {
            out.push_str(&format!(
                " ({} as LO, {} as HI)",
                self.kept_as_lo, self.kept_as_hi
            ));
        }
        if self.kept_labs > 0 {
            out.push_str(&format!("; {} HbA1c results kept as labs", self.kept_labs));
        }
        if let Some(why) = &self.kept_apart_why {
            out.push_str(&format!("; {} kept apart: {why}", self.kept_apart));
        }
        let dropped: u64 = self.dropped.values().sum();
        if dropped > 0 {
            let reasons: Vec<String> = self
                .dropped
                .iter()
                .map(|(why, n)| format!("{n} {why}"))
                .collect();
            out.push_str(&format!("; dropped {dropped}: {}", reasons.join(", ")));
        }
        for (n, what) in [
            (
                self.local_times_skipped_by_the_zone,
                "local times the zone skipped (read with the offset before the change)",
            ),
            (
                self.local_times_repeated_by_the_zone,
                "local times the zone repeats (read in the file's order)",
            ),
        ] {
            if n > 0 {
                out.push_str(&format!("; {n} {what}"));
            }
        }
        out
    }
}

/// The readings of an export and what was done with every row.
#[derive(Clone, Debug, Default)]
pub struct Export {
    pub readings: Vec<Reading>,
    /// Readings kept apart from `readings` (see [`ExportReport::kept_apart_why`]).
    pub apart: Vec<Reading>,
    /// HbA1c results (health systems' exports).
    pub labs: Vec<LabResult>,
    pub report: ExportReport,
}

/// Reads an export about one person in `format`. A FHIR export about several patients is
/// refused here (see [`read_fhir`] for one about many).
pub fn read(
    format: Format,
    input: impl std::io::Read,
    options: &ExportOptions,
) -> Result<Export, ExportError> {
    match format {
        Format::DexcomClarity => read_dexcom_clarity(input, options),
        Format::LibreView => read_libreview(input, options),
        Format::CareLink => read_carelink(input, options),
        Format::Nightscout => read_nightscout(input, options),
        Format::Fhir => read_fhir(input, options)?.about_one_person(options),
        Format::AppleHealth => read_apple_health(input, options),
        Format::SiBionics => read_sibionics(input, options),
        Format::IncentiveCsv => Err(options.not_this(
            format,
            "the product's own CSV is read by its own reader".into(),
        )),
    }
}

/// Why an export could not be read. Nothing from it is kept.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    #[error(
        "{source_name}: {format} writes local times without an offset: give the zone the device was in with --tz (such as --tz Europe/Berlin)"
    )]
    NeedsZone { source_name: String, format: Format },
    #[error("{source_name}: not a {format} export: {problem}")]
    NotThisFormat {
        source_name: String,
        format: Format,
        problem: String,
    },
    #[error("{source_name}: line {line}, field `{field}`: {problem}")]
    Row {
        source_name: String,
        line: u64,
        field: &'static str,
        problem: String,
    },
    #[error("{source_name}: entry {index}, field `{field}`: {problem}")]
    Entry {
        source_name: String,
        index: u64,
        field: &'static str,
        problem: String,
    },
    #[error(
        "{source_name}: the export is about {count} patients ({examples}): send it to the bulk route, or split it by patient"
    )]
    SeveralPeople {
        source_name: String,
        count: usize,
        examples: String,
    },
    #[error("{source_name}: line {line}: could not be read: {message}")]
    Read {
        source_name: String,
        line: u64,
        message: String,
    },
}
