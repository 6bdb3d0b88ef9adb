//! A group's reads: the chain heads, the versions in effect, and what each tenant's payouts
//! read — the members' records ([`crate::member_records`]), the members of cap groups,
//! earlier decisions, keys and balances — in a few set-based queries a tenant.

use super::{InEffect, Item, Known, Loaded, TenantData, accounts_of, group_of};
use crate::Shared;
use crate::db::{ByKeys, Instant, Tx, on_tx};
use crate::decisions::{DECISION_COLUMNS, PayoutRequest, decision_from_row};
use crate::error::StoreError;
use crate::idempotency::load_keys;
use crate::ledger::{self, INSERT_ROWS_MAX};
use crate::member_records::{load_member_records, load_profiles};
use crate::policies::{head_and_policy_in_effect, policy_in_effect};
use incentive_engine::Period;
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet, HashMap};

mod one_call;
use one_call::{Wanted, load_in_one_call};

/// Whether [`load`] reads the chain heads or locks them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Heads {
    Read,
    Locked,
}

/// The version in effect for each (tenant, policy, period), compiled; `None` where there is none.
type Versions = HashMap<(String, String, Period), Option<InEffect>>;

/// Loads what the group reads, in a few set-based queries per tenant.
pub(super) async fn load(
    shared: &Shared,
    tx: &mut Tx,
    items: &[Item],
    heads: Heads,
) -> Result<Loaded, StoreError> {
    let mut loaded = load_heads(shared, tx, items, heads).await?;
    load_versions(shared, tx, items, &mut loaded).await?;
    let Loaded { data, versions, .. } = &mut loaded;
    for (tenant, d) in data.iter_mut() {
        let wants = Wants::of(tenant, items, versions);
        load_tenant(tx, tenant, &wants, d).await?;
    }
    Ok(loaded)
}

