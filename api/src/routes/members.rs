//! Members and their readings, sent by the platform.

use crate::AppState;
use crate::auth::{Allowed, EraseMemberData, SendMemberData};
use crate::body::{JsonBody, Scalar};
use crate::disclosure::Shown;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, State};
use incentive_engine::policy::MemberProfile;
use incentive_engine::policy::attributes::AttributeValue;
use incentive_engine::policy::inputs::{AGE_YEARS_MAX, DIABETES_TYPES, REGION_CHARS_MAX, SEXES};
use incentive_engine::time::parse_timestamp;
use incentive_engine::{
    Context, GlucoseUnit, GlucoseValue, Hba1c, LabResult, MemberId, Reading, Source,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `PUT /v1/members/{member_id}`: the attributes policies read. Every field may be absent.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberBody {
    pub age: Option<u32>,
    pub sex: Option<String>,
    pub region: Option<String>,
    pub diabetes_type: Option<String>,
    pub insulin: Option<bool>,
    /// `YYYY-MM-DD`.
    pub enrolled_on: Option<String>,
    /// Attributes the tenant's published policies declare (`[attributes]`): strings, whole
    /// numbers and flags, money as a string such as "100.00", a date as "2026-01-31". Each
    /// must be declared by a published policy, as the kind it declares.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<std::collections::BTreeMap<String, AttributeValue>>,
}

fn member_id(text: &str) -> Result<MemberId, ApiError> {
    MemberId::parse(text).map_err(|e| ApiError::BadRequest(format!("member_id: {e}")))
}

fn one_of(field: &str, value: &Option<String>, allowed: &[&str]) -> Result<(), ApiError> {
    match value {
        Some(v) if !allowed.contains(&v.as_str()) => Err(ApiError::BadRequest(format!(
            "{field}: `{}` is not one of {}",
            incentive_engine::text::excerpt(v),
            allowed.join(", ")
        ))),
        _ => Ok(()),
    }
}

/// A member's attributes, each checked by name: what enrolment stores and a trial evaluates.
pub(crate) fn profile(id: MemberId, body: MemberBody) -> Result<MemberProfile, ApiError> {
    one_of("sex", &body.sex, &SEXES)?;
    one_of("diabetes_type", &body.diabetes_type, &DIABETES_TYPES)?;
    if let Some(region) = &body.region {
        if region.chars().count() > REGION_CHARS_MAX {
            return Err(ApiError::BadRequest(format!(
                "region: {} characters, more than the {REGION_CHARS_MAX} a region may have",
                region.chars().count()
            )));
        }
        incentive_engine::text::visible(region)
            .map_err(|why| ApiError::BadRequest(format!("region: {why}")))?;
    }
    if let Some(age) = body.age
        && age > AGE_YEARS_MAX
    {
        return Err(ApiError::BadRequest(format!(
            "age: {age} is more than {AGE_YEARS_MAX} years"
        )));
    }
    let enrolled_on = body
        .enrolled_on
        .as_deref()
        .map(|d| {
            d.parse().map_err(|_| {
                ApiError::BadRequest(format!(
                    "enrolled_on: `{}` is not a date (YYYY-MM-DD)",
                    incentive_engine::text::excerpt(d)
                ))
            })
        })
        .transpose()?;
    Ok(MemberProfile {
        id,
        age: body.age,
        sex: body.sex,
        region: body.region,
        diabetes_type: body.diabetes_type,
        insulin: body.insulin,
        enrolled_on,
        attributes: body.attributes.unwrap_or_default(),
    })
}

#[utoipa::path(put, path = "/v1/members/{member_id}", tag = "members", params(("member_id" = String, Path)), request_body = MemberBody, security(("api_key" = [])), responses((status = 200, description = "Enrolled or updated"), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn put_member(
    State(state): State<AppState>,
    caller: Allowed<SendMemberData>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<MemberBody>,
) -> Result<Shown<SendMemberData, Json<Enrolled>>, ApiError> {
    let profile = profile(member_id(&id)?, body)?;
    state.store.upsert_member(caller.tenant(), &profile).await?;
    Ok(caller.show(Json(Enrolled {
        member_id: profile.id.as_str().to_owned(),
    })))
}

/// A member enrolled or updated.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Enrolled {
    pub member_id: String,
}

