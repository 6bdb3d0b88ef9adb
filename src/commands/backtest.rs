//! `incentive backtest`: a policy over the real history of a database's tenant, or over a
//! readings file, beside what was actually paid. Reads only; the decisions and files are
//! `incentive_simulations::backtest`'s.

use super::operator::block_on;
use super::policy::load_or_report;
use crate::cli::{BacktestArgs, ReportFormat};
use anyhow::{Context as _, bail};
use incentive_engine::GlucoseUnit;
use incentive_engine::ingest::BadRows;
use incentive_engine::policy::{MemberProfile, Policy};
use incentive_simulations::backtest::{self, Backtest, BacktestSummary, Source};
use incentive_store::{Store, StoreOptions};

/// Members read from the database at once.
const MEMBERS_PER_READ: usize = 1_000;

pub fn run(args: &BacktestArgs) -> anyhow::Result<()> {
    let policy = load_or_report(&args.policy, ReportFormat::Text)?.1.policy;
    let periods = backtest::periods(&policy, &args.from, &args.to)?;
    let summary = match (&args.db, &args.tenant, &args.readings) {
        (Some(url), Some(tenant), None) => from_database(&policy, periods, url, tenant, args)?,
        (None, None, Some(path)) => from_file(&policy, periods, path, args)?,
        _ => bail!("give --db URL with --tenant NAME, or --readings FILE"),
    };
    print_summary(&summary, args);
    Ok(())
}

fn from_database(
    policy: &Policy,
    periods: Vec<incentive_engine::Period>,
    url: &str,
    tenant: &str,
    args: &BacktestArgs,
) -> anyhow::Result<BacktestSummary> {
    // A backtest reads; it must not leave an empty database behind a mistyped path.
    if let Some(file) = url
        .strip_prefix("sqlite://")
        .map(|f| f.split('?').next().unwrap_or(f))
        && !std::path::Path::new(file).exists()
    {
        bail!("--db: there is no SQLite database at `{file}`");
    }
    block_on(async {
        let store = Store::open(url, StoreOptions::default()).await?;
        if !store.tenants().await?.iter().any(|t| t == tenant) {
            bail!("--tenant: the database has no tenant `{tenant}`");
        }
        let mut ids = store.member_ids(tenant).await?;
        // Sorted here, not by the database, whose collation may differ between backends.
        ids.sort();
        let names: Vec<String> = periods.iter().map(ToString::to_string).collect();
        let actual =
            incentive_api::routes::history_impact::actually_paid(&store, tenant, &names).await?;
        let bar = progress((ids.len() * periods.len()) as u64);
        let mut run = Backtest::new(policy, ids, periods);
        // The decisions are work for this thread; the reads, the runtime's.
        let runtime = tokio::runtime::Handle::current();
        tokio::task::block_in_place(|| {
            run.decide_all(
                MEMBERS_PER_READ,
                |members, window| {
                    runtime
                        .block_on(store.period_inputs(tenant, members, window))
                        .map_err(anyhow::Error::from)
                },
                |n| bar.inc(n),
            )
        })?;
        bar.finish_and_clear();
        let source = Source::Database {
            backend: store.backend().name().to_owned(),
            tenant: tenant.to_owned(),
        };
        // The tables go to actuaries: members by the tenant's pseudonym, never by id.
        let pseudonyms = store.pseudonyms(tenant).await?;
        store.close().await;
        let pseudonym = |id: &str| pseudonyms.of(id);
        Ok(run.finish(source, Some(&actual), Some(&pseudonym), &args.out)?)
    })
}

fn from_file(
    policy: &Policy,
    periods: Vec<incentive_engine::Period>,
    path: &std::path::Path,
    args: &BacktestArgs,
) -> anyhow::Result<BacktestSummary> {
    let unit = args
        .unit
        .as_deref()
        .map(GlucoseUnit::parse)
        .transpose()
        .context("--unit")?;
    // A device's export is in the zone told, else the plan's.
    let zone = args
        .tz
        .clone()
        .unwrap_or_else(|| policy.manifest.timezone.name().to_owned());
    let told =
        super::readings_file::ExportFlags::new(&args.export, Some(&zone), args.member.as_deref());
    let file = super::readings_file::read_readings_file(path, unit, None, BadRows::Fail, &told)?;
    let (loaded, labs, name) = (file.by_member, file.labs, file.source_name);
    let ids: Vec<String> = loaded
        .members
        .keys()
        .map(|m| m.as_str().to_owned())
        .collect();
    let bar = progress((ids.len() * periods.len()) as u64);
    let mut run = Backtest::new(policy, ids, periods);
    for k in 0..run.periods().len() {
        let window = run.start_period(k)?;
        for (member, readings) in &loaded.members {
            // A readings file knows nothing of the member but the id.
            let profile = MemberProfile::new(member.clone());
            // HbA1c results the file held (FHIR) before the period's end, as the store gives
            // a payout those on record.
            let member_labs: Vec<incentive_engine::LabResult> = labs
                .get(member)
                .into_iter()
                .flatten()
                .filter(|l| l.time < window.end)
                .copied()
                .collect();
            run.decide(&profile, &readings.within(&window), &member_labs)?;
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    // A readings file's ids are the file owner's own: the tables keep them.
    Ok(run.finish(Source::ReadingsFile { name }, None, None, &args.out)?)
}

fn progress(len: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {wide_bar} {percent:>3}% member-periods {human_pos}/{human_len} · {eta} left",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

fn print_summary(s: &BacktestSummary, args: &BacktestArgs) {
    let currency = &s.plan.currency;
    println!(
        "{} {} over {} members, {} to {} ({} periods)",
        s.plan.policy_id,
        s.plan.version,
        s.members,
        args.from,
        args.to,
        s.periods.len()
    );
    println!(
        "  would pay      {} {currency} to {} members ({} measured)",
        s.would_pay.total_reward, s.would_pay.members_earning, s.would_pay.members_measuring
    );
    if let (Some(paid), Some(diff)) = (&s.actually_paid, s.difference_reward) {
        println!(
            "  actually paid  {} {currency} to {} members",
            paid.total_reward, paid.members_paid
        );
        println!("  difference     {diff:+} {currency}");
    }
    if let Some(p) = &s.would_pay.pool_exhausted_in {
        println!("  the pool would have run out in {p}");
    }
    println!(
        "wrote summary.json, and member_periods and members as CSV and Parquet to {}",
        args.out.display()
    );
}
