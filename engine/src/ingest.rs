//! Glucose readings from CSV, the file format in product.md, streamed row by row.
//!
//! Columns: `member_id` (or `patient_id`), `time` (RFC 3339 with offset), one value column —
//! `glucose_mg_dl`, `glucose_mmol_l`, or `glucose` with the unit given separately — and
//! optionally `context` and `source`. Other columns are ignored (exports carry many).
//!
//! The engine does no I/O: the caller opens the file and hands over a [`Read`]. Rows are
//! parsed into per-member columns as they stream past, so memory grows with the readings
//! kept (22 bytes each), never with a second copy of the file. A caller that stores what it
//! reads can have each member as soon as its rows are all read
//! ([`read_readings_csv_handing_over`]), while the file keeps each member's rows together.
//!
//! Nothing is dropped silently: a bad row stops the load ([`BadRows::Fail`]) or is reported
//! to the caller and counted ([`BadRows::Skip`]); duplicates and readings outside the
//! requested window are counted in the [`IngestReport`].

use crate::glucose::{GlucoseError, GlucoseUnit, GlucoseValue};
use crate::member::{MemberId, MemberIdError};
use crate::period::Window;
use crate::reading::{Context, Source, UnknownLabel};
use crate::readings::{Readings, ReadingsBuilder};
use crate::time::{TimeError, parse_timestamp_parts};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Read;

/// What to do with a row that cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BadRows {
    /// Stop at the first bad row and load nothing.
    #[default]
    Fail,
    /// Report each bad row to the caller, count it, and go on.
    Skip,
}

/// How to read a readings file.
#[derive(Clone, Debug, Default)]
pub struct CsvOptions {
    /// The name used in messages: the file's path, or `<stdin>`.
    pub source_name: String,
    /// The unit of a plain `glucose` column. Must agree with a unit-named column if both exist.
    pub unit: Option<GlucoseUnit>,
    /// Keep only readings in `[start, end)`; the rest are counted in `outside_window`.
    pub window: Option<Window>,
    pub bad_rows: BadRows,
}

/// Counts of what happened to every row. `rows = accepted + duplicates + outside_window + skipped`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IngestReport {
    pub rows: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub outside_window: u64,
    pub skipped: u64,
    pub members: u64,
}

/// Readings grouped by member, ordered by member id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReadingsByMember {
    pub members: BTreeMap<MemberId, Readings>,
    pub report: IngestReport,
}

