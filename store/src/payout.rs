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
use crate::error::StoreError;
use crate::idempotency::{Keyed, KeyedPayout};
use incentive_engine::{MemberId, Period};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Pay a member for a period under a policy: whatever version is in effect then.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutRequest {
    pub tenant: String,
    pub member: MemberId,
    pub policy_id: String,
    pub period: Period,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutKind {
    /// The period's first decision, posted now.
    Paid,
    /// The data changed after the period was paid: a new decision, posting the difference.
    TrueUp,
    /// Nothing changed since the period was decided: the decision on record.
    AlreadyDecided,
}

impl PayoutKind {
    /// The name it is written with, in JSON and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Paid => "paid",
            Self::TrueUp => "true_up",
            Self::AlreadyDecided => "already_decided",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PayoutOutcome {
    pub kind: PayoutKind,
    pub decision: StoredDecision,
}

/// A decision as stored, with what it posted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredDecision {
    pub id: String,
    pub tenant: String,
    pub member_id: String,
    pub policy_id: String,
    pub policy_version: String,
    pub period: String,
    /// 0 for the period's first decision, then 1, 2 … for each true-up.
    pub ordinal: i64,
    pub supersedes: Option<String>,
    pub input_hash: String,
    pub data_hash: String,
    pub decision_hash: String,
    /// The engine's decision, canonical JSON: what replay must reproduce byte for byte.
    pub body: String,
    pub reward: Decimal,
    pub premium_adjustment_percent: Decimal,
    /// What this decision posted: the reward, or for a true-up the difference.
    pub reward_posted: Decimal,
    pub premium_posted: Decimal,
    pub qualified: bool,
    pub tier: Option<String>,
    pub points: i64,
    pub ledger_seq: i64,
    pub created_at: String,
    /// The ledger entry that reversed this decision's postings, if an auditor reversed it.
    /// A reversed decision stays on record: asking for its period again with the same data
    /// answers with it (a payment reversed as erroneous is not simply paid again); different
    /// data decides again and posts the new amount in full.
    pub reversed_by: Option<i64>,
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

pub(crate) const DECISION_COLUMNS: &str = "id, tenant, member_id, policy_id, policy_version, period, ordinal, supersedes, \
     input_hash, data_hash, decision_hash, body, reward, premium_adjustment_percent, reward_posted, \
     premium_posted, qualified, tier, points, ledger_seq, created_at, \
     (SELECT r.ledger_seq FROM reversals r WHERE r.decision_id = decisions.id) AS reversed_by";

macro_rules! decision_from_row {
    ($r:expr) => {{
        let r = $r;
        Ok::<_, sqlx::Error>($crate::payout::StoredDecision {
            id: sqlx::Row::try_get(r, 0)?,
            tenant: sqlx::Row::try_get(r, 1)?,
            member_id: sqlx::Row::try_get(r, 2)?,
            policy_id: sqlx::Row::try_get(r, 3)?,
            policy_version: sqlx::Row::try_get(r, 4)?,
            period: sqlx::Row::try_get(r, 5)?,
            ordinal: sqlx::Row::try_get(r, 6)?,
            supersedes: sqlx::Row::try_get(r, 7)?,
            input_hash: sqlx::Row::try_get(r, 8)?,
            data_hash: sqlx::Row::try_get(r, 9)?,
            decision_hash: sqlx::Row::try_get(r, 10)?,
            body: sqlx::Row::try_get(r, 11)?,
            reward: sqlx::Row::try_get::<$crate::db::Money, _>(r, 12)?.0,
            premium_adjustment_percent: sqlx::Row::try_get::<$crate::db::Money, _>(r, 13)?.0,
            reward_posted: sqlx::Row::try_get::<$crate::db::Money, _>(r, 14)?.0,
            premium_posted: sqlx::Row::try_get::<$crate::db::Money, _>(r, 15)?.0,
            qualified: sqlx::Row::try_get(r, 16)?,
            tier: sqlx::Row::try_get(r, 17)?,
            points: sqlx::Row::try_get(r, 18)?,
            ledger_seq: sqlx::Row::try_get(r, 19)?,
            created_at: sqlx::Row::try_get::<$crate::db::Instant, _>(r, 20)?.to_rfc3339(),
            reversed_by: sqlx::Row::try_get(r, 21)?,
        })
    }};
}
pub(crate) use decision_from_row;
