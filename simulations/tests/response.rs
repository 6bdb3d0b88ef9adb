//! What a plan buys: members answer to what it puts at stake, against a no-plan arm drawn from
//! the same random numbers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{config, package_with, repo, tangdaifu};
use incentive_engine::policy::Policy;
use incentive_simulations::report::{PlanInfo, RunInfo, summary_json};
use incentive_simulations::{Population, Shard, run};
use rust_decimal::Decimal;
use serde_json::Value;

/// A summary figure without the intervals of its means, nor the fields added since.
fn without_intervals(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "mean_ci95" | "tail_replications_95" | "tail_replications_99" | "warnings"
                    )
                })
                .map(|(k, v)| (k.clone(), without_intervals(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_intervals).collect()),
        other => other.clone(),
    }
}

/// tangdaifu-smbg paying nothing at any step.
fn paying_nothing() -> Policy {
    package_with(&repo().join("policies/tangdaifu-smbg"), |m| {
        m.replace("value = 10 }", "value = 0 }")
            .replace("value = 20 }", "value = 0 }")
            .replace("value = 30 }", "value = 0 }")
    })
}

/// tangdaifu-smbg paying a member twice as much at every step, with caps to match.
fn twice_as_generous() -> Policy {
    package_with(&repo().join("policies/tangdaifu-smbg"), |m| {
        m.replace("id = \"tangdaifu-smbg\"", "id = \"tangdaifu-generous\"")
            .replace("value = 10 }", "value = 20 }")
            .replace("value = 20 }", "value = 40 }")
            .replace("value = 30 }", "value = 60 }")
            .replace("per_period = 30.00", "per_period = 60.00")
            .replace(
                "per_year = [300.00, \"25% of annual_premium_for_caps\"]",
                "per_year = 600.00",
            )
    })
}

#[test]
fn the_no_plan_arm_is_the_same_whether_a_plan_shares_it_or_not() {
    let model = Population::default();
    let (plan, nothing) = (tangdaifu(), paying_nothing());
    let config = config(200, 3, 2, Shard::WHOLE);
    let alone = run(&model, &[&plan], &config, &|_| {}).unwrap();
    let shared = run(&model, &[&plan, &nothing], &config, &|_| {}).unwrap();
    for (a, b) in alone.replications.iter().zip(&shared.replications) {
        assert_eq!(a.no_plan, b.no_plan);
        assert_eq!(b.plans[1].outcomes, b.no_plan);
    }
}

#[test]
fn a_plan_that_pays_nothing_gives_exactly_the_no_plan_arm_draw_for_draw() {
    let model = Population::default();
    let nothing = paying_nothing();
    let results = run(
        &model,
        &[&nothing],
        &config(300, 6, 3, Shard::WHOLE),
        &|_| {},
    )
    .unwrap();
    let stake = results.stakes[0]
        .as_ref()
        .expect("the reward model has a stake");
    assert_eq!(stake.reward_per_member_year, Decimal::ZERO);
    assert_eq!(stake.response_share, Decimal::ZERO);
    for r in &results.replications {
        let plan = &r.plans[0];
        assert_eq!(plan.reward, Decimal::ZERO);
        assert_eq!(plan.outcomes.len(), 6);
        assert_eq!(
            plan.outcomes, r.no_plan,
            "replication {}: the plan's members are the no-plan arm's",
            r.replication
        );
        assert!(
            r.no_plan
                .iter()
                .all(|o| o.measuring > 0 && o.hba1c_sum > Decimal::ZERO)
        );
    }
}

/// With the default assumptions few members, if any, cross into the fasting target: the
/// glucose response is for members whose HbA1c starts at 7.5 % or more (P2), far from a fasting
/// mean of 7.0 mmol/L. Here every member responds, and at the high end of the evidence (P1).
#[test]
fn a_more_generous_plan_brings_at_least_as_many_members_into_control_on_the_same_draws() {
    let model = Population::from_toml(
        "[response]\nhba1c_fall_max_points = 0.7\nhba1c_effect_from_percent = 4.0\nhba1c_full_effect_percent = 4.0\n[ranges]\n\"response.hba1c_effect_from_percent\" = [4.0, 8.0]\n",
        "strong.toml",
    )
    .unwrap();
    let (plan, generous) = (tangdaifu(), twice_as_generous());
    let results = run(
        &model,
        &[&plan, &generous],
        &config(400, 12, 3, Shard::WHOLE),
        &|_| {},
    )
    .unwrap();
    let share = |p: usize| results.stakes[p].as_ref().unwrap().response_share;
    assert!(
        share(1) > share(0) && share(0) > Decimal::ZERO,
        "{:?}",
        results.stakes
    );
    let mut gained = 0;
    for r in &results.replications {
        for (k, none) in r.no_plan.iter().enumerate() {
            let (a, b) = (&r.plans[0].outcomes[k], &r.plans[1].outcomes[k]);
            assert!(
                none.in_control <= a.in_control && a.in_control <= b.in_control,
                "replication {} period {k}: no plan {}, plan {}, generous {}",
                r.replication,
                none.in_control,
                a.in_control,
                b.in_control
            );
            assert!(none.hba1c_sum >= a.hba1c_sum && a.hba1c_sum >= b.hba1c_sum);
            gained += b.in_control - none.in_control;
        }
        // Measuring more is bought too: more readings, so at least as many members measure.
        assert!(r.plans[1].members_measuring >= r.plans[0].members_measuring);
    }
    assert!(gained > 0, "the generous plan brought nobody into control");
}