/// One reading as the platform sends it: a value in exactly one unit (a number, or the
/// meter's `"LO"` / `"HI"`), the time with its UTC offset, and optionally the meal context and
/// the kind of device.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadingBody {
    pub time: String,
    pub glucose_mg_dl: Option<Scalar>,
    pub glucose_mmol_l: Option<Scalar>,
    pub context: Option<String>,
    pub source: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadingsBody {
    pub readings: Vec<ReadingBody>,
    /// Store finger-sticks that likely repeat one on record too (the sender knows they are
    /// two tests); by default they are named in `likely_duplicates` and not stored.
    #[serde(default)]
    pub keep_likely_duplicates: bool,
}

/// Finger-sticks named in an answer at most; the rest are counted.
const LIKELY_DUPLICATES_LISTED_MAX: usize = 1_000;

/// A finger-stick likely already on record, or twice in what was sent — the same test written
/// by another app or typed by hand (within 10 minutes and the rounding of the other unit).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LikelyDuplicateBody {
    pub member_id: String,
    /// When the reading sent was taken.
    pub time: String,
    /// When the reading it likely repeats was taken.
    pub repeats: String,
}

/// The likely duplicates found, as an answer lists them (the first 1,000).
pub(crate) fn likely_bodies(
    found: &[(
        MemberId,
        incentive_engine::likely_duplicates::LikelyDuplicate,
    )],
) -> Vec<LikelyDuplicateBody> {
    found
        .iter()
        .take(LIKELY_DUPLICATES_LISTED_MAX)
        .map(|(member, d)| LikelyDuplicateBody {
            member_id: member.as_str().to_owned(),
            time: d.time.to_rfc3339(),
            repeats: d.repeats.to_rfc3339(),
        })
        .collect()
}

/// What `keep_likely_duplicates` asks of the store.
pub(crate) fn likely_policy(keep: bool) -> incentive_store::LikelyDuplicates {
    if keep {
        incentive_store::LikelyDuplicates::Keep
    } else {
        incentive_store::LikelyDuplicates::SetApart
    }
}

/// Why one reading of a batch was not stored.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Rejected {
    /// Its position in `readings`, from 0 (in a CSV upload: its line; 0 for a whole member).
    pub index: usize,
    pub reason: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReadingsAnswer {
    pub accepted: u64,
    pub duplicate: u64,
    pub rejected: Vec<Rejected>,
    /// Finger-sticks likely already on record: not stored unless `keep_likely_duplicates`.
    pub likely_duplicates: Vec<LikelyDuplicateBody>,
}

/// Each item of a batch read by `read`: those read, and those not, with their index and reason.
pub(crate) fn read_each<B, T>(
    items: &[B],
    read: impl Fn(&B) -> Result<T, String>,
) -> (Vec<T>, Vec<Rejected>) {
    let mut good = Vec::with_capacity(items.len());
    let mut rejected = Vec::new();
    for (index, item) in items.iter().enumerate() {
        match read(item) {
            Ok(value) => good.push(value),
            Err(reason) => rejected.push(Rejected { index, reason }),
        }
    }
    (good, rejected)
}

pub(crate) fn reading(r: &ReadingBody) -> Result<Reading, String> {
    let time = parse_timestamp(&r.time).map_err(|e| format!("time: {e}"))?;
    let (value, unit, field) = match (&r.glucose_mg_dl, &r.glucose_mmol_l) {
        (Some(v), None) => (v, GlucoseUnit::MgDl, "glucose_mg_dl"),
        (None, Some(v)) => (v, GlucoseUnit::MmolL, "glucose_mmol_l"),
        _ => return Err("give exactly one of glucose_mg_dl and glucose_mmol_l".into()),
    };
    let value = GlucoseValue::parse(&value.0, unit).map_err(|e| format!("{field}: {e}"))?;
    let context = match &r.context {
        Some(c) => Context::parse(c).map_err(|e| format!("context: {e}"))?,
        None => Context::Unknown,
    };
    let source = match &r.source {
        Some(s) => Source::parse(s).map_err(|e| format!("source: {e}"))?,
        None => Source::Unspecified,
    };
    Ok(Reading {
        time,
        value,
        context,
        source,
    })
}

