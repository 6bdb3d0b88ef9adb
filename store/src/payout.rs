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
use crate::idempotency::{Keyed, KeyedPayout};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

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

/// One tenant's payouts, committed a group at a time.
async fn run_lane(shared: Arc<Shared>, mut jobs: mpsc::Receiver<Job>) {
    let max = shared.payout_batch_max;
    let mut batch: Vec<Job> = Vec::with_capacity(max);
    let mut last_group = 1;
    loop {
        if batch.is_empty() {
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
        // A group much smaller than the last one is usually a straggler: the callers the last
        // commit answered are about to ask again. Waiting a moment for them makes one commit
        // (one fsync) of what would be two. A lone caller never waits: its last group was 1.
        if batch.len() < last_group / 2 {
            let deadline = tokio::time::Instant::now() + shared.payout_linger;
            while batch.len() < last_group.min(max) {
                let room = max - batch.len();
                match tokio::time::timeout_at(deadline, jobs.recv_many(&mut batch, room)).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        }
        last_group = batch.len();
        batch = commit_group(&shared, std::mem::take(&mut batch)).await;
    }
}

/// Commits a group; returns the payouts it did not get to (its time to decide ran out).
async fn commit_group(shared: &Shared, jobs: Vec<Job>) -> Vec<Job> {
    let requests: Vec<(&PayoutRequest, Option<&Keyed>)> =
        jobs.iter().map(|j| (&j.request, j.key.as_ref())).collect();
    match crate::group::decide_group(shared, &requests, crate::group::Mode::Post).await {
        Ok(results) => {
            let mut jobs = jobs.into_iter();
            // Results first: `zip` would take (and drop) the first job without a result.
            for result in results {
                if let Some(job) = jobs.next() {
                    let _ = job.reply.send(result);
                }
            }
            return jobs.collect();
        }
        Err(e) if jobs.len() == 1 => {
            if let Some(job) = jobs.into_iter().next() {
                let _ = job.reply.send(Err(e));
            }
        }
        Err(e) => {
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
    }
    Vec::new()
}
