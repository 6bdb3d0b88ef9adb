//! One module per subcommand; `run` dispatches.

mod metrics;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Metrics(args) => metrics::run(&args),
    }
}
