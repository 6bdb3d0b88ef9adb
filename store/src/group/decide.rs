//! A group's decisions: each payout decided in memory against what the group read, in order,
//! each seeing what the ones before it posted — pure computation, no I/O.

use super::{Item, Known, Loaded, TenantData, aborts_group, accounts_of, group_of};
use crate::db::Instant;
use crate::decisions::{PayoutKind, PayoutOutcome, PayoutRequest, StoredDecision};
use crate::error::StoreError;
use crate::idempotency::{KeyAnswer, KeyRow, Keyed, KeyedPayout, NewKey};
use crate::inputs::{StoredInputs, StoredReading};
use crate::ledger::{self, EntryDraft, EntryKind, Posting, sha256_hex};
use chrono::Datelike;
use incentive_engine::policy::record_view::MetricValue;
use incentive_engine::policy::{EvaluationInput, History, Policy, PriorOutcome};
use incentive_engine::{LabResult, Period};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Decides the payouts of the group in order, each seeing what the ones before it posted;
/// pure computation on what [`load`] read. Past `budget`, it stops: the results cover the
/// first payouts only (always at least one), and the writer hands the rest to the next group.
pub(super) fn decide_all(
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
    let period = r.period.to_string();
    let key = (r.member.as_str().to_owned(), r.policy_id.clone());
    let known = d.decisions.get(&key).map(Vec::as_slice).unwrap_or_default();
    let record = OnRecord::of(known, &period);
    let inputs = inputs_for(d, r, version, policy, known, &record)?;
    let (data_json, data_hash) = inputs.hashed_data();
    // The same data, or data erased on request since (a true-up against what is left would
    // claw back a reward for no reason but the erasure): the decision on record stands.
    if let Some(latest) = record.latest.and_then(|i| known.get(i))
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
    let stored = post(
        d,
        Posted {
            request: r,
            version,
            policy,
            at,
            decision: &decision,
            record: &record,
            data_hash,
            period,
        },
    )?;
    d.new_decisions
        .push((stored.clone(), inputs.to_json_from(data_json)));
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

/// What a period already has on record for a member under a policy.
struct OnRecord {
    /// What stands posted for the period: every decision's postings but those reversed.
    posted_reward: Decimal,
    posted_premium: Decimal,
    /// The period's decisions so far: the next one's ordinal.
    decisions: usize,
    /// The latest of them, by its place among the member's decisions under the policy.
    latest: Option<usize>,
    supersedes: Option<String>,
}

impl OnRecord {
    fn of(known: &[Known], period: &str) -> Self {
        let mut record = Self {
            posted_reward: Decimal::ZERO,
            posted_premium: Decimal::ZERO,
            decisions: 0,
            latest: None,
            supersedes: None,
        };
        for (i, k) in known.iter().enumerate() {
            if k.decision.period != period {
                continue;
            }
            if !k.reversed {
                record.posted_reward += k.decision.reward_posted;
                record.posted_premium += k.decision.premium_posted;
            }
            record.decisions += 1;
            record.latest = Some(i);
            record.supersedes = Some(k.decision.id.clone());
        }
        record
    }
}

/// What the policy reads for the payout, exactly as a replay will: the member as on record,
/// the period's readings, the labs before its end, and the history — earlier outcomes, the
/// premium loading, what the pool and the member's cap group have paid.
fn inputs_for(
    d: &TenantData,
    r: &PayoutRequest,
    version: &str,
    policy: &Policy,
    known: &[Known],
    record: &OnRecord,
) -> Result<StoredInputs, StoreError> {
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
    let (outcomes, premium_loading_percent) =
        prior_outcomes(known, &r.period.to_string(), !m.history.is_empty())?;
    let pool_key = (
        ledger::pool_account(&r.policy_id, version),
        m.currency.clone(),
    );
    let pool_paid = m.caps.pool_budget.map(|budget| {
        let left = d.balances.get(&pool_key).copied().unwrap_or_default();
        // What others were paid: this member's own payments for this period are what a
        // true-up replaces, so they do not count against it.
        budget - left - record.posted_reward
    });
    let group_paid_this_year = m.caps.group.as_ref().map(|g| {
        let own = [member_id.to_owned()];
        let group = group_of(Some(&profile), &g.attribute)
            .and_then(|v| d.groups.get(&(g.attribute.clone(), v.to_owned())))
            .map_or(&own[..], Vec::as_slice);
        group_paid_this_year(d, group, member_id, &r.policy_id, r.period)
    });
    Ok(StoredInputs {
        member: profile,
        readings,
        labs,
        history: History {
            outcomes,
            premium_loading_percent,
            pool_paid,
            group_paid_this_year,
        },
    })
}

/// A decision to post, with what it is posted against.
struct Posted<'a> {
    request: &'a PayoutRequest,
    version: &'a str,
    policy: &'a Policy,
    at: Instant,
    decision: &'a incentive_engine::policy::Decision,
    record: &'a OnRecord,
    data_hash: String,
    period: String,
}