/// What is wrong with one row.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RowProblem {
    #[error("expected {expected} fields as in the header, found {found}")]
    FieldCount { expected: usize, found: usize },
    #[error("field `{0}` is not valid UTF-8")]
    NotUtf8(&'static str),
    #[error("{0}")]
    Member(#[from] MemberIdError),
    #[error("{0}")]
    Time(#[from] TimeError),
    #[error("{0}")]
    Glucose(#[from] GlucoseError),
    #[error("{0}")]
    Label(#[from] UnknownLabel),
}

/// A row that could not be read: its line in the file, the field and the reason.
#[derive(Clone, Debug, PartialEq)]
pub struct RowError {
    pub line: u64,
    pub field: Option<&'static str>,
    pub problem: RowProblem,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            Some(field) => write!(f, "line {}, field `{field}`: {}", self.line, self.problem),
            None => write!(f, "line {}: {}", self.line, self.problem),
        }
    }
}

/// Why a readings file could not be loaded. Nothing from it is kept.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{source_name}: {problem}")]
    Header {
        source_name: String,
        problem: String,
    },
    #[error("{source_name}: {error}")]
    Row {
        source_name: String,
        error: RowError,
    },
    #[error("{source_name}: line {line}: could not be read: {message}")]
    Read {
        source_name: String,
        line: u64,
        message: String,
    },
}

/// Where each needed field sits in a row.
#[derive(Clone, Copy, Debug)]
struct Columns {
    member: usize,
    time: usize,
    value: usize,
    value_name: &'static str,
    unit: GlucoseUnit,
    context: Option<usize>,
    source: Option<usize>,
    count: usize,
}

fn header_columns(
    header: &csv::StringRecord,
    unit: Option<GlucoseUnit>,
) -> Result<Columns, String> {
    let names: Vec<String> = header
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_ascii_lowercase())
        .collect();
    let find = |wanted: &[&'static str]| -> Result<Option<(usize, &'static str)>, String> {
        let hits: Vec<usize> = names
            .iter()
            .enumerate()
            .filter(|(_, n)| wanted.contains(&n.as_str()))
            .map(|(i, _)| i)
            .collect();
        match hits.as_slice() {
            [] => Ok(None),
            [i] => {
                let name = names.get(*i).map(String::as_str).unwrap_or_default();
                let known = wanted
                    .iter()
                    .find(|w| **w == name)
                    .copied()
                    .unwrap_or_default();
                Ok(Some((*i, known)))
            }
            _ => Err(format!(
                "the header has more than one of the columns `{}`; keep one",
                wanted.join("`, `")
            )),
        }
    };
    let found = || format!("found `{}`", names.join("`, `"));
    let member = find(&["member_id", "patient_id"])?.ok_or_else(|| {
        format!(
            "the header has no `member_id` (or `patient_id`) column; {}",
            found()
        )
    })?;
    let time =
        find(&["time"])?.ok_or_else(|| format!("the header has no `time` column; {}", found()))?;
    let value = find(&["glucose_mg_dl", "glucose_mmol_l", "glucose"])?.ok_or_else(|| {
        format!(
            "the header has no glucose column (`glucose_mg_dl`, `glucose_mmol_l`, or `glucose` with a unit); {}",
            found()
        )
    })?;
    let named_unit = match value.1 {
        "glucose_mg_dl" => Some(GlucoseUnit::MgDl),
        "glucose_mmol_l" => Some(GlucoseUnit::MmolL),
        _ => None,
    };
    let unit = match (named_unit, unit) {
        (Some(named), Some(given)) if named != given => {
            return Err(format!(
                "column `{}` is in {named} but the unit given is {given}; drop the unit or rename the column",
                value.1
            ));
        }
        (Some(u), _) | (None, Some(u)) => u,
        (None, None) => {
            return Err(
                "column `glucose` has no unit: give one (mg/dL or mmol/L), or name the column `glucose_mg_dl` or `glucose_mmol_l`"
                    .to_owned(),
            );
        }
    };
    Ok(Columns {
        member: member.0,
        time: time.0,
        value: value.0,
        value_name: value.1,
        unit,
        context: find(&["context"])?.map(|c| c.0),
        source: find(&["source"])?.map(|c| c.0),
        count: names.len(),
    })
}

fn field<'r>(
    record: &'r csv::ByteRecord,
    index: usize,
    name: &'static str,
) -> Result<&'r str, (Option<&'static str>, RowProblem)> {
    let bytes = record.get(index).unwrap_or_default();
    std::str::from_utf8(bytes).map_err(|_| (Some(name), RowProblem::NotUtf8(name)))
}

/// One row, already in the column form [`ReadingsBuilder`] stores.
#[derive(Clone, Copy, Debug)]
struct Row {
    time_ms: i64,
    offset_s: i32,
    value: GlucoseValue,
    context: Context,
    source: Source,
}

