//! Step tables: the "fixed steps up to a cap" and "premium change by tier" of real plans,
//! written as data in `policy.toml` and looked up natively.
//!
//! ```toml
//! [tables.rebate_by_fasting_share]
//! key = "percent"            # what the key is: percent, count, decimal, glucose, days
//! value = "money"            # what the value is: a term type
//! steps = [
//!   { to = 50, value = 0 },              # below 50 (no `from`: everything below)
//!   { from = 50, to = 70, value = 10 },  # 50 ≤ key < 70
//!   { from = 70, value = 20 },           # 70 and above (no `to`)
//! ]
//!
//! [tables.premium_change_by_tier]
//! key = "text"
//! value = "percent"
//! entries = { platinum = -2, gold = 0, silver = 1, bronze = 2 }
//! ```
//!
//! A table with two keys (`second_key`) holds a table by the second key in each row — text
//! entries, or steps of their own:
//!
//! ```toml
//! [tables.reward_by_tier_and_insulin]
//! key = "text"
//! second_key = "text"
//! value = "money"
//! entries = { gold = { insulin = 40, no_insulin = 30 }, silver = { insulin = 25, no_insulin = 20 } }
//! ```
//!
//! Steps must follow one another with no gap and no overlap, in every row of a two-key table
//! too, and every row of text entries names the same second keys; loading checks that, so a
//! lookup inside the table's range always finds exactly one cell.

use super::diagnostics::{Diagnostics, SourceFile};
use super::terms::{TermKind, TermValue, is_identifier};
use super::toml_reader::{TableReader, decimal_of, integer_of, kind_of};
use rust_decimal::Decimal;
use serde::Serialize;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;
use toml::de::{DeTable, DeValue};

/// One step: `from ≤ key < to`, either bound open when absent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    pub from: Option<Decimal>,
    pub to: Option<Decimal>,
    pub value: Cell,
}

/// What a row holds: the value, or in a two-key table, the row's table by the second key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    Value(TermValue),
    Inner(TableRows),
}

/// How a table is keyed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableRows {
    /// Numeric keys in half-open steps, in ascending order.
    Steps(Vec<Step>),
    /// Text keys, matched exactly.
    Entries(Vec<(String, Cell)>),
}

/// A named lookup table of a policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StepTable {
    pub name: String,
    pub key: TermKind,
    /// The second key's kind, for a table with two.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub second_key: Option<TermKind>,
    pub value: TermKind,
    pub rows: TableRows,
    /// Where policy.toml declares it.
    #[serde(skip)]
    pub span: Range<usize>,
}

/// A key a script looks a table up by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Key {
    Number(Decimal),
    Text(String),
}

/// Why a lookup found nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("{key} is outside table `{table}`, which covers {covers}")]
    OutOfRange {
        table: String,
        key: Decimal,
        covers: String,
    },
    #[error("table `{table}` has no entry `{key}`; it has {keys}")]
    NoEntry {
        table: String,
        key: String,
        keys: String,
    },
    #[error("table `{table}` is keyed by {expected}, not {found}")]
    WrongKey {
        table: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error(
        "table `{table}` has {has} key(s), looked up with {given}: write lookup(tables.{table}, {example})"
    )]
    KeyCount {
        table: String,
        has: usize,
        given: usize,
        example: &'static str,
    },
}

impl StepTable {
    /// The value of the step holding `key`, in a table with one numeric key.
    pub fn lookup_number(&self, key: Decimal) -> Result<&TermValue, LookupError> {
        self.lookup(&[Key::Number(key)])
    }

    /// The value of the entry named `key`, in a table with one text key.
    pub fn lookup_text(&self, key: &str) -> Result<&TermValue, LookupError> {
        self.lookup(&[Key::Text(key.to_owned())])
    }

