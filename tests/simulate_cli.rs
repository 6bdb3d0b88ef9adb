//! `incentive simulate` from the built binary: results written, shards merged by the binary
//! into the unsharded bytes, and bad input refused with the flag or file and what is wrong.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::path::Path;
use std::process::{Command, Output};

fn incentive(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_incentive"))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const SMALL: [&str; 10] = [
    "--policy",
    "policies/tangdaifu-smbg",
    "--members",
    "12",
    "--periods",
    "3",
    "--replications",
    "5",
    "--seed",
    "42",
];

fn simulate(extra: &[&str], out: &Path) -> Output {
    let mut args = vec!["simulate"];
    args.extend(SMALL);
    args.extend(extra);
    args.extend(["--out", out.to_str().unwrap()]);
    incentive(&args)
}

#[test]
fn simulate_writes_its_results_and_merge_joins_shards_into_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    let out = simulate(&["--compare", "policies/tangdaifu-smbg"], &whole);
    assert!(out.status.success(), "{}", text(&out));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(whole.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["run"]["replications"], 5);
    assert_eq!(summary["plans"].as_array().unwrap().len(), 2);
    assert_eq!(summary["difference_a_minus_b"]["mean"], "0");
    let rows = std::fs::read_to_string(whole.join("replications.csv")).unwrap();
    assert_eq!(rows.lines().count(), 1 + 5 * 2, "{rows}");

    let mut shards = Vec::new();
    for i in 1..=2 {
        let shard = dir.path().join(format!("shard{i}"));
        let spec = format!("{i}/2");
        let out = simulate(
            &[
                "--compare",
                "policies/tangdaifu-smbg",
                "--shard",
                &spec,
                "--threads",
                "1",
            ],
            &shard,
        );
        assert!(out.status.success(), "{}", text(&out));
        shards.push(shard);
    }
    let merged = dir.path().join("merged");
    let out = incentive(&[
        "simulate",
        "merge",
        shards[0].to_str().unwrap(),
        shards[1].to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    for file in ["summary.json", "replications.csv", "member_slots.csv"] {
        assert_eq!(
            std::fs::read(whole.join(file)).unwrap(),
            std::fs::read(merged.join(file)).unwrap(),
            "{file}"
        );
    }
}

#[test]
fn bad_flags_and_a_bad_population_file_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let population = dir.path().join("population.toml");
    std::fs::write(&population, "[measuring]\nregular_share = 2\n").unwrap();
    let population = population.to_str().unwrap().to_owned();
    for (extra, words) in [
        (
            vec!["--shard", "3/2"],
            "--shard `3/2`: expected I/N with 1 ≤ I ≤ N",
        ),
        (
            vec!["--population", &population],
            "measuring.regular_share = 2 is not a share between 0 and 1",
        ),
        (vec!["--first-period", "2026-13"], "--first-period"),
        (
            vec!["--first-period", "2027-01"],
            "is in effect 2026-01-01 to 2026-12-31, but the run's 3 periods from 2027-01 to 2027-03 reach 2027-01, outside it; start the run (--first-period) within 2026-01-01 to 2026-12-31",
        ),
    ] {
        let out = simulate(&extra, &out_dir);
        assert!(!out.status.success(), "{extra:?}");
        let said = text(&out);
        assert!(said.contains(words), "{extra:?}: {said}");
        assert!(!said.contains("panicked"), "{said}");
    }
    let out = incentive(&[
        "simulate",
        "--policy",
        "policies/tangdaifu-smbg",
        "--members",
        "0",
        "--periods",
        "3",
        "--replications",
        "2",
        "--seed",
        "1",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(
        text(&out).contains("--members 0 is outside 1 to 10000000"),
        "{}",
        text(&out)
    );
    let out = incentive(&[
        "simulate",
        "merge",
        dir.path().to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("partial.json"), "{}", text(&out));
}

#[test]
fn a_run_estimated_past_memory_bytes_max_is_refused_with_both_figures_until_the_flag_is_raised() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out = simulate(&["--memory-bytes-max", "1000000"], &out_dir);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(
        said.contains("the run would take about")
            && said.contains("of memory at its peak")
            && said.contains("more than --memory-bytes-max allows: 1.0 MB (1,000,000 bytes)"),
        "{said}"
    );
    assert!(
        !out_dir.join("summary.json").exists(),
        "a refused run wrote results"
    );
    let out = simulate(&["--memory-bytes-max", "1000000000"], &out_dir);
    assert!(out.status.success(), "{}", text(&out));
    assert!(out_dir.join("summary.json").exists());
}

/// The security review's model, a sensor reading every minute, over a year: more readings in
/// a member-period than one may hold, refused by field and limit before anything is drawn.
#[test]
fn a_sensor_reading_every_minute_over_a_year_is_refused_naming_the_field_and_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let population = dir.path().join("every-minute.toml");
    std::fs::write(
        &population,
        "[cgm]\nwearing_share = 1\nwear_share = 1\ninterval_minutes = 1\n",
    )
    .unwrap();
    let out = incentive(&[
        "simulate",
        "--policy",
        "policies/vitality-status",
        "--population",
        population.to_str().unwrap(),
        "--members",
        "2048",
        "--periods",
        "1",
        "--replications",
        "1",
        "--seed",
        "1",
        "--out",
        dir.path().join("out").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(
        said.contains("every-minute.toml: 1 problem(s): cgm.interval_minutes = 1 gives a sensor wearer up to 527100 readings in an annual period, more than 200000"),
        "{said}"
    );
}

/// `deploy/shard.sh` and `deploy/merge.sh`, run as a Slurm array's tasks and as an Indexed
/// Job's pods would run them (the scheduler's variables set by hand), give the unsharded bytes.
#[test]
fn the_deploy_scripts_run_shards_as_slurm_and_kubernetes_would_and_merge_them() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    assert!(simulate(&[], &whole).status.success());
    let bin = env!("CARGO_BIN_EXE_incentive");
    for (scheduler, tasks) in [
        (
            "slurm",
            vec![
                ("SLURM_ARRAY_TASK_ID", "1"),
                ("SLURM_ARRAY_TASK_ID", "2"),
                ("SLURM_ARRAY_TASK_ID", "3"),
            ],
        ),
        (
            "kubernetes",
            vec![
                ("JOB_COMPLETION_INDEX", "0"),
                ("JOB_COMPLETION_INDEX", "1"),
                ("JOB_COMPLETION_INDEX", "2"),
            ],
        ),
    ] {
        let results = dir.path().join(scheduler);
        for (var, value) in tasks {
            let out = Command::new("sh")
                .arg("deploy/shard.sh")
                .args(SMALL)
                .env(var, value)
                .env("SLURM_ARRAY_TASK_COUNT", "3")
                .env("SHARDS", "3")
                .env("RESULTS", &results)
                .env("INCENTIVE", bin)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{scheduler} {var}={value}: {}",
                text(&out)
            );
        }
        let out = Command::new("sh")
            .arg("deploy/merge.sh")
            .env("RESULTS", &results)
            .env("INCENTIVE", bin)
            .output()
            .unwrap();
        assert!(out.status.success(), "{scheduler}: {}", text(&out));
        for file in ["summary.json", "replications.csv", "member_slots.csv"] {
            assert_eq!(
                std::fs::read(whole.join(file)).unwrap(),
                std::fs::read(results.join("merged").join(file)).unwrap(),
                "{scheduler}: {file}"
            );
        }
    }
    let out = Command::new("sh")
        .arg("deploy/shard.sh")
        .env("RESULTS", dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out).contains("neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX"),
        "{}",
        text(&out)
    );
}

