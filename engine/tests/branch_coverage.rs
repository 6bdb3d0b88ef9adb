//! Case coverage of a script's branches: `policy test` names each `if` body, `else` and
//! condition-false no case reaches, at its line and column; a counting copy of the script
//! notes them, and the cases' outcomes are the script's own.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod common;

use incentive_engine::policy::{PolicySource, SourceFile, load};

const RULES: &str = "fn decide(record, member, history) {
    let n = record.n_readings;
    if n > 10 {
        return #{ reward: 30 };
    } else if n > 0 {
        return #{ reward: 10 };
    } else {
        return #{ reward: 0 };
    }
}
";

fn case(name: &str, days: u32, reward: u32) -> SourceFile {
    let readings: String = (1..=days)
        .map(|d| format!("2026-03-{d:02}T07:00:00+08:00,5.6,fasting\n"))
        .collect();
    SourceFile::new(
        format!("cases/{name}.toml"),
        format!(
            "description = \"{name}\"\nperiod = \"2026-03\"\nreadings = \"\"\"\ntime,glucose_mmol_l,context\n{readings}\"\"\"\n\n[member]\nid = \"M1\"\n\n[expect]\nreward = {reward}\n"
        ),
    )
}

fn package(cases: Vec<SourceFile>) -> incentive_engine::policy::Package {
    let mut files = vec![
        SourceFile::new("policy.toml", common::manifest("branches", "monthly", "")),
        SourceFile::new("rules.rhai", RULES),
    ];
    files.extend(cases);
    load(&PolicySource {
        name: "branches".into(),
        files,
    })
    .unwrap()
}

#[test]
fn each_branch_no_case_reaches_is_named_at_its_if() {
    let only_many = package(vec![case("many", 12, 30)]);
    assert_eq!(
        only_many.branches_no_case_reaches(),
        [
            "rules.rhai:5:12: the body of this `if` (its condition true)",
            "rules.rhai:5:12: the `else` of this `if`",
        ]
    );
    let (_, failed) = only_many.run_cases();
    assert_eq!(failed, 0, "the counting copy changes no outcome");
    let every = package(vec![
        case("many", 12, 30),
        case("some", 3, 10),
        case("none", 0, 0),
    ]);
    assert!(every.branches_no_case_reaches().is_empty());
}

#[test]
fn an_if_without_else_counts_its_condition_false_as_a_branch() {
    let rules = "fn decide(record, member, history) {\n    let r = 0;\n    if record.n_readings > 0 { r = 10; }\n    #{ reward: r }\n}\n";
    let files = vec![
        SourceFile::new("policy.toml", common::manifest("one-if", "monthly", "")),
        SourceFile::new("rules.rhai", rules),
        case("some", 3, 10),
    ];
    let p = load(&PolicySource {
        name: "one-if".into(),
        files,
    })
    .unwrap();
    assert_eq!(
        p.branches_no_case_reaches(),
        ["rules.rhai:3:5: this `if` with its condition false (it has no `else`)"]
    );
}