fn parse_row(
    record: &csv::ByteRecord,
    c: &Columns,
) -> Result<Row, (Option<&'static str>, RowProblem)> {
    if record.len() != c.count {
        return Err((
            None,
            RowProblem::FieldCount {
                expected: c.count,
                found: record.len(),
            },
        ));
    }
    let at = |name: &'static str| move |p: RowProblem| (Some(name), p);
    let (time_ms, offset_s) =
        parse_timestamp_parts(field(record, c.time, "time")?).map_err(|e| at("time")(e.into()))?;
    let value = GlucoseValue::parse(field(record, c.value, c.value_name)?, c.unit)
        .map_err(|e| at(c.value_name)(e.into()))?;
    let context = match c.context {
        Some(i) => {
            Context::parse(field(record, i, "context")?).map_err(|e| at("context")(e.into()))?
        }
        None => Context::Unknown,
    };
    let source = match c.source {
        Some(i) => {
            Source::parse(field(record, i, "source")?).map_err(|e| at("source")(e.into()))?
        }
        None => Source::Unspecified,
    };
    Ok(Row {
        time_ms,
        offset_s,
        value,
        context,
        source,
    })
}

/// Members seen so far, with a fast path for the common layout where a member's rows are
/// consecutive: the last member's key is compared before any hashing.
#[derive(Default)]
struct Members {
    index: HashMap<Box<[u8]>, usize>,
    builders: Vec<(MemberId, ReadingsBuilder)>,
    last: Option<(Box<[u8]>, usize)>,
}

/// How a row's member relates to the rows before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seen {
    /// The member of the row before.
    Last,
    /// A member no row named before; `previous` is the member of the row before, if any.
    New { previous: Option<usize> },
    /// A member whose rows stopped for another member's and start again.
    Again,
}

impl Members {
    fn slot(&mut self, key: &[u8]) -> Result<(usize, Seen), (Option<&'static str>, RowProblem)> {
        if let Some((last_key, slot)) = &self.last
            && **last_key == *key
        {
            return Ok((*slot, Seen::Last));
        }
        let previous = self.last.as_ref().map(|(_, slot)| *slot);
        let (slot, seen) = match self.index.get(key) {
            Some(&slot) => (slot, Seen::Again),
            None => {
                let text = std::str::from_utf8(key)
                    .map_err(|_| (Some("member_id"), RowProblem::NotUtf8("member_id")))?;
                let id = MemberId::parse(text).map_err(|e| (Some("member_id"), e.into()))?;
                self.builders.push((id, ReadingsBuilder::new()));
                let slot = self.builders.len() - 1;
                self.index.insert(key.into(), slot);
                (slot, Seen::New { previous })
            }
        };
        self.last = Some((key.into(), slot));
        Ok((slot, seen))
    }
}

/// What [`read_readings_csv_handing_over`] hands over while it reads.
#[derive(Debug)]
pub enum Handover<'a> {
    /// All of a member's readings, as the finished result will hold them (in order, without
    /// duplicates): the file has moved on to a member no row named before, and so far it has
    /// kept each member's rows together. The last member is handed over at the end.
    Member(&'a MemberId, Readings),
    /// A member's rows start again after another member's: the file does not keep each
    /// member's rows together, so a member handed over may not have been whole. Nothing more
    /// is handed over; the finished result has everything.
    NotGrouped,
}

/// Hands over each member as [`Handover`] says, while the file keeps members together.
struct HandingOver<'h> {
    hear: &'h mut dyn FnMut(Handover<'_>),
    grouped: bool,
}

impl HandingOver<'_> {
    fn seen(&mut self, members: &Members, seen: Seen) {
        if !self.grouped {
            return;
        }
        match seen {
            Seen::Last | Seen::New { previous: None } => {}
            Seen::New {
                previous: Some(previous),
            } => self.hand_over(members, previous),
            Seen::Again => {
                self.grouped = false;
                (self.hear)(Handover::NotGrouped);
            }
        }
    }

    /// The member in `slot`, unless every row of it fell outside the window (the finished
    /// result leaves such a member out too).
    fn hand_over(&mut self, members: &Members, slot: usize) {
        if let Some((id, builder)) = members.builders.get(slot)
            && !builder.is_empty()
        {
            (self.hear)(Handover::Member(id, builder.clone().finish().readings));
        }
    }
}

