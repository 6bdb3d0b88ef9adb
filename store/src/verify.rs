//! The auditor's check: recompute every tenant's whole chain — never only its ends — and
//! everything that hangs off it.
//!
//! For each entry, in order: the sequence continues without a gap, the entry names the hash
//! of the one before, its contents hash to what it records, its postings balance in each
//! currency, the decision it names exists and hashes to what the entry says, and the policy
//! version it names exists with the content hash the entry says. Then: the head on record is
//! where the entries end (a truncated tail shows), every decision is in the ledger, every
//! published policy's files still hash to its content hash, and the running balances match
//! the postings. The first problem of each tenant is reported with the entry it is in.

use crate::Store;
use crate::db::{Money, on_pool};
use crate::error::StoreError;
use crate::ledger::{Entry, EntryKind, Posting, entry_hash, genesis_hash, is_balanced, sha256_hex};
use crate::ledger_view::{EntryRow, entry_rows};
use incentive_engine::policy::content_hash;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Where a tenant's chain stood: kept outside the database by an auditor, and checked later
/// by `verify --since` to prove that nothing before it was rewritten.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub tenant: String,
    pub seq: i64,
    pub hash: String,
}

/// What `verify` found for one tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TenantReport {
    pub tenant: String,
    pub entries: i64,
    pub decisions: i64,
    pub accounts: usize,
    pub head_seq: i64,
    pub head_hash: String,
    /// The first problem, if any: the entry it is in (when it is in one) and why.
    pub problem: Option<Problem>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub seq: Option<i64>,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub tenants: Vec<TenantReport>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.tenants.iter().all(|t| t.problem.is_none())
    }
}

impl Store {
    /// Verifies every tenant's ledger (or one tenant's), checking each against the
    /// checkpoints given for it.
    pub async fn verify(
        &self,
        only_tenant: Option<&str>,
        checkpoints: &[Checkpoint],
    ) -> Result<VerifyReport, StoreError> {
        let tenants = match only_tenant {
            Some(t) => {
                self.require_tenant(t).await?;
                vec![t.to_owned()]
            }
            None => self.tenants().await?,
        };
        let mut reports = Vec::new();
        for tenant in tenants {
            let mine: Vec<&Checkpoint> =
                checkpoints.iter().filter(|c| c.tenant == tenant).collect();
            reports.push(self.verify_tenant(&tenant, &mine).await?);
        }
        for c in checkpoints {
            if !reports.iter().any(|r| r.tenant == c.tenant) && only_tenant.is_none() {
                reports.push(TenantReport {
                    tenant: c.tenant.clone(),
                    entries: 0,
                    decisions: 0,
                    accounts: 0,
                    head_seq: 0,
                    head_hash: String::new(),
                    problem: Some(Problem {
                        seq: Some(c.seq),
                        message: format!(
                            "the checkpoint names tenant `{}`, which has no ledger here",
                            c.tenant
                        ),
                    }),
                });
            }
        }
        Ok(VerifyReport { tenants: reports })
    }

    /// Where each tenant's chain stands now.
    pub async fn checkpoint(
        &self,
        only_tenant: Option<&str>,
    ) -> Result<Vec<Checkpoint>, StoreError> {
        let rows: Vec<(String, i64, String)> = on_pool!(&self.shared.pool, p => {
            sqlx::query("SELECT tenant, seq, hash FROM chain_heads ORDER BY tenant")
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                .collect::<sqlx::Result<Vec<_>>>()?
        });
        Ok(rows
            .into_iter()
            .filter(|(t, _, _)| only_tenant.is_none_or(|o| o == t))
            .map(|(tenant, seq, hash)| Checkpoint { tenant, seq, hash })
            .collect())
    }

