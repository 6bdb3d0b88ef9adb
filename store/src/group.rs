//! One group of payouts, decided and posted in one transaction with a handful of statements
//! however many payouts it holds.
//!
//! Everything the group reads — versions in effect, profiles, readings, labs, earlier
//! decisions, balances — is loaded in a few set-based queries of a read transaction; the
//! payouts are then decided one after another *in memory*, on a blocking thread, each seeing
//! what the ones before it in the group posted (so two payouts to the same pool in one group
//! still cannot both spend its last yuan); and, with the chain heads locked and found where
//! they were read, what they post is written with multi-row inserts ([`decide_group`] says
//! what happens when a head has moved). Round trips, not arithmetic, are what a payout costs on
//! either backend (SQLite's driver runs each statement on a thread of its own), so this is
//! what makes group commit pay.

use crate::Shared;
use crate::db::{Instant, Money, Tx, on_tx, push_in};
use crate::error::StoreError;
use crate::idempotency::{KeyAnswer, KeyRow, Keyed, KeyedPayout, NewKey, insert_keys, load_keys};
use crate::inputs::{StoredInputs, StoredReading};
use crate::ledger::{
    self, Entry, EntryDraft, EntryKind, INSERT_ROWS_MAX, PERCENT_CURRENCY, Posting, sha256_hex,
};
use crate::payout::{
    DECISION_COLUMNS, PayoutKind, PayoutOutcome, PayoutRequest, StoredDecision, decision_from_row,
};
use crate::policies::{compiled_policy, version_in_effect};
use chrono::{DateTime, Datelike, FixedOffset};
use incentive_engine::policy::attributes::AttributeValue;
use incentive_engine::policy::record_view::MetricValue;
use incentive_engine::policy::{EvaluationInput, History, MemberProfile, Policy, PriorOutcome};
use incentive_engine::{Hba1c, LabResult, MemberId, Period};
use rust_decimal::Decimal;
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Whether a group is posted, or only decided and rolled back (a dry run: no money moves).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Post,
    DryRun,
}

/// Whether an error leaves the transaction unusable (a failed statement), as opposed to a
/// refusal decided before anything was written.
pub(crate) fn aborts_group(e: &StoreError) -> bool {
    matches!(e, StoreError::Database(_) | StoreError::Corrupt(_))
}

/// The version of a policy in effect for a period, compiled.
type InEffect = (String, Arc<Policy>);

/// A decision already on record, and whether its inputs were erased since.
#[derive(Clone, Debug)]
struct Known {
    decision: StoredDecision,
    erased: bool,
    /// A reversal undid its postings.
    reversed: bool,
}

/// What one tenant's part of the group reads, loaded up front.
#[derive(Default)]
struct TenantData {
    profiles: HashMap<String, MemberProfile>,
    readings: HashMap<String, Vec<StoredReading>>,
    labs: HashMap<String, Vec<LabResult>>,
    /// (member, policy) → decisions in (period, ordinal) order; the group's own are appended.
    /// Holds the decisions of the members of each payout's group (`[caps] group`) too.
    decisions: HashMap<(String, String), Vec<Known>>,
    /// (attribute, value) → the members sharing it, for the groups of this group's payouts.
    groups: HashMap<(String, String), Vec<String>>,
    balances: HashMap<(String, String), Decimal>,
    /// Accounts the group moved, to write back.
    touched: BTreeSet<(String, String)>,
    head: (i64, String),
    entries: Vec<(Entry, String)>,
    new_decisions: Vec<(StoredDecision, String)>,
    /// The group's idempotency keys that have answered, by key; the group's own are added.
    keys: HashMap<String, KeyRow>,
    new_keys: Vec<NewKey>,
}

/// A payout of a group, owned, so the group can be decided on a thread of its own.
type Item = (PayoutRequest, Option<Keyed>);

/// Everything a group reads, loaded up front, and what deciding it adds.
struct Loaded {
    data: BTreeMap<String, TenantData>,
    versions: HashMap<(String, String, Period), Option<InEffect>>,
    /// Each tenant's chain head when the group was loaded: if it has not moved by the time
    /// the group is posted, nothing the group read about that tenant's ledger has changed.
    heads_read: BTreeMap<String, (i64, String)>,
}

