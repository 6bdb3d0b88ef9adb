//! Command-line arguments, declared with clap. Each subcommand's work lives in `commands/`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "incentive",
    version,
    about = "Health-insurance incentive rules engine: glucose-control metrics, policies, payouts and an audit ledger"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Glucose-control metrics per member from a readings CSV.
    Metrics(MetricsArgs),
    /// Check a policy package, or run its cases.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Decide one member-period under a policy, with the explanation.
    Evaluate(EvaluateArgs),
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Every problem in a package (policy.toml, rules.rhai, cases/), with file:line:col.
    Check(PolicyArgs),
    /// Run the package's cases and show expected against actual for each that fails.
    Test(PolicyArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Rendered with the source line, for people.
    Text,
    /// One JSON document, for editors and CI.
    Json,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// The package directory, such as policies/tangdaifu-smbg.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DecisionFormat {
    Json,
    Text,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The policy package directory.
    #[arg(long, value_name = "DIR")]
    pub policy: PathBuf,
    /// Readings CSV; only the member's rows in the period are used.
    #[arg(long, value_name = "FILE")]
    pub readings: PathBuf,
    #[arg(long, value_name = "ID")]
    pub member: String,
    /// The period, such as 2026-03, 2026-Q1 or 2026 (its kind must match the policy's).
    #[arg(long, value_name = "PERIOD")]
    pub period: String,
    /// A TOML file with the member's [member] attributes, [history] of earlier outcomes and
    /// HbA1c `labs`, as in a case file.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = DecisionFormat::Json)]
    pub format: DecisionFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON object per member, unrounded: for programs.
    Json,
    /// A table, rounded for reading: for people.
    Table,
}

#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// Readings CSV (member_id, time, glucose_mg_dl | glucose_mmol_l | glucose; optional
    /// context, source). `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    pub readings: PathBuf,
    /// Unit of a plain `glucose` column: mg/dL or mmol/L.
    #[arg(long, value_name = "UNIT")]
    pub unit: Option<String>,
    /// Keep readings at or after this time (RFC 3339 with offset).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Keep readings before this time (RFC 3339 with offset).
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Count days in this IANA time zone (e.g. Asia/Shanghai) instead of each reading's offset.
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Skip rows that cannot be read, reporting each on standard error, instead of stopping.
    #[arg(long)]
    pub skip_bad_rows: bool,
}
