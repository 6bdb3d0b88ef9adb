//! Evaluations that post nothing. `POST /v1/evaluations`: what a real member would get for a
//! period if paid now, read from the member's stored data — so only for the roles that may see
//! it (platform, admin). `POST /v1/evaluations/trial`: a policy run on a record the caller
//! writes in the body, as a case file does — what an author or an actuary uses to try a plan,
//! with no member's data read and no ids, ledger positions or hashes of anyone's record shown.

use crate::AppState;
use crate::auth::{Allowed, DryRunOnMember, TryPolicies};
use crate::body::{ApiQuery, JsonBody};
use crate::disclosure::Shown;
use crate::error::ApiError;
use crate::routes::member_text::{LocaleQuery, Reader};
use crate::routes::members::{LabBody, MemberBody, ReadingBody, lab, profile, read_each, reading};
use crate::routes::payouts::{PayoutAnswer, PayoutBody, request};
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use incentive_engine::lab::LabResult;
use incentive_engine::policy::{EvaluationInput, History, MemberProfile, Policy};
use incentive_engine::readings::{Readings, ReadingsBuilder};
use incentive_engine::{MemberId, Period};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[utoipa::path(post, path = "/v1/evaluations", tag = "payouts", request_body = PayoutBody, security(("api_key" = [])), responses((status = 200, description = "What a payout would decide now from the member's stored data; nothing is posted", body = PayoutAnswer), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn evaluate(
    State(state): State<AppState>,
    caller: Allowed<DryRunOnMember>,
    JsonBody(body): JsonBody<PayoutBody>,
) -> Result<Shown<DryRunOnMember, Json<PayoutAnswer>>, ApiError> {
    let outcome = state
        .store
        .dry_run(request(caller.tenant(), &body)?)
        .await?;
    Ok(caller.show(Json(PayoutAnswer {
        kind: outcome.kind,
        decision: outcome.decision.into(),
    })))
}

/// A record to try a policy on, written by the caller as a case file's inputs are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrialBody {
    pub policy_id: String,
    /// A stored version, a draft too; by default the published version in effect in `period`.
    pub version: Option<String>,
    /// `2026-03`, `2026-Q1` or `2026`, of the policy's kind (a case carries its own).
    pub period: Option<String>,
    /// One of the cases of `version`'s package, by file name (`cases/full-rebate.toml`) or
    /// name (`full-rebate`): the record is the case's, so nothing else of one is sent.
    #[schema(example = "full-rebate", max_length = 200)]
    pub case: Option<String>,
    /// The member as the policy sees them; every attribute may be absent.
    pub member: Option<MemberBody>,
    #[serde(default)]
    pub readings: Vec<ReadingBody>,
    #[serde(default)]
    pub labs: Vec<LabBody>,
    /// Earlier outcomes, the premium loading and what the pool has paid, as in a case file's
    /// `[history]`.
    #[schema(value_type = Option<Object>)]
    pub history: Option<History>,
    /// A device's or health system's export, as its text: its readings, and a FHIR file's HbA1c
    /// results, join the record's (docs/data-formats.md).
    pub readings_export: Option<ReadingsExport>,
}

/// An export's text and how to read it, as the export route's query says it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadingsExport {
    /// The file as the device, app or health system wrote it (a text format: Dexcom Clarity,
    /// LibreView, CareLink, Nightscout, Apple Health, HL7 FHIR).
    pub text: String,
    /// Its format, when it should not be told from its content.
    #[schema(example = "nightscout", max_length = 32)]
    pub format: Option<String>,
    /// The zone the device's clock was in (default: the policy's).
    #[schema(example = "Asia/Shanghai", max_length = 64)]
    pub tz: Option<String>,
    /// `dmy` or `mdy`, for a LibreView export whose dates do not show it.
    #[schema(example = "dmy", max_length = 3)]
    pub date_order: Option<String>,
}

/// What the policy decided for the record supplied.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TrialAnswer {
    pub policy_id: String,
    pub version: String,
    pub period: String,
    /// The engine's decision with its explanation, as `incentive evaluate` prints it.
    #[schema(value_type = Object)]
    pub decision: serde_json::Value,
    /// What a member would be shown, in the language asked for (`?locale=`, else the trial
    /// member's `locale` attribute, else `Accept-Language`).
    #[schema(value_type = Object)]
    pub shown: incentive_engine::locale::MemberView,
}

