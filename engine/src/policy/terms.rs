//! Typed, unit-carrying terms of a policy: the numbers an insurer negotiates, kept out of the
//! script so that changing a premium or a threshold never means editing code.
//!
//! ```toml
//! [terms]
//! monthly_premium = { type = "money", value = 100.00, description = "premium per month" }
//! fasting_target_share = { type = "percent", value = 70 }
//! hyper_alert = { type = "glucose", value = 13.9, unit = "mmol/L" }
//! ```
//!
//! A script reads them as `terms.monthly_premium`. Terms are constants of a policy version, so
//! they are folded into the compiled script once and cost nothing per member.

use super::diagnostics::{Diagnostics, SourceFile};
use super::toml_reader::{TableReader, decimal_of, integer_of, kind_of};
use crate::glucose::{GlucoseUnit, MG_DL_PER_MMOL_L};
use rust_decimal::Decimal;
use serde::Serialize;
use std::ops::Range;
use toml::de::{DeTable, DeValue};

/// What a term holds, and so which values it accepts and how a script sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TermKind {
    /// An amount in the policy's currency (a decimal).
    Money,
    /// A percentage, 70 meaning 70 % (a decimal).
    Percent,
    /// A whole number of things, ≥ 0 (an integer).
    Count,
    /// A whole number of days, ≥ 0 (an integer).
    Days,
    /// A whole number of minutes, ≥ 0 (an integer).
    Minutes,
    /// A glucose level with its unit; scripts see mg/dL (a decimal).
    Glucose,
    /// A unitless decimal, such as a multiplier.
    Decimal,
    /// Text, such as a tier name.
    Text,
    /// true or false.
    Flag,
}

impl TermKind {
    pub const ALL: [(&'static str, TermKind); 9] = [
        ("money", Self::Money),
        ("percent", Self::Percent),
        ("count", Self::Count),
        ("days", Self::Days),
        ("minutes", Self::Minutes),
        ("glucose", Self::Glucose),
        ("decimal", Self::Decimal),
        ("text", Self::Text),
        ("flag", Self::Flag),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("decimal", |(n, _)| n)
    }
}

/// A term's value as the script sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum TermValue {
    Decimal(Decimal),
    Integer(i64),
    Text(String),
    Flag(bool),
}

/// One term of a policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Term {
    pub name: String,
    pub kind: TermKind,
    pub value: TermValue,
    /// For glucose terms, the unit the author wrote; the value is in mg/dL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<GlucoseUnit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip)]
    pub span: Range<usize>,
}

impl Term {
    /// The value as a decimal, for money and percent terms used in caps.
    pub fn decimal(&self) -> Option<Decimal> {
        match self.value {
            TermValue::Decimal(d) => Some(d),
            TermValue::Integer(i) => Some(Decimal::from(i)),
            _ => None,
        }
    }
}

/// A valid script identifier: what `terms.NAME` and `tables.NAME` can name.
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Reads `[terms]`, reporting every term that is malformed.
pub(crate) fn read_terms(
    file: &SourceFile,
    table: &DeTable<'_>,
    diags: &mut Diagnostics,
) -> Vec<Term> {
    let mut terms = Vec::new();
    for (key, value) in table.iter() {
        let name = key.get_ref().to_string();
        if !is_identifier(&name) {
            diags
                .error(
                    "term-name",
                    file,
                    key.span(),
                    format!("term name `{name}` is not usable in a script"),
                )
                .help("use lowercase letters, digits and `_`, starting with a letter");
        }
        let DeValue::Table(spec) = value.get_ref() else {
            diags
                .error(
                    "term-type",
                    file,
                    value.span(),
                    format!("term `{name}` must be a table such as `{{ type = \"money\", value = 100.00 }}`, not {}", kind_of(value.get_ref())),
                );
            continue;
        };
        let mut reader = TableReader::new(file, format!("term `{name}`"), spec, value.span());
        let kind = match reader.required_string(
            "type",
            "one of money, percent, count, days, minutes, glucose, decimal, text, flag",
            diags,
        ) {
            Some((t, span)) => match TermKind::ALL.iter().find(|(n, _)| *n == t) {
                Some((_, k)) => Some(*k),
                None => {
                    diags
                        .error("term-type", file, span, format!("term `{name}` has unknown type `{t}`"))
                        .help("use one of money, percent, count, days, minutes, glucose, decimal, text, flag");
                    None
                }
            },
            None => None,
        };
        let description = reader
            .string("description", diags)
            .map(|(s, _)| s.to_owned());
        let unit = if kind == Some(TermKind::Glucose) {
            match reader.required_string("unit", "mg/dL or mmol/L", diags) {
                Some((u, span)) => {
                    match GlucoseUnit::parse(u) {
                        Ok(unit) => Some(unit),
                        Err(_) => {
                            diags.error("term-unit", file, span, format!("term `{name}` has unknown glucose unit `{u}` (use mg/dL or mmol/L)"));
                            None
                        }
                    }
                }
                None => None,
            }
        } else {
            None
        };
        let raw = reader.required("value", "the term's value", diags);
        reader.finish(diags);
        let (Some(kind), Some(raw)) = (kind, raw) else {
            continue;
        };
        if kind == TermKind::Glucose && unit.is_none() {
            continue;
        }
        match term_value(kind, unit, raw.get_ref()) {
            Ok(value) => {
                plausible(file, &name, kind, unit, &value, raw.span(), diags);
                terms.push(Term {
                    name,
                    kind,
                    value,
                    unit,
                    description,
                    span: key.span(),
                })
            }
            Err(problem) => {
                diags.error(
                    "term-value",
                    file,
                    raw.span(),
                    format!(
                        "term `{name}` is declared {} but its value {problem}",
                        kind.name()
                    ),
                );
            }
        }
    }
    terms
}

