//! The auditor's other tools: replay a decision from what it read, export the ledger, and the
//! erasure of a member's readings that must leave both of those honest.

use crate::Store;
use crate::db::{Instant, Money, on_pool, on_tx};
use crate::decisions::{DECISION_COLUMNS, StoredDecision, decision_from_row};
use crate::error::StoreError;
use crate::inputs::StoredInputs;
use crate::policies::compiled_policy;
use incentive_engine::Period;
use incentive_engine::policy::EvaluationInput;
use serde::Serialize;
use sqlx::Row;

/// What replaying one decision showed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Replay {
    /// Re-running the stored policy version on the stored inputs gave the same bytes.
    Identical { decision_id: String },
    /// It gave other bytes: the decision on record does not follow from its inputs.
    Differs {
        decision_id: String,
        recorded: String,
        replayed: String,
    },
    /// The member's readings were erased on request; the decision keeps its input hash and
    /// the metrics it used, but cannot be re-run.
    InputsErased {
        decision_id: String,
        erased_at: String,
    },
    /// The replay could not run (e.g. the stored policy no longer loads).
    Failed { decision_id: String, reason: String },
}

impl Replay {
    pub fn decision_id(&self) -> &str {
        match self {
            Self::Identical { decision_id }
            | Self::Differs { decision_id, .. }
            | Self::InputsErased { decision_id, .. }
            | Self::Failed { decision_id, .. } => decision_id,
        }
    }

    pub fn is_identical(&self) -> bool {
        matches!(self, Self::Identical { .. })
    }
}

/// What an erasure removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Erasure {
    pub readings: u64,
    pub labs: u64,
    /// Decisions whose stored inputs were erased with them.
    pub decisions: u64,
}

impl Store {
    /// One decision by id.
    pub async fn decision(&self, tenant: &str, id: &str) -> Result<StoredDecision, StoreError> {
        let sql = format!("SELECT {DECISION_COLUMNS} FROM decisions WHERE tenant = $1 AND id = $2");
        let row = on_pool!(&self.shared.pool, p => {
            sqlx::query(&sql)
                .bind(tenant)
                .bind(id)
                .fetch_optional(p)
                .await?
                .map(|r| decision_from_row!(&r))
                .transpose()?
        });
        row.ok_or_else(|| StoreError::UnknownDecision(id.to_owned()))
    }

