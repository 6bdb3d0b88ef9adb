//! `policy.toml`: who offers the plan, when it applies, its terms, tables, caps and rounding.

use super::attributes::{Declared, read_attributes};
use super::diagnostics::{Diagnostics, SourceFile};
use super::kept::{HistoryKeep, read_history};
use super::tables::{StepTable, read_tables};
use super::terms::{Term, TermKind, read_terms};
use super::toml_reader::{TableReader, Value, decimal_of, parse};
use crate::period::PeriodKind;
use chrono::NaiveDate;
use chrono_tz::Tz;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use std::ops::Range;
use toml::de::DeValue;

/// How amounts are rounded to the currency's minor unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundingMode {
    /// Half to even ("banker's rounding"): no drift up or down over many decisions.
    HalfEven,
    /// Half away from zero, as most people round by hand.
    HalfUp,
}

impl RoundingMode {
    pub fn strategy(self) -> RoundingStrategy {
        match self {
            Self::HalfEven => RoundingStrategy::MidpointNearestEven,
            Self::HalfUp => RoundingStrategy::MidpointAwayFromZero,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::HalfEven => "half-even",
            Self::HalfUp => "half-up",
        }
    }
}

/// `[rounding]`: the minor unit of the currency and how to reach it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Rounding {
    /// The smallest amount paid, such as 0.01 for yuan or 1 for yen.
    pub minor_unit: Decimal,
    pub mode: RoundingMode,
    /// Decimal places kept in a premium adjustment percentage.
    pub premium_percent_places: u32,
    /// Rewards are paid in whole units of this (vouchers): a cap that leaves less than one
    /// unit pays none of it rather than part of a voucher.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reward_unit: Option<Decimal>,
}

impl Rounding {
    /// Decimal places of the minor unit (0.01 → 2).
    pub fn places(&self) -> u32 {
        self.minor_unit.normalize().scale()
    }

    pub fn money(&self, amount: Decimal) -> Decimal {
        amount.round_dp_with_strategy(self.places(), self.mode.strategy())
    }

    /// Rounds down to a whole minor unit: a cap must never be exceeded by rounding.
    pub fn money_down(&self, amount: Decimal) -> Decimal {
        amount.round_dp_with_strategy(self.places(), RoundingStrategy::ToZero)
    }
}

/// One limit of a cap: an amount, or a share of a money term.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CapLimit {
    Amount(Decimal),
    PercentOf {
        percent: Decimal,
        term: String,
        term_amount: Decimal,
    },
}

/// A cap: the lesser of its limits, resolved to an amount when the policy loads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cap {
    pub limits: Vec<CapLimit>,
    /// The lesser of the limits, rounded down to the minor unit.
    pub amount: Decimal,
}

impl Cap {
    /// The cap in words, for explanations: "200.00 CNY" or "the lesser of 1095.00 CNY and 30% of
    /// annual_premium (900.00 CNY)".
    pub fn describe(&self, currency: &str) -> String {
        let parts: Vec<String> = self
            .limits
            .iter()
            .map(|l| match l {
                CapLimit::Amount(a) => format!("{a} {currency}"),
                CapLimit::PercentOf {
                    percent,
                    term,
                    term_amount,
                } => {
                    format!("{percent}% of {term} ({term_amount} {currency})")
                }
            })
            .collect();
        match parts.as_slice() {
            [one] => one.clone(),
            _ => format!("the lesser of {}", parts.join(" and ")),
        }
    }
}

/// `[caps]`: the most a member may receive, per period and per plan year, and the pool.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Caps {
    pub per_period: Option<Cap>,
    pub per_year: Option<Cap>,
    /// The pool every member's rewards are paid from.
    pub pool_budget: Option<Decimal>,
    /// What to pay when the member's yearly cap or the pool has less left than the reward.
    pub when_short: WhenShort,
    /// Which year `per_year` (and history's "this year") counts: the calendar's, or the
    /// member's policy year from their enrolment anniversary.
    #[serde(skip_serializing_if = "CapYear::is_calendar")]
    pub year: CapYear,
    /// `group` and `per_group_per_year`: what all members sharing a value of a declared text
    /// attribute (a family) are paid together in a calendar year.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupCap>,
}

/// `[caps] group = "family_id"` with `per_group_per_year`: the members whose `family_id` is the
/// same share one yearly cap. A member without the attribute is a group of one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupCap {
    /// The declared text attribute that names a member's group.
    pub attribute: String,
    pub per_year: Cap,
    /// Where `group` is written, for the check that it names a declared text attribute.
    #[serde(skip)]
    pub(crate) at: Range<usize>,
}

