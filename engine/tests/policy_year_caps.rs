//! Yearly caps from each member's enrolment anniversary (`[caps] year = "enrolment"`): a period
//! counts in the policy year its first day is in, and a member without an enrolment date is
//! not decided.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod common;

use incentive_engine::Period;
use incentive_engine::policy::{
    Decision, EvaluationInput, History, MemberProfile, PolicySource, PriorOutcome, SourceFile, load,
};
use rust_decimal::Decimal;

/// 30 CNY a month, at most 100 a year, the year counted as `year` says.
fn decide(
    year: &str,
    enrolled_on: Option<&str>,
    period: &str,
    paid: &[&str],
) -> Result<Decision, String> {
    let manifest = format!(
        "id = \"yearly\"\nversion = \"1\"\nname = \"yearly\"\ninsurer = \"Example\"\ncurrency = \"CNY\"\ntimezone = \"Asia/Shanghai\"\nperiod = \"monthly\"\neffective_from = 2025-01-01\n\n[caps]\nper_year = 100.00\nyear = \"{year}\"\n\n[rounding]\nminor_unit = 0.01\n"
    );
    let source = PolicySource {
        name: "yearly".into(),
        files: vec![
            SourceFile::new("policy.toml", manifest),
            SourceFile::new(
                "rules.rhai",
                "fn decide(record, member, history) {\n    #{ reward: 30, reasons: [\"30 CNY a month\"] }\n}\n",
            ),
        ],
    };
    let policy = load(&source).map_err(|d| d.to_string())?.policy;
    let member = MemberProfile {
        enrolled_on: enrolled_on.map(|d| d.parse().unwrap()),
        ..MemberProfile::new(common::member_id("M1"))
    };
    let history = History {
        outcomes: paid
            .iter()
            .map(|p| PriorOutcome {
                period: Period::parse(p).unwrap(),
                reward: Decimal::new(30, 0),
                premium_adjustment_percent: Decimal::ZERO,
                tier: None,
                points: 0,
                qualified: true,
                metrics: Default::default(),
            })
            .collect(),
        ..History::default()
    };
    let readings = incentive_engine::readings::Readings::default();
    policy
        .evaluate(&EvaluationInput {
            member: &member,
            period: Period::parse(period).unwrap(),
            readings: &readings,
            labs: &[],
            history: &history,
        })
        .map_err(|e| e.to_string())
}

#[test]
fn a_policy_year_counts_what_was_paid_since_the_members_enrolment_anniversary() {
    // Enrolled on 15 July 2025: March 2026 is in the policy year from 15 July 2025, with 90 CNY
    // paid in it (August, September, December 2025), so 10 is left; the calendar year 2026 has
    // paid nothing.
    let paid = ["2025-08", "2025-09", "2025-12"];
    let policy_year = decide("enrolment", Some("2025-07-15"), "2026-03", &paid).unwrap();
    assert_eq!(policy_year.reward, Decimal::new(1000, 2));
    let lines = policy_year
        .explanation
        .iter()
        .map(|l| l.plain())
        .collect::<Vec<_>>();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("engine-capped-policy-year")
                && l.contains("cap: 100.00")
                && l.contains("earlier: 90")),
        "{lines:?}"
    );
    let calendar = decide("calendar", Some("2025-07-15"), "2026-03", &paid).unwrap();
    assert_eq!(calendar.reward, Decimal::new(3000, 2));

    // July 2026 starts on the 1st, before the anniversary: still the policy year from 2025.
    // August 2026 starts the next one, with nothing paid in it yet.
    let before_anniversary = ["2026-04", "2026-05", "2026-06"];
    let july = decide(
        "enrolment",
        Some("2025-07-15"),
        "2026-07",
        &before_anniversary,
    )
    .unwrap();
    assert_eq!(july.reward, Decimal::new(1000, 2));
    let august = decide(
        "enrolment",
        Some("2025-07-15"),
        "2026-08",
        &["2026-05", "2026-06", "2026-07"],
    )
    .unwrap();
    assert_eq!(august.reward, Decimal::new(3000, 2));
}

#[test]
fn a_member_without_an_enrolment_date_is_not_decided_under_a_policy_year_cap() {
    let err = decide("enrolment", None, "2026-03", &[]).unwrap_err();
    assert_eq!(
        err,
        "policy `yearly`: member `M1` has no enrolment date, which the plan's year starts from ([caps] year = \"enrolment\"); send enrolled_on with the member"
    );
    let bad = decide("fiscal", Some("2025-07-15"), "2026-03", &[]).unwrap_err();
    assert!(
        bad.contains("year `fiscal` must be calendar or enrolment"),
        "{bad}"
    );
}
