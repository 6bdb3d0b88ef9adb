//! `POST /v1/members/{member_id}/readings/export`: a device's export of one member's data, sent
//! as the device, app or health system wrote it (Dexcom Clarity, LibreView, Medtronic CareLink,
//! Nightscout, Apple Health, SiBionics, HL7 FHIR R4), told by `?format=`, by `Content-Type:
//! application/fhir+json`, or by its content; read on the evaluation pool (a file may be
//! megabytes), stored — readings, and HbA1c results as labs — and answered with what was kept
//! and, by reason, what was dropped.

use crate::AppState;
use crate::auth::{Allowed, SendMemberData};
use crate::body::{ApiQuery, RawBody};
use crate::disclosure::Shown;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use incentive_engine::MemberId;
use incentive_engine::exports::{self, DateOrder, ExportOptions, ExportReport, Format};
use serde::{Deserialize, Serialize};

/// How to read the export.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `dexcom-clarity`, `libreview`, `carelink`, `nightscout`, `fhir`, `apple-health` or
    /// `sibionics`; told from the content type (FHIR) or the content when left out.
    #[param(example = "nightscout")]
    pub format: Option<String>,
    /// The IANA zone the device's clock was in, for exports that write local time without an
    /// offset (Dexcom Clarity, LibreView, CareLink).
    #[param(example = "Asia/Shanghai")]
    pub tz: Option<String>,
    /// `dmy` or `mdy`: a LibreView export's date order where its dates do not show it.
    #[param(example = "dmy")]
    pub date_order: Option<String>,
    /// Store finger-sticks that likely repeat one on record too (by default they are named in
    /// `likely_duplicates` and not stored).
    pub keep_likely_duplicates: Option<bool>,
}

/// What became of an export.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExportAnswer {
    /// What the reader kept and dropped, by reason.
    #[schema(value_type = Object)]
    pub report: ExportReport,
    /// Of the readings kept, those stored, and those already on record.
    pub accepted: u64,
    pub duplicate: u64,
    /// Of the HbA1c results kept (FHIR), those stored, and those already on record.
    pub labs_accepted: u64,
    pub labs_duplicate: u64,
    /// Finger-sticks likely already on record (written by another app or by hand): not
    /// stored unless `keep_likely_duplicates`.
    pub likely_duplicates: Vec<crate::routes::members::LikelyDuplicateBody>,
}

crate::discloses! {
    // Counts and reasons, and the times of readings likely sent twice.
    ExportAnswer => [Operational, Readings];
}

fn bad(field: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::BadRequest(format!("{field}: {e}"))
}

/// How a request says to read an export: the export route's query, or a trial's
/// `readings_export`. Every problem is a 400 naming its field (after `prefix`).
pub(crate) struct ExportRequest<'a> {
    pub format: Option<&'a str>,
    pub tz: Option<&'a str>,
    pub date_order: Option<&'a str>,
    /// Put before each field's name: `""` for the route's query, `readings_export.` in a trial.
    pub prefix: &'a str,
    /// The field that holds the file, and where the product's own readings go instead.
    pub file_field: &'a str,
    pub own_readings_go: &'a str,
    /// What messages call the file.
    pub source_name: &'a str,
}

