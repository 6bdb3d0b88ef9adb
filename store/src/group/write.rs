//! A group's writes: the ledger entries and balances, the decisions and the idempotency keys
//! its payouts posted — on PostgreSQL in one statement, on SQLite in multi-row statements run
//! in one call.
//!
//! On PostgreSQL that one statement also checks that the tenant's chain head is where the
//! group read it, and writes nothing if not; so a group of one tenant is posted by that
//! statement alone, committing by itself ([`post_unless_moved`]), with no `BEGIN`, lock or
//! `COMMIT` of its own around it. On SQLite the one call begins by moving the head only from
//! where the group read it, between `BEGIN IMMEDIATE` and `COMMIT`.

use super::{Loaded, TenantData};
use crate::db::{Instant, Tx};
use crate::decisions::StoredDecision;
use crate::error::StoreError;
use crate::idempotency::push_keys;
use crate::ledger;
use rust_decimal::Decimal;

/// `push_decisions!(q, c, Db, decisions, at)`, inside `on_tx!`: the statements that write new
/// decisions and their stored inputs, ended with `end_statement!`.
macro_rules! push_decisions {
    ($q:ident, $c:ident, $Db:ident, $decisions:expr, $at:expr) => {{
        let (decisions, at, q) = ($decisions, $at, &mut $q);
        // Each row binds 21 values: keep a statement well under SQLite's limit.
        for chunk in decisions.chunks($crate::ledger::INSERT_ROWS_MAX / 2) {
            q.push(
                "INSERT INTO decisions (id, tenant, member_id, policy_id, policy_version, period, ordinal, supersedes, \
                 input_hash, data_hash, decision_hash, body, reward, premium_adjustment_percent, reward_posted, \
                 premium_posted, qualified, tier, points, ledger_seq, created_at) ",
            );
            q.push_values(chunk, |mut b, (d, _)| {
                b.push_bind(&d.id)
                    .push_bind(&d.tenant)
                    .push_bind(&d.member_id)
                    .push_bind(&d.policy_id)
                    .push_bind(&d.policy_version)
                    .push_bind(&d.period)
                    .push_bind(d.ordinal)
                    .push_bind(&d.supersedes)
                    .push_bind(&d.input_hash)
                    .push_bind(&d.data_hash)
                    .push_bind(&d.decision_hash)
                    .push_bind(&d.body)
                    .push_bind($crate::db::Money(d.reward))
                    .push_bind($crate::db::Money(d.premium_adjustment_percent))
                    .push_bind($crate::db::Money(d.reward_posted))
                    .push_bind($crate::db::Money(d.premium_posted))
                    .push_bind(d.qualified)
                    .push_bind(&d.tier)
                    .push_bind(d.points)
                    .push_bind(d.ledger_seq)
                    .push_bind(at);
            });
            $crate::db::end_statement!(q, $c, $Db);
            q.push("INSERT INTO decision_inputs (decision_id, inputs) ");
            q.push_values(chunk, |mut b, (d, inputs)| {
                b.push_bind(&d.id).push_bind(inputs);
            });
            $crate::db::end_statement!(q, $c, $Db);
        }
    }};
}

/// Writes what the group decided: entries, balances, decisions and keys, in a transaction
/// that holds every tenant's chain head locked where the group read it.
pub(super) async fn write_all(tx: &mut Tx, loaded: &Loaded, at: Instant) -> Result<(), StoreError> {
    for (tenant, d) in &loaded.data {
        if let Tx::Postgres(t) = tx {
            let read = head_read(loaded, tenant)?;
            if !write_in_one_statement(t, tenant, d, read, at).await? {
                return Err(StoreError::Corrupt(format!(
                    "tenant `{tenant}`: the chain head moved while it was locked; nothing was written"
                )));
            }
            continue;
        }
        // Under the head's lock: nothing to check, so always written.
        write_in_one_call(tx, tenant, d, at, None).await?;
    }
    Ok(())
}

