//! A simulation carries the metrics a policy keeps from one period to the next, as the store
//! does: cgm-improvement can pay for improving on the quarter before only if the quarter
//! before's time in range reaches the next decision.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{package, repo};
use incentive_engine::Period;
use incentive_simulations::{Config, Population, Shard, run};

#[test]
fn a_quarter_is_paid_for_improving_on_the_time_in_range_its_member_had_the_quarter_before() {
    let model = Population::from_toml(
        "[cgm]\nwearing_share = 1\ninterval_minutes = 15\n",
        "sensors.toml",
    )
    .unwrap();
    let plan = package(&repo().join("policies/cgm-improvement"));
    let config = |periods| Config {
        members: 60,
        periods,
        replications: 1,
        seed: 7,
        first_period: Period::parse("2026-Q1").unwrap(),
        shard: Shard::WHOLE,
    };
    let improved = |periods| {
        let results = run(&model, &[&plan], &config(periods), &|_| {}).unwrap();
        results.replications[0].plans[0]
            .by_tier
            .get("improved")
            .map_or(0, |t| t.member_periods)
    };
    // The first quarter has nothing before it to improve on.
    assert_eq!(improved(1), 0);
    let second = improved(2);
    assert!(
        second > 0,
        "no member improved on the quarter before in the second quarter"
    );
}
