//! `incentive simulate` and `incentive simulate merge`.

use super::policy::load_or_report;
use crate::cli::{Renewal, ReportFormat, SimulateArgs, SimulateCommand, SimulateRun};
use anyhow::{Context as _, bail};
use incentive_engine::Period;
use incentive_engine::policy::Policy;
use incentive_simulations::options::Options;
use incentive_simulations::report::{self, PARTIAL_FORMAT, Partial};
use incentive_simulations::{Config, Population, Shard, footprint};
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
    let options = Options {
        book_members: args.book_members,
        confidence: args.confidence,
        renewal: args.renewal.map(|r| match r {
            Renewal::Unchanged => incentive_simulations::options::Renewal::Unchanged,
        }),
        tornado: args.tornado,
    };
    options.check(&|field| format!("--{}", field.replace('_', "-")))?;
    let given: Vec<&Policy> = std::iter::once(&a).chain(b.as_ref()).collect();
    let priced = options.plans_for(&given, members);
    let plans: Vec<&Policy> = priced.iter().collect();
    let info = options.info(&config, &plans, &model);

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
    bar.set_length(mine * members * u64::from(periods) * options.runs());
    let threads = args.threads.unwrap_or(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start the worker threads")?;
    // Refused before anything is drawn, rather than killed by the system half-way through.
    footprint::estimate(
        &model,
        &footprint::PlanShape::all(&plans),
        &config,
        pool.current_num_threads(),
    )
        .check(args.memory_bytes_max, "--memory-bytes-max")
        .map_err(|e| {
            anyhow::anyhow!(
                "{e}; raise --memory-bytes-max if this machine has the memory, or run fewer --threads, --members or --periods"
            )
        })?;
    let stop = std::sync::atomic::AtomicBool::new(false);
    let results = pool.install(|| options.run(&model, &plans, &config, &|n| bar.inc(n), &stop))?;
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
