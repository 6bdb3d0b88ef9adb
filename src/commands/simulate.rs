//! `incentive simulate` and `incentive simulate merge`.

use super::policy::load_or_report;
use crate::cli::{Renewal, ReportFormat, SimulateArgs, SimulateCommand, SimulateRun};
use anyhow::{Context as _, bail};
use incentive_engine::Period;
use incentive_engine::policy::Policy;
use incentive_simulations::report::{self, PARTIAL_FORMAT, Partial, PlanInfo, RunInfo};
use incentive_simulations::{Config, Population, Shard, budget, footprint, tornado};
use rust_decimal::Decimal;
use std::path::Path;

pub fn run(args: &SimulateArgs) -> anyhow::Result<()> {
    match &args.command {
        Some(SimulateCommand::Merge { dirs, out }) => {
            let dirs: Vec<&Path> = dirs.iter().map(|d| d.as_path()).collect();
            report::merge(&dirs, out)?;
            println!("merged {} shards into {}", dirs.len(), out.display());
            Ok(())
        }
        None => simulate(&args.run),
    }
}

fn simulate(args: &SimulateRun) -> anyhow::Result<()> {
    let (Some(dir), Some(members), Some(periods), Some(replications), Some(seed), Some(out)) = (
        &args.policy,
        args.members,
        args.periods,
        args.replications,
        args.seed,
        &args.out,
    ) else {
        bail!("--policy, --members, --periods, --replications, --seed and --out are required");
    };
    let a = load_or_report(dir, ReportFormat::Text)?.1.policy;
    let b = match &args.compare {
        Some(dir) => Some(load_or_report(dir, ReportFormat::Text)?.1.policy),
        None => None,
    };
    let (model, model_name) = match &args.population {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let name = path.display().to_string();
            (Population::from_toml(&text, &name)?, name)
        }
        None => (Population::default(), "the default population".to_owned()),
    };
    let first_period = match &args.first_period {
        Some(text) => Period::parse(text).map_err(|e| anyhow::anyhow!("--first-period: {e}"))?,
        None => Period::containing_day(a.manifest.period, a.manifest.effective_from),
    };
    model.check_for(first_period.kind(), &model_name)?;
    let shard = match &args.shard {
        Some(text) => Shard::parse(text)?,
        None => Shard::WHOLE,
    };
    let config = Config {
        members,
        periods,
        replications,
        seed,
        first_period,
        shard,
    };
    config.check()?;
    if !(Decimal::ZERO < args.confidence && args.confidence < Decimal::ONE) {
        bail!(
            "--confidence {} is not a share between 0 and 1 (exclusive), such as 0.95",
            args.confidence
        );
    }
    let renew = |p: Policy| match args.renewal {
        Some(Renewal::Unchanged) => incentive_simulations::run::renewed_unchanged(&p),
        None => p,
    };
    let (a, b) = (renew(a), b.map(renew));
    let (a, b) = match args.book_members {
        Some(0) => bail!("--book-members 0: the book needs at least one member"),
        Some(book) => (
            budget::scaled_to_run(&a, members, book),
            b.map(|b| budget::scaled_to_run(&b, members, book)),
        ),
        None => (a, b),
    };
    let plans: Vec<&Policy> = std::iter::once(&a).chain(b.as_ref()).collect();
    let info = RunInfo::new(
        &config,
        plans.iter().map(|p| PlanInfo::of(p)).collect(),
        &model,
    )
    .with_budget(args.book_members, args.confidence);
    let info = RunInfo {
        renewal: args.renewal.map(|_| "unchanged".to_owned()),
        ..info
    };

    let mine = (0..replications).filter(|r| shard.owns(*r)).count() as u64;
    let bar = indicatif::ProgressBar::new(mine * members * u64::from(periods));
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {wide_bar} {percent:>3}% member-periods {human_pos}/{human_len} · {per_sec} · {eta} left",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    if args.tornado && shard != Shard::WHOLE {
        bail!(
            "--tornado runs the whole run again with each assumption at its low and its high; run it without --shard"
        );
    }
    if args.tornado {
        bar.set_length(mine * members * u64::from(periods) * (1 + tornado::runs_needed() as u64));
    }
    let threads = args.threads.unwrap_or(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start the worker threads")?;
    // Refused before anything is drawn, rather than killed by the system half-way through.
    footprint::estimate(&model, plans.len(), &config, pool.current_num_threads())
        .check(args.memory_bytes_max, "--memory-bytes-max")
        .map_err(|e| {
            anyhow::anyhow!(
                "{e}; raise --memory-bytes-max if this machine has the memory, or run fewer --threads, --members or --periods"
            )
        })?;
    let mut results =
        pool.install(|| incentive_simulations::run(&model, &plans, &config, &|n| bar.inc(n)))?;
    if args.tornado {
        let stop = std::sync::atomic::AtomicBool::new(false);
        results.sensitivity = Some(pool.install(|| {
            tornado::tornado(&model, &plans, &config, &results, &|n| bar.inc(n), &stop)
        })?);
    }
    bar.finish_and_clear();
    if shard == Shard::WHOLE {
        report::write_results(out, &info, &results)?;
        println!(
            "wrote summary.json, report.html, and replications and members as CSV and Parquet to {}",
            out.display()
        );
    } else {
        report::write_partial(
            out,
            &Partial {
                format: PARTIAL_FORMAT.into(),
                run: info,
                shard: [shard.index, shard.count],
                replications: results.replications,
                members: results.members,
                stakes: results.stakes,
            },
        )?;
        println!(
            "wrote shard {}/{} ({mine} replications) to {}; join the shards with `incentive simulate merge`",
            shard.index,
            shard.count,
            out.display()
        );
    }
    Ok(())
}
