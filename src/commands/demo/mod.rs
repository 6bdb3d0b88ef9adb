//! `incentive demo`: the whole product in one command, on a fresh clone, with no set-up.
//!
//! It makes a SQLite database (or uses `--db`), a tenant and a key per role, starts the API
//! in-process on a free port and drives it as its users would: the author publishes the
//! reference policies and a variant; the platform enrols a population calibrated to the
//! Guizhou pilot, sends a year of readings month by month and asks for each month's payouts
//! with idempotency keys (and retries one, to show it is safe); the auditor verifies the ledger
//! and replays a sample of decisions; the actuary prices the plan against the variant. Then it
//! prints what happened and where to look further.

mod client;
mod packages;
mod steps;

use crate::cli::DemoArgs;
use anyhow::{Context as _, bail};
use client::Caller;
use incentive_engine::Period;
use incentive_simulations::Population;
use incentive_simulations::response::Behaviour;
use incentive_simulations::synth::{Draw, Member, member, period_data};
use incentive_store::tenants::Role;
use incentive_store::{Store, StoreOptions};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use steps::{audit, enrol_all, issue_keys, publish_all, read_in_chinese, retry_a_payout};

const TENANT: &str = "demo";
/// Requests the platform has in flight at once.
const CONCURRENT_REQUESTS: usize = 32;
/// Readings in one bulk upload at most (well under the server's body limit).
const READINGS_PER_UPLOAD: usize = 20_000;
/// Decisions the auditor replays.
const REPLAY_SAMPLE: usize = 25;
const FIRST_PERIOD: &str = "2026-01";
const MONTHS: u32 = 12;

pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    if args.members == 0 || args.members > 1_000_000 {
        bail!("--members {} is outside 1 to 1,000,000", args.members);
    }
    if args.replications == 0 || args.replications > 10_000 {
        bail!(
            "--replications {} is outside 1 to 10,000",
            args.replications
        );
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot make the directory `{}`", args.out.display()))?;
    let db = match &args.db {
        Some(url) => url.clone(),
        None => fresh_sqlite(&args.out)?,
    };
    // The in-process server logs as `incentive serve` does (JSON lines, `RUST_LOG`, `info` by
    // default), into OUT/server.log rather than over the demo's own output.
    let log = args.out.join("server.log");
    let file =
        std::fs::File::create(&log).with_context(|| format!("cannot write `{}`", log.display()))?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
    super::operator::block_on(async { demo(args, &db).await })
}

/// `OUT/incentive.db`, new: a previous demo's database there is replaced.
fn fresh_sqlite(out: &Path) -> anyhow::Result<String> {
    let file = out.join("incentive.db");
    for suffix in ["", "-wal", "-shm"] {
        let path = out.join(format!("incentive.db{suffix}"));
        if path.exists() {
            std::fs::remove_file(&path).with_context(|| {
                format!("cannot replace the previous demo's `{}`", path.display())
            })?;
        }
    }
    Ok(format!("sqlite://{}", file.display()))
}

/// What the platform's calls came to.
#[derive(Debug, Default)]
struct Totals {
    readings_sent: u64,
    readings_accepted: u64,
    labs: u64,
    payouts: u64,
    reward: Decimal,
    premium_points: Decimal,
    paid_by_member: BTreeMap<String, Decimal>,
    decisions: Vec<String>,
}