/// Decides and posts a group; returns each payout's result in order. `Err` means a statement
/// failed and nothing of the group was written.
///
/// The group is read and decided *outside* the write lock: a read transaction loads it, the
/// payouts are decided on a blocking thread (policy code may run for its whole sandbox budget
/// and must hold neither an async worker nor the database), and only then is the write lock
/// taken and each tenant's chain head locked. If every head is where it was when the group
/// was read, nothing the decisions depended on has moved — caps, pools, earlier decisions and
/// keys are all behind the head — and the prepared entries are written as they are. If a head
/// moved (another process paid, an auditor reversed), the group is read and decided again
/// under the lock, as before: correct whatever happened, slower only when it must be.
/// Readings sent meanwhile are not behind the head: the payout is decided on the record as it
/// stood when it was read, as if it had been asked for a moment earlier.
pub(crate) async fn decide_group(
    shared: &Shared,
    items: &[(&PayoutRequest, Option<&Keyed>)],
    mode: Mode,
) -> Result<Vec<Result<KeyedPayout, StoreError>>, StoreError> {
    let items: Vec<Item> = items
        .iter()
        .map(|(r, k)| ((*r).clone(), k.cloned()))
        .collect();
    let t0 = std::time::Instant::now();
    let at = shared.now();

    let mut read = shared.pool.begin_read().await?;
    let loaded = load(shared, &mut read, &items, Heads::Read).await?;
    drop(read);
    let t1 = t0.elapsed();
    let budget = shared.payout_group_decide;
    let (mut loaded, items, results) = decide_off_runtime(loaded, items, at, budget).await?;
    let results = results?;
    let t2 = t0.elapsed();
    if mode == Mode::DryRun {
        // Decided exactly as a payout would be, and nothing kept.
        return Ok(results);
    }

    let mut tx = shared.pool.begin().await?;
    let mut unmoved = true;
    for (tenant, head) in &loaded.heads_read {
        unmoved &= ledger::lock_head(&mut tx, tenant).await? == *head;
    }
    let results = if unmoved {
        results
    } else {
        tracing::debug!(
            "a chain head moved while the group was decided; deciding it again under the lock"
        );
        let reloaded = load(shared, &mut tx, &items, Heads::Locked).await?;
        let (again, _, results) = decide_off_runtime(reloaded, items.clone(), at, budget).await?;
        loaded = again;
        results?
    };
    let t3 = t0.elapsed();
    write_all(&mut tx, &loaded, at).await?;
    tx.commit().await?;
    tracing::debug!(
        payouts = items.len(),
        load_us = t1.as_micros(),
        decide_us = (t2 - t1).as_micros(),
        decided_again = !unmoved,
        lock_us = (t3 - t2).as_micros(),
        write_and_commit_us = (t0.elapsed() - t3).as_micros(),
        "payout group committed"
    );
    Ok(results)
}

/// [`decide_all`] on a blocking thread: policy code may run for its whole sandbox budget a
/// decision, and must not hold an async worker meanwhile.
type Decided = (
    Loaded,
    Vec<Item>,
    Result<Vec<Result<KeyedPayout, StoreError>>, StoreError>,
);

async fn decide_off_runtime(
    mut loaded: Loaded,
    items: Vec<Item>,
    at: Instant,
    budget: std::time::Duration,
) -> Result<Decided, StoreError> {
    tokio::task::spawn_blocking(move || {
        let results = decide_all(&mut loaded, &items, at, budget);
        (loaded, items, results)
    })
    .await
    .map_err(|e| StoreError::Corrupt(format!("deciding a payout group failed: {e}")))
}

/// Whether [`load`] reads the chain heads or locks them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Heads {
    Read,
    Locked,
}