/// SQLite: a tenant's part of the group — entries, postings, balances, the head, decisions,
/// their inputs and the keys — as statements gathered into one text, run in one call
/// (`end_statement!`). With `unless_moved`, the text begins by moving the chain head from
/// where the group read it, and the call says whether it found it there: if not, what the
/// rest wrote rests on a record that has moved, and the caller must roll the transaction back
/// (a head already locked, `None`, is where it was read: always `true`).
async fn write_in_one_call(
    tx: &mut Tx,
    tenant: &str,
    d: &TenantData,
    at: Instant,
    unless_moved: Option<&(i64, String)>,
) -> Result<bool, StoreError> {
    let entry_at = ledger::instants_of(&d.entries)?;
    let postings = ledger::lines_of(&d.entries);
    let rows: Vec<(&(ledger::Entry, String), &Instant)> = d.entries.iter().zip(&entry_at).collect();
    let balances = touched_balances(d);
    let Tx::Sqlite(c) = tx else {
        return Err(StoreError::Corrupt(
            "a SQLite write was given a PostgreSQL transaction".into(),
        ));
    };
    let c = &mut **c;
    type Db = sqlx::Sqlite;
    let mut q = sqlx::QueryBuilder::<Db>::new("");
    if let Some(read) = unless_moved {
        // The head to where deciding moved it (the group's last entry; where it was, if the
        // group posted nothing), only from where the group read it.
        q.push("UPDATE chain_heads SET seq = ").push_bind(d.head.0);
        q.push(", hash = ").push_bind(&d.head.1);
        q.push(" WHERE tenant = ").push_bind(tenant);
        q.push(" AND seq = ").push_bind(read.0);
        q.push(" AND hash = ").push_bind(&read.1);
        q.push(";\n");
    }
    if !rows.is_empty() {
        // `d.head` is where deciding moved the head to: the group's last entry.
        ledger::push_ledger_write!(q, c, Db, tenant, &rows, &postings, &balances, &d.head);
    }
    push_decisions!(q, c, Db, &d.new_decisions, at);
    push_keys!(q, c, Db, tenant, &d.new_keys, at);
    // Each statement is ended by `end_statement!`'s `;` and a line break (values are bound,
    // never in the text).
    let statements = q.sql().matches(";\n").count();
    if statements == 0 {
        return Ok(true);
    }
    // A lone payout's text is one of a few, the same payout after payout: kept prepared. A
    // larger group's text (thousands of values) is rarely seen twice, and kept it would hold
    // its compiled program in the connection's cache for nothing.
    let lone = d.new_decisions.len() <= 1;
    let done = crate::db::gathered(c, &mut q, statements, lone).await?;
    Ok(unless_moved.is_none() || done.first().is_some_and(|head| head.changes == 1))
}

/// A group of one tenant: posts it if the tenant's chain head is still where the group read
/// it. `Ok(None)`: not such a group (it is written in a transaction, [`write_all`]);
/// `Ok(Some(false))`: the head moved and nothing was written, so the group must be read and
/// decided again under the lock.
///
/// On PostgreSQL, in one statement that commits by itself: four round trips become one (`BEGIN`, the head's lock, the write and `COMMIT`). The statement is as safe as the transaction it replaces:
/// it locks the head before it writes anything, and a head another writer moved — committed
/// before the statement began, or while it waited for the lock — is not found where it was
/// read, so every row the statement would write is left out.
pub(super) async fn post_unless_moved(
    pool: &crate::db::Pool,
    loaded: &Loaded,
    at: Instant,
) -> Result<Option<bool>, StoreError> {
    let mut tenants = loaded.data.iter();
    let (Some((tenant, d)), None) = (tenants.next(), tenants.next()) else {
        return Ok(None);
    };
    let read = head_read(loaded, tenant)?;
    if nothing_to_write(d) {
        // Answers read from a record that has not moved since.
        let now = ledger::read_head(&mut pool.reads().await?, tenant).await?;
        return Ok(Some(now == *read));
    }
    match pool {
        crate::db::Pool::Postgres(pg) => {
            let mut c = pg.writes.acquire().await?;
            write_in_one_statement(&mut c, tenant, d, read, at)
                .await
                .map(Some)
        }
        crate::db::Pool::Sqlite(_) => {
            // `BEGIN IMMEDIATE`, the write that moves the head only from where it was read,
            // and `COMMIT`: three calls to the driver's thread where locking and reading the
            // head first took four. A head that moved — or a statement that failed, as one
            // writing after a moved head can — undoes the transaction, and the group is read
            // again under the lock ([`super::decide_group`]), where a failure that was not
            // the head's fails again and is reported.
            let mut tx = pool.begin().await?;
            match write_in_one_call(&mut tx, tenant, d, at, Some(read)).await {
                Ok(true) => {
                    tx.commit().await?;
                    Ok(Some(true))
                }
                Ok(false) | Err(_) => {
                    tx.rollback().await?;
                    Ok(Some(false))
                }
            }
        }
    }
}

fn nothing_to_write(d: &TenantData) -> bool {
    d.entries.is_empty() && d.new_decisions.is_empty() && d.new_keys.is_empty()
}