crate::discloses! {
    TrialAnswer => [TrialDecisions];
}

/// The member id a trial record carries: not anyone's.
const TRIAL_MEMBER: &str = "trial";

/// `POST /v1/evaluations/trial`: a policy version run on the record in the body.
#[utoipa::path(post, path = "/v1/evaluations/trial", tag = "policies", request_body = TrialBody, params(LocaleQuery), security(("api_key" = [])), responses((status = 200, description = "The decision for the record supplied; nothing is read or posted", body = TrialAnswer), (status = 400, description = "Bad request: every bad reading or lab named", body = crate::error::ErrorBody), (status = 413, description = "Too many readings or bytes", body = crate::error::ErrorBody), (status = 422, description = "The policy could not decide, or no version is in effect", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn trial(
    State(state): State<AppState>,
    caller: Allowed<TryPolicies>,
    ApiQuery(q): ApiQuery<LocaleQuery>,
    headers: HeaderMap,
    JsonBody(mut body): JsonBody<TrialBody>,
) -> Result<Shown<TryPolicies, Json<TrialAnswer>>, ApiError> {
    let reader = Reader::new(q, &headers)?;
    if let Some(v) = &body.version {
        crate::routes::policies::version_named("version", v)?;
    }
    let policy_id = body.policy_id.clone();
    let (policy, record) = match body.case.take() {
        Some(case) => case_record(&state, caller.tenant(), &body, &case).await?,
        None => body_record(&state, caller.tenant(), body).await?,
    };
    let version = policy.manifest.version.clone();
    let TrialRecord {
        period,
        member,
        readings,
        labs,
        history,
    } = record;
    let (decision, shown) = state
        .compute
        .run(move || {
            let d = policy.evaluate(&EvaluationInput {
                member: &member,
                period,
                readings: &readings,
                labs: &labs,
                history: &history,
            })?;
            let accepted: Vec<&str> = reader.accepted().collect();
            let locale = policy
                .catalogs
                .for_reader(reader.asked(), member.locale(), &accepted);
            let shown = policy.catalogs.member_view(locale, &d);
            Ok((d, shown))
        })
        .await?
        .map_err(|e: incentive_engine::policy::EvaluationError| {
            ApiError::Unprocessable(e.to_string())
        })?;
    let decision = serde_json::from_str(&decision.to_json()).map_err(|_| ApiError::Internal)?;
    Ok(caller.show(Json(TrialAnswer {
        policy_id,
        version,
        period: period.to_string(),
        decision,
        shown,
    })))
}

/// The record a trial decides, with the policy that decides it.
struct TrialRecord {
    period: Period,
    member: MemberProfile,
    readings: Readings,
    labs: Vec<LabResult>,
    history: History,
}

type Trial = (Arc<Policy>, TrialRecord);

