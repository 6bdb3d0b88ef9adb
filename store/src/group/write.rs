//! A group's writes: the ledger entries and balances, the decisions and the idempotency keys
//! its payouts posted, in multi-row statements.

use super::Loaded;
use crate::db::{Instant, Money, Tx, on_tx};
use crate::decisions::StoredDecision;
use crate::error::StoreError;
use crate::idempotency::insert_keys;
use crate::ledger::{self, INSERT_ROWS_MAX};
use rust_decimal::Decimal;

/// Writes what the group decided: entries, balances, decisions and keys.
pub(super) async fn write_all(tx: &mut Tx, loaded: &Loaded, at: Instant) -> Result<(), StoreError> {
    for (tenant, d) in &loaded.data {
        let balances: Vec<((String, String), Decimal)> = d
            .touched
            .iter()
            .map(|k| (k.clone(), d.balances.get(k).copied().unwrap_or_default()))
            .collect();
        // `d.head` is where deciding moved the head to: the group's last entry.
        ledger::write(tx, tenant, &d.entries, &balances, &d.head).await?;
        insert_decisions(tx, &d.new_decisions, at).await?;
        insert_keys(tx, tenant, &d.new_keys, at).await?;
    }
    Ok(())
}

async fn insert_decisions(
    tx: &mut Tx,
    decisions: &[(StoredDecision, String)],
    at: Instant,
) -> Result<(), StoreError> {
    // Each row binds 21 values: keep a statement well under SQLite's limit.
    for chunk in decisions.chunks(INSERT_ROWS_MAX / 2) {
        on_tx!(&mut *tx, c, Db => {
            let mut q = sqlx::QueryBuilder::<Db>::new(
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
                    .push_bind(Money(d.reward))
                    .push_bind(Money(d.premium_adjustment_percent))
                    .push_bind(Money(d.reward_posted))
                    .push_bind(Money(d.premium_posted))
                    .push_bind(d.qualified)
                    .push_bind(&d.tier)
                    .push_bind(d.points)
                    .push_bind(d.ledger_seq)
                    .push_bind(at);
            });
            q.build().persistent(false).execute(&mut *c).await?;
            let mut q = sqlx::QueryBuilder::<Db>::new("INSERT INTO decision_inputs (decision_id, inputs) ");
            q.push_values(chunk, |mut b, (d, inputs)| {
                b.push_bind(&d.id).push_bind(inputs);
            });
            q.build().persistent(false).execute(&mut *c).await?;
        });
    }
    Ok(())
}
