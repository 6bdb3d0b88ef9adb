//! `incentive serve`: the HTTP API over the store, until SIGTERM or Ctrl-C.

use super::operator::block_on;
use crate::cli::ServeArgs;
use anyhow::Context as _;

pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    // JSON lines on standard error (`RUST_LOG` filters; `info` by default): each request with
    // its id, route template, status and time — never readings or member attributes.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    block_on(async {
        let options = incentive_store::StoreOptions {
            limits: incentive_store::PoolLimits {
                pool_connections_max: args.pool_connections_max,
                pool_acquire_timeout_ms: args.pool_acquire_timeout_ms,
                ..incentive_store::PoolLimits::default()
            },
            payout_group_decide_ms_max: args.payout_group_decide_ms_max,
            payout_pipeline: args.payout_pipeline,
            ..incentive_store::StoreOptions::default()
        };
        let store = incentive_store::Store::open(&args.db.db, options).await?;
        let listener = tokio::net::TcpListener::bind(&args.addr)
            .await
            .with_context(|| format!("cannot listen on `{}`", args.addr))?;
        let addr = listener.local_addr()?;
        // Before the line that says it is up: a signal sent on reading it stops it gracefully.
        let stop = incentive_api::shutdown_signal();
        // One line a script can wait for, with the port a `:0` address was given.
        say(&format!("listening on http://{addr}"));
        let limits = args.limits();
        let (router, simulations) = incentive_api::service(store.clone(), limits.clone());
        incentive_api::serve_with(listener, router, &limits, stop).await?;
        // Simulations still running are let go, and say so, rather than held up for.
        simulations.stop_all(&store).await;
        store.close().await;
        say("stopped: every request in flight was answered");
        Ok(())
    })
}

/// A line on standard output that a supervisor may have stopped reading: a closed pipe must
/// not turn a clean shutdown into a panic.
fn say(line: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
