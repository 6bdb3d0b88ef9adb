//! What the auditor's check reads besides the entries — the head on record, the decisions,
//! the policy versions — an entry as the walk reads it, and the checks after the walk.

use super::walk::{ReadEntry, RecordedDecision};
use super::{Problem, TenantReport};
use crate::db::{Pool, on_pool};
use crate::error::StoreError;
use crate::ledger::{Posting, sha256_hex};
use crate::ledger_view::{EntryRow, stored_entry_of};
use incentive_engine::policy::content_hash;
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};

/// The chain head on record, if there is one.
pub(super) async fn read_head(
    pool: &Pool,
    tenant: &str,
) -> Result<Option<(i64, String)>, StoreError> {
    Ok(on_pool!(pool, p => {
        sqlx::query("SELECT seq, hash FROM chain_heads WHERE tenant = $1")
            .bind(tenant)
            .fetch_optional(p)
            .await?
            .map(|r| -> sqlx::Result<_> { Ok((r.try_get(0)?, r.try_get(1)?)) })
            .transpose()?
    }))
}

/// The tenant's decisions by id, each with the hash of its body as stored now.
pub(super) async fn recorded_decisions(
    pool: &Pool,
    tenant: &str,
) -> Result<BTreeMap<String, RecordedDecision>, StoreError> {
    let rows: Vec<(String, String, String, i64)> = on_pool!(pool, p => {
        sqlx::query("SELECT id, decision_hash, body, ledger_seq FROM decisions WHERE tenant = $1")
            .bind(tenant)
            .fetch_all(p)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
            .collect::<sqlx::Result<Vec<_>>>()?
    });
    Ok(rows
        .into_iter()
        .map(|(id, hash, body, seq)| {
            let body_hash = sha256_hex(body.as_bytes());
            (
                id,
                RecordedDecision {
                    hash,
                    body_hash,
                    seq,
                },
            )
        })
        .collect())
}

/// A policy version on record, with its stored files as JSON.
pub(super) struct PolicyRow {
    pub(super) id: String,
    pub(super) version: String,
    pub(super) hash: String,
    status: String,
    files: String,
}

pub(super) async fn policy_rows(pool: &Pool, tenant: &str) -> Result<Vec<PolicyRow>, StoreError> {
    Ok(on_pool!(pool, p => {
        sqlx::query("SELECT policy_id, version, content_hash, status, files FROM policy_versions WHERE tenant = $1")
            .bind(tenant)
            .fetch_all(p)
            .await?
            .iter()
            .map(|r| {
                Ok(PolicyRow {
                    id: r.try_get(0)?,
                    version: r.try_get(1)?,
                    hash: r.try_get(2)?,
                    status: r.try_get(3)?,
                    files: r.try_get(4)?,
                })
            })
            .collect::<sqlx::Result<Vec<_>>>()?
    }))
}

/// An entry row and its postings, each with its line number, as the walk reads them.
pub(super) fn read_entry(tenant: &str, row: EntryRow, lines: Vec<(i64, Posting)>) -> ReadEntry {
    let lines_in_order = lines
        .iter()
        .enumerate()
        .all(|(i, (line, _))| i64::try_from(i).is_ok_and(|i| i == *line));
    let stored = stored_entry_of(tenant, row, lines.into_iter().map(|(_, p)| p).collect());
    ReadEntry {
        entry: stored.entry,
        hash: stored.hash,
        lines_in_order,
    }
}

/// The first published policy version whose stored files no longer hash to the content hash
/// its entries name, at the entry that first names it.
pub(super) fn altered_policy(
    rows: &[PolicyRow],
    first_entry_of_policy: &HashMap<(String, String), i64>,
) -> Result<Option<Problem>, StoreError> {
    for row in rows.iter().filter(|r| r.status != "draft") {
        let source = crate::policies::source_from_json(&row.id, &row.files)?;
        let text = |name: &str| {
            source
                .file(name)
                .map(|f| f.text.as_str())
                .unwrap_or_default()
        };
        let actual = content_hash(text("policy.toml"), text("rules.rhai"));
        if actual != row.hash {
            let (id, version) = (&row.id, &row.version);
            return Ok(Some(Problem {
                seq: first_entry_of_policy
                    .get(&(id.clone(), version.clone()))
                    .copied(),
                message: format!(
                    "policy `{id}` version {version} has been altered: its stored files hash to {actual}, not the {} its entries name",
                    row.hash
                ),
            }));
        }
    }
    Ok(None)
}

/// Whether the head on record is where the walk found the entries end.
pub(super) fn head_problem(head: Option<&(i64, String)>, walked: &TenantReport) -> Option<Problem> {
    match head {
        None => Some(Problem {
            seq: None,
            message: "the chain head is missing".into(),
        }),
        Some((seq, hash)) if *seq != walked.head_seq || *hash != walked.head_hash => {
            Some(Problem {
                seq: Some(*seq),
                message: format!(
                    "the chain head records entry {seq} ({hash}) but the entries end at {} ({}): entries were removed or added around the chain",
                    walked.head_seq, walked.head_hash
                ),
            })
        }
        Some(_) => None,
    }
}
