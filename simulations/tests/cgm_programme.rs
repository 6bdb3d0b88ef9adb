//! A CGM programme priced with the shipped population file: wearers' traces are judged by the
//! consensus plan quarter by quarter and land in its tiers; the finger-stick default
//! population, with no sensor data, earns nothing from it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use incentive_engine::Period;
use incentive_simulations::{Config, Population, Shard, run};
use rust_decimal::Decimal;

fn quarters(members: u64) -> Config {
    Config {
        members,
        periods: 2,
        replications: 2,
        seed: 11,
        first_period: Period::parse("2026-Q1").unwrap(),
        shard: Shard::WHOLE,
    }
}

#[test]
fn cgm_wearers_land_in_the_consensus_plans_tiers_and_finger_stickers_earn_nothing() {
    let plan = package(&repo().join("policies/cgm-consensus"));
    let file = repo().join("simulations/populations/cgm-programme.toml");
    let model = Population::from_toml(
        &std::fs::read_to_string(&file).unwrap(),
        "cgm-programme.toml",
    )
    .unwrap();
    assert_eq!(model.cgm.wearing_share, 1.0);
    let results = run(&model, &[&plan], &quarters(30), &|_| {}).unwrap();
    let mut tiers = std::collections::BTreeMap::<String, u64>::new();
    let mut paid = Decimal::ZERO;
    for r in &results.replications {
        let t = &r.plans[0];
        assert_eq!(t.members_measuring, 30, "every wearer has sensor data");
        paid += t.reward;
        for (tier, v) in &t.by_tier {
            *tiers.entry(tier.clone()).or_default() += v.member_periods;
        }
    }
    assert!(paid > Decimal::ZERO, "{tiers:?}");
    let decided: u64 = tiers.values().sum();
    assert_eq!(decided, 30 * 2 * 2);
    // A spread of outcomes, not one tier for everyone.
    assert!(tiers.values().filter(|n| **n > 0).count() >= 2, "{tiers:?}");

    let smbg = run(&Population::default(), &[&plan], &quarters(30), &|_| {}).unwrap();
    assert!(
        smbg.replications
            .iter()
            .all(|r| r.plans[0].reward.is_zero()),
        "finger-stick readings are not a sensor trace"
    );
}