/// Chains the decision's ledger entry — what it pays, or for a true-up the difference from
/// what stands posted — moves the group's balances by it, and gives the decision as stored.
fn post(d: &mut TenantData, p: Posted<'_>) -> Result<StoredDecision, StoreError> {
    let Posted {
        request: r,
        version,
        policy,
        at,
        decision,
        record,
        data_hash,
        period,
    } = p;
    let m = &policy.manifest;
    let member_id = r.member.as_str();
    let ordinal = i64::try_from(record.decisions).unwrap_or(i64::MAX);
    let id = decision_id(r, ordinal);
    let body = decision.to_json();
    let decision_hash = sha256_hex(body.as_bytes());
    let reward_delta = decision.reward - record.posted_reward;
    let premium_delta = decision.premium_adjustment_percent - record.posted_premium;
    let supersedes = record.supersedes.clone();
    let memo = match &supersedes {
        None => format!(
            "`{member_id}` {}: reward {} {}, premium {}%",
            r.period, decision.reward, m.currency, decision.premium_adjustment_percent
        ),
        Some(first) => format!(
            "true-up of `{first}` after the data changed: `{member_id}` {} reward now {} {} ({:+}), premium now {}% ({:+})",
            r.period,
            decision.reward,
            m.currency,
            reward_delta,
            decision.premium_adjustment_percent,
            premium_delta
        ),
    };
    let (entry, hash) = ledger::chain(
        &r.tenant,
        &mut d.head,
        at,
        EntryDraft {
            kind: if supersedes.is_none() {
                EntryKind::Payout
            } else {
                EntryKind::TrueUp
            },
            decision_id: Some(id.clone()),
            decision_hash: Some(decision_hash.clone()),
            policy_id: r.policy_id.clone(),
            policy_version: version.to_owned(),
            policy_hash: policy.content_hash.clone(),
            reverses: None,
            memo,
            postings: postings(r, version, &m.currency, reward_delta, premium_delta),
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
    Ok(stored)
}

/// The postings of a payout's deltas: the pool pays the member's rewards account, the premium
/// account the member's premium account; a delta of nothing posts nothing.
fn postings(
    r: &PayoutRequest,
    version: &str,
    currency: &str,
    reward_delta: Decimal,
    premium_delta: Decimal,
) -> Vec<Posting> {
    let [pool, rewards, premium, member_premium] = accounts_of(r, version, currency);
    let mut postings = Vec::new();
    for (delta, from, to) in [
        (reward_delta, pool, rewards),
        (premium_delta, premium, member_premium),
    ] {
        if delta.is_zero() {
            continue;
        }
        postings.push(Posting {
            account: from.0,
            currency: from.1,
            amount: -delta,
        });
        postings.push(Posting {
            account: to.0,
            currency: to.1,
            amount: delta,
        });
    }
    postings
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
