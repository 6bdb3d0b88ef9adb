//! One group of payouts, decided and posted in one transaction with a handful of statements
//! however many payouts it holds.
//!
//! Everything the group reads — versions in effect, profiles, readings, labs, earlier
//! decisions, balances — is loaded in a few set-based queries of a read transaction; the
//! payouts are then decided one after another *in memory*, off the async workers, each seeing
//! what the ones before it in the group posted (so two payouts to the same pool in one group
//! still cannot both spend its last yuan); and, with the chain heads locked and found where
//! they were read, what they post is written with multi-row inserts ([`decide_group`] says
//! what happens when a head has moved). Round trips, not arithmetic, are what a payout costs on
//! either backend (SQLite's driver runs each statement on a thread of its own), so this is
//! what makes group commit pay.
//!
//! The stages, one file each, imports running one way (this module calls them; they read
//! the group's types from here): [`read`] loads what a group reads, [`decide`] decides its
//! payouts in memory, [`write`] writes what they posted.

use crate::Shared;
use crate::db::Instant;
use crate::decisions::{PayoutRequest, StoredDecision};
use crate::error::StoreError;
use crate::idempotency::{KeyRow, Keyed, KeyedPayout, NewKey};
use crate::inputs::StoredReading;
use crate::ledger::{self, Entry, PERCENT_CURRENCY};
use incentive_engine::policy::attributes::AttributeValue;
use incentive_engine::policy::{MemberProfile, Policy};
use incentive_engine::{LabResult, Period};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

mod carry;
mod decide;
mod read;
mod write;

use decide::decide_all;
use read::{Heads, load};
use write::{post_unless_moved, write_all};

/// Whether a group is posted, or only decided and rolled back (a dry run: no money moves).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Post,
    DryRun,
}

/// Whether an error leaves the transaction unusable (a failed statement), as opposed to a
/// refusal decided before anything was written.
pub(crate) fn aborts_group(e: &StoreError) -> bool {
    matches!(e, StoreError::Database(_) | StoreError::Corrupt(_))
}

/// The version of a policy in effect for a period, compiled.
type InEffect = (String, Arc<Policy>);

/// A decision already on record, and whether its inputs were erased since.
#[derive(Clone, Debug)]
struct Known {
    decision: StoredDecision,
    erased: bool,
    /// A reversal undid its postings.
    reversed: bool,
}

/// What one tenant's part of the group reads, loaded up front.
#[derive(Default)]
struct TenantData {
    profiles: HashMap<String, MemberProfile>,
    readings: HashMap<String, Vec<StoredReading>>,
    labs: HashMap<String, Vec<LabResult>>,
    /// (member, policy) → decisions in (period, ordinal) order; the group's own are appended.
    /// Holds the decisions of the members of each payout's group (`[caps] group`) too.
    decisions: HashMap<(String, String), Vec<Known>>,
    /// (attribute, value) → the members sharing it, for the groups of this group's payouts.
    groups: HashMap<(String, String), Vec<String>>,
    balances: HashMap<(String, String), Decimal>,
    /// Accounts the group moved, to write back.
    touched: BTreeSet<(String, String)>,
    head: (i64, String),
    entries: Vec<(Entry, String)>,
    new_decisions: Vec<(StoredDecision, String)>,
    /// The group's idempotency keys that have answered, by key; the group's own are added.
    keys: HashMap<String, KeyRow>,
    new_keys: Vec<NewKey>,
}

/// A payout of a group, owned, so the group can be decided on a thread of its own.
pub(crate) type Item = (PayoutRequest, Option<Keyed>);

/// Everything a group reads, loaded up front, and what deciding it adds.
pub(crate) struct Loaded {
    data: BTreeMap<String, TenantData>,
    versions: HashMap<(String, String, Period), Option<InEffect>>,
    /// Each tenant's chain head when the group was loaded: if it has not moved by the time
    /// the group is posted, nothing the group read about that tenant's ledger has changed.
    heads_read: BTreeMap<String, (i64, String)>,
}

/// Decides and posts a group; returns each payout's result in order. `Err` means a statement
/// failed and nothing of the group was written.
///
/// The group is read and decided *outside* the write lock ([`read_and_decide`]), and only
/// then posted ([`post`]): see there. The writer's lanes call the two apart, to decide one
/// group while the one before it is being written (`payout::run_lane`).
pub(crate) async fn decide_group(
    shared: &Shared,
    items: &[(&PayoutRequest, Option<&Keyed>)],
    mode: Mode,
) -> Result<Vec<Result<KeyedPayout, StoreError>>, StoreError> {
    let items: Vec<Item> = items
        .iter()
        .map(|(r, k)| ((*r).clone(), k.cloned()))
        .collect();
    let decided = read_and_decide(shared, items, None).await?;
    if mode == Mode::DryRun {
        // Decided exactly as a payout would be, and nothing kept.
        return Ok(decided.results);
    }
    post(shared, decided).await.map(|(results, _)| results)
}

