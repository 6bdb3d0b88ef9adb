//! What an author likely did not mean loads with a warning at its line: glucose beyond what a
//! meter reads in the unit written, a percentage outside 0–100, a share table that stops short
//! of 100 %, terms and tables no rule reads.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use incentive_engine::policy::{PolicySource, SourceFile, load};

const MANIFEST: &str = r#"id = "warned"
version = "1"
name = "warned"
insurer = "Example"
currency = "CNY"
timezone = "Asia/Shanghai"
period = "monthly"
effective_from = 2026-01-01

[terms]
hypo_below = { type = "glucose", value = 54, unit = "mmol/L" }
target_above = { type = "glucose", value = 7, unit = "mg/dL" }
share_needed = { type = "percent", value = 120 }
never_read = { type = "money", value = 5.00 }
premium = { type = "money", value = 100.00 }

[tables.rebate]
key = "percent"
value = "percent"
steps = [{ from = 10, to = 50, value = 0 }, { from = 50, to = 100, value = 20 }]

[tables.unused_table]
key = "text"
value = "money"
entries = { gold = 1 }

[caps]
per_year = "25% of premium"

[rounding]
minor_unit = 0.01
"#;

const RULES: &str = "fn decide(record, member, history) {
    let low = record.percent_below(terms.hypo_below);
    let high = record.percent_above(terms.target_above);
    let share = terms.share_needed;
    let r = lookup(tables.rebate, 60);
    #{ reward: 0 }
}
";

#[test]
fn each_likely_slip_is_a_warning_at_its_line_and_the_package_still_loads() {
    let source = PolicySource {
        name: "warned".into(),
        files: vec![
            SourceFile::new("policy.toml", MANIFEST),
            SourceFile::new("rules.rhai", RULES),
        ],
    };
    let package = load(&source).unwrap();
    let text = package.warnings.to_string();
    for expected in [
        "policy.toml:11:42: warning: term `hypo_below` is 972 mg/dL, outside the 20–600 mg/dL a meter reads",
        "if you meant 54 mg/dL, write unit = \"mg/dL\"",
        "policy.toml:12:44: warning: term `target_above` is 7 mg/dL, outside the 20–600 mg/dL a meter reads",
        "if you meant 7 mmol/L, write unit = \"mmol/L\"",
        "policy.toml:13:44: warning: term `share_needed` is 120%, outside 0–100%",
        "policy.toml:14:1: warning: term `never_read` is declared but no rule reads it",
        "table `rebate` starts at 10%: a share below it finds no step",
        "policy.toml:17:1: warning: table `rebate` stops below 100% (`to` is exclusive): a share of exactly 100% finds no step",
        "table `unused_table` is declared but no rule looks it up",
    ] {
        assert!(text.contains(expected), "{expected}\n  in:\n{text}");
    }
    // `premium` is read by the cap, not by a rule: no warning.
    assert!(!text.contains("`premium` is declared"), "{text}");
}

/// Only `decide` knows its parameters for what they are: a helper whose parameter is called
/// `record` may be given anything, and its properties are not checked as the record's.
#[test]
fn a_helpers_parameter_named_record_is_not_taken_for_the_record() {
    let rules = "fn label(record) { record.title }
fn decide(record, member, history) {
    let shown = label(#{ title: \"x\" });
    #{ reward: 0, reasons: [shown] }
}
";
    let manifest = "id = \"helper\"\nversion = \"1\"\nname = \"helper\"\ninsurer = \"Example\"\ncurrency = \"CNY\"\ntimezone = \"Asia/Shanghai\"\nperiod = \"monthly\"\neffective_from = 2026-01-01\n\n[rounding]\nminor_unit = 0.01\n";
    let source = PolicySource {
        name: "helper".into(),
        files: vec![
            SourceFile::new("policy.toml", manifest),
            SourceFile::new("rules.rhai", rules),
        ],
    };
    let package = load(&source).unwrap();
    assert!(!package.warnings.has_errors());
}
