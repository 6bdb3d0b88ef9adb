//! Where a simulation's time goes, on one thread, for one policy and population:
//!
//! - `draw`: drawing every member-period's readings and labs, nothing else;
//! - `bare`: the engine alone — `Policy::evaluate_unrecorded` (what a simulation decides with)
//!   over those readings, already drawn and held in memory, history carried (the baseline: what
//!   evaluation costs with no simulation around it);
//! - `simulate`: `incentive_simulations::run`, draws, evaluation and aggregation together;
//! - `write`: summary.json, report.html and the tables from the run's results.
//!
//! `cargo run --release -p incentive-simulations --example throughput -- POLICY_DIR MEMBERS
//! PERIODS REPLICATIONS [POPULATION.toml]`. Prints one JSON line.

use incentive_engine::policy::{PolicySource, SourceFile, load};
use incentive_simulations::book::Book;
use incentive_simulations::report::{PlanInfo, RunInfo};
use incentive_simulations::response::Behaviour;
use incentive_simulations::synth::{Draw, member, period_data};
use incentive_simulations::{Config, Population, Shard, run};
use std::time::Instant;

/// The allocator the `incentive` binary runs with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| {
        args.get(i)
            .cloned()
            .ok_or("usage: POLICY_DIR MEMBERS PERIODS REPLICATIONS [POPULATION.toml]")
    };
    let dir = std::path::PathBuf::from(arg(1)?);
    let members: u64 = arg(2)?.parse()?;
    let periods: u32 = arg(3)?.parse()?;
    let replications: u64 = arg(4)?.parse()?;
    let model = match args.get(5) {
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
    let first = incentive_engine::Period::containing_day(
        policy.manifest.period,
        policy.manifest.effective_from,
    );
    let config = Config {
        members,
        periods,
        replications,
        seed: 2015,
        first_period: first,
        shard: Shard::WHOLE,
    };
    let member_periods = members * u64::from(periods) * replications;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let zone = policy.manifest.timezone;
    // Members drawn as the run draws them: answering to the plan's stake.
    let behaviour = incentive_simulations::run::plan_stakes(&model, &[&policy], &config)?
        .first()
        .cloned()
        .flatten()
        .map_or_else(
            || Behaviour::under_plan(&model, 1.0),
            |s| s.behaviour(&model),
        );
    let enrolled = first.first_day().ok_or("no first day")?;
    let period_list = config.periods();

    // Draw every member-period of every replication and keep it: the baseline's input.
    let started = Instant::now();
    let mut drawn = Vec::new();
    for r in 0..replications {
        for m in 0..members {
            let who = member(&model, config.seed, m, r, enrolled)?;
            let draw = Draw {
                seed: config.seed,
                member: m,
                replication: r,
            };
            let mut data = Vec::with_capacity(period_list.len());
            for (k, p) in period_list.iter().enumerate() {
                data.push(period_data(
                    &model, &who, &behaviour, draw, k as u64, *p, zone,
                )?);
            }
            drawn.push((who, data));
        }
    }
    let draw_s = started.elapsed().as_secs_f64();

    // The engine alone over what was drawn, history carried as a run carries it.
    let started = Instant::now();
    let mut evaluated = 0_u64;
    for chunk in drawn.chunks(usize::try_from(members)?) {
        let mut book = Book::new(&policy, chunk.len(), period_list.len());
        for (k, p) in period_list.iter().enumerate() {
            book.start_period();
            for (m, (who, data)) in chunk.iter().enumerate() {
                let Some(d) = data.get(k) else { continue };
                let labs: Vec<_> = data.iter().take(k + 1).filter_map(|x| x.lab).collect();
                book.decide(m, &who.profile, *p, &d.readings, &labs)?;
                evaluated += 1;
            }
            book.end_period(k);
        }
    }
    let bare_s = started.elapsed().as_secs_f64();
    drop(drawn);

    let started = Instant::now();
    let results = pool.install(|| run(&model, &[&policy], &config, &|_| {}))?;
    let simulate_s = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let out = std::env::temp_dir().join(format!("throughput-{}", std::process::id()));
    let info = RunInfo::new(&config, vec![PlanInfo::of(&policy)], &model);
    incentive_simulations::report::write_results(&out, &info, &results)?;
    let write_s = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&out);

    let rate = |s: f64| (member_periods as f64 / s).round();
    println!(
        "{}",
        serde_json::json!({
            "policy": policy.manifest.id,
            "member_periods": member_periods,
            "evaluated": evaluated,
            "draw_s": draw_s, "bare_s": bare_s, "simulate_s": simulate_s, "write_s": write_s,
            "draw_per_s": rate(draw_s), "bare_per_s": rate(bare_s), "simulate_per_s": rate(simulate_s),
            "simulate_over_bare": (bare_s / simulate_s * 100.0).round() / 100.0,
        })
    );
    Ok(())
}
