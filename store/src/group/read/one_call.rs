//! SQLite: a tenant's part of a payout group read in one call to the driver's thread — its
//! keys, the members' profiles, readings and labs, their earlier decisions and the balances
//! their payouts move — rather than six, each two thread hops or more (BENCHMARKS.md §4). The
//! statements and the reading of their rows are the ones each read makes alone; a test holds
//! what this reads to what they read.

use super::{TenantData, add_known, known_of_row, push_load_decisions};
use crate::db::{Instant, gathered};
use crate::decisions::decision_from_row;
use crate::error::StoreError;
use crate::group::Known;
use crate::idempotency::{RawKeyRow, key_row, push_load_keys};
use crate::ledger::{BalanceRow, add_balances, push_balances};
use crate::member_records::{
    LabRow, ProfileRow, add_labs, add_member_readings, profile_from, push_load_labs,
    push_load_profiles, push_load_readings,
};
use sqlx::{FromRow as _, Row as _};

/// The reads of one tenant's payouts: their keys, members, accounts and the span of time
/// their windows cover.
pub(in crate::group) struct Wanted<'w> {
    pub(in crate::group) keys: &'w [&'w str],
    pub(in crate::group) members: &'w [&'w str],
    pub(in crate::group) accounts: &'w [(String, String)],
    pub(in crate::group) span: (i64, i64),
}

/// Reads what `wanted` names into `d`, in one call.
pub(in crate::group) async fn load_in_one_call(
    c: &mut sqlx::SqliteConnection,
    tenant: &str,
    wanted: &Wanted<'_>,
    d: &mut TenantData,
) -> Result<(), StoreError> {
    let names: Vec<&str> = wanted.accounts.iter().map(|(a, _)| a.as_str()).collect();
    let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new("");
    push_load_keys(&mut q, tenant, wanted.keys);
    q.push(";\n");
    push_load_profiles(&mut q, tenant, wanted.members);
    q.push(";\n");
    push_load_readings(&mut q, tenant, wanted.members, wanted.span);
    q.push(";\n");
    push_load_labs(&mut q, tenant, wanted.members, wanted.span.1);
    q.push(";\n");
    push_load_decisions(&mut q, tenant, wanted.members);
    q.push(";\n");
    push_balances(&mut q, tenant, &names);
    q.push(";\n");
    let sets = gathered(c, &mut q, 6, true).await?;
    let [keys, profiles, readings, labs, decisions, balances]: [Vec<_>; 6] = sets
        .into_iter()
        .map(|s| s.rows)
        .collect::<Vec<_>>()
        .try_into()
        .map_err(|_| StoreError::Corrupt("a payout group's reads came back short".into()))?;

    for row in &keys {
        let (key, row) = key_row(RawKeyRow::from_row(row)?)?;
        d.keys.insert(key, row);
    }
    for row in &profiles {
        let (id, profile) = profile_from(ProfileRow::from_row(row)?)?;
        d.profiles.insert(id, profile);
    }
    add_member_readings(&mut d.readings, &readings)?;
    let labs = labs
        .iter()
        .map(LabRow::from_row)
        .collect::<sqlx::Result<Vec<_>>>()?;
    add_labs(&mut d.labs, labs)?;
    let known = decisions
        .iter()
        .map(known_of_row!())
        .collect::<sqlx::Result<Vec<Known>>>()?;
    add_known(&mut d.decisions, known);
    let balances = balances
        .iter()
        .map(BalanceRow::from_row)
        .collect::<sqlx::Result<Vec<_>>>()?;
    add_balances(&mut d.balances, balances);
    Ok(())
}
