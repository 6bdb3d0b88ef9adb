//! The one function that decides and posts a payout, and the writer that commits payouts in
//! groups.
//!
//! Every payout goes through [`Store::pay`], which hands it to the writer task of the process,
//! and the writer to its tenant's lane. A lane takes up to `payout_batch_max` of its tenant's
//! waiting payouts, reads what they need (the policy version in effect, the members' records
//! and history) and decides them off the lock, then locks the tenant's chain head (PostgreSQL:
//! `FOR UPDATE`, so several processes on one database queue behind each other; SQLite: the
//! write lock of `BEGIN IMMEDIATE`) and appends the decisions and their ledger entries if the
//! head is where it was read — or reads and decides them again under the lock if it is not.
//! One commit (one fsync) acknowledges the whole group. Because every payment moves the head,
//! what the pool and the member have been paid is the true total when a group is posted: the
//! engine's caps hold, and concurrent payouts can never together pass a budget or a cap.
//!
//! A failed statement aborts the group; the writer then retries each payout of the group in a
//! transaction of its own, so one bad request never takes others down with it.

use crate::Shared;
use crate::Store;
use crate::decisions::{PayoutOutcome, PayoutRequest};
use crate::error::StoreError;
use crate::group::{Decided, Item, Loaded};
use crate::idempotency::{Keyed, KeyedPayout};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{mpsc, oneshot};

/// How the payout writer's groups went, counted since the store was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PayoutGroups {
    /// Groups written (each one commit).
    pub committed: u64,
    /// Groups read and decided while the one before them was being written, on what that
    /// one posted (`payout_pipeline`).
    pub decided_ahead: u64,
    /// Groups decided ahead on a group that then did not land as decided, so read and
    /// decided again before they were written.
    pub decided_ahead_in_vain: u64,
    /// Groups whose chain head had moved by the time they were written (another process, an
    /// auditor), so read and decided again under the lock.
    pub decided_again_under_lock: u64,
}

/// [`PayoutGroups`], as the writer counts them.
#[derive(Debug, Default)]
pub(crate) struct GroupCounters {
    committed: AtomicU64,
    decided_ahead: AtomicU64,
    decided_ahead_in_vain: AtomicU64,
    decided_again_under_lock: AtomicU64,
}