    /// The value at `keys`: one for a table with one key, two for one with two.
    pub fn lookup(&self, keys: &[Key]) -> Result<&TermValue, LookupError> {
        let has = if self.second_key.is_some() { 2 } else { 1 };
        if keys.len() != has {
            return Err(LookupError::KeyCount {
                table: self.name.clone(),
                has,
                given: keys.len(),
                example: if has == 2 { "key, second_key" } else { "key" },
            });
        }
        let mut rows = &self.rows;
        let mut found = None;
        // At most two keys: the row reached at each, without allocating.
        let mut path = [0_usize; 2];
        for (depth, key) in keys.iter().enumerate() {
            let (index, cell) = self.find(rows, key)?;
            if let Some(slot) = path.get_mut(depth) {
                *slot = index;
            }
            match cell {
                Cell::Value(v) => found = Some(v),
                Cell::Inner(inner) => rows = inner,
            }
        }
        record_hit(&self.name, path.get(..keys.len()).unwrap_or_default());
        // Loading gives a two-key table inner tables and a one-key table values, so the last
        // key always lands on a value.
        found.ok_or_else(|| LookupError::KeyCount {
            table: self.name.clone(),
            has: 2,
            given: keys.len(),
            example: "key, second_key",
        })
    }

    fn find<'r>(&self, rows: &'r TableRows, key: &Key) -> Result<(usize, &'r Cell), LookupError> {
        match (rows, key) {
            (TableRows::Steps(steps), Key::Number(key)) => steps
                .iter()
                .enumerate()
                .find(|(_, s)| s.from.is_none_or(|f| f <= *key) && s.to.is_none_or(|t| *key < t))
                .map(|(i, s)| (i, &s.value))
                .ok_or_else(|| LookupError::OutOfRange {
                    table: self.name.clone(),
                    key: *key,
                    covers: covers(rows),
                }),
            (TableRows::Entries(entries), Key::Text(key)) => entries
                .iter()
                .enumerate()
                .find(|(_, (k, _))| k == key)
                .map(|(i, (_, v))| (i, v))
                .ok_or_else(|| LookupError::NoEntry {
                    table: self.name.clone(),
                    key: key.clone(),
                    keys: entries
                        .iter()
                        .map(|(k, _)| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                }),
            (TableRows::Entries(_), Key::Number(_)) => Err(LookupError::WrongKey {
                table: self.name.clone(),
                expected: "text",
                found: "a number",
            }),
            (TableRows::Steps(_), Key::Text(_)) => Err(LookupError::WrongKey {
                table: self.name.clone(),
                expected: "numbers",
                found: "text",
            }),
        }
    }

    /// The range of keys the table covers, in words.
    pub fn covers(&self) -> String {
        covers(&self.rows)
    }

    /// Each cell no lookup in `hits` reached, in words: `step 4 (90 and above)`, `entry
    /// \`gold\`, \`insulin\``.
    pub fn cells_missed(&self, hits: &Hits) -> Vec<String> {
        let mut out = Vec::new();
        missed(
            &self.name,
            &self.rows,
            &mut Vec::new(),
            &mut Vec::new(),
            hits,
            &mut out,
        );
        out
    }
}

/// The cells lookups reached: (table, index of the row at each key).
pub type Hits = BTreeSet<(String, Vec<usize>)>;

thread_local! {
    /// While cases run: the cells their lookups reach, to tell the author which none reaches.
    static HITS: RefCell<Option<Hits>> = const { RefCell::new(None) };
}

fn record_hit(table: &str, path: &[usize]) {
    HITS.with(|h| {
        if let Some(hits) = h.borrow_mut().as_mut() {
            hits.insert((table.to_owned(), path.to_vec()));
        }
    });
}

/// Runs `f` noting every table cell its lookups reach on this thread.
pub fn recording_hits<R>(f: impl FnOnce() -> R) -> (R, Hits) {
    HITS.with(|h| *h.borrow_mut() = Some(Hits::new()));
    let out = f();
    let hits = HITS.with(|h| h.borrow_mut().take()).unwrap_or_default();
    (out, hits)
}