/// A group read and decided, not yet posted.
pub(crate) struct Decided {
    /// What the group read, with what deciding added: shared with the next group, which is
    /// decided as if this one were posted ([`carry::carry_over`]).
    pub(crate) loaded: Arc<Loaded>,
    items: Vec<Item>,
    /// One result for each of the first payouts; those past the group's time to decide have
    /// none, and go to the next group.
    pub(crate) results: Vec<Result<KeyedPayout, StoreError>>,
    at: Instant,
    started: std::time::Instant,
    load_us: u128,
    decide_us: u128,
}

/// Reads and decides a group, without posting it. With `after`, a group decided before it
/// and not yet known to be posted: what that group posted is laid over what this one read,
/// and [`post`] posts this one only if the chain head is then where that one left it.
///
/// A read loads the group, each tenant's chain head first ([`crate::db::Pool::begin_read`]:
/// one snapshot on SQLite, where reads outside a transaction measured no faster; none on
/// PostgreSQL), and the payouts are decided off the async workers ([`decide_off_runtime`]:
/// policy code may run for its whole sandbox budget and must hold neither an async worker nor
/// the database).
pub(crate) async fn read_and_decide(
    shared: &Shared,
    items: Vec<Item>,
    after: Option<&Loaded>,
) -> Result<Decided, StoreError> {
    let started = std::time::Instant::now();
    let at = shared.now();
    let mut read = shared.pool.begin_read().await?;
    let mut loaded = load(shared, &mut read, &items, Heads::Read).await?;
    drop(read);
    if let Some(earlier) = after {
        carry::carry_over(&mut loaded, earlier);
    }
    let load_us = started.elapsed().as_micros();
    let budget = shared.payout_group_decide;
    let (loaded, items, results) = decide_off_runtime(loaded, items, at, budget).await?;
    Ok(Decided {
        loaded: Arc::new(loaded),
        items,
        results: results?,
        at,
        started,
        load_us,
        decide_us: started.elapsed().as_micros() - load_us,
    })
}

/// Posts a decided group; returns its results, and whether it was posted exactly as decided
/// (what a group decided after it assumed, [`read_and_decide`]).
///
/// The write lock is taken only now, and each tenant's chain head locked. If every head is
/// where it was when the group was read, nothing the decisions depended on has moved — caps,
/// pools, earlier decisions and keys are all behind the head, and each was read after it —
/// and the prepared entries are written as they are (a group of one tenant — every group the
/// writer's lanes make — is checked and written together, [`write::post_unless_moved`]: on
/// PostgreSQL by one statement that commits by itself, on SQLite by one call between `BEGIN
/// IMMEDIATE` and `COMMIT`). If a head moved (another process paid, an auditor reversed), the
/// group is read and decided again under the lock, as before: correct whatever happened,
/// slower only when it must be. Readings sent meanwhile are not behind the head: the payout is
/// decided on the record as it stood when it was read, as if it had been asked for a moment
/// earlier.
pub(crate) async fn post(
    shared: &Shared,
    decided: Decided,
) -> Result<(Vec<Result<KeyedPayout, StoreError>>, bool), StoreError> {
    let Decided {
        loaded,
        items,
        results,
        at,
        started,
        load_us,
        decide_us,
    } = decided;
    let decided_us = started.elapsed().as_micros();
    if post_unless_moved(&shared.pool, &loaded, at).await? == Some(true) {
        shared.groups.count_committed(false);
        tracing::debug!(
            payouts = results.len(),
            load_us,
            decide_us,
            write_and_commit_us = started.elapsed().as_micros() - decided_us,
            "payout group committed in one statement"
        );
        return Ok((results, true));
    }
    // Several tenants, or a head that moved: in a transaction, under the heads' locks.
    let mut tx = shared.pool.begin().await?;
    let mut unmoved = true;
    for (tenant, head) in &loaded.heads_read {
        unmoved &= ledger::lock_head(&mut tx, tenant).await? == *head;
    }
    let (loaded, results) = if unmoved {
        (loaded, results)
    } else {
        tracing::debug!(
            "a chain head moved while the group was decided; deciding it again under the lock"
        );
        // Only the payouts the first decision reached (the others go to the next group), and
        // all of them, without the group's time to decide: their callers are answered with
        // this group. They were decided once within that time, so take about as long again;
        // each decision keeps its own sandbox budget.
        let mut items = items;
        items.truncate(results.len());
        let reloaded = load(shared, &mut tx, &items, Heads::Locked).await?;
        let (again, _, results) =
            decide_off_runtime(reloaded, items, at, std::time::Duration::MAX).await?;
        (Arc::new(again), results?)
    };
    let locked_us = started.elapsed().as_micros();
    write_all(&mut tx, &loaded, at).await?;
    tx.commit().await?;
    shared.groups.count_committed(!unmoved);
    tracing::debug!(
        payouts = results.len(),
        load_us,
        decide_us,
        decided_again = !unmoved,
        lock_us = locked_us - decided_us,
        write_and_commit_us = started.elapsed().as_micros() - locked_us,
        "payout group committed"
    );
    Ok((results, unmoved))
}

