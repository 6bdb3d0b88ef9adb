//! Payouts, asked for by the platform with an `Idempotency-Key`, and the decisions behind them.
//!
//! Every retry is safe: the same key with the same body gets the first answer again (even an
//! error), the same key with another body gets 422, the same key while the first request is
//! still being answered gets 409, and no key gets 400. Underneath, a period is paid at most
//! once whatever the keys, so even a client that loses its keys cannot be paid twice.

use crate::AppState;
use crate::auth::{Allowed, ReadDecisions, RequestPayouts};
use crate::body::{ApiQuery, JsonBody};
use crate::disclosure::{Answered, Shown};
use crate::error::ApiError;
use crate::routes::member_text::{LocaleQuery, Reader, Showing};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use incentive_engine::{MemberId, Period};
use incentive_store::{
    IdempotencyKey, Keyed, KeyedPayout, PayoutKind, PayoutRequest, StoredDecision,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

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
    /// Whether an auditor reversed this decision's postings; what it posted no longer stands.
    pub reversed: bool,
    /// The ledger entry that reversed it.
    pub reversed_by_entry: Option<i64>,
    /// The engine's decision as recorded, byte for byte: its SHA-256 is `decision_hash`.
    #[schema(value_type = Object)]
    pub decision: Box<serde_json::value::RawValue>,
    /// What the member is shown, in their language (`?locale=`, else the member's `locale`
    /// attribute, else `Accept-Language`): the plan, reward, premium change, status, points and
    /// why — the engine's rounding steps, flags and hashes left out. On the routes that read
    /// decisions.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub shown: Option<incentive_engine::locale::MemberView>,
}

impl From<StoredDecision> for DecisionView {
    fn from(d: StoredDecision) -> Self {
        Self {
            // As recorded rather than parsed and written again (which sorted its keys, so a
            // client could not check the hash, and cost the server CPU for nothing).
            // A body that is not JSON (the store writes none) is shown as `null`.
            decision: serde_json::value::RawValue::from_string(d.body).unwrap_or_default(),
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
            reversed: d.reversed_by.is_some(),
            reversed_by_entry: d.reversed_by,
            shown: None,
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

/// Idempotency keys whose request this process is answering now: a second request with one
/// of them gets 409 at once. (Another process's request with the same key queues behind the
/// first on the tenant's chain-head lock and then replays its answer.)
#[derive(Debug, Default)]
pub struct KeysInFlight(std::sync::Mutex<HashSet<(String, String)>>);

/// A key held by a request; let go when the request is answered (or dropped).
#[derive(Debug)]
pub struct KeyClaim<'a> {
    keys: &'a KeysInFlight,
    id: (String, String),
}

impl KeysInFlight {
    fn claim(&self, tenant: &str, key: &str) -> Option<KeyClaim<'_>> {
        let id = (tenant.to_owned(), key.to_owned());
        let claimed = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id.clone());
        // Built only when claimed: a claim lets its key go on drop, so it must be this one's.
        claimed.then(|| KeyClaim { keys: self, id })
    }
}

impl Drop for KeyClaim<'_> {
    fn drop(&mut self) {
        let mut held = self
            .keys
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        held.remove(&self.id);
    }
}

/// `POST /v1/payouts`.
#[utoipa::path(post, path = "/v1/payouts", tag = "payouts", request_body = PayoutBody, params(("Idempotency-Key" = String, Header, description = "Unique per request; reuse it only to retry")), security(("api_key" = [])), responses((status = 201, description = "Paid, or trued up", body = PayoutAnswer), (status = 200, description = "Already decided: the decision on record", body = PayoutAnswer), (status = 409, description = "The key is in flight", body = crate::error::ErrorBody), (status = 422, description = "The key was used with another body, or no version is in effect", body = crate::error::ErrorBody), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn post_payout(
    State(state): State<AppState>,
    allowed: Allowed<RequestPayouts>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PayoutBody>,
) -> Result<Shown<RequestPayouts, Answered<PayoutAnswer>>, ApiError> {
    let tenant = allowed.tenant();
    let key = headers
        .get("idempotency-key")
        .ok_or_else(|| {
            ApiError::BadRequest(
                "an `Idempotency-Key` header is required: any unique string, reused only to retry this request".into(),
            )
        })?
        .to_str()
        .map_err(|_| ApiError::BadRequest("the `Idempotency-Key` header is not text".into()))?;
    let key = IdempotencyKey::parse(key)?;
    // A request that fails validation is not recorded against its key (nothing started).
    let request = request(tenant, &body)?;
    // The request as parsed and written back, fields in a fixed order: what "the same body"
    // means. Built from the parsed values, not the text sent, so two bodies that decide the
    // same payout (`2026-q1` and `2026-Q1`) are one request to the key as well.
    let canonical = serde_json::to_vec(&PayoutBody {
        member_id: request.member.to_string(),
        policy_id: request.policy_id.clone(),
        period: request.period.to_string(),
    })
    .map_err(|_| ApiError::Internal)?;
    let keyed = Keyed {
        request_hash: incentive_store::ledger::sha256_hex(&canonical),
        key,
    };
    let Some(_claim) = state.keys_in_flight.claim(tenant, keyed.key.as_str()) else {
        return Err(ApiError::Conflict(format!(
            "a request with the Idempotency-Key `{}` is still being answered; retry shortly",
            keyed.key.as_str()
        )));
    };
    let answer = match state.store.pay_keyed(request, keyed.clone()).await {
        Ok(answer) => answer,
        Err(e) => {
            let e = ApiError::from(e);
            let (status, body) = e.to_parts();
            if status.is_server_error() {
                // Not the request's fault: a retry runs it again rather than replay this.
                return Err(e);
            }
            // An error is an answer too; another process may have answered first.
            match state
                .store
                .idempotency_record_error(tenant, &keyed, status.as_u16(), &body)
                .await?
            {
                None => return Ok(allowed.show(Answered::new(json_response(status, body)))),
                Some(first) => first,
            }
        }
    };
    respond(&state, &keyed, answer).map(|r| allowed.show(Answered::new(r)))
}

