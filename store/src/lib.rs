//! Persistence for `incentive`: tenants, policy versions, members, readings, decisions and the
//! tamper-evident ledger, on SQLite (embedded, the default) or PostgreSQL, chosen by URL.
//!
//! One function decides and posts a payout, [`Store::pay`]: the API, `incentive demo` and
//! batch runs all go through it. It loads the policy version in effect, the member's record
//! and history for the period, evaluates with [`incentive_engine`], and writes the decision
//! and its ledger entry in one transaction. Payouts from many callers are committed together
//! by one writer task (group commit), which holds the tenant's chain head while it reads the
//! history the caps depend on — so no two payouts can both spend the last of a budget.
//!
//! ```no_run
//! # async fn example() -> Result<(), incentive_store::StoreError> {
//! use incentive_store::{PayoutRequest, Store, StoreOptions};
//! let store = Store::open("sqlite://incentive.db", StoreOptions::default()).await?;
//! store.create_tenant("zhongan").await?;
//! # Ok(()) }
//! ```

pub mod approvals;
pub mod audit;
mod bulk_readings;
pub mod db;
mod decisions;
pub mod error;
mod group;
pub mod history;
pub mod idempotency;
pub mod inputs;
pub mod ledger;
pub mod ledger_view;
mod member_records;
pub mod members;
pub mod payout;
pub mod policies;
pub mod pseudonyms;
mod readings_copy;
pub mod reversal;
pub mod settings;
pub mod simulations;
pub mod tenants;
pub mod verify;

pub use approvals::Approval;
pub use audit::{Erasure, Replay};
pub use bulk_readings::BulkReadings;
pub use db::{Backend, Instant, Money, PoolLimits};
pub use decisions::{PayoutKind, PayoutOutcome, PayoutRequest, StoredDecision};
pub use error::StoreError;
pub use history::{PeriodInputs, Posted};
pub use idempotency::{IdempotencyKey, Keyed, KeyedPayout};
pub use ledger_view::{Balance, LEDGER_PAGE_ROWS_MAX, StoredEntry};
pub use members::{BulkReadingsAdded, LikelyDuplicates, ReadingsAdded};
pub use policies::{PolicyStatus, PolicyVersion};
pub use reversal::Reversal;
pub use settings::{IdentifierSystem, TenantSettings};
pub use simulations::{NewSimulation, SimulationRecord, SimulationResult, SimulationStatus};
pub use verify::{Checkpoint, VerifyReport};

use chrono::{DateTime, Utc};
use incentive_engine::policy::Policy;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Where the store's instants come from. Tests pass a fixed clock so that two ledgers built
/// from the same operations have the same bytes.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// How a store is opened.
#[derive(Clone)]
pub struct StoreOptions {
    pub limits: PoolLimits,
    pub clock: Clock,
    /// Payouts the writer commits in one transaction at most.
    pub payout_batch_max: usize,
    /// Payouts waiting for the writer at most, callers waiting beyond that; and payouts one
    /// tenant's lane holds waiting at most, past which that tenant's payouts are refused
    /// (`TenantBusy`) while the other tenants' go on.
    pub payout_queue_max: usize,
    /// How long the writer may wait for the callers of its last group to come back before it
    /// commits a much smaller one.
    pub payout_linger_ms: u64,
    /// Time one group may spend deciding before it is committed: payouts not yet decided
    /// then go to the next group, so a slow policy's payouts are committed (and answered)
    /// every so often rather than after the whole group.
    pub payout_group_decide_ms_max: u64,
    /// Whether a tenant's lane reads and decides its next group while the one before it is
    /// written (`payout::run_lane`). Off by default: on two cores it measured no faster on
    /// SQLite and slower on PostgreSQL, whose server wants the second core (BENCHMARKS.md §4);
    /// for a host with cores to spare.
    pub payout_pipeline: bool,
    /// SQLite: how long a lane waits, before it writes a group, for the checkpoint of the log
    /// it started after an earlier one (`payout::Checkpoints`). Past it, the group is written
    /// anyway, the checkpoint goes on beside it, and the log is started again at a later group.
    pub payout_checkpoint_wait_ms_max: u64,
    /// Ledger entries `verify` reads from the database at a time, so a ledger of any length
    /// verifies in bounded memory (apart from the per-decision and per-account maps).
    pub verify_page_entries: i64,
    /// Compiled policy versions kept at once (`policies::COMPILED_POLICIES_MAX` by default),
    /// so drafts stored again and again cannot fill memory.
    pub compiled_policies_max: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            limits: PoolLimits::default(),
            clock: Arc::new(Utc::now),
            payout_batch_max: 256,
            payout_queue_max: 4096,
            payout_linger_ms: 2,
            // Four decisions at the sandbox's budget; thousands of ordinary ones.
            payout_group_decide_ms_max: 1_000,
            payout_pipeline: false,
            // A checkpoint copies about 400 pages: a few ms on a fast disk, 20–40 on a slow one.
            payout_checkpoint_wait_ms_max: 20,
            verify_page_entries: 5_000,
            compiled_policies_max: policies::COMPILED_POLICIES_MAX,
        }
    }
}