    async fn verify_tenant(
        &self,
        tenant: &str,
        checkpoints: &[&Checkpoint],
    ) -> Result<TenantReport, StoreError> {
        let pool = &self.shared.pool;
        let head: Option<(i64, String)> = on_pool!(pool, p => {
            sqlx::query("SELECT seq, hash FROM chain_heads WHERE tenant = $1")
                .bind(tenant)
                .fetch_optional(p)
                .await?
                .map(|r| -> sqlx::Result<_> { Ok((r.try_get(0)?, r.try_get(1)?)) })
                .transpose()?
        });
        // Decisions: id → (decision hash on record, hash of the body, ledger seq).
        let decision_rows: Vec<(String, String, String, i64)> = on_pool!(pool, p => {
            sqlx::query("SELECT id, decision_hash, body, ledger_seq FROM decisions WHERE tenant = $1")
                .bind(tenant)
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
                .collect::<sqlx::Result<Vec<_>>>()?
        });
        let decisions: HashMap<String, (String, String, i64)> = decision_rows
            .into_iter()
            .map(|(id, hash, body, seq)| (id, (hash, sha256_hex(body.as_bytes()), seq)))
            .collect();
        let policy_rows: Vec<(String, String, String, String, String)> = on_pool!(pool, p => {
            sqlx::query("SELECT policy_id, version, content_hash, status, files FROM policy_versions WHERE tenant = $1")
                .bind(tenant)
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?)))
                .collect::<sqlx::Result<Vec<_>>>()?
        });
        let policies: HashMap<(String, String), String> = policy_rows
            .iter()
            .map(|(id, v, h, _, _)| ((id.clone(), v.clone()), h.clone()))
            .collect();

        let mut report = TenantReport {
            tenant: tenant.to_owned(),
            entries: 0,
            decisions: i64::try_from(decisions.len()).unwrap_or(i64::MAX),
            accounts: 0,
            head_seq: 0,
            head_hash: genesis_hash(tenant),
            problem: None,
        };
        let fail = |report: &mut TenantReport, seq: Option<i64>, message: String| {
            if report.problem.is_none() {
                report.problem = Some(Problem { seq, message });
            }
        };

        let mut balances: BTreeMap<(String, String), Decimal> = BTreeMap::new();
        let mut seen_decisions: HashSet<String> = HashSet::new();
        let mut first_entry_of_policy: HashMap<(String, String), i64> = HashMap::new();
        // (reversal entry, entry it reverses, decision) for the checks after the walk.
        let mut reversal_entries: Vec<(i64, i64, String)> = Vec::new();
        let mut expected_seq = 1_i64;
        let mut prev_hash = genesis_hash(tenant);
        let mut after = 0_i64;
        loop {
            let entries: Vec<EntryRow> =
                entry_rows(pool, tenant, after, self.shared.verify_page_entries).await?;
            let Some(last) = entries.last().map(|e| e.0) else {
                break;
            };
            let posting_rows: Vec<(i64, i64, String, String, Money)> = on_pool!(pool, p => {
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
            for (seq, line, account, currency, amount) in posting_rows {
                postings.entry(seq).or_default().push((
                    line,
                    Posting {
                        account,
                        currency,
                        amount: amount.0,
                    },
                ));
            }
            for (
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
                stored_prev,
                stored_hash,
            ) in entries
            {
                after = seq;
                report.entries += 1;
                if report.problem.is_some() {
                    continue;
                }
                if seq != expected_seq {
                    fail(
                        &mut report,
                        Some(seq),
                        if seq > expected_seq {
                            if seq == expected_seq + 1 {
                                format!(
                                    "entry {expected_seq} is missing: the sequence jumps to {seq}"
                                )
                            } else {
                                format!(
                                    "entries {expected_seq} to {} are missing: the sequence jumps to {seq}",
                                    seq - 1
                                )
                            }
                        } else {
                            format!(
                                "entry {seq} is out of order: entry {expected_seq} was expected"
                            )
                        },
                    );
                    continue;
                }
                let lines = postings.remove(&seq).unwrap_or_default();
                let contiguous = lines
                    .iter()
                    .enumerate()
                    .all(|(i, (line, _))| i64::try_from(i).is_ok_and(|i| i == *line));
                let entry = Entry {
                    tenant: tenant.to_owned(),
                    seq,
                    prev_hash: stored_prev.clone(),
                    created_at: created_at.to_rfc3339(),
                    kind,
                    decision_id: decision_id.clone(),
                    decision_hash: decision_hash.clone(),
                    policy_id: policy_id.clone(),
                    policy_version: policy_version.clone(),
                    policy_hash: policy_hash.clone(),
                    reverses,
                    memo,
                    postings: lines.into_iter().map(|(_, p)| p).collect(),
                };
                let actual = entry_hash(&entry);
                if stored_prev != prev_hash {
                    fail(
                        &mut report,
                        Some(seq),
                        format!(
                            "entry {seq} does not follow entry {}: it names {stored_prev} as the hash before it, but that entry hashes to {prev_hash}",
                            seq - 1
                        ),
                    );
                } else if actual != stored_hash {
                    fail(
                        &mut report,
                        Some(seq),
                        format!(
                            "entry {seq} has been altered: its contents hash to {actual}, not the {stored_hash} it records"
                        ),
                    );
                } else if !contiguous {
                    fail(
                        &mut report,
                        Some(seq),
                        format!("entry {seq} has a posting missing or added"),
                    );
                } else if !is_balanced(&entry.postings) {
                    fail(
                        &mut report,
                        Some(seq),
                        format!("entry {seq} does not balance"),
                    );
                } else if policies.get(&(policy_id.clone(), policy_version.clone()))
                    != Some(&policy_hash)
                {
                    fail(
                        &mut report,
                        Some(seq),
                        format!(
                            "entry {seq} names policy `{policy_id}` version {policy_version} with hash {policy_hash}, which is not the version on record"
                        ),
                    );
                } else if let Some(id) = &decision_id {
                    match decisions.get(id) {
                        None => fail(
                            &mut report,
                            Some(seq),
                            format!("entry {seq} names decision `{id}`, which is missing"),
                        ),
                        Some((recorded, body_hash, decision_seq)) => {
                            if Some(recorded) != decision_hash.as_ref() || recorded != body_hash {
                                fail(
                                    &mut report,
                                    Some(seq),
                                    format!(
                                        "decision `{id}` of entry {seq} has been altered: it hashes to {body_hash}, the entry says {}",
                                        decision_hash.as_deref().unwrap_or("nothing")
                                    ),
                                );
                            } else if entry.kind == EntryKind::Reversal.as_str() {
                                if reverses != Some(*decision_seq) {
                                    fail(
                                        &mut report,
                                        Some(seq),
                                        format!(
                                            "entry {seq} reverses decision `{id}` but points at entry {}, not its entry {decision_seq}",
                                            reverses.map_or_else(
                                                || "none".to_owned(),
                                                |r| r.to_string()
                                            )
                                        ),
                                    );
                                }
                                reversal_entries.push((seq, *decision_seq, id.clone()));
                            } else if *decision_seq != seq {
                                fail(
                                    &mut report,
                                    Some(seq),
                                    format!(
                                        "decision `{id}` says it is in entry {decision_seq}, not {seq}"
                                    ),
                                );
                            }
                            seen_decisions.insert(id.clone());
                        }
                    }
                }
                first_entry_of_policy
                    .entry((policy_id.clone(), policy_version.clone()))
                    .or_insert(seq);
                for p in &entry.postings {
                    *balances
                        .entry((p.account.clone(), p.currency.clone()))
                        .or_default() += p.amount;
                }
                prev_hash = actual;
                expected_seq = seq + 1;
            }
            if report.problem.is_some() {
                break;
            }
        }
        // A policy's stored files must still hash to the content hash on record.
        for (id, version, hash, status, files) in &policy_rows {
            if status == "draft" {
                continue;
            }
            let source = crate::policies::source_from_json(id, files)?;
            let text = |name: &str| {
                source
                    .file(name)
                    .map(|f| f.text.as_str())
                    .unwrap_or_default()
            };
            let actual = content_hash(text("policy.toml"), text("rules.rhai"));
            if &actual != hash {
                let seq = first_entry_of_policy
                    .get(&(id.clone(), version.clone()))
                    .copied();
                fail(
                    &mut report,
                    seq,
                    format!(
                        "policy `{id}` version {version} has been altered: its stored files hash to {actual}, not the {hash} its entries name"
                    ),
                );
            }
        }

        report.head_seq = expected_seq - 1;
        report.head_hash = prev_hash.clone();
        report.accounts = balances.len();

        match &head {
            None => fail(&mut report, None, "the chain head is missing".into()),
            Some((seq, hash)) if *seq != report.head_seq || *hash != report.head_hash => {
                let message = format!(
                    "the chain head records entry {seq} ({hash}) but the entries end at {} ({}): entries were removed or added around the chain",
                    report.head_seq, report.head_hash
                );
                fail(&mut report, Some(*seq), message)
            }
            Some(_) => {}
        }
        if let Some(id) = decisions.keys().find(|id| !seen_decisions.contains(*id))
            && report.problem.is_none()
        {
            fail(
                &mut report,
                None,
                format!("decision `{id}` is not in the ledger"),
            );
        }
        if report.problem.is_none() {
            self.check_reversals(tenant, &reversal_entries, &mut report)
                .await?;
        }
        if report.problem.is_none() {
            self.check_balances(tenant, &balances, &mut report).await?;
        }
        for c in checkpoints {
            if report.problem.is_some() {
                break;
            }
            if c.seq > report.head_seq {
                let message = format!(
                    "the checkpoint at entry {} is past the end of the ledger (entry {}): the ledger was cut back",
                    c.seq, report.head_seq
                );
                fail(&mut report, Some(c.seq), message);
                continue;
            }
            let hash_at = self.entry_hash_at(tenant, c.seq).await?;
            if hash_at.as_deref() != Some(c.hash.as_str()) {
                fail(
                    &mut report,
                    Some(c.seq),
                    format!(
                        "entry {} no longer hashes to the checkpoint's {}: the ledger before it was rewritten",
                        c.seq, c.hash
                    ),
                );
            }
        }
        Ok(report)
    }

    async fn entry_hash_at(&self, tenant: &str, seq: i64) -> Result<Option<String>, StoreError> {
        if seq == 0 {
            return Ok(Some(genesis_hash(tenant)));
        }
        let hash: Option<String> = on_pool!(&self.shared.pool, p => {
            sqlx::query_scalar("SELECT hash FROM ledger_entries WHERE tenant = $1 AND seq = $2")
                .bind(tenant)
                .bind(seq)
                .fetch_optional(p)
                .await?
        });
        Ok(hash)
    }

    /// Each reversal posts exactly the opposite of the entry it reverses, and the reversals on
    /// record (which payouts read) are exactly those in the ledger.
    async fn check_reversals(
        &self,
        tenant: &str,
        in_ledger: &[(i64, i64, String)],
        report: &mut TenantReport,
    ) -> Result<(), StoreError> {
        let on_record: Vec<(String, i64)> = on_pool!(&self.shared.pool, p => {
            sqlx::query("SELECT decision_id, ledger_seq FROM reversals WHERE tenant = $1")
                .bind(tenant)
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<sqlx::Result<Vec<_>>>()?
        });
        let on_record: HashMap<String, i64> = on_record.into_iter().collect();
        for (seq, reversed, id) in in_ledger {
            if on_record.get(id) != Some(seq) {
                report.problem = Some(Problem {
                    seq: Some(*seq),
                    message: format!(
                        "entry {seq} reverses decision `{id}`, but the reversal on record does not match it"
                    ),
                });
                return Ok(());
            }
            let lines = |s: i64| async move {
                let rows: Vec<(String, String, Money)> = on_pool!(&self.shared.pool, p => {
                    sqlx::query("SELECT account, currency, amount FROM ledger_postings WHERE tenant = $1 AND seq = $2 ORDER BY line")
                        .bind(tenant)
                        .bind(s)
                        .fetch_all(p)
                        .await?
                        .iter()
                        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                        .collect::<sqlx::Result<Vec<_>>>()?
                });
                Ok::<_, StoreError>(rows)
            };
            let original = lines(*reversed).await?;
            let opposite: Vec<(String, String, Money)> = original
                .into_iter()
                .map(|(a, c, m)| (a, c, Money(-m.0)))
                .collect();
            if lines(*seq).await? != opposite {
                report.problem = Some(Problem {
                    seq: Some(*seq),
                    message: format!(
                        "entry {seq} does not post the opposite of entry {reversed}, which it reverses"
                    ),
                });
                return Ok(());
            }
        }
        if let Some((id, seq)) = on_record
            .iter()
            .find(|(id, seq)| !in_ledger.iter().any(|(s, _, d)| s == *seq && d == *id))
        {
            report.problem = Some(Problem {
                seq: Some(*seq),
                message: format!(
                    "a reversal of decision `{id}` is on record, but entry {seq} does not reverse it"
                ),
            });
        }
        Ok(())
    }

    async fn check_balances(
        &self,
        tenant: &str,
        computed: &BTreeMap<(String, String), Decimal>,
        report: &mut TenantReport,
    ) -> Result<(), StoreError> {
        let stored: Vec<(String, String, Money)> = on_pool!(&self.shared.pool, p => {
            sqlx::query("SELECT account, currency, balance FROM account_balances WHERE tenant = $1")
                .bind(tenant)
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                .collect::<sqlx::Result<Vec<_>>>()?
        });
        let stored: BTreeMap<(String, String), Decimal> =
            stored.into_iter().map(|(a, c, b)| ((a, c), b.0)).collect();
        let keys: HashSet<&(String, String)> = computed.keys().chain(stored.keys()).collect();
        let mut keys: Vec<_> = keys.into_iter().collect();
        keys.sort();
        for key in keys {
            let want = computed.get(key).copied().unwrap_or_default();
            let have = stored.get(key).copied().unwrap_or_default();
            if want != have {
                report.problem = Some(Problem {
                    seq: None,
                    message: format!(
                        "account `{}` shows a balance of {have} {}, but its postings add up to {want}",
                        key.0, key.1
                    ),
                });
                break;
            }
        }
        Ok(())
    }
}
