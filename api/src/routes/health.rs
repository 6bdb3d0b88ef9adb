//! `/healthz` (the process answers) and `/readyz` (and its database does).

use crate::AppState;
use crate::error::ApiError;
use axum::extract::State;

#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "The process answers", body = String)))]
pub async fn healthz() -> &'static str {
    "ok"
}

#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, description = "The database answers", body = String), (status = 503, description = "It does not", body = crate::error::ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    // A probe wants an answer, not a wait: with the database down, taking a connection from
    // the pool would retry for the pool's whole acquire timeout (30 s by default).
    match tokio::time::timeout(
        std::time::Duration::from_millis(READY_PING_TIMEOUT_MS),
        state.store.ping(),
    )
    .await
    {
        Ok(Ok(())) => Ok("ready"),
        Ok(Err(_)) | Err(_) => Err(ApiError::Unavailable),
    }
}

/// How long `/readyz` waits for the database before it answers 503.
const READY_PING_TIMEOUT_MS: u64 = 2_000;
