//! One module per subcommand; `run` dispatches.

mod metrics;
mod policy;

use crate::cli::{Cli, Command, PolicyCommand};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Metrics(args) => metrics::run(&args),
        Command::Policy(PolicyCommand::Check(args)) => policy::check(&args),
        Command::Policy(PolicyCommand::Test(args)) => policy::test(&args),
        Command::Evaluate(args) => policy::evaluate(&args),
    }
}
