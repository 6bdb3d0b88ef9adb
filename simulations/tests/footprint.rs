//! `footprint::estimate` against the memory a run really takes: each case runs in a process of
//! its own (this test binary, started again), which reads its peak resident memory (`VmHWM`,
//! reset through /proc/self/clear_refs just before the run) — memory an earlier case freed
//! would otherwise be reused without showing. The estimate must be above the peak, so a run
//! it lets through fits, and within three times it, so it refuses nothing that would.
#![cfg(target_os = "linux")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use incentive_simulations::footprint::{PlanShape, describe_bytes, estimate};
use incentive_simulations::report::{PlanInfo, RunInfo, summary_json};
use incentive_simulations::{Config, Population, Shard, html, run};

/// The allocator the `incentive` binary runs with: what a run takes depends on it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CASE: &str = "INCENTIVE_FOOTPRINT_CASE";
const TEST: &str = "a_runs_estimated_memory_is_above_its_measured_peak_and_within_three_times_it";

fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    let kb: u64 = line
        .trim_start_matches(field)
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kb * 1024
}

/// The cases: a finger-stick population on one thread, the same on two threads (two
/// replications held at once), and a 5-minute sensor programme (its chunks cut to fit).
fn case(name: &str) -> (Population, Config, usize) {
    let sensor = Population::from_toml(
        "[cgm]\nwearing_share = 1.0\nwear_share = 0.85\ninterval_minutes = 5\n",
        "sensor",
    )
    .unwrap();
    match name {
        "finger-stick" => (Population::default(), config(10_000, 2, 1, Shard::WHOLE), 1),
        "two-threads" => (Population::default(), config(5_000, 2, 2, Shard::WHOLE), 2),
        "sensor" => (sensor, config(600, 1, 1, Shard::WHOLE), 1),
        other => panic!("no case {other}"),
    }
}

/// Runs one case in this process and prints its measured peak and its estimate.
fn measure(name: &str) {
    let (model, config, threads) = case(name);
    let plan = tangdaifu();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let estimate = estimate(&model, &[PlanShape::of(&plan)], &config, threads).bytes;
    let before = status_bytes("VmRSS:");
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let results = pool
        .install(|| run(&model, &[&plan], &config, &|_| {}))
        .unwrap();
    let info = RunInfo::new(&config, vec![PlanInfo::of(&plan)], &model);
    let summary = summary_json(&info, &results).unwrap();
    let report = html::render(&info, &results).unwrap();
    let peak = status_bytes("VmHWM:");
    assert!(!summary.is_empty() && !report.is_empty());
    // On a line of its own: the harness prints the test's name without a newline before it.
    println!(
        "\npeak-and-estimate {} {estimate}",
        peak.saturating_sub(before)
    );
}

#[test]
fn a_runs_estimated_memory_is_above_its_measured_peak_and_within_three_times_it() {
    if let Ok(name) = std::env::var(CASE) {
        measure(&name);
        return;
    }
    for name in ["finger-stick", "two-threads", "sensor"] {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
            .env(CASE, name)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{name}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("peak-and-estimate "))
            .unwrap_or_else(|| panic!("{name}: no figures in {stdout}"));
        let (measured, estimated) = line.split_once(' ').unwrap();
        let (measured, estimated): (u64, u64) =
            (measured.parse().unwrap(), estimated.parse().unwrap());
        eprintln!(
            "{name}: measured {}, estimated {}",
            describe_bytes(measured),
            describe_bytes(estimated)
        );
        assert!(
            measured <= estimated && estimated <= measured * 3,
            "{name}: measured {}, estimated {}",
            describe_bytes(measured),
            describe_bytes(estimated)
        );
    }
}
