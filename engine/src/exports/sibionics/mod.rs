//! The SiBionics app's export (GS1 sensors): an Excel workbook — an .xlsx, that is a zip
//! archive, though the app names it .xls — with one sheet, `Sensor Glucose`, of two columns:
//! `Time` and `Sensor Reading(mg/dL)` (`Sensor Reading(mmol/L)`, we take it, where the app is
//! set to mmol/L: no such export has been seen), one row per sensor reading, every five
//! minutes. Times are text, day-month-year on a 24-hour
//! clock, with the phone's offset from GMT (`13-02-2026 15:46 GMT-3`): each is an instant, so
//! no zone is asked for. Readings are text or numbers; a row with a time and no reading is
//! counted and dropped. Below 20 mg/dL a reading is kept as LO, above 600 as HI, as a meter
//! shows them.
//!
//! A workbook is read whole (calamine seeks in the archive), at most
//! `SIBIONICS_WORKBOOK_BYTES_MAX` of it, and looked through before calamine opens it
//! (`inspect`): a few kilobytes of deflate can inflate to gigabytes, and calamine 0.38 trusts
//! what a workbook says of itself — it reserves room for as many shared strings as the
//! workbook claims (`uniqueCount="18446744073709551615"` panics, a large one aborts the
//! process) and does arithmetic on cell references (`r="ZZZZZZZZ1"`, a dimension `B5:A1`)
//! that overflows. Whatever could do that is refused first, naming it.

mod inspect;

use super::{Export, ExportError, ExportOptions, ExportReport, Format};
use crate::glucose::{
    GlucoseError, GlucoseUnit, GlucoseValue, PLAUSIBLE_MG_DL_MAX, PLAUSIBLE_MG_DL_MIN,
};
use crate::reading::{Context, Reading, Source};
use calamine::{DataRef, Reader, Xlsx, XlsxError};
use chrono::{DateTime, FixedOffset, NaiveDateTime};
use inspect::inspect;
use std::collections::BTreeSet;
use std::io::{Cursor, Read};

const TIME: &str = "Time";
const READING_MG_DL: &str = "Sensor Reading(mg/dL)";
const READING_MMOL_L: &str = "Sensor Reading(mmol/L)";

/// Bytes of a workbook read at most. A week's export is about 35 KB, years of readings a few
/// MB; the whole workbook is held in memory (calamine needs to seek in it), so a file beyond
/// this is refused rather than read.
const SIBIONICS_WORKBOOK_BYTES_MAX: u64 = 64 << 20;
/// Sheets read at most. The app writes one; each sheet is a pass over its part, and several
/// sheets may name the same part.
const SIBIONICS_SHEETS_MAX: usize = 8;
/// Rows of a sheet the header is looked for in (the app writes it in the first).
const HEADER_ROWS_MAX: u32 = 10;
/// The largest offset from GMT a clock keeps (Kiribati, UTC+14; the lowest is UTC−12).
const OFFSET_MINUTES_MAX: i32 = 14 * 60;

