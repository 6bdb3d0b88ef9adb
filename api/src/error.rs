//! One error type for every route, mapped to a status code and a JSON body
//! `{ "error": { "code", "message" } }` that names what the client sent and never an internal.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use incentive_store::StoreError;
use serde_json::json;

/// Every error's body.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, for programs: `unauthenticated`, `forbidden`, `not_found`, `bad_request`,
    /// `conflict`, `unprocessable`, `policy_invalid`, `too_large`, `overloaded`, `timed_out`,
    /// `body_timed_out`, `too_many_simulations`, `unavailable`, `internal`.
    pub code: String,
    /// For people: what was wrong, naming the field, file, line or limit.
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("a bearer API key is required: `Authorization: Bearer ik_…`")]
    Unauthenticated,
    #[error("this key's role ({role}) may not {action}")]
    Forbidden {
        role: &'static str,
        action: &'static str,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    /// This key may do this kind of thing, but not this one (four eyes: not its own draft).
    #[error("{0}")]
    NotThisKey(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("the request body is {bytes} bytes, more than the {limit} this server accepts")]
    TooLarge { bytes: usize, limit: usize },
    #[error(
        "the batch has {count} readings, more than the {limit} one batch may carry; send it in parts"
    )]
    TooManyReadings { count: usize, limit: usize },
    #[error(
        "the policy package has {count} error(s); each is listed with its file, line and column"
    )]
    PolicyInvalid {
        count: usize,
        diagnostics: serde_json::Value,
    },
    #[error("the server is answering its limit of {limit} requests at once; retry shortly")]
    Overloaded { limit: usize },
    #[error(
        "the request took longer than the server's limit of {limit_ms} ms; it may still complete — retry with the same Idempotency-Key"
    )]
    TimedOut { limit_ms: u64 },
    #[error(
        "the request body did not arrive whole within the server's limit of {limit_ms} ms; send it again, at once"
    )]
    BodyTimedOut { limit_ms: u64 },
    #[error(
        "this server runs {running} simulation(s) at once and queues {waiting}, and has as many as that; retry when one has finished"
    )]
    TooManySimulations { running: usize, waiting: usize },
    #[error(
        "this tenant has {limit} simulation(s) running or waiting, as many as one tenant may (simulations_per_tenant_max); retry when one has finished, or cancel one with DELETE /v1/simulations/{{simulation_id}}"
    )]
    TenantSimulationsMax { limit: usize },
    #[error(
        "this server runs {running} policy evaluation(s) or upload reading(s) at once and queues {waiting}, and has as many as that; retry shortly"
    )]
    EvaluationsBusy { running: usize, waiting: usize },
    #[error(
        "this tenant already has {queued} payouts waiting to be decided; retry shortly (the other tenants' are not held up)"
    )]
    TenantBusy { queued: usize },
    #[error("the service cannot serve this now; retry later")]
    Unavailable,
    #[error("an internal error occurred; it has been logged")]
    Internal,
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            Self::Forbidden { .. } | Self::NotThisKey(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Self::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable"),
            Self::TooLarge { .. } | Self::TooManyReadings { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
            }
            Self::PolicyInvalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "policy_invalid"),
            Self::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::TooManySimulations { .. } | Self::TenantSimulationsMax { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_simulations")
            }
            Self::Overloaded { .. } | Self::EvaluationsBusy { .. } | Self::TenantBusy { .. } => {
                (StatusCode::SERVICE_UNAVAILABLE, "overloaded")
            }
            Self::TimedOut { .. } => (StatusCode::SERVICE_UNAVAILABLE, "timed_out"),
            Self::BodyTimedOut { .. } => (StatusCode::REQUEST_TIMEOUT, "body_timed_out"),
            Self::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// The status and body a response carries (also what an idempotency key keeps).
    pub fn to_parts(&self) -> (StatusCode, String) {
        let (status, _) = self.status_and_code();
        (status, self.body().to_string())
    }
}

impl ApiError {
    fn body(&self) -> serde_json::Value {
        let (_, code) = self.status_and_code();
        match self {
            Self::PolicyInvalid { diagnostics, .. } => json!({
                "error": { "code": code, "message": self.to_string(), "diagnostics": diagnostics }
            }),
            _ => json!({ "error": { "code": code, "message": self.to_string() } }),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, _) = self.status_and_code();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // "Retry" said in HTTP's own words too, for clients and proxies that read it.
            return (status, [("retry-after", "1")], Json(self.body())).into_response();
        }
        (status, Json(self.body())).into_response()
    }
}

/// A simulation's or a backtest's refusal: a span or setting the request gave is named as the
/// request's field (the engine words it as the command line's flag); anything else is the
/// policy's failure to decide.
impl From<incentive_simulations::SimError> for ApiError {
    fn from(e: incentive_simulations::SimError) -> Self {
        match e {
            incentive_simulations::SimError::Config(message) => {
                ApiError::BadRequest(message.replace("--", ""))
            }
            other => ApiError::Unprocessable(other.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        use StoreError as S;
        match e {
            // Another tenant's objects, and objects that do not exist, look the same: 404.
            S::UnknownTenant(_)
            | S::UnknownMember { .. }
            | S::UnknownPolicyVersion { .. }
            | S::UnknownDecision(_)
            | S::UnknownSimulation(_) => Self::NotFound(e.to_string()),
            S::NoVersionInEffect { .. } | S::PolicyInvalid { .. } | S::Evaluation(_) => {
                Self::Unprocessable(e.to_string())
            }
            S::BadInput { .. } | S::BadTenantName(_) => Self::BadRequest(e.to_string()),
            S::NotApprover(m) => Self::NotThisKey(m),
            S::NeedsApproval(m) => Self::Conflict(m),
            S::TenantExists(_)
            | S::PolicyVersionExists { .. }
            | S::PolicyWrongStatus { .. }
            | S::PolicyOverlap { .. }
            | S::AlreadyReversed { .. } => Self::Conflict(e.to_string()),
            S::TenantBusy { queued } => Self::TenantBusy { queued },
            _ if e.is_transient() => {
                tracing::warn!(error = %e, "store unavailable; the client may retry");
                Self::Unavailable
            }
            S::ShuttingDown => Self::Unavailable,
            S::BadUrl { .. }
            | S::Connect { .. }
            | S::Migration(_)
            | S::Database(_)
            | S::Corrupt(_) => {
                tracing::error!(error = %e, "store error");
                Self::Internal
            }
        }
    }
}
