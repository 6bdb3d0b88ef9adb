//! The audit ledger: append-only, double-entry, hash-chained per tenant.
//!
//! An entry is one balanced transaction — its postings sum to zero in each currency — tied to
//! what caused it (a decision, a policy's publication). Its hash covers the previous entry's
//! hash and [`canonical_bytes`] of the entry: JSON with fields in a fixed order, decimals
//! normalised (`10`, never `10.00`), instants in UTC at microseconds. Nothing in that form
//! depends on the backend, so the same ledger has the same head on SQLite and PostgreSQL.
//!
//! Appends take the tenant's chain head under a lock (`FOR UPDATE` on PostgreSQL; SQLite's
//! write lock is the database's) inside the caller's transaction, so the chain never forks.
//!
//! Accounts (amounts are signed; a balance is the sum of its postings):
//! - `budget:{policy}@{version}` funds `pool:{policy}@{version}` with the pool budget when the
//!   version is published; the pool's balance is what is left to pay.
//! - `pool:{policy}@{version}` pays `member:{member}:rewards:{policy}` (reward payable).
//! - `premium:{policy}@{version}` and `member:{member}:premium:{policy}`, in the currency `%`:
//!   premium adjustments in percentage points, owed at renewal.

use crate::db::{ByKeys, Instant, Money, Tx, on_tx, run_statements};
use crate::error::StoreError;
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{FromRow as _, Row};
use std::collections::HashMap;

/// The unit premium adjustments are posted in: percentage points of the premium.
pub const PERCENT_CURRENCY: &str = "%";

/// What an entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A policy version became immutable and in effect; its pool is funded.
    PolicyPublished,
    /// The first decision for a member, policy and period.
    Payout,
    /// A later decision for the same period after late data: posts only the difference.
    TrueUp,
    /// Undoes one decision's postings; `reverses` names its entry.
    Reversal,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PolicyPublished => "policy_published",
            Self::Payout => "payout",
            Self::TrueUp => "true_up",
            Self::Reversal => "reversal",
        }
    }
}

/// One line of an entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Posting {
    pub account: String,
    pub currency: String,
    #[serde(serialize_with = "normalized")]
    pub amount: Decimal,
}

fn normalized<S: serde::Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&d.normalize())
}

/// An entry before it has a place in the chain.
#[derive(Clone, Debug)]
pub struct EntryDraft {
    pub kind: EntryKind,
    pub decision_id: Option<String>,
    pub decision_hash: Option<String>,
    pub policy_id: String,
    pub policy_version: String,
    pub policy_hash: String,
    pub reverses: Option<i64>,
    pub memo: String,
    pub postings: Vec<Posting>,
}

/// An entry as stored: the draft plus its place in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub tenant: String,
    pub seq: i64,
    pub prev_hash: String,
    pub created_at: String,
    pub kind: String,
    pub decision_id: Option<String>,
    pub decision_hash: Option<String>,
    pub policy_id: String,
    pub policy_version: String,
    pub policy_hash: String,
    pub reverses: Option<i64>,
    pub memo: String,
    pub postings: Vec<Posting>,
}

/// Version tag at the front of every hashed entry; a new layout gets a new tag.
const ENTRY_LAYOUT: &str = "incentive-ledger-entry-v1";

/// The bytes an entry's hash covers.
pub fn canonical_bytes(entry: &Entry) -> Vec<u8> {
    #[derive(Serialize)]
    struct Canonical<'a> {
        layout: &'static str,
        #[serde(flatten)]
        entry: &'a Entry,
    }
    serde_json::to_vec(&Canonical {
        layout: ENTRY_LAYOUT,
        entry,
    })
    .unwrap_or_default()
}

