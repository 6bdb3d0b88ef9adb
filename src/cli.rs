//! Command-line arguments, declared with clap. Each subcommand's work lives in `commands/`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use incentive_api::Limits;
use incentive_store::PoolLimits;
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
    /// Monte Carlo pricing of a policy (and a comparison) over a synthetic population;
    /// `simulate merge` joins shards.
    Simulate(SimulateArgs),
    /// The whole product in one command: a database, the API in-process, a year of a
    /// calibrated population's readings and payouts, the ledger verified, a simulation.
    Demo(DemoArgs),
    /// A policy over real history — a database's tenant, or a readings file — period by
    /// period, beside what was actually paid.
    Backtest(BacktestArgs),
    /// The HTTP API, until SIGTERM or Ctrl-C (requests in flight are finished).
    Serve(ServeArgs),
    /// The database's schema.
    #[command(subcommand)]
    Db(DbCommand),
    /// Operator set-up: tenants and API keys.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The auditor's tools: verify, replay, export, checkpoint.
    #[command(subcommand)]
    Ledger(LedgerCommand),
}

#[derive(Debug, Args)]
pub struct DbArgs {
    /// `sqlite://FILE` (created if missing) or `postgres://USER@HOST:PORT/DB`.
    #[arg(long, value_name = "URL", env = "INCENTIVE_DB")]
    pub db: String,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Where to listen, such as 127.0.0.1:8080 (port 0 picks a free port and prints it).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// The largest request body read; a larger one gets 413.
    #[arg(long, value_name = "BYTES", env = "INCENTIVE_REQUEST_BODY_BYTES_MAX", default_value_t = Limits::default().request_body_bytes_max)]
    pub request_body_bytes_max: usize,
    /// Readings (or lab results) one JSON batch may carry; more gets 413.
    #[arg(long, value_name = "N", env = "INCENTIVE_READINGS_PER_BATCH_MAX", default_value_t = Limits::default().readings_per_batch_max)]
    pub readings_per_batch_max: usize,
    /// Requests answered at once; one more gets 503 at once.
    #[arg(long, value_name = "N", env = "INCENTIVE_CONCURRENT_REQUESTS_MAX", default_value_t = Limits::default().concurrent_requests_max)]
    pub concurrent_requests_max: usize,
    /// How long a request may take before it gets 503.
    #[arg(long, value_name = "MS", env = "INCENTIVE_REQUEST_TIMEOUT_MS", default_value_t = Limits::default().request_timeout_ms)]
    pub request_timeout_ms: u64,
    /// How long a connection may take to send a request's headers; past it the connection is
    /// closed (an idle kept-alive connection too).
    #[arg(long, value_name = "MS", env = "INCENTIVE_HEADER_READ_TIMEOUT_MS", default_value_t = Limits::default().header_read_timeout_ms, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout_ms: u64,
    /// How long a request's body may take to arrive whole; past it 408 and the connection is
    /// closed.
    #[arg(long, value_name = "MS", env = "INCENTIVE_BODY_READ_TIMEOUT_MS", default_value_t = Limits::default().body_read_timeout_ms, value_parser = clap::value_parser!(u64).range(1..))]
    pub body_read_timeout_ms: u64,
    /// Connections open at once; more wait in the listen backlog until one closes. Keep it
    /// below the process's open-files limit (`ulimit -n`).
    #[arg(long, value_name = "N", env = "INCENTIVE_CONNECTIONS_MAX", default_value_t = Limits::default().connections_max, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub connections_max: usize,
    /// How long an API key is trusted once looked up: a revoked key keeps working in a
    /// running process for at most this long (0: look every key up every time).
    #[arg(long, value_name = "SECONDS", env = "INCENTIVE_KEY_CACHE_SECONDS", default_value_t = Limits::default().key_cache_seconds)]
    pub key_cache_seconds: u64,
    /// Threads that run policy code (trials, dry runs, policy tests and checks), off the
    /// threads that answer requests; by default all cores but one.
    #[arg(long, value_name = "N", env = "INCENTIVE_EVALUATION_THREADS", default_value_t = Limits::default().evaluation_threads, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub evaluation_threads: usize,
    /// Evaluations waiting for one of those threads at most; one more gets 503 at once.
    #[arg(long, value_name = "N", env = "INCENTIVE_EVALUATIONS_WAITING_MAX", default_value_t = Limits::default().evaluations_waiting_max)]
    pub evaluations_waiting_max: usize,
    /// Cases one `POST /v1/policies/test` may run (each may take the sandbox's 250 ms).
    #[arg(long, value_name = "N", env = "INCENTIVE_POLICY_CASES_MAX", default_value_t = Limits::default().policy_cases_max, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub policy_cases_max: usize,
    /// The longest a policy may take to decide one member-period, measured on probe members
    /// when it is published; a slower one is refused.
    #[arg(long, value_name = "MS", env = "INCENTIVE_POLICY_DECISION_MS_MAX", default_value_t = Limits::default().policy_decision_ms_max, value_parser = clap::value_parser!(u64).range(1..))]
    pub policy_decision_ms_max: u64,
    /// Member-periods one backtest over a tenant's history (`POST …/backtest`) may decide, within
    /// its request.
    #[arg(long, value_name = "N", env = "INCENTIVE_HISTORY_MEMBER_PERIODS_MAX", default_value_t = Limits::default().history_member_periods_max, value_parser = clap::value_parser!(u64).range(1..))]
    pub history_member_periods_max: u64,
    /// The fewest members a backtest's totals may be over (fewer could single one out).
    #[arg(long, value_name = "N", env = "INCENTIVE_HISTORY_MEMBERS_MIN", default_value_t = Limits::default().history_members_min, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub history_members_min: usize,
    /// Simulations (POST /v1/simulations) run at once; the rest wait.
    #[arg(long, value_name = "N", env = "INCENTIVE_SIMULATIONS_RUNNING_MAX", default_value_t = Limits::default().simulations_running_max)]
    pub simulations_running_max: usize,
    /// Simulations waiting at most; one more gets 429.
    #[arg(long, value_name = "N", env = "INCENTIVE_SIMULATIONS_WAITING_MAX", default_value_t = Limits::default().simulations_waiting_max)]
    pub simulations_waiting_max: usize,
    /// Members × periods × replications × plans one simulation may ask for.
    #[arg(long, value_name = "N", env = "INCENTIVE_SIMULATION_MEMBER_PERIODS_MAX", default_value_t = Limits::default().simulation_member_periods_max)]
    pub simulation_member_periods_max: u64,
    /// Simulations one tenant may have running or waiting at once; one more gets 429 while
    /// other tenants' runs are still taken.
    #[arg(long, value_name = "N", env = "INCENTIVE_SIMULATIONS_PER_TENANT_MAX", default_value_t = Limits::default().simulations_per_tenant_max, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub simulations_per_tenant_max: usize,
    /// How long one simulation may run once started; past it the run is stopped and recorded
    /// failed.
    #[arg(long, value_name = "SECONDS", env = "INCENTIVE_SIMULATION_WALL_CLOCK_SECONDS_MAX", default_value_t = Limits::default().simulation_wall_clock_seconds_max, value_parser = clap::value_parser!(u64).range(1..))]
    pub simulation_wall_clock_seconds_max: u64,
    /// The memory one simulation may be estimated to need at its peak; a run estimated above
    /// it gets 400 with the estimate.
    #[arg(long, value_name = "BYTES", env = "INCENTIVE_SIMULATION_MEMORY_BYTES_MAX", default_value_t = Limits::default().simulation_memory_bytes_max, value_parser = clap::value_parser!(u64).range(1..))]
    pub simulation_memory_bytes_max: u64,
    /// Threads each running simulation uses.
    #[arg(long, value_name = "N", env = "INCENTIVE_SIMULATION_THREADS", default_value_t = Limits::default().simulation_threads)]
    pub simulation_threads: usize,
    /// Time one group of a tenant's payouts may spend deciding before it is committed; the
    /// payouts it did not get to go to the next group.
    #[arg(long, value_name = "MS", env = "INCENTIVE_PAYOUT_GROUP_DECIDE_MS_MAX", default_value_t = incentive_store::StoreOptions::default().payout_group_decide_ms_max, value_parser = clap::value_parser!(u64).range(1..))]
    pub payout_group_decide_ms_max: u64,
    /// Decide each tenant's next group of payouts while the one before it is being written.
    /// Off by default: on two cores it measured no faster (SQLite) or slower (PostgreSQL on
    /// the same cores); for a host with cores to spare.
    #[arg(long, env = "INCENTIVE_PAYOUT_PIPELINE")]
    pub payout_pipeline: bool,
    /// SQLite: how long a tenant's payout lane waits, before it writes a group, for the
    /// checkpoint of the database's log it started between groups; past it the group is
    /// written anyway and the checkpoint goes on beside it. 0 never waits.
    #[arg(long, value_name = "MS", env = "INCENTIVE_PAYOUT_CHECKPOINT_WAIT_MS_MAX", default_value_t = incentive_store::StoreOptions::default().payout_checkpoint_wait_ms_max)]
    pub payout_checkpoint_wait_ms_max: u64,
    /// Database connections this process opens at most.
    #[arg(long, value_name = "N", env = "INCENTIVE_POOL_CONNECTIONS_MAX", default_value_t = PoolLimits::default().pool_connections_max)]
    pub pool_connections_max: u32,
    /// How long a request waits for a database connection before it is answered 503; with the
    /// database unreachable, how long each request keeps trying to reach it.
    #[arg(long, value_name = "MS", env = "INCENTIVE_POOL_ACQUIRE_TIMEOUT_MS", default_value_t = PoolLimits::default().pool_acquire_timeout_ms, value_parser = clap::value_parser!(u64).range(1..))]
    pub pool_acquire_timeout_ms: u64,
}

