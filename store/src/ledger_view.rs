//! The ledger as an auditor reads it over the API: entries a page at a time, with their
//! postings and hashes (enough to recompute the chain by hand), and account balances.

use crate::Store;
use crate::db::{Instant, Money, on_pool};
use crate::error::StoreError;
use crate::ledger::{Entry, Posting};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeMap;

/// Entries, or balances, one page may hold at most.
pub const LEDGER_PAGE_ROWS_MAX: i64 = 1_000;

/// An entry as stored, with the hash the chain records for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredEntry {
    #[serde(flatten)]
    pub entry: Entry,
    pub hash: String,
}

/// An account's balance: the sum of its postings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Balance {
    pub account: String,
    pub currency: String,
    pub balance: Decimal,
}

/// A `ledger_entries` row: seq, kind, decision id and hash, policy id, version and hash,
/// reverses, memo, created at, prev hash, hash.
pub(crate) type EntryRow = (
    i64,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    Option<i64>,
    String,
    Instant,
    String,
    String,
);

fn page_size(limit: i64) -> Result<i64, StoreError> {
    if (1..=LEDGER_PAGE_ROWS_MAX).contains(&limit) {
        Ok(limit)
    } else {
        Err(StoreError::BadInput {
            field: "limit".into(),
            reason: format!("must be 1 to {LEDGER_PAGE_ROWS_MAX}, not {limit}"),
        })
    }
}

/// Up to `limit` of a tenant's entry rows after entry `after_seq`, in chain order: the page
/// the API shows and the page `verify` checks.
pub(crate) async fn entry_rows(
    pool: &crate::db::Pool,
    tenant: &str,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<EntryRow>, StoreError> {
    Ok(on_pool!(pool, p => {
        sqlx::query(
            "SELECT seq, kind, decision_id, decision_hash, policy_id, policy_version, policy_hash, \
             reverses, memo, created_at, prev_hash, hash FROM ledger_entries \
             WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(tenant)
        .bind(after_seq)
        .bind(limit)
        .fetch_all(p)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?, r.try_get(5)?, r.try_get(6)?, r.try_get(7)?, r.try_get(8)?, r.try_get(9)?, r.try_get(10)?, r.try_get(11)?)))
        .collect::<sqlx::Result<Vec<_>>>()?
    }))
}

/// The postings of entries `after` + 1 to `last`, by entry in line order, each with its line
/// number.
pub(crate) async fn postings_between(
    pool: &crate::db::Pool,
    tenant: &str,
    after: i64,
    last: i64,
) -> Result<BTreeMap<i64, Vec<(i64, Posting)>>, StoreError> {
    let rows: Vec<(i64, i64, String, String, Money)> = on_pool!(pool, p => {
        sqlx::query(
            "SELECT seq, line, account, currency, amount FROM ledger_postings \
             WHERE tenant = $1 AND seq > $2 AND seq <= $3 ORDER BY seq, line",
        )
        .bind(tenant)
        .bind(after)
        .bind(last)
        .fetch_all(p)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?)))
        .collect::<sqlx::Result<Vec<_>>>()?
    });
    let mut postings: BTreeMap<i64, Vec<(i64, Posting)>> = BTreeMap::new();
    for (seq, line, account, currency, amount) in rows {
        postings.entry(seq).or_default().push((
            line,
            Posting {
                account,
                currency,
                amount: amount.0,
            },
        ));
    }
    Ok(postings)
}

/// An entry row with its postings, as stored.
pub(crate) fn stored_entry_of(tenant: &str, row: EntryRow, postings: Vec<Posting>) -> StoredEntry {
    let (
        seq,
        kind,
        decision_id,
        decision_hash,
        policy_id,
        policy_version,
        policy_hash,
        reverses,
        memo,
        created_at,
        prev_hash,
        hash,
    ) = row;
    StoredEntry {
        entry: Entry {
            tenant: tenant.to_owned(),
            seq,
            prev_hash,
            created_at: created_at.to_rfc3339(),
            kind,
            decision_id,
            decision_hash,
            policy_id,
            policy_version,
            policy_hash,
            reverses,
            memo,
            postings,
        },
        hash,
    }
}

impl Store {
    /// Up to `limit` of a tenant's entries after entry `after_seq`, in chain order.
    pub async fn ledger_entries(
        &self,
        tenant: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        let limit = page_size(limit)?;
        let pool = &self.shared.pool;
        let rows = entry_rows(pool, tenant, after_seq, limit).await?;
        let Some(last) = rows.last().map(|r| r.0) else {
            return Ok(Vec::new());
        };
        let mut postings = postings_between(pool, tenant, after_seq, last).await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let lines = postings.remove(&row.0).unwrap_or_default();
                stored_entry_of(tenant, row, lines.into_iter().map(|(_, p)| p).collect())
            })
            .collect())
    }

    /// Up to `limit` balances of a tenant's accounts whose names start with `prefix`, after
    /// account `after` (for the next page), in account order.
    pub async fn ledger_balances(
        &self,
        tenant: &str,
        prefix: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<Balance>, StoreError> {
        let limit = page_size(limit)?;
        let rows: Vec<(String, String, Money)> = on_pool!(&self.shared.pool, p => {
            sqlx::query(
                "SELECT account, currency, balance FROM account_balances \
                 WHERE tenant = $1 AND substr(account, 1, length($2)) = $2 AND account > $3 \
                 ORDER BY account, currency LIMIT $4",
            )
            .bind(tenant)
            .bind(prefix)
            .bind(after)
            .bind(limit)
            .fetch_all(p)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect::<sqlx::Result<Vec<_>>>()?
        });
        Ok(rows
            .into_iter()
            .map(|(account, currency, balance)| Balance {
                account,
                currency,
                balance: balance.0,
            })
            .collect())
    }
}
