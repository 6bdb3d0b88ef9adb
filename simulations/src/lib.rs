//! Simulation for actuaries: the very policy package an insurer publishes, run over synthetic
//! populations many times, with the distribution of what it pays.
//!
//! - [`population`]: the population model, every assumption named, with defaults and ranges;
//! - [`response`]: how members behave under a plan — what it puts at stake, the response it
//!   buys — and with none;
//! - [`outcomes`]: the health of each arm (the no-plan arm, each plan's), period by period;
//! - [`savings`]: a model from HbA1c saved to claims saved, discounted; net cost;
//! - [`effects`]: what a plan buys over the replications, against the no-plan arm;
//! - [`tornado`]: one-at-a-time sensitivity over each sourced assumption's low and high;
//! - [`budget`]: a pool scaled to the book, the budget at a confidence, the reserve;
//! - [`stream`]: counter-based random streams keyed by (seed, member, replication, period,
//!   purpose), so results never depend on threads, order or sharding;
//! - [`synth`]: members and their readings drawn from the model ([`cgm`]: sensor traces);
//! - [`backtest`]: a policy over real history, beside what was actually paid;
//! - [`book`]: one plan run over a population period by period, history and pool carried;
//! - [`config`]: what a run is asked for; [`totals`]: what it gives; [`info`]: how results
//!   name what was run;
//! - [`options`]: what a run is asked for beside its size (book, confidence, renewal, tornado),
//!   one meaning for the command and the HTTP API;
//! - [`run`]: the Monte Carlo, through `incentive_engine`'s one evaluation path;
//! - [`footprint`]: a run's peak memory, estimated before it starts;
//! - [`members`]: each member's results gathered over replications, in memory that does not
//!   grow with them;
//! - [`stats`]: distributions of money totals, exact where they can be;
//! - [`columnar`]: the per-replication and per-member tables, as CSV and Parquet;
//! - [`derived`]: the figures `summary.json` and `report.html` both show, found once;
//! - [`report`]: `summary.json`, the tables, `report.html`, and a shard's mergeable partial results;
//! - [`html`]: `report.html`, one self-contained page with inline SVG charts.

pub mod backtest;
pub mod book;
pub mod breakdown;
pub mod budget;
pub mod calibration;
pub mod cgm;
pub mod columnar;
pub mod config;
pub mod derived;
pub mod effects;
pub mod footprint;
mod four_places;
pub mod html;
pub mod info;
pub mod members;
pub mod options;
pub mod outcomes;
pub mod population;
pub mod report;
pub mod response;
pub mod run;
pub mod savings;
pub mod stats;
pub mod stream;
pub mod synth;
pub mod tornado;
pub mod totals;

pub use config::{Config, Shard};
pub use population::{Population, PopulationError};
pub use run::{run, run_until};
pub use totals::{Replication, Results};

/// Why a simulation could not run, in the actuary's words.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Population(#[from] PopulationError),
    #[error("the run cannot start: {0}")]
    Config(String),
    #[error("the population model cannot be sampled: {0}")]
    Model(String),
    #[error("policy `{policy}` could not decide {period}: {message}")]
    Evaluation {
        policy: String,
        period: String,
        message: String,
    },
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("cannot merge: {0}")]
    Merge(String),
    #[error("the run was stopped before it finished")]
    Stopped,
    #[error(
        "the run would take about {} of memory at its peak ({detail}), more than {limit} allows: {}",
        footprint::describe_bytes(*estimate_bytes),
        footprint::describe_bytes(*limit_bytes)
    )]
    Memory {
        estimate_bytes: u64,
        limit_bytes: u64,
        /// The limit's name where it is set: a server's setting, a command's flag.
        limit: String,
        /// What the figure is made of.
        detail: String,
    },
}
