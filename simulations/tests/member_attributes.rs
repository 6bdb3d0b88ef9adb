//! A plan reading member data it declares (`[attributes]`) simulates with the population's
//! `[members] attributes`, the same for every member; without them the run stops naming the
//! attribute, before paying anyone.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::config;
use incentive_engine::policy::{PolicySource, SourceFile, load};
use incentive_simulations::{Population, Shard, run};
use rust_decimal::Decimal;

/// A tenth of the member's own monthly premium for a month with a reading.
fn own_premium() -> incentive_engine::policy::Policy {
    let manifest = "id = \"own-premium\"\nversion = \"1.0.0\"\nname = \"own premium\"\ninsurer = \"Example\"\ncurrency = \"CNY\"\ntimezone = \"Asia/Shanghai\"\nperiod = \"monthly\"\neffective_from = 2026-01-01\n\n[attributes]\nmonthly_premium = { type = \"money\" }\n\n[rounding]\nminor_unit = 0.01\n";
    let rules = "fn decide(record, member, history) {\n    if record.n_readings == 0 { return #{ reward: 0 }; }\n    #{ reward: member.monthly_premium / 10, qualified: true }\n}\n";
    let source = PolicySource {
        name: "own-premium".into(),
        files: vec![
            SourceFile::new("policy.toml", manifest),
            SourceFile::new("rules.rhai", rules),
        ],
    };
    load(&source).unwrap().policy
}

#[test]
fn every_synthetic_member_carries_the_populations_attributes() {
    let model = Population::from_toml(
        "[members]\nattributes = { monthly_premium = \"80.00\" }\n",
        "p.toml",
    )
    .unwrap();
    let plan = own_premium();
    let results = run(&model, &[&plan], &config(50, 2, 1, Shard::WHOLE), &|_| {}).unwrap();
    let totals = &results.replications[0].plans[0];
    // Every payment is a tenth of 80.00.
    assert!(totals.reward > Decimal::ZERO);
    assert_eq!(
        totals.by_amount.keys().copied().collect::<Vec<_>>(),
        [Decimal::new(8, 0)]
    );

    let err = run(
        &Population::default(),
        &[&plan],
        &config(5, 1, 1, Shard::WHOLE),
        &|_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("has no attribute `monthly_premium`, which the policy reads"),
        "{err}"
    );
    let bad = Population::from_toml(
        "[members]\nattributes = { \"Bad Name\" = \"x\" }\n",
        "p.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(
        bad.contains("members.attributes: attribute name `Bad Name`"),
        "{bad}"
    );
}
