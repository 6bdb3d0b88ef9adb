//! The one function that decides and posts a payout, and the writer that commits payouts in
//! groups.
//!
//! Every payout goes through [`Store::pay`], which hands it to a single writer task per
//! process. The writer takes up to `payout_batch_max` waiting payouts, opens one transaction,
//! locks each tenant's chain head (PostgreSQL: `FOR UPDATE`, so several processes on one
//! database queue behind each other; SQLite: the write lock of `BEGIN IMMEDIATE`), and for
//! each payout, in order: finds the policy version in effect, reads the member's record and
//! history *inside the lock*, evaluates, and appends the decision and its ledger entry. One
//! commit (one fsync) acknowledges the whole group. Because history — what the pool and the
//! member have been paid — is read under the lock, the engine's caps are applied to the true
//! totals: concurrent payouts can never together pass a budget or a cap.
//!
//! A failed statement aborts the group; the writer then retries each payout of the group in a
//! transaction of its own, so one bad request never takes others down with it.

use crate::Shared;
use crate::Store;
use crate::db::{Instant, Money, Tx, on_tx};
use crate::error::StoreError;
use crate::inputs::StoredInputs;
use crate::ledger::{self, EntryDraft, EntryKind, PERCENT_CURRENCY, Posting, sha256_hex};
use crate::members::{load_labs, load_profile, load_readings};
use crate::policies::{compiled_policy, version_in_effect};
use incentive_engine::policy::{EvaluationInput, History, PriorOutcome};
use incentive_engine::{MemberId, Period};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeMap;
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
}

pub(crate) struct Job {
    request: PayoutRequest,
    reply: oneshot::Sender<Result<PayoutOutcome, StoreError>>,
}

impl Store {
    /// Decides and posts a member's payout for a period. Paying a period twice returns the
    /// decision on record; asking again after late readings posts a true-up.
    pub async fn pay(&self, request: PayoutRequest) -> Result<PayoutOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(Job { request, reply })
            .await
            .map_err(|_| StoreError::ShuttingDown)?;
        answer.await.map_err(|_| StoreError::ShuttingDown)?
    }
}

pub(crate) async fn run_writer(shared: Arc<Shared>, mut jobs: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(shared.payout_batch_max);
    while jobs.recv_many(&mut batch, shared.payout_batch_max).await > 0 {
        commit_group(&shared, std::mem::take(&mut batch)).await;
    }
}

async fn commit_group(shared: &Shared, jobs: Vec<Job>) {
    let requests: Vec<&PayoutRequest> = jobs.iter().map(|j| &j.request).collect();
    match try_group(shared, &requests).await {
        Ok(results) => {
            for (job, result) in jobs.into_iter().zip(results) {
                let _ = job.reply.send(result);
            }
        }
        Err(e) if jobs.len() == 1 => {
            if let Some(job) = jobs.into_iter().next() {
                let _ = job.reply.send(Err(e));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, group = jobs.len(), "a payout group failed; retrying one by one");
            for job in jobs {
                let result = match try_group(shared, &[&job.request]).await {
                    Ok(mut results) => results.pop().unwrap_or(Err(StoreError::ShuttingDown)),
                    Err(e) => Err(e),
                };
                let _ = job.reply.send(result);
            }
        }
    }
}

/// Whether an error leaves the transaction unusable (a failed statement), as opposed to a
/// refusal decided before anything was written.
fn aborts_group(e: &StoreError) -> bool {
    matches!(e, StoreError::Database(_) | StoreError::Corrupt(_))
}

async fn try_group(
    shared: &Shared,
    requests: &[&PayoutRequest],
) -> Result<Vec<Result<PayoutOutcome, StoreError>>, StoreError> {
    let mut tx = shared.pool.begin().await?;
    // Heads are locked in tenant order, so two processes never wait on each other in a cycle.
    let mut heads: BTreeMap<&str, Option<(i64, String)>> = BTreeMap::new();
    for r in requests {
        heads.insert(r.tenant.as_str(), None);
    }
    for (tenant, head) in heads.iter_mut() {
        match ledger::lock_head(&mut tx, tenant).await {
            Ok(h) => *head = Some(h),
            Err(StoreError::UnknownTenant(_)) => {}
            Err(e) => return Err(e),
        }
    }
    let at = shared.now();
    let mut results = Vec::with_capacity(requests.len());
    for request in requests {
        let result = match heads.get_mut(request.tenant.as_str()) {
            Some(Some(head)) => decide_and_post(shared, &mut tx, head, at, request).await,
            _ => Err(StoreError::UnknownTenant(request.tenant.clone())),
        };
        if let Err(e) = &result
            && aborts_group(e)
        {
            return Err(result.err().unwrap_or(StoreError::ShuttingDown));
        }
        results.push(result);
    }
    tx.commit().await?;
    Ok(results)
}

