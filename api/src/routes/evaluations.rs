//! `POST /v1/evaluations`: what a member would get for a period if paid now; nothing moves.

use crate::AppState;
use crate::auth::{Allowed, DryRun};
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::routes::payouts::{PayoutAnswer, PayoutBody, request};
use axum::Json;
use axum::extract::State;

#[utoipa::path(post, path = "/v1/evaluations", tag = "payouts", request_body = PayoutBody, security(("api_key" = [])), responses((status = 200, description = "What a payout would decide now; nothing is posted", body = PayoutAnswer), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn evaluate(
    State(state): State<AppState>,
    caller: Allowed<DryRun>,
    JsonBody(body): JsonBody<PayoutBody>,
) -> Result<Json<PayoutAnswer>, ApiError> {
    let outcome = state
        .store
        .dry_run(request(caller.tenant(), &body)?)
        .await?;
    Ok(Json(PayoutAnswer {
        kind: outcome.kind,
        decision: outcome.decision.into(),
    }))
}
