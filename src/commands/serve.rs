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
        let store = incentive_store::Store::open(&args.db.db, store_options(args)).await?;
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

/// The store's options the flags set; the rest at their defaults.
fn store_options(args: &ServeArgs) -> incentive_store::StoreOptions {
    incentive_store::StoreOptions {
        limits: incentive_store::PoolLimits {
            pool_connections_max: args.pool_connections_max,
            pool_acquire_timeout_ms: args.pool_acquire_timeout_ms,
            ..incentive_store::PoolLimits::default()
        },
        payout_group_decide_ms_max: args.payout_group_decide_ms_max,
        payout_pipeline: args.payout_pipeline,
        payout_checkpoint_wait_ms_max: args.payout_checkpoint_wait_ms_max,
        ..incentive_store::StoreOptions::default()
    }
}

/// A line on standard output that a supervisor may have stopped reading: a closed pipe must
/// not turn a clean shutdown into a panic.
fn say(line: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::store_options;
    use crate::cli::{Cli, Command};
    use clap::Parser as _;

    fn options_of(flags: &[&str]) -> incentive_store::StoreOptions {
        let args = ["incentive", "serve", "--db", "sqlite://unused.db"];
        match Cli::try_parse_from(args.iter().chain(flags)) {
            Ok(Cli {
                command: Command::Serve(serve),
            }) => store_options(&serve),
            other => panic!("serve {flags:?} did not parse: {other:?}"),
        }
    }

    #[test]
    fn the_payout_writers_flags_reach_the_store() {
        let o = options_of(&[
            "--payout-group-decide-ms-max=250",
            "--payout-pipeline",
            "--payout-checkpoint-wait-ms-max=0",
            "--pool-connections-max=3",
            "--pool-acquire-timeout-ms=900",
        ]);
        assert_eq!(o.payout_group_decide_ms_max, 250);
        assert!(o.payout_pipeline);
        assert_eq!(o.payout_checkpoint_wait_ms_max, 0);
        assert_eq!(o.limits.pool_connections_max, 3);
        assert_eq!(o.limits.pool_acquire_timeout_ms, 900);
    }

    #[test]
    fn without_flags_the_store_keeps_its_own_defaults() {
        let d = incentive_store::StoreOptions::default();
        let o = options_of(&[]);
        assert_eq!(
            o.payout_checkpoint_wait_ms_max,
            d.payout_checkpoint_wait_ms_max
        );
        assert_eq!(o.payout_group_decide_ms_max, d.payout_group_decide_ms_max);
        assert_eq!(o.payout_pipeline, d.payout_pipeline);
    }
}