pub fn entry_hash(entry: &Entry) -> String {
    sha256_hex(&canonical_bytes(entry))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The hash a tenant's chain starts from, before its first entry.
pub fn genesis_hash(tenant: &str) -> String {
    sha256_hex(format!("incentive-ledger-genesis-v1\n{tenant}").as_bytes())
}

/// Whether every currency's postings sum to zero.
pub fn is_balanced(postings: &[Posting]) -> bool {
    let mut sums: Vec<(&str, Decimal)> = Vec::new();
    for p in postings {
        match sums.iter_mut().find(|(c, _)| *c == p.currency) {
            Some((_, s)) => *s += p.amount,
            None => sums.push((&p.currency, p.amount)),
        }
    }
    sums.iter().all(|(_, s)| s.is_zero())
}

/// Creates a tenant's chain head. Called in the transaction that creates the tenant.
pub(crate) async fn start_chain(tx: &mut Tx, tenant: &str) -> Result<(), StoreError> {
    let genesis = genesis_hash(tenant);
    on_tx!(tx, c => {
        sqlx::query("INSERT INTO chain_heads (tenant, seq, hash) VALUES ($1, 0, $2)")
            .bind(tenant)
            .bind(&genesis)
            .execute(c)
            .await?;
    });
    Ok(())
}

/// The tenant's head, locked until the transaction ends.
pub(crate) async fn lock_head(tx: &mut Tx, tenant: &str) -> Result<(i64, String), StoreError> {
    let row = match tx {
        Tx::Sqlite(t) => sqlx::query("SELECT seq, hash FROM chain_heads WHERE tenant = $1")
            .bind(tenant)
            .fetch_optional(&mut **t)
            .await?
            .map(|r| (r.try_get::<i64, _>(0), r.try_get::<String, _>(1))),
        Tx::Postgres(t) => {
            sqlx::query("SELECT seq, hash FROM chain_heads WHERE tenant = $1 FOR UPDATE")
                .bind(tenant)
                .fetch_optional(&mut **t)
                .await?
                .map(|r| (r.try_get::<i64, _>(0), r.try_get::<String, _>(1)))
        }
    };
    match row {
        Some((seq, hash)) => Ok((seq?, hash?)),
        None => Err(StoreError::UnknownTenant(tenant.to_owned())),
    }
}

/// The tenant's chain head as it stands, without locking it: where a group read outside the
/// write lock starts, to be compared with the locked head before anything is written.
pub(crate) async fn read_head(tx: &mut Tx, tenant: &str) -> Result<(i64, String), StoreError> {
    let row: Option<(i64, String)> = on_tx!(tx, c => {
        sqlx::query_as("SELECT seq, hash FROM chain_heads WHERE tenant = $1")
            .bind(tenant)
            .fetch_optional(&mut *c)
            .await?
    });
    row.ok_or_else(|| StoreError::UnknownTenant(tenant.to_owned()))
}

/// Places a draft after the tenant's head and moves the head to it; nothing is written yet.
pub(crate) fn chain(
    tenant: &str,
    head: &mut (i64, String),
    at: Instant,
    draft: EntryDraft,
) -> Result<(Entry, String), StoreError> {
    if !is_balanced(&draft.postings) {
        return Err(StoreError::Corrupt(format!(
            "an entry for `{}` does not balance; nothing was written",
            draft.memo
        )));
    }
    let entry = Entry {
        tenant: tenant.to_owned(),
        seq: head.0 + 1,
        prev_hash: head.1.clone(),
        created_at: at.to_rfc3339(),
        kind: draft.kind.as_str().to_owned(),
        decision_id: draft.decision_id,
        decision_hash: draft.decision_hash,
        policy_id: draft.policy_id,
        policy_version: draft.policy_version,
        policy_hash: draft.policy_hash,
        reverses: draft.reverses,
        memo: draft.memo,
        postings: draft.postings,
    };
    let hash = entry_hash(&entry);
    *head = (entry.seq, hash.clone());
    Ok((entry, hash))
}

/// Rows a multi-row `INSERT` (or keys a read by keys, `db::ByKeys`) carries at most, well under
/// SQLite's 32,766 bound variables. Such inserts are not kept prepared (`persistent(false)`):
/// their text changes with the number of rows, and PostgreSQL plans each with the values it
/// gets rather than falling back to a generic plan that scans whole tables.
pub(crate) const INSERT_ROWS_MAX: usize = 1_000;

/// When each entry was made, as stored.
pub(crate) fn instants_of(entries: &[(Entry, String)]) -> Result<Vec<Instant>, StoreError> {
    entries
        .iter()
        .map(|(e, _)| {
            chrono::DateTime::parse_from_rfc3339(&e.created_at)
                .map(|t| Instant::new(t.with_timezone(&chrono::Utc)))
                .map_err(|_| StoreError::Corrupt(format!("entry {} has a bad time", e.seq)))
        })
        .collect()
}

/// Every posting of `entries` with its entry's sequence number and its line within the entry,
/// as `ledger_postings` keys them.
pub(crate) fn lines_of(entries: &[(Entry, String)]) -> Vec<(i64, i64, &Posting)> {
    entries
        .iter()
        .flat_map(|(e, _)| {
            e.postings
                .iter()
                .enumerate()
                .map(|(line, p)| (e.seq, i64::try_from(line).unwrap_or(i64::MAX), p))
        })
        .collect()
}

/// `push_ledger_write!(q, c, Db, tenant, rows, postings, balances, head)`, inside `on_tx!`:
/// the statements that write chained entries (`rows`: each with its hash and instant) and
/// their postings ([`lines_of`]), the accounts' new balances and the new head, ended with
/// `end_statement!` — so a caller can write more in the same call on SQLite.
macro_rules! push_ledger_write {
    ($q:ident, $c:ident, $Db:ident, $tenant:expr, $rows:expr, $postings:expr, $balances:expr, $head:expr) => {{
        let (tenant, rows, postings, balances, head) = ($tenant, $rows, $postings, $balances, $head);
        let q = &mut $q;
        for chunk in rows.chunks($crate::ledger::INSERT_ROWS_MAX) {
            q.push(
                "INSERT INTO ledger_entries (tenant, seq, kind, decision_id, decision_hash, policy_id, \
                 policy_version, policy_hash, reverses, memo, created_at, prev_hash, hash) ",
            );
            q.push_values(chunk, |mut b, ((e, hash), at)| {
                b.push_bind(tenant)
                    .push_bind(e.seq)
                    .push_bind(&e.kind)
                    .push_bind(&e.decision_id)
                    .push_bind(&e.decision_hash)
                    .push_bind(&e.policy_id)
                    .push_bind(&e.policy_version)
                    .push_bind(&e.policy_hash)
                    .push_bind(e.reverses)
                    .push_bind(&e.memo)
                    .push_bind(**at)
                    .push_bind(&e.prev_hash)
                    .push_bind(hash);
            });
            $crate::db::end_statement!(q, $c, $Db);
        }
        for chunk in postings.chunks($crate::ledger::INSERT_ROWS_MAX) {
            q.push(
                "INSERT INTO ledger_postings (tenant, seq, line, account, currency, amount) ",
            );
            q.push_values(chunk, |mut b, (seq, line, p)| {
                b.push_bind(tenant)
                    .push_bind(*seq)
                    .push_bind(*line)
                    .push_bind(&p.account)
                    .push_bind(&p.currency)
                    .push_bind($crate::db::Money(p.amount));
            });
            $crate::db::end_statement!(q, $c, $Db);
        }
        for chunk in balances.chunks($crate::ledger::INSERT_ROWS_MAX) {
            q.push(
                "INSERT INTO account_balances (tenant, account, currency, balance) ",
            );
            q.push_values(chunk, |mut b, ((account, currency), balance)| {
                b.push_bind(tenant)
                    .push_bind(account)
                    .push_bind(currency)
                    .push_bind($crate::db::Money(*balance));
            });
            q.push(
                " ON CONFLICT (tenant, account, currency) DO UPDATE SET balance = excluded.balance",
            );
            $crate::db::end_statement!(q, $c, $Db);
        }
        q.push("UPDATE chain_heads SET seq = ")
            .push_bind(head.0)
            .push(", hash = ")
            .push_bind(&head.1)
            .push(" WHERE tenant = ")
            .push_bind(tenant);
        $crate::db::end_statement!(q, $c, $Db);
    }};
}
pub(crate) use push_ledger_write;

/// Writes chained entries and their postings, the accounts' new balances and the new head, in
/// a few statements however many entries there are (one call on SQLite). The caller holds the
/// head's lock.
pub(crate) async fn write(
    tx: &mut Tx,
    tenant: &str,
    entries: &[(Entry, String)],
    balances: &[((String, String), Decimal)],
    head: &(i64, String),
) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let at = instants_of(entries)?;
    let postings = lines_of(entries);
    let rows: Vec<(&(Entry, String), &Instant)> = entries.iter().zip(&at).collect();
    on_tx!(tx, c, Db => {
        let mut q = sqlx::QueryBuilder::<Db>::new("");
        push_ledger_write!(q, c, Db, tenant, &rows, &postings, balances, head);
        run_statements!(q, c);
    });
    Ok(())
}

