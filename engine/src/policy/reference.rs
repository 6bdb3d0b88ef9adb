//! The script function reference, generated from the sandbox's own metadata so that the
//! documentation cannot drift from what a policy can call: docs/policy-authoring.md carries
//! this text between markers, and a test fails when the two differ.

use super::host::{LIMITS, engine};
use super::record_view::Metric;
use std::collections::{BTreeMap, BTreeSet};

/// One line of documentation for each host function and property that is not a metric.
const DOCS: &[(&str, &str)] = &[
    ("Record.period", "the period evaluated, such as `2026-03`"),
    ("Record.period_days", "days in the period"),
    (
        "Record.readings_spaced",
        "readings counted at most once per `gap_minutes`: a reading within the gap after the last counted one is a repeat",
    ),
    (
        "Record.days_with_context",
        "local days with a reading tagged `context` (fasting, pre_meal, post_meal, bedtime, random)",
    ),
    (
        "Record.longest_run_of_days_above",
        "the longest run of consecutive days on which every reading was above `mg_dl`",
    ),
    (
        "Record.longest_run_of_days_below",
        "the longest run of consecutive days on which every reading was below `mg_dl`",
    ),
    (
        "Record.percent_in_range",
        "% of readings with `lo ≤ g ≤ hi` mg/dL; `()` without readings. With a context first, `record.percent_in_range(\"fasting\", 80, 130)`, % of the readings tagged with it (a target by context, such as ADA's fasting 80–130 mg/dL); `()` without readings of that context",
    ),
    (
        "Record.percent_below",
        "% of readings below `mg_dl`; `()` without readings",
    ),
    (
        "Record.percent_above",
        "% of readings above `mg_dl`; `()` without readings",
    ),
    (
        "Record.hba1c_max_percent",
        "the highest HbA1c in the `days` before the period ends; `()` if none",
    ),
    (
        "Record.hba1c_earliest_percent",
        "the earliest HbA1c in the `days` before the period ends; `()` if none",
    ),
    (
        "Record.hba1c_count",
        "HbA1c results in the `days` before the period ends",
    ),
    (
        "Record.months",
        "the record of each month inside the period, in order, each with every metric and call of a record (`record.months()[0].fasting_in_target_percent`); a month's HbA1c look-back ends with the month",
    ),
    (
        "Record.quarters",
        "the record of each quarter inside the period (an annual plan's four); an error for a month",
    ),
    (
        "Record.readings",
        "the period's readings, oldest first, for rules the metrics do not cover",
    ),
    (
        "Reading.time",
        "when, RFC 3339 with the offset it was taken in",
    ),
    (
        "Reading.date",
        "the local date in the policy's time zone, `2026-03-01`",
    ),
    ("Reading.mg_dl", "the value in mg/dL; `()` for a meter flag"),
    ("Reading.flag", "`LO`, `HI`, or empty"),
    (
        "Reading.context",
        "fasting, pre_meal, post_meal, bedtime, random or unknown",
    ),
    ("Reading.source", "smbg, cgm or unspecified"),
    ("Member.id", "the member's identifier"),
    (
        "Member.age",
        "age in years at the start of the period; `()` if unknown",
    ),
    ("Member.sex", "female, male or other; `()` if unknown"),
    (
        "Member.region",
        "the region the platform reports; `()` if unknown",
    ),
    (
        "Member.diabetes_type",
        "type1, type2, gestational or other; `()` if unknown",
    ),
    (
        "Member.insulin",
        "whether the member uses insulin; `()` if unknown",
    ),
    (
        "Member.enrolled_on",
        "the enrolment date, `2025-01-15`; `()` if unknown",
    ),
    (
        "Member.days_enrolled",
        "days from enrolment to the start of the period; `()` if unknown",
    ),
    (
        "History.streak",
        "consecutive periods just before this one in which the member qualified",
    ),
    (
        "History.previous_tier",
        "the tier of the latest earlier period; `()` if none",
    ),
    (
        "History.qualified_last_period",
        "whether the member qualified in the period just before",
    ),
    ("History.periods_before", "earlier periods on record"),
    (
        "History.payouts_this_year",
        "rewards paid for the other periods of this calendar year (earlier ones; later ones too when a period is decided again after them)",
    ),
    (
        "History.points_this_year",
        "points earned earlier in this calendar year",
    ),
    (
        "History.qualified_periods_this_year",
        "earlier periods of this calendar year in which the member qualified",
    ),
    (
        "History.points_last_year",
        "points earned in the previous calendar year (for carry-over)",
    ),
    (
        "History.tier_last_year",
        "the tier of the last period of the previous calendar year; `()` if none",
    ),
    (
        "History.premium_loading_percent",
        "the member's premium loading now, %",
    ),
    (
        "Member.index$get$",
        "an attribute the policy declares in `[attributes]`, read as a property: `member.monthly_premium`, as its kind (money a decimal, a date `2026-01-31`); `()` for an optional one the member lacks",
    ),
    (
        "History.period",
        "the member's outcome for an earlier period: `-1` the one just before, `-2` the one before that, or one named (`\"2026-Q1\"`); `()` when they have no decision for it (never an older period in its place)",
    ),
    ("Period.period", "the period, such as `2026-Q1`"),
    (
        "Period.reward",
        "what was paid for it, in the policy's currency",
    ),
    (
        "Period.premium_adjustment_percent",
        "the premium change decided for it, %",
    ),
    ("Period.tier", "its tier; `()` if none"),
    ("Period.points", "its points"),
    (
        "Period.qualified",
        "whether the member met the target that period",
    ),
    (
        "Period.index$get$",
        "a metric the policy keeps (`[history] keep`) as the period had it, read as a property: `history.period(-1).tir_percent`; `()` when it had none",
    ),
    (
        "Table.lookup",
        "the value of the step (numeric key) or entry (text key) holding `key`; for a table with two keys, `lookup(tables.NAME, key, second_key)`; an error outside the table",
    ),
];

