//! Tenants (insurers) and their API keys. A key is shown once when it is made; only its
//! SHA-256 is stored, so a copy of the database gives no one a working key.

use crate::Store;
use crate::db::{on_pool, on_tx};
use crate::error::StoreError;
use crate::ledger::{self, sha256_hex};
use sqlx::Row;

/// What a key may do. The API maps each route to the roles that may call it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Author,
    Actuary,
    Platform,
    Auditor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Self::Author,
        Self::Actuary,
        Self::Platform,
        Self::Auditor,
        Self::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Author => "author",
            Self::Actuary => "actuary",
            Self::Platform => "platform",
            Self::Auditor => "auditor",
            Self::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Result<Self, StoreError> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| StoreError::BadInput {
                field: "role".into(),
                reason: format!(
                    "`{text}` is not a role; expected author, actuary, platform, auditor or admin"
                ),
            })
    }
}

/// A key as made: the secret is here and nowhere else.
#[derive(Clone, Debug)]
pub struct NewKey {
    pub id: String,
    pub tenant: String,
    pub role: Role,
    /// The person who holds it, where one was named.
    pub holder: Option<String>,
    /// `ik_` and 64 hex digits; give it to the caller once.
    pub secret: String,
}

/// Who a presented key belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub key_id: String,
    pub tenant: String,
    pub role: Role,
    /// The person who holds the key (`admin key create --holder`): who approves, who stored a
    /// draft. `None` for a key made without one.
    pub holder: Option<String>,
}

/// Characters of a key holder's name at most.
pub const HOLDER_CHARS_MAX: usize = 64;

/// A holder's name: 1 to [`HOLDER_CHARS_MAX`] characters a reader can see.
pub fn check_holder(name: &str) -> Result<(), StoreError> {
    let bad = |reason: String| StoreError::BadInput {
        field: "holder".into(),
        reason,
    };
    let chars = name.chars().count();
    if name.trim().is_empty() || chars > HOLDER_CHARS_MAX {
        return Err(bad(format!(
            "is {chars} characters: a holder's name is 1 to {HOLDER_CHARS_MAX}"
        )));
    }
    incentive_engine::text::visible(name)
        .map(|_| ())
        .map_err(bad)
}

/// 1 to 64 of `a-z 0-9 - _`: it appears in account names and URLs.
pub fn check_tenant_name(name: &str) -> Result<(), StoreError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadTenantName(name.to_owned()))
    }
}

pub(crate) fn random_hex(bytes: usize) -> Result<String, StoreError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf)
        .map_err(|e| StoreError::Corrupt(format!("the system's random source failed: {e}")))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

impl Store {
    /// Creates a tenant and starts its ledger chain.
    pub async fn create_tenant(&self, name: &str) -> Result<(), StoreError> {
        check_tenant_name(name)?;
        let at = self.shared.now();
        let mut tx = self.shared.pool.begin().await?;
        let inserted = on_tx!(&mut tx, c => {
            sqlx::query("INSERT INTO tenants (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                .bind(name)
                .bind(at)
                .execute(c)
                .await?
                .rows_affected()
        });
        if inserted == 0 {
            return Err(StoreError::TenantExists(name.to_owned()));
        }
        ledger::start_chain(&mut tx, name).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn tenants(&self) -> Result<Vec<String>, StoreError> {
        let names: Vec<String> = on_pool!(&self.shared.pool, p => {
            sqlx::query_scalar("SELECT name FROM tenants ORDER BY name").fetch_all(p).await?
        });
        Ok(names)
    }

    pub(crate) async fn require_tenant(&self, name: &str) -> Result<(), StoreError> {
        let found: Option<String> = on_pool!(&self.shared.pool, p => {
            sqlx::query_scalar("SELECT name FROM tenants WHERE name = $1")
                .bind(name)
                .fetch_optional(p)
                .await?
        });
        found
            .map(|_| ())
            .ok_or_else(|| StoreError::UnknownTenant(name.to_owned()))
    }

    /// Makes a key for a tenant. The secret is returned once and only its hash is kept.
    pub async fn create_key(&self, tenant: &str, role: Role) -> Result<NewKey, StoreError> {
        self.create_key_held(tenant, role, None).await
    }

    /// [`Store::create_key`] naming the person who holds the key (four-eyes publishing needs
    /// to know who approves and who wrote).
    pub async fn create_key_held(
        &self,
        tenant: &str,
        role: Role,
        holder: Option<&str>,
    ) -> Result<NewKey, StoreError> {
        if let Some(h) = holder {
            check_holder(h)?;
        }
        self.require_tenant(tenant).await?;
        let id = format!("key_{}", random_hex(8)?);
        let secret = format!("ik_{}", random_hex(32)?);
        let at = self.shared.now();
        on_pool!(&self.shared.pool, p => {
            sqlx::query(
                "INSERT INTO api_keys (id, tenant, role, key_hash, created_at, holder) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&id)
            .bind(tenant)
            .bind(role.as_str())
            .bind(sha256_hex(secret.as_bytes()))
            .bind(at)
            .bind(holder)
            .execute(p)
            .await?;
        });
        Ok(NewKey {
            id,
            tenant: tenant.to_owned(),
            role,
            holder: holder.map(str::to_owned),
            secret,
        })
    }

    /// Revokes a key; `false` when no live key has that id.
    pub async fn revoke_key(&self, key_id: &str) -> Result<bool, StoreError> {
        let at = self.shared.now();
        let n = on_pool!(&self.shared.pool, p => {
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(at)
                .bind(key_id)
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    /// The tenant and role of a live key, or `None` for an unknown or revoked one.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Caller>, StoreError> {
        let hash = sha256_hex(secret.as_bytes());
        let row = on_pool!(&self.shared.pool, p => {
            sqlx::query("SELECT id, tenant, role, holder FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL")
                .bind(&hash)
                .fetch_optional(p)
                .await?
                .map(|r| -> Result<(String, String, String, Option<String>), sqlx::Error> {
                    Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?))
                })
        });
        let Some(row) = row else { return Ok(None) };
        let (key_id, tenant, role, holder) = row?;
        Ok(Some(Caller {
            key_id,
            tenant,
            role: Role::parse(&role)?,
            holder,
        }))
    }
}