impl ServeArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            request_body_bytes_max: self.request_body_bytes_max,
            readings_per_batch_max: self.readings_per_batch_max,
            concurrent_requests_max: self.concurrent_requests_max,
            request_timeout_ms: self.request_timeout_ms,
            header_read_timeout_ms: self.header_read_timeout_ms,
            body_read_timeout_ms: self.body_read_timeout_ms,
            connections_max: self.connections_max,
            key_cache_seconds: self.key_cache_seconds,
            evaluation_threads: self.evaluation_threads,
            evaluations_waiting_max: self.evaluations_waiting_max,
            policy_cases_max: self.policy_cases_max,
            history_member_periods_max: self.history_member_periods_max,
            history_members_min: self.history_members_min,
            policy_decision_ms_max: self.policy_decision_ms_max,
            simulations_running_max: self.simulations_running_max,
            simulations_waiting_max: self.simulations_waiting_max,
            simulation_member_periods_max: self.simulation_member_periods_max,
            simulations_per_tenant_max: self.simulations_per_tenant_max,
            simulation_wall_clock_seconds_max: self.simulation_wall_clock_seconds_max,
            simulation_memory_bytes_max: self.simulation_memory_bytes_max,
            simulation_threads: self.simulation_threads,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Create or upgrade the schema (also done whenever the store is opened).
    Migrate(DbArgs),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Tenants (insurers).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// API keys.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and start its ledger.
    Create {
        /// 1 to 64 of a-z, 0-9, `-` and `_`.
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Make a key; it is printed once, alone on the last line, and only its hash is kept.
    Create {
        #[arg(long)]
        tenant: String,
        /// author, actuary, platform, auditor or admin.
        #[arg(long)]
        role: String,
        /// The person who holds the key (up to 64 characters): four-eyes publishing needs to
        /// know who stored a draft and who approves it.
        #[arg(long, value_name = "NAME")]
        holder: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke a key by its id (`key_…`).
    Revoke {
        id: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Recompute every chain, sequence and balance; print the heads; exit non-zero naming the
    /// first bad entry.
    Verify(VerifyArgs),
    /// Re-run decisions from their stored inputs and policy version; exit non-zero unless
    /// every one gives the same bytes (decisions whose inputs were erased are counted apart).
    Replay(ReplayArgs),
    /// The ledger as CSV, one row per posting.
    Export(ExportArgs),
    /// Write where each chain stands, to keep outside the database for `verify --since`.
    Checkpoint(CheckpointArgs),
    /// Undo one decision's postings with new postings that point at them, with a reason.
    Reverse(ReverseArgs),
}

#[derive(Debug, Args)]
pub struct ReverseArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[arg(long)]
    pub tenant: String,
    /// The decision (`dec_…`).
    #[arg(long)]
    pub decision: String,
    /// Why, in words an auditor will read; it goes into the ledger.
    #[arg(long)]
    pub reason: String,
    /// Who asks for it.
    #[arg(long)]
    pub by: String,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Only this tenant's ledger.
    #[arg(long)]
    pub tenant: Option<String>,
    /// A checkpoint file written earlier: prove the ledger still extends it.
    #[arg(long, value_name = "FILE")]
    pub since: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The tenant whose decisions to replay.
    #[arg(long)]
    pub tenant: String,
    /// One decision (`dec_…`).
    #[arg(long, conflicts_with = "all", required_unless_present = "all")]
    pub decision: Option<String>,
    /// Every decision of the tenant.
    #[arg(long)]
    pub all: bool,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Csv,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[arg(long)]
    pub tenant: Option<String>,
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
    /// Write here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckpointArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[arg(long)]
    pub tenant: Option<String>,
    /// Write here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
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
    /// With `--format text`: what the member is shown (`member`), or everything staff need
    /// (`staff`: flags, metrics read and kept, hashes).
    #[arg(long, value_enum, default_value_t = DecisionView::Member)]
    pub view: DecisionView,
    /// With `--format text`: the language to show it in, such as zh-CN (else the member's
    /// `locale` attribute, else the package's default, English where it has it).
    #[arg(long, value_name = "TAG")]
    pub locale: Option<String>,
    /// The zone a device export's clock was in (default: the policy's time zone).
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    #[command(flatten)]
    pub export: DeviceExportArgs,
}

/// How to read a readings file that is a device's or a health system's export
/// (docs/data-formats.md).
#[derive(Debug, Args, Default)]
pub struct DeviceExportArgs {
    /// The file's format when it should not be told from its content: incentive-csv,
    /// dexcom-clarity, nightscout, libreview, carelink, fhir, apple-health or sibionics.
    #[arg(long, value_name = "NAME")]
    pub readings_format: Option<String>,
    /// Day and month order of a LibreView export's 24-hour dates when its dates do not show
    /// it: dmy (05-12-2019 is 5 December) or mdy.
    #[arg(long, value_name = "ORDER")]
    pub date_order: Option<String>,
    /// For a FHIR file about several patients: the identifier system whose values are member
    /// ids (such as an insurer's member-number URI); else each Patient's id.
    #[arg(long, value_name = "URI")]
    pub identifier_system: Option<String>,
}

/// Who a text decision is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DecisionView {
    Member,
    Staff,
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
    /// Count days in this IANA time zone (e.g. Asia/Shanghai) instead of each reading's offset;
    /// for a device export that writes local time without an offset (Dexcom Clarity), the zone
    /// its clock was in.
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Skip rows that cannot be read, reporting each on standard error, instead of stopping.
    #[arg(long)]
    pub skip_bad_rows: bool,
    /// The member a device export is about (default `patient`, or a FHIR export's patient).
    #[arg(long, value_name = "ID")]
    pub member: Option<String>,
    #[command(flatten)]
    pub export: DeviceExportArgs,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SimulateArgs {
    #[command(subcommand)]
    pub command: Option<SimulateCommand>,
    #[command(flatten)]
    pub run: SimulateRun,
}

#[derive(Debug, Subcommand)]
pub enum SimulateCommand {
    /// Join the partial results of every shard of a run into the unsharded run's results.
    Merge {
        /// The shards' output directories.
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// A database to use instead of a new SQLite file in --out (it must not have a `demo`
    /// tenant yet).
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// Where the demo writes its database, report and keys (a previous demo's are replaced).
    #[arg(long, value_name = "DIR", default_value = "incentive-demo")]
    pub out: PathBuf,
    /// Members of the synthetic population.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub members: u64,
    /// Replications of the actuary's simulation.
    #[arg(long, value_name = "R", default_value_t = 100)]
    pub replications: u64,
    /// The seed of the population and the simulation.
    #[arg(long, value_name = "S", default_value_t = 2015)]
    pub seed: u64,
    /// Keep the demo's server up afterwards, until Ctrl-C or SIGTERM, and print the policy
    /// workbench's address and the author's key.
    #[arg(long)]
    pub serve: bool,
    /// Where the demo's server listens (port 0: any free port, printed).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    pub addr: String,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("history").required(true).args(["db", "readings"])))]
pub struct BacktestArgs {
    /// The policy package to run over the history.
    #[arg(long, value_name = "DIR")]
    pub policy: PathBuf,
    /// The database whose history to read (read only): `sqlite://FILE` or `postgres://…`.
    #[arg(long, value_name = "URL", requires = "tenant")]
    pub db: Option<String>,
    /// The tenant whose members, readings and payouts to read.
    #[arg(long)]
    pub tenant: Option<String>,
    /// A readings file instead of a database — the product's CSV or a device's or health
    /// system's export (docs/data-formats.md); then nothing is known of what was paid.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["db", "tenant"])]
    pub readings: Option<PathBuf>,
    /// The unit of a readings file's plain `glucose` column: `mg/dL` or `mmol/L`.
    #[arg(long, requires = "readings")]
    pub unit: Option<String>,
    /// The zone a device export's clock was in (default: the policy's time zone).
    #[arg(long, value_name = "ZONE", requires = "readings")]
    pub tz: Option<String>,
    /// The member a one-person device export is about (default `patient`, or a FHIR
    /// export's patient).
    #[arg(long, value_name = "ID", requires = "readings")]
    pub member: Option<String>,
    #[command(flatten)]
    pub export: DeviceExportArgs,
    /// The first period, of the policy's kind: `2026-01`, `2026-Q1`, `2026`.
    #[arg(long, value_name = "PERIOD")]
    pub from: String,
    /// The last period, inclusive.
    #[arg(long, value_name = "PERIOD")]
    pub to: String,
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// `incentive simulate --memory-bytes-max` by default: 8 GiB, what a workstation can spare.
pub const SIMULATE_MEMORY_BYTES_MAX: u64 = 8 * 1024 * 1024 * 1024;

/// How a simulation prices plans past their effective dates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Renewal {
    /// Each plan renewed as it is.
    Unchanged,
}

#[derive(Debug, Args)]
pub struct SimulateRun {
    /// The policy package to price (plan A).
    #[arg(long, value_name = "DIR", required = true)]
    pub policy: Option<PathBuf>,
    /// A second package run on the same members and readings (plan B).
    #[arg(long, value_name = "DIR")]
    pub compare: Option<PathBuf>,
    /// The population model (TOML); the default is calibrated to the Guizhou pilot.
    #[arg(long, value_name = "FILE")]
    pub population: Option<PathBuf>,
    /// Members in each replication.
    #[arg(long, value_name = "N", required = true)]
    pub members: Option<u64>,
    /// Periods of the policy's kind, from the first period on.
    #[arg(long, value_name = "N", required = true)]
    pub periods: Option<u32>,
    #[arg(long, value_name = "R", required = true)]
    pub replications: Option<u64>,
    #[arg(long, value_name = "S", required = true)]
    pub seed: Option<u64>,
    /// The first period, e.g. 2026-01 (default: the policy's first period in effect).
    #[arg(long, value_name = "PERIOD")]
    pub first_period: Option<String>,
    /// Run only shard I of N (its replications), writing mergeable partial results.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Threads (default: every core). The results do not depend on it; the memory does (each
    /// thread holds a replication).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// The memory the run may be estimated to need at its peak; a run estimated above it is
    /// refused before it starts, with the estimate. Raise it if the machine has the memory.
    #[arg(long, value_name = "BYTES", default_value_t = SIMULATE_MEMORY_BYTES_MAX)]
    pub memory_bytes_max: u64,
    /// The book of members the plans' pool budgets are for: the run gets each pool's share for
    /// its own `--members` (a pool for 100,000 members is a hundredth in a run of 1,000), and
    /// the budget is given for the book too.
    #[arg(long, value_name = "N")]
    pub book_members: Option<u64>,
    /// The confidence the budget is read at: the total the rewards stay within in this share of
    /// replications (0 to 1, exclusive).
    #[arg(long, value_name = "SHARE", default_value = "0.95")]
    pub confidence: rust_decimal::Decimal,
    /// Price the plans past their effective dates as renewed: `unchanged`, each renewed as it
    /// is (its terms, tables and caps carry on; yearly caps start again each year). Without it,
    /// a run past a plan's dates is refused before it starts.
    #[arg(long, value_name = "HOW")]
    pub renewal: Option<Renewal>,
    /// Also run each sourced assumption at its low and at its high, one at a time (a tornado):
    /// two more runs of this size for each assumption that changes what members do (twelve),
    /// written into summary.json and report.html.
    #[arg(long)]
    pub tornado: bool,
    #[arg(long, value_name = "DIR", required = true)]
    pub out: Option<PathBuf>,
}
