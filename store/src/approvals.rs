//! Four-eyes publishing: a draft is published only once a key of another holder than the one
//! whose key stored it has approved it, and approved the files as they are — an approval
//! records who, when, a comment, and the draft's content hash and files it saw, and a change to
//! the draft after it (stored again, even a catalog) voids it. The tenant's setting
//! (`TenantSettings::four_eyes`, on by default) says whether publishing asks for one.

use crate::Store;
use crate::db::{Tx, on_pool, on_tx};
use crate::error::StoreError;
use crate::ledger::sha256_hex;
use crate::tenants::Caller;
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeMap;

/// Characters of an approval's comment at most.
pub const APPROVAL_COMMENT_CHARS_MAX: usize = 2_000;

/// One approval of a draft.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Approval {
    /// The holder of the key that approved.
    pub approver: String,
    pub comment: String,
    /// The content hash of the draft approved.
    pub content_hash: String,
    /// When (RFC 3339, UTC).
    pub approved_at: String,
    /// Whether the draft's files are still those approved: a change after it voids it.
    pub current: bool,
}

/// A draft as approvals see it.
struct Draft {
    status: String,
    content_hash: String,
    files_hash: String,
    stored_by: Option<String>,
}

async fn draft(
    tx: &mut Tx,
    tenant: &str,
    policy_id: &str,
    version: &str,
) -> Result<Draft, StoreError> {
    let row = on_tx!(tx, c => {
        sqlx::query(
            "SELECT status, content_hash, files, stored_by FROM policy_versions \
             WHERE tenant = $1 AND policy_id = $2 AND version = $3",
        )
        .bind(tenant)
        .bind(policy_id)
        .bind(version)
        .fetch_optional(c)
        .await?
        .map(|r| -> sqlx::Result<_> {
            Ok((
                r.try_get::<String, _>(0)?,
                r.try_get::<String, _>(1)?,
                r.try_get::<String, _>(2)?,
                r.try_get::<Option<String>, _>(3)?,
            ))
        })
        .transpose()?
    });
    let Some((status, content_hash, files, stored_by)) = row else {
        return Err(StoreError::UnknownPolicyVersion {
            policy: policy_id.to_owned(),
            version: version.to_owned(),
        });
    };
    Ok(Draft {
        status,
        content_hash,
        files_hash: sha256_hex(files.as_bytes()),
        stored_by,
    })
}

/// The approvals of a version, oldest first, each marked current or not.
async fn approvals_in(
    tx: &mut Tx,
    tenant: &str,
    policy_id: &str,
    version: &str,
    files_hash: &str,
) -> Result<Vec<Approval>, StoreError> {
    let rows = on_tx!(tx, c => {
        sqlx::query(
            "SELECT approver, comment, content_hash, files_hash, approved_at FROM policy_approvals \
             WHERE tenant = $1 AND policy_id = $2 AND version = $3 ORDER BY approved_at",
        )
        .bind(tenant)
        .bind(policy_id)
        .bind(version)
        .fetch_all(c)
        .await?
        .into_iter()
        .map(|r| -> sqlx::Result<_> {
            Ok((
                r.try_get::<String, _>(0)?,
                r.try_get::<String, _>(1)?,
                r.try_get::<String, _>(2)?,
                r.try_get::<String, _>(3)?,
                r.try_get::<crate::db::Instant, _>(4)?,
            ))
        })
        .collect::<sqlx::Result<Vec<_>>>()?
    });
    Ok(rows
        .into_iter()
        .map(|row| approval(row, files_hash))
        .collect())
}

/// An approval as stored: approver, comment, content hash, files hash and when; current while
/// the draft's files still hash to `files_hash`.
type ApprovalRow = (String, String, String, String, crate::db::Instant);

fn approval(
    (approver, comment, content_hash, approved_files, at): ApprovalRow,
    files_hash: &str,
) -> Approval {
    Approval {
        approver,
        comment,
        content_hash,
        approved_at: at.to_rfc3339(),
        current: approved_files == files_hash,
    }
}

