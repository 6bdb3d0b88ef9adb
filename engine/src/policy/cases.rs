//! `cases/*.toml`: example records and the decision each must produce — the policy author's
//! tests, run by `incentive policy test` and by `cargo test` for every package.
//!
//! ```toml
//! description = "measured on 12 days, 80 % of fasting readings in target: full rebate"
//! period = "2026-03"
//! readings = """
//! time,glucose_mmol_l,context
//! 2026-03-01T07:00:00+08:00,5.6,fasting
//! """                                  # or readings_file = "m1.csv", a file in cases/
//! labs = [{ time = "2026-01-10T09:00:00+08:00", hba1c_percent = 7.2 }]
//!
//! [member]
//! id = "M001"
//! age = 56
//!
//! [history]
//! outcomes = [{ period = "2026-02", reward = 20, qualified = true }]
//!
//! [expect]
//! reward = 30.00
//! qualified = true
//! flags = []
//! explanation_includes = ["12 days"]
//! ```

use super::attributes::AttributeValue;
use super::diagnostics::{Diagnostics, SourceFile};
use super::evaluate::{EvaluationInput, Policy};
use super::inputs::{AGE_YEARS_MAX, DIABETES_TYPES, History, MemberProfile, PriorOutcome, SEXES};
use super::record_view::{Metric, MetricValue};
use super::toml_reader::{TableReader, decimal_of, integer_of, kind_of, parse};
use crate::ingest::{CsvOptions, read_readings_csv};
use crate::lab::{Hba1c, LabResult};
use crate::member::MemberId;
use crate::period::Period;
use crate::readings::Readings;
use crate::time::parse_timestamp;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use std::ops::Range;
use toml::de::{DeTable, DeValue};

/// What a case expects; fields left out are not checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expectation {
    pub reward: Option<Decimal>,
    pub premium_adjustment_percent: Option<Decimal>,
    /// `Some(None)`: expects no tier (`tier = ""`).
    pub tier: Option<Option<String>>,
    pub points: Option<i64>,
    pub qualified: Option<bool>,
    pub flags: Option<Vec<String>>,
    pub explanation_includes: Vec<String>,
    /// Lines the explanation must have in other locales: `[expect.explanation_in]`,
    /// `"zh-CN" = ["…"]`.
    pub explanation_in: BTreeMap<String, Vec<String>>,
    /// The evaluation must fail with a message containing this.
    pub error_includes: Option<String>,
}

/// One example record and its expected decision.
#[derive(Clone, Debug)]
pub struct Case {
    /// The file, such as `cases/full-rebate.toml`.
    pub name: String,
    pub description: String,
    pub period: Period,
    pub member: MemberProfile,
    pub history: History,
    pub readings: Readings,
    pub labs: Vec<LabResult>,
    pub expect: Expectation,
}

/// One field where the decision differs from the case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub field: String,
    pub expected: String,
    pub actual: String,
}

/// The result of running one case.
#[derive(Clone, Debug, Serialize)]
pub struct CaseOutcome {
    pub name: String,
    pub description: String,
    pub mismatches: Vec<Mismatch>,
    /// The decision's explanation, or the error, to show on failure.
    pub got: Vec<String>,
}

impl CaseOutcome {
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }
}

fn mismatch(field: &str, expected: impl ToString, actual: impl ToString) -> Mismatch {
    Mismatch {
        field: field.to_owned(),
        expected: expected.to_string(),
        actual: actual.to_string(),
    }
}