/// Reads a readings CSV into per-member columns. `on_skipped` hears of every row skipped under
/// [`BadRows::Skip`], as it happens, so a caller can report all of them without holding them.
pub fn read_readings_csv<R: Read>(
    input: R,
    options: &CsvOptions,
    on_skipped: &mut dyn FnMut(&RowError),
) -> Result<ReadingsByMember, IngestError> {
    read(input, options, on_skipped, None)
}

/// [`read_readings_csv`], handing over each member's readings as soon as they are all read
/// while the file keeps each member's rows together ([`Handover`]), so that a caller can store
/// one member while the next is read. The result is the same as [`read_readings_csv`]'s.
pub fn read_readings_csv_handing_over<R: Read>(
    input: R,
    options: &CsvOptions,
    on_skipped: &mut dyn FnMut(&RowError),
    hear: &mut dyn FnMut(Handover<'_>),
) -> Result<ReadingsByMember, IngestError> {
    let mut handing_over = HandingOver {
        hear,
        grouped: true,
    };
    read(input, options, on_skipped, Some(&mut handing_over))
}

fn read<R: Read>(
    input: R,
    options: &CsvOptions,
    on_skipped: &mut dyn FnMut(&RowError),
    mut handing_over: Option<&mut HandingOver<'_>>,
) -> Result<ReadingsByMember, IngestError> {
    let name = || options.source_name.clone();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(input);
    let header = reader.headers().map_err(|e| IngestError::Read {
        source_name: name(),
        line: 1,
        message: e.to_string(),
    })?;
    if header.is_empty() || header.iter().all(str::is_empty) {
        return Err(IngestError::Header {
            source_name: name(),
            problem: "the file is empty: expected a header row naming member_id, time and a glucose column"
                .to_owned(),
        });
    }
    let columns = header_columns(header, options.unit).map_err(|problem| IngestError::Header {
        source_name: name(),
        problem,
    })?;

    let mut report = IngestReport::default();
    let mut members = Members::default();
    let mut record = csv::ByteRecord::new();
    loop {
        let line_before = reader.position().line();
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(IngestError::Read {
                    source_name: name(),
                    line: e.position().map_or(line_before, csv::Position::line),
                    message: e.to_string(),
                });
            }
        }
        report.rows += 1;
        let line = record.position().map_or(line_before, csv::Position::line);
        let parsed = parse_row(&record, &columns).and_then(|row| {
            let key = record.get(columns.member).unwrap_or_default();
            Ok((members.slot(key)?, row))
        });
        match parsed {
            Ok(((slot, seen), row)) => {
                if let Some(h) = handing_over.as_deref_mut() {
                    h.seen(&members, seen);
                }
                if options
                    .window
                    .is_some_and(|w| !w.contains_millis(row.time_ms))
                {
                    report.outside_window += 1;
                    continue;
                }
                if let Some((_, builder)) = members.builders.get_mut(slot) {
                    builder.push_parts(
                        row.time_ms,
                        row.offset_s,
                        row.value,
                        row.context,
                        row.source,
                    );
                }
            }
            Err((field, problem)) => {
                let error = RowError {
                    line,
                    field,
                    problem,
                };
                match options.bad_rows {
                    BadRows::Fail => {
                        return Err(IngestError::Row {
                            source_name: name(),
                            error,
                        });
                    }
                    BadRows::Skip => {
                        report.skipped += 1;
                        on_skipped(&error);
                    }
                }
            }
        }
    }

    if let Some(h) = handing_over
        && h.grouped
        && let Some((_, last)) = members.last
    {
        h.hand_over(&members, last);
    }
    let mut out = BTreeMap::new();
    for (id, builder) in members.builders {
        if builder.is_empty() {
            // Every row of this member fell outside the window: no record, but counted above.
            continue;
        }
        let built = builder.finish();
        report.duplicates += built.duplicates as u64;
        report.accepted += built.readings.len() as u64;
        out.insert(id, built.readings);
    }
    report.members = out.len() as u64;
    Ok(ReadingsByMember {
        members: out,
        report,
    })
}