/// Each known tenant's chain head, read or locked, in tenant order so two processes never wait
/// on each other in a cycle. Read, a head comes with its first payout's version in effect, in
/// one statement.
async fn load_heads(
    shared: &Shared,
    tx: &mut Tx,
    items: &[Item],
    heads: Heads,
) -> Result<Loaded, StoreError> {
    let tenants: BTreeSet<&str> = items.iter().map(|(r, _)| r.tenant.as_str()).collect();
    let mut loaded = Loaded {
        data: BTreeMap::new(),
        versions: HashMap::new(),
        heads_read: BTreeMap::new(),
    };
    for tenant in &tenants {
        let head = match (heads, items.iter().find(|(r, _)| r.tenant == *tenant)) {
            (Heads::Read, Some((r, _))) => {
                head_and_policy_in_effect(shared, tx, tenant, &r.policy_id, r.period)
                    .await
                    .and_then(|(head, version)| {
                        let key = (r.tenant.clone(), r.policy_id.clone(), r.period);
                        loaded.versions.insert(key, in_effect(version)?);
                        Ok(head)
                    })
            }
            (Heads::Read, None) => ledger::read_head(tx, tenant).await,
            (Heads::Locked, _) => ledger::lock_head(tx, tenant).await,
        };
        match head {
            Ok(head) => {
                loaded.heads_read.insert((*tenant).to_owned(), head.clone());
                loaded.data.insert(
                    (*tenant).to_owned(),
                    TenantData {
                        head,
                        ..TenantData::default()
                    },
                );
            }
            Err(StoreError::UnknownTenant(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(loaded)
}

/// The version in effect for each payout of a known tenant not read with its head.
async fn load_versions(
    shared: &Shared,
    tx: &mut Tx,
    items: &[Item],
    loaded: &mut Loaded,
) -> Result<(), StoreError> {
    for (r, _) in items {
        let key = (r.tenant.clone(), r.policy_id.clone(), r.period);
        if loaded.versions.contains_key(&key) || !loaded.data.contains_key(&r.tenant) {
            continue;
        }
        let found = policy_in_effect(shared, tx, &r.tenant, &r.policy_id, r.period).await;
        loaded.versions.insert(key, in_effect(found)?);
    }
    Ok(())
}

/// What one tenant's payouts in a group read.
struct Wants<'a> {
    /// The payouts with a version in effect, with it; the others read nothing more.
    in_effect: Vec<(&'a PayoutRequest, &'a InEffect)>,
    /// Their idempotency keys and members, each once and in order.
    keys: Vec<&'a str>,
    members: Vec<&'a str>,
    /// The accounts their payouts move, by (name, currency).
    accounts: Vec<(String, String)>,
    /// The span of time their windows cover, in Unix milliseconds, for one readings query.
    span: Option<(i64, i64)>,
    /// Whether any has a cap group (`[caps] group`), whose members are read once the
    /// payouts' own profiles are in.
    grouped: bool,
}

impl<'a> Wants<'a> {
    fn of(tenant: &str, items: &'a [Item], versions: &'a Versions) -> Self {
        let mine = || items.iter().filter(move |(r, _)| r.tenant == tenant);
        let keys = mine()
            .filter_map(|(_, k)| k.as_ref().map(|k| k.key.as_str()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let members = mine()
            .map(|(r, _)| r.member.as_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let in_effect: Vec<(&PayoutRequest, &InEffect)> = mine()
            .filter_map(|(r, _)| {
                match versions.get(&(r.tenant.clone(), r.policy_id.clone(), r.period)) {
                    Some(Some(found)) => Some((r, found)),
                    _ => None,
                }
            })
            .collect();
        let mut span: Option<(i64, i64)> = None;
        let mut accounts = BTreeSet::new();
        for (r, (version, policy)) in &in_effect {
            if let Ok(w) = r.period.window(policy.manifest.timezone) {
                let (s, e) = (w.start.timestamp_millis(), w.end.timestamp_millis());
                span = Some(span.map_or((s, e), |(a, b)| (a.min(s), b.max(e))));
            }
            accounts.extend(accounts_of(r, version, &policy.manifest.currency));
        }
        let grouped = in_effect
            .iter()
            .any(|(_, (_, policy))| policy.manifest.caps.group.is_some());
        Wants {
            in_effect,
            keys,
            members,
            accounts: accounts.into_iter().collect(),
            span,
            grouped,
        }
    }
}

/// Loads what one tenant's payouts read into `d`: in one call on SQLite where no read depends
/// on another, else read by read.
async fn load_tenant(
    tx: &mut Tx,
    tenant: &str,
    w: &Wants<'_>,
    d: &mut TenantData,
) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    if let (Tx::Sqlite(c), Some(span), false) = (&mut *tx, w.span, w.grouped)
        && [w.keys.len(), w.members.len(), w.accounts.len()]
            .iter()
            .all(|n| *n <= INSERT_ROWS_MAX)
    {
        // No cap groups, so nothing read depends on another read: one call.
        let wanted = Wanted {
            keys: &w.keys,
            members: &w.members,
            accounts: &w.accounts,
            span,
        };
        load_in_one_call(c, tenant, &wanted, d).await?;
        tracing::trace!(
            tenant,
            members = w.members.len(),
            records_us = started.elapsed().as_micros(),
            "payout group loaded in one call"
        );
        return Ok(());
    }
    if !w.keys.is_empty() {
        d.keys = load_keys(tx, tenant, &w.keys).await?;
    }
    if let Some(span) = w.span {
        let records = load_member_records(tx, tenant, &w.members, span).await?;
        (d.profiles, d.readings, d.labs) = (records.profiles, records.readings, records.labs);
    } else {
        d.profiles = load_profiles(tx, tenant, &w.members).await?;
    }
    let records = started.elapsed();
    load_cap_groups(tx, tenant, w, d).await?;
    let everyone: Vec<&str> = w
        .members
        .iter()
        .copied()
        .chain(d.groups.values().flatten().map(String::as_str))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    d.decisions = load_decisions(tx, tenant, &everyone).await?;
    let decisions = started.elapsed();
    d.balances = ledger::balances(tx, tenant, &w.accounts).await?;
    tracing::trace!(
        tenant,
        members = w.members.len(),
        records_us = records.as_micros(),
        decisions_us = (decisions - records).as_micros(),
        balances_us = (started.elapsed() - decisions).as_micros(),
        "payout group loaded"
    );
    Ok(())
}

/// The members of each payout's cap group, whose payments this year count against its cap,
/// into `d.groups`; the payouts' own profiles are read already.
async fn load_cap_groups(
    tx: &mut Tx,
    tenant: &str,
    w: &Wants<'_>,
    d: &mut TenantData,
) -> Result<(), StoreError> {
    let mut wanted: BTreeSet<(String, String)> = BTreeSet::new();
    for (r, (_, policy)) in &w.in_effect {
        if let Some(g) = &policy.manifest.caps.group
            && let Some(value) = group_of(d.profiles.get(r.member.as_str()), &g.attribute)
        {
            wanted.insert((g.attribute.clone(), value.to_owned()));
        }
    }
    for (attribute, value) in wanted {
        let mates = load_group(tx, tenant, &attribute, &value).await?;
        d.groups.insert((attribute, value), mates);
    }
    Ok(())
}

/// A version in effect, `None` where there is none; any other failure is the group's.
fn in_effect(found: Result<InEffect, StoreError>) -> Result<Option<InEffect>, StoreError> {
    match found {
        Ok(found) => Ok(Some(found)),
        Err(StoreError::NoVersionInEffect { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The members whose text attribute `attribute` is `value`.
async fn load_group(
    tx: &mut Tx,
    tenant: &str,
    attribute: &str,
    value: &str,
) -> Result<Vec<String>, StoreError> {
    Ok(on_tx!(&mut *tx, c => {
        sqlx::query_scalar(
            "SELECT member_id FROM member_groups WHERE tenant = $1 AND attribute = $2 AND value = $3 ORDER BY member_id",
        )
        .bind(tenant)
        .bind(attribute)
        .bind(value)
        .fetch_all(&mut *c)
        .await?
    }))
}

async fn load_decisions(
    tx: &mut Tx,
    tenant: &str,
    members: &[&str],
) -> Result<HashMap<(String, String), Vec<Known>>, StoreError> {
    let mut out: HashMap<(String, String), Vec<Known>> = HashMap::new();
    let keep = tx.keeps_prepared();
    for chunk in members.chunks(INSERT_ROWS_MAX) {
        let rows: Vec<Known> = on_tx!(&mut *tx, c, Db => {
            let mut q = sqlx::QueryBuilder::<Db>::new("");
            push_load_decisions(&mut q, tenant, chunk);
            q.build().persistent(keep)
                .fetch_all(&mut *c)
                .await?
                .iter()
                .map(known_of_row!())
                .collect::<sqlx::Result<Vec<_>>>()?
        });
        add_known(&mut out, rows);
    }
    Ok(out)
}

/// [`load_decisions`]' statement for some of the members, at the end of `q`.
fn push_load_decisions<'a, Db: ByKeys>(
    q: &mut sqlx::QueryBuilder<'a, Db>,
    tenant: &'a str,
    members: &[&'a str],
) {
    let select = format!(
        "SELECT {DECISION_COLUMNS}, (SELECT erased_at FROM decision_inputs i WHERE i.decision_id = decisions.id) \
         FROM decisions"
    );
    Db::push_select_by_keys(q, &select, tenant, "member_id", members);
    Db::end_by_keys(q);
    q.push(" ORDER BY period, ordinal");
}

/// A row of [`push_load_decisions`]' statement on either backend, as a [`Known`] decision.
macro_rules! known_of_row {
    () => {
        |r| -> sqlx::Result<Known> {
            let decision = decision_from_row!(r)?;
            let erased: Option<Instant> = r.try_get(22)?;
            let reversed = decision.reversed_by.is_some();
            Ok(Known {
                decision,
                erased: erased.is_some(),
                reversed,
            })
        }
    };
}
use known_of_row;

/// Known decisions, into `out` by member and policy, in the order read.
fn add_known(out: &mut HashMap<(String, String), Vec<Known>>, rows: Vec<Known>) {
    for k in rows {
        out.entry((k.decision.member_id.clone(), k.decision.policy_id.clone()))
            .or_default()
            .push(k);
    }
}

#[cfg(test)]
mod plans_tests;

#[cfg(test)]
pub(super) mod one_call_tests;
