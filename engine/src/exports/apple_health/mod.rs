//! Apple Health's `export.xml` (inside the zip the Health app exports): a `<HealthData>` root
//! after a DOCTYPE with Apple's internal DTD, the export's date, the person (`<Me>`), then one
//! `<Record>` per sample of every kind the phone holds — steps, heart rate, sleep, food,
//! insulin … — with `<Workout>`s, `<ActivitySummary>`s and others between them. Blood glucose
//! is `type="HKQuantityTypeIdentifierBloodGlucose"` with its `unit`, `value` and `startDate`
//! (`2019-04-03 08:12:00 +0800`: the offset is written, so no zone is needed), and the meal
//! time, where one was given, as a `<MetadataEntry>` child.
//!
//! Exports of a few years are gigabytes, almost none of it glucose: the file is read event by
//! event, each record forgotten once counted, so memory does not grow with the file, only with
//! the readings kept. Every top-level `<Record>` is a row: glucose is kept, the rest dropped
//! and counted; the other elements are not rows. `<Me>` (birth date, sex) is not read.
//!
//! The DOCTYPE's internal subset is skipped as one piece of markup, never interpreted: no
//! entity it declares is expanded, so a file cannot make the reader build text it does not
//! hold. Only XML's own escapes (`&lt;` …) are read, in the attributes used.

mod markup;
mod time;

use markup::{Attributes, Counted, Line, markup};
use time::{Day, apple_time};

use super::{Export, ExportError, ExportOptions, ExportReport, Format};
use crate::glucose::{Glucose, GlucoseError, GlucoseUnit, GlucoseValue, PLAUSIBLE_MG_DL_MIN};
use crate::reading::{Context, Reading, Source};
use chrono::{DateTime, FixedOffset};
use quick_xml::events::{BytesStart, Event};
use std::borrow::Cow;
use std::io::{BufRead, Read};

const ROOT: &str = "HealthData";
const RECORD: &str = "Record";
const METADATA: &str = "MetadataEntry";
const BLOOD_GLUCOSE: &str = "HKQuantityTypeIdentifierBloodGlucose";
/// HealthKit's `HKMetadataKeyBloodGlucoseMealTime`, as the export names it: `1` preprandial,
/// `2` postprandial (`HKBloodGlucoseMealTime`), the only two values HealthKit defines.
const MEAL_TIME: &str = "HKBloodGlucoseMealTime";

const OTHER_RECORDS: &str = "other records (not glucose)";
const RECORDS_WITHOUT_TYPE: &str = "records without a type";

/// The most bytes one piece of markup (a tag, the DOCTYPE, the text between two tags) may
/// take. Apple's longest is the DOCTYPE, 7 KB (its tags are a few hundred bytes; routes, ECGs
/// and clinical records are files of their own beside export.xml); the cap keeps a damaged or
/// hostile file from making the reader buffer gigabytes looking for a `>`.
pub(super) const MARKUP_BYTES_MAX: u64 = 1 << 20;
/// The deepest nesting read. Apple's is four (`HealthData`, `Workout`, `WorkoutRoute`,
/// `MetadataEntry`). The parser keeps the name of every open element, so this and the cap
/// above bound what it holds (32 MiB at worst).
const DEPTH_MAX: usize = 32;
/// The input buffer: large enough that a record is rarely split between two reads.
const BUFFER_BYTES: usize = 64 << 10;

