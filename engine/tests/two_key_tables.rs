//! Tables with two keys (tier × insulin, fasting share × insulin, tier × age): looked up with
//! both keys, each row checked for gaps and overlaps like any table, every row of text entries
//! naming the same second keys.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use incentive_engine::policy::{History, MemberProfile, Policy, PolicySource, load};
use incentive_engine::readings::Readings;

const TABLES: &str = r#"
[tables.by_tier_and_insulin]
key = "text"
second_key = "text"
value = "money"
entries = { gold = { insulin = 40, no_insulin = 30 }, silver = { insulin = 25, no_insulin = 20 } }

[tables.by_share_and_insulin]
key = "percent"
second_key = "text"
value = "money"
steps = [
  { to = 70, value = { insulin = 0, no_insulin = 0 } },
  { from = 70, value = { insulin = 15, no_insulin = 10 } },
]

[tables.by_tier_and_age]
key = "text"
second_key = "count"
value = "money"
entries = { gold = [{ to = 65, value = 30 }, { from = 65, value = 35 }], silver = [{ to = 65, value = 20 }, { from = 65, value = 22 }] }
"#;

fn source(tables: &str, expression: &str) -> PolicySource {
    common::saying(
        &common::manifest("two-keys", "monthly", tables),
        expression,
        "0",
    )
}

fn policy(expression: &str) -> Policy {
    load(&source(TABLES, expression)).unwrap().policy
}

fn said(expression: &str) -> Result<String, String> {
    let member = MemberProfile::new(common::member_id("M1"));
    common::said(
        &policy(expression),
        &member,
        "2026-03",
        &Readings::default(),
        &History::default(),
    )
}

#[test]
fn a_two_key_table_is_looked_up_by_both_keys_whatever_their_kinds() {
    let cases: &[(&str, &str)] = &[
        (
            r#"lookup(tables.by_tier_and_insulin, "gold", "insulin")"#,
            "40",
        ),
        (
            r#"lookup(tables.by_tier_and_insulin, "silver", "no_insulin")"#,
            "20",
        ),
        (
            r#"lookup(tables.by_share_and_insulin, 69.9, "insulin")"#,
            "0",
        ),
        (
            r#"lookup(tables.by_share_and_insulin, 70, "insulin")"#,
            "15",
        ),
        (r#"lookup(tables.by_tier_and_age, "gold", 64)"#, "30"),
        (r#"lookup(tables.by_tier_and_age, "gold", 65)"#, "35"),
        (r#"lookup(tables.by_tier_and_age, "silver", 90)"#, "22"),
    ];
    for (expression, expected) in cases {
        assert_eq!(said(expression).as_deref(), Ok(*expected), "{expression}");
    }
}

#[test]
fn a_two_key_lookup_gone_wrong_names_the_table_and_what_it_holds() {
    let cases: &[(&str, &str)] = &[
        (
            r#"lookup(tables.by_tier_and_insulin, "gold")"#,
            "table `by_tier_and_insulin` has 2 key(s), looked up with 1: write lookup(tables.by_tier_and_insulin, key, second_key)",
        ),
        (
            r#"lookup(tables.by_tier_and_insulin, "bronze", "insulin")"#,
            "table `by_tier_and_insulin` has no entry `bronze`; it has `gold`, `silver`",
        ),
        (
            r#"lookup(tables.by_tier_and_insulin, "gold", "type1")"#,
            "table `by_tier_and_insulin` has no entry `type1`; it has `insulin`, `no_insulin`",
        ),
        (
            r#"lookup(tables.by_tier_and_age, "gold", "old")"#,
            "table `by_tier_and_age` is keyed by numbers, not text",
        ),
        (
            r#"lookup(tables.by_share_and_insulin, (), "insulin")"#,
            "looked up `()` in table `by_share_and_insulin`",
        ),
    ];
    for (expression, expected) in cases {
        let err = said(expression).unwrap_err();
        assert!(err.contains(expected), "{expression}: {err}");
    }
}

#[test]
fn every_row_of_a_two_key_table_is_checked_as_a_table_of_its_own() {
    let cases: &[(&str, &str)] = &[
        (
            "[tables.t]\nkey = \"text\"\nsecond_key = \"text\"\nvalue = \"money\"\nentries = { gold = { insulin = 40, no_insulin = 30 }, silver = { insulin = 25 } }\n",
            "table `t`: row `silver` has second keys `insulin`, but row `gold` has `insulin`, `no_insulin`; every row needs the same",
        ),
        (
            "[tables.t]\nkey = \"text\"\nsecond_key = \"count\"\nvalue = \"money\"\nentries = { gold = [{ to = 60, value = 30 }, { from = 65, value = 35 }] }\n",
            "the second key's steps in entry `gold` of table `t` has a gap: no step covers keys from 60 up to 65",
        ),
        (
            "[tables.t]\nkey = \"text\"\nsecond_key = \"text\"\nvalue = \"money\"\nentries = { gold = 40 }\n",
            "entry `gold` of table `t` must be a table by the second key, such as `{ insulin = 40, no_insulin = 30 }`, not an integer",
        ),
        (
            "[tables.t]\nkey = \"text\"\nsecond_key = \"flag\"\nvalue = \"money\"\nentries = { gold = { yes = 1 } }\n",
            "table `t`: `second_key` flag cannot key a table",
        ),
        (
            "[tables.t]\nkey = \"percent\"\nsecond_key = \"text\"\nvalue = \"money\"\nsteps = [{ to = 50, value = { a = 1, b = -2 } }, { from = 50, value = { a = 1, b = 2 } }]\n",
            "`b` in step 1 of table `t`: -2 is negative; money values are ≥ 0",
        ),
    ];
    for (tables, expected) in cases {
        let text = load(&source(tables, "0")).unwrap_err().to_string();
        assert!(text.contains(expected), "{expected}\n  got: {text}");
    }
}

#[test]
fn a_key_that_is_neither_a_number_nor_text_is_named() {
    let err = said(r#"lookup(tables.by_tier_and_insulin, true, "insulin")"#).unwrap_err();
    assert!(
        err.contains("table `by_tier_and_insulin` is looked up by numbers or text, not bool"),
        "{err}"
    );
}