/// The record as the body writes it, decided by the version named or the one in effect.
async fn body_record(state: &AppState, tenant: &str, body: TrialBody) -> Result<Trial, ApiError> {
    let period = body.period.as_deref().ok_or_else(|| {
        ApiError::BadRequest(
            "period: the period to decide, such as `2026-03`; or a `case` of the version's package"
                .into(),
        )
    })?;
    let period = Period::parse(period).map_err(|e| ApiError::BadRequest(format!("period: {e}")))?;
    let max = state.limits.readings_per_batch_max;
    for count in [body.readings.len(), body.labs.len()] {
        if count > max {
            return Err(ApiError::TooManyReadings { count, limit: max });
        }
    }
    let member = MemberId::parse(TRIAL_MEMBER).map_err(|_| ApiError::Internal)?;
    let member = profile(member, body.member.unwrap_or_default())?;
    let (good, bad_readings) = read_each(&body.readings, reading);
    let (labs, bad_labs) = read_each(&body.labs, lab);
    let rejected: Vec<String> = (bad_readings.iter().map(|r| ("readings", r)))
        .chain(bad_labs.iter().map(|r| ("labs", r)))
        .map(|(what, r)| format!("{what}[{}]: {}", r.index, r.reason))
        .collect();
    if !rejected.is_empty() {
        // A trial is for seeing what a record decides; deciding on part of it would mislead.
        let listed: Vec<&str> = rejected.iter().take(20).map(String::as_str).collect();
        return Err(ApiError::BadRequest(format!(
            "{} of the record's readings and labs cannot be read: {}{}",
            rejected.len(),
            listed.join("; "),
            if rejected.len() > listed.len() {
                "; …"
            } else {
                ""
            }
        )));
    }
    let policy = match body.version.as_deref() {
        Some(version) => {
            state
                .store
                .policy_version_compiled(tenant, &body.policy_id, version)
                .await?
        }
        None => {
            state
                .store
                .policy_in_effect(tenant, &body.policy_id, period)
                .await?
        }
    };
    let (good, labs) = match body.readings_export {
        None => (good, labs),
        Some(export) => {
            let zone = policy.manifest.timezone;
            let read = state
                .compute
                .run(move || read_export(&export, zone))
                .await??;
            let count = good.len() + read.readings.len();
            if count > max {
                return Err(ApiError::TooManyReadings { count, limit: max });
            }
            (
                good.into_iter().chain(read.readings).collect(),
                labs.into_iter().chain(read.labs).collect(),
            )
        }
    };
    let mut builder = ReadingsBuilder::with_capacity(good.len());
    for r in good {
        builder.push(r);
    }
    let record = TrialRecord {
        period,
        member,
        readings: builder.finish().readings,
        labs,
        history: body.history.unwrap_or_default(),
    };
    Ok((policy, record))
}

/// The record of one of the cases of a stored version's package, decided by that version:
/// what the workbench runs when an author tries a case step by step.
async fn case_record(
    state: &AppState,
    tenant: &str,
    body: &TrialBody,
    case: &str,
) -> Result<Trial, ApiError> {
    let written = [
        ("period", body.period.is_some()),
        ("member", body.member.is_some()),
        ("readings", !body.readings.is_empty()),
        ("labs", !body.labs.is_empty()),
        ("history", body.history.is_some()),
        ("readings_export", body.readings_export.is_some()),
    ];
    if let Some((field, _)) = written.iter().find(|(_, given)| *given) {
        return Err(ApiError::BadRequest(format!(
            "{field}: a trial of a case takes its record from the case; send `case` or a record, not both"
        )));
    }
    let version = body.version.as_deref().ok_or_else(|| {
        ApiError::BadRequest(
            "version: a case belongs to a version's package; name the version".into(),
        )
    })?;
    let source = state
        .store
        .policy_version_source(tenant, &body.policy_id, version)
        .await?;
    let policy = state
        .store
        .policy_version_compiled(tenant, &body.policy_id, version)
        .await?;
    let wanted = if case.starts_with("cases/") {
        case.to_owned()
    } else {
        format!("cases/{case}.toml")
    };
    // Loading the package runs policy code on the probes: on the evaluation threads.
    let found = state
        .compute
        .run(move || {
            let package = incentive_engine::policy::load(&source).ok()?;
            package.cases.into_iter().find(|c| c.name == wanted)
        })
        .await?;
    let case = found.ok_or_else(|| {
        ApiError::NotFound(format!(
            "case `{}`: version {version} of policy `{}` has no such case",
            incentive_engine::text::excerpt(&case.escape_default().to_string()),
            body.policy_id
        ))
    })?;
    let record = TrialRecord {
        period: case.period,
        member: case.member,
        readings: case.readings,
        labs: case.labs,
        history: case.history,
    };
    Ok((policy, record))
}

/// A trial's export, read as the export route reads one, in the zone given or else the
/// policy's.
fn read_export(
    export: &ReadingsExport,
    policy_zone: chrono_tz::Tz,
) -> Result<incentive_engine::exports::Export, ApiError> {
    let request = crate::routes::device_exports::ExportRequest {
        format: export.format.as_deref(),
        tz: export.tz.as_deref(),
        date_order: export.date_order.as_deref(),
        prefix: "readings_export.",
        file_field: "text",
        own_readings_go: "the record's own readings go in `readings`",
        source_name: "readings_export",
    };
    let bytes = export.text.as_bytes();
    let (format, options) = request.options(bytes, false, Some(policy_zone))?;
    incentive_engine::exports::read(format, bytes, &options).map_err(|e| request.refused(e))
}