/// How every file in a zip archive begins (a local file header), an .xlsx's first bytes.
const ZIP_MAGIC: [u8; 4] = *b"PK\x03\x04";
/// How an OLE compound file begins: an Excel 97–2003 workbook, a true .xls.
const OLE_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Reads a SiBionics export of one person's data.
pub fn read_sibionics(
    mut input: impl Read,
    options: &ExportOptions,
) -> Result<Export, ExportError> {
    let format = Format::SiBionics;
    let not_this = |problem: String| options.not_this(format, problem);
    let unreadable = |e: std::io::Error| ExportError::Read {
        source_name: options.source_name.clone(),
        line: 0,
        message: format!("the workbook: {e}"),
    };
    // The first bytes say whether this is a zip archive at all, before more is read.
    let mut bytes = Vec::new();
    input
        .by_ref()
        .take(OLE_MAGIC.len() as u64)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.starts_with(&OLE_MAGIC) {
        return Err(not_this(
            "an Excel 97–2003 workbook (a true .xls); the app's export is an .xlsx (a zip archive)"
                .into(),
        ));
    }
    if !bytes.starts_with(&ZIP_MAGIC) {
        return Err(not_this(
            "not an .xlsx workbook (a zip archive, whose first bytes are `PK`)".into(),
        ));
    }
    input
        .take(SIBIONICS_WORKBOOK_BYTES_MAX + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > SIBIONICS_WORKBOOK_BYTES_MAX {
        return Err(not_this(format!(
            "the workbook is over {} MiB; the app's exports are far smaller (a week is about 35 KB)",
            SIBIONICS_WORKBOOK_BYTES_MAX >> 20
        )));
    }
    inspect(&bytes).map_err(not_this)?;
    let mut workbook = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| not_this(format!("not a readable .xlsx workbook ({e})")))?;
    let mut seen = BTreeSet::new();
    let mut names = workbook.sheet_names();
    names.retain(|name| seen.insert(name.clone()));
    if names.len() > SIBIONICS_SHEETS_MAX {
        return Err(not_this(format!(
            "the workbook has {} sheets; the app writes one",
            names.len()
        )));
    }
    let mut state = State {
        options,
        several_sheets: names.len() > 1,
        readings: Vec::new(),
        report: ExportReport {
            format: Some(format),
            ..ExportReport::default()
        },
        any_header: false,
        seen_time: false,
        seen_reading: false,
    };
    for name in &names {
        let mut cells = match workbook.worksheet_cells_reader(name) {
            Ok(cells) => cells,
            // A chart sheet: no rows.
            Err(XlsxError::NotAWorksheet(_)) => continue,
            Err(e) => return Err(state.unreadable(name, 0, &e)),
        };
        let mut sheet = Sheet::new(name);
        loop {
            let cell = match cells.next_cell() {
                Ok(Some(cell)) => cell,
                Ok(None) => break,
                Err(e) => {
                    let line = sheet.row.map_or(0, |r| u64::from(r) + 1);
                    return Err(state.unreadable(name, line, &e));
                }
            };
            let (row, column) = cell.get_position();
            if sheet.row != Some(row) {
                state.end_row(&mut sheet)?;
                state.start_row(&mut sheet, row);
            }
            state.take(&mut sheet, column, cell.get_value());
        }
        state.end_row(&mut sheet)?;
        if sheet.columns.is_none() {
            state.drop_rows(OTHER_SHEETS, sheet.pending);
        }
    }
    if !state.any_header {
        let missing = match (state.seen_time, state.seen_reading) {
            (true, false) => {
                format!("no `{READING_MG_DL}` or `{READING_MMOL_L}` column beside `{TIME}`")
            }
            (false, true) => format!("no `{TIME}` column beside the sensor readings"),
            _ => format!("no `{TIME}` and `{READING_MG_DL}` (or `{READING_MMOL_L}`) header"),
        };
        return Err(not_this(format!(
            "{missing} in the first {HEADER_ROWS_MAX} rows of its sheets ({})",
            names
                .iter()
                .map(|n| format!("`{}`", crate::text::excerpt(n)))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(Export {
        readings: state.readings,
        apart: Vec::new(),
        labs: Vec::new(),
        report: state.report,
    })
}

/// Rows before a sheet's header, when the header is found below them (a title, not readings).
const ABOVE_THE_HEADER: &str = "rows above the header (not readings)";
/// Rows of a sheet without the header in its first rows.
const OTHER_SHEETS: &str = "rows of other sheets (not readings)";

struct State<'o> {
    options: &'o ExportOptions,
    /// Whether row numbers need the sheet's name beside them.
    several_sheets: bool,
    readings: Vec<Reading>,
    report: ExportReport,
    /// Whether a sheet had the header, and what of it was seen where none did (for the
    /// refusal's words).
    any_header: bool,
    seen_time: bool,
    seen_reading: bool,
}

/// A sheet being read: its columns once the header is found, and the row being read.
struct Sheet<'n> {
    name: &'n str,
    columns: Option<Columns>,
    /// No header in the sheet's first rows: nothing in it is a reading.
    other: bool,
    /// Rows with something in them, read before the header was found.
    pending: u64,
    row: Option<u32>,
    time: Cell,
    reading: Cell,
    /// Something in the row beside the time and the reading (or, before the header, at all).
    anything: bool,
    header_time: Option<u32>,
    header_reading: Option<(u32, GlucoseUnit)>,
}

impl<'n> Sheet<'n> {
    fn new(name: &'n str) -> Self {
        Sheet {
            name,
            columns: None,
            other: false,
            pending: 0,
            row: None,
            time: Cell::Empty,
            reading: Cell::Empty,
            anything: false,
            header_time: None,
            header_reading: None,
        }
    }
}

#[derive(Clone, Copy)]
struct Columns {
    time: u32,
    reading: u32,
    unit: GlucoseUnit,
}

impl Columns {
    /// The reading column's name, for messages.
    fn reading_field(self) -> &'static str {
        match self.unit {
            GlucoseUnit::MgDl => READING_MG_DL,
            GlucoseUnit::MmolL => READING_MMOL_L,
        }
    }
}

/// A cell of the time or the reading column, as far as this reader tells them apart.
enum Cell {
    Empty,
    Text(String),
    /// A number, written as Rust writes an f64 (`95`, `5.5`): read as the same text would be.
    Number(String),
    /// Anything else, in words.
    Other(&'static str),
}

impl Cell {
    fn of(value: &DataRef<'_>) -> Cell {
        match value {
            DataRef::Empty => Cell::Empty,
            DataRef::String(s) => Cell::text(s),
            DataRef::SharedString(s) => Cell::text(s),
            DataRef::Int(n) => Cell::Number(n.to_string()),
            DataRef::Float(n) => Cell::Number(n.to_string()),
            DataRef::Bool(_) => Cell::Other("a true/false value"),
            DataRef::DateTime(_) | DataRef::DateTimeIso(_) => {
                Cell::Other("a spreadsheet date, without an offset")
            }
            DataRef::DurationIso(_) => Cell::Other("a duration"),
            DataRef::Error(_) => Cell::Other("a spreadsheet error"),
        }
    }

    fn text(s: &str) -> Cell {
        let s = s.trim();
        if s.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s.to_owned())
        }
    }

    fn is_empty(&self) -> bool {
        matches!(self, Cell::Empty)
    }
}

