//! The simulation's promises, with fixed seeds: the same bytes on one thread and on two; the
//! shards of a run merge into the unsharded run's very bytes; a plan compared with itself
//! differs by exactly nothing; and a plan whose expected cost is known in closed form is
//! matched within the interval the run itself reports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use incentive_engine::policy::Policy;
use incentive_simulations::report::{self, PARTIAL_FORMAT, Partial, PlanInfo, RunInfo};
use incentive_simulations::{Config, Population, Shard, run};
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};

/// Runs on `threads` threads and writes the results; returns the bytes of every file.
fn run_to_bytes(plans: &[&Policy], config: &Config, threads: usize) -> Vec<(String, Vec<u8>)> {
    let model = Population::default();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let results = pool
        .install(|| run(&model, plans, config, &|_| {}))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let info = RunInfo::new(
        config,
        plans.iter().map(|p| PlanInfo::of(p)).collect(),
        &model,
    );
    report::write_results(dir.path(), &info, &results).unwrap();
    files(dir.path())
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    [
        "summary.json",
        "replications.csv",
        "member_slots.csv",
        "replications.parquet",
        "member_slots.parquet",
    ]
    .iter()
    .map(|f| ((*f).to_owned(), std::fs::read(dir.join(f)).unwrap()))
    .collect()
}

#[test]
fn the_same_seed_gives_the_same_bytes_on_one_thread_and_on_two() {
    let a = tangdaifu();
    let c = config(40, 6, 8, Shard::WHOLE);
    let one = run_to_bytes(&[&a], &c, 1);
    let two = run_to_bytes(&[&a], &c, 2);
    assert_eq!(one, two);
    // And another seed gives other results: the seed is used.
    let other = run_to_bytes(&[&a], &Config { seed: 1, ..c }, 2);
    assert_ne!(one[1], other[1]);
}

#[test]
fn three_shards_merged_are_the_unsharded_run_byte_for_byte() {
    let a = tangdaifu();
    let model = Population::default();
    let whole = config(30, 4, 7, Shard::WHOLE);
    let expected = run_to_bytes(&[&a], &whole, 2);
    let root = tempfile::tempdir().unwrap();
    let mut dirs = Vec::new();
    for i in 1..=3 {
        let shard = Shard { index: i, count: 3 };
        let c = Config {
            shard,
            ..whole.clone()
        };
        let results = run(&model, &[&a], &c, &|_| {}).unwrap();
        let dir = root.path().join(format!("shard-{i}"));
        report::write_partial(
            &dir,
            &Partial {
                format: PARTIAL_FORMAT.into(),
                run: RunInfo::new(&c, vec![PlanInfo::of(&a)], &model),
                shard: [i, 3],
                replications: results.replications,
                members: results.members,
                stakes: results.stakes,
            },
        )
        .unwrap();
        dirs.push(dir);
    }
    let out = root.path().join("merged");
    let refs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    report::merge(&refs, &out).unwrap();
    assert_eq!(files(&out), expected);

    // Two shards of three are not the run: merge says which replications are missing.
    let err = report::merge(&refs[..2], &root.path().join("partial")).unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");

    // A shard whose plan had another stake, or of another format, is refused by its path.
    let third = dirs[2].join("partial.json");
    let text = std::fs::read_to_string(&third).unwrap();
    let mut partial: serde_json::Value = serde_json::from_str(&text).unwrap();
    partial["stakes"][0]["reward_per_member_year"] = "1".into();
    std::fs::write(&third, partial.to_string()).unwrap();
    let err = report::merge(&refs, &root.path().join("stakes")).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "cannot merge: {} measured another stake for a plan than the first shard: it is from another build or run",
            third.display()
        )
    );
    partial["format"] = "incentive-simulation-partial-v3".into();
    std::fs::write(&third, partial.to_string()).unwrap();
    let err = report::merge(&refs, &root.path().join("format")).unwrap_err();
    assert!(
        err.to_string().ends_with(&format!(
            "format `incentive-simulation-partial-v3`, expected `{PARTIAL_FORMAT}`"
        )),
        "{err}"
    );
    assert!(!root.path().join("stakes").exists() && !root.path().join("format").exists());
}

