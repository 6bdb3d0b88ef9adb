//! A run's measured peak memory beside `footprint::estimate`'s figure for it: how the byte
//! figures in `src/footprint.rs` were found, and how to check them again after a change.
//!
//! Runs one simulation (and renders its summary and report, as the server does) and reads the
//! process's peak resident memory (`VmHWM` in /proc/self/status, reset first through
//! /proc/self/clear_refs, so it counts only the run). One run a process: memory an earlier run
//! freed would be reused without showing. Linux only.
//!
//! `cargo run --release -p incentive-simulations --example memory -- POLICY_DIR MEMBERS PERIODS
//! REPLICATIONS THREADS PLANS [POPULATION.toml]` (PLANS: the policy run as that many plans side
//! by side). Prints one JSON line.

use incentive_engine::policy::{PolicySource, SourceFile, load};
use incentive_simulations::footprint::{PlanShape, estimate};
use incentive_simulations::report::{PlanInfo, RunInfo, summary_json};
use incentive_simulations::{Config, Population, Shard, html, run};

/// The allocator the `incentive` binary runs with: what a run takes depends on it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A figure of /proc/self/status, in bytes.
fn status_bytes(field: &str) -> Result<u64, Box<dyn std::error::Error>> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .ok_or("no such field")?;
    let kb: u64 = line
        .trim_start_matches(field)
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?;
    Ok(kb * 1024)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| {
        args.get(i)
            .cloned()
            .ok_or("usage: POLICY_DIR MEMBERS PERIODS REPLICATIONS THREADS PLANS [POPULATION.toml]")
    };
    let dir = std::path::PathBuf::from(arg(1)?);
    let members: u64 = arg(2)?.parse()?;
    let periods: u32 = arg(3)?.parse()?;
    let replications: u64 = arg(4)?.parse()?;
    let threads: usize = arg(5)?.parse()?;
    let plan_count: usize = arg(6)?.parse()?;
    let model = match args.get(7) {
        Some(path) => Population::from_toml(&std::fs::read_to_string(path)?, path)?,
        None => Population::default(),
    };
    let files = ["policy.toml", "rules.rhai"]
        .iter()
        .map(|f| Ok(SourceFile::new(*f, std::fs::read_to_string(dir.join(f))?)))
        .collect::<Result<Vec<_>, std::io::Error>>()?;
    let policy = load(&PolicySource {
        name: dir.display().to_string(),
        files,
    })
    .map_err(|d| format!("{d:?}"))?
    .policy;
    let config = Config {
        members,
        periods,
        replications,
        seed: 2015,
        first_period: incentive_engine::Period::containing_day(
            policy.manifest.period,
            policy.manifest.effective_from,
        ),
        shard: Shard::WHOLE,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let plans = vec![&policy; plan_count.max(1)];
    let footprint = estimate(&model, &PlanShape::all(&plans), &config, threads);

    let before = status_bytes("VmRSS:")?;
    std::fs::write("/proc/self/clear_refs", "5")?;
    let started = std::time::Instant::now();
    let results = pool.install(|| run(&model, &plans, &config, &|_| {}))?;
    let info = RunInfo::new(
        &config,
        plans.iter().map(|p| PlanInfo::of(p)).collect(),
        &model,
    );
    let summary = summary_json(&info, &results)?;
    let report = html::render(&info, &results)?;
    let peak = status_bytes("VmHWM:")?;
    let measured = peak.saturating_sub(before);
    println!(
        "{}",
        serde_json::json!({
            "policy": dir.display().to_string(),
            "members": members, "periods": periods, "replications": replications, "threads": threads, "plans": plans.len(),
            "readings_per_member_period": footprint.readings_per_member_period,
            "members_per_chunk": footprint.members_per_chunk,
            "measured_bytes": measured,
            "estimate_bytes": footprint.bytes,
            "estimate_over_measured": footprint.bytes as f64 / measured.max(1) as f64,
            "seconds": started.elapsed().as_secs_f64(),
            "output_bytes": summary.len() + report.len(),
        })
    );
    Ok(())
}
