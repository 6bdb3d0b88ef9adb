//! A pool scaled to the book it is for, the budget at a confidence, and the reserve.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{config, package_with, repo};
use incentive_simulations::budget::{budget, scaled_to_run};
use incentive_simulations::stats::quantile;
use incentive_simulations::{Population, Shard, run};
use rust_decimal::Decimal;

#[test]
fn a_pool_for_a_book_binds_in_a_smaller_run_as_its_share() {
    // 4,000.00 for a book of 10,000 members: 80.00 for a run of 200.
    let plan = package_with(&repo().join("policies/tangdaifu-smbg"), |m| {
        m.replace("pool_budget = 200000000.00", "pool_budget = 4000.00")
    });
    let scaled = scaled_to_run(&plan, 200, 10_000);
    assert_eq!(
        scaled.manifest.caps.pool_budget,
        Some(Decimal::new(8000, 2))
    );
    // A share is rounded down to the minor unit: 4,000 × 7 / 3 = 9,333.333…
    let odd = scaled_to_run(&plan, 7, 3);
    assert_eq!(
        odd.manifest.caps.pool_budget,
        Some(Decimal::new(933_333, 2))
    );

    let config = config(200, 3, 2, Shard::WHOLE);
    let model = Population::default();
    let whole = run(&model, &[&plan], &config, &|_| {}).unwrap();
    let share = run(&model, &[&scaled], &config, &|_| {}).unwrap();
    for (w, s) in whole.replications.iter().zip(&share.replications) {
        assert_eq!(
            w.plans[0].pool_exhausted_in, None,
            "the whole pool is never reached"
        );
        assert!(s.plans[0].pool_exhausted_in.is_some(), "its share is");
        assert!(s.plans[0].reward <= Decimal::from(80));
    }
}

#[test]
fn the_budget_is_the_quantile_of_the_total_a_member_and_for_the_book_and_the_reserve_the_largest_period()
 {
    let plan = common::tangdaifu();
    let config = config(100, 4, 12, Shard::WHOLE);
    let results = run(&Population::default(), &[&plan], &config, &|_| {}).unwrap();
    let totals: Vec<_> = results.replications.iter().map(|r| &r.plans[0]).collect();
    let b = budget(&totals, 100, Decimal::new(9, 1), Some(5_000));
    let rewards: Vec<Decimal> = totals.iter().map(|t| t.reward).collect();
    assert_eq!(b.total, quantile(&rewards, Decimal::new(9, 1)));
    assert!(b.total >= rewards.iter().copied().min().unwrap());
    assert_eq!(
        b.per_member,
        (b.total / Decimal::from(100)).round_dp(4).normalize()
    );
    let book = b.for_book.unwrap();
    assert_eq!(
        book.total,
        (b.per_member * Decimal::from(5_000))
            .round_dp(2)
            .normalize()
    );
    let largest: Vec<Decimal> = totals
        .iter()
        .map(|t| t.reward_by_period.iter().copied().max().unwrap())
        .collect();
    assert_eq!(b.reserve, quantile(&largest, Decimal::new(9, 1)));
    assert!(b.reserve <= b.total);
}
