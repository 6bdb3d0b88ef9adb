//! What a plan puts at stake through the premium: a plan acting by discounts or loadings alone
//! buys a response, a loading weighing `loss_framing_multiplier` times a discount of as many
//! points, and a plan changing nothing still gives the no-plan arm.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{package_with, repo};
use incentive_engine::Period;
use incentive_engine::policy::Policy;
use incentive_simulations::{Config, Population, Results, Shard, run};
use rust_decimal::Decimal;
use std::str::FromStr;

/// The premium-only fixture, changing every member's premium by `change` points at renewal.
fn premium_change(change: &str) -> Policy {
    package_with(
        &repo().join("simulations/tests/fixtures/premium-only"),
        |m| m.replace("value = -2,", &format!("value = {change},")),
    )
}

fn years(model: &Population, plan: &Policy, periods: u32) -> Results {
    let config = Config {
        members: 300,
        periods,
        replications: 2,
        seed: 20_151_101,
        first_period: Period::parse("2026").unwrap(),
        shard: Shard::WHOLE,
    };
    run(model, &[plan], &config, &|_| {}).unwrap()
}

fn decimal(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

/// `1 − 2^(−share / 0.10)`, the default half-effect stake, as the stake records it.
fn response_share_at(share: f64) -> Decimal {
    Decimal::from_f64_retain(1.0 - (-share / 0.10_f64).exp2())
        .unwrap()
        .round_dp(6)
        .normalize()
}

#[test]
fn a_plan_paying_only_by_premium_discount_buys_a_response() {
    let model = Population::default();
    let results = years(&model, &premium_change("-2"), 1);
    let stake = results.stakes[0].as_ref().unwrap();
    assert_eq!(stake.reward_per_member_year, Decimal::ZERO);
    assert_eq!(stake.premium_discount_points_per_member_year, decimal("2"));
    assert_eq!(stake.premium_loading_points_per_member_year, Decimal::ZERO);
    assert_eq!(stake.share_of_premium, decimal("0.02"));
    assert_eq!(stake.response_share, response_share_at(0.02));
    for r in &results.replications {
        let (plan, none) = (&r.plans[0].outcomes[0], &r.no_plan[0]);
        assert_eq!(r.plans[0].reward, Decimal::ZERO);
        assert_eq!(r.plans[0].premium_points, decimal("-600"));
        assert!(
            plan.hba1c_sum < none.hba1c_sum,
            "replication {}: HbA1c summed {} under the plan, {} with none",
            r.replication,
            plan.hba1c_sum,
            none.hba1c_sum
        );
    }
}

#[test]
fn a_loading_counts_the_framing_multiplier_times_a_discount_of_as_many_points() {
    let loading = premium_change("2");
    let framed = years(&Population::default(), &loading, 1);
    let stake = framed.stakes[0].as_ref().unwrap();
    assert_eq!(stake.premium_discount_points_per_member_year, Decimal::ZERO);
    assert_eq!(stake.premium_loading_points_per_member_year, decimal("2"));
    assert_eq!(stake.share_of_premium, decimal("0.03"), "2 points × 1.5");
    assert_eq!(stake.response_share, response_share_at(0.03));

    let neutral =
        Population::from_toml("[response]\nloss_framing_multiplier = 1\n", "neutral.toml").unwrap();
    let unframed = years(&neutral, &loading, 1);
    let discount = years(&neutral, &premium_change("-2"), 1);
    let (a, b) = (
        unframed.stakes[0].as_ref().unwrap(),
        discount.stakes[0].as_ref().unwrap(),
    );
    assert_eq!(a.share_of_premium, b.share_of_premium);
    assert_eq!(a.response_share, b.response_share);
    for (x, y) in unframed.replications.iter().zip(&discount.replications) {
        assert_eq!(
            x.plans[0].outcomes, y.plans[0].outcomes,
            "equal stakes, equal members' health"
        );
    }
}

#[test]
fn a_plan_changing_no_premium_and_paying_nothing_gives_the_no_plan_arm_draw_for_draw() {
    let results = years(&Population::default(), &premium_change("0"), 2);
    let stake = results.stakes[0].as_ref().unwrap();
    assert_eq!(stake.share_of_premium, Decimal::ZERO);
    assert_eq!(stake.response_share, Decimal::ZERO);
    for r in &results.replications {
        assert_eq!(r.plans[0].outcomes.len(), 2);
        assert_eq!(r.plans[0].outcomes, r.no_plan);
    }
}

#[test]
fn an_outcome_plan_loading_its_bronze_members_puts_its_loadings_at_stake() {
    let vitality = common::package(&repo().join("policies/vitality-status"));
    let results = years(&Population::default(), &vitality, 1);
    let stake = results.stakes[0].as_ref().unwrap();
    let totals_loading = stake.premium_loading_points_per_member_year;
    assert!(totals_loading > Decimal::ZERO, "{stake:?}");
    let premium = Decimal::new(1200, 0);
    let expected = stake.reward_per_member_year / premium
        + (stake.premium_discount_points_per_member_year + decimal("1.5") * totals_loading)
            / Decimal::ONE_HUNDRED;
    assert_eq!(stake.share_of_premium, expected.round_dp(4).normalize());
}
