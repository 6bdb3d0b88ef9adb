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
