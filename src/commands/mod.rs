//! One module per subcommand; `run` dispatches.

mod backtest;
mod demo;
mod ledger;
mod metrics;
mod operator;
mod policy;
mod readings_file;
mod serve;
mod simulate;

use crate::cli::{
    AdminCommand, Cli, Command, DbCommand, KeyCommand, LedgerCommand, PolicyCommand, TenantCommand,
};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Metrics(args) => metrics::run(&args),
        Command::Policy(PolicyCommand::Check(args)) => policy::check(&args),
        Command::Policy(PolicyCommand::Test(args)) => policy::test(&args),
        Command::Evaluate(args) => policy::evaluate(&args),
        Command::Simulate(args) => simulate::run(&args),
        Command::Backtest(args) => backtest::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Db(DbCommand::Migrate(args)) => operator::migrate(&args),
        Command::Admin(AdminCommand::Tenant(TenantCommand::Create { name, db })) => {
            operator::create_tenant(&name, &db)
        }
        Command::Admin(AdminCommand::Key(KeyCommand::Create {
            tenant,
            role,
            holder,
            db,
        })) => operator::create_key(&tenant, &role, holder.as_deref(), &db),
        Command::Admin(AdminCommand::Key(KeyCommand::Revoke { id, db })) => {
            operator::revoke_key(&id, &db)
        }
        Command::Ledger(LedgerCommand::Verify(args)) => ledger::verify(&args),
        Command::Ledger(LedgerCommand::Replay(args)) => ledger::replay(&args),
        Command::Ledger(LedgerCommand::Export(args)) => ledger::export(&args),
        Command::Ledger(LedgerCommand::Checkpoint(args)) => ledger::checkpoint(&args),
        Command::Ledger(LedgerCommand::Reverse(args)) => ledger::reverse(&args),
    }
}
