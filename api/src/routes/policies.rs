//! Policies, written by the insurer's authors: check a package, store it as a draft, run its
//! cases, publish (immutable from then on, no overlapping dates), retire; list and read versions.
//! A package travels as its files: `{ "files": { "policy.toml": "…", "rules.rhai": "…",
//! "cases/x.toml": "…" } }`.

use crate::AppState;
use crate::auth::{Allowed, AuthorPolicies, ReadPolicies};
use crate::body::JsonBody;
use crate::disclosure::Shown;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use incentive_engine::policy::{self, Diagnostics, PolicySource, SourceFile};
use incentive_store::PolicyVersion;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Files a package may have, and bytes a file: a policy is text an insurer wrote, not data.
const PACKAGE_FILES_MAX: usize = 1_000;
const PACKAGE_FILE_BYTES_MAX: usize = 4 * 1024 * 1024;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageBody {
    pub files: BTreeMap<String, String>,
}

fn source(body: PackageBody) -> Result<PolicySource, ApiError> {
    if body.files.len() > PACKAGE_FILES_MAX {
        return Err(ApiError::BadRequest(format!(
            "files: {} files, more than a package may have ({PACKAGE_FILES_MAX})",
            body.files.len()
        )));
    }
    if let Some((name, text)) = body
        .files
        .iter()
        .find(|(_, t)| t.len() > PACKAGE_FILE_BYTES_MAX)
    {
        return Err(ApiError::BadRequest(format!(
            "files: `{name}` is {} bytes, more than a package file may have ({PACKAGE_FILE_BYTES_MAX})",
            text.len()
        )));
    }
    for name in body.files.keys() {
        package_file_name(name)?;
    }
    Ok(PolicySource {
        name: "package".into(),
        files: body
            .files
            .into_iter()
            .map(|(n, t)| SourceFile::new(n, t))
            .collect(),
    })
}

/// Bytes of a package file's name, with its folders.
const PACKAGE_FILE_NAME_BYTES_MAX: usize = 200;

/// A package file's name is a relative path of plain names, as on the author's disk:
/// `policy.toml`, `cases/march.toml`, `locales/zh-CN.ftl`. Never `..`, an absolute path, a
/// backslash, an empty part or a character a reader cannot see: the names are written out
/// again wherever a package is exported, and must not reach outside its folder there.
fn package_file_name(name: &str) -> Result<(), ApiError> {
    let shown = incentive_engine::text::excerpt(&name.escape_default().to_string());
    let refuse = |why: &str| {
        Err(ApiError::BadRequest(format!(
            "files: `{shown}` is not a package file name: {why}"
        )))
    };
    if name.is_empty() || name.len() > PACKAGE_FILE_NAME_BYTES_MAX {
        return refuse(&format!(
            "a name is 1 to {PACKAGE_FILE_NAME_BYTES_MAX} bytes"
        ));
    }
    if let Err(why) = incentive_engine::text::visible(name) {
        return refuse(&format!("it {why}"));
    }
    if name.starts_with('/') || name.contains('\\') || name.contains(':') {
        return refuse("write a path relative to the package, with `/` between folders");
    }
    if name
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return refuse("no part of it may be empty, `.` or `..`");
    }
    Ok(())
}

/// A version named in a request, checked before it is looked up or written into an answer:
/// what a policy's version may be (1–32 ASCII letters, digits, `.`, `-`, `+` or `_`), else 400
/// naming `field`.
pub(crate) fn version_named(field: &str, version: &str) -> Result<(), ApiError> {
    if incentive_engine::policy::manifest::is_version(version) {
        return Ok(());
    }
    Err(ApiError::BadRequest(format!(
        "{field}: `{}` is not a version: 1 to {} ASCII letters, digits, `.`, `-`, `+` or `_`",
        incentive_engine::text::excerpt(&version.escape_default().to_string()),
        incentive_engine::policy::manifest::VERSION_BYTES_MAX
    )))
}

fn invalid(diagnostics: &Diagnostics) -> ApiError {
    ApiError::PolicyInvalid {
        count: diagnostics.errors().count(),
        diagnostics: serde_json::to_value(diagnostics).unwrap_or(Value::Null),
    }
}

/// `POST /v1/policies/check`: every problem of a package at once, with file, line and column;
/// nothing is stored.
#[utoipa::path(post, path = "/v1/policies/check", tag = "policies", request_body = PackageBody, security(("api_key" = [])), responses((status = 200, description = "Every diagnostic with file, line and column"), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn check(
    State(state): State<AppState>,
    caller: Allowed<AuthorPolicies>,
    JsonBody(body): JsonBody<PackageBody>,
) -> Result<Shown<AuthorPolicies, Json<PolicyAnswer>>, ApiError> {
    let source = source(body)?;
    // Checking runs the script on probe records: policy code, so on the evaluation threads.
    let checked = state
        .compute
        .run(move || match policy::load(&source) {
            Ok(package) => json!({ "ok": true, "diagnostics": package.warnings }),
            Err(diagnostics) => json!({ "ok": false, "diagnostics": diagnostics }),
        })
        .await?;
    Ok(caller.show(Json(PolicyAnswer(checked))))
}

