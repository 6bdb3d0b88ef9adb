//! Members leaving a plan (`[lapse]`): at the yearly rate, more often when the plan paid them
//! nothing, paid no more once gone, and behaving as with no plan from then on.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{config, package_with, repo, tangdaifu};
use incentive_simulations::{Population, Shard, run};

fn lapsing(yearly: f64, unpaid_multiple: f64) -> Population {
    Population::from_toml(
        &format!("[lapse]\nyearly_share = {yearly}\nunpaid_multiple = {unpaid_multiple}\n"),
        "lapse.toml",
    )
    .unwrap()
}

#[test]
fn members_leave_at_the_yearly_rate_and_those_paid_nothing_more_often() {
    let plan = tangdaifu();
    let config = config(300, 12, 2, Shard::WHOLE);
    let even = run(&lapsing(0.5, 1.0), &[&plan], &config, &|_| {}).unwrap();
    // Eleven monthly chances to leave (none before the first month): 1 − 0.5^(11/12) stay out.
    let share = 1.0 - 0.5_f64.powf(11.0 / 12.0);
    let sd = (300.0 * share * (1.0 - share)).sqrt();
    for r in &even.replications {
        let lapsed = r.plans[0].members_lapsed as f64;
        assert!(
            (lapsed - 300.0 * share).abs() < 4.0 * sd,
            "{lapsed} left, the closed form {:.1} ± {:.1}",
            300.0 * share,
            4.0 * sd
        );
    }
    let unpaid_leave = run(&lapsing(0.5, 10.0), &[&plan], &config, &|_| {}).unwrap();
    for (a, b) in even.replications.iter().zip(&unpaid_leave.replications) {
        assert!(b.plans[0].members_lapsed > a.plans[0].members_lapsed);
    }
    let staying = run(&Population::default(), &[&plan], &config, &|_| {}).unwrap();
    for (a, b) in even.replications.iter().zip(&staying.replications) {
        assert_eq!(b.plans[0].members_lapsed, 0, "nobody leaves by default");
        assert!(
            a.plans[0].reward < b.plans[0].reward,
            "members gone are paid no more"
        );
    }
}

#[test]
fn a_plan_paying_nothing_still_gives_the_no_plan_arm_when_its_members_leave() {
    let nothing = package_with(&repo().join("policies/tangdaifu-smbg"), |m| {
        m.replace("value = 10 }", "value = 0 }")
            .replace("value = 20 }", "value = 0 }")
            .replace("value = 30 }", "value = 0 }")
    });
    let results = run(
        &lapsing(0.3, 2.0),
        &[&nothing, &tangdaifu()],
        &config(200, 6, 2, Shard::WHOLE),
        &|_| {},
    )
    .unwrap();
    for r in &results.replications {
        assert!(r.plans[0].members_lapsed > 0);
        assert_eq!(r.plans[0].outcomes, r.no_plan);
        // Under a paying plan, members who left are back to no-plan HbA1c: never worse.
        let (plan, none) = (
            r.plans[1].outcomes.last().unwrap(),
            r.no_plan.last().unwrap(),
        );
        assert!(plan.hba1c_sum <= none.hba1c_sum);
    }
}

/// With 30 % enrolling and a selection of 0.3 points, about 30 % enrol, their HbA1c at the start
/// about 0.3 points below the population's; the rest are never paid and behave as with no plan.
#[test]
fn enrolees_are_the_share_enrolling_tilted_towards_better_control() {
    let model = Population::from_toml(
        "[enrolment]\nshare = 0.3\nselection_hba1c_points = 0.3\n",
        "enrolment.toml",
    )
    .unwrap();
    let config = config(3_000, 2, 1, Shard::WHOLE);
    let enrolled_on = config.first_period.first_day().unwrap();
    let members: Vec<_> = (0..config.members)
        .map(|m| {
            incentive_simulations::synth::member(&model, config.seed, m, 0, enrolled_on).unwrap()
        })
        .collect();
    let enrolled = incentive_simulations::run::enrolled(&model, &members, config.seed, 0);
    let share = enrolled.iter().filter(|e| **e).count() as f64 / 3_000.0;
    assert!((share - 0.3).abs() < 0.04, "{share}");
    let mean = |keep: bool| {
        let h: Vec<f64> = members
            .iter()
            .zip(&enrolled)
            .filter(|(_, e)| **e == keep)
            .map(|(w, _)| w.baseline_hba1c_percent(&model))
            .collect();
        h.iter().sum::<f64>() / h.len() as f64
    };
    let all = members
        .iter()
        .map(|w| w.baseline_hba1c_percent(&model))
        .sum::<f64>()
        / 3_000.0;
    let gap = all - mean(true);
    assert!(
        (gap - 0.3).abs() < 0.08,
        "enrolees {gap:.3} points below the population"
    );

    let results = run(&model, &[&tangdaifu()], &config, &|_| {}).unwrap();
    let plan = &results.replications[0].plans[0];
    assert_eq!(
        plan.members_enrolled,
        enrolled.iter().filter(|e| **e).count() as u64
    );
    assert_eq!(plan.members_lapsed, 0, "not enrolling is not leaving");
    assert!(plan.members_earning <= plan.members_enrolled);
}
