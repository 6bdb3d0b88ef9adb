//! `ledger-load`: drives payouts through the store's one payout function, for the crash and
//! multi-process tests and for the throughput benchmark.
//!
//! ```text
//! ledger-load setup --db URL --policy DIR --members N [--periods P]
//! ledger-load pay   --db URL --members N --writers W [--periods P] [--first K] [--pipeline]
//! ```
//!
//! `setup` creates tenant `load`, publishes the policy (its dates widened so that `--periods`
//! monthly periods from 2026-01 are in effect) and enrols members `L000000`… with a month of
//! finger-stick readings in each period. `pay` has W tasks pay members K…K+N−1 for each period
//! and prints one line per payout the store acknowledged, `ack DECISION MEMBER PERIOD REWARD`,
//! flushed as it happens, then a summary line on standard error.

use clap::{Parser, Subcommand};
use incentive_engine::policy::{MemberProfile, PolicySource, SourceFile};
use incentive_engine::{Context, Glucose, GlucoseValue, MemberId, Period, Reading, Source};
use incentive_store::{PayoutKind, PayoutRequest, Store, StoreOptions};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

// The server's allocator (src/main.rs): the direct rate this measures is the server's store.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
struct Cli {
    #[command(subcommand)]
    command: Mode,
}

#[derive(Debug, Subcommand)]
enum Mode {
    Setup {
        #[arg(long)]
        db: String,
        #[arg(long)]
        policy: PathBuf,
        #[arg(long)]
        members: u32,
        #[arg(long, default_value_t = 1)]
        periods: u32,
        /// Replace the policy's pool budget (e.g. to make it run dry).
        #[arg(long)]
        pool_budget: Option<String>,
    },
    Pay {
        #[arg(long)]
        db: String,
        #[arg(long)]
        members: u32,
        #[arg(long, default_value_t = 1)]
        writers: u32,
        #[arg(long, default_value_t = 1)]
        periods: u32,
        #[arg(long, default_value_t = 0)]
        first: u32,
        /// Decide each group while the one before it is written (`payout_pipeline`).
        #[arg(long)]
        pipeline: bool,
    },
}

const TENANT: &str = "load";

fn member_id(i: u32) -> Result<MemberId, String> {
    MemberId::parse(&format!("L{i:06}")).map_err(|e| e.to_string())
}

fn period(i: u32) -> Result<Period, String> {
    let mut p = Period::parse("2026-01").map_err(|e| e.to_string())?;
    for _ in 0..i {
        p = p.next();
    }
    Ok(p)
}

/// Ten days of a fasting and a post-meal reading; member `i`'s control varies with `i`, so
/// that rewards differ.
fn readings(i: u32, p: Period) -> Result<Vec<Reading>, String> {
    let day0 = p.first_day().ok_or("period out of range")?;
    let offset = chrono::FixedOffset::east_opt(8 * 3600).ok_or("offset")?;
    let mut out = Vec::new();
    for d in 0..10_u32 {
        let day = day0 + chrono::Days::new(u64::from(d));
        for (hour, context, base) in [(7, Context::Fasting, 5.0), (10, Context::PostMeal, 7.5)] {
            let mmol = base + f64::from((i * 7 + d * 3) % 40) / 10.0;
            let time = day
                .and_hms_opt(hour, 0, 0)
                .ok_or("time")?
                .and_local_timezone(offset)
                .single()
                .ok_or("time")?;
            out.push(Reading {
                time,
                value: GlucoseValue::Measured(
                    Glucose::from_mmol_l(mmol).map_err(|e| e.to_string())?,
                ),
                context,
                source: Source::Smbg,
            });
        }
    }
    Ok(out)
}

fn read_policy(
    dir: &std::path::Path,
    periods: u32,
    budget: Option<&str>,
) -> Result<PolicySource, String> {
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name))
            .map_err(|e| format!("{}: {e}", dir.join(name).display()))
    };
    let last = period(periods.saturating_sub(1))?
        .last_day()
        .ok_or("period out of range")?;
    let mut manifest = read("policy.toml")?;
    let effective_to = manifest
        .lines()
        .find(|l| l.starts_with("effective_to"))
        .map(str::to_owned);
    if let Some(line) = effective_to {
        manifest = manifest.replace(&line, &format!("effective_to = {last}"));
    }
    if let Some(budget) = budget {
        let line = manifest
            .lines()
            .find(|l| l.starts_with("pool_budget"))
            .map(str::to_owned);
        if let Some(line) = line {
            manifest = manifest.replace(&line, &format!("pool_budget = {budget}"));
        }
    }
    Ok(PolicySource {
        name: dir.display().to_string(),
        files: vec![
            SourceFile::new("policy.toml", manifest),
            SourceFile::new("rules.rhai", read("rules.rhai")?),
        ],
    })
}

