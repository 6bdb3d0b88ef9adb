//! `GET` and `PUT /v1/settings`: the caller's tenant's settings, which only its admin sees
//! and sets: the FHIR identifier system whose values are the tenant's member ids, read by bulk
//! FHIR uploads (`POST /v1/readings` with `Content-Type: application/fhir+json`), and whether
//! publishing asks for four eyes (on by default).

use crate::AppState;
use crate::auth::{Allowed, ManageSettings};
use crate::body::JsonBody;
use crate::disclosure::Shown;
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use incentive_store::{IdentifierSystem, TenantSettings};
use serde::{Deserialize, Serialize};

/// A tenant's settings, all of them: a `PUT` sets every one (one left out is unset).
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    /// The FHIR identifier system (an absolute URI, at most 256 bytes) whose values are this
    /// tenant's member ids: a bulk FHIR upload gives each patient's data to the member their
    /// identifier in this system names. Unset, bulk FHIR uploads are refused.
    #[schema(example = "https://insurer.example/member-id", max_length = 256)]
    pub fhir_member_identifier_system: Option<String>,
    /// Whether a draft must be approved by a key of another holder before it is published
    /// (four eyes). On unless set false.
    pub four_eyes: Option<bool>,
}

impl From<TenantSettings> for SettingsBody {
    fn from(s: TenantSettings) -> Self {
        Self {
            fhir_member_identifier_system: s.fhir_member_identifier_system.map(String::from),
            four_eyes: Some(s.four_eyes),
        }
    }
}

crate::discloses! {
    // How data comes in; nothing about a member.
    SettingsBody => [Operational];
}

#[utoipa::path(get, path = "/v1/settings", tag = "tenant", security(("api_key" = [])), responses((status = 200, description = "The tenant's settings", body = SettingsBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody)))]
pub async fn get_settings(
    State(state): State<AppState>,
    caller: Allowed<ManageSettings>,
) -> Result<Shown<ManageSettings, Json<SettingsBody>>, ApiError> {
    let settings = state.store.tenant_settings(caller.tenant()).await?;
    Ok(caller.show(Json(settings.into())))
}

#[utoipa::path(put, path = "/v1/settings", tag = "tenant", request_body = SettingsBody, security(("api_key" = [])), responses((status = 200, description = "The settings as now set", body = SettingsBody), (status = 400, description = "A setting that cannot be, named", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody)))]
pub async fn put_settings(
    State(state): State<AppState>,
    caller: Allowed<ManageSettings>,
    JsonBody(body): JsonBody<SettingsBody>,
) -> Result<Shown<ManageSettings, Json<SettingsBody>>, ApiError> {
    let settings = TenantSettings {
        fhir_member_identifier_system: body
            .fhir_member_identifier_system
            .as_deref()
            .map(IdentifierSystem::parse)
            .transpose()?,
        four_eyes: body.four_eyes.unwrap_or(true),
    };
    state
        .store
        .set_tenant_settings(caller.tenant(), &settings)
        .await?;
    Ok(caller.show(Json(settings.into())))
}