/// `[caps] year`: `calendar` (the default) or `enrolment`, each member's policy year from the
/// anniversary of their enrolment date. A period belongs to the year its first day is in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CapYear {
    #[default]
    Calendar,
    Enrolment,
}

impl CapYear {
    pub fn is_calendar(&self) -> bool {
        *self == Self::Calendar
    }
}

/// `[caps] when_short`: a reward that would cross the yearly cap or the pool budget is cut to
/// what is left (`cut`, the default) or not paid at all (`refuse`): some plans would rather pay
/// nothing than a part a member would not understand.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenShort {
    #[default]
    Cut,
    Refuse,
}

/// `[premium]`: bounds on a premium adjustment and on the loading it builds up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PremiumLimits {
    /// The largest discount one decision may give, as a negative percentage (e.g. −5).
    pub adjustment_min_percent: Option<Decimal>,
    /// The largest increase one decision may give (e.g. 5).
    pub adjustment_max_percent: Option<Decimal>,
    /// The member's total loading never goes below this (AIA NZ: 0 %).
    pub loading_floor_percent: Option<Decimal>,
    /// … nor above this (AIA NZ: 20 %).
    pub loading_cap_percent: Option<Decimal>,
}

/// Everything `policy.toml` declares.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Manifest {
    pub id: String,
    pub version: String,
    pub name: String,
    pub insurer: String,
    pub currency: String,
    #[serde(serialize_with = "serialize_tz")]
    pub timezone: Tz,
    pub period: PeriodKind,
    pub effective_from: NaiveDate,
    /// Last day in effect, inclusive; open-ended when absent.
    pub effective_to: Option<NaiveDate>,
    pub rounding: Rounding,
    pub caps: Caps,
    pub premium: PremiumLimits,
    pub terms: Vec<Term>,
    pub tables: Vec<StepTable>,
    /// The metrics kept with each decision for later periods (`[history] keep`).
    #[serde(skip_serializing_if = "HistoryKeep::is_empty")]
    pub history: HistoryKeep,
    /// What else the policy reads of a member (`[attributes]`).
    #[serde(skip_serializing_if = "Declared::is_empty")]
    pub attributes: Declared,
}

fn serialize_tz<S: serde::Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(tz.name())
}

impl Manifest {
    pub fn term(&self, name: &str) -> Option<&Term> {
        self.terms.iter().find(|t| t.name == name)
    }

    pub fn table(&self, name: &str) -> Option<&StepTable> {
        self.tables.iter().find(|t| t.name == name)
    }
}

/// The longest version a policy may have: it is part of every URL and decision that names it.
pub const VERSION_BYTES_MAX: usize = 32;

/// A version names a policy in URLs, decisions and the ledger, so it holds only characters that
/// read the same everywhere (no spaces, slashes or anything a reader cannot see).
pub fn is_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= VERSION_BYTES_MAX
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'))
}

/// 1–64 lowercase ASCII letters, digits and `-`, not starting with `-`: an id read the same in
/// URLs, files and the ledger.
pub fn is_policy_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.starts_with('-')
}