/// The balances of some accounts inside a transaction; an account with no postings yet is
/// absent (its balance is zero).
pub(crate) async fn balances(
    tx: &mut Tx,
    tenant: &str,
    accounts: &[(String, String)],
) -> Result<HashMap<(String, String), Decimal>, StoreError> {
    let mut out = HashMap::new();
    let keep = tx.keeps_prepared();
    for chunk in accounts.chunks(INSERT_ROWS_MAX) {
        let names: Vec<&str> = chunk.iter().map(|(account, _)| account.as_str()).collect();
        let rows: Vec<BalanceRow> = on_tx!(&mut *tx, c, Db => {
            let mut q = sqlx::QueryBuilder::<Db>::new("");
            push_balances(&mut q, tenant, &names);
            q.build().persistent(keep)
                .fetch_all(&mut *c)
                .await?
                .iter()
                .map(BalanceRow::from_row)
                .collect::<sqlx::Result<Vec<_>>>()?
        });
        add_balances(&mut out, rows);
    }
    Ok(out)
}

/// [`balances`]' statement for some of the accounts (by name), at the end of `q`.
pub(crate) fn push_balances<'a, Db: ByKeys>(
    q: &mut sqlx::QueryBuilder<'a, Db>,
    tenant: &'a str,
    accounts: &[&'a str],
) {
    Db::push_select_by_keys(
        q,
        "SELECT account, currency, balance FROM account_balances",
        tenant,
        "account",
        accounts,
    );
    Db::end_by_keys(q);
}

