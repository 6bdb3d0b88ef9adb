//! Indivisible rewards (`[rounding] reward_unit`, vouchers): the rules must give whole units,
//! and a cap that leaves part of one pays none of it.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod common;

use incentive_engine::Period;
use incentive_engine::policy::{
    EvaluationInput, History, MemberProfile, PolicySource, SourceFile, load,
};
use rust_decimal::Decimal;

fn decide(unit: &str, reward: &str) -> Result<Decimal, String> {
    let manifest = format!(
        "id = \"units\"\nversion = \"1\"\nname = \"units\"\ninsurer = \"Example\"\ncurrency = \"CNY\"\ntimezone = \"Asia/Shanghai\"\nperiod = \"monthly\"\neffective_from = 2026-01-01\n\n[caps]\nper_period = 120.00\n\n[rounding]\nminor_unit = 0.01\nreward_unit = {unit}\n"
    );
    let rules = format!(
        "fn decide(record, member, history) {{\n    #{{ reward: if member.id == \"M1\" {{ {reward} }} else {{ 0 }} }}\n}}\n"
    );
    let source = PolicySource {
        name: "units".into(),
        files: vec![
            SourceFile::new("policy.toml", manifest),
            SourceFile::new("rules.rhai", rules),
        ],
    };
    let policy = load(&source).map_err(|d| d.to_string())?.policy;
    let member = MemberProfile::new(common::member_id("M1"));
    let readings = incentive_engine::readings::Readings::default();
    let history = History::default();
    policy
        .evaluate(&EvaluationInput {
            member: &member,
            period: Period::parse("2026-03").unwrap(),
            readings: &readings,
            labs: &[],
            history: &history,
        })
        .map(|d| d.reward)
        .map_err(|e| e.to_string())
}

#[test]
fn rewards_are_paid_in_whole_units_and_a_cap_never_splits_one() {
    assert_eq!(decide("50.00", "100"), Ok(Decimal::new(10000, 2)));
    // 150 capped at 120 per period: two vouchers of 50, not 120.
    assert_eq!(decide("50.00", "150"), Ok(Decimal::new(10000, 2)));
    assert_eq!(decide("50.00", "0"), Ok(Decimal::new(0, 2)));
    let err = decide("50.00", "75").unwrap_err();
    assert_eq!(
        err,
        "policy `units`: the decision gives a reward of 75 CNY, not a whole number of the plan's 50.00 CNY units ([rounding] reward_unit)"
    );
}

#[test]
fn a_unit_that_is_not_a_whole_number_of_minor_units_is_refused() {
    for unit in ["0.005", "0", "-50"] {
        let err = decide(unit, "0").unwrap_err();
        assert!(
            err.contains(&format!(
                "reward_unit {unit} must be above 0 and a whole number of minor units"
            )),
            "{unit}: {err}"
        );
    }
}