fn missed(
    table: &str,
    rows: &TableRows,
    path: &mut Vec<usize>,
    words: &mut Vec<String>,
    hits: &Hits,
    out: &mut Vec<String>,
) {
    let cells: Vec<(String, &Cell)> = match rows {
        TableRows::Steps(steps) => steps
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("step {} ({s})", i + 1), &s.value))
            .collect(),
        TableRows::Entries(entries) => entries
            .iter()
            .map(|(k, v)| (format!("entry `{k}`"), v))
            .collect(),
    };
    for (i, (word, cell)) in cells.into_iter().enumerate() {
        path.push(i);
        words.push(word);
        match cell {
            Cell::Value(_) => {
                if !hits.contains(&(table.to_owned(), path.clone())) {
                    out.push(words.join(", "));
                }
            }
            Cell::Inner(inner) => missed(table, inner, path, words, hits, out),
        }
        path.pop();
        words.pop();
    }
}

/// The range of keys `rows` cover, in words.
fn covers(rows: &TableRows) -> String {
    match rows {
        TableRows::Steps(steps) => {
            let lo = steps.first().and_then(|s| s.from);
            let hi = steps.last().and_then(|s| s.to);
            match (lo, hi) {
                (None, None) => "every key".to_owned(),
                (Some(lo), None) => format!("{lo} and above"),
                (None, Some(hi)) => format!("below {hi}"),
                (Some(lo), Some(hi)) => format!("{lo} up to (not including) {hi}"),
            }
        }
        TableRows::Entries(entries) => format!("{} entries", entries.len()),
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.from, self.to) {
            (None, None) => write!(f, "any key"),
            (Some(a), None) => write!(f, "{a} and above"),
            (None, Some(b)) => write!(f, "below {b}"),
            (Some(a), Some(b)) => write!(f, "{a} to below {b}"),
        }
    }
}

const KEY_KINDS: [TermKind; 6] = [
    TermKind::Percent,
    TermKind::Count,
    TermKind::Decimal,
    TermKind::Glucose,
    TermKind::Days,
    TermKind::Money,
];

/// Reads `[tables.*]`, reporting gaps, overlaps and values of the wrong type.
pub(crate) fn read_tables(
    file: &SourceFile,
    tables: &DeTable<'_>,
    diags: &mut Diagnostics,
) -> Vec<StepTable> {
    let mut out = Vec::new();
    for (key, value) in tables.iter() {
        let name = key.get_ref().to_string();
        if !is_identifier(&name) {
            diags
                .error(
                    "table-name",
                    file,
                    key.span(),
                    format!("table name `{name}` is not usable in a script"),
                )
                .help("use lowercase letters, digits and `_`, starting with a letter");
        }
        let DeValue::Table(spec) = value.get_ref() else {
            diags.error(
                "table-shape",
                file,
                value.span(),
                format!("table `{name}` must be a table with `key`, `value` and `steps` or `entries`, not {}", kind_of(value.get_ref())),
            );
            continue;
        };
        if let Some(table) = read_table(file, name, spec, value.span(), diags) {
            out.push(table);
        }
    }
    out
}

fn kind_named(
    reader: &mut TableReader<'_, '_>,
    field: &'static str,
    diags: &mut Diagnostics,
) -> Option<TermKind> {
    let (text, span) =
        reader.required_string(field, "a term type such as percent or money", diags)?;
    let found = TermKind::ALL
        .iter()
        .find(|(n, _)| *n == text)
        .map(|(_, k)| *k);
    if found.is_none() {
        diags.error(
            "table-type",
            reader.file,
            span,
            format!("`{field}` of {} is `{text}`, not a term type (money, percent, count, days, minutes, glucose, decimal, text, flag)", reader.label),
        );
    }
    found
}