/// The cost figures of a run under the earlier model — the `fixed` response, with the values it
/// was calibrated with: `simulations/populations/fixed-response.toml` — are those the build
/// before the reward response wrote (`tests/fixtures/fixed-response/*`): replications, members
/// and the cost figures of `summary.json`, byte for byte.
#[test]
fn with_the_response_fixed_as_before_the_cost_figures_are_the_earlier_builds_byte_for_byte() {
    let file = |name: &str| {
        std::fs::read_to_string(repo().join("simulations/populations").join(name)).unwrap()
    };
    let earlier = file("fixed-response.toml");
    let model = |extra: &str| {
        Population::from_toml(&format!("{earlier}\n{extra}"), "fixed-response.toml").unwrap()
    };
    let cases = [
        (
            "smbg",
            "policies/tangdaifu-smbg",
            model(""),
            (300, 6, 3, 17),
        ),
        (
            "cgm",
            "policies/cgm-consensus",
            model(&file("cgm-programme.toml")),
            (20, 2, 2, 5),
        ),
        (
            "vitality",
            "policies/vitality-status",
            model(""),
            (200, 2, 2, 9),
        ),
    ];
    for (name, dir, model, (members, periods, replications, seed)) in cases {
        let policy = common::package(&repo().join(dir));
        let config = incentive_simulations::Config {
            seed,
            first_period: incentive_engine::Period::containing_day(
                policy.manifest.period,
                policy.manifest.effective_from,
            ),
            ..config(members, periods, replications, Shard::WHOLE)
        };
        let results = run(&model, &[&policy], &config, &|_| {}).unwrap();
        let out = tempfile::tempdir().unwrap();
        let info = RunInfo::new(&config, vec![PlanInfo::of(&policy)], &model);
        incentive_simulations::report::write_results(out.path(), &info, &results).unwrap();
        let golden = repo()
            .join("simulations/tests/fixtures/fixed-response")
            .join(name);
        let read =
            |dir: &std::path::Path, file: &str| std::fs::read_to_string(dir.join(file)).unwrap();
        // The columns the fixture has, in its order; new columns may follow them.
        let want = read(&golden, "replications.csv");
        let width = want.lines().next().unwrap().split(',').count();
        let got: Vec<String> = read(out.path(), "replications.csv")
            .lines()
            .map(|l| l.split(',').take(width).collect::<Vec<_>>().join(","))
            .collect();
        assert_eq!(
            got,
            want.lines().collect::<Vec<_>>(),
            "{name}: replications.csv"
        );
        assert_eq!(
            read(out.path(), "member_slots.csv").replacen("member_slot,", "member_index,", 1),
            read(&golden, "members.csv"),
            "{name}: members.csv"
        );
        let now: Value = serde_json::from_str(&summary_json(&info, &results).unwrap()).unwrap();
        let then: Value = serde_json::from_str(&read(&golden, "summary.json")).unwrap();
        // Every figure as it was but the intervals of means, which now use Student's t.
        for (key, value) in then["plans"][0].as_object().unwrap() {
            // The plan's script now gives its reasons as messages of its catalogs (issue 18):
            // the same rules, another text, so another content hash; every figure is checked.
            if key == "plan" {
                let mut plan = value.clone();
                plan["content_hash"] = now["plans"][0]["plan"]["content_hash"].clone();
                assert_eq!(
                    now["plans"][0]["plan"], plan,
                    "{name}: summary.json plans[0].plan"
                );
                continue;
            }
            // Renamed for what it is: one member's total in one replication.
            let now_key = if key == "member_reward" {
                "member_replication_reward"
            } else {
                key.as_str()
            };
            assert_eq!(
                without_intervals(&now["plans"][0][now_key]),
                without_intervals(value),
                "{name}: summary.json plans[0].{key}"
            );
        }
        let total = &now["plans"][0]["total_reward"];
        let (mean, se): (Decimal, Decimal) = (
            total["mean"].as_str().unwrap().parse().unwrap(),
            total["standard_error"].as_str().unwrap().parse().unwrap(),
        );
        // From the standard error as printed, to four places: within a thousandth.
        let half = incentive_simulations::stats::t_975(replications - 1) * se;
        let high: Decimal = total["mean_ci95"][1].as_str().unwrap().parse().unwrap();
        assert!(
            (high - (mean + half)).abs() < Decimal::new(1, 3),
            "{name}: {high} against {mean} + {half}"
        );
        assert!(now["plans"][0]["outcomes"]["stake"].is_null());
    }
}
