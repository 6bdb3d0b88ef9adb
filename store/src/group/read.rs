//! A group's reads: the chain heads, the versions in effect, and what each tenant's payouts
//! read — profiles, readings, labs, the members of cap groups, earlier decisions, keys and
//! balances — in a few set-based queries a tenant.

use super::{Item, Known, Loaded, TenantData, accounts_of, group_of};
use crate::Shared;
use crate::db::{Instant, Money, Tx, on_tx, push_in};
use crate::decisions::{DECISION_COLUMNS, PayoutRequest, decision_from_row};
use crate::error::StoreError;
use crate::idempotency::load_keys;
use crate::inputs::StoredReading;
use crate::ledger::{self, INSERT_ROWS_MAX};
use crate::policies::policy_in_effect;
use chrono::{DateTime, FixedOffset};
use incentive_engine::policy::MemberProfile;
use incentive_engine::{Hba1c, LabResult, MemberId};
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Whether [`load`] reads the chain heads or locks them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Heads {
    Read,
    Locked,
}

/// Loads what the group reads, in a few set-based queries per tenant.
pub(super) async fn load(
    shared: &Shared,
    tx: &mut Tx,
    items: &[Item],
    heads: Heads,
) -> Result<Loaded, StoreError> {
    // Heads are locked in tenant order, so two processes never wait on each other in a cycle.
    let tenants: BTreeSet<&str> = items.iter().map(|(r, _)| r.tenant.as_str()).collect();
    let mut loaded = Loaded {
        data: BTreeMap::new(),
        versions: HashMap::new(),
        heads_read: BTreeMap::new(),
    };
    for tenant in &tenants {
        let head = match heads {
            Heads::Locked => ledger::lock_head(tx, tenant).await,
            Heads::Read => ledger::read_head(tx, tenant).await,
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

    // The version in effect for each (tenant, policy, period), and its compiled policy.
    for (r, _) in items {
        let key = (r.tenant.clone(), r.policy_id.clone(), r.period);
        if loaded.versions.contains_key(&key) || !loaded.data.contains_key(&r.tenant) {
            continue;
        }
        let found = match policy_in_effect(shared, tx, &r.tenant, &r.policy_id, r.period).await {
            Ok(found) => Some(found),
            Err(StoreError::NoVersionInEffect { .. }) => None,
            Err(e) => return Err(e),
        };
        loaded.versions.insert(key, found);
    }

    for (tenant, d) in loaded.data.iter_mut() {
        let mine: Vec<&PayoutRequest> = items
            .iter()
            .map(|(r, _)| r)
            .filter(|r| r.tenant == *tenant)
            .collect();
        let keys: Vec<&str> = items
            .iter()
            .filter(|(r, _)| r.tenant == *tenant)
            .filter_map(|(_, k)| k.as_ref().map(|k| k.key.as_str()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if !keys.is_empty() {
            d.keys = load_keys(tx, tenant, &keys).await?;
        }
        let members: Vec<&str> = mine
            .iter()
            .map(|r| r.member.as_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        // The span of time the group's windows cover, for one readings query.
        let mut span: Option<(i64, i64)> = None;
        let mut accounts = BTreeSet::new();
        for r in &mine {
            let Some(Some((version, policy))) =
                loaded
                    .versions
                    .get(&(r.tenant.clone(), r.policy_id.clone(), r.period))
            else {
                continue;
            };
            if let Ok(w) = r.period.window(policy.manifest.timezone) {
                let (s, e) = (w.start.timestamp_millis(), w.end.timestamp_millis());
                span = Some(span.map_or((s, e), |(a, b)| (a.min(s), b.max(e))));
            }
            accounts.extend(accounts_of(r, version, &policy.manifest.currency));
        }
        let ta = std::time::Instant::now();
        d.profiles = load_profiles(tx, tenant, &members).await?;
        let tb = ta.elapsed();
        if let Some((start, end)) = span {
            d.readings = load_readings(tx, tenant, &members, start, end).await?;
            d.labs = load_labs(tx, tenant, &members, end).await?;
        }
        let tc = ta.elapsed();
        // The members of each payout's group, whose payments this year count against its cap.
        let mut wanted: BTreeSet<(String, String)> = BTreeSet::new();
        for r in &mine {
            let Some(Some((_, policy))) =
                loaded
                    .versions
                    .get(&(r.tenant.clone(), r.policy_id.clone(), r.period))
            else {
                continue;
            };
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
        let everyone: Vec<&str> = members
            .iter()
            .copied()
            .chain(d.groups.values().flatten().map(String::as_str))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        d.decisions = load_decisions(tx, tenant, &everyone).await?;
        let td = ta.elapsed();
        let accounts: Vec<(String, String)> = accounts.into_iter().collect();
        d.balances = ledger::balances(tx, tenant, &accounts).await?;
        tracing::trace!(
            tenant,
            members = members.len(),
            profiles_us = tb.as_micros(),
            readings_and_labs_us = (tc - tb).as_micros(),
            decisions_us = (td - tc).as_micros(),
            balances_us = (ta.elapsed() - td).as_micros(),
            "payout group loaded"
        );
    }
    Ok(loaded)
}

pub(crate) async fn load_profiles(
    tx: &mut Tx,
    tenant: &str,
    members: &[&str],
) -> Result<HashMap<String, MemberProfile>, StoreError> {
    type Row = (
        String,
        Option<i64>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<bool>,
        Option<String>,
        Option<String>,
    );
    let mut rows: Vec<Row> = Vec::new();
    let keep = tx.keeps_prepared();
    for chunk in members.chunks(INSERT_ROWS_MAX) {
        rows.extend(on_tx!(&mut *tx, c, Db => {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "SELECT member_id, age, sex, region, diabetes_type, insulin, enrolled_on, attributes FROM members WHERE tenant = ",
            );
            q.push_bind(tenant);
            push_in!(q, "member_id", chunk);
            q.build().persistent(keep)
                .fetch_all(&mut *c)
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?, r.try_get(5)?, r.try_get(6)?, r.try_get(7)?)))
                .collect::<sqlx::Result<Vec<Row>>>()?
        }));
    }
    rows.into_iter()
        .map(
            |(id, age, sex, region, diabetes_type, insulin, enrolled_on, attributes)| {
                let corrupt =
                    |what: &str| StoreError::Corrupt(format!("member `{id}`: bad {what}"));
                let profile = MemberProfile {
                    id: MemberId::parse(&id).map_err(|_| corrupt("id"))?,
                    age: age
                        .map(u32::try_from)
                        .transpose()
                        .map_err(|_| corrupt("age"))?,
                    sex,
                    region,
                    diabetes_type,
                    insulin,
                    enrolled_on: enrolled_on
                        .map(|d| d.parse())
                        .transpose()
                        .map_err(|_| corrupt("enrolment date"))?,
                    attributes: attributes
                        .map(|a| serde_json::from_str(&a))
                        .transpose()
                        .map_err(|_| corrupt("attributes"))?
                        .unwrap_or_default(),
                };
                Ok((id, profile))
            },
        )
        .collect()
}

/// A row of [`load_readings`] on either backend: the member, then the reading's columns.
macro_rules! member_reading {
    () => {
        |r| -> sqlx::Result<(String, StoredReading)> {
            Ok((
                r.try_get(0)?,
                StoredReading {
                    t: r.try_get(1)?,
                    o: r.try_get(2)?,
                    v: r.try_get(3)?,
                    f: r.try_get(4)?,
                    c: r.try_get(5)?,
                    s: r.try_get(6)?,
                },
            ))
        }
    };
}

pub(crate) async fn load_readings(
    tx: &mut Tx,
    tenant: &str,
    members: &[&str],
    start_ms: i64,
    end_ms: i64,
) -> Result<HashMap<String, Vec<StoredReading>>, StoreError> {
    let mut out: HashMap<String, Vec<StoredReading>> = HashMap::new();
    let keep = tx.keeps_prepared();
    for chunk in members.chunks(INSERT_ROWS_MAX) {
        let rows = match &mut *tx {
            Tx::Postgres(c) => {
                // One index lookup per member, whatever the statistics say. Written as
                // `member_id IN (…)`, the query was planned in a soak's first minutes (the
                // statistics behind the table's growth) as one scan of every reading of the
                // tenant in the period, filtered by member: p50 doubled in three minutes. A
                // LATERAL subquery alone is pulled up into the same plan; `OFFSET 0` keeps it
                // a subquery run for each member.
                sqlx::query(
                    "SELECT m.member_id, r.time_ms, r.offset_s, r.mg_dl, r.flag, r.context, r.source \
                     FROM unnest($1::text[]) AS m(member_id) CROSS JOIN LATERAL (\
                       SELECT time_ms, offset_s, mg_dl, flag, context, source FROM readings \
                       WHERE tenant = $2 AND member_id = m.member_id AND time_ms >= $3 AND time_ms < $4 \
                       OFFSET 0) AS r \
                     ORDER BY m.member_id, r.time_ms, r.source",
                )
                .bind(chunk)
                .bind(tenant)
                .bind(start_ms)
                .bind(end_ms)
                .persistent(keep)
                .fetch_all(&mut **c)
                .await?
                .iter()
                .map(member_reading!())
                .collect::<sqlx::Result<Vec<_>>>()?
            }
            Tx::Sqlite(c) => {
                let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                    "SELECT member_id, time_ms, offset_s, mg_dl, flag, context, source FROM readings WHERE tenant = ",
                );
                q.push_bind(tenant);
                push_in!(q, "member_id", chunk);
                q.push(" AND time_ms >= ").push_bind(start_ms);
                q.push(" AND time_ms < ").push_bind(end_ms);
                q.push(" ORDER BY member_id, time_ms, source");
                q.build()
                    .persistent(false)
                    .fetch_all(&mut **c)
                    .await?
                    .iter()
                    .map(member_reading!())
                    .collect::<sqlx::Result<Vec<_>>>()?
            }
        };
        for (member, reading) in rows {
            out.entry(member).or_default().push(reading);
        }
    }
    Ok(out)
}

pub(crate) async fn load_labs(
    tx: &mut Tx,
    tenant: &str,
    members: &[&str],
    before_ms: i64,
) -> Result<HashMap<String, Vec<LabResult>>, StoreError> {
    let mut out: HashMap<String, Vec<LabResult>> = HashMap::new();
    let keep = tx.keeps_prepared();
    for chunk in members.chunks(INSERT_ROWS_MAX) {
        let rows: Vec<(String, i64, i32, Money)> = on_tx!(&mut *tx, c, Db => {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "SELECT member_id, time_ms, offset_s, hba1c FROM labs WHERE tenant = ",
            );
            q.push_bind(tenant);
            push_in!(q, "member_id", chunk);
            q.push(" AND time_ms < ").push_bind(before_ms);
            q.push(" ORDER BY member_id, time_ms");
            q.build().persistent(keep)
                .fetch_all(&mut *c)
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
                .collect::<sqlx::Result<Vec<_>>>()?
        });
        for (member, t, o, value) in rows {
            let corrupt = || StoreError::Corrupt(format!("member `{member}`: a bad lab result"));
            let offset = FixedOffset::east_opt(o).ok_or_else(corrupt)?;
            let time: DateTime<FixedOffset> = DateTime::from_timestamp_millis(t)
                .ok_or_else(corrupt)?
                .with_timezone(&offset);
            let lab = LabResult {
                time,
                hba1c: Hba1c::from_percent(value.0).map_err(|_| corrupt())?,
            };
            out.entry(member).or_default().push(lab);
        }
    }
    Ok(out)
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
    let select = format!(
        "SELECT {DECISION_COLUMNS}, (SELECT erased_at FROM decision_inputs i WHERE i.decision_id = decisions.id) \
         FROM decisions WHERE tenant = "
    );
    let keep = tx.keeps_prepared();
    for chunk in members.chunks(INSERT_ROWS_MAX) {
        let rows: Vec<Known> = on_tx!(&mut *tx, c, Db => {
            let mut q = sqlx::QueryBuilder::<Db>::new(select.as_str());
            q.push_bind(tenant);
            push_in!(q, "member_id", chunk);
            q.push(" ORDER BY period, ordinal");
            q.build().persistent(keep)
                .fetch_all(&mut *c)
                .await?
                .iter()
                .map(|r| {
                    let decision = decision_from_row!(r)?;
                    let erased: Option<Instant> = r.try_get(22)?;
                    let reversed = decision.reversed_by.is_some();
                    Ok(Known { decision, erased: erased.is_some(), reversed })
                })
                .collect::<sqlx::Result<Vec<_>>>()?
        });
        for k in rows {
            out.entry((k.decision.member_id.clone(), k.decision.policy_id.clone()))
                .or_default()
                .push(k);
        }
    }
    Ok(out)
}