/// Loads what the group reads, in a few set-based queries per tenant.
async fn load(
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
        let found = match version_in_effect(tx, &r.tenant, &r.policy_id, r.period).await {
            Ok(v) => {
                let policy = compiled_policy(shared, tx, &r.tenant, &r.policy_id, &v).await?;
                Some((v, policy))
            }
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

/// Decides the payouts of the group in order, each seeing what the ones before it posted;
/// pure computation on what [`load`] read. Past `budget`, it stops: the results cover the
/// first payouts only (always at least one), and the writer hands the rest to the next group.
fn decide_all(
    loaded: &mut Loaded,
    items: &[Item],
    at: Instant,
    budget: std::time::Duration,
) -> Result<Vec<Result<KeyedPayout, StoreError>>, StoreError> {
    let started = std::time::Instant::now();
    let mut results = Vec::with_capacity(items.len());
    for (r, keyed) in items {
        if !results.is_empty() && started.elapsed() > budget {
            break;
        }
        let keyed = keyed.as_ref();
        let result = match (
            loaded.data.get_mut(r.tenant.as_str()),
            loaded
                .versions
                .get(&(r.tenant.clone(), r.policy_id.clone(), r.period)),
        ) {
            (None, _) => Err(StoreError::UnknownTenant(r.tenant.clone())),
            (Some(d), version) => match keyed.and_then(|k| answered(d, r, k).transpose()) {
                Some(answer) => answer,
                None => match version {
                    Some(Some((version, policy))) => decide(d, r, version, policy, at).map(|o| {
                        if let Some(k) = keyed {
                            remember(d, k, &o);
                        }
                        KeyedPayout::Decided(o)
                    }),
                    Some(None) | None => Err(StoreError::NoVersionInEffect {
                        policy: r.policy_id.clone(),
                        period: r.period.to_string(),
                    }),
                },
            },
        };
        if let Err(e) = &result
            && aborts_group(e)
        {
            return Err(result.err().unwrap_or(StoreError::ShuttingDown));
        }
        results.push(result);
    }
    Ok(results)
}

/// Writes what the group decided: entries, balances, decisions and keys.
async fn write_all(tx: &mut Tx, loaded: &Loaded, at: Instant) -> Result<(), StoreError> {
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

/// What a key that has answered before answers now; `None` for a key not seen yet.
fn answered(
    d: &TenantData,
    r: &PayoutRequest,
    keyed: &Keyed,
) -> Result<Option<KeyedPayout>, StoreError> {
    let Some(row) = d.keys.get(keyed.key.as_str()) else {
        return Ok(None);
    };
    if row.request_hash != keyed.request_hash {
        return Ok(Some(KeyedPayout::DifferentRequest));
    }
    Ok(Some(match &row.answer {
        KeyAnswer::Error { status, response } => KeyedPayout::ReplayedError {
            status: *status,
            response: response.clone(),
        },
        KeyAnswer::Decision { id, kind } => {
            // The same request names the same member and policy, whose decisions the group
            // has loaded (its own included).
            let decision = d
                .decisions
                .get(&(r.member.as_str().to_owned(), r.policy_id.clone()))
                .and_then(|known| known.iter().find(|k| &k.decision.id == id))
                .map(|k| k.decision.clone())
                .ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "idempotency key `{}` answered with decision `{id}`, which is not on record",
                        keyed.key.as_str()
                    ))
                })?;
            KeyedPayout::Replayed(PayoutOutcome {
                kind: *kind,
                decision,
            })
        }
    }))
}

/// Records that a key answered with `outcome`, to be written with the group (and replayed to
/// a second request with it in the same group).
fn remember(d: &mut TenantData, keyed: &Keyed, outcome: &PayoutOutcome) {
    let row = KeyRow {
        request_hash: keyed.request_hash.clone(),
        answer: KeyAnswer::Decision {
            id: outcome.decision.id.clone(),
            kind: outcome.kind,
        },
    };
    d.keys.insert(keyed.key.as_str().to_owned(), row);
    d.new_keys.push(NewKey {
        key: keyed.key.as_str().to_owned(),
        request_hash: keyed.request_hash.clone(),
        decision_id: outcome.decision.id.clone(),
        kind: outcome.kind,
    });
}

/// The accounts a payout may move, with their currencies.
fn accounts_of(r: &PayoutRequest, version: &str, currency: &str) -> [(String, String); 4] {
    let member = r.member.as_str();
    [
        (
            ledger::pool_account(&r.policy_id, version),
            currency.to_owned(),
        ),
        (
            ledger::member_rewards_account(member, &r.policy_id),
            currency.to_owned(),
        ),
        (
            ledger::premium_account(&r.policy_id, version),
            PERCENT_CURRENCY.to_owned(),
        ),
        (
            ledger::member_premium_account(member, &r.policy_id),
            PERCENT_CURRENCY.to_owned(),
        ),
    ]
}