impl GroupCounters {
    /// A group committed; `again`: read and decided again under the lock first.
    pub(crate) fn count_committed(&self, again: bool) {
        self.committed.fetch_add(1, Ordering::Relaxed);
        if again {
            self.decided_again_under_lock
                .fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn read(&self) -> PayoutGroups {
        PayoutGroups {
            committed: self.committed.load(Ordering::Relaxed),
            decided_ahead: self.decided_ahead.load(Ordering::Relaxed),
            decided_ahead_in_vain: self.decided_ahead_in_vain.load(Ordering::Relaxed),
            decided_again_under_lock: self.decided_again_under_lock.load(Ordering::Relaxed),
        }
    }
}

pub(crate) struct Job {
    request: PayoutRequest,
    key: Option<Keyed>,
    reply: oneshot::Sender<Result<KeyedPayout, StoreError>>,
}

impl Store {
    /// Decides and posts a member's payout for a period. Paying a period twice returns the
    /// decision on record; asking again after late readings posts a true-up.
    pub async fn pay(&self, request: PayoutRequest) -> Result<PayoutOutcome, StoreError> {
        unkeyed(self.submit(request, None).await?)
    }

    /// [`Store::pay`] with an idempotency key, looked up and recorded in the payout's own
    /// transaction: a key that answered before answers the same again, and a new key is
    /// written in the same commit as the decision it answers with.
    pub async fn pay_keyed(
        &self,
        request: PayoutRequest,
        key: Keyed,
    ) -> Result<KeyedPayout, StoreError> {
        self.submit(request, Some(key)).await
    }

    async fn submit(
        &self,
        request: PayoutRequest,
        key: Option<Keyed>,
    ) -> Result<KeyedPayout, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(Job {
                request,
                key,
                reply,
            })
            .await
            .map_err(|_| StoreError::ShuttingDown)?;
        answer.await.map_err(|_| StoreError::ShuttingDown)?
    }
}

impl Store {
    /// Decides a payout exactly as [`Store::pay`] would — same version, record, history and
    /// caps — and posts nothing: what the member would get if paid now.
    pub async fn dry_run(&self, request: PayoutRequest) -> Result<PayoutOutcome, StoreError> {
        let mut results = crate::group::decide_group(
            &self.shared,
            &[(&request, None)],
            crate::group::Mode::DryRun,
        )
        .await?;
        unkeyed(results.pop().unwrap_or(Err(StoreError::ShuttingDown))?)
    }
}

/// The outcome of a payout asked for without a key: only a decision can answer it.
fn unkeyed(answer: KeyedPayout) -> Result<PayoutOutcome, StoreError> {
    match answer {
        KeyedPayout::Decided(outcome) | KeyedPayout::Replayed(outcome) => Ok(outcome),
        KeyedPayout::ReplayedError { .. } | KeyedPayout::DifferentRequest => Err(
            StoreError::Corrupt("a payout without a key was answered as a keyed one".into()),
        ),
    }
}

/// Hands each payout to its tenant's lane. A lane is a writer of its own: one tenant's groups
/// are decided and committed in order, while another tenant's go on beside them, so a tenant
/// whose policy is slow to decide delays only its own payouts. (Groups are decided outside
/// the database's write lock, `group::decide_group`, so lanes contend only for the moment
/// each commits.)
pub(crate) async fn run_writer(shared: Arc<Shared>, mut jobs: mpsc::Receiver<Job>) {
    let mut lanes: HashMap<String, mpsc::Sender<Job>> = HashMap::new();
    while let Some(job) = jobs.recv().await {
        let tenant = job.request.tenant.clone();
        let lane = lanes.entry(tenant).or_insert_with(|| {
            let (lane, queue) = mpsc::channel(shared.payout_queue_max.max(1));
            tokio::spawn(run_lane(Arc::clone(&shared), queue));
            lane
        });
        // A full lane refuses rather than waits: waiting here would hold every other tenant's
        // payouts behind this one's queue.
        if let Err(e) = lane.try_send(job) {
            let (job, busy) = match e {
                mpsc::error::TrySendError::Full(job) => (job, true),
                mpsc::error::TrySendError::Closed(job) => (job, false),
            };
            let _ = job.reply.send(Err(if busy {
                StoreError::TenantBusy {
                    queued: shared.payout_queue_max,
                }
            } else {
                StoreError::ShuttingDown
            }));
        }
    }
}

/// A group being written while its lane decides the next one (`payout_pipeline`).
struct InFlight {
    /// What the group decided: the next one is decided as if it were already posted.
    decided: Arc<Loaded>,
    payouts: usize,
    /// Whether it was posted exactly as decided; if not, the next group is decided again.
    posted: tokio::task::JoinHandle<bool>,
}

impl InFlight {
    /// Waits until the group is written and its callers answered.
    async fn landed(self) -> bool {
        // A panic in the task (none is expected: library code denies them) left the group's
        // callers with a closed channel, `ShuttingDown`; the next group is decided again.
        self.posted.await.unwrap_or(false)
    }
}

/// Payouts a lane commits between its checkpoints of SQLite's log: a payout writes about a
/// dozen pages to the log, so the log stays below the 1,000 pages at which SQLite would copy it
/// itself, in the commit that passes them, for groups of up to about 80 payouts.
const CHECKPOINT_AFTER_PAYOUTS: usize = 32;

/// A lane's checkpoints of SQLite's log, made between its groups rather than inside a commit.
///
/// SQLite copies its log into the database file on the connection whose commit takes the log
/// past 1,000 pages, before that commit returns: every caller of that group waited for it, 20–40
/// ms on a slow disk, and at 64 writers nearly every other group paid it (BENCHMARKS.md §5). A
/// lane instead starts a checkpoint once it has committed [`CHECKPOINT_AFTER_PAYOUTS`] since
/// its last, on another connection, while it reads and decides the next group, and writes that
/// group once the checkpoint is done: the log is then all copied, so the write starts it again
/// from its beginning (a checkpoint running while the log is appended to seldom finds it all
/// copied, and the log would only grow). The lane waits for it at most
/// `payout_checkpoint_wait_ms_max`; past that the group is written beside it, and the
/// checkpoint stays due, started again once this one is done. A pipelined lane, whose writes
/// overlap its reads, checkpoints only after the groups it writes with nothing decided
/// meanwhile.
#[derive(Default)]
struct Checkpoints {
    since: usize,
    running: Option<tokio::task::JoinHandle<()>>,
}

impl Checkpoints {
    /// Counts a group's payouts; whether a checkpoint is now due (and none is still running).
    fn due_after(&mut self, payouts: usize) -> bool {
        self.since += payouts;
        let still_running = self.running.as_ref().is_some_and(|r| !r.is_finished());
        if self.since < CHECKPOINT_AFTER_PAYOUTS || still_running {
            return false;
        }
        self.since = 0;
        true
    }

