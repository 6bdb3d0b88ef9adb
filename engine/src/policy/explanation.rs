//! A line of a decision's explanation: a message id with its arguments, or text a script wrote
//! as it is. The decision stores ids and arguments, never the words: the words come from the
//! package's and the engine's Fluent catalogs when a decision is shown (crate::locale), in
//! the member's language, so correcting a translation never changes a decision's bytes or hash.

use rhai::{Dynamic, EvalAltResult, ImmutableString, Map, NativeCallContext};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Arguments a message may carry.
pub const MESSAGE_ARGS_MAX: usize = 16;
/// Bytes of a message id or an argument's name.
pub const MESSAGE_NAME_BYTES_MAX: usize = 64;

/// One line of an explanation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Line {
    /// Text as the script wrote it, in whatever language that was.
    Text(String),
    /// A message of a catalog, shown in the member's language.
    Message(Message),
}

/// A message id and its arguments. Each argument is kept as text: a number as its decimal
/// digits (exactly as the rules computed it), so the stored bytes never depend on a locale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    pub id: String,
    #[serde(default, skip_serializing_if = "Args::is_empty")]
    pub args: Args,
}

/// A message as the script holds it (`reason(…)`), with where in rules.rhai it was made, for
/// an error about it. Only the message goes into the decision: a simulation holds a chunk's
/// decisions at once, and the place would cost every line of every one.
#[derive(Clone, Debug)]
pub struct Reason {
    pub(crate) message: Message,
    /// `reason(…)`'s line and column.
    pub(crate) made_at: Option<(usize, usize)>,
}

impl Reason {
    /// The message as the decision will carry it.
    pub fn into_message(self) -> Message {
        self.message
    }
}
/// A message's arguments by name, in name order. A sorted list rather than a map: a
/// simulation holds a chunk's decisions at once, and a map's node is some 500 bytes for the
/// two to five arguments a line has. Written as a JSON object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Args(Vec<(String, String)>);

impl Args {
    /// From pairs; a name given twice keeps its last value.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let map: BTreeMap<String, String> = pairs.into_iter().collect();
        Self(map.into_iter().collect())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// From pairs already in name order, each name once (a Rhai map's own order).
    pub(crate) fn sorted(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl Serialize for Args {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Args {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BTreeMap::<String, String>::deserialize(d).map(Self::new)
    }
}

impl Message {
    /// An engine message; its arguments are the engine's own, never a member's text.
    /// A message without arguments.
    pub fn named(id: String) -> Self {
        Self::new(id, Args::default())
    }

    /// A message and its arguments.
    pub fn new(id: String, args: Args) -> Self {
        Self { id, args }
    }

    pub(crate) fn engine(id: &'static str, args: &[(&'static str, String)]) -> Self {
        Self {
            id: id.to_owned(),
            args: {
                let mut pairs: Vec<(String, String)> = args
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.clone()))
                    .collect();
                pairs.sort();
                Args(pairs)
            },
        }
    }

    /// Bytes the message takes in a decision: its id and each argument's name and value.
    pub fn bytes(&self) -> usize {
        self.id.len()
            + self
                .args
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
    }
}

impl Line {
    /// The line without a catalog: the text, or `id (name: value, …)`.
    pub fn plain(&self) -> String {
        match self {
            Line::Text(t) => t.clone(),
            Line::Message(m) if m.args.is_empty() => m.id.clone(),
            Line::Message(m) => {
                let args: Vec<String> = m.args.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                format!("{} ({})", m.id, args.join(", "))
            }
        }
    }

    pub fn message_id(&self) -> Option<&str> {
        match self {
            Line::Message(m) => Some(&m.id),
            Line::Text(_) => None,
        }
    }
}

/// Whether `name` is a Fluent identifier: a letter, then letters, digits, `_` and `-`.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= MESSAGE_NAME_BYTES_MAX
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn refuse(problem: String) -> Box<EvalAltResult> {
    problem.into()
}

