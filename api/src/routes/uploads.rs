//! Bulk uploads of many members' readings: a CSV (the format `incentive metrics` reads) or
//! NDJSON (one reading a line, as `POST /v1/members/{id}/readings` takes them, plus
//! `member_id`). Bad rows are rejected by line and reason and the rest kept; every member's
//! readings go to the store in one transaction of multi-row inserts.

use crate::AppState;
use crate::auth::{Allowed, SendMemberData};
use crate::body::RawBody;
use crate::disclosure::Shown;
use crate::error::ApiError;
use crate::routes::members::{ReadingBody, Rejected, reading};
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use incentive_engine::{MemberId, Reading};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Rows of an upload named one by one in an answer at most; the rest are counted.
const REJECTIONS_LISTED_MAX: usize = 1_000;

/// What happened to an upload.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct UploadAnswer {
    pub rows: u64,
    pub accepted: u64,
    /// Already on record, or twice in the upload.
    pub duplicate: u64,
    /// Rows that could not be read, and rows of members who are not enrolled.
    pub rejected: u64,
    /// The first rejected rows (at most 1,000), by line; a member not enrolled is named once,
    /// with line 0.
    pub rejections: Vec<Rejected>,
}

impl UploadAnswer {
    fn reject(&mut self, count: u64, line: u64, reason: String) {
        self.rejected += count;
        if self.rejections.len() < REJECTIONS_LISTED_MAX {
            self.rejections.push(Rejected {
                index: usize::try_from(line).unwrap_or(usize::MAX),
                reason,
            });
        }
    }
}

/// One line of an NDJSON upload.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NdjsonReading {
    member_id: String,
    time: String,
    glucose_mg_dl: Option<crate::body::Scalar>,
    glucose_mmol_l: Option<crate::body::Scalar>,
    context: Option<String>,
    source: Option<String>,
}

fn is_ndjson(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            matches!(
                v.trim(),
                "application/x-ndjson" | "application/ndjson" | "application/jsonl"
            )
        })
}

/// `POST /v1/readings`: readings of many members at once. `Content-Type: text/csv` (the
/// default): columns `member_id`, `time`, one of `glucose_mg_dl`, `glucose_mmol_l` or
/// `glucose` + `unit`, optional `context` and `source`. `Content-Type: application/x-ndjson`:
/// one JSON object a line with `member_id`, `time`, one of `glucose_mg_dl` / `glucose_mmol_l`,
/// optional `context` and `source`.
#[utoipa::path(post, path = "/v1/readings", tag = "members", request_body(content((String = "text/csv"), (String = "application/x-ndjson"))), security(("api_key" = [])), responses((status = 200, description = "Counts, and the rejected rows by line", body = UploadAnswer), (status = 400, description = "The CSV's header is wrong", body = crate::error::ErrorBody), (status = 413, description = "Over the body limit", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Allowed<SendMemberData>,
    headers: HeaderMap,
    RawBody(bytes): RawBody,
) -> Result<Shown<SendMemberData, Json<UploadAnswer>>, ApiError> {
    let (mut answer, members) = if is_ndjson(&headers) {
        read_ndjson(&bytes)
    } else {
        read_csv(&bytes)?
    };
    let members: Vec<(MemberId, Vec<Reading>)> = members.into_iter().collect();
    let added = state
        .store
        .add_readings_many(caller.tenant(), &members)
        .await?;
    answer.accepted += added.added.accepted;
    answer.duplicate += added.added.duplicate;
    for (member, n) in added.not_enrolled {
        answer.reject(
            n,
            0,
            format!(
                "member `{}` is not enrolled: its {n} readings were not stored",
                member.as_str()
            ),
        );
    }
    Ok(caller.show(Json(answer)))
}

type ByMember = BTreeMap<MemberId, Vec<Reading>>;

fn read_csv(bytes: &[u8]) -> Result<(UploadAnswer, ByMember), ApiError> {
    use incentive_engine::ingest::{BadRows, CsvOptions, read_readings_csv};
    let options = CsvOptions {
        source_name: "the upload".into(),
        bad_rows: BadRows::Skip,
        ..CsvOptions::default()
    };
    let mut answer = UploadAnswer::default();
    let loaded = read_readings_csv(bytes, &options, &mut |e| {
        answer.reject(1, e.line, e.to_string());
    })
    .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    answer.rows = loaded.report.rows;
    answer.duplicate = loaded.report.duplicates;
    let members = loaded
        .members
        .into_iter()
        .map(|(member, readings)| (member, readings.iter().collect()))
        .collect();
    Ok((answer, members))
}

fn read_ndjson(bytes: &[u8]) -> (UploadAnswer, ByMember) {
    let mut answer = UploadAnswer::default();
    let mut members = ByMember::new();
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let line_no = u64::try_from(i + 1).unwrap_or(u64::MAX);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        answer.rows += 1;
        let parsed = serde_json::from_slice::<NdjsonReading>(line)
            .map_err(|e| {
                format!(
                    "line {line_no}: not a reading: {}",
                    crate::body::json_error(&e)
                )
            })
            .and_then(|r| {
                let member = MemberId::parse(&r.member_id)
                    .map_err(|e| format!("line {line_no}: member_id: {e}"))?;
                let body = ReadingBody {
                    time: r.time,
                    glucose_mg_dl: r.glucose_mg_dl,
                    glucose_mmol_l: r.glucose_mmol_l,
                    context: r.context,
                    source: r.source,
                };
                let reading = reading(&body).map_err(|e| format!("line {line_no}: {e}"))?;
                Ok((member, reading))
            });
        match parsed {
            Ok((member, reading)) => members.entry(member).or_default().push(reading),
            Err(reason) => answer.reject(1, line_no, reason),
        }
    }
    (answer, members)
}

crate::discloses! {
    // Rejections quote the rows sent.
    UploadAnswer => [Readings];
}
