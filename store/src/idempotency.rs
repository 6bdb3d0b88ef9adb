//! Idempotency keys: a client retrying a request that moves money gets the first answer back,
//! never a second payout.
//!
//! A keyed payout is looked up and recorded *inside its payout group* ([`Store::pay_keyed`]):
//! the writer reads the group's keys under the tenant's chain-head lock, and a key that
//! answered before is answered again from the decision it names, while a new key is written in
//! the same commit as the decision it answers with. One durable commit per payout, and no
//! window in which a payout is posted but its key is not (or the other way round). Two
//! processes given the same key queue on the chain-head lock, so the second sees the first's
//! row and replays it.
//!
//! An error the group answers with (member not enrolled, no version in effect) moves no money
//! and is recorded just after, by [`Store::idempotency_record_error`]; a request that fails
//! validation before it reaches the store is not recorded at all (as Stripe does), and neither
//! is a failure of the service itself, so a retry runs afresh.

use crate::Store;
use crate::db::{ByKeys, Tx, on_tx};
use crate::decisions::{PayoutKind, PayoutOutcome};
use crate::error::StoreError;
use crate::ledger::INSERT_ROWS_MAX;
use sqlx::FromRow as _;
use std::collections::HashMap;

/// Characters an idempotency key may have.
pub const IDEMPOTENCY_KEY_CHARS_MAX: usize = 255;

