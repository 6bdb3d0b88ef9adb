//! Policy versions: drafts that may change, published versions that never do, and the one in
//! effect for a period, found by date.

use crate::Store;
use crate::db::{Tx, on_pool, on_tx};
use crate::error::StoreError;
use crate::ledger::{self, EntryDraft, EntryKind, Posting};
use chrono::NaiveDate;
use incentive_engine::Period;
use incentive_engine::policy::{self, Policy, PolicySource, SourceFile};
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyStatus {
    Draft,
    Published,
    Retired,
}

impl PolicyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
            Self::Retired => "retired",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "draft" => Ok(Self::Draft),
            "published" => Ok(Self::Published),
            "retired" => Ok(Self::Retired),
            other => Err(StoreError::Corrupt(format!(
                "policy status `{other}` is not one the store writes"
            ))),
        }
    }
}

/// A stored policy version, without its files.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PolicyVersion {
    pub policy_id: String,
    pub version: String,
    pub content_hash: String,
    pub status: PolicyStatus,
    pub period_kind: String,
    pub effective_from: String,
    pub effective_to: Option<String>,
    /// The holder of the key that stored it, where the key named one.
    pub stored_by: Option<String>,
}

/// The files of a package as stored: name → text, in name order.
pub(crate) fn files_json(source: &PolicySource) -> String {
    let files: BTreeMap<&str, &str> = source
        .files
        .iter()
        .map(|f| (f.name.as_str(), f.text.as_str()))
        .collect();
    serde_json::to_string(&files).unwrap_or_default()
}

pub(crate) fn source_from_json(name: &str, json: &str) -> Result<PolicySource, StoreError> {
    let files: BTreeMap<String, String> = serde_json::from_str(json).map_err(|e| {
        StoreError::Corrupt(format!(
            "the stored files of policy `{name}` are unreadable: {e}"
        ))
    })?;
    Ok(PolicySource {
        name: name.to_owned(),
        files: files
            .into_iter()
            .map(|(n, t)| SourceFile::new(&n, &t))
            .collect(),
    })
}

impl Store {
    /// Checks a package and stores it as a draft version (replacing a draft of the same
    /// version). A version already published or retired is never replaced.
    pub async fn put_policy(
        &self,
        tenant: &str,
        source: &PolicySource,
    ) -> Result<PolicyVersion, StoreError> {
        self.put_policy_by(tenant, source, None).await
    }

    /// [`Store::put_policy`] by the holder of the key that stores it (`None`: unknown), whom
    /// four-eyes publishing keeps from approving it.
    pub async fn put_policy_by(
        &self,
        tenant: &str,
        source: &PolicySource,
        stored_by: Option<&str>,
    ) -> Result<PolicyVersion, StoreError> {
        self.require_tenant(tenant).await?;
        let package = load_off_runtime(source.clone())
            .await?
            .map_err(|diagnostics| StoreError::PolicyInvalid {
                policy: source.name.clone(),
                diagnostics,
            })?;
        let m = &package.policy.manifest;
        let version = PolicyVersion {
            policy_id: m.id.clone(),
            version: m.version.clone(),
            content_hash: package.policy.content_hash.clone(),
            status: PolicyStatus::Draft,
            period_kind: m.period.as_str().to_owned(),
            effective_from: m.effective_from.to_string(),
            effective_to: m.effective_to.map(|d| d.to_string()),
            stored_by: stored_by.map(str::to_owned),
        };
        let at = self.shared.now();
        let files = files_json(source);
        let mut tx = self.shared.pool.begin().await?;
        let existing: Option<String> = on_tx!(&mut tx, c => {
            sqlx::query_scalar("SELECT status FROM policy_versions WHERE tenant = $1 AND policy_id = $2 AND version = $3")
                .bind(tenant)
                .bind(&version.policy_id)
                .bind(&version.version)
                .fetch_optional(c)
                .await?
        });
        if let Some(status) = existing {
            if status != "draft" {
                return Err(StoreError::PolicyVersionExists {
                    policy: version.policy_id,
                    version: version.version,
                    status,
                });
            }
            on_tx!(&mut tx, c => {
                sqlx::query("DELETE FROM policy_versions WHERE tenant = $1 AND policy_id = $2 AND version = $3")
                    .bind(tenant)
                    .bind(&version.policy_id)
                    .bind(&version.version)
                    .execute(c)
                    .await?;
            });
        }
        on_tx!(&mut tx, c => {
            sqlx::query(
                "INSERT INTO policy_versions (tenant, policy_id, version, content_hash, status, period_kind, \
                 effective_from, effective_to, files, created_at, stored_by) VALUES ($1, $2, $3, $4, 'draft', $5, $6, $7, $8, $9, $10)",
            )
            .bind(tenant)
            .bind(&version.policy_id)
            .bind(&version.version)
            .bind(&version.content_hash)
            .bind(&version.period_kind)
            .bind(&version.effective_from)
            .bind(&version.effective_to)
            .bind(&files)
            .bind(at)
            .bind(stored_by)
            .execute(c)
            .await?;
        });
        tx.commit().await?;
        cache(&self.shared)?.insert(version.content_hash.clone(), Arc::new(package.policy));
        Ok(version)
    }

