//! `incentive serve`: the HTTP API over the store, until SIGTERM or Ctrl-C.

use super::operator::{block_on, open};
use crate::cli::ServeArgs;
use anyhow::Context as _;

pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    block_on(async {
        let store = open(&args.db).await?;
        let listener = tokio::net::TcpListener::bind(&args.addr)
            .await
            .with_context(|| format!("cannot listen on `{}`", args.addr))?;
        let addr = listener.local_addr()?;
        // One line a script can wait for, with the port a `:0` address was given.
        println!("listening on http://{addr}");
        let router = incentive_api::router(store.clone(), incentive_api::Limits::default());
        incentive_api::serve(listener, router, incentive_api::shutdown_signal()).await?;
        store.close().await;
        println!("stopped: every request in flight was answered");
        Ok(())
    })
}
