//! `/healthz` (the process answers) and `/readyz` (and its database does).

use crate::AppState;
use crate::error::ApiError;
use axum::extract::State;

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state
        .store
        .ping()
        .await
        .map(|()| "ready")
        .map_err(|_| ApiError::Unavailable)
}