fn respond(state: &AppState, keyed: &Keyed, answer: KeyedPayout) -> Result<Response, ApiError> {
    let (outcome, replayed) = match answer {
        KeyedPayout::Decided(outcome) => (outcome, false),
        KeyedPayout::Replayed(outcome) => (outcome, true),
        KeyedPayout::ReplayedError { status, response } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            return Ok(json_response(status, response));
        }
        KeyedPayout::DifferentRequest => {
            return Err(ApiError::Unprocessable(format!(
                "the Idempotency-Key `{}` was used with a different request; use a new key for a new request",
                keyed.key.as_str()
            )));
        }
    };
    if !replayed && outcome.kind != PayoutKind::AlreadyDecided {
        state.metrics.ledger_appends.inc();
    }
    let kind = if replayed {
        "replayed"
    } else {
        outcome.kind.as_str()
    };
    state
        .metrics
        .payouts
        .get_or_create(&crate::observe::PayoutLabels {
            kind: kind.to_owned(),
        })
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
    let body = serde_json::to_string(&answer).map_err(|_| ApiError::Internal)?;
    Ok(json_response(status, body))
}

/// The store's request for a body, with the member and period checked.
pub fn request(tenant: &str, body: &PayoutBody) -> Result<PayoutRequest, ApiError> {
    let member = MemberId::parse(&body.member_id)
        .map_err(|e| ApiError::BadRequest(format!("member_id: {e}")))?;
    let period =
        Period::parse(&body.period).map_err(|e| ApiError::BadRequest(format!("period: {e}")))?;
    if !incentive_engine::policy::manifest::is_policy_id(&body.policy_id) {
        return Err(ApiError::BadRequest(format!(
            "policy_id: `{}` is not a policy id (1–64 lowercase letters, digits and `-`)",
            incentive_engine::text::excerpt(&body.policy_id)
        )));
    }
    Ok(PayoutRequest {
        tenant: tenant.to_owned(),
        member,
        policy_id: body.policy_id.clone(),
        period,
    })
}

/// `GET /v1/members/{member_id}/decisions`, in ledger order.
#[utoipa::path(get, path = "/v1/members/{member_id}/decisions", tag = "decisions", params(("member_id" = String, Path), LocaleQuery), security(("api_key" = [])), responses((status = 200, description = "The member's decisions, in ledger order", body = Vec<DecisionView>), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn member_decisions(
    State(state): State<AppState>,
    caller: Allowed<ReadDecisions>,
    Path(member): Path<String>,
    ApiQuery(q): ApiQuery<LocaleQuery>,
    headers: HeaderMap,
) -> Result<Shown<ReadDecisions, Json<Vec<DecisionView>>>, ApiError> {
    let reader = Reader::new(q, &headers)?;
    let decisions = state
        .store
        .decisions(caller.tenant(), Some(&member))
        .await?;
    let mut showing = Showing::new(&state, caller.tenant(), &reader);
    let mut views = Vec::with_capacity(decisions.len());
    for d in decisions {
        let shown = showing.member_view(&d).await?;
        views.push(DecisionView {
            shown: Some(shown),
            ..d.into()
        });
    }
    Ok(caller.show(Json(views)))
}

/// `GET /v1/decisions/{decision_id}`.
#[utoipa::path(get, path = "/v1/decisions/{decision_id}", tag = "decisions", params(("decision_id" = String, Path), LocaleQuery), security(("api_key" = [])), responses((status = 200, description = "The decision", body = DecisionView), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn get_decision(
    State(state): State<AppState>,
    caller: Allowed<ReadDecisions>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<LocaleQuery>,
    headers: HeaderMap,
) -> Result<Shown<ReadDecisions, Json<DecisionView>>, ApiError> {
    let reader = Reader::new(q, &headers)?;
    let decision = state.store.decision(caller.tenant(), &id).await?;
    let shown = Showing::new(&state, caller.tenant(), &reader)
        .member_view(&decision)
        .await?;
    Ok(caller.show(Json(DecisionView {
        shown: Some(shown),
        ..decision.into()
    })))
}

crate::discloses! {
    // A decision's explanation states the member's metrics (and HbA1c) that decided it.
    DecisionView => [Decisions, Metrics];
    PayoutAnswer => [Decisions, Metrics];
}
