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
    state
        .store
        .ping()
        .await
        .map(|()| "ready")
        .map_err(|_| ApiError::Unavailable)
}