/// A row of [`balances`]' statement: the account, its currency and its balance.
pub(crate) type BalanceRow = (String, String, Money);

/// Rows of [`balances`]' statement, into `out` by account and currency.
pub(crate) fn add_balances(out: &mut HashMap<(String, String), Decimal>, rows: Vec<BalanceRow>) {
    for (account, currency, balance) in rows {
        out.insert((account, currency), balance.0);
    }
}

/// Appends one entry after the tenant's head (which the caller has locked with
/// [`lock_head`]), moving the head and the balances. Returns the entry as stored.
pub(crate) async fn append(
    tx: &mut Tx,
    tenant: &str,
    head: &mut (i64, String),
    at: Instant,
    draft: EntryDraft,
) -> Result<Entry, StoreError> {
    let (entry, hash) = chain(tenant, head, at, draft)?;
    let accounts: Vec<(String, String)> = entry
        .postings
        .iter()
        .map(|p| (p.account.clone(), p.currency.clone()))
        .collect();
    let mut known = balances(tx, tenant, &accounts).await?;
    for p in &entry.postings {
        *known
            .entry((p.account.clone(), p.currency.clone()))
            .or_default() += p.amount;
    }
    let changed: Vec<((String, String), Decimal)> = accounts
        .into_iter()
        .map(|k| {
            let v = known.get(&k).copied().unwrap_or_default();
            (k, v)
        })
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_iter()
        .collect();
    let written = [(entry, hash)];
    write(tx, tenant, &written, &changed, head).await?;
    let [(entry, _)] = written;
    Ok(entry)
}

pub fn pool_account(policy: &str, version: &str) -> String {
    format!("pool:{policy}@{version}")
}
pub fn budget_account(policy: &str, version: &str) -> String {
    format!("budget:{policy}@{version}")
}
pub fn member_rewards_account(member: &str, policy: &str) -> String {
    format!("member:{member}:rewards:{policy}")
}
pub fn premium_account(policy: &str, version: &str) -> String {
    format!("premium:{policy}@{version}")
}
pub fn member_premium_account(member: &str, policy: &str) -> String {
    format!("member:{member}:premium:{policy}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posting(account: &str, currency: &str, amount: i64) -> Posting {
        Posting {
            account: account.into(),
            currency: currency.into(),
            amount: Decimal::new(amount, 2),
        }
    }

    #[test]
    fn an_entry_balances_only_when_every_currency_sums_to_zero() {
        assert!(is_balanced(&[
            posting("pool", "CNY", -1000),
            posting("m", "CNY", 1000),
            posting("premium", "%", 500),
            posting("mp", "%", -500),
        ]));
        assert!(!is_balanced(&[
            posting("pool", "CNY", -1000),
            posting("mp", "%", 1000)
        ]));
        assert!(is_balanced(&[]));
    }

    #[test]
    fn the_hash_does_not_depend_on_how_an_amount_was_written() {
        let mut entry = Entry {
            tenant: "t".into(),
            seq: 1,
            prev_hash: genesis_hash("t"),
            created_at: "2026-03-01T00:00:00.000000Z".into(),
            kind: "payout".into(),
            decision_id: None,
            decision_hash: None,
            policy_id: "p".into(),
            policy_version: "1".into(),
            policy_hash: "sha256:x".into(),
            reverses: None,
            memo: String::new(),
            postings: vec![posting("a", "CNY", 1000)],
        };
        let written_with_two_places = entry_hash(&entry);
        entry.postings = vec![Posting {
            amount: Decimal::new(10, 0),
            ..posting("a", "CNY", 0)
        }];
        assert_eq!(entry_hash(&entry), written_with_two_places);
        entry.postings = vec![posting("a", "CNY", 1001)];
        assert_ne!(entry_hash(&entry), written_with_two_places);
    }
}