async fn demo(args: &DemoArgs, db: &str) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let store = Store::open(db, StoreOptions::default()).await?;
    store.create_tenant(TENANT).await.with_context(|| {
        format!("the database already has a tenant `{TENANT}`: give --db a new database, or leave --db out")
    })?;
    let keys = issue_keys(&store).await?;
    write_keys(&args.out, &keys)?;
    write_script(&args.out, db)?;

    let limits = incentive_api::Limits {
        simulation_threads: std::thread::available_parallelism().map_or(1, usize::from),
        simulation_member_periods_max: u64::MAX,
        // The demo publishes its own reference policies, in whatever build runs it (a test
        // build decides a CGM quarter ten times slower than a release one).
        policy_decision_ms_max: 1_000,
        ..incentive_api::Limits::default()
    };
    let (router, simulations) = incentive_api::service(store.clone(), limits);
    // On its own, the demo's server is for the demo's calls: any free port. Kept up after it
    // (`--serve`), it listens where asked, so the workbench's address can be bookmarked.
    let listener = if args.serve {
        tokio::net::TcpListener::bind(&args.addr)
            .await
            .with_context(|| format!("cannot listen on --addr {}", args.addr))?
    } else {
        tokio::net::TcpListener::bind("127.0.0.1:0").await?
    };
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(incentive_api::serve(listener, router, async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    let caller = |role: Role| -> anyhow::Result<Caller> {
        let key = keys
            .get(role.as_str())
            .ok_or_else(|| anyhow::anyhow!("no {} key", role.as_str()))?;
        Ok(Caller::new(&http, &base, key))
    };
    let (author, platform, auditor, actuary, admin) = (
        caller(Role::Author)?,
        caller(Role::Platform)?,
        caller(Role::Auditor)?,
        caller(Role::Actuary)?,
        caller(Role::Admin)?,
    );
    println!("incentive demo: the API at {base}, database {db}");

    publish_all(&author, &admin).await?;

    let model = Population::default();
    let first = Period::parse(FIRST_PERIOD)?;
    let enrolled = first
        .first_day()
        .ok_or_else(|| anyhow::anyhow!("{FIRST_PERIOD} has no first day"))?;
    let population: Vec<Member> = (0..args.members)
        .map(|m| member(&model, args.seed, m, 0, enrolled))
        .collect::<Result<_, _>>()?;

    step(
        "platform",
        &format!(
            "enrols {} members, then month by month sends their readings and asks for their payouts",
            population.len()
        ),
    );
    enrol_all(&platform, &population).await?;

    let totals = months(args, &model, &population, &platform).await?;
    detail(&format!(
        "{} readings sent ({} accepted), {} HbA1c results, {} payouts",
        totals.readings_sent, totals.readings_accepted, totals.labs, totals.payouts
    ));

    let (retried, original) = retry_a_payout(&store, &platform, &population).await?;
    read_in_chinese(&store, &platform, &retried, &original).await?;
    let (head_seq, head_hash) = audit(&auditor, &totals.decisions).await?;

    step(
        "actuary",
        &format!(
            "prices {} against {} over {} replications",
            packages::PAID,
            packages::VARIANT,
            args.replications
        ),
    );
    let sim = simulate(args, &actuary).await?;
    let summary = &sim.summary;
    std::fs::write(args.out.join("summary.json"), &sim.summary_text)?;
    std::fs::write(args.out.join("report.html"), &sim.report)?;

    print_summary(args, db, &totals, head_seq, &head_hash, summary, started);
    if args.serve {
        // Installed before the address is printed: a signal sent on reading it stops cleanly.
        let stop_signal = incentive_api::shutdown_signal();
        let author = keys.get(Role::Author.as_str()).map_or("", String::as_str);
        println!(
            "\nthe policy workbench: {base}/workbench/\n\
             \x20 sign in as the author (demo author) with {author}\n\
             \x20 (every role's key is in {}/keys.env; the admin, demo admin, approves)\n\
             serving until Ctrl-C",
            args.out.display()
        );
        stop_signal.await;
    }
    let _ = stop.send(());
    server.await??;
    simulations.stop_all(&store).await;
    store.close().await;
    Ok(())
}

/// A year, month by month: the month's readings and lab results, then its payouts.
async fn months(
    args: &DemoArgs,
    model: &Population,
    population: &[Member],
    platform: &Caller,
) -> anyhow::Result<Totals> {
    let mut totals = Totals::default();
    let zone = chrono_tz::Asia::Shanghai;
    // Members answer to the plans as the default model's members do to a large reward.
    let behaviour = Behaviour::under_plan(model, 1.0);
    let bar = bar(
        population.len() as u64 * u64::from(MONTHS),
        "member-months sent and paid",
    );
    let mut period = Period::parse(FIRST_PERIOD)?;
    for k in 0..MONTHS {
        let mut lines = Vec::new();
        let mut labs = Vec::new();
        for (m, who) in population.iter().enumerate() {
            let draw = Draw {
                seed: args.seed,
                member: m as u64,
                replication: 0,
            };
            let data = period_data(model, who, &behaviour, draw, u64::from(k), period, zone)?;
            let id = who.profile.id.as_str();
            for r in data.readings.iter() {
                let value = match r.value {
                    incentive_engine::GlucoseValue::Measured(g) => json!(g.mg_dl()),
                    incentive_engine::GlucoseValue::Low => json!("LO"),
                    incentive_engine::GlucoseValue::High => json!("HI"),
                };
                lines.push(
                    json!({
                        "member_id": id, "time": r.time.to_rfc3339(), "glucose_mg_dl": value,
                        "context": r.context.as_str(), "source": r.source.as_str(),
                    })
                    .to_string(),
                );
            }
            if let Some(lab) = data.lab {
                labs.push((id.to_owned(), lab));
            }
        }
        for chunk in lines.chunks(READINGS_PER_UPLOAD) {
            let answer = platform
                .post_raw("/v1/readings", "application/x-ndjson", chunk.join("\n"))
                .await?;
            totals.readings_sent += chunk.len() as u64;
            totals.readings_accepted += answer.body.at("/accepted").as_u64().unwrap_or_default();
        }
        for_each(&labs, |(id, lab)| {
            let platform = platform.clone();
            let body = json!({ "labs": [{ "time": lab.time.to_rfc3339(), "hba1c_percent": lab.hba1c.percent().to_string() }] });
            let path = format!("/v1/members/{id}/labs");
            async move {
                platform.post(&path, &body).await?;
                Ok(())
            }
        })
        .await?;
        totals.labs += labs.len() as u64;

        let answers = Arc::new(std::sync::Mutex::new(Vec::new()));
        for_each(population, |who| {
            let platform = platform.clone();
            let answers = Arc::clone(&answers);
            let bar = bar.clone();
            let id = who.profile.id.as_str().to_owned();
            let period = period.to_string();
            async move {
                let key = format!("demo-{id}-{period}");
                let body =
                    json!({ "member_id": id, "policy_id": packages::PAID, "period": period });
                let answer = platform.post_keyed("/v1/payouts", &key, &body).await?;
                answers
                    .lock()
                    .map_err(|_| anyhow::anyhow!("a payout's answer was lost"))?
                    .push((id, answer.body));
                bar.inc(1);
                Ok(())
            }
        })
        .await?;
        let mut answers = std::mem::take(
            &mut *answers
                .lock()
                .map_err(|_| anyhow::anyhow!("the payouts' answers were lost"))?,
        );
        // In member order, whatever order they were answered in.
        answers.sort_by(|a, b| a.0.cmp(&b.0));
        for (id, body) in answers {
            let d = &body.at("/decision");
            let reward = decimal(d.at("/reward_posted"))?;
            totals.reward += reward;
            totals.premium_points += decimal(d.at("/premium_posted"))?;
            *totals.paid_by_member.entry(id).or_default() += reward;
            totals
                .decisions
                .push(d.at("/id").as_str().unwrap_or_default().to_owned());
            totals.payouts += 1;
        }
        period = period.next();
    }
    bar.finish_and_clear();
    Ok(totals)
}

/// A JSON value's part at a pointer (`/decision/id`), or null: never a panic on an answer
/// of another shape.
trait At {
    fn at(&self, pointer: &str) -> &Value;
}

static NULL: Value = Value::Null;

impl At for Value {
    fn at(&self, pointer: &str) -> &Value {
        self.pointer(pointer).unwrap_or(&NULL)
    }
}

fn decimal(v: &Value) -> anyhow::Result<Decimal> {
    let text = v
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| v.to_string());
    Decimal::from_str(&text).with_context(|| format!("`{text}` is not an amount"))
}