/// Whether a cell holds anything: text that is not blank, or any value.
fn is_blank(value: &DataRef<'_>) -> bool {
    match value {
        DataRef::Empty => true,
        DataRef::String(s) => s.trim().is_empty(),
        DataRef::SharedString(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// The text of a cell, where it is text.
fn text_of<'v>(value: &'v DataRef<'_>) -> Option<&'v str> {
    match value {
        DataRef::String(s) => Some(s.trim()),
        DataRef::SharedString(s) => Some(s.trim()),
        _ => None,
    }
}

/// The unit of a reading column's header, `Sensor Reading(mg/dL)` or `Sensor Reading(mmol/L)`
/// (spaces and case aside).
fn reading_header(text: &str) -> Option<GlucoseUnit> {
    let squeezed: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    let unit = squeezed.strip_prefix("sensorreading(")?.strip_suffix(')')?;
    match unit {
        "mg/dl" => Some(GlucoseUnit::MgDl),
        "mmol/l" => Some(GlucoseUnit::MmolL),
        _ => None,
    }
}

impl State<'_> {
    fn unreadable(&self, sheet: &str, line: u64, e: &XlsxError) -> ExportError {
        ExportError::Read {
            source_name: self.options.source_name.clone(),
            line,
            message: format!("sheet `{}`: {e}", crate::text::excerpt(sheet)),
        }
    }

    /// Counts `n` rows, dropped for `reason`.
    fn drop_rows(&mut self, reason: &str, n: u64) {
        if n > 0 {
            self.report.rows += n;
            *self.report.dropped.entry(reason.to_owned()).or_default() += n;
        }
    }

    /// A new row: past the rows the header is looked for in, a sheet without it is another
    /// sheet's kind.
    fn start_row(&mut self, sheet: &mut Sheet<'_>, row: u32) {
        if sheet.columns.is_none() && !sheet.other && row >= HEADER_ROWS_MAX {
            sheet.other = true;
            self.drop_rows(OTHER_SHEETS, sheet.pending);
            sheet.pending = 0;
        }
        sheet.row = Some(row);
    }

    fn take(&mut self, sheet: &mut Sheet<'_>, column: u32, value: &DataRef<'_>) {
        match sheet.columns {
            Some(c) if column == c.time => sheet.time = Cell::of(value),
            Some(c) if column == c.reading => sheet.reading = Cell::of(value),
            Some(_) => sheet.anything |= !is_blank(value),
            None => {
                if !sheet.other
                    && let Some(text) = text_of(value)
                {
                    if text.eq_ignore_ascii_case(TIME) {
                        sheet.header_time.get_or_insert(column);
                    } else if let Some(unit) = reading_header(text) {
                        sheet.header_reading.get_or_insert((column, unit));
                    }
                }
                sheet.anything |= !is_blank(value);
            }
        }
    }

    /// The row read so far, done: the header, a reading, or a row counted and dropped.
    fn end_row(&mut self, sheet: &mut Sheet<'_>) -> Result<(), ExportError> {
        let Some(row) = sheet.row else {
            return Ok(());
        };
        let anything = std::mem::take(&mut sheet.anything);
        let time = std::mem::replace(&mut sheet.time, Cell::Empty);
        let reading = std::mem::replace(&mut sheet.reading, Cell::Empty);
        let header_time = sheet.header_time.take();
        let header_reading = sheet.header_reading.take();
        let Some(columns) = sheet.columns else {
            if sheet.other {
                if anything {
                    self.drop_rows(OTHER_SHEETS, 1);
                }
                return Ok(());
            }
            self.seen_time |= header_time.is_some();
            self.seen_reading |= header_reading.is_some();
            if let (Some(time), Some((reading, unit))) = (header_time, header_reading) {
                sheet.columns = Some(Columns {
                    time,
                    reading,
                    unit,
                });
                self.any_header = true;
                self.drop_rows(ABOVE_THE_HEADER, sheet.pending);
                sheet.pending = 0;
            } else if anything {
                sheet.pending += 1;
            }
            return Ok(());
        };
        if time.is_empty() && reading.is_empty() {
            if anything {
                self.drop_rows("rows without a time or a reading", 1);
            }
            return Ok(());
        }
        self.report.rows += 1;
        let line = u64::from(row) + 1;
        let in_sheet = if self.several_sheets {
            format!(" (sheet `{}`)", crate::text::excerpt(sheet.name))
        } else {
            String::new()
        };
        let row_error = |field: &'static str, problem: String| ExportError::Row {
            source_name: self.options.source_name.clone(),
            line,
            field,
            problem: format!("{problem}{in_sheet}"),
        };
        const SUCH_AS: &str =
            "such as 13-02-2026 15:46 GMT-3 (day-month-year, 24-hour clock, offset from GMT)";
        let time = match time {
            Cell::Text(text) => sibionics_time(&text).ok_or_else(|| {
                row_error(
                    TIME,
                    format!("`{}` is not a time {SUCH_AS}", crate::text::excerpt(&text)),
                )
            })?,
            Cell::Number(n) => {
                return Err(row_error(
                    TIME,
                    format!(
                        "the number `{}` is not a time {SUCH_AS}",
                        crate::text::excerpt(&n)
                    ),
                ));
            }
            Cell::Other(what) => {
                return Err(row_error(TIME, format!("{what} is not a time {SUCH_AS}")));
            }
            Cell::Empty => {
                return Err(row_error(TIME, "is empty, beside a sensor reading".into()));
            }
        };
        let field = columns.reading_field();
        let value = match reading {
            // The app's rows where the sensor gave no reading (warming up, out of range of
            // the phone).
            Cell::Empty => {
                self.report.drop("times without a reading");
                return Ok(());
            }
            Cell::Text(text) | Cell::Number(text) => {
                glucose(&text, columns.unit).map_err(|e| row_error(field, e.to_string()))?
            }
            Cell::Other(what) => {
                return Err(row_error(field, format!("{what} is not a glucose value")));
            }
        };
        match value {
            GlucoseValue::Low => self.report.kept_as_lo += 1,
            GlucoseValue::High => self.report.kept_as_hi += 1,
            GlucoseValue::Measured(_) => {}
        }
        self.readings.push(Reading {
            time,
            value,
            context: Context::Unknown,
            source: Source::Cgm,
        });
        self.report.kept += 1;
        Ok(())
    }
}

/// A reading as the app writes it: a number in `unit`, below the plausible range kept as LO
/// and above it as HI (the sensor's own flags, `LO` and `HI`, are read too).
fn glucose(text: &str, unit: GlucoseUnit) -> Result<GlucoseValue, GlucoseError> {
    match GlucoseValue::parse(text, unit) {
        Err(GlucoseError::Implausible { mg_dl, .. }) if mg_dl < PLAUSIBLE_MG_DL_MIN => {
            Ok(GlucoseValue::Low)
        }
        Err(GlucoseError::Implausible { mg_dl, .. }) if mg_dl > PLAUSIBLE_MG_DL_MAX => {
            Ok(GlucoseValue::High)
        }
        read => read,
    }
}

/// `13-02-2026 15:46 GMT-3`: day-month-year, a 24-hour clock (seconds if written), and the
/// offset from GMT in hours (`GMT+8`) or hours and minutes (`GMT+05:30`); `GMT` alone is
/// GMT itself.
fn sibionics_time(text: &str) -> Option<DateTime<FixedOffset>> {
    let (local, zone) = text.trim().rsplit_once(' ')?;
    let offset = gmt_offset(zone)?;
    let local = local.trim();
    let local = NaiveDateTime::parse_from_str(local, "%d-%m-%Y %H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(local, "%d-%m-%Y %H:%M:%S"))
        .ok()?;
    local.and_local_timezone(offset).single()
}

/// `GMT`, `GMT-3`, `GMT+08`, `GMT+05:30`, `GMT-09:30`.
fn gmt_offset(zone: &str) -> Option<FixedOffset> {
    let signed = zone.strip_prefix("GMT")?;
    if signed.is_empty() {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match (signed.strip_prefix('+'), signed.strip_prefix('-')) {
        (Some(rest), _) => (1, rest),
        (None, Some(rest)) => (-1, rest),
        (None, None) => return None,
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "00"));
    let digits = |text: &str, lengths: std::ops::RangeInclusive<usize>| {
        (lengths.contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse::<i32>().ok())
            .flatten()
    };
    let hours = digits(hours, 1..=2)?;
    let minutes = digits(minutes, 2..=2).filter(|m| *m < 60)?;
    let total = hours * 60 + minutes;
    if total > OFFSET_MINUTES_MAX {
        return None;
    }
    FixedOffset::east_opt(sign * total * 60)
}