/// A policy-shaped answer: diagnostics, a status.
#[derive(Debug, serde::Serialize)]
#[serde(transparent)]
pub struct PolicyAnswer(pub Value);

/// Each case of a package, decided: records the author wrote, no member's.
#[derive(Debug, serde::Serialize)]
#[serde(transparent)]
pub struct CaseResults(pub Value);

crate::discloses! {
    PolicyAnswer => [Policies];
    CaseResults => [Policies, TrialDecisions];
    PolicyVersion => [Policies];
    Vec<String> => [Policies];
}

/// `POST /v1/policies/test`: runs the package's cases; nothing is stored.
#[utoipa::path(post, path = "/v1/policies/test", tag = "policies", request_body = PackageBody, security(("api_key" = [])), responses((status = 200, description = "Each case, passed or with its mismatches"), (status = 422, description = "The package does not load", body = crate::error::ErrorBody), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn test(
    State(state): State<AppState>,
    caller: Allowed<AuthorPolicies>,
    JsonBody(body): JsonBody<PackageBody>,
) -> Result<Shown<AuthorPolicies, Json<CaseResults>>, ApiError> {
    let source = source(body)?;
    // Each case may take the sandbox's whole budget: their number bounds the request's work.
    let cases_max = state.limits.policy_cases_max;
    let cases = source
        .files
        .iter()
        .filter(|f| f.name.starts_with("cases/") && f.name.ends_with(".toml"))
        .count();
    if cases > cases_max {
        return Err(ApiError::BadRequest(format!(
            "files: the package has {cases} cases, more than the {cases_max} one request may run (policy_cases_max); run them with `incentive policy test`, or in parts"
        )));
    }
    let tested = state
        .compute
        .run(move || {
            let package = policy::load(&source).map_err(|d| invalid(&d))?;
            let (outcomes, failed, cells) = package.run_cases_covered();
            Ok::<_, ApiError>(json!({
                "passed": outcomes.len() - failed,
                "failed": failed,
                "cases": outcomes,
                "cells_no_case_reaches": cells,
                "branches_no_case_reaches": package.branches_no_case_reaches(),
            }))
        })
        .await??;
    Ok(caller.show(Json(CaseResults(tested))))
}