/// A group decided in memory: what it read (with what deciding added), its payouts, and their
/// results.
type DecidedInMemory = (
    Loaded,
    Vec<Item>,
    Result<Vec<Result<KeyedPayout, StoreError>>, StoreError>,
);

/// [`decide_all`] off the async workers: policy code may run for its whole sandbox budget a
/// decision, and must not hold an async worker meanwhile.
async fn decide_off_runtime(
    mut loaded: Loaded,
    items: Vec<Item>,
    at: Instant,
    budget: std::time::Duration,
) -> Result<DecidedInMemory, StoreError> {
    off_runtime(move || {
        let results = decide_all(&mut loaded, &items, at, budget);
        (loaded, items, results)
    })
    .await
}

/// Runs `work` where it may block, and turns a panic in it into an error for this group alone.
///
/// On a multi-threaded runtime (the server's, `ledger-load`'s) it runs where it is, the
/// worker's other tasks handed to another thread (`block_in_place`): a blocking thread would
/// have to be woken and the caller woken back, about a third of a lone payout's decide stage
/// (BENCHMARKS.md §4). A single-threaded runtime has no other worker to hand its tasks to, so
/// there it goes to a blocking thread. Either way a panic is caught here: unwinding through
/// the caller would end the writer lane's task, and with it every later payout of that
/// tenant. The panic's message is not repeated, since it may quote a member's data.
async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, StoreError> {
    let panicked = || StoreError::Corrupt("deciding a payout group failed: it panicked".into());
    if tokio::runtime::Handle::current().runtime_flavor()
        == tokio::runtime::RuntimeFlavor::MultiThread
    {
        let caught = tokio::task::block_in_place(|| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
        });
        return caught.map_err(|_| panicked());
    }
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| panicked())
}

/// The accounts a payout may move, with their currencies.
fn accounts_of(r: &PayoutRequest, version: &str, currency: &str) -> [(String, String); 4] {
    let member = r.member.as_str();
    [
        (
            ledger::pool_account(&r.policy_id, version),
            currency.to_owned(),
        ),
        (
            ledger::member_rewards_account(member, &r.policy_id),
            currency.to_owned(),
        ),
        (
            ledger::premium_account(&r.policy_id, version),
            PERCENT_CURRENCY.to_owned(),
        ),
        (
            ledger::member_premium_account(member, &r.policy_id),
            PERCENT_CURRENCY.to_owned(),
        ),
    ]
}

/// The value of a member's group attribute, where they have one.
fn group_of<'p>(profile: Option<&'p MemberProfile>, attribute: &str) -> Option<&'p str> {
    match profile?.attributes.get(attribute) {
        Some(AttributeValue::Text(v)) => Some(v.as_str()),
        _ => None,
    }
}

#[cfg(test)]
mod carry_tests;

#[cfg(test)]
mod post_tests;

#[cfg(test)]
mod off_runtime_tests {
    use super::*;

    fn panics_when(yes: bool) -> u32 {
        if yes {
            panic!("member m-1's readings");
        }
        7
    }

    /// Both flavours: the panic comes back as `Corrupt`, without its message, and the task
    /// that asked goes on to decide the next group.
    async fn a_panic_is_an_error_and_the_caller_goes_on() {
        match off_runtime(|| panics_when(true)).await {
            Err(StoreError::Corrupt(m)) => {
                assert_eq!(m, "deciding a payout group failed: it panicked");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(off_runtime(|| panics_when(false)).await.ok(), Some(7));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panic_while_deciding_in_place_does_not_end_the_lane() {
        a_panic_is_an_error_and_the_caller_goes_on().await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_panic_while_deciding_on_a_blocking_thread_does_not_end_the_lane() {
        a_panic_is_an_error_and_the_caller_goes_on().await;
    }
}
