//! `GET /v1/caller`: who the key is — its tenant, role and holder — and what it may do, so a
//! client (the workbench) offers a person only what their key's role allows. The server still
//! checks every route; this only saves a person buttons that would answer 403.

use crate::AppState;
use crate::auth::{ACCESSES, Allowed, IdentifyCaller};
use crate::disclosure::Shown;
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use serde::Serialize;

/// The calling key, as the server knows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CallerAnswer {
    pub tenant: String,
    /// `author`, `actuary`, `platform`, `auditor` or `admin`.
    pub role: String,
    /// The person who holds the key, where the key names one (`admin key create --holder`).
    pub holder: Option<String>,
    /// The accesses this role has, by name (`AuthorPolicies`, `RunSimulations` …), as the
    /// server checks them route by route.
    pub may: Vec<String>,
    /// Whether a draft needs another holder's approval before it is published (four eyes).
    pub four_eyes: bool,
}

crate::discloses! {
    // Names, a role and a setting: nothing about a member.
    CallerAnswer => [Operational];
}

#[utoipa::path(get, path = "/v1/caller", tag = "tenant", security(("api_key" = [])), responses((status = 200, description = "The calling key's tenant, role, holder, and what it may do", body = CallerAnswer), (status = 401, description = "No live key", body = crate::error::ErrorBody)))]
pub async fn caller(
    State(state): State<AppState>,
    caller: Allowed<IdentifyCaller>,
) -> Result<Shown<IdentifyCaller, Json<CallerAnswer>>, ApiError> {
    let settings = state.store.tenant_settings(caller.tenant()).await?;
    let who = &caller.0;
    let may = ACCESSES
        .iter()
        .filter(|(_, roles)| roles.contains(&who.role))
        .map(|(name, _)| (*name).to_owned())
        .collect();
    let answer = CallerAnswer {
        tenant: who.tenant.clone(),
        role: who.role.as_str().to_owned(),
        holder: who.holder.clone(),
        may,
        four_eyes: settings.four_eyes,
    };
    Ok(caller.show(Json(answer)))
}
