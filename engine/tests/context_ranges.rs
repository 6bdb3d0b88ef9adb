//! A target range by context: `record.percent_in_range("fasting", 80, 130)` is ADA's fasting
//! target over the fasting readings alone, where `fasting_in_target_percent` is fixed at
//! 4.4–7.0 mmol/L.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod common;

use incentive_engine::policy::{History, MemberProfile, load};

/// Fasting at 85, 125 and 140 mg/dL, a post-meal reading at 200.
const READINGS: &str = "member_id,time,glucose_mg_dl,context
M1,2026-03-01T07:00:00+08:00,85,fasting
M1,2026-03-02T07:00:00+08:00,125,fasting
M1,2026-03-03T07:00:00+08:00,140,fasting
M1,2026-03-03T10:00:00+08:00,200,post_meal
";

const TERMS: &str = "\n[terms]\nada_fasting_low = { type = \"glucose\", value = 80, unit = \"mg/dL\" }\nada_fasting_high = { type = \"glucose\", value = 130, unit = \"mg/dL\" }\n";

fn said(expression: &str) -> Result<String, String> {
    let manifest = common::manifest("ctx", "monthly", TERMS);
    let policy = load(&common::saying(&manifest, expression, "0"))
        .unwrap()
        .policy;
    let member = MemberProfile::new(common::member_id("M1"));
    let readings = common::readings_of(READINGS, "M1");
    common::said(&policy, &member, "2026-03", &readings, &History::default())
}

#[test]
fn a_range_for_a_context_counts_only_the_readings_of_that_context() {
    let cases: &[(&str, &str)] = &[
        (
            r#"record.percent_in_range("fasting", 80, 130).round(2)"#,
            "66.67",
        ),
        (
            r#"record.percent_in_range("fasting", terms.ada_fasting_low, terms.ada_fasting_high).round(2)"#,
            "66.67",
        ),
        (r#"record.percent_in_range("post_meal", 80, 180)"#, "0"),
        (
            r#"record.percent_in_range("bedtime", 80, 130) == ()"#,
            "true",
        ),
        // All readings, the context left out: 2 of 4.
        ("record.percent_in_range(80, 130)", "50"),
    ];
    for (expression, expected) in cases {
        assert_eq!(said(expression).as_deref(), Ok(*expected), "{expression}");
    }
    let err = said(r#"record.percent_in_range("breakfast", 80, 130)"#).unwrap_err();
    assert!(err.contains("breakfast"), "{err}");
}
