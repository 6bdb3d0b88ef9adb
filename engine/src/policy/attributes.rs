//! Member data a policy declares: beyond the fixed attributes (age, sex, region …), a policy
//! names what else it reads of a member in `[attributes]` of policy.toml, typed like terms —
//! a per-member `monthly_premium` (money), a `family_id` (text), a `locale` — and the script
//! reads them as `member.monthly_premium`. The platform sends them with the member; the store
//! checks them against what the tenant's published policies declare when a member enrols, and
//! an evaluation whose member lacks one the policy needs stops with an error naming both.

use super::diagnostics::{Diagnostics, SourceFile};
use super::kept::closest;
use super::terms::is_identifier;
use super::toml_reader::{TableReader, kind_of};
use chrono::NaiveDate;
use rhai::{Dynamic, ImmutableString};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use toml::de::{DeTable, DeValue};

/// Attributes one member may carry: a profile is copied into every decision's stored inputs.
pub const ATTRIBUTES_PER_MEMBER_MAX: usize = 32;
/// Characters of an attribute's name.
pub const ATTRIBUTE_NAME_CHARS_MAX: usize = 64;
/// Characters of a text attribute's value: an id or a locale, not a document.
pub const ATTRIBUTE_TEXT_CHARS_MAX: usize = 128;

/// The fixed attributes every member has, which a declared one may not shadow.
pub const BUILT_IN: [&str; 8] = [
    "id",
    "age",
    "sex",
    "region",
    "diabetes_type",
    "insulin",
    "enrolled_on",
    "days_enrolled",
];

/// A member's attribute as the platform sent it: text, a whole number or a flag. Money comes
/// as text (`"100.00"`) or a whole number, so no amount passes through a floating point; the
/// policy's declaration says what the value must be.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum AttributeValue {
    Flag(bool),
    Integer(i64),
    Text(String),
}

/// What an attribute may be, said where one is not.
const ATTRIBUTE_SHAPE: &str = "a string, a whole number or true/false (money as a string such as \"100.00\", a date as \"2026-01-31\")";

impl<'de> Deserialize<'de> for AttributeValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = AttributeValue;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(ATTRIBUTE_SHAPE)
            }
            fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Self::Value, E> {
                Ok(AttributeValue::Flag(b))
            }
            fn visit_i64<E: serde::de::Error>(self, i: i64) -> Result<Self::Value, E> {
                Ok(AttributeValue::Integer(i))
            }
            fn visit_u64<E: serde::de::Error>(self, u: u64) -> Result<Self::Value, E> {
                i64::try_from(u)
                    .map(AttributeValue::Integer)
                    .map_err(|_| E::custom(format!("{u} does not fit a whole number attribute")))
            }
            fn visit_f64<E: serde::de::Error>(self, x: f64) -> Result<Self::Value, E> {
                Err(E::custom(format!(
                    "{x} is a fractional number; an attribute is {ATTRIBUTE_SHAPE}"
                )))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(AttributeValue::Text(s.to_owned()))
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl std::fmt::Display for AttributeValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Flag(b) => write!(f, "{b}"),
            Self::Integer(i) => write!(f, "{i}"),
            Self::Text(t) => write!(f, "\"{}\"", crate::text::excerpt(t)),
        }
    }
}

/// What a declared attribute must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeKind {
    Money,
    Text,
    Count,
    Date,
    Flag,
}

impl AttributeKind {
    const ALL: [(&'static str, Self); 5] = [
        ("money", Self::Money),
        ("text", Self::Text),
        ("count", Self::Count),
        ("date", Self::Date),
        ("flag", Self::Flag),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("text", |(n, _)| n)
    }

    /// The value as a script sees it, or why `value` is not one of these.
    pub fn read(self, value: &AttributeValue) -> Result<Dynamic, String> {
        let wanted = || format!("{value} is not {}", self.described());
        match (self, value) {
            (Self::Money, AttributeValue::Integer(i)) if *i >= 0 => {
                Ok(Dynamic::from_decimal(Decimal::from(*i)))
            }
            (Self::Money, AttributeValue::Text(t)) => Decimal::from_str_exact(t.trim())
                .ok()
                .filter(|d| *d >= Decimal::ZERO)
                .map(Dynamic::from_decimal)
                .ok_or_else(wanted),
            (Self::Count, AttributeValue::Integer(i)) if *i >= 0 => Ok(Dynamic::from_int(*i)),
            (Self::Date, AttributeValue::Text(t)) => t
                .parse::<NaiveDate>()
                .map(|d| Dynamic::from(ImmutableString::from(d.to_string())))
                .map_err(|_| wanted()),
            (Self::Text, AttributeValue::Text(t)) => {
                Ok(Dynamic::from(ImmutableString::from(t.as_str())))
            }
            (Self::Flag, AttributeValue::Flag(b)) => Ok(Dynamic::from_bool(*b)),
            _ => Err(wanted()),
        }
    }

    /// Whether `value` is one of these, and if not, why.
    pub fn check(self, value: &AttributeValue) -> Result<(), String> {
        self.read(value).map(|_| ())
    }

    fn described(self) -> &'static str {
        match self {
            Self::Money => "money (an amount of 0 or more, as text such as \"100.00\")",
            Self::Text => "text",
            Self::Count => "a count (a whole number of 0 or more)",
            Self::Date => "a date (YYYY-MM-DD)",
            Self::Flag => "a flag (true or false)",
        }
    }
}

/// One attribute a policy reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AttributeDecl {
    pub name: String,
    pub kind: AttributeKind,
    /// An optional attribute a member may lack (the script sees `()`); a required one stops
    /// the evaluation of a member without it.
    pub optional: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The attributes a policy declares, in the order written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Declared(pub Arc<[AttributeDecl]>);