/// A client's idempotency key: 1 to [`IDEMPOTENCY_KEY_CHARS_MAX`] printable characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(key: &str) -> Result<Self, StoreError> {
        if key.is_empty() || key.chars().count() > IDEMPOTENCY_KEY_CHARS_MAX {
            return Err(StoreError::BadInput {
                field: "Idempotency-Key".into(),
                reason: format!("must be 1 to {IDEMPOTENCY_KEY_CHARS_MAX} printable characters"),
            });
        }
        incentive_engine::text::visible(key).map_err(|why| StoreError::BadInput {
            field: "Idempotency-Key".into(),
            reason: format!("{why}; use printable characters only"),
        })?;
        Ok(Self(key.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A key and the hash of the request it came with: "the same request" means the same hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keyed {
    pub key: IdempotencyKey,
    pub request_hash: String,
}

/// What a keyed payout came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyedPayout {
    /// Decided now (or the decision on record, for a period already decided); the key now
    /// answers with it.
    Decided(PayoutOutcome),
    /// The key answered with this decision before: answer the same.
    Replayed(PayoutOutcome),
    /// The key answered with an error before: send it again.
    ReplayedError { status: u16, response: String },
    /// The key was used with another request.
    DifferentRequest,
}

/// A key's row, as the payout group reads it.
#[derive(Clone, Debug)]
pub(crate) struct KeyRow {
    pub(crate) request_hash: String,
    pub(crate) answer: KeyAnswer,
}

#[derive(Clone, Debug)]
pub(crate) enum KeyAnswer {
    Decision { id: String, kind: PayoutKind },
    Error { status: u16, response: String },
}

fn kind_parse(s: &str) -> Result<PayoutKind, StoreError> {
    match s {
        "paid" => Ok(PayoutKind::Paid),
        "true_up" => Ok(PayoutKind::TrueUp),
        "already_decided" => Ok(PayoutKind::AlreadyDecided),
        other => Err(StoreError::Corrupt(format!(
            "an idempotency key's answer has kind `{other}`"
        ))),
    }
}

/// A row of [`load_keys`]' statement ([`push_load_keys`]), as read.
pub(crate) type RawKeyRow = (
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
);

pub(crate) fn key_row(raw: RawKeyRow) -> Result<(String, KeyRow), StoreError> {
    let (key, request_hash, status, response, decision_id, kind) = raw;
    let answer = match (decision_id, kind, status, response) {
        (Some(id), Some(kind), _, _) => KeyAnswer::Decision {
            id,
            kind: kind_parse(&kind)?,
        },
        (None, _, Some(status), Some(response)) => KeyAnswer::Error {
            status: u16::try_from(status).unwrap_or(500),
            response,
        },
        _ => {
            return Err(StoreError::Corrupt(format!(
                "idempotency key `{key}` has no answer"
            )));
        }
    };
    Ok((
        key,
        KeyRow {
            request_hash,
            answer,
        },
    ))
}

const KEY_COLUMNS: &str = "key, request_hash, status, response, decision_id, kind";

/// The rows of `keys` in `tenant`, read inside the group's transaction.
pub(crate) async fn load_keys(
    tx: &mut Tx,
    tenant: &str,
    keys: &[&str],
) -> Result<HashMap<String, KeyRow>, StoreError> {
    let mut out = HashMap::new();
    let keep = tx.keeps_prepared();
    for chunk in keys.chunks(INSERT_ROWS_MAX) {
        let rows: Vec<RawKeyRow> = on_tx!(&mut *tx, c, Db => {
            let mut q = sqlx::QueryBuilder::<Db>::new("");
            push_load_keys(&mut q, tenant, chunk);
            q.build().persistent(keep)
                .fetch_all(&mut *c)
                .await?
                .iter()
                .map(RawKeyRow::from_row)
                .collect::<sqlx::Result<Vec<_>>>()?
        });
        for raw in rows {
            let (key, row) = key_row(raw)?;
            out.insert(key, row);
        }
    }
    Ok(out)
}

/// [`load_keys`]' statement for some of the keys, at the end of `q`.
pub(crate) fn push_load_keys<'a, Db: ByKeys>(
    q: &mut sqlx::QueryBuilder<'a, Db>,
    tenant: &'a str,
    keys: &[&'a str],
) {
    let select = format!("SELECT {KEY_COLUMNS} FROM idempotency_keys");
    Db::push_select_by_keys(q, &select, tenant, "key", keys);
    Db::end_by_keys(q);
}

/// A key answered with a decision, to be written with the group.
pub(crate) struct NewKey {
    pub(crate) key: String,
    pub(crate) request_hash: String,
    pub(crate) decision_id: String,
    pub(crate) kind: PayoutKind,
}

/// `push_keys!(q, c, Db, tenant, keys, at)`, inside `on_tx!`: the statements that write the
/// keys a group answered, ended with `end_statement!`.
macro_rules! push_keys {
    ($q:ident, $c:ident, $Db:ident, $tenant:expr, $keys:expr, $at:expr) => {{
        let (tenant, keys, at, q) = ($tenant, $keys, $at, &mut $q);
        for chunk in keys.chunks($crate::ledger::INSERT_ROWS_MAX / 8) {
            q.push(
                "INSERT INTO idempotency_keys (tenant, key, request_hash, state, decision_id, kind, created_at, locked_until) ",
            );
            q.push_values(chunk, |mut b, k| {
                b.push_bind(tenant)
                    .push_bind(&k.key)
                    .push_bind(&k.request_hash)
                    .push_bind("done")
                    .push_bind(&k.decision_id)
                    .push_bind(k.kind.as_str())
                    .push_bind(at)
                    .push_bind(at);
            });
            $crate::db::end_statement!(q, $c, $Db);
        }
    }};
}
pub(crate) use push_keys;

impl Store {
    /// Records that `key` answered with an error (`status`, `response`), unless it has an
    /// answer already — from another process that got there first — in which case that answer
    /// is returned, to be sent instead.
    pub async fn idempotency_record_error(
        &self,
        tenant: &str,
        keyed: &Keyed,
        status: u16,
        response: &str,
    ) -> Result<Option<KeyedPayout>, StoreError> {
        let now = self.shared.now();
        let mut tx = self.shared.pool.begin().await?;
        let written = on_tx!(&mut tx, c => {
            sqlx::query(
                "INSERT INTO idempotency_keys (tenant, key, request_hash, state, status, response, created_at, locked_until) \
                 VALUES ($1, $2, $3, 'done', $4, $5, $6, $6) ON CONFLICT DO NOTHING",
            )
            .bind(tenant)
            .bind(keyed.key.as_str())
            .bind(&keyed.request_hash)
            .bind(i64::from(status))
            .bind(response)
            .bind(now)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        if written == 1 {
            tx.commit().await?;
            return Ok(None);
        }
        let rows = load_keys(&mut tx, tenant, &[keyed.key.as_str()]).await?;
        drop(tx);
        let Some(row) = rows.into_values().next() else {
            return Ok(None);
        };
        self.answer_of(tenant, &keyed.request_hash, row)
            .await
            .map(Some)
    }

    /// What a key answers, read outside any payout group.
    pub async fn idempotency_answer(
        &self,
        tenant: &str,
        keyed: &Keyed,
    ) -> Result<Option<KeyedPayout>, StoreError> {
        let mut tx = self.shared.pool.begin_read().await?;
        let rows = load_keys(&mut tx, tenant, &[keyed.key.as_str()]).await?;
        drop(tx);
        match rows.into_values().next() {
            Some(row) => self
                .answer_of(tenant, &keyed.request_hash, row)
                .await
                .map(Some),
            None => Ok(None),
        }
    }

    async fn answer_of(
        &self,
        tenant: &str,
        request_hash: &str,
        row: KeyRow,
    ) -> Result<KeyedPayout, StoreError> {
        if row.request_hash != request_hash {
            return Ok(KeyedPayout::DifferentRequest);
        }
        Ok(match row.answer {
            KeyAnswer::Decision { id, kind } => KeyedPayout::Replayed(PayoutOutcome {
                kind,
                decision: self.decision(tenant, &id).await?,
            }),
            KeyAnswer::Error { status, response } => {
                KeyedPayout::ReplayedError { status, response }
            }
        })
    }
}