/// Reads Apple Health's `export.xml`.
pub fn read_apple_health(input: impl Read, options: &ExportOptions) -> Result<Export, ExportError> {
    let format = Format::AppleHealth;
    let mut input = Counted {
        input,
        buf: vec![0; BUFFER_BYTES],
        pos: 0,
        filled: 0,
        newlines_before: 0,
        in_markup: 0,
    };
    // The zip the Health app shares is the usual mistake: say what to give instead.
    let head = input.fill_buf().map_err(|e| ExportError::Read {
        source_name: options.source_name.clone(),
        line: 1,
        message: e.to_string(),
    })?;
    if head.starts_with(b"PK\x03\x04") {
        return Err(options.not_this(
            format,
            "a zip archive: unzip the Health app's export.zip and give its apple_health_export/export.xml".into(),
        ));
    }
    let mut xml = quick_xml::Reader::from_reader(input);
    // The whitespace between tags (half the events of a file indented as Apple's is) is
    // skipped, not returned.
    xml.config_mut().trim_text_start = true;
    xml.config_mut().check_end_names = true;
    let mut state = State {
        options,
        report: ExportReport {
            format: Some(format),
            ..ExportReport::default()
        },
        readings: Vec::new(),
        other_records: 0,
        day: None,
        depth: 0,
        root: Root::NotYet,
        pending: None,
    };
    let mut buf = Vec::new();
    loop {
        xml.get_mut().in_markup = 0;
        buf.clear();
        let read = xml.read_event_into(&mut buf);
        let event = match read {
            Ok(event) => event,
            Err(e) => {
                let line = Line {
                    input: xml.get_ref().lines(),
                    markup: &buf,
                };
                return Err(state.unreadable(line.get(), &e));
            }
        };
        let line = Line {
            input: xml.get_ref().lines(),
            markup: markup(&event),
        };
        match &event {
            Event::Start(e) => {
                state.element(e, line, false)?;
                state.depth += 1;
                if state.depth > DEPTH_MAX {
                    return Err(state.read_error(
                        line.get(),
                        format!("elements nested deeper than {DEPTH_MAX}: not Apple's layout"),
                    ));
                }
            }
            Event::Empty(e) => state.element(e, line, true)?,
            Event::End(_) => {
                state.depth = state.depth.saturating_sub(1);
                match state.depth {
                    0 => state.root = Root::Closed,
                    1 => state.finish_record(),
                    _ => {}
                }
            }
            Event::Text(t) => {
                if state.depth == 0 && !t.bytes().all(|b| b.is_ascii_whitespace()) {
                    state.outside_root(line.get(), "text")?;
                }
            }
            Event::CData(_) | Event::GeneralRef(_) => {
                if state.depth == 0 {
                    state.outside_root(line.get(), "text")?;
                }
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
            Event::Eof => break,
        }
    }
    match state.root {
        Root::NotYet => Err(options.not_this(format, "no `<HealthData>` root element".into())),
        Root::Open => Err(state.read_error(
            xml.get_ref().lines().get(),
            "the file ends before `</HealthData>`: the export was cut short (copy it again)".into(),
        )),
        Root::Closed => {
            let State {
                mut report,
                readings,
                other_records,
                ..
            } = state;
            // Counted apart from the report's map while reading: millions of them, and the
            // map's key is a `String`.
            if other_records > 0 {
                *report.dropped.entry(OTHER_RECORDS.to_owned()).or_default() += other_records;
            }
            Ok(Export {
                readings,
                apart: Vec::new(),
                labs: Vec::new(),
                report,
            })
        }
    }
}

/// Where the reader is with respect to `<HealthData>`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Root {
    NotYet,
    Open,
    Closed,
}

/// A glucose record whose children (its metadata) are still to come.
struct Pending {
    time: DateTime<FixedOffset>,
    value: GlucoseValue,
    context: Context,
}

struct State<'o> {
    options: &'o ExportOptions,
    report: ExportReport,
    readings: Vec<Reading>,
    /// Records of other types, added to `report.dropped` at the end.
    other_records: u64,
    /// The date of the glucose record read last.
    day: Option<Day>,
    /// Elements open around the reader.
    depth: usize,
    root: Root,
    pending: Option<Pending>,
}

