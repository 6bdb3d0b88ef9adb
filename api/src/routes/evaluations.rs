//! `POST /v1/evaluations`: what a member would get for a period if paid now; nothing moves.

use crate::AppState;
use crate::auth::{Allowed, DryRun};
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::routes::payouts::{PayoutAnswer, PayoutBody, request};
use axum::Json;
use axum::extract::State;

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