#[test]
fn tornado_runs_each_assumption_at_its_low_and_high_into_the_summary_and_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t");
    let run = simulate(&["--tornado"], &out);
    assert!(run.status.success(), "{}", text(&run));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let bars = summary["sensitivity"]["bars"].as_array().unwrap();
    assert_eq!(bars.len(), 10, "{bars:?}");
    assert!(bars.iter().all(|b| b["at_low"][0]["net_cost"].is_string()));
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("Sensitivity: one assumption at a time"));
    assert!(page.contains("response.hba1c_fall_max_points"));

    let sharded = simulate(&["--tornado", "--shard", "1/2"], &dir.path().join("s"));
    assert!(!sharded.status.success());
    assert!(
        text(&sharded).contains("run it without --shard"),
        "{}",
        text(&sharded)
    );
}

#[test]
fn book_members_and_confidence_give_the_budget_for_the_book_and_bad_values_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b");
    let run = simulate(&["--book-members", "1200", "--confidence", "0.9"], &out);
    assert!(run.status.success(), "{}", text(&run));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["run"]["book_members"], 1200);
    // The pool of 200,000,000.00 for 1,200 members is a hundredth in a run of 12.
    assert_eq!(summary["run"]["plans"][0]["pool_budget"], "2000000.00");
    let budget = &summary["plans"][0]["budget"];
    assert_eq!(budget["confidence"], "0.9");
    assert_eq!(budget["for_book"]["members"], 1200);
    for (flags, says) in [
        (
            ["--confidence", "1"],
            "--confidence 1 is not a share between 0 and 1",
        ),
        (["--book-members", "0"], "--book-members 0"),
    ] {
        let bad = simulate(&flags, &dir.path().join("x"));
        assert!(!bad.status.success());
        assert!(text(&bad).contains(says), "{}", text(&bad));
    }
}

#[test]
fn a_plan_past_its_dates_is_priced_only_under_the_renewal_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let two_years = [
        "simulate",
        "--policy",
        "policies/tangdaifu-smbg",
        "--members",
        "20",
        "--periods",
        "24",
        "--replications",
        "2",
        "--seed",
        "3",
    ];
    let out = dir.path().join("refused");
    let mut args = two_years.to_vec();
    args.extend(["--out", out.to_str().unwrap()]);
    let refused = incentive(&args);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("(--renewal unchanged)"),
        "{}",
        text(&refused)
    );
    assert!(!out.exists(), "nothing written");

    let out = dir.path().join("renewed");
    let mut args = two_years.to_vec();
    args.extend(["--renewal", "unchanged", "--out", out.to_str().unwrap()]);
    let renewed = incentive(&args);
    assert!(renewed.status.success(), "{}", text(&renewed));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["run"]["renewal"], "unchanged");
    let by_period = summary["plans"][0]["mean_reward_by_period"]
        .as_array()
        .unwrap();
    assert_eq!(by_period.len(), 24);
    let second_year: f64 = by_period[12..]
        .iter()
        .map(|v| v.as_str().unwrap().parse::<f64>().unwrap())
        .sum();
    assert!(
        second_year > 0.0,
        "the renewed plan pays in its second year"
    );
}
