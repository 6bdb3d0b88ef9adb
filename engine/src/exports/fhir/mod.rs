//! HL7 FHIR R4 JSON, as health systems and the HL7 CGM implementation guide write it: an
//! Observation, a Bundle of resources (collection, transaction, searchset …), or NDJSON, one
//! resource a line (FHIR bulk data). A Bundle is read entry by entry: an export of years is
//! never held whole.
//!
//! What an Observation is comes from its LOINC code (`codes`): glucose (from a sensor, a
//! finger-stick, a laboratory) becomes a reading, HbA1c a laboratory result (IFCC mmol/mol
//! converted to NGSP percent), and the CGM IG's summaries (mean glucose, GMI, time in ranges)
//! are counted, never taken for readings. Each resource's unit is its own (UCUM). Observations
//! entered in error, cancelled or without a value are dropped and counted; Patient resources
//! say whom the data is about (`people`).

mod codes;
mod people;
mod resource;

pub use people::{Identifier, Person};

use super::json_stream::{JsonValues, StreamError};
use super::local_time::LocalClock;
use super::{Export, ExportError, ExportOptions, ExportReport, Format};
use crate::glucose::{Glucose, GlucoseValue};
use crate::lab::{Hba1c, LabResult};
use crate::reading::Reading;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use codes::{Hba1cUnit, Kind};
use people::{Gathering, Subject};
use resource::{Entry, IdentifierJson, Quantity, Reference, Resource};
use std::io::Read;
use std::str::FromStr;

/// A FHIR export, by the person the data is about.
#[derive(Clone, Debug, Default)]
pub struct FhirExport {
    /// Each person's readings and labs (their `report` is empty: the export's is below).
    pub people: Vec<(Person, Export)>,
    pub report: ExportReport,
}

