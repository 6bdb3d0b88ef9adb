//! The auditor's routes: reversals, replay, checkpoints and the CSV export, always of the
//! caller's own tenant.

use crate::AppState;
use crate::auth::{Allowed, AuditLedger, ReverseDecisions};
use crate::body::JsonBody;
use crate::disclosure::{Answered, Shown};
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use incentive_store::{Checkpoint, Replay, Reversal};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReversalBody {
    /// Why, in words an auditor will read; it goes into the ledger.
    pub reason: String,
}

/// `POST /v1/decisions/{decision_id}/reversal`.
#[utoipa::path(post, path = "/v1/decisions/{decision_id}/reversal", tag = "ledger", params(("decision_id" = String, Path)), request_body = ReversalBody, security(("api_key" = [])), responses((status = 200, description = "Reversed"), (status = 409, description = "Already reversed", body = crate::error::ErrorBody), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn reverse(
    State(state): State<AppState>,
    caller: Allowed<ReverseDecisions>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReversalBody>,
) -> Result<Shown<ReverseDecisions, Json<Reversal>>, ApiError> {
    let by = format!("{} ({})", caller.0.key_id, caller.0.role.as_str());
    let reversal = state
        .store
        .reverse(caller.tenant(), &id, &body.reason, &by)
        .await?;
    state.metrics.ledger_appends.inc();
    Ok(caller.show(Json(reversal)))
}

/// `POST /v1/decisions/{decision_id}/replay`: re-runs it from its stored inputs.
#[utoipa::path(post, path = "/v1/decisions/{decision_id}/replay", tag = "ledger", params(("decision_id" = String, Path)), security(("api_key" = [])), responses((status = 200, description = "identical, differs, inputs_erased or failed"), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn replay(
    State(state): State<AppState>,
    caller: Allowed<AuditLedger>,
    Path(id): Path<String>,
) -> Result<Shown<AuditLedger, Json<Replay>>, ApiError> {
    let decision = state.store.decision(caller.tenant(), &id).await?;
    let replayed = state.store.replay(&decision).await?;
    Ok(caller.show(Json(replayed)))
}

/// `GET /v1/ledger/checkpoint`: where the caller's chain stands.
#[utoipa::path(get, path = "/v1/ledger/checkpoint", tag = "ledger", security(("api_key" = [])), responses((status = 200, description = "Where the chain stands"), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn checkpoint(
    State(state): State<AppState>,
    caller: Allowed<AuditLedger>,
) -> Result<Shown<AuditLedger, Json<Vec<Checkpoint>>>, ApiError> {
    let checkpoint = state.store.checkpoint(Some(caller.tenant())).await?;
    Ok(caller.show(Json(checkpoint)))
}

/// `GET /v1/ledger/export`: the caller's postings as CSV.
#[utoipa::path(get, path = "/v1/ledger/export", tag = "ledger", security(("api_key" = [])), responses((status = 200, description = "The postings as CSV", body = String, content_type = "text/csv"), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    caller: Allowed<AuditLedger>,
) -> Result<Shown<AuditLedger, Answered<LedgerExport>>, ApiError> {
    let mut csv = Vec::new();
    state
        .store
        .export_csv(Some(caller.tenant()), &mut csv)
        .await?;
    Ok(caller.show(Answered::new(
        ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response(),
    )))
}

/// The postings as CSV.
#[derive(Debug)]
pub struct LedgerExport;

crate::discloses! {
    // A reversal is a ledger entry undoing a decision's postings.
    Reversal => [LedgerPostings, Decisions];
    // The decision recomputed from its stored inputs, beside the one on record.
    Replay => [Decisions, Metrics];
    Checkpoint => [LedgerPostings];
    LedgerExport => [LedgerPostings];
}