impl Declared {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, name: &str) -> Option<&AttributeDecl> {
        self.0.iter().find(|d| d.name == name)
    }

    /// The member's declared attributes as a script sees them (an optional one missing is
    /// `()`), or the first problem: a required one missing, or one that is not its kind.
    pub fn resolve(
        &self,
        attributes: &BTreeMap<String, AttributeValue>,
    ) -> Result<BTreeMap<String, Dynamic>, String> {
        let mut out = BTreeMap::new();
        for d in self.0.iter() {
            let value = match attributes.get(&d.name) {
                Some(v) => d
                    .kind
                    .read(v)
                    .map_err(|why| format!("attribute `{}`: {why}", d.name))?,
                None if d.optional => Dynamic::UNIT,
                None => {
                    return Err(format!(
                        "has no attribute `{}`, which the policy reads ({}, declared in policy.toml [attributes]); send it with the member",
                        d.name,
                        d.kind.name()
                    ));
                }
            };
            out.insert(d.name.clone(), value);
        }
        Ok(out)
    }
}

impl Serialize for Declared {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// Reads `[attributes]`: `name = { type = "money", description = "…", optional = true }`.
pub(crate) fn read_attributes(
    file: &SourceFile,
    table: &DeTable<'_>,
    diags: &mut Diagnostics,
) -> Declared {
    let mut out: Vec<AttributeDecl> = Vec::new();
    for (key, value) in table.iter() {
        let name = key.get_ref().to_string();
        let bad_name = if !is_identifier(&name) || name.len() > ATTRIBUTE_NAME_CHARS_MAX {
            Some(format!(
                "attribute name `{name}` is not usable in a script (lowercase letters, digits and `_`, at most {ATTRIBUTE_NAME_CHARS_MAX})"
            ))
        } else if BUILT_IN.contains(&name.as_str()) {
            Some(format!(
                "attribute `{name}` is one every member has already: read it as member.{name}"
            ))
        } else {
            None
        };
        if let Some(message) = bad_name {
            diags.error("attribute", file, key.span(), message);
            continue;
        }
        let DeValue::Table(spec) = value.get_ref() else {
            diags.error(
                "attribute",
                file,
                value.span(),
                format!(
                    "attribute `{name}` must be a table such as `{{ type = \"money\" }}`, not {}",
                    kind_of(value.get_ref())
                ),
            );
            continue;
        };
        let mut r = TableReader::new(file, format!("attribute `{name}`"), spec, value.span());
        let kind = r
            .required_string("type", "money, text, count, date or flag", diags)
            .and_then(|(t, span)| {
                let found = AttributeKind::ALL.iter().find(|(n, _)| *n == t);
                if found.is_none() {
                    let d = diags.error(
                        "attribute",
                        file,
                        span,
                        format!(
                            "attribute `{name}`: type `{t}` must be money, text, count, date or flag"
                        ),
                    );
                    if let Some(near) = closest(t, AttributeKind::ALL.iter().map(|(n, _)| *n)) {
                        d.help(format!("did you mean `{near}`?"));
                    }
                }
                found.map(|(_, k)| *k)
            });
        let optional = r.boolean("optional", diags).is_some_and(|(b, _)| b);
        let description = r.string("description", diags).map(|(s, _)| s.to_owned());
        r.finish(diags);
        if let Some(kind) = kind {
            out.push(AttributeDecl {
                name,
                kind,
                optional,
                description,
            });
        }
    }
    if out.len() > ATTRIBUTES_PER_MEMBER_MAX {
        diags.error(
            "attribute",
            file,
            0..0,
            format!(
                "{} attributes declared, more than the {ATTRIBUTES_PER_MEMBER_MAX} a member may carry (attributes_per_member_max)",
                out.len()
            ),
        );
    }
    Declared(out.into())
}

/// Why a member's attributes cannot be stored as sent: too many, a name no script could read,
/// or a text value too long or with characters a reader cannot see. Whether each is declared,
/// and as what, is the store's question (it knows the tenant's policies).
pub fn check_attributes(attributes: &BTreeMap<String, AttributeValue>) -> Result<(), String> {
    if attributes.len() > ATTRIBUTES_PER_MEMBER_MAX {
        return Err(format!(
            "{} attributes, more than the {ATTRIBUTES_PER_MEMBER_MAX} a member may carry",
            attributes.len()
        ));
    }
    for (name, value) in attributes {
        if !is_identifier(name) || name.len() > ATTRIBUTE_NAME_CHARS_MAX {
            return Err(format!(
                "attribute name `{}` is not a name a policy can declare (lowercase letters, digits and `_`, at most {ATTRIBUTE_NAME_CHARS_MAX})",
                crate::text::excerpt(name)
            ));
        }
        if let AttributeValue::Text(t) = value {
            if t.chars().count() > ATTRIBUTE_TEXT_CHARS_MAX {
                return Err(format!(
                    "attribute `{name}`: {} characters, more than the {ATTRIBUTE_TEXT_CHARS_MAX} an attribute may have",
                    t.chars().count()
                ));
            }
            crate::text::visible(t).map_err(|why| format!("attribute `{name}`: {why}"))?;
        }
    }
    Ok(())
}

/// The error of reading `member.NAME` where the policy declares no attribute `NAME`.
pub(crate) fn undeclared(declared: &Declared, name: &str) -> String {
    let names = declared
        .0
        .iter()
        .map(|d| d.name.as_str())
        .chain(BUILT_IN)
        .collect::<Vec<_>>();
    let hint = closest(name, names.iter().copied())
        .map(|near| format!("; did you mean `{near}`?"))
        .unwrap_or_default();
    format!(
        "`member.{name}` is not an attribute this policy declares: declare it in policy.toml [attributes]{hint}"
    )
}
