//! Months and quarters inside a period, without a loop over readings: `record.months()` and
//! `record.quarters()` give a record for each, with every metric, cut in the policy's zone.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use incentive_engine::policy::{History, MemberProfile, Policy, load};

fn policy(kind: &str, expression: &str) -> Policy {
    let manifest = common::manifest("parts", kind, "");
    load(&common::saying(&manifest, expression, "0"))
        .unwrap()
        .policy
}

/// Fasting readings: 5.5 mmol/L on 3 January, 9.0 on 10 February, none in March; and 5.0 at
/// 23:30 on 31 March in Shanghai, which is still March there though April 1st is near.
const READINGS: &str = "member_id,time,glucose_mmol_l,context
M1,2026-01-03T07:00:00+08:00,5.5,fasting
M1,2026-02-10T07:00:00+08:00,9.0,fasting
M1,2026-03-31T23:30:00+08:00,5.0,fasting
M1,2026-11-02T07:00:00+08:00,6.0,fasting
";

fn said(kind: &str, period: &str, expression: &str) -> Result<String, String> {
    let member = MemberProfile::new(common::member_id("M1"));
    let readings = common::readings_of(READINGS, "M1");
    common::said(
        &policy(kind, expression),
        &member,
        period,
        &readings,
        &History::default(),
    )
}

#[test]
fn each_part_of_a_period_is_a_record_of_its_own() {
    let cases: &[(&str, &str, &str, &str)] = &[
        ("quarterly", "2026-Q1", "record.months().len()", "3"),
        (
            "quarterly",
            "2026-Q1",
            "record.months()[0].period",
            "2026-01",
        ),
        (
            "quarterly",
            "2026-Q1",
            "record.months()[2].period",
            "2026-03",
        ),
        (
            "quarterly",
            "2026-Q1",
            "record.months().map(|m| m.fasting_n)",
            "[1, 1, 1]",
        ),
        (
            "quarterly",
            "2026-Q1",
            "record.months().filter(|m| m.fasting_in_target_percent != () && m.fasting_in_target_percent >= 70).len()",
            "2",
        ),
        (
            "quarterly",
            "2026-Q1",
            "record.months()[1].fasting_in_target_percent",
            "0",
        ),
        (
            "quarterly",
            "2026-Q1",
            "record.months()[1].period_days",
            "28",
        ),
        ("quarterly", "2026-Q1", "record.quarters().len()", "1"),
        ("annual", "2026", "record.months().len()", "12"),
        ("annual", "2026", "record.months()[10].fasting_n", "1"),
        ("annual", "2026", "record.months()[11].n_readings", "0"),
        (
            "annual",
            "2026",
            "record.months()[11].fasting_in_target_percent == ()",
            "true",
        ),
        (
            "annual",
            "2026",
            "record.quarters().map(|q| q.n_readings)",
            "[3, 0, 0, 1]",
        ),
        ("monthly", "2026-03", "record.months()[0].fasting_n", "1"),
    ];
    for (kind, period, expression, expected) in cases {
        assert_eq!(
            said(kind, period, expression).as_deref(),
            Ok(*expected),
            "{kind} {period}: {expression}"
        );
    }
}

#[test]
fn a_month_has_no_quarters_and_says_so() {
    let err = said("monthly", "2026-03", "record.quarters()").unwrap_err();
    assert!(
        err.contains("rules.rhai:2:")
            && err.contains("2026-03 is a monthly period: it has no quarterly periods inside it"),
        "{err}"
    );
}

/// What a rule reads of each month is listed with the decision, by month, so the decision says
/// what decided it; a month it read nothing of is not listed.
#[test]
fn the_decision_lists_what_the_rules_read_of_each_month() {
    let member = MemberProfile::new(common::member_id("M1"));
    let readings = common::readings_of(READINGS, "M1");
    let p = policy(
        "quarterly",
        "record.months().filter(|m| m.period != \"2026-03\").map(|m| m.fasting_n).len()",
    );
    let d = common::decide(&p, &member, "2026-Q1", &readings, &History::default()).unwrap();
    let json: serde_json::Value = serde_json::from_str(&d.to_json()).unwrap();
    assert_eq!(
        json["metrics_used_by_period"],
        serde_json::json!({ "2026-01": { "fasting_n": 1 }, "2026-02": { "fasting_n": 1 } })
    );
    assert!(
        json["metrics_used"].as_object().unwrap().is_empty(),
        "{json}"
    );
    // A rule that never asks for its months adds nothing to the decision's bytes.
    let plain = policy("quarterly", "record.fasting_n");
    let d = common::decide(&plain, &member, "2026-Q1", &readings, &History::default()).unwrap();
    assert!(!d.to_json().contains("metrics_used_by_period"));
}