/// A decision's id: the same on every backend and every run, for the same payout.
fn decision_id(r: &PayoutRequest, ordinal: i64) -> String {
    let key = format!(
        "{}\n{}\n{}\n{}\n{ordinal}",
        r.tenant,
        r.member.as_str(),
        r.policy_id,
        r.period
    );
    let hash = sha256_hex(key.as_bytes());
    format!("dec_{}", hash.get(7..31).unwrap_or_default())
}

async fn decide_and_post(
    shared: &Shared,
    tx: &mut Tx,
    head: &mut (i64, String),
    at: Instant,
    r: &PayoutRequest,
) -> Result<PayoutOutcome, StoreError> {
    let version = version_in_effect(tx, &r.tenant, &r.policy_id, r.period).await?;
    let policy = compiled_policy(shared, tx, &r.tenant, &r.policy_id, &version).await?;
    let m = &policy.manifest;
    let window = r
        .period
        .window(m.timezone)
        .map_err(|e| StoreError::BadInput {
            field: "period".into(),
            reason: e.to_string(),
        })?;
    let member = load_profile(tx, &r.tenant, &r.member).await?;
    let readings = load_readings(tx, &r.tenant, &r.member, &window).await?;
    let labs = load_labs(tx, &r.tenant, &r.member, window.end.timestamp_millis()).await?;
    let earlier = decisions_for_period(tx, r).await?;
    let posted_reward: Decimal = earlier.iter().map(|d| d.reward_posted).sum();
    let posted_premium: Decimal = earlier.iter().map(|d| d.premium_posted).sum();

    let (outcomes, premium_loading_percent) = prior_outcomes(tx, r).await?;
    let pool_paid = match m.caps.pool_budget {
        Some(budget) => {
            let left = ledger::balance(
                tx,
                &r.tenant,
                &ledger::pool_account(&r.policy_id, &version),
                &m.currency,
            )
            .await?;
            // What others were paid: this member's own payments for this period are what a
            // true-up replaces, so they do not count against it.
            Some(budget - left - posted_reward)
        }
        None => None,
    };
    let inputs = StoredInputs {
        member,
        readings,
        labs,
        history: History {
            outcomes,
            premium_loading_percent,
            pool_paid,
        },
    };
    let data_hash = inputs.data_hash();
    // The same data, or data erased on request since (a true-up against what is left would
    // claw back a reward for no reason but the erasure): the decision on record stands.
    if let Some(latest) = earlier.last()
        && (latest.data_hash == data_hash || inputs_erased(tx, &latest.id).await?)
    {
        return Ok(PayoutOutcome {
            kind: PayoutKind::AlreadyDecided,
            decision: latest.clone(),
        });
    }
    let engine_readings = inputs.readings()?;
    let decision = policy.evaluate(&EvaluationInput {
        member: &inputs.member,
        period: r.period,
        readings: &engine_readings,
        labs: &inputs.labs,
        history: &inputs.history,
    })?;

    let ordinal = i64::try_from(earlier.len()).unwrap_or(i64::MAX);
    let id = decision_id(r, ordinal);
    let body = decision.to_json();
    let decision_hash = sha256_hex(body.as_bytes());
    let reward_delta = decision.reward - posted_reward;
    let premium_delta = decision.premium_adjustment_percent - posted_premium;
    let supersedes = earlier.last().map(|d| d.id.clone());
    let member = r.member.as_str();

    let mut postings = Vec::new();
    if !reward_delta.is_zero() {
        postings.push(Posting {
            account: ledger::pool_account(&r.policy_id, &version),
            currency: m.currency.clone(),
            amount: -reward_delta,
        });
        postings.push(Posting {
            account: ledger::member_rewards_account(member, &r.policy_id),
            currency: m.currency.clone(),
            amount: reward_delta,
        });
    }
    if !premium_delta.is_zero() {
        postings.push(Posting {
            account: ledger::premium_account(&r.policy_id, &version),
            currency: PERCENT_CURRENCY.into(),
            amount: -premium_delta,
        });
        postings.push(Posting {
            account: ledger::member_premium_account(member, &r.policy_id),
            currency: PERCENT_CURRENCY.into(),
            amount: premium_delta,
        });
    }
    let (kind, memo) = match &supersedes {
        None => (
            EntryKind::Payout,
            format!(
                "`{member}` {}: reward {} {}, premium {}%",
                r.period, decision.reward, m.currency, decision.premium_adjustment_percent
            ),
        ),
        Some(first) => (
            EntryKind::TrueUp,
            format!(
                "true-up of `{first}` after the data changed: `{member}` {} reward now {} {} ({:+}), premium now {}% ({:+})",
                r.period,
                decision.reward,
                m.currency,
                reward_delta,
                decision.premium_adjustment_percent,
                premium_delta
            ),
        ),
    };
    let entry = ledger::append(
        tx,
        &r.tenant,
        head,
        at,
        EntryDraft {
            kind,
            decision_id: Some(id.clone()),
            decision_hash: Some(decision_hash.clone()),
            policy_id: r.policy_id.clone(),
            policy_version: version.clone(),
            policy_hash: policy.content_hash.clone(),
            reverses: None,
            memo,
            postings,
        },
    )
    .await?;
    let stored = StoredDecision {
        id,
        tenant: r.tenant.clone(),
        member_id: member.to_owned(),
        policy_id: r.policy_id.clone(),
        policy_version: version,
        period: r.period.to_string(),
        ordinal,
        supersedes,
        input_hash: decision.input_hash.clone(),
        data_hash,
        decision_hash,
        body,
        // Normalised, as every amount read back from the database is (see `Money`).
        reward: decision.reward.normalize(),
        premium_adjustment_percent: decision.premium_adjustment_percent.normalize(),
        reward_posted: reward_delta.normalize(),
        premium_posted: premium_delta.normalize(),
        qualified: decision.qualified,
        tier: decision.tier.clone(),
        points: decision.points,
        ledger_seq: entry.seq,
        created_at: at.to_rfc3339(),
    };
    insert_decision(tx, &stored, at, &inputs).await?;
    let kind = if stored.ordinal == 0 {
        PayoutKind::Paid
    } else {
        PayoutKind::TrueUp
    };
    Ok(PayoutOutcome {
        kind,
        decision: stored,
    })
}