/// Where the group read `tenant`'s chain head.
fn head_read<'l>(loaded: &'l Loaded, tenant: &str) -> Result<&'l (i64, String), StoreError> {
    loaded.heads_read.get(tenant).ok_or_else(|| {
        StoreError::Corrupt(format!(
            "tenant `{tenant}`: a group was decided without its chain head"
        ))
    })
}

/// The new balance of every account the group moved, to write back.
fn touched_balances(d: &TenantData) -> Vec<((String, String), Decimal)> {
    d.touched
        .iter()
        .map(|k| (k.clone(), d.balances.get(k).copied().unwrap_or_default()))
        .collect()
}

/// PostgreSQL: everything a tenant's part of the group posted, in one statement — each
/// table's rows bound as one array a column and spread by `unnest`, each `INSERT` a
/// data-modifying `WITH` clause of the head's `UPDATE`. One round trip where the statements
/// one after another took six or seven (each about a fifth of a millisecond here, as long as
/// the rest of a lone payout's write), and a fixed number of bound values however large the
/// group. The foreign keys among the rows (an input's decision, a true-up's superseded
/// decision) are checked at the statement's end, as they were between statements.
///
/// The first clause locks the chain head only if it is still `read` (a head another writer
/// moved and committed is not found: before the statement began, by its snapshot; while it
/// waited for the lock, by PostgreSQL's re-check of the updated row), and every other clause
/// writes only if it was. Returns whether it was: `false` means nothing was written.
async fn write_in_one_statement(
    t: &mut sqlx::PgConnection,
    tenant: &str,
    d: &TenantData,
    read: &(i64, String),
    at: Instant,
) -> Result<bool, StoreError> {
    if nothing_to_write(d) {
        // Under the head's lock ([`write_all`]): nothing to check, nothing to write.
        return Ok(true);
    }
    let entries: Vec<&ledger::Entry> = d.entries.iter().map(|(e, _)| e).collect();
    let entry_at: Vec<_> = ledger::instants_of(&d.entries)?
        .into_iter()
        .map(Instant::get)
        .collect();
    let postings = ledger::lines_of(&d.entries);
    let balances = touched_balances(d);
    let decisions: Vec<&StoredDecision> = d.new_decisions.iter().map(|(x, _)| x).collect();
    let column =
        |f: fn(&StoredDecision) -> &str| -> Vec<&str> { decisions.iter().map(|x| f(x)).collect() };
    let amounts = |f: fn(&StoredDecision) -> Decimal| -> Vec<Decimal> {
        decisions.iter().map(|x| f(x)).collect()
    };
    let written = sqlx::query(
        "WITH head AS (\
           SELECT 1 FROM chain_heads WHERE tenant = $1 AND seq = $50 AND hash = $51 FOR UPDATE), \
         entries AS (\
           INSERT INTO ledger_entries (tenant, seq, kind, decision_id, decision_hash, policy_id, \
             policy_version, policy_hash, reverses, memo, created_at, prev_hash, hash) \
           SELECT $1, * FROM unnest($2::int8[], $3::text[], $4::text[], $5::text[], $6::text[], \
             $7::text[], $8::text[], $9::int8[], $10::text[], $11::timestamptz[], $12::text[], $13::text[]) \
           WHERE EXISTS (SELECT FROM head)), \
         postings AS (\
           INSERT INTO ledger_postings (tenant, seq, line, account, currency, amount) \
           SELECT $1, * FROM unnest($14::int8[], $15::int8[], $16::text[], $17::text[], $18::numeric[]) \
           WHERE EXISTS (SELECT FROM head)), \
         balances AS (\
           INSERT INTO account_balances (tenant, account, currency, balance) \
           SELECT $1, * FROM unnest($19::text[], $20::text[], $21::numeric[]) \
           WHERE EXISTS (SELECT FROM head) \
           ON CONFLICT (tenant, account, currency) DO UPDATE SET balance = excluded.balance), \
         decided AS (\
           INSERT INTO decisions (id, tenant, member_id, policy_id, policy_version, period, ordinal, \
             supersedes, input_hash, data_hash, decision_hash, body, reward, premium_adjustment_percent, \
             reward_posted, premium_posted, qualified, tier, points, ledger_seq, created_at) \
           SELECT *, $42 FROM unnest($22::text[], $23::text[], $24::text[], $25::text[], $26::text[], \
             $27::text[], $28::int8[], $29::text[], $30::text[], $31::text[], $32::text[], $33::text[], \
             $34::numeric[], $35::numeric[], $36::numeric[], $37::numeric[], $38::bool[], $39::text[], \
             $40::int8[], $41::int8[]) \
           WHERE EXISTS (SELECT FROM head)), \
         inputs AS (\
           INSERT INTO decision_inputs (decision_id, inputs) SELECT * FROM unnest($22::text[], $43::text[]) \
           WHERE EXISTS (SELECT FROM head)), \
         keys AS (\
           INSERT INTO idempotency_keys (tenant, key, request_hash, state, decision_id, kind, created_at, locked_until) \
           SELECT $1, k.key, k.request_hash, 'done', k.decision_id, k.kind, $42, $42 \
           FROM unnest($44::text[], $45::text[], $46::text[], $47::text[]) AS k(key, request_hash, decision_id, kind) \
           WHERE EXISTS (SELECT FROM head)) \
         UPDATE chain_heads SET seq = $48, hash = $49 WHERE tenant = $1 AND EXISTS (SELECT FROM head)",
    )
    .bind(tenant)
    .bind(entries.iter().map(|e| e.seq).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.decision_id.as_deref()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.decision_hash.as_deref()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.policy_id.as_str()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.policy_version.as_str()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.policy_hash.as_str()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.reverses).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.memo.as_str()).collect::<Vec<_>>())
    .bind(entry_at)
    .bind(entries.iter().map(|e| e.prev_hash.as_str()).collect::<Vec<_>>())
    .bind(d.entries.iter().map(|(_, hash)| hash.as_str()).collect::<Vec<_>>())
    .bind(postings.iter().map(|(seq, _, _)| *seq).collect::<Vec<_>>())
    .bind(postings.iter().map(|(_, line, _)| *line).collect::<Vec<_>>())
    .bind(postings.iter().map(|(_, _, p)| p.account.as_str()).collect::<Vec<_>>())
    .bind(postings.iter().map(|(_, _, p)| p.currency.as_str()).collect::<Vec<_>>())
    .bind(postings.iter().map(|(_, _, p)| p.amount).collect::<Vec<_>>())
    .bind(balances.iter().map(|((a, _), _)| a.as_str()).collect::<Vec<_>>())
    .bind(balances.iter().map(|((_, c), _)| c.as_str()).collect::<Vec<_>>())
    .bind(balances.iter().map(|(_, b)| *b).collect::<Vec<_>>())
    .bind(column(|x| x.id.as_str()))
    .bind(column(|x| x.tenant.as_str()))
    .bind(column(|x| x.member_id.as_str()))
    .bind(column(|x| x.policy_id.as_str()))
    .bind(column(|x| x.policy_version.as_str()))
    .bind(column(|x| x.period.as_str()))
    .bind(decisions.iter().map(|x| x.ordinal).collect::<Vec<_>>())
    .bind(decisions.iter().map(|x| x.supersedes.as_deref()).collect::<Vec<_>>())
    .bind(column(|x| x.input_hash.as_str()))
    .bind(column(|x| x.data_hash.as_str()))
    .bind(column(|x| x.decision_hash.as_str()))
    .bind(column(|x| x.body.as_str()))
    .bind(amounts(|x| x.reward))
    .bind(amounts(|x| x.premium_adjustment_percent))
    .bind(amounts(|x| x.reward_posted))
    .bind(amounts(|x| x.premium_posted))
    .bind(decisions.iter().map(|x| x.qualified).collect::<Vec<_>>())
    .bind(decisions.iter().map(|x| x.tier.as_deref()).collect::<Vec<_>>())
    .bind(decisions.iter().map(|x| x.points).collect::<Vec<_>>())
    .bind(decisions.iter().map(|x| x.ledger_seq).collect::<Vec<_>>())
    .bind(at)
    .bind(d.new_decisions.iter().map(|(_, inputs)| inputs.as_str()).collect::<Vec<_>>())
    .bind(d.new_keys.iter().map(|k| k.key.as_str()).collect::<Vec<_>>())
    .bind(d.new_keys.iter().map(|k| k.request_hash.as_str()).collect::<Vec<_>>())
    .bind(d.new_keys.iter().map(|k| k.decision_id.as_str()).collect::<Vec<_>>())
    .bind(d.new_keys.iter().map(|k| k.kind.as_str()).collect::<Vec<_>>())
    .bind(d.head.0)
    .bind(&d.head.1)
    .bind(read.0)
    .bind(&read.1)
    .execute(t)
    .await?;
    Ok(written.rows_affected() == 1)
}