    /// Publishes a draft: from now on it is immutable and in effect for its dates. Refused if
    /// its dates overlap another published version of the same policy. The ledger records the
    /// publication and funds the version's pool with its budget.
    pub async fn publish_policy(
        &self,
        tenant: &str,
        policy_id: &str,
        version: &str,
    ) -> Result<PolicyVersion, StoreError> {
        self.publish(tenant, policy_id, version, false).await
    }

    /// [`Store::publish_policy`] as the API publishes: when the tenant asks for four eyes
    /// (`TenantSettings::four_eyes`, the default), only a draft an approval of its files as
    /// they are stands for (`approvals`).
    pub async fn publish_policy_approved(
        &self,
        tenant: &str,
        policy_id: &str,
        version: &str,
    ) -> Result<PolicyVersion, StoreError> {
        let four_eyes = self.tenant_settings(tenant).await?.four_eyes;
        self.publish(tenant, policy_id, version, four_eyes).await
    }

    async fn publish(
        &self,
        tenant: &str,
        policy_id: &str,
        version: &str,
        four_eyes: bool,
    ) -> Result<PolicyVersion, StoreError> {
        let at = self.shared.now();
        let mut tx = self.shared.pool.begin().await?;
        let mut head = ledger::lock_head(&mut tx, tenant).await?;
        let all = versions_in(&mut tx, tenant, policy_id).await?;
        let Some(this) = all.iter().find(|v| v.version == version).cloned() else {
            return Err(StoreError::UnknownPolicyVersion {
                policy: policy_id.to_owned(),
                version: version.to_owned(),
            });
        };
        if this.status != PolicyStatus::Draft {
            return Err(StoreError::PolicyWrongStatus {
                policy: policy_id.to_owned(),
                version: version.to_owned(),
                status: this.status.as_str().to_owned(),
                expected: "draft",
                action: "published",
            });
        }
        let span = |v: &PolicyVersion| {
            (
                v.effective_from.clone(),
                v.effective_to
                    .clone()
                    .unwrap_or_else(|| "9999-12-31".into()),
            )
        };
        if four_eyes {
            crate::approvals::require_approval(&mut tx, tenant, policy_id, version).await?;
        }
        let (from, to) = span(&this);
        if let Some(other) = all.iter().find(|o| {
            o.status == PolicyStatus::Published && {
                let (of, ot) = span(o);
                of <= to && from <= ot
            }
        }) {
            return Err(StoreError::PolicyOverlap {
                policy: policy_id.to_owned(),
                version: version.to_owned(),
                other: other.version.clone(),
                from,
                to: this.effective_to.unwrap_or_else(|| "open-ended".into()),
            });
        }
        let policy = compiled_policy(&self.shared, &mut tx, tenant, policy_id, version).await?;
        on_tx!(&mut tx, c => {
            sqlx::query(
                "UPDATE policy_versions SET status = 'published', published_at = $1 \
                 WHERE tenant = $2 AND policy_id = $3 AND version = $4",
            )
            .bind(at)
            .bind(tenant)
            .bind(policy_id)
            .bind(version)
            .execute(c)
            .await?;
        });
        let m = &policy.manifest;
        let mut postings = Vec::new();
        let mut memo = format!(
            "published `{policy_id}` version {version}, in effect {} to {}",
            this.effective_from,
            this.effective_to.as_deref().unwrap_or("open-ended")
        );
        if let Some(budget) = m.caps.pool_budget {
            postings.push(Posting {
                account: ledger::budget_account(policy_id, version),
                currency: m.currency.clone(),
                amount: -budget,
            });
            postings.push(Posting {
                account: ledger::pool_account(policy_id, version),
                currency: m.currency.clone(),
                amount: budget,
            });
            memo.push_str(&format!("; pool funded with {budget} {}", m.currency));
        }
        ledger::append(
            &mut tx,
            tenant,
            &mut head,
            at,
            EntryDraft {
                kind: EntryKind::PolicyPublished,
                decision_id: None,
                decision_hash: None,
                policy_id: policy_id.to_owned(),
                policy_version: version.to_owned(),
                policy_hash: policy.content_hash.clone(),
                reverses: None,
                memo,
                postings,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(PolicyVersion {
            status: PolicyStatus::Published,
            ..this
        })
    }

    /// Retires a published version: it stays on record, and no period is decided under it
    /// any more.
    pub async fn retire_policy(
        &self,
        tenant: &str,
        policy_id: &str,
        version: &str,
    ) -> Result<(), StoreError> {
        let n = on_pool!(&self.shared.pool, p => {
            sqlx::query(
                "UPDATE policy_versions SET status = 'retired' \
                 WHERE tenant = $1 AND policy_id = $2 AND version = $3 AND status = 'published'",
            )
            .bind(tenant)
            .bind(policy_id)
            .bind(version)
            .execute(p)
            .await?
            .rows_affected()
        });
        if n == 1 {
            return Ok(());
        }
        let status = self
            .policy_versions(tenant, policy_id)
            .await?
            .into_iter()
            .find(|v| v.version == version)
            .map(|v| v.status)
            .ok_or_else(|| StoreError::UnknownPolicyVersion {
                policy: policy_id.to_owned(),
                version: version.to_owned(),
            })?;
        Err(StoreError::PolicyWrongStatus {
            policy: policy_id.to_owned(),
            version: version.to_owned(),
            status: status.as_str().to_owned(),
            expected: "published",
            action: "retired",
        })
    }

    /// The ids of a tenant's policies, in order.
    pub async fn policies(&self, tenant: &str) -> Result<Vec<String>, StoreError> {
        let ids: Vec<String> = on_pool!(&self.shared.pool, p => {
            sqlx::query_scalar("SELECT DISTINCT policy_id FROM policy_versions WHERE tenant = $1 ORDER BY policy_id")
                .bind(tenant)
                .fetch_all(p)
                .await?
        });
        Ok(ids)
    }

    /// Every stored version of a policy, oldest effective date first.
    pub async fn policy_versions(
        &self,
        tenant: &str,
        policy_id: &str,
    ) -> Result<Vec<PolicyVersion>, StoreError> {
        let mut tx = self.shared.pool.begin_read().await?;
        let versions = versions_in(&mut tx, tenant, policy_id).await?;
        tx.commit().await?;
        Ok(versions)
    }

    /// The files of a stored version as its author wrote them (named `policy_id@version`),
    /// without compiling them: what a diff between two versions shows side by side.
    /// [`StoreError::UnknownPolicyVersion`] when the tenant has no such version.
    pub async fn policy_version_source(
        &self,
        tenant: &str,
        policy_id: &str,
        version: &str,
    ) -> Result<PolicySource, StoreError> {
        let files: Option<String> = on_pool!(&self.shared.pool, p => {
            sqlx::query_scalar("SELECT files FROM policy_versions WHERE tenant = $1 AND policy_id = $2 AND version = $3")
                .bind(tenant)
                .bind(policy_id)
                .bind(version)
                .fetch_optional(p)
                .await?
        });
        let Some(files) = files else {
            return Err(StoreError::UnknownPolicyVersion {
                policy: policy_id.to_owned(),
                version: version.to_owned(),
            });
        };
        source_from_json(&format!("{policy_id}@{version}"), &files)
    }
}

/// The compiled policy of a stored version, from the cache or compiled now.
pub(crate) async fn compiled_policy(
    shared: &crate::Shared,
    tx: &mut Tx,
    tenant: &str,
    policy_id: &str,
    version: &str,
) -> Result<Arc<Policy>, StoreError> {
    let row = on_tx!(tx, c => {
        sqlx::query("SELECT content_hash, files FROM policy_versions WHERE tenant = $1 AND policy_id = $2 AND version = $3")
            .bind(tenant)
            .bind(policy_id)
            .bind(version)
            .fetch_optional(c)
            .await?
            .map(|r| -> sqlx::Result<(String, String)> { Ok((r.try_get(0)?, r.try_get(1)?)) })
    });
    let Some(row) = row else {
        return Err(StoreError::UnknownPolicyVersion {
            policy: policy_id.to_owned(),
            version: version.to_owned(),
        });
    };
    let (content_hash, files) = row?;
    // By every file, not the content hash alone: the catalogs are outside it, and a draft
    // stored again with a corrected translation must be shown with it.
    let key = format!(
        "{content_hash} {}",
        crate::ledger::sha256_hex(files.as_bytes())
    );
    if let Some(p) = cache(shared)?.get(&key) {
        return Ok(Arc::clone(p));
    }
    let source = source_from_json(&format!("{policy_id}@{version}"), &files)?;
    let name = source.name.clone();
    let package =
        load_off_runtime(source)
            .await?
            .map_err(|diagnostics| StoreError::PolicyInvalid {
                policy: name,
                diagnostics,
            })?;
    if package.policy.content_hash != content_hash {
        return Err(StoreError::Corrupt(format!(
            "policy `{policy_id}` version {version}: its files hash to {}, not the {content_hash} on record",
            package.policy.content_hash
        )));
    }
    let policy = Arc::new(package.policy);
    let mut compiled = cache(shared)?;
    if compiled.len() >= shared.compiled_policies_max {
        // Rare (every version of every tenant's policies, and each draft as stored): start
        // again rather than track use; a version evicted is compiled again when asked for.
        compiled.clear();
    }
    compiled.insert(key, Arc::clone(&policy));
    Ok(policy)
}

/// The version of a policy in effect for a period, and its compiled policy, in one query when
/// the version is already compiled (as it is for every payout after the first): a published
/// version never changes (`put_policy` refuses to store over one), so its tenant, id, version
/// and content hash name its files, and neither the files nor their hash need be read again.
pub(crate) async fn policy_in_effect(
    shared: &crate::Shared,
    tx: &mut Tx,
    tenant: &str,
    policy_id: &str,
    period: Period,
) -> Result<(String, Arc<Policy>), StoreError> {
    let Some(day) = day_in_effect(period) else {
        return compiled_in_effect(shared, tx, tenant, policy_id, period, None).await;
    };
    let found: Option<(String, String)> = on_tx!(tx, c => {
        sqlx::query_as(
            "SELECT version, content_hash FROM policy_versions WHERE tenant = $1 AND policy_id = $2 \
             AND status = 'published' AND effective_from <= $3 AND (effective_to IS NULL OR effective_to >= $3)",
        )
        .bind(tenant)
        .bind(policy_id)
        .bind(&day)
        .fetch_optional(c)
        .await?
    });
    compiled_in_effect(shared, tx, tenant, policy_id, period, found).await
}

/// The tenant's chain head as it stands (not locked, as [`crate::ledger::read_head`]) and the
/// version of `policy_id` in effect for `period` (as [`policy_in_effect`]), in one statement:
/// the first two reads of every payout group, one round trip.
pub(crate) async fn head_and_policy_in_effect(
    shared: &crate::Shared,
    tx: &mut Tx,
    tenant: &str,
    policy_id: &str,
    period: Period,
) -> Result<((i64, String), Result<(String, Arc<Policy>), StoreError>), StoreError> {
    let Some(day) = day_in_effect(period) else {
        let head = crate::ledger::read_head(tx, tenant).await?;
        let version = compiled_in_effect(shared, tx, tenant, policy_id, period, None).await;
        return Ok((head, version));
    };
    type Row = (i64, String, Option<String>, Option<String>);
    let row: Option<Row> = on_tx!(tx, c => {
        sqlx::query_as(
            "SELECT h.seq, h.hash, v.version, v.content_hash FROM chain_heads h \
             LEFT JOIN policy_versions v ON v.tenant = h.tenant AND v.policy_id = $2 \
               AND v.status = 'published' AND v.effective_from <= $3 \
               AND (v.effective_to IS NULL OR v.effective_to >= $3) \
             WHERE h.tenant = $1 LIMIT 1",
        )
        .bind(tenant)
        .bind(policy_id)
        .bind(&day)
        .fetch_optional(c)
        .await?
    });
    let (seq, hash, version, content_hash) =
        row.ok_or_else(|| StoreError::UnknownTenant(tenant.to_owned()))?;
    let found = version.zip(content_hash);
    let version = compiled_in_effect(shared, tx, tenant, policy_id, period, found).await;
    Ok(((seq, hash), version))
}

/// The day whose version is in effect for a period: its first.
fn day_in_effect(period: Period) -> Option<String> {
    period.first_day().map(|d: NaiveDate| d.to_string())
}

/// The version `found` in effect (its version and content hash), compiled, or
/// [`StoreError::NoVersionInEffect`].
async fn compiled_in_effect(
    shared: &crate::Shared,
    tx: &mut Tx,
    tenant: &str,
    policy_id: &str,
    period: Period,
    found: Option<(String, String)>,
) -> Result<(String, Arc<Policy>), StoreError> {
    let (version, content_hash) = found.ok_or_else(|| StoreError::NoVersionInEffect {
        policy: policy_id.to_owned(),
        period: period.to_string(),
    })?;
    let key = format!("published\u{0}{tenant}\u{0}{policy_id}\u{0}{version}\u{0}{content_hash}");
    if let Some(p) = cache(shared)?.get(&key) {
        return Ok((version, Arc::clone(p)));
    }
    let policy = compiled_policy(shared, tx, tenant, policy_id, &version).await?;
    cache(shared)?.insert(key, Arc::clone(&policy));
    Ok((version, policy))
}

/// `policy::load` on a blocking thread: loading compiles the script and runs it on the probe
/// members, policy code that may take the sandbox's whole budget a probe, which must hold
/// neither an async worker (other requests, `/healthz`) nor, for long, anything else.
async fn load_off_runtime(
    source: PolicySource,
) -> Result<Result<policy::Package, policy::Diagnostics>, StoreError> {
    tokio::task::spawn_blocking(move || policy::load(&source))
        .await
        .map_err(|e| StoreError::Corrupt(format!("loading a policy failed: {e}")))
}

/// Compiled policies the store keeps at once, unless `StoreOptions::compiled_policies_max`
/// says otherwise.
pub const COMPILED_POLICIES_MAX: usize = 1_024;

impl crate::Store {
    /// How many compiled policy versions the store holds now.
    pub fn compiled_policies(&self) -> usize {
        self.shared.compiled.lock().map_or(0, |c| c.len())
    }
}

fn cache(
    shared: &crate::Shared,
) -> Result<std::sync::MutexGuard<'_, std::collections::HashMap<String, Arc<Policy>>>, StoreError> {
    shared
        .compiled
        .lock()
        .map_err(|_| StoreError::Corrupt("the policy cache was poisoned".into()))
}

pub(crate) async fn versions_in(
    tx: &mut Tx,
    tenant: &str,
    policy_id: &str,
) -> Result<Vec<PolicyVersion>, StoreError> {
    let rows = on_tx!(tx, c => {
        sqlx::query(
            "SELECT version, content_hash, status, period_kind, effective_from, effective_to, stored_by \
             FROM policy_versions WHERE tenant = $1 AND policy_id = $2 ORDER BY effective_from, version",
        )
        .bind(tenant)
        .bind(policy_id)
        .fetch_all(c)
        .await?
        .into_iter()
        .map(|r| -> sqlx::Result<_> {
            Ok((
                r.try_get::<String, _>(0)?,
                r.try_get::<String, _>(1)?,
                r.try_get::<String, _>(2)?,
                r.try_get::<String, _>(3)?,
                r.try_get::<String, _>(4)?,
                r.try_get::<Option<String>, _>(5)?,
                r.try_get::<Option<String>, _>(6)?,
            ))
        })
        .collect::<sqlx::Result<Vec<_>>>()?
    });
    rows.into_iter()
        .map(
            |(version, content_hash, status, period_kind, from, to, stored_by)| {
                Ok(PolicyVersion {
                    policy_id: policy_id.to_owned(),
                    version,
                    content_hash,
                    status: PolicyStatus::parse(&status)?,
                    period_kind,
                    effective_from: from,
                    effective_to: to,
                    stored_by,
                })
            },
        )
        .collect()
}