async fn insert_decision(
    tx: &mut Tx,
    d: &StoredDecision,
    at: Instant,
    inputs: &StoredInputs,
) -> Result<(), StoreError> {
    let inputs_json = inputs.to_json();
    on_tx!(tx, c => {
        sqlx::query(
            "INSERT INTO decisions (id, tenant, member_id, policy_id, policy_version, period, ordinal, supersedes, \
             input_hash, data_hash, decision_hash, body, reward, premium_adjustment_percent, reward_posted, \
             premium_posted, qualified, tier, points, ledger_seq, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
        )
        .bind(&d.id)
        .bind(&d.tenant)
        .bind(&d.member_id)
        .bind(&d.policy_id)
        .bind(&d.policy_version)
        .bind(&d.period)
        .bind(d.ordinal)
        .bind(&d.supersedes)
        .bind(&d.input_hash)
        .bind(&d.data_hash)
        .bind(&d.decision_hash)
        .bind(&d.body)
        .bind(Money(d.reward))
        .bind(Money(d.premium_adjustment_percent))
        .bind(Money(d.reward_posted))
        .bind(Money(d.premium_posted))
        .bind(d.qualified)
        .bind(&d.tier)
        .bind(d.points)
        .bind(d.ledger_seq)
        .bind(at)
        .execute(&mut *c)
        .await?;
        sqlx::query("INSERT INTO decision_inputs (decision_id, inputs) VALUES ($1, $2)")
            .bind(&d.id)
            .bind(&inputs_json)
            .execute(&mut *c)
            .await?;
    });
    Ok(())
}

pub(crate) const DECISION_COLUMNS: &str = "id, tenant, member_id, policy_id, policy_version, period, ordinal, supersedes, \
     input_hash, data_hash, decision_hash, body, reward, premium_adjustment_percent, reward_posted, \
     premium_posted, qualified, tier, points, ledger_seq, created_at";