impl FhirExport {
    /// The export as one person's: data without a subject is theirs; data about two
    /// different patients is refused, so one member is never given another's readings.
    pub fn about_one_person(self, options: &ExportOptions) -> Result<Export, ExportError> {
        let named: Vec<&Person> = self
            .people
            .iter()
            .map(|(p, _)| p)
            .filter(|p| !p.is_nobody())
            .collect();
        if named.len() > 1 {
            return Err(ExportError::SeveralPeople {
                source_name: options.source_name.clone(),
                count: named.len(),
                examples: named
                    .iter()
                    .take(3)
                    .map(|p| p.describe())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        // The first person's readings are moved, not copied: an export is mostly one person's.
        let mut people = self.people.into_iter().map(|(_, export)| export);
        let mut out = Export {
            report: self.report,
            ..people.next().unwrap_or_default()
        };
        for export in people {
            out.readings.extend(export.readings);
            out.labs.extend(export.labs);
        }
        Ok(out)
    }
}

/// Reads FHIR JSON: one resource, a Bundle, or NDJSON.
pub fn read_fhir(input: impl Read, options: &ExportOptions) -> Result<FhirExport, ExportError> {
    let mut state = State {
        options,
        report: ExportReport {
            format: Some(Format::Fhir),
            ..ExportReport::default()
        },
        gathering: Gathering::default(),
        clock: options.zone.map(LocalClock::new),
    };
    let mut json = JsonValues::new(input);
    let mut values = 0_u64;
    // One resource, or resources one after another (NDJSON).
    while json.peek().map_err(|e| stream_error(options, e))?.is_some() {
        values += 1;
        if let Err(e) = read_resource(&mut json, &mut state) {
            return Err(match e {
                Stopped::Export(e) => e,
                Stopped::Stream(StreamError::Shape { .. })
                    if values == 1 && state.report.rows == 0 =>
                {
                    options.not_this(
                        Format::Fhir,
                        "not FHIR JSON (a resource is a JSON object with a resourceType)".into(),
                    )
                }
                Stopped::Stream(e) => stream_error(options, e),
            });
        }
    }
    if values == 0 {
        return Err(options.not_this(Format::Fhir, "it is empty".into()));
    }
    if let Some(clock) = &state.clock {
        state.report.local_times_skipped_by_the_zone = clock.in_gap;
        state.report.local_times_repeated_by_the_zone = clock.in_overlap;
    }
    Ok(FhirExport {
        people: state.gathering.by_person(),
        report: state.report,
    })
}

struct State<'o> {
    options: &'o ExportOptions,
    report: ExportReport,
    gathering: Gathering,
    /// Places times written without an offset, when a zone was given.
    clock: Option<LocalClock>,
}

/// Why reading stopped: the export's own error, or the stream's.
enum Stopped {
    Export(ExportError),
    Stream(StreamError),
}

impl From<StreamError> for Stopped {
    fn from(e: StreamError) -> Self {
        Self::Stream(e)
    }
}

impl From<ExportError> for Stopped {
    fn from(e: ExportError) -> Self {
        Self::Export(e)
    }
}

fn stream_error(options: &ExportOptions, e: StreamError) -> ExportError {
    let (line, message) = match e {
        StreamError::Io(e) => (0, e.to_string()),
        StreamError::Shape { line, problem } => (line, problem),
        StreamError::Value { line, error } => (line, error.to_string()),
    };
    ExportError::Read {
        source_name: options.source_name.clone(),
        line,
        message,
    }
}

/// One top-level resource, its fields read one by one: a Bundle's `entry` array is taken an
/// entry at a time (an export of years is never held whole), the other fields kept as their
/// text, to read the resource from once the object is closed (as text, not as
/// `serde_json::Value` trees: bulk data's NDJSON is millions of small resources).
fn read_resource<R: Read>(json: &mut JsonValues<R>, state: &mut State<'_>) -> Result<(), Stopped> {
    // Most resources say what they are first: one that is not a Bundle is read whole, at once.
    if resource_type_first(json.lookahead(RESOURCE_TYPE_LOOKAHEAD_BYTES)?)
        .is_some_and(|t| t != b"Bundle")
    {
        let resource: Resource = json.value()?;
        state.take(None, resource)?;
        return Ok(());
    }
    json.expect(b'{', "a resource (a JSON object)")?;
    let mut fields = String::from("{");
    let mut is_bundle = false;
    let mut streamed = false;
    let mut first = true;
    loop {
        match json.peek()? {
            Some(b'}') => {
                json.expect(b'}', "`}`")?;
                break;
            }
            Some(b',') if !first => json.expect(b',', "`,`")?,
            _ if first => {}
            _ => json.expect(b',', "`,` or `}` after a field")?,
        }
        first = false;
        let key: String = json.value()?;
        json.expect(b':', "`:` after a field's name")?;
        if key == "entry" {
            let mut entries = json.open_array()?;
            while let Some(entry) = json.next_element::<Entry>(&mut entries)? {
                state.entry(entry)?;
            }
            streamed = true;
        } else {
            let value: Box<serde_json::value::RawValue> = json.value()?;
            if key == "resourceType" {
                is_bundle = value.get() == "\"Bundle\"";
            }
            if fields.len() > 1 {
                fields.push(',');
            }
            // INVARIANT: a String's JSON is always written.
            fields.push_str(&serde_json::to_string(&key).unwrap_or_default());
            fields.push(':');
            fields.push_str(value.get());
        }
    }
    fields.push('}');
    if is_bundle || streamed {
        return Ok(());
    }
    let resource = serde_json::from_str::<Resource>(&fields)
        .map_err(|e| state.error(state.report.rows + 1, "resource", e.to_string()))?;
    state.take(None, resource)?;
    Ok(())
}

/// Bytes looked at for a resource's leading `"resourceType"`.
const RESOURCE_TYPE_LOOKAHEAD_BYTES: usize = 256;

/// The resource type of `{"resourceType": "…"` at the start of `bytes`, as written.
fn resource_type_first(bytes: &[u8]) -> Option<&[u8]> {
    let trim = |b: &[u8]| -> usize { b.iter().take_while(|c| c.is_ascii_whitespace()).count() };
    let mut rest = bytes.strip_prefix(b"{")?;
    rest = rest.get(trim(rest)..)?.strip_prefix(b"\"resourceType\"")?;
    rest = rest.get(trim(rest)..)?.strip_prefix(b":")?;
    rest = rest.get(trim(rest)..)?.strip_prefix(b"\"")?;
    let end = rest.iter().position(|c| *c == b'"' || *c == b'\\')?;
    rest.get(..end)
}

/// Statuses whose value stands: the result, as first given or as changed since.
const STANDING: [&str; 4] = ["final", "amended", "corrected", "preliminary"];

impl State<'_> {
    fn error(&self, index: u64, field: &'static str, problem: String) -> ExportError {
        ExportError::Entry {
            source_name: self.options.source_name.clone(),
            index,
            field,
            problem,
        }
    }

    fn entry(&mut self, entry: Entry) -> Result<(), ExportError> {
        match entry.resource {
            Some(resource) => self.take(entry.full_url, resource),
            None => {
                self.report.rows += 1;
                self.report.drop("entries without a resource");
                Ok(())
            }
        }
    }

    /// One resource: a row of the report.
    fn take(&mut self, full_url: Option<String>, r: Resource) -> Result<(), ExportError> {
        self.report.rows += 1;
        let index = self.report.rows;
        match r.resource_type.as_deref() {
            Some("Observation") => self.observation(index, r),
            Some("Patient") => {
                let identifiers = r
                    .identifier
                    .into_iter()
                    .flatten()
                    .filter_map(IdentifierJson::into_identifier)
                    .collect();
                self.gathering.patient(full_url, r.id, identifiers);
                self.report
                    .drop("patients (read for whom the data is about)");
                Ok(())
            }
            Some("Bundle") => {
                self.report
                    .drop("bundles inside the bundle (their entries read)");
                for entry in r.entry.into_iter().flatten() {
                    self.entry(entry)?;
                }
                Ok(())
            }
            Some(_) => {
                self.report
                    .drop("resources other than observations and patients");
                Ok(())
            }
            None => Err(self.error(index, "resourceType", "is missing".into())),
        }
    }

    fn observation(&mut self, index: u64, r: Resource) -> Result<(), ExportError> {
        match r.status.as_deref() {
            Some(s) if STANDING.contains(&s) => {}
            Some("entered-in-error") => {
                self.report.drop("observations entered in error");
                return Ok(());
            }
            Some("cancelled") => {
                self.report.drop("observations cancelled");
                return Ok(());
            }
            _ => {
                self.report
                    .drop("observations without a result yet (registered, unknown, no status)");
                return Ok(());
            }
        }
        let codings = r
            .code
            .iter()
            .flat_map(|c| c.coding.iter().flatten())
            .map(|c| (c.system.as_deref(), c.code.as_deref()));
        let kind = match codes::kind(codings) {
            None => {
                self.report
                    .drop("observations that are not glucose or HbA1c");
                return Ok(());
            }
            Some(Kind::Summary) => {
                self.report
                    .drop("CGM summaries (mean glucose, GMI, time in ranges …), not readings");
                return Ok(());
            }
            Some(kind) => kind,
        };
        if r.data_absent_reason.is_some() {
            self.report
                .drop("observations without a value (dataAbsentReason)");
            return Ok(());
        }
        let Some(time) = self.time(index, &r)? else {
            self.report.drop(match kind {
                Kind::Hba1c => {
                    "HbA1c results dated by day only (placed on their day when a zone is given)"
                }
                _ => "glucose observations dated by day only, not readings",
            });
            return Ok(());
        };
        let Some(quantity) = r.value_quantity else {
            return Err(self.error(
                index,
                "valueQuantity",
                "is missing: a glucose or HbA1c observation carries its value as a quantity".into(),
            ));
        };
        let Some(unit) = quantity.code.as_deref().or(quantity.unit.as_deref()) else {
            return Err(self.error(index, "valueQuantity.code", "is missing: the unit".into()));
        };
        let subject = subject_of(r.subject);
        match kind {
            Kind::Glucose { source, context } => {
                let value = self.glucose(index, &quantity, unit)?;
                self.gathering.about(subject, |e| {
                    e.readings.push(Reading {
                        time,
                        value,
                        context,
                        source,
                    });
                });
                self.report.kept += 1;
            }
            Kind::Hba1c => {
                let hba1c = self.hba1c(index, &quantity, unit)?;
                self.gathering
                    .about(subject, |e| e.labs.push(LabResult { time, hba1c }));
                self.report.kept_labs += 1;
            }
            Kind::Summary => {}
        }
        Ok(())
    }

    /// When the observation was made: `effectiveDateTime`, `effectiveInstant` or
    /// `effectivePeriod.start`. `None` for a day without a time that cannot be placed.
    fn time(
        &mut self,
        index: u64,
        r: &Resource,
    ) -> Result<Option<DateTime<FixedOffset>>, ExportError> {
        let (field, text) = match (
            &r.effective_date_time,
            &r.effective_instant,
            r.effective_period.as_ref().and_then(|p| p.start.as_ref()),
        ) {
            (Some(t), ..) => ("effectiveDateTime", t),
            (None, Some(t), _) => ("effectiveInstant", t),
            (None, None, Some(t)) => ("effectivePeriod.start", t),
            (None, None, None) => {
                return Err(self.error(
                    index,
                    "effectiveDateTime",
                    "is missing: the observation says not when it was made".into(),
                ));
            }
        };
        if let Ok(at) = DateTime::parse_from_rfc3339(text) {
            return Ok(Some(at));
        }
        let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok();
        let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
        match (local, day, self.clock.as_mut()) {
            // A time without its offset, which FHIR requires: placed in the zone given.
            (Some(local), _, Some(clock)) => clock.instant(local).map(Some).ok_or_else(|| {
                self.error(
                    index,
                    field,
                    format!("{local} cannot be placed in the zone"),
                )
            }),
            (Some(_), _, None) => Err(ExportError::NeedsZone {
                source_name: self.options.source_name.clone(),
                format: Format::Fhir,
            }),
            (None, Some(day), Some(clock)) => Ok(day
                .and_hms_opt(0, 0, 0)
                .and_then(|midnight| clock.instant(midnight))),
            (None, Some(_), None) => Ok(None),
            (None, None, _) if is_partial_date(text) => Ok(None),
            (None, None, _) => Err(self.error(
                index,
                field,
                format!(
                    "`{}` is not a FHIR dateTime such as 2024-05-02T10:15:00Z",
                    crate::text::excerpt(text)
                ),
            )),
        }
    }

    fn glucose(
        &mut self,
        index: u64,
        quantity: &Quantity,
        unit: &str,
    ) -> Result<GlucoseValue, ExportError> {
        let Some(unit) = codes::glucose_unit(unit) else {
            return Err(self.error(
                index,
                "valueQuantity.code",
                format!(
                    "`{}` is not a glucose unit this reads (mg/dL, mmol/L)",
                    crate::text::excerpt(unit)
                ),
            ));
        };
        // `<` and `>` are a meter's "below (above) what I can measure": its LO and HI.
        match quantity.comparator.as_deref() {
            Some("<" | "<=") => {
                self.report.kept_as_lo += 1;
                return Ok(GlucoseValue::Low);
            }
            Some(">" | ">=") => {
                self.report.kept_as_hi += 1;
                return Ok(GlucoseValue::High);
            }
            Some(other) => {
                return Err(self.error(
                    index,
                    "valueQuantity.comparator",
                    format!("`{}` is not a comparator", crate::text::excerpt(other)),
                ));
            }
            None => {}
        }
        let Some(value) = quantity.value.as_ref().and_then(serde_json::Number::as_f64) else {
            return Err(self.error(index, "valueQuantity.value", "is missing".into()));
        };
        let mg_dl = value * unit.mg_dl_factor();
        match Glucose::new(value, unit) {
            Ok(g) => Ok(GlucoseValue::Measured(g)),
            Err(_) if mg_dl > 0.0 && mg_dl < 20.0 => {
                self.report.kept_as_lo += 1;
                Ok(GlucoseValue::Low)
            }
            Err(_) if mg_dl > 600.0 => {
                self.report.kept_as_hi += 1;
                Ok(GlucoseValue::High)
            }
            Err(e) => Err(self.error(index, "valueQuantity.value", e.to_string())),
        }
    }

    fn hba1c(&self, index: u64, quantity: &Quantity, unit: &str) -> Result<Hba1c, ExportError> {
        let Some(scale) = codes::hba1c_unit(unit) else {
            return Err(self.error(
                index,
                "valueQuantity.code",
                format!(
                    "`{}` is not an HbA1c unit this reads (%, mmol/mol)",
                    crate::text::excerpt(unit)
                ),
            ));
        };
        let Some(number) = &quantity.value else {
            return Err(self.error(index, "valueQuantity.value", "is missing".into()));
        };
        // The number as written (`6.8`, not the nearest binary fraction to it).
        let text = number.to_string();
        let value = rust_decimal::Decimal::from_str(&text)
            .or_else(|_| rust_decimal::Decimal::from_scientific(&text))
            .map_err(|_| {
                self.error(
                    index,
                    "valueQuantity.value",
                    format!("{} is not an HbA1c", crate::text::excerpt(&text)),
                )
            })?;
        match scale {
            Hba1cUnit::Percent => Hba1c::from_percent(value),
            Hba1cUnit::IfccMmolMol => Hba1c::from_ifcc_mmol_mol(value),
        }
        .map_err(|e| self.error(index, "valueQuantity.value", e.to_string()))
    }
}

fn subject_of(subject: Option<Reference>) -> Subject {
    match subject {
        Some(Reference {
            reference: Some(r), ..
        }) => Subject::Reference(r),
        Some(Reference {
            identifier: Some(i),
            ..
        }) => i
            .into_identifier()
            .map_or(Subject::Nobody, Subject::Identifier),
        _ => Subject::Nobody,
    }
}

/// `2024` or `2024-05`: FHIR's dates of a year or a month.
fn is_partial_date(text: &str) -> bool {
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    match b.len() {
        4 => digits(0..4),
        7 => digits(0..4) && b.get(4) == Some(&b'-') && digits(5..7),
        _ => false,
    }
}