impl Case {
    /// What an evaluation of this case reads.
    pub fn input(&self) -> EvaluationInput<'_> {
        EvaluationInput {
            member: &self.member,
            period: self.period,
            readings: &self.readings,
            labs: &self.labs,
            history: &self.history,
        }
    }

    pub fn run(&self, policy: &Policy) -> CaseOutcome {
        let input = self.input();
        let e = &self.expect;
        let mut mismatches = Vec::new();
        let got = match policy.evaluate(&input) {
            Err(err) => {
                let message = err.to_string();
                match &e.error_includes {
                    Some(want) if message.contains(want.as_str()) => {}
                    Some(want) => mismatches.push(mismatch(
                        "error",
                        format!("an error containing `{want}`"),
                        &message,
                    )),
                    None => mismatches.push(mismatch(
                        "decision",
                        "a decision",
                        format!("error: {message}"),
                    )),
                }
                vec![message]
            }
            Ok(d) => {
                if let Some(want) = &e.error_includes {
                    mismatches.push(mismatch(
                        "error",
                        format!("an error containing `{want}`"),
                        "a decision",
                    ));
                }
                if let Some(r) = e.reward
                    && r != d.reward
                {
                    mismatches.push(mismatch("reward", r, d.reward));
                }
                if let Some(p) = e.premium_adjustment_percent
                    && p != d.premium_adjustment_percent
                {
                    mismatches.push(mismatch(
                        "premium_adjustment_percent",
                        p,
                        d.premium_adjustment_percent,
                    ));
                }
                if let Some(t) = &e.tier
                    && *t != d.tier
                {
                    mismatches.push(mismatch(
                        "tier",
                        t.as_deref().unwrap_or("(none)"),
                        d.tier.as_deref().unwrap_or("(none)"),
                    ));
                }
                if let Some(p) = e.points
                    && p != d.points
                {
                    mismatches.push(mismatch("points", p, d.points));
                }
                if let Some(q) = e.qualified
                    && q != d.qualified
                {
                    mismatches.push(mismatch("qualified", q, d.qualified));
                }
                if let Some(f) = &e.flags {
                    let (mut a, mut b) = (f.clone(), d.flags.clone());
                    a.sort();
                    b.sort();
                    if a != b {
                        mismatches.push(mismatch(
                            "flags",
                            format!("[{}]", a.join(", ")),
                            format!("[{}]", b.join(", ")),
                        ));
                    }
                }
                let catalogs = &policy.catalogs;
                let default = catalogs.negotiate(&[]);
                let wanted =
                    std::iter::once((default, "explanation".to_owned(), &e.explanation_includes))
                        .chain(e.explanation_in.iter().map(|(locale, want)| {
                            (
                                catalogs.negotiate(&[locale.as_str()]),
                                format!("explanation[{locale}]"),
                                want,
                            )
                        }));
                for (locale, field, wants) in wanted {
                    let lines = catalogs.explanation(locale, &d);
                    for want in wants {
                        // A line matches by its words in that locale, or by its message id.
                        let found = lines.iter().zip(&d.explanation).any(|(shown, line)| {
                            shown.contains(want.as_str())
                                || line.message_id() == Some(want.as_str())
                        });
                        if !found {
                            mismatches.push(mismatch(
                                &field,
                                format!("a line containing `{want}`"),
                                "none",
                            ));
                        }
                    }
                }
                // Every locale the package ships must be able to show the decision.
                for problem in catalogs.problems_showing(&d) {
                    mismatches.push(mismatch(
                        "explanation text",
                        "every message and argument in every locale",
                        problem,
                    ));
                }
                catalogs.explanation(default, &d)
            }
        };
        CaseOutcome {
            name: self.name.clone(),
            description: self.description.clone(),
            mismatches,
            got,
        }
    }
}

/// Reads `[member]` and `[history]` tables: the shape of a case and of `evaluate --history`.
pub(crate) fn read_member_and_history(
    file: &SourceFile,
    reader: &mut TableReader<'_, '_>,
    default_member: Option<&MemberId>,
    diags: &mut Diagnostics,
) -> (Option<MemberProfile>, History) {
    let member = match reader.table("member", diags) {
        Some((t, span)) => read_member(file, t, span, diags),
        None => match default_member {
            Some(id) => Some(MemberProfile::new(id.clone())),
            None => {
                reader.missing("member", "a [member] table with at least `id`", diags);
                None
            }
        },
    };
    let history = reader
        .table("history", diags)
        .map(|(t, span)| read_history(file, t, span, diags))
        .unwrap_or_default();
    (member, history)
}

