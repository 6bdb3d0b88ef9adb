//! `POST /v1/policies/{policy_id}/versions/{version}/approve`: four-eyes publishing. A key of
//! another holder than the one whose key stored the draft approves it, with a comment; the
//! approval records who, when and the content hash, and stands only while the draft's files
//! are those approved. When the tenant asks for four eyes (the default), publishing needs one.

use crate::AppState;
use crate::auth::{Allowed, ApprovePolicies};
use crate::body::JsonBody;
use crate::disclosure::Shown;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, State};
use incentive_store::Approval;
use serde::Deserialize;

/// What the approver says of the draft.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalBody {
    /// Why it may ship (at most 2,000 characters).
    #[schema(
        example = "Checked the tiers against the actuarial memo of 3 March",
        max_length = 2000
    )]
    pub comment: String,
}

/// An approval as recorded.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ApprovalAnswer {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub approval: Approval,
}

crate::discloses! {
    ApprovalAnswer => [Policies];
}

#[utoipa::path(post, path = "/v1/policies/{policy_id}/versions/{version}/approve", tag = "policies", params(("policy_id" = String, Path), ("version" = String, Path)), request_body = ApprovalBody, security(("api_key" = [])), responses((status = 200, description = "Approved: the record", body = ApprovalAnswer), (status = 403, description = "Not this role, a key without a holder, or the holder who stored the draft", body = crate::error::ErrorBody), (status = 409, description = "Not a draft", body = crate::error::ErrorBody), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    caller: Allowed<ApprovePolicies>,
    Path((policy_id, version)): Path<(String, String)>,
    JsonBody(body): JsonBody<ApprovalBody>,
) -> Result<Shown<ApprovePolicies, Json<ApprovalAnswer>>, ApiError> {
    let approval = state
        .store
        .approve_policy(&caller.0, &policy_id, &version, &body.comment)
        .await?;
    Ok(caller.show(Json(ApprovalAnswer { approval })))
}
