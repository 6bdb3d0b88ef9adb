//! Member data a policy declares (`[attributes]`): read as `member.NAME` in its kind, `()` for
//! an optional one missing; a member without a required one, or with one of the wrong kind,
//! stops the evaluation naming both; a name the policy does not declare is an error that says
//! where to declare it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use incentive_engine::Period;
use incentive_engine::policy::attributes::AttributeValue;
use incentive_engine::policy::{
    EvaluationInput, History, MemberProfile, Policy, PolicySource, SourceFile, load,
};
use incentive_engine::readings::Readings;
use std::collections::BTreeMap;

const ATTRIBUTES: &str = r#"
[attributes]
monthly_premium = { type = "money", description = "the member's own premium a month" }
family_id = { type = "text", optional = true }
children = { type = "count", optional = true }
renewal_on = { type = "date", optional = true }
smoker = { type = "flag", optional = true }
"#;

fn manifest() -> String {
    common::manifest("attributes-fixture", "monthly", ATTRIBUTES)
}

fn policy(expression: &str) -> Policy {
    // The probes read the one attribute every member has.
    let source = common::saying(&manifest(), expression, "member.monthly_premium");
    load(&source).unwrap().policy
}

fn member(attributes: &[(&str, AttributeValue)]) -> MemberProfile {
    MemberProfile {
        attributes: attributes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect::<BTreeMap<_, _>>(),
        ..MemberProfile::new(common::member_id("M1"))
    }
}

fn said(expression: &str, member: &MemberProfile) -> Result<String, String> {
    let readings = Readings::default();
    common::said(
        &policy(expression),
        member,
        "2026-03",
        &readings,
        &History::default(),
    )
}

fn text(s: &str) -> AttributeValue {
    AttributeValue::Text(s.to_owned())
}

#[test]
fn each_declared_attribute_reads_as_its_kind() {
    let full = member(&[
        ("monthly_premium", text("80.50")),
        ("family_id", text("F-0012")),
        ("children", AttributeValue::Integer(2)),
        ("renewal_on", text("2026-09-30")),
        ("smoker", AttributeValue::Flag(false)),
    ]);
    let cases: &[(&str, &str)] = &[
        ("member.monthly_premium * 2", "161.00"),
        ("member.family_id", "F-0012"),
        ("member.children + 1", "3"),
        ("member.renewal_on", "2026-09-30"),
        ("!member.smoker", "true"),
    ];
    for (expression, expected) in cases {
        assert_eq!(
            said(expression, &full).as_deref(),
            Ok(*expected),
            "{expression}"
        );
    }
    // Money may come as a whole number; an optional attribute missing is ().
    let lean = member(&[("monthly_premium", AttributeValue::Integer(100))]);
    assert_eq!(said("member.monthly_premium", &lean).as_deref(), Ok("100"));
    assert_eq!(said("member.family_id == ()", &lean).as_deref(), Ok("true"));
}

#[test]
fn a_member_without_a_required_attribute_or_with_one_of_another_kind_is_not_decided() {
    let cases: &[(MemberProfile, &str)] = &[
        (
            member(&[]),
            "policy `attributes-fixture`: member `M1` has no attribute `monthly_premium`, which the policy reads (money, declared in policy.toml [attributes]); send it with the member",
        ),
        (
            member(&[("monthly_premium", text("eighty"))]),
            "member `M1` attribute `monthly_premium`: \"eighty\" is not money (an amount of 0 or more, as text such as \"100.00\")",
        ),
        (
            member(&[("monthly_premium", text("-1"))]),
            "\"-1\" is not money",
        ),
        (
            member(&[
                ("monthly_premium", text("80")),
                ("renewal_on", text("30/09/2026")),
            ]),
            "attribute `renewal_on`: \"30/09/2026\" is not a date (YYYY-MM-DD)",
        ),
        (
            member(&[
                ("monthly_premium", text("80")),
                ("children", AttributeValue::Integer(-2)),
            ]),
            "attribute `children`: -2 is not a count (a whole number of 0 or more)",
        ),
        (
            member(&[("monthly_premium", text("80")), ("smoker", text("no"))]),
            "attribute `smoker`: \"no\" is not a flag (true or false)",
        ),
    ];
    for (m, expected) in cases {
        let err = said("1", m).unwrap_err();
        assert!(err.contains(expected), "{expected}\n  got: {err}");
    }
}

#[test]
fn an_attribute_the_policy_does_not_declare_says_where_to_declare_it() {
    let m = member(&[("monthly_premium", text("80"))]);
    // Through a variable, past what loading checks.
    let err = said("{ let m = member; m.family_idd }", &m).unwrap_err();
    assert!(
        err.contains("rules.rhai:2:")
            && err.contains("`member.family_idd` is not an attribute this policy declares: declare it in policy.toml [attributes]; did you mean `family_id`?"),
        "{err}"
    );
    // Written out, it is refused when the package loads.
    let source = PolicySource {
        name: "attributes-fixture".into(),
        files: vec![
            SourceFile::new("policy.toml", manifest()),
            SourceFile::new(
                "rules.rhai",
                "fn decide(record, member, history) {\n    #{ reward: 0, reasons: [member.family_idd] }\n}\n",
            ),
        ],
    };
    let text = load(&source).unwrap_err().to_string();
    assert!(
        text.contains("rules.rhai:2:36: error: `member.family_idd` is not an attribute of the member: declare it in policy.toml [attributes] to read it"),
        "{text}"
    );
}

#[test]
fn attributes_are_part_of_the_input_hash_and_absent_ones_leave_it_as_before() {
    let p = policy("1");
    let readings = Readings::default();
    let history = History::default();
    let hash = |m: &MemberProfile| {
        p.evaluate(&EvaluationInput {
            member: m,
            period: Period::parse("2026-03").unwrap(),
            readings: &readings,
            labs: &[],
            history: &history,
        })
        .unwrap()
        .input_hash
    };
    let a = member(&[("monthly_premium", text("80"))]);
    let b = member(&[("monthly_premium", text("81"))]);
    assert_ne!(hash(&a), hash(&b));
    let json = serde_json::to_string(&MemberProfile::new(common::member_id("M1"))).unwrap();
    assert!(!json.contains("attributes"), "{json}");
}

#[test]
fn a_fractional_number_is_refused_with_how_to_send_money() {
    let err = serde_json::from_str::<AttributeValue>("80.5")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("80.5 is a fractional number; an attribute is a string, a whole number or true/false (money as a string such as \"100.00\""),
        "{err}"
    );
}

#[test]
fn a_policy_declaring_more_attributes_than_a_member_may_carry_is_refused() {
    let many: String = (0..33)
        .map(|i| format!("a{i} = {{ type = \"text\", optional = true }}\n"))
        .collect();
    let manifest = common::manifest("many", "monthly", &format!("\n[attributes]\n{many}"));
    let text = load(&common::saying(&manifest, "0", "0"))
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("33 attributes declared, more than the 32 a member may carry (attributes_per_member_max)"),
        "{text}"
    );
}