fn read_member(
    file: &SourceFile,
    t: &DeTable<'_>,
    span: Range<usize>,
    diags: &mut Diagnostics,
) -> Option<MemberProfile> {
    let mut r = TableReader::new(file, "[member]", t, span);
    let id = r
        .required_string("id", "the member's identifier", diags)
        .and_then(|(s, span)| match MemberId::parse(s) {
            Ok(id) => Some(id),
            Err(e) => {
                diags.error("member", file, span, format!("member id: {e}"));
                None
            }
        });
    let age = r
        .integer("age", diags)
        .and_then(|(a, span)| match u32::try_from(a) {
            Ok(a) if a <= AGE_YEARS_MAX => Some(a),
            _ => {
                diags.error(
                    "member",
                    file,
                    span,
                    format!("age {a} is outside 0–{AGE_YEARS_MAX} years"),
                );
                None
            }
        });
    let one_of = |r: &mut TableReader<'_, '_>,
                  key: &'static str,
                  allowed: &[&str],
                  diags: &mut Diagnostics| {
        r.string(key, diags).and_then(|(s, span)| {
            if allowed.contains(&s) {
                Some(s.to_owned())
            } else {
                diags.error(
                    "member",
                    file,
                    span,
                    format!("{key} `{s}` must be one of {}", allowed.join(", ")),
                );
                None
            }
        })
    };
    let sex = one_of(&mut r, "sex", &SEXES, diags);
    let diabetes_type = one_of(&mut r, "diabetes_type", &DIABETES_TYPES, diags);
    let region = r.string("region", diags).map(|(s, _)| s.to_owned());
    let insulin = r.boolean("insulin", diags).map(|(b, _)| b);
    let enrolled_on = r.date("enrolled_on", diags).map(|(d, _)| d);
    let attributes = r
        .table("attributes", diags)
        .map(|(t, span)| case_attributes(file, t, span, diags))
        .unwrap_or_default();
    r.finish(diags);
    Some(MemberProfile {
        id: id?,
        age,
        sex,
        region,
        diabetes_type,
        insulin,
        enrolled_on,
        attributes,
    })
}

fn read_history(
    file: &SourceFile,
    t: &DeTable<'_>,
    span: Range<usize>,
    diags: &mut Diagnostics,
) -> History {
    let mut r = TableReader::new(file, "[history]", t, span);
    let premium_loading_percent = r
        .decimal("premium_loading_percent", diags)
        .map(|d| d.0)
        .unwrap_or_default();
    let pool_paid = r.decimal("pool_paid", diags).map(|d| d.0);
    let group_paid_this_year = r.decimal("group_paid_this_year", diags).map(|d| d.0);
    let mut outcomes = Vec::new();
    if let Some((items, _)) = r.array("outcomes", diags) {
        for (i, item) in items.iter().enumerate() {
            let DeValue::Table(o) = item.get_ref() else {
                diags.error("history", file, item.span(), format!("outcome {} must be a table such as `{{ period = \"2026-02\", reward = 20 }}`", i + 1));
                continue;
            };
            let mut or = TableReader::new(
                file,
                format!("outcome {} of [history]", i + 1),
                o,
                item.span(),
            );
            let period = or
                .required_string("period", "such as \"2026-02\"", diags)
                .and_then(|(p, span)| match Period::parse(p) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        diags.error("history", file, span, e.to_string());
                        None
                    }
                });
            let outcome = period.map(|period| PriorOutcome {
                period,
                reward: or.decimal("reward", diags).map(|d| d.0).unwrap_or_default(),
                premium_adjustment_percent: or
                    .decimal("premium_adjustment_percent", diags)
                    .map(|d| d.0)
                    .unwrap_or_default(),
                tier: or.string("tier", diags).map(|(s, _)| s.to_owned()),
                points: or.integer("points", diags).map(|d| d.0).unwrap_or_default(),
                qualified: or
                    .boolean("qualified", diags)
                    .map(|d| d.0)
                    .unwrap_or_default(),
                metrics: or
                    .table("metrics", diags)
                    .map(|(t, _)| kept_metrics(file, t, diags))
                    .unwrap_or_default(),
            });
            or.finish(diags);
            outcomes.extend(outcome);
        }
    }
    r.finish(diags);
    History {
        outcomes,
        premium_loading_percent,
        pool_paid,
        group_paid_this_year,
    }
}

