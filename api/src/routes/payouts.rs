//! Payouts, asked for by the platform with an `Idempotency-Key`, and the decisions behind them.
//!
//! Every retry is safe: the same key with the same body gets the first answer again (even an
//! error), the same key with another body gets 422, the same key while the first request is
//! still being answered gets 409, and no key gets 400. Underneath, a period is paid at most
//! once whatever the keys, so even a client that loses its keys cannot be paid twice.

use crate::AppState;
use crate::auth::{Allowed, ReadDecisions, RequestPayouts};
use crate::body::JsonBody;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use incentive_engine::{MemberId, Period};
use incentive_store::{Idempotency, PayoutKind, PayoutOutcome, PayoutRequest, StoredDecision};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayoutBody {
    pub member_id: String,
    pub policy_id: String,
    /// `2026-03`, `2026-Q1` or `2026`, of the policy's kind.
    pub period: String,
}

/// A decision as the API shows it: what was decided and posted, and the engine's decision
/// itself (with its explanation) as JSON.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DecisionView {
    pub id: String,
    pub member_id: String,
    pub policy_id: String,
    pub policy_version: String,
    pub period: String,
    pub ordinal: i64,
    pub supersedes: Option<String>,
    pub reward: Decimal,
    pub premium_adjustment_percent: Decimal,
    pub reward_posted: Decimal,
    pub premium_posted: Decimal,
    pub qualified: bool,
    pub tier: Option<String>,
    pub points: i64,
    pub ledger_seq: i64,
    pub created_at: String,
    pub input_hash: String,
    pub decision_hash: String,
    pub decision: serde_json::Value,
}

