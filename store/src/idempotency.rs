//! Idempotency keys: a client retrying a request that moves money gets the first answer back,
//! never a second payout. The HTTP API maps the outcomes to its status codes.

use crate::Store;
use crate::db::{Instant, on_tx};
use crate::error::StoreError;
use sqlx::Row;
use std::time::Duration;

/// Characters an idempotency key may have.
pub const IDEMPOTENCY_KEY_CHARS_MAX: usize = 255;

/// request hash, state, status, response, lease end.
type KeyRow = (String, String, Option<i64>, Option<String>, Instant);

/// What a request with a key may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Idempotency {
    /// The key is new (or its holder died): go ahead, then [`Store::idempotency_finish`].
    Started,
    /// The key was answered: send this again.
    Replay { status: u16, response: String },
    /// The key was used with another request.
    DifferentRequest,
    /// A request with this key is being answered now.
    InFlight,
}

impl Store {
    /// Claims `key` for a request whose canonical bytes hash to `request_hash`, for at most
    /// `lease` (after which a retry may take it over, as from a process that died).
    pub async fn idempotency_begin(
        &self,
        tenant: &str,
        key: &str,
        request_hash: &str,
        lease: Duration,
    ) -> Result<Idempotency, StoreError> {
        if key.is_empty()
            || key.chars().count() > IDEMPOTENCY_KEY_CHARS_MAX
            || key.chars().any(char::is_control)
        {
            return Err(StoreError::BadInput {
                field: "Idempotency-Key".into(),
                reason: format!("must be 1 to {IDEMPOTENCY_KEY_CHARS_MAX} printable characters"),
            });
        }
        let now = self.shared.now();
        let until = Instant::new(
            now.get() + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::zero()),
        );
        let mut tx = self.shared.pool.begin().await?;
        let outcome = on_tx!(&mut tx, c => {
            let row = sqlx::query(
                "SELECT request_hash, state, status, response, locked_until FROM idempotency_keys \
                 WHERE tenant = $1 AND key = $2",
            )
            .bind(tenant)
            .bind(key)
            .fetch_optional(&mut *c)
            .await?
            .map(|r| -> sqlx::Result<KeyRow> {
                Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?))
            })
            .transpose()?;
            match row {
                None => {
                    let n = sqlx::query(
                        "INSERT INTO idempotency_keys (tenant, key, request_hash, state, created_at, locked_until) \
                         VALUES ($1, $2, $3, 'in_flight', $4, $5) ON CONFLICT DO NOTHING",
                    )
                    .bind(tenant)
                    .bind(key)
                    .bind(request_hash)
                    .bind(now)
                    .bind(until)
                    .execute(&mut *c)
                    .await?
                    .rows_affected();
                    // Another process claimed it between our read and write.
                    if n == 1 { Idempotency::Started } else { Idempotency::InFlight }
                }
                Some((hash, _, _, _, _)) if hash != request_hash => Idempotency::DifferentRequest,
                Some((_, state, Some(status), Some(response), _)) if state == "done" => {
                    Idempotency::Replay {
                        status: u16::try_from(status).unwrap_or(500),
                        response,
                    }
                }
                Some((_, _, _, _, locked_until)) if locked_until > now => Idempotency::InFlight,
                Some(_) => {
                    sqlx::query(
                        "UPDATE idempotency_keys SET locked_until = $1 WHERE tenant = $2 AND key = $3 AND state = 'in_flight'",
                    )
                    .bind(until)
                    .bind(tenant)
                    .bind(key)
                    .execute(&mut *c)
                    .await?;
                    Idempotency::Started
                }
            }
        });
        tx.commit().await?;
        Ok(outcome)
    }

    /// Records the answer to a request that [`Store::idempotency_begin`] started.
    pub async fn idempotency_finish(
        &self,
        tenant: &str,
        key: &str,
        status: u16,
        response: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.shared.pool.begin().await?;
        on_tx!(&mut tx, c => {
            sqlx::query(
                "UPDATE idempotency_keys SET state = 'done', status = $1, response = $2 \
                 WHERE tenant = $3 AND key = $4",
            )
            .bind(i64::from(status))
            .bind(response)
            .bind(tenant)
            .bind(key)
            .execute(c)
            .await?;
        });
        tx.commit().await?;
        Ok(())
    }

    /// Lets go of a key whose request failed for a reason a retry may not meet (the database
    /// was down): the next request with it runs afresh instead of replaying the failure.
    pub async fn idempotency_release(&self, tenant: &str, key: &str) -> Result<(), StoreError> {
        let mut tx = self.shared.pool.begin().await?;
        on_tx!(&mut tx, c => {
            sqlx::query("DELETE FROM idempotency_keys WHERE tenant = $1 AND key = $2 AND state = 'in_flight'")
                .bind(tenant)
                .bind(key)
                .execute(c)
                .await?;
        });
        tx.commit().await?;
        Ok(())
    }
}