fn read_table(
    file: &SourceFile,
    name: String,
    spec: &DeTable<'_>,
    span: Range<usize>,
    diags: &mut Diagnostics,
) -> Option<StepTable> {
    let mut reader = TableReader::new(file, format!("table `{name}`"), spec, span.clone());
    let key = kind_named(&mut reader, "key", diags);
    let second_key = if reader.table.get("second_key").is_some() {
        Some(kind_named(&mut reader, "second_key", diags))
    } else {
        None
    };
    let value = kind_named(&mut reader, "value", diags);
    let steps = reader.array("steps", diags);
    let entries = reader.table("entries", diags);
    let label = reader.label.clone();
    reader.finish(diags);
    let (key, value) = (key?, value?);
    let second_key = match second_key {
        Some(k) => Some(k?),
        None => None,
    };
    if let Some(second) = second_key
        && second != TermKind::Text
        && !KEY_KINDS.contains(&second)
    {
        diags.error(
            "table-type",
            file,
            span,
            format!("{label}: `second_key` {} cannot key a table (text, or a number: percent, count, decimal, glucose, days, money)", second.name()),
        );
        return None;
    }
    let cell = |label: &str, raw: &super::toml_reader::Value<'_>, diags: &mut Diagnostics| {
        read_cell(file, label, second_key, value, raw, diags)
    };
    let rows = match (steps, entries) {
        (Some((steps, _)), None) => {
            if !KEY_KINDS.contains(&key) {
                diags.error(
                    "table-type",
                    file,
                    span,
                    format!("{label} has numeric `steps` but its key is {}", key.name()),
                );
                return None;
            }
            let steps = read_steps(file, &label, steps, &span, &cell, diags)?;
            let rows: Vec<(String, Cell)> = steps
                .iter()
                .map(|s| (s.to_string(), s.value.clone()))
                .collect();
            same_second_keys(file, &label, &rows, span.clone(), diags);
            TableRows::Steps(steps)
        }
        (None, Some((entries, _))) => {
            if key != TermKind::Text {
                diags.error(
                    "table-type",
                    file,
                    span,
                    format!(
                        "{label} has text `entries`; its key must be `text`, not {}",
                        key.name()
                    ),
                );
                return None;
            }
            let mut rows = Vec::new();
            for (k, v) in entries.iter() {
                let row = format!("entry `{}` of {label}", k.get_ref());
                if let Some(c) = cell(&row, v, diags) {
                    rows.push((k.get_ref().to_string(), c));
                }
            }
            same_second_keys(file, &label, &rows, span.clone(), diags);
            TableRows::Entries(rows)
        }
        (Some(_), Some(_)) => {
            diags.error(
                "table-shape",
                file,
                span,
                format!("{label} has both `steps` and `entries`; keep one"),
            );
            return None;
        }
        (None, None) => {
            diags
                .error("table-shape", file, span, format!("{label} has neither `steps` nor `entries`"))
                .help("numeric keys take `steps = [{ from = 0, to = 50, value = … }, …]`; text keys take `entries = { gold = …, … }`");
            return None;
        }
    };
    if key == TermKind::Percent
        && let TableRows::Steps(steps) = &rows
    {
        short_of_a_share(file, &label, steps, span.clone(), diags);
    }
    Some(StepTable {
        name,
        key,
        second_key,
        value,
        rows,
        span,
    })
}

/// Warns of a table keyed by a percentage whose steps leave part of 0–100 % uncovered: a
/// share there fails the member's decision. `to` is exclusive, so a last step `to = 100` leaves
/// out exactly 100 %.
fn short_of_a_share(
    file: &SourceFile,
    label: &str,
    steps: &[Step],
    span: Range<usize>,
    diags: &mut Diagnostics,
) {
    if let Some(from) = steps.first().and_then(|s| s.from)
        && from > Decimal::ZERO
    {
        diags
            .warning(
                "table-short",
                file,
                span.clone(),
                format!("{label} starts at {from}%: a share below it finds no step"),
            )
            .help("leave `from` off the first step");
    }
    if let Some(to) = steps.last().and_then(|s| s.to)
        && to <= Decimal::ONE_HUNDRED
    {
        diags
            .warning(
                "table-short",
                file,
                span,
                if to == Decimal::ONE_HUNDRED {
                    format!("{label} stops below 100% (`to` is exclusive): a share of exactly 100% finds no step")
                } else {
                    format!("{label} stops below {to}%: a share from {to}% up to 100% finds no step")
                },
            )
            .help("leave `to` off the last step");
    }
}