impl From<StoredDecision> for DecisionView {
    fn from(d: StoredDecision) -> Self {
        Self {
            decision: serde_json::from_str(&d.body).unwrap_or(serde_json::Value::Null),
            id: d.id,
            member_id: d.member_id,
            policy_id: d.policy_id,
            policy_version: d.policy_version,
            period: d.period,
            ordinal: d.ordinal,
            supersedes: d.supersedes,
            reward: d.reward,
            premium_adjustment_percent: d.premium_adjustment_percent,
            reward_posted: d.reward_posted,
            premium_posted: d.premium_posted,
            qualified: d.qualified,
            tier: d.tier,
            points: d.points,
            ledger_seq: d.ledger_seq,
            created_at: d.created_at,
            input_hash: d.input_hash,
            decision_hash: d.decision_hash,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PayoutAnswer {
    /// `paid`, `true_up` or `already_decided`.
    #[schema(value_type = String)]
    pub kind: PayoutKind,
    pub decision: DecisionView,
}

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `POST /v1/payouts`.
#[utoipa::path(post, path = "/v1/payouts", tag = "payouts", request_body = PayoutBody, params(("Idempotency-Key" = String, Header, description = "Unique per request; reuse it only to retry")), security(("api_key" = [])), responses((status = 201, description = "Paid, or trued up", body = PayoutAnswer), (status = 200, description = "Already decided: the decision on record", body = PayoutAnswer), (status = 409, description = "The key is in flight", body = crate::error::ErrorBody), (status = 422, description = "The key was used with another body, or no version is in effect", body = crate::error::ErrorBody), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn post_payout(
    State(state): State<AppState>,
    allowed: Allowed<RequestPayouts>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PayoutBody>,
) -> Result<Response, ApiError> {
    let caller = &allowed.0;
    let key = headers
        .get("idempotency-key")
        .ok_or_else(|| {
            ApiError::BadRequest(
                "an `Idempotency-Key` header is required: any unique string, reused only to retry this request".into(),
            )
        })?
        .to_str()
        .map_err(|_| ApiError::BadRequest("the `Idempotency-Key` header is not text".into()))?
        .to_owned();
    // The request as parsed, fields in a fixed order: what "the same body" means.
    let canonical = serde_json::to_vec(&body).map_err(|_| ApiError::Internal)?;
    let request_hash = incentive_store::ledger::sha256_hex(&canonical);
    let lease = Duration::from_secs(state.limits.idempotency_lease_seconds);
    let store = &state.store;
    match store
        .idempotency_begin(&caller.tenant, &key, &request_hash, lease)
        .await?
    {
        Idempotency::Replay { status, response } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            return Ok(json_response(status, response));
        }
        Idempotency::DifferentRequest => {
            return Err(ApiError::Unprocessable(format!(
                "the Idempotency-Key `{key}` was used with a different request; use a new key for a new request"
            )));
        }
        Idempotency::InFlight => {
            return Err(ApiError::Conflict(format!(
                "a request with the Idempotency-Key `{key}` is still being answered; retry shortly"
            )));
        }
        Idempotency::Started => {}
    }
    let (status, answer) = match pay(&state, &caller.tenant, &body).await {
        Ok(outcome) => {
            let kind = serde_json::to_value(outcome.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            state
                .metrics
                .payouts
                .get_or_create(&crate::observe::PayoutLabels { kind })
                .inc();
            let status = if outcome.kind == PayoutKind::AlreadyDecided {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            let answer = PayoutAnswer {
                kind: outcome.kind,
                decision: outcome.decision.into(),
            };
            (
                status,
                serde_json::to_string(&answer).map_err(|_| ApiError::Internal)?,
            )
        }
        Err(e) => {
            let (status, body) = e.to_parts();
            if status.is_server_error() {
                // Not the request's fault: let a retry run it again rather than replay this.
                let _ = store.idempotency_release(&caller.tenant, &key).await;
                return Err(e);
            }
            (status, body)
        }
    };
    if let Err(e) = store
        .idempotency_finish(&caller.tenant, &key, status.as_u16(), &answer)
        .await
    {
        tracing::error!(error = %e, "could not record an idempotent answer");
    }
    Ok(json_response(status, answer))
}

/// The store's request for a body, with the member and period checked.
pub fn request(tenant: &str, body: &PayoutBody) -> Result<PayoutRequest, ApiError> {
    let member = MemberId::parse(&body.member_id)
        .map_err(|e| ApiError::BadRequest(format!("member_id: {e}")))?;
    let period =
        Period::parse(&body.period).map_err(|e| ApiError::BadRequest(format!("period: {e}")))?;
    Ok(PayoutRequest {
        tenant: tenant.to_owned(),
        member,
        policy_id: body.policy_id.clone(),
        period,
    })
}

async fn pay(state: &AppState, tenant: &str, body: &PayoutBody) -> Result<PayoutOutcome, ApiError> {
    Ok(state.store.pay(request(tenant, body)?).await?)
}

/// `GET /v1/members/{member_id}/decisions`, in ledger order.
#[utoipa::path(get, path = "/v1/members/{member_id}/decisions", tag = "decisions", params(("member_id" = String, Path)), security(("api_key" = [])), responses((status = 200, description = "The member's decisions, in ledger order", body = Vec<DecisionView>), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn member_decisions(
    State(state): State<AppState>,
    caller: Allowed<ReadDecisions>,
    Path(member): Path<String>,
) -> Result<Json<Vec<DecisionView>>, ApiError> {
    let decisions = state
        .store
        .decisions(caller.tenant(), Some(&member))
        .await?;
    Ok(Json(
        decisions.into_iter().map(DecisionView::from).collect(),
    ))
}

/// `GET /v1/decisions/{decision_id}`.
#[utoipa::path(get, path = "/v1/decisions/{decision_id}", tag = "decisions", params(("decision_id" = String, Path)), security(("api_key" = [])), responses((status = 200, description = "The decision", body = DecisionView), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn get_decision(
    State(state): State<AppState>,
    caller: Allowed<ReadDecisions>,
    Path(id): Path<String>,
) -> Result<Json<DecisionView>, ApiError> {
    Ok(Json(
        state.store.decision(caller.tenant(), &id).await?.into(),
    ))
}
