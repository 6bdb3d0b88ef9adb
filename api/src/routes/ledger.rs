//! The auditor's view of the ledger, always the caller's own tenant.

use crate::AppState;
use crate::auth::{Allowed, AuditLedger};
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use incentive_store::VerifyReport;

/// `GET /v1/ledger/verify`: recomputes the caller's whole chain and balances.
pub async fn verify(
    State(state): State<AppState>,
    caller: Allowed<AuditLedger>,
) -> Result<Json<VerifyReport>, ApiError> {
    Ok(Json(state.store.verify(Some(caller.tenant()), &[]).await?))
}