/// `reason("fasting-share")`: a message without arguments.
pub(crate) fn reason(
    ctx: NativeCallContext,
    id: ImmutableString,
) -> Result<Reason, Box<EvalAltResult>> {
    reason_with(ctx, id, Map::new())
}

/// `reason("fasting-share", #{ share: 85.7, readings: 14 })`: a message and its arguments,
/// each a number, a text or true/false.
pub(crate) fn reason_with(
    ctx: NativeCallContext,
    id: ImmutableString,
    args: Map,
) -> Result<Reason, Box<EvalAltResult>> {
    let at = ctx.call_position();
    reason_of(&id, args, at.line().zip(at.position())).map_err(refuse)
}

/// A reason from its id and its arguments made at `made_at` (rules.rhai line and column), or
/// why a script's `reason(…)` cannot make one.
pub(crate) fn reason_of(
    id: &str,
    args: Map,
    made_at: Option<(usize, usize)>,
) -> Result<Reason, String> {
    if !is_identifier(id) {
        return Err(format!(
            "reason(\"{}\"): a message id is a letter then letters, digits, `_` or `-`, at most {MESSAGE_NAME_BYTES_MAX} bytes (as in locales/*.ftl)",
            crate::text::excerpt(id)
        ));
    }
    if args.len() > MESSAGE_ARGS_MAX {
        return Err(format!(
            "reason(\"{id}\") has {} arguments; a message takes at most {MESSAGE_ARGS_MAX}",
            args.len()
        ));
    }
    // A Rhai map is ordered by name already: the arguments need no sorting.
    let mut out = Vec::with_capacity(args.len());
    for (name, value) in args {
        if !is_identifier(&name) {
            return Err(format!(
                "reason(\"{id}\"): argument `{}` is not a name a message can use (a letter, then letters, digits, `_` or `-`)",
                crate::text::excerpt(&name)
            ));
        }
        let (is_unit, type_name) = (value.is_unit(), value.type_name());
        let text = argument(value).ok_or_else(|| {
            if is_unit {
                format!(
                    "reason(\"{id}\"): argument `{name}` is `()` (a metric without the readings for it?); check it with `== ()` first"
                )
            } else {
                format!(
                    "reason(\"{id}\"): argument `{name}` is {type_name}; an argument is a number, a text or true/false"
                )
            }
        })?;
        out.push((name.to_string(), text));
    }
    Ok(Reason {
        message: Message {
            id: id.to_owned(),
            args: Args(out),
        },
        made_at,
    })
}

/// A message argument as text: a number, a text or true/false; `None` for anything else.
pub(crate) fn argument(value: Dynamic) -> Option<String> {
    if let Ok(i) = value.as_int() {
        return Some(i.to_string());
    }
    if let Ok(d) = value.as_decimal() {
        return Some(d.to_string());
    }
    if let Ok(b) = value.as_bool() {
        return Some(b.to_string());
    }
    value.into_immutable_string().ok().map(|s| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_stored_as_its_id_and_arguments_and_text_as_a_string() {
        let lines = vec![
            Line::Text("measured on 12 days".into()),
            Line::Message(Message::engine(
                "engine-capped-period",
                &[("cap", "30.00".into()), ("given", "42.50".into())],
            )),
            Line::Message(Message::engine("fasting-gate", &[])),
        ];
        let json = serde_json::to_string(&lines).unwrap_or_default();
        assert_eq!(
            json,
            r#"["measured on 12 days",{"id":"engine-capped-period","args":{"cap":"30.00","given":"42.50"}},{"id":"fasting-gate"}]"#
        );
        let back: Vec<Line> = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, lines);
    }

    #[test]
    fn message_ids_and_argument_names_are_fluent_identifiers() {
        for good in ["a", "fasting-share", "tier_gold2"] {
            assert!(is_identifier(good), "{good}");
        }
        for bad in ["", "1st", "-x", "a b", "a.b", "引", &"x".repeat(65)] {
            assert!(!is_identifier(bad), "{bad}");
        }
    }
}