/// A decision's id: the same on every backend and every run, for the same payout.
fn decision_id(r: &PayoutRequest, ordinal: i64) -> String {
    let key = format!(
        "{}\n{}\n{}\n{}\n{ordinal}",
        r.tenant,
        r.member.as_str(),
        r.policy_id,
        r.period
    );
    let hash = sha256_hex(key.as_bytes());
    format!("dec_{}", hash.get(7..31).unwrap_or_default())
}

/// Decides one payout against the group's data, and records what it posts in it.
fn decide(
    d: &mut TenantData,
    r: &PayoutRequest,
    version: &str,
    policy: &Policy,
    at: Instant,
) -> Result<PayoutOutcome, StoreError> {
    let m = &policy.manifest;
    let window = r
        .period
        .window(m.timezone)
        .map_err(|e| StoreError::BadInput {
            field: "period".into(),
            reason: e.to_string(),
        })?;
    let member_id = r.member.as_str();
    let profile = d
        .profiles
        .get(member_id)
        .cloned()
        .ok_or_else(|| StoreError::UnknownMember {
            tenant: r.tenant.clone(),
            member: member_id.to_owned(),
        })?;
    let (start, end) = (
        window.start.timestamp_millis(),
        window.end.timestamp_millis(),
    );
    let readings: Vec<StoredReading> = d
        .readings
        .get(member_id)
        .map(|all| {
            all.iter()
                .filter(|x| start <= x.t && x.t < end)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let labs: Vec<LabResult> = d
        .labs
        .get(member_id)
        .map(|all| {
            all.iter()
                .filter(|l| l.time.timestamp_millis() < end)
                .copied()
                .collect()
        })
        .unwrap_or_default();

    let period = r.period.to_string();
    let key = (member_id.to_owned(), r.policy_id.clone());
    let known = d.decisions.get(&key).map(Vec::as_slice).unwrap_or_default();
    let earlier: Vec<&Known> = known
        .iter()
        .filter(|k| k.decision.period == period)
        .collect();
    // What stands posted for the period: every decision's postings but those reversed.
    let standing = earlier.iter().filter(|k| !k.reversed);
    let posted_reward: Decimal = standing.clone().map(|k| k.decision.reward_posted).sum();
    let posted_premium: Decimal = standing.map(|k| k.decision.premium_posted).sum();
    let (outcomes, premium_loading_percent) =
        prior_outcomes(known, &period, !m.history.is_empty())?;

    let pool = ledger::pool_account(&r.policy_id, version);
    let pool_key = (pool.clone(), m.currency.clone());
    let pool_paid = m.caps.pool_budget.map(|budget| {
        let left = d.balances.get(&pool_key).copied().unwrap_or_default();
        // What others were paid: this member's own payments for this period are what a
        // true-up replaces, so they do not count against it.
        budget - left - posted_reward
    });
    let group_paid_this_year = m.caps.group.as_ref().map(|g| {
        let own = [member_id.to_owned()];
        let group = group_of(Some(&profile), &g.attribute)
            .and_then(|v| d.groups.get(&(g.attribute.clone(), v.to_owned())))
            .map_or(&own[..], Vec::as_slice);
        group_paid_this_year(d, group, member_id, &r.policy_id, r.period)
    });
    let inputs = StoredInputs {
        member: profile,
        readings,
        labs,
        history: History {
            outcomes,
            premium_loading_percent,
            pool_paid,
            group_paid_this_year,
        },
    };
    let data_hash = inputs.data_hash();
    // The same data, or data erased on request since (a true-up against what is left would
    // claw back a reward for no reason but the erasure): the decision on record stands.
    if let Some(latest) = earlier.last()
        && (latest.decision.data_hash == data_hash || latest.erased)
    {
        return Ok(PayoutOutcome {
            kind: PayoutKind::AlreadyDecided,
            decision: latest.decision.clone(),
        });
    }
    let engine_readings = inputs.readings()?;
    let decision = policy.evaluate(&EvaluationInput {
        member: &inputs.member,
        period: r.period,
        readings: &engine_readings,
        labs: &inputs.labs,
        history: &inputs.history,
    })?;

    let ordinal = i64::try_from(earlier.len()).unwrap_or(i64::MAX);
    let id = decision_id(r, ordinal);
    let body = decision.to_json();
    let decision_hash = sha256_hex(body.as_bytes());
    let reward_delta = decision.reward - posted_reward;
    let premium_delta = decision.premium_adjustment_percent - posted_premium;
    let supersedes = earlier.last().map(|k| k.decision.id.clone());

    let [_, rewards, premium, member_premium] = accounts_of(r, version, &m.currency);
    let mut postings = Vec::new();
    if !reward_delta.is_zero() {
        postings.push(Posting {
            account: pool,
            currency: m.currency.clone(),
            amount: -reward_delta,
        });
        postings.push(Posting {
            account: rewards.0,
            currency: rewards.1,
            amount: reward_delta,
        });
    }
    if !premium_delta.is_zero() {
        postings.push(Posting {
            account: premium.0,
            currency: premium.1,
            amount: -premium_delta,
        });
        postings.push(Posting {
            account: member_premium.0,
            currency: member_premium.1,
            amount: premium_delta,
        });
    }
    let (kind, memo) = match &supersedes {
        None => (
            EntryKind::Payout,
            format!(
                "`{member_id}` {}: reward {} {}, premium {}%",
                r.period, decision.reward, m.currency, decision.premium_adjustment_percent
            ),
        ),
        Some(first) => (
            EntryKind::TrueUp,
            format!(
                "true-up of `{first}` after the data changed: `{member_id}` {} reward now {} {} ({:+}), premium now {}% ({:+})",
                r.period,
                decision.reward,
                m.currency,
                reward_delta,
                decision.premium_adjustment_percent,
                premium_delta
            ),
        ),
    };
    let (entry, hash) = ledger::chain(
        &r.tenant,
        &mut d.head,
        at,
        EntryDraft {
            kind,
            decision_id: Some(id.clone()),
            decision_hash: Some(decision_hash.clone()),
            policy_id: r.policy_id.clone(),
            policy_version: version.to_owned(),
            policy_hash: policy.content_hash.clone(),
            reverses: None,
            memo,
            postings,
        },
    )?;
    for p in &entry.postings {
        let k = (p.account.clone(), p.currency.clone());
        *d.balances.entry(k.clone()).or_default() += p.amount;
        d.touched.insert(k);
    }
    let stored = StoredDecision {
        id,
        tenant: r.tenant.clone(),
        member_id: member_id.to_owned(),
        policy_id: r.policy_id.clone(),
        policy_version: version.to_owned(),
        period,
        ordinal,
        supersedes,
        input_hash: decision.input_hash.clone(),
        data_hash,
        decision_hash,
        body,
        // Normalised, as every amount read back from the database is (see `Money`).
        reward: decision.reward.normalize(),
        premium_adjustment_percent: decision.premium_adjustment_percent.normalize(),
        reward_posted: reward_delta.normalize(),
        premium_posted: premium_delta.normalize(),
        qualified: decision.qualified,
        tier: decision.tier.clone(),
        points: decision.points,
        ledger_seq: entry.seq,
        created_at: at.to_rfc3339(),
        reversed_by: None,
    };
    d.entries.push((entry, hash));
    d.new_decisions.push((stored.clone(), inputs.to_json()));
    d.decisions.entry(key).or_default().push(Known {
        decision: stored.clone(),
        erased: false,
        reversed: false,
    });
    let kind = if stored.ordinal == 0 {
        PayoutKind::Paid
    } else {
        PayoutKind::TrueUp
    };
    Ok(PayoutOutcome {
        kind,
        decision: stored,
    })
}

/// The member's outcomes under this policy in other periods (the last decision of each), and
/// the premium loading the earlier ones add up to.
fn prior_outcomes(
    known: &[Known],
    period: &str,
    keeps_metrics: bool,
) -> Result<(Vec<PriorOutcome>, Decimal), StoreError> {
    let mut loading = Decimal::ZERO;
    let mut by_period: BTreeMap<&str, (PriorOutcome, Decimal)> = BTreeMap::new();
    // Every other period: the engine takes streaks and points from the earlier ones, and what
    // was paid this year from all of them, so a true-up after later periods keeps the yearly cap.
    for k in known
        .iter()
        .filter(|k| k.decision.period.as_str() != period)
    {
        let d = &k.decision;
        let parsed = Period::parse(&d.period)
            .map_err(|e| StoreError::Corrupt(format!("a stored decision's period: {e}")))?;
        let standing = if k.reversed {
            Decimal::ZERO
        } else {
            d.reward_posted
        };
        if !k.reversed && d.period.as_str() < period {
            loading += d.premium_posted;
        }
        let net = by_period
            .get(d.period.as_str())
            .map_or(Decimal::ZERO, |(_, n)| *n)
            + standing;
        // Later ordinals replace earlier ones: the last decision of a period is its outcome,
        // paid what stands posted; one reversed counts as not met.
        let outcome = if k.reversed {
            PriorOutcome {
                period: parsed,
                reward: net.normalize(),
                premium_adjustment_percent: Decimal::ZERO,
                tier: None,
                points: 0,
                qualified: false,
                metrics: BTreeMap::new(),
            }
        } else {
            PriorOutcome {
                period: parsed,
                reward: net.normalize(),
                premium_adjustment_percent: d.premium_adjustment_percent,
                tier: d.tier.clone(),
                points: d.points,
                qualified: d.qualified,
                // Read from the decision only for a policy that keeps metrics: the others
                // never ask, and parsing every earlier decision would cost each payout.
                metrics: if keeps_metrics {
                    kept_metrics(&d.body)?
                } else {
                    BTreeMap::new()
                },
            }
        };
        by_period.insert(&d.period, (outcome, net));
    }
    Ok((by_period.into_values().map(|(o, _)| o).collect(), loading))
}

/// The metrics a decision kept for later periods (`[history] keep`), from its canonical JSON.
fn kept_metrics(body: &str) -> Result<BTreeMap<String, MetricValue>, StoreError> {
    #[derive(serde::Deserialize)]
    struct Kept {
        #[serde(default)]
        kept: BTreeMap<String, MetricValue>,
    }
    serde_json::from_str::<Kept>(body)
        .map(|k| k.kept)
        .map_err(|e| StoreError::Corrupt(format!("a stored decision's kept metrics: {e}")))
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
    for chunk in members.chunks(INSERT_ROWS_MAX) {
        rows.extend(on_tx!(&mut *tx, c, Db => {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "SELECT member_id, age, sex, region, diabetes_type, insulin, enrolled_on, attributes FROM members WHERE tenant = ",
            );
            q.push_bind(tenant);
            push_in!(q, "member_id", chunk);
            q.build().persistent(false)
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

pub(crate) async fn load_readings(
    tx: &mut Tx,
    tenant: &str,
    members: &[&str],
    start_ms: i64,
    end_ms: i64,
) -> Result<HashMap<String, Vec<StoredReading>>, StoreError> {
    let mut out: HashMap<String, Vec<StoredReading>> = HashMap::new();
    let postgres = matches!(tx, Tx::Postgres(_));
    for chunk in members.chunks(INSERT_ROWS_MAX) {
        let rows: Vec<(String, StoredReading)> = on_tx!(&mut *tx, c, Db => {
            let mut q;
            if postgres {
                // One index lookup per member, whatever the statistics say. Written as
                // `member_id IN (…)`, the query was planned in a soak's first minutes (the
                // statistics behind the table's growth) as one scan of every reading of the
                // tenant in the period, filtered by member: p50 doubled in three minutes. A
                // LATERAL subquery alone is pulled up into the same plan; `OFFSET 0` keeps it
                // a subquery run for each member.
                q = sqlx::QueryBuilder::<Db>::new(
                    "SELECT m.member_id, r.time_ms, r.offset_s, r.mg_dl, r.flag, r.context, r.source FROM (VALUES ",
                );
                for (i, member) in chunk.iter().enumerate() {
                    if i > 0 {
                        q.push(", ");
                    }
                    q.push("(");
                    q.push_bind(*member);
                    q.push(")");
                }
                q.push(
                    ") AS m(member_id) CROSS JOIN LATERAL (SELECT time_ms, offset_s, mg_dl, flag, context, source FROM readings WHERE tenant = ",
                );
                q.push_bind(tenant);
                q.push(" AND member_id = m.member_id AND time_ms >= ").push_bind(start_ms);
                q.push(" AND time_ms < ").push_bind(end_ms);
                q.push(" OFFSET 0) AS r ORDER BY m.member_id, r.time_ms, r.source");
            } else {
                q = sqlx::QueryBuilder::<Db>::new(
                    "SELECT member_id, time_ms, offset_s, mg_dl, flag, context, source FROM readings WHERE tenant = ",
                );
                q.push_bind(tenant);
                push_in!(q, "member_id", chunk);
                q.push(" AND time_ms >= ").push_bind(start_ms);
                q.push(" AND time_ms < ").push_bind(end_ms);
                q.push(" ORDER BY member_id, time_ms, source");
            }
            q.build().persistent(false)
                .fetch_all(&mut *c)
                .await?
                .iter()
                .map(|r| {
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
                })
                .collect::<sqlx::Result<Vec<_>>>()?
        });
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
    for chunk in members.chunks(INSERT_ROWS_MAX) {
        let rows: Vec<(String, i64, i32, Money)> = on_tx!(&mut *tx, c, Db => {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "SELECT member_id, time_ms, offset_s, hba1c FROM labs WHERE tenant = ",
            );
            q.push_bind(tenant);
            push_in!(q, "member_id", chunk);
            q.push(" AND time_ms < ").push_bind(before_ms);
            q.push(" ORDER BY member_id, time_ms");
            q.build().persistent(false)
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

/// The value of a member's group attribute, where they have one.
fn group_of<'p>(profile: Option<&'p MemberProfile>, attribute: &str) -> Option<&'p str> {
    match profile?.attributes.get(attribute) {
        Some(AttributeValue::Text(v)) => Some(v.as_str()),
        _ => None,
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

/// What the members of `group` (this member alone where they have none) were paid under the
/// policy in `period`'s calendar year, every period of theirs but this member's `period`
/// (what a true-up of it replaces): decisions an auditor reversed no longer stand.
fn group_paid_this_year(
    d: &TenantData,
    group: &[String],
    member: &str,
    policy_id: &str,
    period: Period,
) -> Decimal {
    let year = period.first_day().map(|day| day.year());
    let this = period.to_string();
    group
        .iter()
        .filter_map(|m| d.decisions.get(&(m.clone(), policy_id.to_owned())))
        .flatten()
        .filter(|k| !k.reversed)
        .filter(|k| !(k.decision.member_id == member && k.decision.period == this))
        .filter(|k| {
            Period::parse(&k.decision.period)
                .ok()
                .and_then(|p| p.first_day())
                .map(|day| day.year())
                == year
        })
        .map(|k| k.decision.reward_posted)
        .fold(Decimal::ZERO, Decimal::saturating_add)
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
    for chunk in members.chunks(INSERT_ROWS_MAX) {
        let rows: Vec<Known> = on_tx!(&mut *tx, c, Db => {
            let mut q = sqlx::QueryBuilder::<Db>::new(select.as_str());
            q.push_bind(tenant);
            push_in!(q, "member_id", chunk);
            q.push(" ORDER BY period, ordinal");
            q.build().persistent(false)
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

#[cfg(test)]
mod kept_tests {
    use super::*;

    #[test]
    fn a_stored_decision_whose_kept_metrics_cannot_be_read_is_corrupt_not_a_panic() {
        let kept =
            kept_metrics(r#"{"reward":"1.00","kept":{"tir_percent":"40"}}"#).unwrap_or_default();
        assert_eq!(kept.len(), 1);
        assert!(kept_metrics(r#"{"reward":"1.00"}"#).is_ok_and(|k| k.is_empty()));
        for body in [
            "",
            "{",
            r#"{"kept":{"tir_percent":[1]}}"#,
            r#"{"kept":"40"}"#,
        ] {
            match kept_metrics(body) {
                Err(StoreError::Corrupt(m)) => {
                    assert!(m.starts_with("a stored decision's kept metrics"), "{m}");
                }
                other => panic!("{body}: {other:?}"),
            }
        }
    }
}