/// `POST /v1/policies`: stores a checked package as a draft version (replacing a draft of the
/// same version; a published one is never replaced).
#[utoipa::path(post, path = "/v1/policies", tag = "policies", request_body = PackageBody, security(("api_key" = [])), responses((status = 201, description = "Stored as a draft"), (status = 409, description = "That version is published", body = crate::error::ErrorBody), (status = 422, description = "The package does not load: every diagnostic", body = crate::error::ErrorBody), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Allowed<AuthorPolicies>,
    JsonBody(body): JsonBody<PackageBody>,
) -> Result<Shown<AuthorPolicies, (StatusCode, Json<PolicyVersion>)>, ApiError> {
    let source = source(body)?;
    // Stored by the key's holder, whom four eyes keep from approving it.
    match state
        .store
        .put_policy_by(caller.tenant(), &source, caller.0.holder.as_deref())
        .await
    {
        Ok(v) => Ok(caller.show((StatusCode::CREATED, Json(v)))),
        Err(incentive_store::StoreError::PolicyInvalid { diagnostics, .. }) => {
            Err(invalid(&diagnostics))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /v1/policies/{policy_id}/versions/{version}/publish`.
#[utoipa::path(post, path = "/v1/policies/{policy_id}/versions/{version}/publish", tag = "policies", params(("policy_id" = String, Path), ("version" = String, Path)), security(("api_key" = [])), responses((status = 200, description = "Published: immutable from now on"), (status = 409, description = "Not a draft, overlapping dates, or (four eyes) no approval of the draft as it is", body = crate::error::ErrorBody), (status = 422, description = "Slower to decide than policy_decision_ms_max", body = crate::error::ErrorBody), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    caller: Allowed<AuthorPolicies>,
    Path((policy_id, version)): Path<(String, String)>,
) -> Result<Shown<AuthorPolicies, Json<PolicyVersion>>, ApiError> {
    let policy = state
        .store
        .policy_version_compiled(caller.tenant(), &policy_id, &version)
        .await?;
    let limit_ms = state.limits.policy_decision_ms_max;
    let slowest = state.compute.run(move || slowest_probe(&policy)).await?;
    if let Some((ms, probe)) = slowest
        && ms > limit_ms
    {
        return Err(ApiError::Unprocessable(format!(
            "policy `{policy_id}` version {version} took {ms} ms to decide the probe member `{probe}`, more than the {limit_ms} ms a decision may take on this server (policy_decision_ms_max): every payout of the tenant waits behind its decisions; make it cheaper, or ask the operator to raise the limit"
        )));
    }
    let published = state
        .store
        .publish_policy_approved(caller.tenant(), &policy_id, &version)
        .await?;
    state.metrics.ledger_appends.inc();
    Ok(caller.show(Json(published)))
}

/// How long a policy takes to decide, measured on the probe members `check` runs it on: the
/// slowest probe's time in whole milliseconds (each probe's best of three runs, so a busy
/// machine's pause is not charged to the policy), and which probe it was.
fn slowest_probe(policy: &incentive_engine::policy::Policy) -> Option<(u64, &'static str)> {
    use incentive_engine::policy::EvaluationInput;
    incentive_engine::policy::probes::probes(policy)
        .iter()
        .map(|probe| {
            let best = (0..3)
                .map(|_| {
                    let started = std::time::Instant::now();
                    // A probe that fails is `check`'s business; its cost still counts.
                    let _ = policy.evaluate(&EvaluationInput {
                        member: &probe.member,
                        period: probe.period,
                        readings: &probe.readings,
                        labs: &probe.labs,
                        history: &probe.history,
                    });
                    started.elapsed()
                })
                .min()
                .unwrap_or_default();
            (
                u64::try_from(best.as_millis()).unwrap_or(u64::MAX),
                probe.description,
            )
        })
        .max()
}

/// `POST /v1/policies/{policy_id}/versions/{version}/retire`.
#[utoipa::path(post, path = "/v1/policies/{policy_id}/versions/{version}/retire", tag = "policies", params(("policy_id" = String, Path), ("version" = String, Path)), security(("api_key" = [])), responses((status = 200, description = "Retired"), (status = 409, description = "Not published", body = crate::error::ErrorBody), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn retire(
    State(state): State<AppState>,
    caller: Allowed<AuthorPolicies>,
    Path((policy_id, version)): Path<(String, String)>,
) -> Result<Shown<AuthorPolicies, Json<PolicyAnswer>>, ApiError> {
    state
        .store
        .retire_policy(caller.tenant(), &policy_id, &version)
        .await?;
    Ok(caller.show(Json(PolicyAnswer(
        json!({ "policy_id": policy_id, "version": version, "status": "retired" }),
    ))))
}

/// `GET /v1/policies`: the tenant's policy ids.
#[utoipa::path(get, path = "/v1/policies", tag = "policies", security(("api_key" = [])), responses((status = 200, description = "The tenant's policy ids", body = Vec<String>), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Allowed<ReadPolicies>,
) -> Result<Shown<ReadPolicies, Json<Vec<String>>>, ApiError> {
    let ids = state.store.policies(caller.tenant()).await?;
    Ok(caller.show(Json(ids)))
}

/// A version with who stored it and its approvals (four eyes), each marked whether it still
/// stands.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct VersionHistory {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub version: PolicyVersion,
    #[schema(value_type = Vec<Object>)]
    pub approvals: Vec<incentive_store::Approval>,
}

crate::discloses! {
    Vec<VersionHistory> => [Policies];
}

/// `GET /v1/policies/{policy_id}/versions`, oldest effective date first.
#[utoipa::path(get, path = "/v1/policies/{policy_id}/versions", tag = "policies", params(("policy_id" = String, Path)), security(("api_key" = [])), responses((status = 200, description = "Every version, oldest first"), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn versions(
    State(state): State<AppState>,
    caller: Allowed<ReadPolicies>,
    Path(policy_id): Path<String>,
) -> Result<Shown<ReadPolicies, Json<Vec<VersionHistory>>>, ApiError> {
    let versions = state
        .store
        .policy_versions(caller.tenant(), &policy_id)
        .await?;
    if versions.is_empty() {
        return Err(ApiError::NotFound(format!(
            "policy `{policy_id}` does not exist"
        )));
    }
    let mut approvals = state
        .store
        .policy_approvals_by_version(caller.tenant(), &policy_id)
        .await?;
    let history = versions
        .into_iter()
        .map(|version| VersionHistory {
            approvals: approvals.remove(&version.version).unwrap_or_default(),
            version,
        })
        .collect();
    Ok(caller.show(Json(history)))
}

/// A stored version's files, as its author wrote them: what an editor opens.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct VersionFiles {
    pub policy_id: String,
    pub version: String,
    /// File name (`policy.toml`, `rules.rhai`, `cases/…`, `locales/…`) → text.
    pub files: BTreeMap<String, String>,
}

crate::discloses! {
    VersionFiles => [Policies];
}

/// `GET /v1/policies/{policy_id}/versions/{version}/files`.
#[utoipa::path(get, path = "/v1/policies/{policy_id}/versions/{version}/files", tag = "policies", params(("policy_id" = String, Path), ("version" = String, Path)), security(("api_key" = [])), responses((status = 200, description = "The version's package files", body = VersionFiles), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn version_files(
    State(state): State<AppState>,
    caller: Allowed<ReadPolicies>,
    Path((policy_id, version)): Path<(String, String)>,
) -> Result<Shown<ReadPolicies, Json<VersionFiles>>, ApiError> {
    let source = state
        .store
        .policy_version_source(caller.tenant(), &policy_id, &version)
        .await?;
    let files = source.files.into_iter().map(|f| (f.name, f.text)).collect();
    Ok(caller.show(Json(VersionFiles {
        policy_id,
        version,
        files,
    })))
}