/// The actuary's run, and its results.
struct Simulation {
    summary: Value,
    summary_text: String,
    report: String,
}

async fn simulate(args: &DemoArgs, actuary: &Caller) -> anyhow::Result<Simulation> {
    let started = actuary
        .post(
            "/v1/simulations",
            &json!({
                "policy_id": packages::PAID, "compare_policy_id": packages::VARIANT,
                "members": args.members, "periods": MONTHS, "replications": args.replications,
                "seed": args.seed, "first_period": FIRST_PERIOD,
            }),
        )
        .await?;
    let id = started
        .body
        .at("/id")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let total = started
        .body
        .at("/member_periods_total")
        .as_u64()
        .unwrap_or_default();
    let bar = bar(total, "member-periods simulated");
    loop {
        let now: Value = actuary.get_as(&format!("/v1/simulations/{id}")).await?;
        bar.set_position(now.at("/member_periods_done").as_u64().unwrap_or_default());
        match now.at("/status").as_str() {
            Some("succeeded") => break,
            Some("failed") => bail!("the simulation failed: {}", now.at("/error")),
            _ => tokio::time::sleep(std::time::Duration::from_millis(250)).await,
        }
    }
    bar.finish_and_clear();
    let summary = actuary
        .get(&format!("/v1/simulations/{id}/summary"))
        .await?;
    let report = actuary.get(&format!("/v1/simulations/{id}/report")).await?;
    Ok(Simulation {
        summary: summary.body,
        summary_text: summary.text,
        report: report.text,
    })
}