macro_rules! decision_from_row {
    ($r:expr) => {{
        let r = $r;
        Ok::<_, sqlx::Error>(StoredDecision {
            id: r.try_get(0)?,
            tenant: r.try_get(1)?,
            member_id: r.try_get(2)?,
            policy_id: r.try_get(3)?,
            policy_version: r.try_get(4)?,
            period: r.try_get(5)?,
            ordinal: r.try_get(6)?,
            supersedes: r.try_get(7)?,
            input_hash: r.try_get(8)?,
            data_hash: r.try_get(9)?,
            decision_hash: r.try_get(10)?,
            body: r.try_get(11)?,
            reward: r.try_get::<Money, _>(12)?.0,
            premium_adjustment_percent: r.try_get::<Money, _>(13)?.0,
            reward_posted: r.try_get::<Money, _>(14)?.0,
            premium_posted: r.try_get::<Money, _>(15)?.0,
            qualified: r.try_get(16)?,
            tier: r.try_get(17)?,
            points: r.try_get(18)?,
            ledger_seq: r.try_get(19)?,
            created_at: r.try_get::<Instant, _>(20)?.to_rfc3339(),
        })
    }};
}
pub(crate) use decision_from_row;

async fn inputs_erased(tx: &mut Tx, decision_id: &str) -> Result<bool, StoreError> {
    let erased: Option<Option<Instant>> = on_tx!(tx, c => {
        sqlx::query_scalar("SELECT erased_at FROM decision_inputs WHERE decision_id = $1")
            .bind(decision_id)
            .fetch_optional(c)
            .await?
    });
    Ok(matches!(erased, Some(Some(_))))
}

/// The decisions already made for this member, policy and period, first to last.
async fn decisions_for_period(
    tx: &mut Tx,
    r: &PayoutRequest,
) -> Result<Vec<StoredDecision>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {DECISION_COLUMNS} FROM decisions WHERE tenant = $1 AND member_id = $2 AND policy_id = $3 \
         AND period = $4 ORDER BY ordinal"
    ));
    let period = r.period.to_string();
    let rows = on_tx!(tx, c => {
        sqlx::query(sql)
            .bind(&r.tenant)
            .bind(r.member.as_str())
            .bind(&r.policy_id)
            .bind(&period)
            .fetch_all(c)
            .await?
            .iter()
            .map(|row| decision_from_row!(row))
            .collect::<sqlx::Result<Vec<_>>>()?
    });
    Ok(rows)
}

/// The member's outcomes under this policy before the period (the last decision of each), and
/// the premium loading those decisions add up to.
async fn prior_outcomes(
    tx: &mut Tx,
    r: &PayoutRequest,
) -> Result<(Vec<PriorOutcome>, Decimal), StoreError> {
    let period = r.period.to_string();
    type Row = (String, Money, Money, Option<String>, i64, bool, Money);
    let rows: Vec<Row> = on_tx!(tx, c => {
        sqlx::query(
            "SELECT period, reward, premium_adjustment_percent, tier, points, qualified, premium_posted \
             FROM decisions WHERE tenant = $1 AND member_id = $2 AND policy_id = $3 AND period < $4 \
             ORDER BY period, ordinal",
        )
        .bind(&r.tenant)
        .bind(r.member.as_str())
        .bind(&r.policy_id)
        .bind(&period)
        .fetch_all(c)
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?, row.try_get(5)?, row.try_get(6)?)))
        .collect::<sqlx::Result<Vec<_>>>()?
    });
    let mut loading = Decimal::ZERO;
    let mut by_period: BTreeMap<String, PriorOutcome> = BTreeMap::new();
    for (period, reward, premium, tier, points, qualified, premium_posted) in rows {
        loading += premium_posted.0;
        let parsed = Period::parse(&period)
            .map_err(|e| StoreError::Corrupt(format!("a stored decision's period: {e}")))?;
        // Later ordinals replace earlier ones: the last decision of a period is its outcome.
        by_period.insert(
            period,
            PriorOutcome {
                period: parsed,
                reward: reward.0,
                premium_adjustment_percent: premium.0,
                tier,
                points,
                qualified,
            },
        );
    }
    Ok((by_period.into_values().collect(), loading))
}
