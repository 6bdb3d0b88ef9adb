//! Reversals: an auditor or administrator undoes one decision's postings, with a reason. The
//! decision and its entry stay on record; a new entry posts the opposite amounts and points
//! at the one it reverses. Asking for the period again afterwards posts against what is left.

use crate::Store;
use crate::db::{Money, on_tx};
use crate::decisions::{DECISION_COLUMNS, decision_from_row};
use crate::error::StoreError;
use crate::ledger::{self, EntryDraft, EntryKind, Posting};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::Row;

/// Characters a reason may have: it is shown to auditors and hashed into the ledger.
pub const REVERSAL_REASON_CHARS_MAX: usize = 1_000;

/// What a reversal posted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reversal {
    pub decision_id: String,
    /// The entry that reversed it.
    pub ledger_seq: i64,
    /// The entry it reversed.
    pub reverses: i64,
    pub reward_reversed: Decimal,
    pub premium_reversed: Decimal,
}

impl Store {
    /// Reverses a decision's postings. `by` names who asked (an API key, an operator).
    pub async fn reverse(
        &self,
        tenant: &str,
        decision_id: &str,
        reason: &str,
        by: &str,
    ) -> Result<Reversal, StoreError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > REVERSAL_REASON_CHARS_MAX {
            return Err(StoreError::BadInput {
                field: "reason".into(),
                reason: format!(
                    "a reversal needs a reason of 1 to {REVERSAL_REASON_CHARS_MAX} characters"
                ),
            });
        }
        let at = self.shared.now();
        let mut tx = self.shared.pool.begin().await?;
        let mut head = ledger::lock_head(&mut tx, tenant).await?;
        let sql = format!("SELECT {DECISION_COLUMNS} FROM decisions WHERE tenant = $1 AND id = $2");
        let (decision, reversed, policy_hash, postings) = on_tx!(&mut tx, c => {
            let decision = sqlx::query(&sql)
                .bind(tenant)
                .bind(decision_id)
                .fetch_optional(&mut *c)
                .await?
                .map(|r| decision_from_row!(&r))
                .transpose()?;
            let reversed: Option<i64> = sqlx::query_scalar("SELECT ledger_seq FROM reversals WHERE decision_id = $1")
                .bind(decision_id)
                .fetch_optional(&mut *c)
                .await?;
            let policy_hash: Option<String> = sqlx::query_scalar(
                "SELECT e.policy_hash FROM ledger_entries e JOIN decisions d ON d.tenant = e.tenant AND d.ledger_seq = e.seq \
                 WHERE d.tenant = $1 AND d.id = $2",
            )
            .bind(tenant)
            .bind(decision_id)
            .fetch_optional(&mut *c)
            .await?;
            let postings: Vec<(String, String, Money)> = sqlx::query(
                "SELECT p.account, p.currency, p.amount FROM ledger_postings p JOIN decisions d \
                 ON d.tenant = p.tenant AND d.ledger_seq = p.seq WHERE d.tenant = $1 AND d.id = $2 ORDER BY p.line",
            )
            .bind(tenant)
            .bind(decision_id)
            .fetch_all(&mut *c)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect::<sqlx::Result<Vec<_>>>()?;
            (decision, reversed, policy_hash, postings)
        });
        let Some(decision) = decision else {
            return Err(StoreError::UnknownDecision(decision_id.to_owned()));
        };
        if let Some(seq) = reversed {
            return Err(StoreError::AlreadyReversed {
                decision: decision_id.to_owned(),
                seq,
            });
        }
        let policy_hash = policy_hash.ok_or_else(|| {
            StoreError::Corrupt(format!("decision `{decision_id}` has no ledger entry"))
        })?;
        let postings: Vec<Posting> = postings
            .into_iter()
            .map(|(account, currency, amount)| Posting {
                account,
                currency,
                amount: -amount.0,
            })
            .collect();
        let memo = format!(
            "reversal of `{decision_id}` (`{}` {}) at the request of {by}: {reason}",
            decision.member_id, decision.period
        );
        let entry = ledger::append(
            &mut tx,
            tenant,
            &mut head,
            at,
            EntryDraft {
                kind: EntryKind::Reversal,
                decision_id: Some(decision.id.clone()),
                decision_hash: Some(decision.decision_hash.clone()),
                policy_id: decision.policy_id.clone(),
                policy_version: decision.policy_version.clone(),
                policy_hash,
                reverses: Some(decision.ledger_seq),
                memo,
                postings,
            },
        )
        .await?;
        on_tx!(&mut tx, c => {
            sqlx::query(
                "INSERT INTO reversals (decision_id, tenant, ledger_seq, reason, reversed_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(decision_id)
            .bind(tenant)
            .bind(entry.seq)
            .bind(reason)
            .bind(by)
            .bind(at)
            .execute(c)
            .await?;
        });
        tx.commit().await?;
        Ok(Reversal {
            decision_id: decision.id,
            ledger_seq: entry.seq,
            reverses: decision.ledger_seq,
            reward_reversed: decision.reward_posted,
            premium_reversed: decision.premium_posted,
        })
    }
}
