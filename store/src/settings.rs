//! A tenant's settings: how its data comes in. Set by the tenant's admin; a tenant that has set
//! nothing has the defaults.

use crate::Store;
use crate::db::{on_pool, on_tx};
use crate::error::StoreError;
use serde::{Deserialize, Serialize};

/// Bytes of an identifier system at most.
pub const IDENTIFIER_SYSTEM_BYTES_MAX: usize = 256;

/// A FHIR identifier system: an absolute URI naming a namespace of identifiers, such as an
/// insurer's member numbers (`https://insurer.example/member-id`) or an OID (`urn:oid:…`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdentifierSystem(String);

impl IdentifierSystem {
    pub fn parse(text: &str) -> Result<Self, StoreError> {
        let bad = |reason: String| StoreError::BadInput {
            field: "fhir_member_identifier_system".into(),
            reason,
        };
        if text.is_empty() || text.len() > IDENTIFIER_SYSTEM_BYTES_MAX {
            return Err(bad(format!(
                "is {} bytes: an identifier system is 1 to {IDENTIFIER_SYSTEM_BYTES_MAX}",
                text.len()
            )));
        }
        // An absolute URI: a scheme (a letter, then letters, digits, `+ - .`), a colon, and no
        // spaces or control characters.
        let scheme = text.split(':').next().unwrap_or_default();
        let has_scheme = text.contains(':')
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !has_scheme || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad(format!(
                "`{}` is not an absolute URI such as urn:oid:2.16.840.1.113883.4.1 or https://insurer.example/member-id",
                incentive_engine::text::excerpt(text)
            )));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IdentifierSystem {
    type Error = StoreError;
    fn try_from(text: String) -> Result<Self, StoreError> {
        Self::parse(&text)
    }
}

impl From<IdentifierSystem> for String {
    fn from(system: IdentifierSystem) -> String {
        system.0
    }
}

/// What a tenant has set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantSettings {
    /// The FHIR identifier system whose values are the tenant's member ids: a bulk FHIR upload
    /// gives each patient's data to the member their identifier in it names. Unset, bulk FHIR
    /// uploads are refused (a Patient's id in someone else's server is no member id).
    pub fhir_member_identifier_system: Option<IdentifierSystem>,
    /// Whether a draft must be approved by a key of another holder before it is published
    /// (four-eyes). On unless the tenant's admin turns it off.
    pub four_eyes: bool,
}

impl Default for TenantSettings {
    fn default() -> Self {
        Self {
            fhir_member_identifier_system: None,
            four_eyes: true,
        }
    }
}

impl Store {
    /// The tenant's settings, the defaults where it has set none.
    pub async fn tenant_settings(&self, tenant: &str) -> Result<TenantSettings, StoreError> {
        let row: Option<(Option<String>, Option<bool>)> = on_pool!(&self.shared.pool, p => {
            sqlx::query_as(
                "SELECT fhir_member_identifier_system, four_eyes FROM tenant_settings WHERE tenant = $1",
            )
            .bind(tenant)
            .fetch_optional(p)
            .await?
        });
        let (system, four_eyes) = row.unwrap_or_default();
        let system = system
            .map(|s| {
                IdentifierSystem::parse(&s).map_err(|e| {
                    StoreError::Corrupt(format!("tenant {tenant}'s FHIR identifier system: {e}"))
                })
            })
            .transpose()?;
        Ok(TenantSettings {
            fhir_member_identifier_system: system,
            four_eyes: four_eyes.unwrap_or(true),
        })
    }

    /// Sets the tenant's settings, all of them at once.
    pub async fn set_tenant_settings(
        &self,
        tenant: &str,
        settings: &TenantSettings,
    ) -> Result<(), StoreError> {
        self.require_tenant(tenant).await?;
        let at = self.shared.now();
        let system = settings
            .fhir_member_identifier_system
            .as_ref()
            .map(IdentifierSystem::as_str);
        let mut tx = self.shared.pool.begin().await?;
        on_tx!(&mut tx, c => {
            sqlx::query(
                "INSERT INTO tenant_settings (tenant, fhir_member_identifier_system, four_eyes, updated_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (tenant) DO UPDATE SET \
                 fhir_member_identifier_system = excluded.fhir_member_identifier_system, \
                 four_eyes = excluded.four_eyes, updated_at = excluded.updated_at",
            )
            .bind(tenant)
            .bind(system)
            .bind(settings.four_eyes)
            .bind(at)
            .execute(c)
            .await?;
        });
        tx.commit().await?;
        Ok(())
    }
}