/// A case member's declared attributes: `attributes = { monthly_premium = "80.00" }`, each a
/// string, a whole number or a flag, as the platform sends them (a date or money as a string).
fn case_attributes(
    file: &SourceFile,
    t: &DeTable<'_>,
    span: Range<usize>,
    diags: &mut Diagnostics,
) -> BTreeMap<String, AttributeValue> {
    let mut out = BTreeMap::new();
    for (key, value) in t.iter() {
        let v = match value.get_ref() {
            DeValue::String(s) => Some(AttributeValue::Text(s.to_string())),
            DeValue::Integer(i) => integer_of(i).ok().map(AttributeValue::Integer),
            DeValue::Boolean(b) => Some(AttributeValue::Flag(*b)),
            _ => None,
        };
        match v {
            Some(v) => {
                out.insert(key.get_ref().to_string(), v);
            }
            None => {
                diags.error(
                    "member",
                    file,
                    value.span(),
                    format!(
                        "attribute `{}` must be a string, a whole number or true/false (money as a string such as \"80.00\"), not {}",
                        key.get_ref(),
                        kind_of(value.get_ref())
                    ),
                );
            }
        }
    }
    if let Err(why) = super::attributes::check_attributes(&out) {
        diags.error("member", file, span, why);
    }
    out
}

/// An earlier period's kept metrics in a case: `metrics = { tir_percent = 74.2 }`, each a
/// metric of the record, a number.
fn kept_metrics(
    file: &SourceFile,
    t: &DeTable<'_>,
    diags: &mut Diagnostics,
) -> BTreeMap<String, MetricValue> {
    let mut out = BTreeMap::new();
    for (key, value) in t.iter() {
        let name = key.get_ref().as_ref();
        let Some(metric) = Metric::ALL.iter().find(|m| m.name() == name) else {
            let d = diags.error(
                "history",
                file,
                key.span(),
                format!("`{name}` is not a metric of the record"),
            );
            if let Some(near) = super::kept::closest(name, Metric::ALL.iter().map(|m| m.name())) {
                d.help(format!("did you mean `{near}`?"));
            }
            continue;
        };
        let v = match value.get_ref() {
            DeValue::Integer(i) => integer_of(i).ok().map(MetricValue::Integer),
            DeValue::Float(_) => decimal_of(value.get_ref())
                .ok()
                .map(|d| MetricValue::Decimal(d.normalize())),
            _ => None,
        };
        match v {
            Some(v) => {
                out.insert(metric.name().to_owned(), v);
            }
            None => {
                diags.error(
                    "history",
                    file,
                    value.span(),
                    format!(
                        "`{name}` must be a number, not {}",
                        kind_of(value.get_ref())
                    ),
                );
            }
        }
    }
    out
}