/// One row's cell: its value, or in a two-key table, its table by the second key — text
/// entries (`{ insulin = 40, no_insulin = 30 }`) or steps of their own, checked as any steps.
fn read_cell(
    file: &SourceFile,
    row: &str,
    second_key: Option<TermKind>,
    value: TermKind,
    raw: &super::toml_reader::Value<'_>,
    diags: &mut Diagnostics,
) -> Option<Cell> {
    let plain = |label: &str, raw: &super::toml_reader::Value<'_>, diags: &mut Diagnostics| {
        match cell_value(value, raw.get_ref()) {
            Ok(v) => Some(Cell::Value(v)),
            Err(problem) => {
                diags.error(
                    "table-value",
                    file,
                    raw.span(),
                    format!("{label}: {problem}"),
                );
                None
            }
        }
    };
    match (second_key, raw.get_ref()) {
        (None, _) => plain(row, raw, diags),
        (Some(TermKind::Text), DeValue::Table(t)) => {
            let mut entries = Vec::new();
            for (k, v) in t.iter() {
                let label = format!("`{}` in {row}", k.get_ref());
                if let Some(c) = plain(&label, v, diags) {
                    entries.push((k.get_ref().to_string(), c));
                }
            }
            Some(Cell::Inner(TableRows::Entries(entries)))
        }
        (Some(TermKind::Text), other) => {
            diags.error(
                "table-shape",
                file,
                raw.span(),
                format!("{row} must be a table by the second key, such as `{{ insulin = 40, no_insulin = 30 }}`, not {}", kind_of(other)),
            );
            None
        }
        (Some(_), DeValue::Array(steps)) => {
            let label = format!("the second key's steps in {row}");
            read_steps(file, &label, steps, &raw.span(), &plain, diags)
                .map(|s| Cell::Inner(TableRows::Steps(s)))
        }
        (Some(_), other) => {
            diags.error(
                "table-shape",
                file,
                raw.span(),
                format!("{row} must be steps by the second key, such as `[{{ to = 65, value = 10 }}, {{ from = 65, value = 15 }}]`, not {}", kind_of(other)),
            );
            None
        }
    }
}

/// Every row of a two-key table with text entries by the second key names the same ones: a
/// cell one row lacks would fail a member at payout.
fn same_second_keys(
    file: &SourceFile,
    label: &str,
    rows: &[(String, Cell)],
    span: Range<usize>,
    diags: &mut Diagnostics,
) {
    let names = |c: &Cell| -> Option<Vec<String>> {
        match c {
            Cell::Inner(TableRows::Entries(e)) => {
                let mut n: Vec<String> = e.iter().map(|(k, _)| k.clone()).collect();
                n.sort();
                Some(n)
            }
            _ => None,
        }
    };
    let Some((first_row, first)) = rows.first().and_then(|(k, c)| Some((k, names(c)?))) else {
        return;
    };
    for (row, cell) in rows.iter().skip(1) {
        if let Some(these) = names(cell)
            && these != first
        {
            diags.error(
                "table-gap",
                file,
                span.clone(),
                format!(
                    "{label}: row `{row}` has second keys `{}`, but row `{first_row}` has `{}`; every row needs the same",
                    these.join("`, `"),
                    first.join("`, `")
                ),
            );
        }
    }
}

