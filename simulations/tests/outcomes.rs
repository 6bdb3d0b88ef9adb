//! The outcome and savings figures of a run against their closed forms on small models.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{config, tangdaifu};
use incentive_simulations::report::{PlanInfo, RunInfo, summary_json};
use incentive_simulations::savings::discount_factor;
use incentive_simulations::{Population, Shard, run};
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use serde_json::Value;
use statrs::distribution::{ContinuousCDF, Normal};

fn summary(model: &Population, members: u64, periods: u32, replications: u64) -> Value {
    let plan = tangdaifu();
    let config = config(members, periods, replications, Shard::WHOLE);
    let results = run(model, &[&plan], &config, &|_| {}).unwrap();
    let info = RunInfo::new(&config, vec![PlanInfo::of(&plan)], model);
    serde_json::from_str(&summary_json(&info, &results).unwrap()).unwrap()
}

fn number(v: &Value) -> f64 {
    v.as_str()
        .map(|s| s.parse::<f64>().unwrap())
        .or_else(|| v.as_f64())
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

/// In the first month there is no drift yet: a member's mean fasting glucose is the model's
/// log-normal, and the share in the fasting target is its probability of 4.4–7.0 mmol/L.
#[test]
fn the_share_in_control_with_no_plan_is_the_log_normal_share_in_the_fasting_target() {
    let model = Population::default();
    let g = &model.glycaemia;
    let log = Normal::new(g.fasting_median_mmol_l.ln(), g.fasting_log_sd).unwrap();
    let expected = log.cdf(7.0_f64.ln()) - log.cdf(4.4_f64.ln());
    let members = 20_000;
    let s = summary(&model, members, 1, 1);
    let got = number(&s["no_plan"]["by_period"][0]["in_control_share"]);
    let se = (expected * (1.0 - expected) / members as f64).sqrt();
    assert!(
        (got - expected).abs() < 4.0 * se,
        "in control {got}, the closed form {expected:.4} ± {:.4}",
        4.0 * se
    );
    // Everyone above the target is hyperglycaemic, and nobody is both.
    let hyper = number(&s["no_plan"]["by_period"][0]["hyperglycaemic_share"]);
    let above = 1.0 - log.cdf(7.0_f64.ln());
    assert!((hyper - above).abs() < 4.0 * se, "{hyper} {above}");
}

/// Every member responding in full from the first month: HbA1c falls by the largest fall times
/// the plan's response share, exactly (the ADAG relation is linear), and the savings are those
/// points at the model's cost, realised and discounted period by period.
#[test]
fn the_hba1c_change_and_the_savings_of_a_full_response_are_their_closed_forms() {
    let model = Population::from_toml(
        "[response]\nhba1c_fall_max_points = 0.5\nhba1c_effect_from_percent = 4.0\nhba1c_full_effect_percent = 4.0\neffect_ramp_months = 0\n[ranges]\n\"response.hba1c_effect_from_percent\" = [4.0, 8.0]\n",
        "full.toml",
    )
    .unwrap();
    let (members, periods) = (200_u64, 3_u32);
    let s = summary(&model, members, periods, 2);
    let outcomes = &s["plans"][0]["outcomes"];
    let share = number(&outcomes["stake"]["response_share"]);
    assert!(share > 0.0, "{outcomes}");
    let fall = 0.5 * share;
    // Each member's HbA1c is kept to four places in each arm.
    let change = number(&outcomes["hba1c_change"]["mean"]);
    assert!((change + fall).abs() <= 2e-4, "{change} against −{fall}");

    let sv = &model.savings;
    let per_period = Decimal::from_f64(fall * members as f64).unwrap()
        * sv.cost_per_hba1c_point_year
        * Decimal::ONE
        / Decimal::from(12)
        * sv.insurer_share
        * sv.first_year_realised_share;
    let expected: Decimal = (0..periods as usize)
        .map(|k| per_period * discount_factor(&model, 1, k))
        .sum();
    let got = number(&outcomes["claims_savings"]["mean"]);
    // Rounding each member's HbA1c moves a period's points by at most 0.02 in all.
    assert!(
        (got - expected.to_f64().unwrap()).abs() < 0.05,
        "savings {got}, the closed form {expected}"
    );
    let paid = number(&outcomes["rewards_present_value"]["mean"]);
    let net = number(&outcomes["net_cost"]["mean"]);
    assert!((net - (paid - got)).abs() < 2e-4, "{net} = {paid} − {got}");
}

#[test]
fn summary_json_gives_each_outcome_figure_with_its_mean_and_interval() {
    let s = summary(&Population::default(), 300, 4, 3);
    let outcomes = &s["plans"][0]["outcomes"];
    for key in [
        "in_control_share",
        "members_into_control",
        "hba1c_change",
        "claims_savings",
        "rewards_present_value",
        "net_cost",
    ] {
        let figure = &outcomes[key];
        let (mean, [lo, hi]) = (
            number(&figure["mean"]),
            [
                number(&figure["mean_ci95"][0]),
                number(&figure["mean_ci95"][1]),
            ],
        );
        assert!(lo <= mean && mean <= hi, "{key}: {figure}");
        assert_eq!(figure["replications"], 3, "{key}");
    }
    // Into control may be none at all with the default response: then there is no cost a member.
    let cost = &outcomes["cost_per_member_into_control"];
    assert!(cost.is_null() || cost["mean_ci95"].is_array(), "{cost}");
    assert!(
        outcomes["intervals_include"]
            .as_str()
            .unwrap()
            .contains("process variance")
    );
    assert_eq!(outcomes["by_period"].as_array().unwrap().len(), 4);
    assert_eq!(s["no_plan"]["by_period"].as_array().unwrap().len(), 4);
}

/// Members far above the target, measuring a lot: most are paid nothing because they do not
/// qualify, and readings above 13.9 mmol/L three days running flag some for a clinician.
#[test]
fn unpaid_member_periods_are_counted_by_why_and_flags_by_name() {
    let model = Population::from_toml(
        "[glycaemia]\nfasting_median_mmol_l = 15.0\n[measuring]\nreadings_per_measuring_month = 60\nregular_share = 1.0\n",
        "high.toml",
    )
    .unwrap();
    let s = summary(&model, 200, 3, 2);
    let plan = &s["plans"][0];
    let flagged = number(&plan["mean_flagged_member_periods"]["clinician_follow_up"]);
    assert!(flagged > 10.0, "{plan}");
    let not_qualified = number(&plan["mean_unpaid_member_periods"]["not_qualified"]);
    let nothing = number(&plan["mean_unpaid_member_periods"]["qualified_but_nothing"]);
    assert!(
        not_qualified > 0.9 * 600.0 && not_qualified + nothing <= 600.0,
        "{plan}"
    );
}

/// tangdaifu-smbg pays 10, 20 or 30 CNY a month: its cost by amount is its cost by step, and
/// adds up to what it paid.
#[test]
fn the_cost_by_amount_paid_is_the_cost_by_step_and_adds_up_to_the_total() {
    let plan = tangdaifu();
    let config = config(300, 3, 2, Shard::WHOLE);
    let results = run(&Population::default(), &[&plan], &config, &|_| {}).unwrap();
    for r in &results.replications {
        let t = &r.plans[0];
        let steps: Vec<Decimal> = t.by_amount.keys().copied().collect();
        assert!(
            steps
                .iter()
                .all(|a| [10, 20, 30].contains(&a.to_i64().unwrap())),
            "{steps:?}"
        );
        let sum: Decimal = t
            .by_amount
            .iter()
            .map(|(a, c)| *a * Decimal::from(*c))
            .sum();
        assert_eq!(sum, t.reward);
    }
}