/// Runs `f` on every item, `CONCURRENT_REQUESTS` at a time; the first error stops the rest.
async fn for_each<T, F, Fut>(items: &[T], f: F) -> anyhow::Result<()>
where
    F: Fn(&T) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let mut running = tokio::task::JoinSet::new();
    for item in items {
        if running.len() >= CONCURRENT_REQUESTS
            && let Some(done) = running.join_next().await
        {
            done??;
        }
        running.spawn(f(item));
    }
    while let Some(done) = running.join_next().await {
        done??;
    }
    Ok(())
}

fn bar(len: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "  {{wide_bar}} {{percent:>3}}% {what} {{human_pos}}/{{human_len}} · {{eta}} left"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

fn step(who: &str, what: &str) {
    println!("\n{who}: {what}");
}

fn detail(line: &str) {
    println!("  {line}");
}

/// `OUT/keys.env`: the demo tenant's keys, for trying the API by hand against `serve`.
fn write_keys(out: &Path, keys: &BTreeMap<&str, String>) -> anyhow::Result<()> {
    let mut text = String::from(
        "# Keys of the demo tenant, one per role: `source` this file to try the API by hand.\n\
         # Demo only: a real key is printed once by `incentive admin key create` and kept secret.\n",
    );
    for (role, key) in keys {
        let _ = writeln!(text, "export {}_KEY={key}", role.to_uppercase());
    }
    let path = out.join("keys.env");
    std::fs::write(&path, text).with_context(|| format!("cannot write `{}`", path.display()))
}

/// This binary as the person who ran the demo can run it again from where they are: after
/// `cargo run --release -- demo` that is `target/release/incentive`, not an `incentive` on
/// their PATH.
fn invocation() -> String {
    let Ok(exe) = std::env::current_exe() else {
        return "incentive".into();
    };
    let here = std::env::current_dir().ok();
    match here.as_deref().and_then(|dir| exe.strip_prefix(dir).ok()) {
        Some(relative) => relative.display().to_string(),
        None => exe.display().to_string(),
    }
}

/// `OUT/serve-and-call.sh`: serves the demo's database and makes a platform's calls with curl,
/// printing each, for an integrator to read and copy.
fn write_script(out: &Path, db: &str) -> anyhow::Result<()> {
    let bin = std::env::current_exe().context("cannot tell where this binary is")?;
    // The database as the script sees it, from inside OUT.
    let db = match db.strip_prefix("sqlite://") {
        Some(file) => {
            let absolute = std::fs::canonicalize(out)
                .map(|o| o.join("incentive.db"))
                .unwrap_or_else(|_| Path::new(file).to_path_buf());
            format!("sqlite://{}", absolute.display())
        }
        None => db.to_owned(),
    };
    let script = format!(
        r##"#!/usr/bin/env bash
# Written by `incentive demo`: serves the demo's database on a free port and makes the calls a
# platform (the meter app's backend) makes, printing each request and answer. Read it, copy it.
set -euo pipefail
cd "$(dirname "$0")"
source ./keys.env
bin=${{INCENTIVE_BIN:-{bin}}}
"$bin" serve --db '{db}' --addr 127.0.0.1:0 >serve.out 2>serve.log &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q "listening on" serve.out 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^listening on //p' serve.out)
# Each call is printed with the key's name in place of the key.
call() {{ echo; echo "\$ curl ${{*//$PLATFORM_KEY/\$PLATFORM_KEY}}"; curl -sS --fail-with-body "$@"; echo; }}
json=(-H 'content-type: application/json')

# Enrol a member (PUT is an upsert: running this again changes nothing).
call -X PUT "$URL/v1/members/NEW001" -H "authorization: Bearer $PLATFORM_KEY" "${{json[@]}}" \
  -d '{{"age": 58, "sex": "female", "region": "Guizhou-Suiyang", "diabetes_type": "type2", "insulin": false, "enrolled_on": "2026-03-01"}}'

# A week of finger-stick readings: each is accepted, a duplicate, or rejected with its reason.
readings=$(for d in 02 03 04 05 06 07 08; do
  printf '{{"time": "2026-03-%sT07:10:00+08:00", "glucose_mmol_l": 6.1, "context": "fasting", "source": "smbg"}},' "$d"
  printf '{{"time": "2026-03-%sT09:30:00+08:00", "glucose_mmol_l": 8.4, "context": "post_meal", "source": "smbg"}},' "$d"
done)
call -X POST "$URL/v1/members/NEW001/readings" -H "authorization: Bearer $PLATFORM_KEY" "${{json[@]}}" \
  -d '{{"readings": ['"${{readings%,}}"']}}' 

# March's payout, with an Idempotency-Key: the decision, what it posted, and why.
payout='{{"member_id": "NEW001", "policy_id": "tangdaifu-smbg", "period": "2026-03"}}'
call -X POST "$URL/v1/payouts" -H "authorization: Bearer $PLATFORM_KEY" "${{json[@]}}" \
  -H 'idempotency-key: pay-NEW001-2026-03' -d "$payout"

# The same request again (the platform did not hear the answer): the same answer, paid once.
call -X POST "$URL/v1/payouts" -H "authorization: Bearer $PLATFORM_KEY" "${{json[@]}}" \
  -H 'idempotency-key: pay-NEW001-2026-03' -d "$payout"

# The member's decisions, as the app would show them.
call "$URL/v1/members/NEW001/decisions" -H "authorization: Bearer $PLATFORM_KEY"
"##,
        bin = bin.display(),
    );
    let path = out.join("serve-and-call.sh");
    std::fs::write(&path, script).with_context(|| format!("cannot write `{}`", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

fn print_summary(
    args: &DemoArgs,
    db: &str,
    t: &Totals,
    head_seq: i64,
    head_hash: &str,
    summary: &Value,
    started: std::time::Instant,
) {
    let members_paid = t
        .paid_by_member
        .values()
        .filter(|v| **v > Decimal::ZERO)
        .count();
    let plan = |i: usize| summary.at(&format!("/plans/{i}"));
    let mean = |i: usize| {
        plan(i)
            .at("/total_reward/mean")
            .as_str()
            .unwrap_or("?")
            .to_owned()
    };
    let ci = |i: usize| {
        let c = plan(i).at("/total_reward/mean_ci95");
        format!(
            "{} to {}",
            c.at("/0").as_str().unwrap_or("?"),
            c.at("/1").as_str().unwrap_or("?")
        )
    };
    let out = args.out.display();
    let bin = invocation();
    println!(
        "\nsummary ({:.0} s)\n\
         \x20 members              {}\n\
         \x20 readings             {} sent, {} accepted; {} HbA1c results\n\
         \x20 payouts              {} ({} members paid something)\n\
         \x20 rewards paid         {} CNY\n\
         \x20 premium adjustments  {} percentage points\n\
         \x20 ledger head          entry {head_seq}, {head_hash}\n\
         \x20 simulated year       {}: {} CNY expected (95% interval {}); {}: {} CNY ({})\n\
         \n\
         look further:\n\
         \x20 {out}/report.html   the actuary's report (open it in a browser)\n\
         \x20 {out}/summary.json  its figures\n\
         \x20 {out}/keys.env      the demo's API keys, one per role\n\
         \x20 {out}/server.log    the API's logs (JSON lines; RUST_LOG sets how much)\n\
         \x20 {out}/serve-and-call.sh  serves this database and calls it as a platform would\n\
         \x20 {bin} serve --db {db}\n\
         \x20 {bin} ledger verify --db {db}\n\
         \x20 {bin} ledger replay --db {db} --tenant {TENANT} --all",
        started.elapsed().as_secs_f64(),
        args.members,
        t.readings_sent,
        t.readings_accepted,
        t.labs,
        t.payouts,
        members_paid,
        t.reward.normalize(),
        t.premium_points.normalize(),
        packages::PAID,
        mean(0),
        ci(0),
        packages::VARIANT,
        mean(1),
        ci(1),
    );
}
