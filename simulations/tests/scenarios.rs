//! The named scenarios shipped in simulations/populations/: pessimistic and optimistic set
//! every varied assumption at one end of its range, and on the same draws order what a plan
//! buys and saves: pessimistic ≤ the default ≤ optimistic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{config, repo, tangdaifu};
use incentive_simulations::population::RANGES;
use incentive_simulations::tornado::figures;
use incentive_simulations::{Population, Shard, run};

fn scenario(name: &str) -> Population {
    let path = repo().join("simulations/populations").join(name);
    Population::from_toml(&std::fs::read_to_string(&path).unwrap(), name).unwrap()
}

#[test]
fn the_scenarios_set_every_varied_assumption_at_an_end_and_order_what_a_plan_buys() {
    let (pessimistic, optimistic) = (scenario("pessimistic.toml"), scenario("optimistic.toml"));
    for (key, low, high) in RANGES {
        let (p, o) = (
            pessimistic.value(key).unwrap(),
            optimistic.value(key).unwrap(),
        );
        assert!(
            (p == low && o == high) || (p == high && o == low),
            "{key}: pessimistic {p}, optimistic {o}, range {low} to {high}"
        );
    }
    let plan = tangdaifu();
    let config = config(300, 12, 2, Shard::WHOLE);
    let at = |model: &Population| {
        let results = run(model, &[&plan], &config, &|_| {}).unwrap();
        figures(model, &config, &results).unwrap().remove(0)
    };
    let (low, base, high) = (
        at(&pessimistic),
        at(&Population::default()),
        at(&optimistic),
    );
    assert!(
        low.members_into_hba1c_target <= base.members_into_hba1c_target
            && base.members_into_hba1c_target <= high.members_into_hba1c_target,
        "{low:?} {base:?} {high:?}"
    );
    assert!(low.claims_savings <= base.claims_savings && base.claims_savings < high.claims_savings);
    assert_eq!(
        low.claims_savings,
        rust_decimal::Decimal::ZERO,
        "no fall saves nothing"
    );
}