/// Reads and checks `policy.toml`; `None` if anything is wrong (all of it is in `diags`).
pub(crate) fn read_manifest(file: &SourceFile, diags: &mut Diagnostics) -> Option<Manifest> {
    let before = diags.errors().count();
    let doc = parse(file, diags)?;
    let whole = 0..file.text.len().min(1);
    let mut r = TableReader::new(file, "policy.toml", doc.get_ref(), whole);

    let id = r.required_string(
        "id",
        "the policy's identifier, such as `tangdaifu-smbg`",
        diags,
    );
    if let Some((id, span)) = id.clone()
        && !is_policy_id(id)
    {
        diags
            .error(
                "policy-id",
                file,
                span,
                format!("policy id `{id}` must be 1–64 lowercase letters, digits and `-`"),
            )
            .help("for example `tangdaifu-smbg`");
    }
    let version = r.required_string("version", "such as \"1.0.0\"", diags);
    if let Some((v, span)) = version.clone()
        && !is_version(v)
    {
        diags
            .error(
                "version",
                file,
                span,
                format!(
                    "version `{}` must be 1–{VERSION_BYTES_MAX} ASCII letters, digits, `.`, `-`, `+` or `_`",
                    v.escape_default()
                ),
            )
            .help("for example \"1.0.0\" or \"2026.1\"");
    }
    let name = r.required_string("name", "the plan's name as members see it", diags);
    let insurer = r.required_string("insurer", "who offers the plan", diags);
    let currency = r.required_string("currency", "an ISO 4217 code such as CNY", diags);
    if let Some((c, span)) = currency.clone()
        && !(c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase()))
    {
        diags.error(
            "currency",
            file,
            span,
            format!("currency `{c}` is not an ISO 4217 code such as CNY"),
        );
    }
    let timezone = r
        .required_string("timezone", "an IANA zone such as Asia/Shanghai", diags)
        .and_then(|(tz, span)| match tz.parse::<Tz>() {
            Ok(z) => Some(z),
            Err(_) => {
                diags.error(
                    "timezone",
                    file,
                    span,
                    format!("`{tz}` is not an IANA time zone such as Asia/Shanghai"),
                );
                None
            }
        });
    let period = r
        .required_string("period", "monthly, quarterly or annual", diags)
        .and_then(|(p, span)| match p {
            "monthly" => Some(PeriodKind::Monthly),
            "quarterly" => Some(PeriodKind::Quarterly),
            "annual" => Some(PeriodKind::Annual),
            other => {
                diags.error(
                    "period",
                    file,
                    span,
                    format!("period `{other}` must be monthly, quarterly or annual"),
                );
                None
            }
        });
    let from = r.date("effective_from", diags);
    if from.is_none() && doc.get_ref().get("effective_from").is_none() {
        r.missing(
            "effective_from",
            "the first day the plan applies, such as 2026-01-01",
            diags,
        );
    }
    let to = r.date("effective_to", diags);
    if let (Some((f, _)), Some((t, span))) = (from.clone(), to.clone())
        && t < f
    {
        diags.error(
            "effective-dates",
            file,
            span,
            format!("effective_to {t} is before effective_from {f}"),
        );
    }

    let terms = r
        .table("terms", diags)
        .map(|(t, _)| read_terms(file, t, diags))
        .unwrap_or_default();
    let tables = r
        .table("tables", diags)
        .map(|(t, _)| read_tables(file, t, diags))
        .unwrap_or_default();
    for table in &tables {
        if terms.iter().any(|t| t.name == table.name) {
            diags.warning("name-clash", file, 0..0, format!("`{}` is both a term and a table; scripts tell them apart as terms.{0} and tables.{0}", table.name));
        }
    }
    let rounding = read_rounding(&mut r, diags);
    let caps = r
        .table("caps", diags)
        .map(|(t, span)| read_caps(file, t, span, &terms, rounding.as_ref(), diags))
        .unwrap_or_default();
    let premium = r
        .table("premium", diags)
        .map(|(t, span)| read_premium(file, t, span, diags))
        .unwrap_or_default();
    let history = r
        .table("history", diags)
        .map(|(t, span)| read_history(file, t, span, diags))
        .unwrap_or_default();
    let attributes = r
        .table("attributes", diags)
        .map(|(t, _)| read_attributes(file, t, diags))
        .unwrap_or_default();
    r.finish(diags);
    if let Some(g) = &caps.group {
        let declared = attributes.get(&g.attribute).map(|d| d.kind);
        if declared != Some(super::attributes::AttributeKind::Text) {
            let d = diags.error(
                "cap",
                file,
                g.at.clone(),
                format!(
                    "group `{}` must be a text attribute the policy declares under [attributes]{}",
                    g.attribute,
                    declared.map_or(String::new(), |k| format!(", not {}", k.name()))
                ),
            );
            let names = attributes.0.iter().map(|a| a.name.as_str());
            if let Some(near) = super::kept::closest(&g.attribute, names) {
                d.help(format!("did you mean `{near}`?"));
            }
        }
    }

    if diags.errors().count() > before {
        return None;
    }
    Some(Manifest {
        id: id?.0.to_owned(),
        version: version?.0.to_owned(),
        name: name?.0.to_owned(),
        insurer: insurer?.0.to_owned(),
        currency: currency?.0.to_owned(),
        timezone: timezone?,
        period: period?,
        effective_from: from?.0,
        effective_to: to.map(|t| t.0),
        rounding: rounding?,
        caps,
        premium,
        terms,
        tables,
        history,
        attributes,
    })
}