/// Glucose a meter reads: outside it a term is a unit slip (54 written as mmol/L is 972 mg/dL).
const GLUCOSE_PLAUSIBLE_MG_DL: (i64, i64) = (20, 600);

/// Warns of a value a term can hold but an author is unlikely to mean: glucose beyond what a
/// meter reads in the unit given, a percent outside 0–100.
fn plausible(
    file: &SourceFile,
    name: &str,
    kind: TermKind,
    unit: Option<GlucoseUnit>,
    value: &TermValue,
    span: Range<usize>,
    diags: &mut Diagnostics,
) {
    let TermValue::Decimal(v) = value else {
        return;
    };
    let (lo, hi) = GLUCOSE_PLAUSIBLE_MG_DL;
    match kind {
        TermKind::Glucose if *v < Decimal::from(lo) || *v > Decimal::from(hi) => {
            let d = diags.warning(
                "term-plausible",
                file,
                span,
                format!(
                    "term `{name}` is {} mg/dL, outside the {lo}–{hi} mg/dL a meter reads",
                    v.round_dp(1).normalize()
                ),
            );
            match unit {
                Some(GlucoseUnit::MmolL) => {
                    let written = (*v / Decimal::from(MG_DL_PER_MMOL_L as i64))
                        .round_dp(2)
                        .normalize();
                    d.help(format!(
                        "if you meant {written} mg/dL, write unit = \"mg/dL\""
                    ))
                }
                _ => d.help(format!(
                    "if you meant {} mmol/L, write unit = \"mmol/L\"",
                    v.normalize()
                )),
            };
        }
        TermKind::Percent if *v < Decimal::ZERO || *v > Decimal::ONE_HUNDRED => {
            diags
                .warning(
                    "term-plausible",
                    file,
                    span,
                    format!("term `{name}` is {v}%, outside 0–100%"),
                )
                .help("a change rather than a share (a premium adjustment) is a `decimal` term");
        }
        _ => {}
    }
}

fn term_value(
    kind: TermKind,
    unit: Option<GlucoseUnit>,
    raw: &DeValue<'_>,
) -> Result<TermValue, String> {
    match kind {
        TermKind::Money | TermKind::Percent | TermKind::Decimal => {
            let d = decimal_of(raw).map_err(|e| format!("is not a decimal: {e}"))?;
            if kind == TermKind::Money && d.is_sign_negative() && !d.is_zero() {
                return Err(format!("{d} is negative; money terms are amounts ≥ 0"));
            }
            Ok(TermValue::Decimal(d))
        }
        TermKind::Glucose => {
            let d = decimal_of(raw).map_err(|e| format!("is not a decimal: {e}"))?;
            if d <= Decimal::ZERO {
                return Err(format!("{d} is not a positive glucose level"));
            }
            let mg_dl = match unit {
                Some(GlucoseUnit::MmolL) => d
                    .checked_mul(Decimal::from(MG_DL_PER_MMOL_L as i64))
                    .ok_or_else(|| format!("{d} mmol/L is too large"))?,
                _ => d,
            };
            Ok(TermValue::Decimal(mg_dl.normalize()))
        }
        TermKind::Count | TermKind::Days | TermKind::Minutes => match raw {
            DeValue::Integer(i) => {
                let n = integer_of(i)?;
                if n < 0 {
                    return Err(format!("{n} is negative"));
                }
                Ok(TermValue::Integer(n))
            }
            other => Err(format!("is {}, not a whole number", kind_of(other))),
        },
        TermKind::Text => match raw {
            DeValue::String(s) => Ok(TermValue::Text(s.to_string())),
            other => Err(format!("is {}, not a string", kind_of(other))),
        },
        TermKind::Flag => match raw {
            DeValue::Boolean(b) => Ok(TermValue::Flag(*b)),
            other => Err(format!("is {}, not true or false", kind_of(other))),
        },
    }
}