    /// After a group is committed: starts a checkpoint if one is due (SQLite only).
    fn after_group(&mut self, shared: &Arc<Shared>, payouts: usize) {
        if !matches!(shared.pool, crate::db::Pool::Sqlite(_)) || !self.due_after(payouts) {
            return;
        }
        let shared = Arc::clone(shared);
        self.running = Some(tokio::spawn(async move {
            if let Err(e) = shared.pool.checkpoint().await {
                // SQLite's own checkpoint, at the next commit past its threshold, follows.
                tracing::debug!(error = %e, "a checkpoint of the log failed");
            }
        }));
    }

    /// Before a group is written: waits for the checkpoint started after an earlier one, at
    /// most `wait`.
    async fn finished(&mut self, wait: std::time::Duration) {
        let Some(running) = self.running.as_mut() else {
            return;
        };
        if tokio::time::timeout(wait, running).await.is_ok() {
            self.running = None;
        } else {
            tracing::debug!("a group is written beside a checkpoint of the log still running");
        }
    }
}

/// Waiting payouts at which a pipelined lane with nothing in flight splits them into two
/// groups, so the second is read and decided while the first is written (below that, one
/// group: each group costs a commit).
const PIPELINE_SPLIT_FROM_PAYOUTS: usize = 16;

/// How many of `waiting` payouts the next group takes. Not pipelined, or nothing in flight
/// and few waiting: all of them. Pipelined with nothing in flight: half of many. A group in
/// flight: about half of all the lane's callers (those waiting and those in flight), so the
/// two groups that take turns — one written while the other is decided — stay about the same
/// size; a lopsided pair would leave one stage waiting on the other.
fn next_group_size(waiting: usize, in_flight: Option<usize>, pipelined: bool, max: usize) -> usize {
    let size = match in_flight {
        None if pipelined && waiting >= PIPELINE_SPLIT_FROM_PAYOUTS => waiting.div_ceil(2),
        None => waiting,
        Some(flying) => (waiting + flying).div_ceil(2).min(waiting),
    };
    size.clamp(1, max.max(1))
}

/// One tenant's payouts, committed a group at a time.
///
/// Pipelined (`StoreOptions::payout_pipeline`), each group is read and decided while the one
/// before it is written, as if that one were already posted (`group::read_and_decide` with
/// `after`): the read, the policy and the write each on a thread of their own (the read and
/// the write on two of the database's connections). A group is posted only once the one before
/// it has landed as decided; if that one was not (another writer moved the chain head, a
/// statement failed), the next is read and decided again.
async fn run_lane(shared: Arc<Shared>, mut jobs: mpsc::Receiver<Job>) {
    let max = shared.payout_batch_max.max(1);
    let pipelined = shared.payout_pipeline;
    let mut batch: Vec<Job> = Vec::with_capacity(max);
    let mut last_group = 1;
    let mut in_flight: Option<InFlight> = None;
    let mut checkpoints = Checkpoints::default();
    loop {
        if batch.is_empty() && in_flight.is_none() {
            if jobs.recv_many(&mut batch, max).await == 0 {
                // The queue is closed and nothing is left.
                return;
            }
        } else {
            // Payouts the last group had no time to decide go first; those waiting join them,
            // but nobody is waited for.
            while batch.len() < max {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
        }
        if batch.is_empty() {
            // Nobody to decide meanwhile: the group in flight lands, and its callers ask again.
            if let Some(flying) = in_flight.take() {
                flying.landed().await;
            }
            continue;
        }
        // A group much smaller than the last one is usually a straggler: the callers the last
        // commit answered are about to ask again. Waiting a moment for them makes one commit
        // (one fsync) of what would be two. A lone caller never waits: its last group was 1.
        // With a group in flight, its write is the wait.
        if in_flight.is_none() && batch.len() < last_group / 2 {
            let deadline = tokio::time::Instant::now() + shared.payout_linger;
            while batch.len() < last_group.min(max) {
                let room = max - batch.len();
                match tokio::time::timeout_at(deadline, jobs.recv_many(&mut batch, room)).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        }
        let waiting = batch.len();
        let size = next_group_size(
            waiting,
            in_flight.as_ref().map(|f| f.payouts),
            pipelined,
            max,
        );
        let rest = batch.split_off(size.min(waiting));
        last_group = batch.len();
        let group = std::mem::take(&mut batch);
        let decided = decide_after(&shared, group, in_flight.take()).await;
        batch = rest;
        let Some((decided, group, left)) = decided else {
            continue;
        };
        // Payouts the group had no time to decide go first.
        batch.splice(0..0, left);
        checkpoints.finished(shared.payout_checkpoint_wait).await;
        if pipelined && !(batch.is_empty() && jobs.is_empty()) {
            let payouts = group.len();
            let loaded = Arc::clone(&decided.loaded);
            let task_shared = Arc::clone(&shared);
            let posted =
                tokio::spawn(async move { post_and_answer(&task_shared, decided, group).await });
            in_flight = Some(InFlight {
                decided: loaded,
                payouts,
                posted,
            });
        } else {
            // Nothing to decide while it is written.
            let payouts = group.len();
            post_and_answer(&shared, decided, group).await;
            checkpoints.after_group(&shared, payouts);
        }
    }
}

/// Decides a group — as if `before`, still in flight, were posted — and waits for `before`
/// to land; decides it again if `before` did not land as decided. Returns the group decided,
/// its payouts that have a result, and those it had no time for; `None` when the group failed
/// as a whole and each payout was answered alone.
async fn decide_after(
    shared: &Shared,
    jobs: Vec<Job>,
    before: Option<InFlight>,
) -> Option<(Decided, Vec<Job>, Vec<Job>)> {
    let after = before.as_ref().map(|f| Arc::clone(&f.decided));
    let mut decided =
        crate::group::read_and_decide(shared, items_of(&jobs), after.as_deref()).await;
    if let Some(before) = before {
        if before.landed().await {
            shared.groups.decided_ahead.fetch_add(1, Ordering::Relaxed);
        } else {
            // What this group assumed did not happen: decide it on the record as it is now.
            shared
                .groups
                .decided_ahead_in_vain
                .fetch_add(1, Ordering::Relaxed);
            decided = crate::group::read_and_decide(shared, items_of(&jobs), None).await;
        }
    }
    match decided {
        Ok(decided) => {
            let mut jobs = jobs;
            let left = jobs.split_off(decided.results.len().min(jobs.len()));
            Some((decided, jobs, left))
        }
        Err(e) => {
            // A failed read or a corrupt record: each payout again, alone.
            one_by_one(shared, jobs, e).await;
            None
        }
    }
}

fn items_of(jobs: &[Job]) -> Vec<Item> {
    jobs.iter()
        .map(|j| (j.request.clone(), j.key.clone()))
        .collect()
}

/// Posts a decided group and answers its callers; returns whether it was posted exactly as
/// decided.
async fn post_and_answer(shared: &Shared, decided: Decided, jobs: Vec<Job>) -> bool {
    match crate::group::post(shared, decided).await {
        Ok((results, as_decided)) => {
            for (job, result) in jobs.into_iter().zip(results) {
                let _ = job.reply.send(result);
            }
            as_decided
        }
        Err(e) => {
            one_by_one(shared, jobs, e).await;
            false
        }
    }
}

/// After a group failed as a whole: a lone payout gets the error; each payout of a larger one
/// is tried again in a group of its own, so one bad request never takes the others down.
async fn one_by_one(shared: &Shared, jobs: Vec<Job>, e: StoreError) {
    if jobs.len() == 1 {
        if let Some(job) = jobs.into_iter().next() {
            let _ = job.reply.send(Err(e));
        }
        return;
    }
    tracing::warn!(error = %e, group = jobs.len(), "a payout group failed; retrying one by one");
    for job in jobs {
        let result = match crate::group::decide_group(
            shared,
            &[(&job.request, job.key.as_ref())],
            crate::group::Mode::Post,
        )
        .await
        {
            Ok(mut results) => results.pop().unwrap_or(Err(StoreError::ShuttingDown)),
            Err(e) => Err(e),
        };
        let _ = job.reply.send(result);
    }
}

#[cfg(test)]
mod checkpoints_tests {
    use super::{CHECKPOINT_AFTER_PAYOUTS, Checkpoints};
    use crate::db::{Pool, PoolLimits};
    use crate::{Store, StoreOptions};
    use std::time::Duration;

    /// A lane's next write waits for its checkpoint only so long: with every connection busy,
    /// the checkpoint waits for one, the lane does not — and the checkpoint stays due, not
    /// started twice, until the one running is done.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_lane_waits_for_its_checkpoint_only_so_long_and_starts_the_next_once_it_is_done() {
        let dir = tempfile::tempdir().expect("a directory");
        let url = format!("sqlite://{}", dir.path().join("log.db").display());
        let options = StoreOptions {
            limits: PoolLimits {
                pool_connections_max: 1,
                ..PoolLimits::default()
            },
            payout_checkpoint_wait_ms_max: 10,
            ..StoreOptions::default()
        };
        let store = Store::open(&url, options).await.expect("a store");
        let Pool::Sqlite(sqlite) = &store.shared.pool else {
            unreachable!("a sqlite:// URL opens SQLite")
        };
        let held = sqlite.acquire().await.expect("the only connection");
        let mut c = Checkpoints::default();
        c.after_group(&store.shared, CHECKPOINT_AFTER_PAYOUTS);
        let wait = store.shared.payout_checkpoint_wait;
        tokio::time::timeout(Duration::from_secs(5), c.finished(wait))
            .await
            .expect("the lane goes on well before the pool's 30 s");
        assert!(
            c.running.is_some(),
            "the checkpoint still waits for a connection"
        );
        assert!(!c.due_after(CHECKPOINT_AFTER_PAYOUTS), "not started twice");
        drop(held);
        c.finished(Duration::from_secs(30)).await;
        assert!(c.running.is_none(), "done once the connection came free");
        assert!(c.due_after(0), "and the next is due at once");
    }

    #[test]
    fn a_checkpoint_is_due_once_enough_payouts_are_committed_since_the_last() {
        let mut c = Checkpoints::default();
        let lone: Vec<bool> = (0..CHECKPOINT_AFTER_PAYOUTS * 2)
            .map(|_| c.due_after(1))
            .collect();
        let due: Vec<usize> = lone
            .iter()
            .enumerate()
            .filter(|(_, d)| **d)
            .map(|(i, _)| i + 1)
            .collect();
        assert_eq!(
            due,
            [CHECKPOINT_AFTER_PAYOUTS, CHECKPOINT_AFTER_PAYOUTS * 2]
        );
        // Groups of 64: after every one.
        assert!((0..5).all(|_| c.due_after(64)));
        // Groups of 20: every second.
        let twenties: Vec<bool> = (0..4).map(|_| c.due_after(20)).collect();
        assert_eq!(twenties, [false, true, false, true]);
    }
}

#[cfg(test)]
mod group_size_tests {
    use super::next_group_size;

    #[test]
    fn a_lane_splits_many_waiting_payouts_only_when_pipelined_and_keeps_its_two_groups_even() {
        // (waiting, in flight, pipelined, max) → the next group's size
        let cases = [
            ((1, None, false), 1),
            ((64, None, false), 64),
            ((300, None, false), 256),
            ((1, None, true), 1),
            ((15, None, true), 15),
            ((16, None, true), 8),
            ((64, None, true), 32),
            ((32, Some(32), true), 32),
            ((5, Some(32), true), 5),
            ((60, Some(4), true), 32),
            ((40, Some(24), true), 32),
            ((600, Some(256), true), 256),
        ];
        for ((waiting, flying, pipelined), size) in cases {
            assert_eq!(
                next_group_size(waiting, flying, pipelined, 256),
                size,
                "{waiting} waiting, {flying:?} in flight, pipelined: {pipelined}"
            );
        }
    }
}
