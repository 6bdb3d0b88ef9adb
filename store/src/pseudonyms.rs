//! Pseudonyms for members in outputs that reach roles who may not see members' data (an
//! actuary's backtest tables): HMAC-SHA256 of the member id under a secret kept per tenant.
//! The same member has the same pseudonym in every run for the tenant, so runs can be joined;
//! without the tenant's key, which never leaves the database, a pseudonym cannot be turned
//! back into an id, nor an id into its pseudonym (a plain hash of an id could be, by hashing
//! every likely id).

use crate::Store;
use crate::db::on_pool;
use crate::error::StoreError;
use hmac::{KeyInit, Mac};

/// A tenant's pseudonym key, ready to name members.
#[derive(Clone)]
pub struct Pseudonyms {
    key: String,
}

impl std::fmt::Debug for Pseudonyms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is a secret: never in a log or a panic message.
        f.write_str("Pseudonyms { .. }")
    }
}

/// Hex digits of the MAC a pseudonym keeps: 96 bits, so no two of a tenant's members share
/// one in any population a plan will see.
const PSEUDONYM_HEX_DIGITS: usize = 24;

impl Pseudonyms {
    /// `mp_` and the first 24 hex digits of HMAC-SHA256(key, member id).
    pub fn of(&self, member_id: &str) -> String {
        let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(self.key.as_bytes()) else {
            // HMAC takes a key of any length; this cannot happen.
            return String::from("mp_");
        };
        mac.update(member_id.as_bytes());
        let digest = mac.finalize().into_bytes();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("mp_{}", hex.get(..PSEUDONYM_HEX_DIGITS).unwrap_or(&hex))
    }
}

impl Store {
    /// The tenant's pseudonyms, its key made (256 bits from the operating system's random
    /// source) the first time it is asked for.
    pub async fn pseudonyms(&self, tenant: &str) -> Result<Pseudonyms, StoreError> {
        self.require_tenant(tenant).await?;
        let fresh = crate::tenants::random_hex(32)?;
        // Two processes asking at once both try; the first key written is the one kept.
        let key: Option<String> = on_pool!(&self.shared.pool, p => {
            sqlx::query("UPDATE tenants SET pseudonym_key = $1 WHERE name = $2 AND pseudonym_key IS NULL")
                .bind(&fresh)
                .bind(tenant)
                .execute(p)
                .await?;
            sqlx::query_scalar("SELECT pseudonym_key FROM tenants WHERE name = $1")
                .bind(tenant)
                .fetch_optional(p)
                .await?
                .flatten()
        });
        key.map(|key| Pseudonyms { key })
            .ok_or_else(|| StoreError::UnknownTenant(tenant.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pseudonym_is_keyed_stable_and_never_the_id() {
        let a = Pseudonyms { key: "k1".into() };
        let b = Pseudonyms { key: "k2".into() };
        assert_eq!(a.of("M102"), a.of("M102"));
        assert_ne!(a.of("M102"), a.of("M103"));
        assert_ne!(a.of("M102"), b.of("M102"));
        assert!(a.of("M102").starts_with("mp_") && !a.of("M102").contains("M102"));
        assert_eq!(a.of("M102").len(), 3 + PSEUDONYM_HEX_DIGITS);
        // RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?").
        let jefe = Pseudonyms { key: "Jefe".into() };
        assert_eq!(
            jefe.of("what do ya want for nothing?"),
            "mp_5bdcc146bf60754e6a042426"
        );
        assert_eq!(format!("{a:?}"), "Pseudonyms { .. }");
    }
}