impl Store {
    /// `caller` approves a draft: refused when the key names no holder, when that holder's key
    /// stored the draft (or no holder's did: then who wrote it is unknown), and for a version
    /// that is not a draft.
    pub async fn approve_policy(
        &self,
        caller: &Caller,
        policy_id: &str,
        version: &str,
        comment: &str,
    ) -> Result<Approval, StoreError> {
        let chars = comment.chars().count();
        if chars > APPROVAL_COMMENT_CHARS_MAX {
            return Err(StoreError::BadInput {
                field: "comment".into(),
                reason: format!(
                    "is {chars} characters; a comment is at most {APPROVAL_COMMENT_CHARS_MAX}"
                ),
            });
        }
        let Some(approver) = caller.holder.as_deref() else {
            return Err(StoreError::NotApprover(
                "this key names no holder, and an approval is a named person's: an admin makes approvers' keys with `admin key create --holder NAME`".into(),
            ));
        };
        let tenant = caller.tenant.as_str();
        let at = self.shared.now();
        let mut tx = self.shared.pool.begin().await?;
        let d = draft(&mut tx, tenant, policy_id, version).await?;
        if d.status != "draft" {
            return Err(StoreError::PolicyWrongStatus {
                policy: policy_id.to_owned(),
                version: version.to_owned(),
                status: d.status,
                expected: "draft",
                action: "approved",
            });
        }
        match d.stored_by.as_deref() {
            None => {
                return Err(StoreError::NotApprover(format!(
                    "policy `{policy_id}` version {version} was stored by a key that names no holder, so who wrote it is unknown and no one can be its second pair of eyes: store it again with a key that names its holder"
                )));
            }
            Some(author) if author == approver => {
                return Err(StoreError::NotApprover(format!(
                    "{approver} stored policy `{policy_id}` version {version} and so cannot approve it: an approval is another person's"
                )));
            }
            Some(_) => {}
        }
        on_tx!(&mut tx, c => {
            sqlx::query(
                "INSERT INTO policy_approvals (tenant, policy_id, version, content_hash, files_hash, \
                 approver, approver_key, comment, approved_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(tenant)
            .bind(policy_id)
            .bind(version)
            .bind(&d.content_hash)
            .bind(&d.files_hash)
            .bind(approver)
            .bind(&caller.key_id)
            .bind(comment)
            .bind(at)
            .execute(c)
            .await?;
        });
        tx.commit().await?;
        Ok(Approval {
            approver: approver.to_owned(),
            comment: comment.to_owned(),
            content_hash: d.content_hash,
            approved_at: at.to_rfc3339(),
            current: true,
        })
    }

    /// Every version's approvals, by version, oldest first, each marked whether it still
    /// stands: one query for a policy's whole history, however many versions it has.
    pub async fn policy_approvals_by_version(
        &self,
        tenant: &str,
        policy_id: &str,
    ) -> Result<BTreeMap<String, Vec<Approval>>, StoreError> {
        let rows = on_pool!(&self.shared.pool, p => {
            sqlx::query(
                "SELECT a.version, a.approver, a.comment, a.content_hash, a.files_hash, a.approved_at, v.files \
                 FROM policy_approvals a JOIN policy_versions v \
                 ON v.tenant = a.tenant AND v.policy_id = a.policy_id AND v.version = a.version \
                 WHERE a.tenant = $1 AND a.policy_id = $2 ORDER BY a.approved_at",
            )
            .bind(tenant)
            .bind(policy_id)
            .fetch_all(p)
            .await?
            .into_iter()
            .map(|r| -> sqlx::Result<_> {
                Ok((
                    r.try_get::<String, _>(0)?,
                    (
                        r.try_get::<String, _>(1)?,
                        r.try_get::<String, _>(2)?,
                        r.try_get::<String, _>(3)?,
                        r.try_get::<String, _>(4)?,
                        r.try_get::<crate::db::Instant, _>(5)?,
                    ),
                    r.try_get::<String, _>(6)?,
                ))
            })
            .collect::<sqlx::Result<Vec<_>>>()?
        });
        // Each version's files hashed once, however many approvals it has.
        let mut files_hashes: BTreeMap<String, String> = BTreeMap::new();
        let mut by_version: BTreeMap<String, Vec<Approval>> = BTreeMap::new();
        for (version, row, files) in rows {
            let files_hash = files_hashes
                .entry(version.clone())
                .or_insert_with(|| sha256_hex(files.as_bytes()));
            let approval = approval(row, files_hash);
            by_version.entry(version).or_default().push(approval);
        }
        Ok(by_version)
    }

    /// A version's approvals, oldest first, each marked whether it still stands.
    pub async fn policy_approvals(
        &self,
        tenant: &str,
        policy_id: &str,
        version: &str,
    ) -> Result<Vec<Approval>, StoreError> {
        let mut tx = self.shared.pool.begin_read().await?;
        let d = draft(&mut tx, tenant, policy_id, version).await?;
        let approvals = approvals_in(&mut tx, tenant, policy_id, version, &d.files_hash).await?;
        tx.commit().await?;
        Ok(approvals)
    }
}

/// Refuses to publish a draft that no approval of its files as they are stands for, when the
/// tenant asks for four eyes. Run inside the publishing transaction, so a draft stored again
/// between the check and the publication cannot slip through.
pub(crate) async fn require_approval(
    tx: &mut Tx,
    tenant: &str,
    policy_id: &str,
    version: &str,
) -> Result<(), StoreError> {
    let d = draft(tx, tenant, policy_id, version).await?;
    let approvals = approvals_in(tx, tenant, policy_id, version, &d.files_hash).await?;
    if approvals.iter().any(|a| a.current) {
        return Ok(());
    }
    let why = if approvals.is_empty() {
        "no one has approved it"
    } else {
        "it has changed since it was approved, which voids the approval"
    };
    Err(StoreError::NeedsApproval(format!(
        "policy `{policy_id}` version {version} cannot be published: {why}; the tenant asks for four eyes, so a key of another holder than the one that stored it approves it first (POST /v1/policies/{policy_id}/versions/{version}/approve)"
    )))
}
