//! The tornado's bars are the runs they stand for: each assumption at its low and its high,
//! one at a time, on the same members and random numbers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{config, tangdaifu};
use incentive_simulations::population::RANGES;
use incentive_simulations::tornado::{figures, tornado};
use incentive_simulations::{Population, Shard, run};
use std::sync::atomic::AtomicBool;

#[test]
fn each_bar_is_the_run_with_that_assumption_at_its_low_and_at_its_high() {
    let model = Population::default();
    let plan = tangdaifu();
    let config = config(150, 6, 2, Shard::WHOLE);
    let base = run(&model, &[&plan], &config, &|_| {}).unwrap();
    let sensitivity = tornado(
        &model,
        &[&plan],
        &config,
        &base,
        &|_| {},
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(sensitivity.base, figures(&model, &config, &base).unwrap());
    let mut named: Vec<&str> = sensitivity
        .bars
        .iter()
        .map(|b| b.assumption.as_str())
        .collect();
    named.sort_unstable();
    let mut all: Vec<&str> = RANGES.iter().map(|(k, _, _)| *k).collect();
    all.sort_unstable();
    assert_eq!(named, all, "a bar for every varied assumption");

    // One that changes what is simulated, and one that changes only what it is worth: each end
    // run again by hand, the whole run.
    for key in ["response.hba1c_fall_max_points", "savings.insurer_share"] {
        let bar = sensitivity
            .bars
            .iter()
            .find(|b| b.assumption == key)
            .unwrap();
        for (value, shown) in [(bar.low, &bar.at_low), (bar.high, &bar.at_high)] {
            let varied = model.with(key, value).unwrap();
            let by_hand = run(&varied, &[&plan], &config, &|_| {}).unwrap();
            assert_eq!(
                &figures(&varied, &config, &by_hand).unwrap(),
                shown,
                "{key} = {value}"
            );
        }
    }
    let fall = sensitivity
        .bars
        .iter()
        .find(|b| b.assumption == "response.hba1c_fall_max_points")
        .unwrap();
    assert!(
        fall.at_low[0].claims_savings == rust_decimal::Decimal::ZERO
            && fall.at_high[0].claims_savings > sensitivity.base[0].claims_savings,
        "no fall saves nothing, a larger one more: {fall:?}"
    );
    // The widest swing in net cost first.
    let swing = |i: usize| {
        let b = &sensitivity.bars[i];
        (b.at_low[0].net_cost - b.at_high[0].net_cost).abs()
    };
    assert!((1..sensitivity.bars.len()).all(|i| swing(i - 1) >= swing(i)));
}

#[test]
fn an_assumption_outside_its_range_or_a_range_of_no_assumption_is_refused_by_name() {
    let text = "[response]\nhba1c_fall_max_points = 0.9\n[ranges]\n\"response.colour\" = [0, 1]\n";
    let err = Population::from_toml(text, "p.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("response.hba1c_fall_max_points = 0.9 is outside its range 0 to 0.7")
            && err.contains("ranges.\"response.colour\" is not an assumption"),
        "{err}"
    );
    let widened = "[response]\nhba1c_fall_max_points = 0.9\n[ranges]\n\"response.hba1c_fall_max_points\" = [0, 1]\n";
    let model = Population::from_toml(widened, "p.toml").unwrap();
    assert_eq!(
        model.range("response.hba1c_fall_max_points"),
        Some([0.0, 1.0])
    );
    let set = model.with("savings.insurer_share", 0.05).unwrap();
    assert_eq!(set.savings.insurer_share, rust_decimal::Decimal::new(5, 2));
    assert!(model.with("savings.colour", 1.0).is_err());
}