#[test]
fn a_plan_compared_with_itself_differs_by_exactly_nothing() {
    let a = tangdaifu();
    let b = tangdaifu();
    let bytes = run_to_bytes(&[&a, &b], &config(25, 3, 6, Shard::WHOLE), 2);
    let summary: serde_json::Value = serde_json::from_slice(&bytes[0].1).unwrap();
    let diff = &summary["difference_a_minus_b"];
    for field in ["mean", "sd", "min", "max", "p99"] {
        assert_eq!(diff[field], "0", "{field}: {diff}");
    }
    assert_eq!(
        summary["plans"][0]["total_reward"],
        summary["plans"][1]["total_reward"]
    );
}

#[test]
fn a_fixed_reward_for_a_month_with_a_reading_costs_what_the_model_says() {
    let a = package(&repo().join("simulations/tests/fixtures/any-reading"));
    let (members, periods) = (100_u64, 3_u32);
    let bytes = run_to_bytes(&[&a], &config(members, periods, 40, Shard::WHOLE), 2);
    let summary: serde_json::Value = serde_json::from_slice(&bytes[0].1).unwrap();
    let total = &summary["plans"][0]["total_reward"];
    let num = |v: &serde_json::Value| v.as_str().unwrap().parse::<Decimal>().unwrap();
    // E[total] = members × periods × 10 CNY × P(a member measures in a month).
    let p = Decimal::try_from(
        Population::default()
            .measuring
            .monthly_measuring_probability(),
    )
    .unwrap();
    let expected = Decimal::from(members * u64::from(periods)) * Decimal::from(10) * p;
    let (mean, se) = (num(&total["mean"]), num(&total["standard_error"]));
    assert!(se > Decimal::ZERO, "{total}");
    // Within four of the run's own standard errors (the CI is about ±2).
    assert!(
        (mean - expected).abs() <= Decimal::from(4) * se,
        "mean {mean}, expected {expected}, standard error {se}"
    );
}

#[test]
fn the_standard_error_halves_when_the_replications_quadruple() {
    let a = package(&repo().join("simulations/tests/fixtures/any-reading"));
    let se = |replications: u64| {
        let bytes = run_to_bytes(&[&a], &config(60, 2, replications, Shard::WHOLE), 2);
        let summary: serde_json::Value = serde_json::from_slice(&bytes[0].1).unwrap();
        summary["plans"][0]["total_reward"]["standard_error"]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .unwrap()
    };
    let (small, large) = (se(25), se(100));
    let ratio = large / small;
    // 1/√4 = 0.5; the sd itself is estimated, so allow for its own sampling error.
    assert!(
        (0.35..=0.7).contains(&ratio),
        "SE {small} at 25, {large} at 100: ratio {ratio}"
    );
}

#[test]
fn breakdowns_by_tier_and_cohort_add_up_to_the_totals() {
    let a = tangdaifu();
    let (members, periods, replications) = (30_u64, 3_u32, 6_u64);
    let bytes = run_to_bytes(
        &[&a],
        &config(members, periods, replications, Shard::WHOLE),
        2,
    );
    let summary: serde_json::Value = serde_json::from_slice(&bytes[0].1).unwrap();
    let plan = &summary["plans"][0];
    let num = |v: &serde_json::Value| v.as_str().unwrap().parse::<Decimal>().unwrap();
    let tiers = plan["by_tier"].as_array().unwrap();
    let member_periods: Decimal = tiers.iter().map(|t| num(&t["mean_member_periods"])).sum();
    assert_eq!(member_periods, Decimal::from(members * u64::from(periods)));
    let tier_reward: Decimal = tiers.iter().map(|t| num(&t["mean_reward"])).sum();
    assert_eq!(tier_reward, num(&plan["total_reward"]["mean"]));
    for dimension in ["age_band", "region", "diabetes_type", "insulin"] {
        let rows = plan["by_cohort"][dimension].as_array().unwrap();
        assert!(!rows.is_empty(), "{dimension}");
        let count: u64 = rows.iter().map(|r| r["members"].as_u64().unwrap()).sum();
        assert_eq!(count, members * replications, "{dimension}");
        let reward: Decimal = rows
            .iter()
            .map(|r| {
                num(&r["mean_reward_per_member"]) * Decimal::from(r["members"].as_u64().unwrap())
            })
            .sum();
        let total = num(&plan["total_reward"]["mean"]) * Decimal::from(replications);
        assert!(
            (reward - total).abs() < Decimal::new(1, 1),
            "{dimension}: {reward} against {total}"
        );
    }
}
