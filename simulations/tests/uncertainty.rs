//! Parameter uncertainty: with `[uncertainty] assumptions = "drawn"` each replication runs on
//! its own draw of every varied assumption, and is exactly the run with those held.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{config, tangdaifu};
use incentive_simulations::population::{AssumptionsAre, RANGES};
use incentive_simulations::report::{PlanInfo, RunInfo, summary_json};
use incentive_simulations::{Population, Shard, run};

fn drawn() -> Population {
    Population::from_toml("[uncertainty]\nassumptions = \"drawn\"\n", "drawn.toml").unwrap()
}

#[test]
fn each_replication_draws_every_varied_assumption_within_its_range() {
    let model = drawn();
    let a = model.draws(7, 0);
    assert_eq!(a.len(), RANGES.len());
    for ((key, value), (k, low, high)) in a.iter().zip(RANGES) {
        assert_eq!(key, k);
        assert!((low..=high).contains(value), "{key} = {value}");
    }
    assert_eq!(
        a,
        model.draws(7, 0),
        "the same seed and replication draw the same"
    );
    assert_ne!(a, model.draws(7, 1));
    assert!(
        Population::default().draws(7, 0).is_empty(),
        "held by default"
    );
}

#[test]
fn a_replication_on_drawn_assumptions_is_the_run_with_those_assumptions_held() {
    let model = drawn();
    let plan = tangdaifu();
    let config = config(150, 6, 3, Shard::WHOLE);
    let results = run(&model, &[&plan], &config, &|_| {}).unwrap();
    let third = &results.replications[2];
    assert_eq!(third.assumptions, model.draws(config.seed, 2));
    let mut held = model.with_all(&third.assumptions).unwrap();
    held.uncertainty.assumptions = AssumptionsAre::Held;
    let by_hand = run(&held, &[&plan], &config, &|_| {}).unwrap();
    let again = &by_hand.replications[2];
    assert!(again.assumptions.is_empty());
    assert_eq!(again.plans, third.plans);
    assert_eq!(again.no_plan, third.no_plan);

    let info = RunInfo::new(&config, vec![PlanInfo::of(&plan)], &model);
    let summary: serde_json::Value =
        serde_json::from_str(&summary_json(&info, &results).unwrap()).unwrap();
    let include = summary["plans"][0]["outcomes"]["intervals_include"]
        .as_str()
        .unwrap();
    assert!(
        include.starts_with("process and parameter variance"),
        "{include}"
    );
}