    /// Every decision of a tenant (or of one member), in ledger order.
    pub async fn decisions(
        &self,
        tenant: &str,
        member: Option<&str>,
    ) -> Result<Vec<StoredDecision>, StoreError> {
        let sql = format!(
            "SELECT {DECISION_COLUMNS} FROM decisions WHERE tenant = $1 AND ($2 IS NULL OR member_id = $2) \
             ORDER BY ledger_seq"
        );
        let rows = on_pool!(&self.shared.pool, p => {
            sqlx::query(&sql)
                .bind(tenant)
                .bind(member)
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| decision_from_row!(r))
                .collect::<sqlx::Result<Vec<_>>>()?
        });
        Ok(rows)
    }

    /// Re-runs a decision from its stored inputs and the stored policy version, and compares
    /// the bytes with the decision on record.
    pub async fn replay(&self, decision: &StoredDecision) -> Result<Replay, StoreError> {
        let id = decision.id.clone();
        let row: Option<(Option<String>, Option<Instant>)> = on_pool!(&self.shared.pool, p => {
            sqlx::query("SELECT inputs, erased_at FROM decision_inputs WHERE decision_id = $1")
                .bind(&id)
                .fetch_optional(p)
                .await?
                .map(|r| -> sqlx::Result<_> { Ok((r.try_get(0)?, r.try_get(1)?)) })
                .transpose()?
        });
        let inputs = match row {
            Some((_, Some(erased))) => {
                return Ok(Replay::InputsErased {
                    decision_id: id,
                    erased_at: erased.to_rfc3339(),
                });
            }
            Some((Some(json), None)) => StoredInputs::from_json(&json)?,
            _ => {
                return Ok(Replay::Failed {
                    decision_id: id,
                    reason: "its stored inputs are missing".into(),
                });
            }
        };
        let failed = |reason: String| Replay::Failed {
            decision_id: decision.id.clone(),
            reason,
        };
        let mut tx = self.shared.pool.begin_read().await?;
        let policy = match compiled_policy(
            &self.shared,
            &mut tx,
            &decision.tenant,
            &decision.policy_id,
            &decision.policy_version,
        )
        .await
        {
            Ok(p) => p,
            Err(StoreError::Database(e)) => return Err(StoreError::Database(e)),
            Err(e) => return Ok(failed(e.to_string())),
        };
        tx.commit().await?;
        let period = match Period::parse(&decision.period) {
            Ok(p) => p,
            Err(e) => return Ok(failed(e.to_string())),
        };
        let readings = inputs.readings()?;
        let replayed = match policy.evaluate(&EvaluationInput {
            member: &inputs.member,
            period,
            readings: &readings,
            labs: &inputs.labs,
            history: &inputs.history,
        }) {
            Ok(d) => d.to_json(),
            Err(e) => return Ok(failed(e.to_string())),
        };
        Ok(if replayed == decision.body {
            Replay::Identical { decision_id: id }
        } else {
            Replay::Differs {
                decision_id: id,
                recorded: decision.body.clone(),
                replayed,
            }
        })
    }

    /// Erases a member's readings and lab results, and the inputs stored with their
    /// decisions. The decisions keep their input hash and the metrics they used, and the
    /// ledger still verifies; replaying one says that its inputs were erased.
    pub async fn erase_member_data(
        &self,
        tenant: &str,
        member: &str,
    ) -> Result<Erasure, StoreError> {
        let at = self.shared.now();
        let mut tx = self.shared.pool.begin().await?;
        crate::members::require_member(&mut tx, tenant, member).await?;
        let erasure = on_tx!(&mut tx, c => {
            let readings = sqlx::query("DELETE FROM readings WHERE tenant = $1 AND member_id = $2")
                .bind(tenant)
                .bind(member)
                .execute(&mut *c)
                .await?
                .rows_affected();
            let labs = sqlx::query("DELETE FROM labs WHERE tenant = $1 AND member_id = $2")
                .bind(tenant)
                .bind(member)
                .execute(&mut *c)
                .await?
                .rows_affected();
            let decisions = sqlx::query(
                "UPDATE decision_inputs SET inputs = NULL, erased_at = $1 WHERE erased_at IS NULL AND decision_id IN \
                 (SELECT id FROM decisions WHERE tenant = $2 AND member_id = $3)",
            )
            .bind(at)
            .bind(tenant)
            .bind(member)
            .execute(&mut *c)
            .await?
            .rows_affected();
            Erasure { readings, labs, decisions }
        });
        tx.commit().await?;
        Ok(erasure)
    }

    /// Writes the ledger as CSV, one row per posting (an entry without postings gets one row
    /// with the account empty), in chain order.
    pub async fn export_csv(
        &self,
        tenant: Option<&str>,
        out: impl std::io::Write,
    ) -> Result<u64, StoreError> {
        type ExportRow = (
            String,
            i64,
            Instant,
            String,
            Option<String>,
            String,
            String,
            String,
            Option<i64>,
            Option<String>,
            Option<Money>,
            String,
            String,
        );
        let rows: Vec<ExportRow> = on_pool!(&self.shared.pool, p => {
            sqlx::query(
                "SELECT e.tenant, e.seq, e.created_at, e.kind, e.decision_id, e.policy_id, e.policy_version, \
                 e.memo, p.line, p.account || '|' || p.currency, p.amount, e.prev_hash, e.hash \
                 FROM ledger_entries e LEFT JOIN ledger_postings p ON p.tenant = e.tenant AND p.seq = e.seq \
                 WHERE ($1 IS NULL OR e.tenant = $1) ORDER BY e.tenant, e.seq, p.line",
            )
            .bind(tenant)
            .fetch_all(p)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?, r.try_get(5)?,
                r.try_get(6)?, r.try_get(7)?, r.try_get(8)?, r.try_get(9)?, r.try_get(10)?, r.try_get(11)?, r.try_get(12)?)))
            .collect::<sqlx::Result<Vec<_>>>()?
        });
        let io = |e: csv::Error| StoreError::BadInput {
            field: "export".into(),
            reason: format!("cannot write the CSV: {e}"),
        };
        let mut w = csv::Writer::from_writer(out);
        w.write_record([
            "tenant",
            "seq",
            "created_at",
            "kind",
            "decision_id",
            "policy_id",
            "policy_version",
            "line",
            "account",
            "currency",
            "amount",
            "memo",
            "prev_hash",
            "hash",
        ])
        .map_err(io)?;
        let mut n = 0;
        for (
            tenant,
            seq,
            at,
            kind,
            decision,
            policy,
            version,
            memo,
            line,
            account,
            amount,
            prev,
            hash,
        ) in rows
        {
            let (account, currency) = account
                .as_deref()
                .and_then(|a| a.rsplit_once('|'))
                .map(|(a, c)| (a.to_owned(), c.to_owned()))
                .unwrap_or_default();
            w.write_record([
                tenant,
                seq.to_string(),
                at.to_rfc3339(),
                kind,
                decision.unwrap_or_default(),
                policy,
                version,
                line.map(|l| l.to_string()).unwrap_or_default(),
                account,
                currency,
                amount.map(|a| a.0.to_string()).unwrap_or_default(),
                memo,
                prev,
                hash,
            ])
            .map_err(io)?;
            n += 1;
        }
        w.flush().map_err(|e| io(e.into()))?;
        Ok(n)
    }
}