impl State<'_> {
    fn read_error(&self, line: u64, message: String) -> ExportError {
        ExportError::Read {
            source_name: self.options.source_name.clone(),
            line,
            message,
        }
    }

    /// An attribute written twice in one tag: not XML.
    fn twice(&self, line: u64, field: &str) -> ExportError {
        self.read_error(
            line,
            format!("attribute `{field}` is written twice in one tag"),
        )
    }

    fn row_error(&self, line: u64, field: &'static str, problem: String) -> ExportError {
        ExportError::Row {
            source_name: self.options.source_name.clone(),
            line,
            field,
            problem,
        }
    }

    /// XML that does not parse: before the root, a file that is not an export (unless the
    /// input itself failed); after it, an export that is damaged.
    fn unreadable(&self, line: u64, e: &quick_xml::Error) -> ExportError {
        if self.root == Root::NotYet && !matches!(e, quick_xml::Error::Io(_)) {
            self.options.not_this(
                Format::AppleHealth,
                format!("not XML with a `<HealthData>` root (line {line}: {e})"),
            )
        } else {
            self.read_error(line, e.to_string())
        }
    }

    /// Content outside the root: before it, the file is something else; after it, the
    /// export is followed by something that is not part of it.
    fn outside_root(&self, line: u64, what: &str) -> Result<(), ExportError> {
        match self.root {
            Root::NotYet => Err(self.options.not_this(
                Format::AppleHealth,
                format!("{what} before any `<HealthData>` root (line {line})"),
            )),
            Root::Open | Root::Closed => Err(self.read_error(
                line,
                format!("{what} after `</HealthData>`: the export is followed by something else"),
            )),
        }
    }

    /// A start tag or an empty element at `self.depth`.
    fn element(
        &mut self,
        e: &BytesStart<'_>,
        line: Line<'_>,
        empty: bool,
    ) -> Result<(), ExportError> {
        let name = e.name();
        match self.depth {
            0 if self.root == Root::NotYet => {
                if name.as_ref() != ROOT {
                    let hint = if name.as_ref() == "ClinicalDocument" {
                        " (that is export_cda.xml; the zip's export.xml is the one to give)"
                    } else {
                        ""
                    };
                    return Err(self.options.not_this(
                        Format::AppleHealth,
                        format!(
                            "the root element is `<{}>`, not `<HealthData>`{hint}",
                            crate::text::excerpt(name.as_ref())
                        ),
                    ));
                }
                self.root = if empty { Root::Closed } else { Root::Open };
                Ok(())
            }
            0 => self.outside_root(line.get(), "an element"),
            // Only the root's own records are rows. A `<Correlation>` (blood pressure, food)
            // holds records that, as Apple's DTD says, "also appear as top-level records in
            // this document": reading them too would count them twice.
            1 if name.as_ref() == RECORD => {
                self.report.rows += 1;
                self.record(e, line, empty)
            }
            2 if self.pending.is_some() && name.as_ref() == METADATA => self.metadata(e, line),
            _ => Ok(()),
        }
    }

    /// A top-level `<Record>`: glucose is read (kept at once if it has no children, else when
    /// its end tag comes), any other type counted.
    fn record(
        &mut self,
        e: &BytesStart<'_>,
        line: Line<'_>,
        empty: bool,
    ) -> Result<(), ExportError> {
        let mut glucose = false;
        let (mut unit, mut value, mut start) = (None, None, None);
        for attr in Attributes::of(e) {
            let (name, written) =
                attr.map_err(|err| self.read_error(line.get(), err.to_string()))?;
            let (field, slot) = match name {
                // Apple writes `type` first: any other record is done with after one attribute.
                b"type" => {
                    if glucose {
                        return Err(self.twice(line.get(), "type"));
                    }
                    if written != BLOOD_GLUCOSE.as_bytes()
                        && self.text(written, "type", line)? != BLOOD_GLUCOSE
                    {
                        self.other_records += 1;
                        return Ok(());
                    }
                    glucose = true;
                    continue;
                }
                b"unit" => ("unit", &mut unit),
                b"value" => ("value", &mut value),
                b"startDate" => ("startDate", &mut start),
                _ => continue,
            };
            if slot.replace(written).is_some() {
                return Err(self.twice(line.get(), field));
            }
        }
        if !glucose {
            self.report.drop(RECORDS_WITHOUT_TYPE);
            return Ok(());
        }
        let unit = match unit {
            None => return Err(self.row_error(line.get(), "unit", "is missing".into())),
            Some(written) => self.unit(&self.text(written, "unit", line)?, line)?,
        };
        let value = match value {
            None => return Err(self.row_error(line.get(), "value", "is missing".into())),
            Some(written) => self.value(&self.text(written, "value", line)?, unit, line)?,
        };
        let time = match start {
            None => return Err(self.row_error(line.get(), "startDate", "is missing".into())),
            Some(written) => {
                let text = self.text(written, "startDate", line)?;
                apple_time(&text, &mut self.day).ok_or_else(|| {
                    self.row_error(
                        line.get(),
                        "startDate",
                        format!(
                            "`{}` is not a time such as 2019-04-03 08:12:00 +0800",
                            crate::text::excerpt(&text)
                        ),
                    )
                })?
            }
        };
        self.pending = Some(Pending {
            time,
            value,
            context: Context::Unknown,
        });
        if empty {
            self.finish_record();
        }
        Ok(())
    }

    /// A glucose record's `<MetadataEntry>`: the meal time is read, other keys are not.
    fn metadata(&mut self, e: &BytesStart<'_>, line: Line<'_>) -> Result<(), ExportError> {
        let (mut key, mut value) = (None, None);
        for attr in Attributes::of(e) {
            let (name, written) =
                attr.map_err(|err| self.read_error(line.get(), err.to_string()))?;
            match name {
                b"key" => key = Some(written),
                b"value" => value = Some(written),
                _ => {}
            }
        }
        match key {
            Some(k) if self.text(k, "key", line)? == MEAL_TIME => {}
            _ => return Ok(()),
        }
        let written = match value {
            Some(v) => self.text(v, MEAL_TIME, line)?,
            None => Cow::Borrowed(""),
        };
        let context = match written.trim() {
            "1" => Context::PreMeal,
            "2" => Context::PostMeal,
            other => {
                return Err(self.row_error(
                    line.get(),
                    MEAL_TIME,
                    format!(
                        "`{}` is not a meal time (1: before a meal, 2: after one)",
                        crate::text::excerpt(other)
                    ),
                ));
            }
        };
        if let Some(p) = &mut self.pending {
            p.context = context;
        }
        Ok(())
    }

    /// The glucose record read last, kept.
    fn finish_record(&mut self) {
        let Some(p) = self.pending.take() else {
            return;
        };
        match p.value {
            GlucoseValue::Low => self.report.kept_as_lo += 1,
            GlucoseValue::High => self.report.kept_as_hi += 1,
            GlucoseValue::Measured(_) => {}
        }
        self.readings.push(Reading {
            time: p.time,
            value: p.value,
            context: p.context,
            // HealthKit does not say how a glucose sample was measured. `sourceName` is the
            // app that wrote it (the Dexcom app, a meter's app, a logging app that takes both,
            // "Health" for a value typed in) and `device` is whatever that app filled in, in
            // the phone's language: no documented field tells a sensor from a finger-stick.
            source: Source::Unspecified,
        });
        self.report.kept += 1;
    }

    /// An attribute's value with XML's escapes read (`&lt;` …, `&#60;`); an entity the DOCTYPE
    /// declares is refused, not expanded.
    fn text<'a>(
        &self,
        written: &'a [u8],
        field: &'static str,
        line: Line<'_>,
    ) -> Result<Cow<'a, str>, ExportError> {
        // quick-xml has checked the tag is UTF-8, and a value is cut at ASCII quotes.
        let written = std::str::from_utf8(written)
            .map_err(|e| self.row_error(line.get(), field, format!("is not UTF-8 text: {e}")))?;
        // Apple writes no reference but the `&lt;`/`&gt;` of the molar unit.
        if !written.as_bytes().contains(&b'&') {
            return Ok(Cow::Borrowed(written));
        }
        quick_xml::escape::unescape(written).map_err(|e| {
            self.row_error(
                line.get(),
                field,
                format!(
                    "`{}` cannot be read: {e} (only XML's own entities are read)",
                    crate::text::excerpt(written)
                ),
            )
        })
    }

    /// `mg/dL`, or mmol/L as Apple writes it with glucose's molar mass, `mmol<180.1558800000541>/L`.
    fn unit(&self, text: &str, line: Line<'_>) -> Result<GlucoseUnit, ExportError> {
        // The molar mass in the unit is not used: the engine converts mmol/L with one factor
        // (glucose.rs, 18), so that 5.5 mmol/L from Apple Health is the same mg/dL as 5.5
        // mmol/L from any other export or in a policy.
        match text {
            "mg/dL" => Ok(GlucoseUnit::MgDl),
            "mmol/L" => Ok(GlucoseUnit::MmolL),
            t if t.starts_with("mmol<") && t.ends_with(">/L") => Ok(GlucoseUnit::MmolL),
            t => Err(self.row_error(
                line.get(),
                "unit",
                format!(
                    "`{}` is not a glucose unit Apple Health writes (mg/dL, mmol<180.1558800000541>/L)",
                    crate::text::excerpt(t)
                ),
            )),
        }
    }

    /// The value in `unit`; below or above the plausible range, kept as `LO` or `HI`, as a
    /// meter would show it.
    fn value(
        &self,
        text: &str,
        unit: GlucoseUnit,
        line: Line<'_>,
    ) -> Result<GlucoseValue, ExportError> {
        // A CGM writes whole mg/dL: read as an integer, the same value `parse` would give
        // (an integer is exact in an f64), without its general parse.
        let whole = match (unit, text.as_bytes()) {
            (GlucoseUnit::MgDl, digits @ [_, ..]) if digits.len() <= 4 => {
                digits.iter().try_fold(0u16, |n, &d| {
                    d.is_ascii_digit().then(|| n * 10 + u16::from(d - b'0'))
                })
            }
            _ => None,
        };
        let parsed = match whole {
            Some(n) => Glucose::from_mg_dl(f64::from(n)).map(GlucoseValue::Measured),
            None => GlucoseValue::parse(text, unit),
        };
        match parsed {
            Ok(v) => Ok(v),
            Err(GlucoseError::Implausible { mg_dl, .. }) if mg_dl < PLAUSIBLE_MG_DL_MIN => {
                Ok(GlucoseValue::Low)
            }
            Err(GlucoseError::Implausible { .. }) => Ok(GlucoseValue::High),
            Err(e) => Err(self.row_error(line.get(), "value", e.to_string())),
        }
    }
}