fn read_rounding(r: &mut TableReader<'_, '_>, diags: &mut Diagnostics) -> Option<Rounding> {
    let file = r.file;
    let Some((table, span)) = r.table("rounding", diags) else {
        if r.table.get("rounding").is_none() {
            r.missing(
                "rounding",
                "a [rounding] table with minor_unit and mode",
                diags,
            );
        }
        return None;
    };
    let mut t = TableReader::new(file, "[rounding]", table, span);
    let unit = t.decimal("minor_unit", diags);
    if unit.is_none() && table.get("minor_unit").is_none() {
        t.missing(
            "minor_unit",
            "the smallest amount paid, such as 0.01",
            diags,
        );
    }
    let unit = unit.and_then(|(u, span)| {
        let ok = u > Decimal::ZERO && (u.normalize().mantissa() == 1);
        if !ok {
            diags.error(
                "rounding",
                file,
                span,
                format!("minor_unit {u} must be a power of ten such as 0.01 or 1"),
            );
        }
        ok.then_some(u)
    });
    let mode = match t.string("mode", diags) {
        None => Some(RoundingMode::HalfEven),
        Some(("half_even", _)) => Some(RoundingMode::HalfEven),
        Some(("half_up", _)) => Some(RoundingMode::HalfUp),
        Some((other, span)) => {
            diags.error(
                "rounding",
                file,
                span,
                format!("rounding mode `{other}` must be half_even or half_up"),
            );
            None
        }
    };
    let places = match t.integer("premium_percent_places", diags) {
        None => Some(2),
        Some((n, span)) => match u32::try_from(n) {
            Ok(n) if n <= 6 => Some(n),
            _ => {
                diags.error(
                    "rounding",
                    file,
                    span,
                    format!("premium_percent_places {n} must be between 0 and 6"),
                );
                None
            }
        },
    };
    let reward_unit = t.decimal("reward_unit", diags).and_then(|(d, span)| {
        let fits = unit.is_some_and(|u| !u.is_zero() && (d % u).is_zero());
        if d <= Decimal::ZERO || !fits {
            diags.error(
                "rounding",
                file,
                span,
                format!("reward_unit {d} must be above 0 and a whole number of minor units"),
            );
            return None;
        }
        Some(d)
    });
    t.finish(diags);
    Some(Rounding {
        minor_unit: unit?,
        mode: mode?,
        premium_percent_places: places?,
        reward_unit,
    })
}

fn read_caps(
    file: &SourceFile,
    table: &toml::de::DeTable<'_>,
    span: Range<usize>,
    terms: &[Term],
    rounding: Option<&Rounding>,
    diags: &mut Diagnostics,
) -> Caps {
    let mut t = TableReader::new(file, "[caps]", table, span);
    let cap = |key: &'static str, t: &mut TableReader<'_, '_>, diags: &mut Diagnostics| {
        let v = t.get(key)?;
        read_cap(file, key, v, terms, rounding, diags)
    };
    let per_period = cap("per_period", &mut t, diags);
    let per_year = cap("per_year", &mut t, diags);
    let per_group = cap("per_group_per_year", &mut t, diags);
    let group_attribute = t
        .string("group", diags)
        .map(|(s, span)| (s.to_owned(), span));
    let pool_budget = t.decimal("pool_budget", diags).and_then(|(d, span)| {
        if d < Decimal::ZERO {
            diags.error("cap", file, span, format!("pool_budget {d} is negative"));
            return None;
        }
        Some(d)
    });
    let year = match t.string("year", diags) {
        None | Some(("calendar", _)) => CapYear::Calendar,
        Some(("enrolment", _)) => CapYear::Enrolment,
        Some((other, span)) => {
            diags.error(
                "cap",
                file,
                span,
                format!("year `{other}` must be calendar or enrolment (each member's policy year from their enrolment anniversary)"),
            );
            CapYear::Calendar
        }
    };
    let when_short = match t.string("when_short", diags) {
        None | Some(("cut", _)) => WhenShort::Cut,
        Some(("refuse", _)) => WhenShort::Refuse,
        Some((other, span)) => {
            diags.error(
                "cap",
                file,
                span,
                format!("when_short `{other}` must be cut or refuse"),
            );
            WhenShort::Cut
        }
    };
    let group = match (group_attribute, per_group) {
        (Some((attribute, at)), Some(per_year)) => Some(GroupCap {
            attribute,
            per_year,
            at,
        }),
        (None, None) => None,
        (Some((_, span)), None) => {
            diags.error(
                "cap",
                file,
                span,
                "`group` names who shares a cap, but [caps] has no `per_group_per_year`",
            );
            None
        }
        (None, Some(_)) => {
            diags
                .error("cap", file, t.span.clone(), "`per_group_per_year` needs `group`, the declared text attribute that names a member's group")
                .help("declare it under [attributes], e.g. family_id = { type = \"text\", optional = true }, and write group = \"family_id\"");
            None
        }
    };
    if group.is_some() && year == CapYear::Enrolment {
        diags.error(
            "cap",
            file,
            t.span.clone(),
            "a group's cap counts the calendar year: its members enrol on different days, so `year = \"enrolment\"` cannot be its year",
        );
    }
    t.finish(diags);
    Caps {
        per_period,
        per_year,
        pool_budget,
        when_short,
        year,
        group,
    }
}

