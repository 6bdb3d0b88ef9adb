//! Reading `policy.toml` and case files value by value, keeping every value's position.
//!
//! Serde stops at the first error; an author wants all of them. So the file is parsed into
//! toml's spanned tree and read here by hand: each accessor records what it found wrong in
//! [`Diagnostics`] and returns `None`, and [`TableReader::finish`] reports keys nobody asked
//! for (usually a typo). Numbers are read from their source text, so `100.10` is the
//! decimal 100.10 and never passes through a float.

use super::diagnostics::{Diagnostics, SourceFile};
use rust_decimal::Decimal;
use std::ops::Range;
use std::str::FromStr;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

pub(crate) type Value<'i> = Spanned<DeValue<'i>>;

/// Parses a TOML file, reporting syntax errors. `None` if nothing usable came out.
pub(crate) fn parse<'i>(
    file: &'i SourceFile,
    diags: &mut Diagnostics,
) -> Option<Spanned<DeTable<'i>>> {
    let (table, errors) = DeTable::parse_recoverable(&file.text);
    let failed = !errors.is_empty();
    for e in errors {
        let span = e.span().unwrap_or(0..0);
        diags.error("toml-syntax", file, span, e.message().trim().to_owned());
    }
    (!failed).then_some(table)
}

/// What a TOML value is, in words, for messages.
pub(crate) fn kind_of(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a number",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// The exact decimal a TOML number or numeric string stands for.
pub(crate) fn decimal_of(value: &DeValue<'_>) -> Result<Decimal, String> {
    let text = match value {
        DeValue::Integer(i) if i.radix() == 10 => i.as_str().replace('_', ""),
        DeValue::Float(f) => f.as_str().replace('_', ""),
        DeValue::String(s) => s.trim().to_owned(),
        other => return Err(format!("expected a number, found {}", kind_of(other))),
    };
    Decimal::from_str_exact(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map_err(|_| {
            format!("`{text}` is not a decimal number within ±7.9e28 and 28 decimal places")
        })
}

/// The integer a TOML integer stands for, in whatever radix it was written.
pub(crate) fn integer_of(i: &toml::de::DeInteger<'_>) -> Result<i64, String> {
    i64::from_str_radix(&i.as_str().replace('_', ""), i.radix())
        .map_err(|_| format!("`{}` does not fit a 64-bit integer", i.as_str()))
}

/// Reads one table's keys, remembering which were used.
pub(crate) struct TableReader<'t, 'i> {
    pub file: &'t SourceFile,
    /// How messages name this table, such as `[caps]` or `term \`monthly_premium\``.
    pub label: String,
    pub table: &'t DeTable<'i>,
    pub span: Range<usize>,
    used: Vec<&'static str>,
}

impl<'t, 'i> TableReader<'t, 'i> {
    pub fn new(
        file: &'t SourceFile,
        label: impl Into<String>,
        table: &'t DeTable<'i>,
        span: Range<usize>,
    ) -> Self {
        Self {
            file,
            label: label.into(),
            table,
            span,
            used: Vec::new(),
        }
    }

    /// The value under `key`, if present.
    pub fn get(&mut self, key: &'static str) -> Option<&'t Value<'i>> {
        self.used.push(key);
        self.table.get(key)
    }

    /// Reports a missing required key at the table itself.
    pub fn missing(&self, key: &str, what: &str, diags: &mut Diagnostics) {
        diags
            .error(
                "missing-field",
                self.file,
                self.span.clone(),
                format!("{} has no `{key}`", self.label),
            )
            .help(format!("add `{key} = …` ({what})"));
    }

    pub fn required(
        &mut self,
        key: &'static str,
        what: &str,
        diags: &mut Diagnostics,
    ) -> Option<&'t Value<'i>> {
        let v = self.get(key);
        if v.is_none() {
            self.missing(key, what, diags);
        }
        v
    }

    pub fn string(
        &mut self,
        key: &'static str,
        diags: &mut Diagnostics,
    ) -> Option<(&'t str, Range<usize>)> {
        let v = self.get(key)?;
        match v.get_ref() {
            DeValue::String(s) => Some((s.as_ref(), v.span())),
            other => {
                self.wrong(key, v, "a string", other, diags);
                None
            }
        }
    }

    pub fn required_string(
        &mut self,
        key: &'static str,
        what: &str,
        diags: &mut Diagnostics,
    ) -> Option<(&'t str, Range<usize>)> {
        if self.table.get(key).is_none() {
            self.used.push(key);
            self.missing(key, what, diags);
            return None;
        }
        self.string(key, diags)
    }

    pub fn decimal(
        &mut self,
        key: &'static str,
        diags: &mut Diagnostics,
    ) -> Option<(Decimal, Range<usize>)> {
        let v = self.get(key)?;
        match decimal_of(v.get_ref()) {
            Ok(d) => Some((d, v.span())),
            Err(problem) => {
                diags.error(
                    "field-type",
                    self.file,
                    v.span(),
                    format!("`{key}` in {}: {problem}", self.label),
                );
                None
            }
        }
    }

    pub fn integer(
        &mut self,
        key: &'static str,
        diags: &mut Diagnostics,
    ) -> Option<(i64, Range<usize>)> {
        let v = self.get(key)?;
        match v.get_ref() {
            DeValue::Integer(i) => match integer_of(i) {
                Ok(n) => Some((n, v.span())),
                Err(problem) => {
                    diags.error(
                        "field-type",
                        self.file,
                        v.span(),
                        format!("`{key}` in {}: {problem}", self.label),
                    );
                    None
                }
            },
            other => {
                self.wrong(key, v, "an integer", other, diags);
                None
            }
        }
    }

    pub fn boolean(
        &mut self,
        key: &'static str,
        diags: &mut Diagnostics,
    ) -> Option<(bool, Range<usize>)> {
        let v = self.get(key)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some((*b, v.span())),
            other => {
                self.wrong(key, v, "true or false", other, diags);
                None
            }
        }
    }

    /// A calendar date, written as a TOML date (`2026-01-01`) or a string holding one.
    pub fn date(
        &mut self,
        key: &'static str,
        diags: &mut Diagnostics,
    ) -> Option<(chrono::NaiveDate, Range<usize>)> {
        let v = self.get(key)?;
        let text = match v.get_ref() {
            DeValue::Datetime(d) => d.to_string(),
            DeValue::String(s) => s.to_string(),
            other => {
                self.wrong(key, v, "a date such as 2026-01-01", other, diags);
                return None;
            }
        };
        match chrono::NaiveDate::from_str(&text) {
            Ok(d) => Some((d, v.span())),
            Err(_) => {
                diags.error(
                    "field-type",
                    self.file,
                    v.span(),
                    format!(
                        "`{key}` in {}: `{text}` is not a date such as 2026-01-01",
                        self.label
                    ),
                );
                None
            }
        }
    }

    pub fn table(
        &mut self,
        key: &'static str,
        diags: &mut Diagnostics,
    ) -> Option<(&'t DeTable<'i>, Range<usize>)> {
        let v = self.get(key)?;
        match v.get_ref() {
            DeValue::Table(t) => Some((t, v.span())),
            other => {
                self.wrong(key, v, "a table", other, diags);
                None
            }
        }
    }

    pub fn array(
        &mut self,
        key: &'static str,
        diags: &mut Diagnostics,
    ) -> Option<(&'t [Value<'i>], Range<usize>)> {
        let v = self.get(key)?;
        match v.get_ref() {
            DeValue::Array(a) => Some((a.as_ref(), v.span())),
            other => {
                self.wrong(key, v, "an array", other, diags);
                None
            }
        }
    }

    fn wrong(
        &self,
        key: &str,
        v: &Value<'_>,
        wanted: &str,
        found: &DeValue<'_>,
        diags: &mut Diagnostics,
    ) {
        diags.error(
            "field-type",
            self.file,
            v.span(),
            format!(
                "`{key}` in {} must be {wanted}, not {}",
                self.label,
                kind_of(found)
            ),
        );
    }

    /// Reports every key that no accessor asked for.
    pub fn finish(self, diags: &mut Diagnostics) {
        for (key, _) in self.table.iter() {
            if !self.used.contains(&key.get_ref().as_ref()) {
                let mut expected = self.used.clone();
                expected.sort_unstable();
                expected.dedup();
                diags
                    .error(
                        "unknown-field",
                        self.file,
                        key.span(),
                        format!("unknown field `{}` in {}", key.get_ref(), self.label),
                    )
                    .help(format!("expected one of `{}`", expected.join("`, `")));
            }
        }
    }
}