/// Parses CSV readings for one member; a file without a `member_id` column is all theirs.
pub(crate) fn readings_for(
    file: &SourceFile,
    text: &str,
    first_line: usize,
    span: Range<usize>,
    member: &MemberId,
    diags: &mut Diagnostics,
) -> Option<Readings> {
    let has_member = text.lines().next().is_some_and(|h| {
        h.split(',')
            .any(|c| matches!(c.trim(), "member_id" | "patient_id"))
    });
    let text = if has_member {
        text.to_owned()
    } else {
        // Keep every line where it was, so error line numbers still point at the file.
        let mut header_seen = false;
        text.lines()
            .map(|l| {
                if l.trim().is_empty() {
                    String::new()
                } else if !header_seen {
                    header_seen = true;
                    format!("member_id,{l}")
                } else {
                    format!("{},{l}", member.as_str())
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let options = CsvOptions {
        source_name: file.name.clone(),
        ..CsvOptions::default()
    };
    match read_readings_csv(text.as_bytes(), &options, &mut |_| {}) {
        Ok(mut by_member) => Some(by_member.members.remove(member).unwrap_or_default()),
        Err(e) => {
            let message = e.to_string();
            // Point at the line of the case file the CSV line came from, when there is one.
            let line = message
                .split("line ")
                .nth(1)
                .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|n| n.parse::<usize>().ok());
            let at = line.map_or(span.start, |l| file.offset_of(first_line + l - 1, 1));
            diags.error(
                "case-readings",
                file,
                at..at,
                format!("readings: {message}"),
            );
            None
        }
    }
}

/// Reads `labs = [{ time, hba1c_percent }, …]`.
fn read_labs(
    file: &SourceFile,
    r: &mut TableReader<'_, '_>,
    diags: &mut Diagnostics,
) -> Vec<LabResult> {
    let mut labs = Vec::new();
    if let Some((items, _)) = r.array("labs", diags) {
        for (i, item) in items.iter().enumerate() {
            let DeValue::Table(t) = item.get_ref() else {
                diags.error(
                    "case",
                    file,
                    item.span(),
                    format!(
                        "lab {} must be a table such as `{{ time = \"…\", hba1c_percent = 7.2 }}`",
                        i + 1
                    ),
                );
                continue;
            };
            let mut lr = TableReader::new(file, format!("lab {}", i + 1), t, item.span());
            let time = lr
                .required_string("time", "RFC 3339 with an offset", diags)
                .and_then(|(s, span)| match parse_timestamp(s) {
                    Ok(t) => Some(t),
                    Err(e) => {
                        diags.error("case", file, span, format!("lab {}: {e}", i + 1));
                        None
                    }
                });
            let value =
                lr.decimal("hba1c_percent", diags).and_then(
                    |(d, span)| match Hba1c::from_percent(d) {
                        Ok(h) => Some(h),
                        Err(e) => {
                            diags.error("case", file, span, e.to_string());
                            None
                        }
                    },
                );
            if t.get("hba1c_percent").is_none() {
                lr.missing("hba1c_percent", "the HbA1c in %", diags);
            }
            lr.finish(diags);
            if let (Some(time), Some(hba1c)) = (time, value) {
                labs.push(LabResult { time, hba1c });
            }
        }
    }
    labs
}

/// Reads one case file; `files` are the package's other files (for `readings_file`).
pub(crate) fn read_case(
    file: &SourceFile,
    files: &[SourceFile],
    diags: &mut Diagnostics,
) -> Option<Case> {
    let before = diags.errors().count();
    let doc = parse(file, diags)?;
    let mut r = TableReader::new(file, file.name.clone(), doc.get_ref(), 0..0);
    let description = r
        .string("description", diags)
        .map(|(s, _)| s.to_owned())
        .unwrap_or_default();
    let period = r
        .required_string("period", "such as \"2026-03\"", diags)
        .and_then(|(p, span)| match Period::parse(p) {
            Ok(p) => Some(p),
            Err(e) => {
                diags.error("case", file, span, e.to_string());
                None
            }
        });
    let (member, history) = read_member_and_history(file, &mut r, None, diags);
    let inline = r.string("readings", diags);
    let named = r.string("readings_file", diags);
    let readings = match (&member, inline, named) {
        (None, ..) => None,
        (Some(m), Some((text, span)), None) => {
            // The string's first line of content follows the opening quotes' line.
            let (line, _) = file.line_column(span.start);
            let first = if file
                .text
                .get(span.start..)
                .is_some_and(|s| s.starts_with("\"\"\""))
            {
                line + 1
            } else {
                line
            };
            readings_for(file, text, first, span, &m.id, diags)
        }
        (Some(m), None, Some((name, span))) => {
            let path = format!("cases/{name}");
            match files.iter().find(|f| f.name == path) {
                Some(csv) => readings_for(csv, &csv.text, 1, 0..0, &m.id, diags),
                None => {
                    diags.error(
                        "case",
                        file,
                        span,
                        format!("readings_file `{name}` is not in cases/"),
                    );
                    None
                }
            }
        }
        (Some(_), None, None) => Some(Readings::default()),
        (Some(_), Some(_), Some((_, span))) => {
            diags.error(
                "case",
                file,
                span,
                "a case has `readings` or `readings_file`, not both",
            );
            None
        }
    };
    let labs = read_labs(file, &mut r, diags);
    let expect = match r.table("expect", diags) {
        Some((t, span)) => read_expect(file, t, span, diags),
        None => {
            r.missing(
                "expect",
                "an [expect] table with the decision's fields",
                diags,
            );
            None
        }
    };
    r.finish(diags);
    if diags.errors().count() > before {
        return None;
    }
    Some(Case {
        name: file.name.clone(),
        description,
        period: period?,
        member: member?,
        history,
        readings: readings?,
        labs,
        expect: expect?,
    })
}

fn read_expect(
    file: &SourceFile,
    t: &DeTable<'_>,
    span: Range<usize>,
    diags: &mut Diagnostics,
) -> Option<Expectation> {
    let mut r = TableReader::new(file, "[expect]", t, span.clone());
    let strings = |r: &mut TableReader<'_, '_>,
                   key: &'static str,
                   diags: &mut Diagnostics|
     -> Option<Vec<String>> {
        let (items, _) = r.array(key, diags)?;
        let mut out = Vec::new();
        for item in items {
            match item.get_ref() {
                DeValue::String(s) => out.push(s.to_string()),
                _ => {
                    diags.error(
                        "field-type",
                        file,
                        item.span(),
                        format!("`{key}` in [expect] holds strings only"),
                    );
                }
            }
        }
        Some(out)
    };
    let e = Expectation {
        reward: r.decimal("reward", diags).map(|d| d.0),
        premium_adjustment_percent: r.decimal("premium_adjustment_percent", diags).map(|d| d.0),
        tier: r
            .string("tier", diags)
            .map(|(s, _)| (!s.is_empty()).then(|| s.to_owned())),
        points: r.integer("points", diags).map(|d| d.0),
        qualified: r.boolean("qualified", diags).map(|d| d.0),
        flags: strings(&mut r, "flags", diags),
        explanation_includes: strings(&mut r, "explanation_includes", diags).unwrap_or_default(),
        explanation_in: explanation_in(file, &mut r, diags),
        error_includes: r.string("error_includes", diags).map(|(s, _)| s.to_owned()),
    };
    r.finish(diags);
    if e == Expectation::default() {
        diags.error(
            "case",
            file,
            span,
            "[expect] checks nothing; name at least one field of the decision",
        );
        return None;
    }
    Some(e)
}

/// `[expect.explanation_in]`: lines by locale, `"zh-CN" = ["…"]`.
fn explanation_in(
    file: &SourceFile,
    r: &mut TableReader<'_, '_>,
    diags: &mut Diagnostics,
) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    let Some((table, _)) = r.table("explanation_in", diags) else {
        return out;
    };
    for (locale, lines) in table {
        if locale
            .get_ref()
            .parse::<unic_langid::LanguageIdentifier>()
            .is_err()
        {
            diags.error(
                "field-type",
                file,
                locale.span(),
                format!(
                    "`{}` in [expect.explanation_in] is not a language tag such as `zh-CN`",
                    locale.get_ref()
                ),
            );
            continue;
        }
        let DeValue::Array(items) = lines.get_ref() else {
            diags.error(
                "field-type",
                file,
                lines.span(),
                "[expect.explanation_in] gives each locale an array of strings",
            );
            continue;
        };
        let mut wants = Vec::new();
        for item in items {
            match item.get_ref() {
                DeValue::String(s) => wants.push(s.to_string()),
                _ => {
                    diags.error(
                        "field-type",
                        file,
                        item.span(),
                        "[expect.explanation_in] holds strings only",
                    );
                }
            }
        }
        out.insert(locale.get_ref().to_string(), wants);
    }
    out
}

/// Reads a member file (`evaluate --history`): optional `[member]` attributes, `[history]`
/// of earlier outcomes and `labs`, the same tables a case has.
pub fn read_member_file(
    file: &SourceFile,
    member: &MemberId,
) -> Result<(MemberProfile, History, Vec<LabResult>), Diagnostics> {
    let mut diags = Diagnostics::new();
    let Some(doc) = parse(file, &mut diags) else {
        return Err(diags);
    };
    let mut r = TableReader::new(file, file.name.clone(), doc.get_ref(), 0..0);
    let (profile, history) = read_member_and_history(file, &mut r, Some(member), &mut diags);
    let labs = read_labs(file, &mut r, &mut diags);
    r.finish(&mut diags);
    if let Some(p) = &profile
        && p.id != *member
    {
        diags.error(
            "member",
            file,
            0..0,
            format!(
                "the file is about member `{}`, not `{}`",
                p.id.as_str(),
                member.as_str()
            ),
        );
    }
    match profile {
        Some(p) if !diags.has_errors() => Ok((p, history, labs)),
        _ => Err(diags.sorted()),
    }
}