impl std::fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreOptions")
            .field("limits", &self.limits)
            .field("payout_batch_max", &self.payout_batch_max)
            .field("payout_queue_max", &self.payout_queue_max)
            .field("payout_linger_ms", &self.payout_linger_ms)
            .field(
                "payout_group_decide_ms_max",
                &self.payout_group_decide_ms_max,
            )
            .field("payout_pipeline", &self.payout_pipeline)
            .field(
                "payout_checkpoint_wait_ms_max",
                &self.payout_checkpoint_wait_ms_max,
            )
            .field("verify_page_entries", &self.verify_page_entries)
            .finish_non_exhaustive()
    }
}

pub use payout::PayoutGroups;

/// What the store's handles and its writer task share.
pub(crate) struct Shared {
    pub(crate) pool: db::Pool,
    pub(crate) clock: Clock,
    /// Compiled policies by their files (content hash and every file's hash): a published
    /// version never changes, so a compiled one is good for the life of the process; at most
    /// `policies::COMPILED_POLICIES_MAX`, so drafts stored again and again cannot fill memory.
    pub(crate) compiled: Mutex<HashMap<String, Arc<Policy>>>,
    pub(crate) payout_batch_max: usize,
    /// Payouts one tenant's lane holds waiting at most.
    pub(crate) payout_queue_max: usize,
    pub(crate) payout_linger: std::time::Duration,
    pub(crate) payout_pipeline: bool,
    pub(crate) payout_group_decide: std::time::Duration,
    pub(crate) payout_checkpoint_wait: std::time::Duration,
    pub(crate) verify_page_entries: i64,
    pub(crate) compiled_policies_max: usize,
    /// What the payout writer has done since the store was opened.
    pub(crate) groups: payout::GroupCounters,
}

impl Shared {
    pub(crate) fn now(&self) -> Instant {
        Instant::new((self.clock)())
    }
}

/// A handle on the store. Cheap to clone; every clone shares one pool and one payout writer.
#[derive(Clone)]
pub struct Store {
    pub(crate) shared: Arc<Shared>,
    pub(crate) writer: mpsc::Sender<payout::Job>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating a SQLite file if needed) and migrates the database at `url`, and starts
    /// the payout writer. Must be called inside a tokio runtime.
    pub async fn open(url: &str, options: StoreOptions) -> Result<Self, StoreError> {
        let pool = db::Pool::connect(url, &options.limits).await?;
        pool.migrate().await?;
        let shared = Arc::new(Shared {
            pool,
            clock: options.clock,
            compiled: Mutex::new(HashMap::new()),
            payout_batch_max: options.payout_batch_max.max(1),
            payout_queue_max: options.payout_queue_max.max(1),
            payout_linger: std::time::Duration::from_millis(options.payout_linger_ms),
            payout_pipeline: options.payout_pipeline,
            payout_group_decide: std::time::Duration::from_millis(
                options.payout_group_decide_ms_max.max(1),
            ),
            payout_checkpoint_wait: std::time::Duration::from_millis(
                options.payout_checkpoint_wait_ms_max,
            ),
            verify_page_entries: options.verify_page_entries.max(1),
            compiled_policies_max: options.compiled_policies_max.max(1),
            groups: payout::GroupCounters::default(),
        });
        let (writer, jobs) = mpsc::channel(options.payout_queue_max.max(1));
        tokio::spawn(payout::run_writer(Arc::clone(&shared), jobs));
        Ok(Self { shared, writer })
    }

    /// How the payout writer's groups went since the store was opened: a benchmark's or an
    /// operator's view of the writer (counts only, nothing of a member).
    pub fn payout_groups(&self) -> PayoutGroups {
        self.shared.groups.read()
    }

    /// Applies any migrations not yet applied, without keeping the store open.
    pub async fn migrate(url: &str) -> Result<Backend, StoreError> {
        let pool = db::Pool::connect(url, &PoolLimits::default()).await?;
        pool.migrate().await?;
        let backend = pool.backend();
        pool.close().await;
        Ok(backend)
    }

    /// Refreshes the query planner's statistics, as after a bulk load: without them
    /// PostgreSQL may plan a member's readings as a scan of every reading.
    pub async fn analyze(&self) -> Result<(), StoreError> {
        db::on_pool!(&self.shared.pool, p => {
            sqlx::query("ANALYZE").execute(p).await?;
        });
        Ok(())
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        db::on_pool!(&self.shared.pool, p => {
            sqlx::query("SELECT 1").execute(p).await?;
        });
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.shared.pool.backend()
    }

    /// Closes the pool once every payout already queued is committed.
    pub async fn close(self) {
        let Self { shared, writer } = self;
        // The writer finishes what is queued, then ends when the last sender is gone.
        drop(writer);
        shared.pool.close().await;
    }
}