impl ExportRequest<'_> {
    fn bad(&self, field: &str, e: impl std::fmt::Display) -> ApiError {
        bad(&format!("{}{field}", self.prefix), e)
    }

    /// The format (as named, else FHIR where the content type says so, else told from the
    /// file's first bytes) and how to read it, in the zone named else `default_zone`.
    pub(crate) fn options(
        &self,
        file: &[u8],
        fhir_by_content_type: bool,
        default_zone: Option<chrono_tz::Tz>,
    ) -> Result<(Format, ExportOptions), ApiError> {
        let zone = match self.tz {
            Some(z) => Some(z.parse::<chrono_tz::Tz>().map_err(|_| {
                self.bad(
                    "tz",
                    format!(
                        "`{}` is not an IANA time zone such as Asia/Shanghai",
                        incentive_engine::text::excerpt(z)
                    ),
                )
            })?),
            None => default_zone,
        };
        let date_order = self
            .date_order
            .map(|d| DateOrder::parse(d).map_err(|e| self.bad("date_order", e)))
            .transpose()?;
        let format = match self.format {
            Some(name) => Format::parse(name).map_err(|e| self.bad("format", e))?,
            None if fhir_by_content_type => Format::Fhir,
            None => exports::detect(file.get(..exports::DETECT_BYTES).unwrap_or(file))
                .filter(|f| *f != Format::IncentiveCsv)
                .ok_or_else(|| {
                    self.bad(
                        self.file_field,
                        format!(
                            "not an export this reads (Dexcom Clarity, LibreView, CareLink, Nightscout, Apple Health, SiBionics, HL7 FHIR); {}",
                            self.own_readings_go
                        ),
                    )
                })?,
        };
        let options = ExportOptions {
            source_name: self.source_name.into(),
            zone,
            date_order,
        };
        Ok((format, options))
    }

    /// A reader's refusal as the answer says it; a zone it needs names the field that gives it.
    pub(crate) fn refused(&self, e: exports::ExportError) -> ApiError {
        match e {
            exports::ExportError::NeedsZone { format, .. } => self.bad(
                "tz",
                format!("{format} writes local times without an offset: give the zone the device was in, such as ?tz=Europe/Berlin"),
            ),
            other => ApiError::BadRequest(other.to_string()),
        }
    }
}

#[utoipa::path(post, path = "/v1/members/{member_id}/readings/export", tag = "members", params(("member_id" = String, Path), ExportQuery), request_body(content((String = "text/csv"), (String = "application/json"), (String = "application/fhir+json"), (String = "application/xml"), (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), security(("api_key" = [])), responses((status = 200, description = "What was kept, stored and dropped", body = ExportAnswer), (status = 400, description = "Not an export this reads, a zone it needs, or a row it cannot read: named", body = crate::error::ErrorBody), (status = 413, description = "Over the body limit", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn post_export(
    State(state): State<AppState>,
    caller: Allowed<SendMemberData>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ExportQuery>,
    headers: HeaderMap,
    RawBody(bytes): RawBody,
) -> Result<Shown<SendMemberData, Json<ExportAnswer>>, ApiError> {
    let member = MemberId::parse(&id).map_err(|e| bad("member_id", e))?;
    let request = ExportRequest {
        format: q.format.as_deref(),
        tz: q.tz.as_deref(),
        date_order: q.date_order.as_deref(),
        prefix: "",
        file_field: "body",
        own_readings_go: "the product's own CSV goes to POST /v1/readings",
        source_name: "the export",
    };
    let (format, options) = request.options(&bytes, is_fhir(&headers), None)?;
    let export = state
        .compute
        .run(move || {
            let data: &[u8] = &bytes;
            exports::read(format, data, &options)
        })
        .await?
        .map_err(|e| request.refused(e))?;
    // Readings, then labs: each on record once, so a retry after a failure between the two
    // stores what is missing and counts the rest as duplicates.
    let added = state
        .store
        .add_readings_with(
            caller.tenant(),
            &member,
            export.readings,
            crate::routes::members::likely_policy(q.keep_likely_duplicates.unwrap_or(false)),
        )
        .await?;
    let labs = if export.labs.is_empty() {
        incentive_store::ReadingsAdded::default()
    } else {
        state
            .store
            .add_labs(caller.tenant(), &member, &export.labs)
            .await?
    };
    Ok(caller.show(Json(ExportAnswer {
        report: export.report,
        accepted: added.accepted,
        duplicate: added.duplicate,
        labs_accepted: labs.accepted,
        labs_duplicate: labs.duplicate,
        likely_duplicates: crate::routes::members::likely_bodies(&added.likely_duplicates),
    })))
}

/// Whether the body is FHIR by its content type (`application/fhir+json`, FHIR's own, or
/// `application/fhir+ndjson` for bulk data).
pub(crate) fn is_fhir(headers: &HeaderMap) -> bool {
    crate::body::media_type_is(
        headers,
        &["application/fhir+json", "application/fhir+ndjson"],
    )
}