const OUR_TYPES: [&str; 6] = ["Record", "Reading", "Member", "History", "Period", "Table"];

fn clean_type(t: &str) -> String {
    let t = t.trim().trim_start_matches("&mut ");
    let t = t
        .strip_prefix("core::result::Result<")
        .and_then(|r| r.split_once(",alloc::boxed::Box"))
        .map_or(t, |(ok, _)| ok);
    match t {
        "i64" => "integer".into(),
        "decimal" => "decimal".into(),
        "bool" => "bool".into(),
        "string" | "ImmutableString" => "string".into(),
        "()" => "()".into(),
        t if t.contains("Dynamic") && t.contains("Vec") => "array".into(),
        t if t.contains("Dynamic") => "value or ()".into(),
        t => t.rsplit("::").next().unwrap_or(t).to_owned(),
    }
}

/// A host function or property: whether it is a property, its parameter lists, its returns.
type Entry = (bool, BTreeSet<String>, BTreeSet<String>);

/// The reference as Markdown.
pub fn function_reference() -> String {
    // (type, name) → (is property, [param lists], return types)
    let mut ours: BTreeMap<(String, String), Entry> = BTreeMap::new();
    let mut standard: BTreeSet<String> = BTreeSet::new();
    for sig in engine().gen_fn_signatures(true) {
        let Some((head, ret)) = sig
            .split_once(") -> ")
            .map(|(h, r)| (h, r.to_owned()))
            .or_else(|| sig.strip_suffix(')').map(|h| (h, "()".to_owned())))
        else {
            continue;
        };
        let Some((name, params)) = head.split_once('(') else {
            continue;
        };
        let params: Vec<String> = params
            .split(", ")
            .filter(|p| !p.is_empty())
            .map(|p| clean_type(p.rsplit(": ").next().unwrap_or(p)))
            .collect();
        let Some(first) = params.first() else {
            standard.insert(name.to_owned());
            continue;
        };
        if !OUR_TYPES.contains(&first.as_str()) {
            if !name.starts_with("get$")
                && !name.starts_with("set$")
                && !name.starts_with("index$")
                && name.chars().next().is_some_and(char::is_alphabetic)
            {
                standard.insert(name.to_owned());
            }
            continue;
        }
        let (property, name) = match name.strip_prefix("get$") {
            Some(p) => (true, p.to_owned()),
            None => (false, name.to_owned()),
        };
        let entry = ours.entry((first.clone(), name)).or_default();
        entry.0 = property;
        entry
            .1
            .insert(params.get(1..).unwrap_or_default().join(", "));
        entry.2.insert(clean_type(&ret));
    }
    let mut out = String::new();
    out.push_str("### Metrics: properties of `record`\n\n");
    out.push_str("Computed natively on first use and cached for the evaluation. Counts are integers; the rest are decimals rounded to 6 places; `()` when undefined for the record.\n\n| property | meaning |\n| --- | --- |\n");
    for m in Metric::ALL {
        out.push_str(&format!("| `record.{}` | {} |\n", m.name(), m.doc()));
    }
    for ty in OUR_TYPES {
        let rows: Vec<_> = ours
            .iter()
            .filter(|((t, name), _)| {
                t == ty
                    && !Metric::ALL
                        .iter()
                        .any(|m| ty == "Record" && m.name() == name)
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "\n### `{ty}`\n\n| call | takes | gives | meaning |\n| --- | --- | --- | --- |\n"
        ));
        for ((t, name), (property, params, rets)) in rows {
            let doc = DOCS
                .iter()
                .find(|(k, _)| *k == format!("{t}.{name}"))
                .map_or("**undocumented**", |(_, d)| d);
            // A string indexer is read as any property no getter has (`.tir_percent`).
            let indexer = name == "index$get$";
            let call = if *property {
                format!("`.{name}`")
            } else if indexer {
                "`.METRIC`".to_owned()
            } else if ty == "Table" {
                format!("`{name}(tables.NAME, key)`")
            } else {
                format!("`.{name}(…)`")
            };
            let takes = if *property || indexer {
                "—".to_owned()
            } else {
                params.iter().cloned().collect::<Vec<_>>().join(" or ")
            };
            out.push_str(&format!(
                "| {call} | {takes} | {} | {doc} |\n",
                rets.iter().cloned().collect::<Vec<_>>().join(" or ")
            ));
        }
    }
    out.push_str("\n### Standard functions\n\nArithmetic, comparison and logic operators on integers and decimals, and these functions and methods on strings, arrays, maps, ranges and decimals:\n\n");
    out.push_str(
        &standard
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    out.push_str("\n\nNot available, on purpose: `eval`, `import`, `sleep`, `timestamp`, random numbers, floating point, files and the network. `print` and `debug` do nothing.\n");
    out.push_str("\n### Limits\n\n| limit | value |\n| --- | --- |\n");
    let l = LIMITS;
    for (name, value) in [
        ("eval_operations_max", l.eval_operations_max.to_string()),
        (
            "eval_wall_clock_ms_max",
            l.eval_wall_clock_ms_max.to_string(),
        ),
        ("call_levels_max", l.call_levels_max.to_string()),
        ("expr_depth_max", l.expr_depth_max.to_string()),
        (
            "function_expr_depth_max",
            l.function_expr_depth_max.to_string(),
        ),
        ("string_bytes_max", l.string_bytes_max.to_string()),
        ("array_items_max", l.array_items_max.to_string()),
        ("map_entries_max", l.map_entries_max.to_string()),
        ("variables_max", l.variables_max.to_string()),
        ("functions_max", l.functions_max.to_string()),
        ("script_bytes_max", l.script_bytes_max.to_string()),
    ] {
        out.push_str(&format!("| `{name}` | {value} |\n"));
    }
    out
}