/// A table cell's value, by the table's declared value type.
fn cell_value(kind: TermKind, raw: &DeValue<'_>) -> Result<TermValue, String> {
    match kind {
        TermKind::Count | TermKind::Days | TermKind::Minutes => match raw {
            DeValue::Integer(i) => integer_of(i).map(TermValue::Integer),
            other => Err(format!("expected a whole number, found {}", kind_of(other))),
        },
        TermKind::Text => match raw {
            DeValue::String(s) => Ok(TermValue::Text(s.to_string())),
            other => Err(format!("expected a string, found {}", kind_of(other))),
        },
        TermKind::Flag => match raw {
            DeValue::Boolean(b) => Ok(TermValue::Flag(*b)),
            other => Err(format!("expected true or false, found {}", kind_of(other))),
        },
        TermKind::Money | TermKind::Percent | TermKind::Decimal | TermKind::Glucose => {
            let d = decimal_of(raw)?;
            if kind == TermKind::Money && d.is_sign_negative() && !d.is_zero() {
                return Err(format!("{d} is negative; money values are ≥ 0"));
            }
            Ok(TermValue::Decimal(d))
        }
    }
}

/// What one row of a table holds, read by the table's kinds.
type ReadCell<'c> =
    dyn Fn(&str, &super::toml_reader::Value<'_>, &mut Diagnostics) -> Option<Cell> + 'c;

fn read_steps(
    file: &SourceFile,
    label: &str,
    raw: &[super::toml_reader::Value<'_>],
    table_span: &Range<usize>,
    cell: &ReadCell<'_>,
    diags: &mut Diagnostics,
) -> Option<Vec<Step>> {
    let before = diags.len();
    let mut steps: Vec<(Step, Range<usize>)> = Vec::new();
    for (i, item) in raw.iter().enumerate() {
        let DeValue::Table(t) = item.get_ref() else {
            diags.error("table-step", file, item.span(), format!("step {} of {label} must be a table such as `{{ from = 0, to = 50, value = 10 }}`", i + 1));
            continue;
        };
        let mut r = TableReader::new(file, format!("step {} of {label}", i + 1), t, item.span());
        let from = r.decimal("from", diags).map(|(d, _)| d);
        let to = r.decimal("to", diags).map(|(d, _)| d);
        let value = r.required("value", "the step's value", diags);
        let row = format!("step {} of {label}", i + 1);
        let value = value.and_then(|v| cell(&row, v, diags));
        r.finish(diags);
        if let (Some(f), Some(t)) = (from, to)
            && f >= t
        {
            diags.error(
                "table-step",
                file,
                item.span(),
                format!(
                    "step {} of {label} runs from {f} to {t}: `from` must be below `to`",
                    i + 1
                ),
            );
        }
        if let Some(value) = value {
            steps.push((Step { from, to, value }, item.span()));
        }
    }
    if steps.is_empty() && diags.len() == before {
        diags.error(
            "table-step",
            file,
            table_span.clone(),
            format!("{label} has no steps"),
        );
    }
    for pair in steps.windows(2) {
        let [(a, _), (b, b_span)] = pair else {
            continue;
        };
        match (a.to, b.from) {
            (Some(end), Some(start)) if start > end => {
                diags
                    .error(
                        "table-gap",
                        file,
                        b_span.clone(),
                        format!("{label} has a gap: no step covers keys from {end} up to {start}"),
                    )
                    .help(format!("start this step at `from = {end}`"));
            }
            (Some(end), Some(start)) if start < end => {
                diags
                    .error(
                        "table-overlap",
                        file,
                        b_span.clone(),
                        format!(
                            "{label} has an overlap: keys from {start} up to {end} are in two steps"
                        ),
                    )
                    .help(format!("start this step at `from = {end}`"));
            }
            (None, _) => {
                diags.error("table-overlap", file, b_span.clone(), format!("{label}: a step follows one with no `to` (which already covers every key above it)"));
            }
            (_, None) => {
                diags.error(
                    "table-overlap",
                    file,
                    b_span.clone(),
                    format!("{label}: only the first step may leave out `from`"),
                );
            }
            _ => {}
        }
    }
    (diags.len() == before).then(|| steps.into_iter().map(|(s, _)| s).collect())
}
