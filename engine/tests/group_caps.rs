//! A group's yearly cap (`[caps] group`, `per_group_per_year`): the members sharing a value of a
//! declared text attribute — a family — are paid at most the cap together in a calendar year.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod common;

use incentive_engine::Period;
use incentive_engine::policy::{
    EvaluationInput, History, Line, MemberProfile, PolicySource, SourceFile, load,
};
use incentive_engine::readings::Readings;
use rust_decimal::Decimal;

const FAMILY: &str = "[attributes]\nfamily_id = { type = \"text\", optional = true, description = \"the family the policy covers\" }\n";

fn source(attributes: &str, caps: &str) -> PolicySource {
    let manifest = common::manifest(
        "family",
        "monthly",
        &format!("{attributes}\n[caps]\n{caps}\n"),
    );
    let rules = "fn decide(record, member, history) {\n    #{ reward: 30 }\n}\n";
    PolicySource {
        name: "family".into(),
        files: vec![
            SourceFile::new("policy.toml", manifest),
            SourceFile::new("rules.rhai", rules),
        ],
    }
}

fn decide(caps: &str, group_paid: Option<Decimal>) -> (Decimal, Vec<Line>) {
    let policy = load(&source(FAMILY, caps)).unwrap().policy;
    let d = policy
        .evaluate(&EvaluationInput {
            member: &MemberProfile::new(common::member_id("M1")),
            period: Period::parse("2026-03").unwrap(),
            readings: &Readings::default(),
            labs: &[],
            history: &History {
                group_paid_this_year: group_paid,
                ..History::default()
            },
        })
        .unwrap();
    (d.reward, d.explanation)
}

fn cny(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn a_family_is_paid_at_most_its_cap_together_in_a_year() {
    let caps = "group = \"family_id\"\nper_group_per_year = 100.00";
    assert_eq!(decide(caps, Some(cny("50"))).0, cny("30.00"));
    let (reward, why) = decide(caps, Some(cny("80")));
    assert_eq!(reward, cny("20.00"));
    assert_eq!(
        why.iter().map(Line::plain).collect::<Vec<_>>(),
        ["engine-capped-group (cap: 100.00, earlier: 80, given: 30, paid: 20.00)"]
    );
    assert_eq!(decide(caps, Some(cny("100"))).0, cny("0.00"));
    // Where the caller does not know what the group was paid, no group cap is applied.
    assert_eq!(decide(caps, None).0, cny("30.00"));
    let refusing = format!("{caps}\nwhen_short = \"refuse\"");
    let (reward, why) = decide(&refusing, Some(cny("80")));
    assert_eq!(reward, cny("0.00"));
    assert_eq!(why[0].message_id(), Some("engine-refused-group"));
}

#[test]
fn a_group_cap_names_a_declared_text_attribute_and_counts_the_calendar_year() {
    for (attributes, caps, want) in [
        (
            FAMILY,
            "group = \"family_id\"",
            "`group` names who shares a cap, but [caps] has no `per_group_per_year`",
        ),
        (
            FAMILY,
            "per_group_per_year = 100.00",
            "`per_group_per_year` needs `group`",
        ),
        (
            FAMILY,
            "group = \"familyid\"\nper_group_per_year = 100.00",
            "group `familyid` must be a text attribute the policy declares under [attributes]",
        ),
        (
            "[attributes]\nfamily_id = { type = \"count\" }\n",
            "group = \"family_id\"\nper_group_per_year = 100.00",
            "group `family_id` must be a text attribute the policy declares under [attributes], not count",
        ),
        (
            FAMILY,
            "group = \"family_id\"\nper_group_per_year = 100.00\nyear = \"enrolment\"",
            "a group's cap counts the calendar year",
        ),
    ] {
        let e = load(&source(attributes, caps)).unwrap_err().to_string();
        assert!(e.contains(want), "{caps}: {e}");
        assert!(e.contains("policy.toml:"), "{e}");
    }
    let e = load(&source(
        FAMILY,
        "group = \"familyid\"\nper_group_per_year = 100.00",
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("did you mean `family_id`?"), "{e}");
}