/// A cap is an amount (`200.00`), a share of a money term (`"30% of annual_premium"`), or a
/// list of those meaning the lesser of them.
fn read_cap(
    file: &SourceFile,
    key: &str,
    value: &Value<'_>,
    terms: &[Term],
    rounding: Option<&Rounding>,
    diags: &mut Diagnostics,
) -> Option<Cap> {
    let items: Vec<&Value<'_>> = match value.get_ref() {
        DeValue::Array(a) => a.iter().collect(),
        _ => vec![value],
    };
    if items.is_empty() {
        diags.error(
            "cap",
            file,
            value.span(),
            format!("cap `{key}` is an empty list"),
        );
        return None;
    }
    let mut limits = Vec::new();
    for item in items {
        let limit = match item.get_ref() {
            DeValue::String(s) if s.contains('%') => read_percent_of(s, terms),
            other => decimal_of(other).and_then(|d| {
                if d < Decimal::ZERO {
                    Err(format!("{d} is negative"))
                } else {
                    Ok(CapLimit::Amount(d))
                }
            }),
        };
        match limit {
            Ok(l) => limits.push(l),
            Err(problem) => {
                diags
                    .error("cap", file, item.span(), format!("cap `{key}`: {problem}"))
                    .help("write an amount such as 200.00, a share such as \"30% of annual_premium\", or a list of them for the lesser");
            }
        }
    }
    let rounding = rounding?;
    let amount = limits
        .iter()
        .map(|l| match l {
            CapLimit::Amount(a) => *a,
            CapLimit::PercentOf {
                percent,
                term_amount,
                ..
            } => term_amount
                .checked_mul(*percent)
                .and_then(|x| x.checked_div(Decimal::ONE_HUNDRED))
                .unwrap_or(Decimal::MAX),
        })
        .min()?;
    for l in &limits {
        if let CapLimit::Amount(a) = l
            && rounding.money_down(*a) != *a
        {
            diags.warning("cap", file, value.span(), format!("cap `{key}` amount {a} is not a whole number of minor units ({}); it is rounded down", rounding.minor_unit));
        }
    }
    Some(Cap {
        limits,
        amount: rounding.money_down(amount),
    })
}

fn read_percent_of(text: &str, terms: &[Term]) -> Result<CapLimit, String> {
    let (percent, rest) = text.split_once('%').ok_or("expected `N% of TERM`")?;
    let term = rest
        .trim()
        .strip_prefix("of")
        .map(str::trim)
        .ok_or_else(|| format!("`{text}` should read `N% of TERM`"))?;
    let percent = Decimal::from_str_exact(percent.trim())
        .map_err(|_| format!("`{}` is not a percentage", percent.trim()))?;
    let found = terms
        .iter()
        .find(|t| t.name == term)
        .ok_or_else(|| format!("`{term}` is not a term of this policy"))?;
    if found.kind != TermKind::Money {
        return Err(format!("term `{term}` is {}, not money", found.kind.name()));
    }
    Ok(CapLimit::PercentOf {
        percent,
        term: term.to_owned(),
        term_amount: found.decimal().unwrap_or_default(),
    })
}

fn read_premium(
    file: &SourceFile,
    table: &toml::de::DeTable<'_>,
    span: Range<usize>,
    diags: &mut Diagnostics,
) -> PremiumLimits {
    let mut t = TableReader::new(file, "[premium]", table, span);
    let limits = PremiumLimits {
        adjustment_min_percent: t.decimal("adjustment_min_percent", diags).map(|d| d.0),
        adjustment_max_percent: t.decimal("adjustment_max_percent", diags).map(|d| d.0),
        loading_floor_percent: t.decimal("loading_floor_percent", diags).map(|d| d.0),
        loading_cap_percent: t.decimal("loading_cap_percent", diags).map(|d| d.0),
    };
    let pairs = [
        (
            "adjustment_min_percent",
            limits.adjustment_min_percent,
            limits.adjustment_max_percent,
        ),
        (
            "loading_floor_percent",
            limits.loading_floor_percent,
            limits.loading_cap_percent,
        ),
    ];
    for (name, lo, hi) in pairs {
        if let (Some(lo), Some(hi)) = (lo, hi)
            && lo > hi
        {
            diags.error(
                "premium",
                file,
                t.span.clone(),
                format!("[premium] {name} {lo} is above its upper bound {hi}"),
            );
        }
    }
    t.finish(diags);
    limits
}
