//! The auditor's view of the ledger, always the caller's own tenant.

use crate::AppState;
use crate::auth::{Allowed, AuditLedger};
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use incentive_store::VerifyReport;

/// `GET /v1/ledger/verify`: recomputes the caller's whole chain and balances.
#[utoipa::path(get, path = "/v1/ledger/verify", tag = "ledger", security(("api_key" = [])), responses((status = 200, description = "The whole chain and every balance, recomputed"), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    caller: Allowed<AuditLedger>,
) -> Result<Json<VerifyReport>, ApiError> {
    Ok(Json(state.store.verify(Some(caller.tenant()), &[]).await?))
}
