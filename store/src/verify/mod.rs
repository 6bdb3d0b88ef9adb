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
use crate::ledger::genesis_hash;
use crate::ledger_view::{entry_rows, postings_between};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::collections::{BTreeMap, HashMap, HashSet};

mod records;
mod walk;

use records::{
    altered_policy, head_problem, policy_rows, read_entry, read_head, recorded_decisions,
};
use walk::{ChainWalk, ReversalEntry};

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

impl TenantReport {
    /// Records `problem` unless an earlier one is: the first is the one reported.
    fn fail(&mut self, problem: Problem) {
        if self.problem.is_none() {
            self.problem = Some(problem);
        }
    }
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
        let head = read_head(pool, tenant).await?;
        let decisions = recorded_decisions(pool, tenant).await?;
        let policy_rows = policy_rows(pool, tenant).await?;
        let policies: HashMap<(String, String), String> = policy_rows
            .iter()
            .map(|p| ((p.id.clone(), p.version.clone()), p.hash.clone()))
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
        let mut walk = ChainWalk::new(tenant, &decisions, &policies);
        self.walk_chain(tenant, &mut walk, &mut report).await?;
        if let Some(p) = altered_policy(&policy_rows, &walk.first_entry_of_policy)? {
            report.fail(p);
        }
        report.head_seq = walk.next_seq - 1;
        report.head_hash = walk.prev_hash.clone();
        report.accounts = walk.balances.len();
        if let Some(p) = head_problem(head.as_ref(), &report) {
            report.fail(p);
        }
        if let Some(id) = decisions
            .keys()
            .find(|id| !walk.seen_decisions.contains(*id))
        {
            report.fail(Problem {
                seq: None,
                message: format!("decision `{id}` is not in the ledger"),
            });
        }
        if report.problem.is_none() {
            self.check_reversals(tenant, &walk.reversals, &mut report)
                .await?;
        }
        if report.problem.is_none() {
            self.check_balances(tenant, &walk.balances, &mut report)
                .await?;
        }
        if report.problem.is_none() {
            self.check_checkpoints(tenant, checkpoints, &mut report)
                .await?;
        }
        Ok(report)
    }

    /// Walks the chain a page at a time: counts every entry of the pages read, checks each up
    /// to the first problem, and reads no page after it.
    async fn walk_chain(
        &self,
        tenant: &str,
        walk: &mut ChainWalk<'_>,
        report: &mut TenantReport,
    ) -> Result<(), StoreError> {
        let pool = &self.shared.pool;
        let mut after = 0_i64;
        loop {
            let entries = entry_rows(pool, tenant, after, self.shared.verify_page_entries).await?;
            let Some(last) = entries.last().map(|e| e.0) else {
                return Ok(());
            };
            let mut postings = postings_between(pool, tenant, after, last).await?;
            for row in entries {
                after = row.0;
                report.entries += 1;
                if report.problem.is_none() {
                    let lines = postings.remove(&row.0).unwrap_or_default();
                    if let Some(p) = walk.step(read_entry(tenant, row, lines)) {
                        report.problem = Some(p);
                    }
                }
            }
            if report.problem.is_some() {
                return Ok(());
            }
        }
    }

    /// Each checkpoint kept outside still names an entry of the chain, which hashes as it did.
    async fn check_checkpoints(
        &self,
        tenant: &str,
        checkpoints: &[&Checkpoint],
        report: &mut TenantReport,
    ) -> Result<(), StoreError> {
        for c in checkpoints {
            let message = if c.seq > report.head_seq {
                format!(
                    "the checkpoint at entry {} is past the end of the ledger (entry {}): the ledger was cut back",
                    c.seq, report.head_seq
                )
            } else if self.entry_hash_at(tenant, c.seq).await?.as_deref() != Some(c.hash.as_str()) {
                format!(
                    "entry {} no longer hashes to the checkpoint's {}: the ledger before it was rewritten",
                    c.seq, c.hash
                )
            } else {
                continue;
            };
            report.fail(Problem {
                seq: Some(c.seq),
                message,
            });
            return Ok(());
        }
        Ok(())
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
        in_ledger: &[ReversalEntry],
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