async fn setup(
    db: &str,
    dir: &std::path::Path,
    members: u32,
    periods: u32,
    budget: Option<&str>,
) -> Result<(), String> {
    let store = Store::open(db, StoreOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    store
        .create_tenant(TENANT)
        .await
        .map_err(|e| e.to_string())?;
    let source = read_policy(dir, periods, budget)?;
    let v = store
        .put_policy(TENANT, &source)
        .await
        .map_err(|e| e.to_string())?;
    store
        .publish_policy(TENANT, &v.policy_id, &v.version)
        .await
        .map_err(|e| e.to_string())?;
    for i in 0..members {
        let m = member_id(i)?;
        store
            .upsert_member(TENANT, &MemberProfile::new(m.clone()))
            .await
            .map_err(|e| e.to_string())?;
        let mut all = Vec::new();
        for p in 0..periods {
            all.extend(readings(i, period(p)?)?);
        }
        store
            .add_readings(TENANT, &m, all)
            .await
            .map_err(|e| e.to_string())?;
    }
    store.analyze().await.map_err(|e| e.to_string())?;
    println!("{}", v.policy_id);
    store.close().await;
    Ok(())
}

async fn pay(
    db: &str,
    members: u32,
    writers: u32,
    periods: u32,
    first: u32,
    pipeline: bool,
) -> Result<(), String> {
    let options = StoreOptions {
        payout_pipeline: pipeline,
        ..StoreOptions::default()
    };
    let store = Store::open(db, options).await.map_err(|e| e.to_string())?;
    let policy = store
        .policies(TENANT)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .next()
        .ok_or("no policy: run `ledger-load setup` first")?;
    let jobs: Vec<(u32, u32)> = (0..periods)
        .flat_map(|p| (first..first + members).map(move |m| (m, p)))
        .collect();
    let jobs = Arc::new(jobs);
    let next = Arc::new(AtomicU64::new(0));
    let paid = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..writers.max(1) {
        let (store, jobs, next, paid, policy) = (
            store.clone(),
            Arc::clone(&jobs),
            Arc::clone(&next),
            Arc::clone(&paid),
            policy.clone(),
        );
        tasks.spawn(async move {
            loop {
                let i = usize::try_from(next.fetch_add(1, Ordering::Relaxed)).unwrap_or(usize::MAX);
                let Some(&(m, p)) = jobs.get(i) else {
                    return Ok::<(), String>(());
                };
                let request = PayoutRequest {
                    tenant: TENANT.into(),
                    member: member_id(m)?,
                    policy_id: policy.clone(),
                    period: period(p)?,
                };
                let out = store.pay(request).await.map_err(|e| e.to_string())?;
                if out.kind != PayoutKind::AlreadyDecided {
                    paid.fetch_add(1, Ordering::Relaxed);
                }
                let d = &out.decision;
                let mut stdout = std::io::stdout().lock();
                let _ = writeln!(
                    stdout,
                    "ack {} {} {} {}",
                    d.id, d.member_id, d.period, d.reward_posted
                );
                let _ = stdout.flush();
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let n = paid.load(Ordering::Relaxed);
    eprintln!(
        "{n} payouts committed in {seconds:.3} s: {:.0} per second with {writers} writers on {}",
        n as f64 / seconds.max(1e-9),
        store.backend().name()
    );
    let groups = store.payout_groups();
    eprintln!(
        "groups: {} committed, {} decided ahead, {} decided ahead in vain, {} decided again under the lock",
        groups.committed,
        groups.decided_ahead,
        groups.decided_ahead_in_vain,
        groups.decided_again_under_lock
    );
    store.close().await;
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The writer's per-group timings (`payout group committed`, counts and microseconds,
    // nothing of a member) on standard error when asked for: `LEDGER_LOAD_LOG=debug`.
    if let Ok(filter) = std::env::var("LEDGER_LOAD_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Mode::Setup {
                db,
                policy,
                members,
                periods,
                pool_budget,
            } => setup(&db, &policy, members, periods, pool_budget.as_deref()).await,
            Mode::Pay {
                db,
                members,
                writers,
                periods,
                first,
                pipeline,
            } => pay(&db, members, writers, periods, first, pipeline).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
