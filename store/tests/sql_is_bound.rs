//! Every value reaches the database as a bound parameter. This reads the store's source: any
//! SQL text built with `format!` may put into it only the constant column lists named here,
//! and `QueryBuilder::push` may add only string literals — so a member id, a key or a reading
//! can never become SQL.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use std::path::Path;

/// What SQL text may be built from: column lists that are constants in the code.
const ALLOWED_IN_SQL: [&str; 4] = ["DECISION_COLUMNS", "COLUMNS", "KEY_COLUMNS", "column"];
/// The parameters of `ByKeys::push_select_by_keys` (db.rs) that it pushes as text.
const BY_KEYS_PARAMETERS: [&str; 2] = ["select", "column"];
const SQL_WORDS: [&str; 6] = [
    "SELECT ", "INSERT ", "UPDATE ", "DELETE ", " WHERE ", " FROM ",
];

fn sources() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push((
                    path.display().to_string(),
                    std::fs::read_to_string(&path).unwrap(),
                ));
            }
        }
    }
    out
}

/// The text of the first string literal after `at`, joined across `\` line continuations.
fn literal_after(text: &str, at: usize) -> Option<&str> {
    let start = text[at..].find('"')? + at + 1;
    let mut end = start;
    let bytes = text.as_bytes();
    while end < bytes.len() {
        match bytes[end] {
            b'\\' => end += 2,
            b'"' => return Some(&text[start..end]),
            _ => end += 1,
        }
    }
    None
}

#[test]
fn sql_is_built_only_from_constants_and_every_value_is_bound() {
    let mut checked = 0;
    let mut checked_by_keys = 0;
    for (file, text) in sources() {
        for (at, _) in text.match_indices("format!(") {
            let Some(literal) = literal_after(&text, at) else {
                continue;
            };
            if !SQL_WORDS.iter().any(|w| literal.contains(w)) {
                continue;
            }
            checked += 1;
            let mut rest = literal;
            while let Some(open) = rest.find('{') {
                let close = rest[open..].find('}').unwrap() + open;
                let name = rest[open + 1..close].split(':').next().unwrap();
                assert!(
                    ALLOWED_IN_SQL.contains(&name),
                    "{file}: SQL built with `{{{name}}}`, which is not a constant column list: {literal}"
                );
                rest = &rest[close + 1..];
            }
        }
        for (at, _) in text.match_indices(".push(") {
            let arg = text[at + 6..].trim_start();
            let by_keys = file.ends_with("db.rs")
                && BY_KEYS_PARAMETERS
                    .iter()
                    .any(|p| arg.starts_with(&format!("{p})")));
            assert!(
                arg.starts_with('"')
                    || arg.starts_with("concat!(")
                    || by_keys
                    || !text[..at].ends_with('q'),
                "{file}: a query builder is given text that is not a literal: .push({})",
                &arg[..arg.find(')').unwrap_or(arg.len()).min(60)]
            );
        }
        // What `ByKeys` pushes as text is what its callers give it: a literal, or a `select`
        // built by a `format!` of constant column lists (checked above), or its own parameter
        // passed on (db.rs); and the column, a `&'static str`.
        for (at, _) in text.match_indices("select_by_keys(") {
            if text[..at].ends_with("fn push_") || text[..at].ends_with("fn ") {
                continue;
            }
            let args = text[at + "select_by_keys(".len()..].trim_start();
            let args = args
                .strip_prefix("&mut q,")
                .or_else(|| args.strip_prefix("q,"))
                .unwrap_or(args)
                .trim_start();
            assert!(
                args.starts_with('"')
                    || args.starts_with("&select,")
                    || (file.ends_with("db.rs") && args.starts_with("select,")),
                "{file}: a read by keys is given text that is not a literal or a checked `select`: {}",
                &args[..args.len().min(60)]
            );
            checked_by_keys += 1;
        }
    }
    assert!(
        checked >= 6,
        "only {checked} SQL texts built with format! were found: is the scan blind?"
    );
    assert!(
        checked_by_keys >= 8,
        "only {checked_by_keys} reads by keys were found: is the scan blind?"
    );
}