/// `POST /v1/members/{member_id}/readings`: a batch; each reading is stored, counted as a
/// duplicate, or rejected with its reason.
#[utoipa::path(post, path = "/v1/members/{member_id}/readings", tag = "members", params(("member_id" = String, Path)), request_body = ReadingsBody, security(("api_key" = [])), responses((status = 200, description = "Each reading accepted, duplicate or rejected", body = ReadingsAnswer), (status = 413, description = "Too many readings or bytes", body = crate::error::ErrorBody), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn post_readings(
    State(state): State<AppState>,
    caller: Allowed<SendMemberData>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReadingsBody>,
) -> Result<Shown<SendMemberData, Json<ReadingsAnswer>>, ApiError> {
    let id = member_id(&id)?;
    let max = state.limits.readings_per_batch_max;
    if body.readings.len() > max {
        return Err(ApiError::TooManyReadings {
            count: body.readings.len(),
            limit: max,
        });
    }
    let (good, rejected) = read_each(&body.readings, reading);
    let added = state
        .store
        .add_readings_with(
            caller.tenant(),
            &id,
            good,
            likely_policy(body.keep_likely_duplicates),
        )
        .await?;
    Ok(caller.show(Json(ReadingsAnswer {
        accepted: added.accepted,
        duplicate: added.duplicate,
        rejected,
        likely_duplicates: likely_bodies(&added.likely_duplicates),
    })))
}

/// `DELETE /v1/members/{member_id}/readings`: erases the member's readings and lab results on
/// their request. Decisions keep their input hash and the metrics they used; the ledger still
/// verifies.
#[utoipa::path(delete, path = "/v1/members/{member_id}/readings", tag = "members", params(("member_id" = String, Path)), security(("api_key" = [])), responses((status = 200, description = "What was erased"), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn erase(
    State(state): State<AppState>,
    caller: Allowed<EraseMemberData>,
    Path(id): Path<String>,
) -> Result<Shown<EraseMemberData, Json<incentive_store::Erasure>>, ApiError> {
    let id = member_id(&id)?;
    let erased = state
        .store
        .erase_member_data(caller.tenant(), id.as_str())
        .await?;
    Ok(caller.show(Json(erased)))
}

/// One HbA1c result: when the sample was taken (with its UTC offset) and the value in percent.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabBody {
    pub time: String,
    /// A number such as 6.8, or the same as text.
    pub hba1c_percent: Scalar,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabsBody {
    pub labs: Vec<LabBody>,
}

pub(crate) fn lab(l: &LabBody) -> Result<LabResult, String> {
    let time = parse_timestamp(&l.time).map_err(|e| format!("time: {e}"))?;
    let text = &l.hba1c_percent.0;
    let percent: Decimal = text.trim().parse().map_err(|_| {
        format!(
            "hba1c_percent: `{}` is not a number",
            incentive_engine::text::excerpt(text)
        )
    })?;
    let hba1c = Hba1c::from_percent(percent).map_err(|e| format!("hba1c_percent: {e}"))?;
    Ok(LabResult { time, hba1c })
}

/// `POST /v1/members/{member_id}/labs`: HbA1c results; one already on record for the same
/// time is counted as a duplicate, a bad one rejected with its reason.
#[utoipa::path(post, path = "/v1/members/{member_id}/labs", tag = "members", params(("member_id" = String, Path)), request_body = LabsBody, security(("api_key" = [])), responses((status = 200, description = "Each result accepted, duplicate or rejected", body = ReadingsAnswer), (status = 413, description = "Too many results or bytes", body = crate::error::ErrorBody), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn post_labs(
    State(state): State<AppState>,
    caller: Allowed<SendMemberData>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<LabsBody>,
) -> Result<Shown<SendMemberData, Json<ReadingsAnswer>>, ApiError> {
    let id = member_id(&id)?;
    let max = state.limits.readings_per_batch_max;
    if body.labs.len() > max {
        return Err(ApiError::TooManyReadings {
            count: body.labs.len(),
            limit: max,
        });
    }
    let (good, rejected) = read_each(&body.labs, lab);
    let added = state.store.add_labs(caller.tenant(), &id, &good).await?;
    Ok(caller.show(Json(ReadingsAnswer {
        accepted: added.accepted,
        duplicate: added.duplicate,
        rejected,
        likely_duplicates: Vec::new(),
    })))
}

crate::discloses! {
    Enrolled => [Operational];
    // Rejections quote what was sent.
    ReadingsAnswer => [Readings, Labs];
    incentive_store::Erasure => [Operational];
}
