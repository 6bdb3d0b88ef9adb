//! Bulk uploads of many members' readings: a CSV (the format `incentive metrics` reads),
//! NDJSON (one reading a line, as `POST /v1/members/{id}/readings` takes them, plus
//! `member_id`), or HL7 FHIR (a Bundle or bulk-data NDJSON about many patients, each given to
//! the member their identifier in the tenant's identifier system names; HbA1c to labs). Bad
//! rows are rejected by line and reason and the rest kept; every member's readings go to the
//! store in one transaction of multi-row inserts.

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
    /// A FHIR upload: what its reader kept and dropped, by reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub report: Option<incentive_engine::exports::ExportReport>,
    /// A FHIR upload's HbA1c results: stored, and already on record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labs_accepted: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labs_duplicate: Option<u64>,
    /// Finger-sticks likely already on record, or twice in the upload (the same test written
    /// by another app or by hand): not stored unless `keep_likely_duplicates`.
    pub likely_duplicates: Vec<crate::routes::members::LikelyDuplicateBody>,
}

/// How to store an upload.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// Store finger-sticks that likely repeat one on record too (by default they are named in
    /// `likely_duplicates` and not stored).
    pub keep_likely_duplicates: Option<bool>,
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
    crate::body::media_type_is(
        headers,
        &[
            "application/x-ndjson",
            "application/ndjson",
            "application/jsonl",
        ],
    )
}

/// Each member not enrolled, named once with the count of their readings not stored.
fn reject_not_enrolled(answer: &mut UploadAnswer, not_enrolled: Vec<(MemberId, u64)>) {
    for (member, n) in not_enrolled {
        answer.reject(
            n,
            0,
            format!(
                "member `{}` is not enrolled: its {n} readings were not stored",
                member.as_str()
            ),
        );
    }
}

/// `POST /v1/readings`: readings of many members at once. `Content-Type: text/csv` (the
/// default): columns `member_id`, `time`, one of `glucose_mg_dl`, `glucose_mmol_l` or
/// `glucose` + `unit`, optional `context` and `source`. `Content-Type: application/x-ndjson`:
/// one JSON object a line with `member_id`, `time`, one of `glucose_mg_dl` / `glucose_mmol_l`,
/// optional `context` and `source`. `Content-Type: application/fhir+json` (or
/// `application/fhir+ndjson`): FHIR R4 about many patients, each patient's data given to the
/// member named by their identifier in the tenant's `fhir_member_identifier_system`
/// (`PUT /v1/settings`); HbA1c results go to labs.
#[utoipa::path(post, path = "/v1/readings", tag = "members", params(UploadQuery), request_body(content((String = "text/csv"), (String = "application/x-ndjson"), (String = "application/fhir+json"))), security(("api_key" = [])), responses((status = 200, description = "Counts, and the rejected rows by line", body = UploadAnswer), (status = 400, description = "The CSV's header is wrong", body = crate::error::ErrorBody), (status = 503, description = "As many uploads and evaluations are being read or run as the server takes", body = crate::error::ErrorBody), (status = 413, description = "Over the body limit", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Allowed<SendMemberData>,
    crate::body::ApiQuery(q): crate::body::ApiQuery<UploadQuery>,
    headers: HeaderMap,
    RawBody(bytes): RawBody,
) -> Result<Shown<SendMemberData, Json<UploadAnswer>>, ApiError> {
    let likely = crate::routes::members::likely_policy(q.keep_likely_duplicates.unwrap_or(false));
    if crate::routes::device_exports::is_fhir(&headers) {
        let answer = fhir_upload(&state, caller.tenant(), bytes, likely).await?;
        return Ok(caller.show(Json(answer)));
    }
    let (mut answer, added) =
        store_while_reading(&state, caller.tenant(), likely, bytes, is_ndjson(&headers)).await?;
    answer.accepted += added.added.accepted;
    answer.duplicate += added.added.duplicate;
    answer.likely_duplicates =
        crate::routes::members::likely_bodies(&added.added.likely_duplicates);
    reject_not_enrolled(&mut answer, added.not_enrolled);
    Ok(caller.show(Json(answer)))
}

/// Reads a CSV or NDJSON upload on the evaluation pool (a body of hundreds of megabytes takes
/// a second or more to read, which on the runtime's threads would hold up every request) and
/// stores it while it is read: while the body keeps each member's readings together, each
/// member goes to the store as soon as it is read, in batches, and the database writes one
/// batch while the next is read. A body that does not keep members together is stored once
/// read whole, what was written of it rolled back; the answer is the same either way
/// (`api/tests/ledger_and_uploads.rs` sends both).
async fn store_while_reading(
    state: &AppState,
    tenant: &str,
    likely: incentive_store::LikelyDuplicates,
    bytes: axum::body::Bytes,
    ndjson: bool,
) -> Result<(UploadAnswer, incentive_store::BulkReadingsAdded), ApiError> {
    // Unbounded: the body is in memory already, and the reader holds every reading it has
    // read whatever it hands over; a bound would only hold a pool thread while the database
    // caught up.
    let (send, mut receive) = tokio::sync::mpsc::unbounded_channel::<Batch>();
    let read = state.compute.run(move || {
        let mut handing = Handing::new(send);
        let read = if ndjson {
            Ok(read_ndjson(&bytes, &mut handing))
        } else {
            read_csv(&bytes, &mut handing)
        };
        let grouped = handing.finish();
        read.map(|read| (read, grouped))
    });
    let mut upload = state.store.bulk_readings(tenant, likely);
    let write = async move {
        while let Some(batch) = receive.recv().await {
            upload.add(&batch).await?;
        }
        Ok::<_, incentive_store::StoreError>(upload)
    };
    let (read, written) = tokio::join!(read, write);
    // A body that cannot be read is refused whatever was written of it: dropped, that is
    // rolled back.
    let ((answer, members), grouped) = read??;
    let upload = written?;
    let stored = if grouped { "while_read" } else { "once_read" };
    let added = if grouped {
        let mut added = upload.commit().await?;
        // In member order, as when the upload is stored whole (each member was in one batch,
        // and a stable sort keeps each one's findings in their order).
        added.not_enrolled.sort_by(|a, b| a.0.cmp(&b.0));
        added.added.likely_duplicates.sort_by(|a, b| a.0.cmp(&b.0));
        added
    } else {
        upload.roll_back().await?;
        let members: Vec<(MemberId, Vec<Reading>)> = members.into_iter().collect();
        state
            .store
            .add_readings_many_with(tenant, &members, likely)
            .await?
    };
    state
        .metrics
        .uploads
        .get_or_create(&crate::observe::UploadLabels { stored })
        .inc();
    Ok((answer, added))
}

/// Readings handed to the store at a time while an upload is read: enough that a batch's
/// fixed cost (its enrolment and likely-duplicate queries) is small beside its writes.
const STREAMED_BATCH_READINGS: usize = 20_000;

type Batch = Vec<(MemberId, Vec<Reading>)>;

/// Members the reader hands over, gathered into batches for the store while the body keeps
/// each member's readings together.
struct Handing {
    /// `None` once the body is found not to keep members together, or the store has stopped.
    send: Option<tokio::sync::mpsc::UnboundedSender<Batch>>,
    batch: Batch,
    readings: usize,
    grouped: bool,
}

impl Handing {
    fn new(send: tokio::sync::mpsc::UnboundedSender<Batch>) -> Self {
        Self {
            send: Some(send),
            batch: Batch::new(),
            readings: 0,
            grouped: true,
        }
    }

    fn member(&mut self, id: &MemberId, readings: Vec<Reading>) {
        if self.send.is_none() {
            return;
        }
        self.readings += readings.len();
        self.batch.push((id.clone(), readings));
        if self.readings >= STREAMED_BATCH_READINGS {
            self.flush();
        }
    }

    fn not_grouped(&mut self) {
        self.grouped = false;
        self.send = None;
        self.batch = Batch::new();
    }

    fn flush(&mut self) {
        let batch = std::mem::take(&mut self.batch);
        self.readings = 0;
        if let Some(send) = &self.send
            && !batch.is_empty()
            && send.send(batch).is_err()
        {
            // The store stopped, and its error is the answer: nothing more to hand over.
            self.send = None;
        }
    }

    /// Hands over the last batch; whether every member read was handed over whole.
    fn finish(mut self) -> bool {
        self.flush();
        self.grouped
    }
}

type ByMember = BTreeMap<MemberId, Vec<Reading>>;

/// A FHIR upload about many patients: read on the evaluation pool, each patient's readings
/// and labs given to the member their identifier in the tenant's system names. A patient
/// without one, or naming no enrolled member, is rejected whole and named.
async fn fhir_upload(
    state: &AppState,
    tenant: &str,
    bytes: axum::body::Bytes,
    likely: incentive_store::LikelyDuplicates,
) -> Result<UploadAnswer, ApiError> {
    use incentive_engine::exports::{ExportOptions, read_fhir};
    let settings = state.store.tenant_settings(tenant).await?;
    let Some(system) = settings.fhir_member_identifier_system else {
        return Err(ApiError::Conflict(
            "the tenant has no FHIR identifier system to name members by: an admin sets `fhir_member_identifier_system` with PUT /v1/settings".into(),
        ));
    };
    let options = ExportOptions {
        source_name: "the upload".into(),
        zone: None,
        date_order: None,
    };
    let fhir = state
        .compute
        .run(move || read_fhir(&bytes[..], &options))
        .await?
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let mut answer = UploadAnswer {
        rows: fhir.report.rows,
        ..UploadAnswer::default()
    };
    let mut readings = Vec::new();
    let mut labs = Vec::new();
    for (person, export) in fhir.people {
        let key = person.key(Some(system.as_str()));
        let Some(member) = key.and_then(|k| MemberId::parse(k).ok()) else {
            let (n, l) = (export.readings.len(), export.labs.len());
            answer.reject(
                (n + l) as u64,
                0,
                format!(
                    "{} has no member id in `{}`: its {n} readings and {l} HbA1c results were not stored",
                    person.describe(),
                    system.as_str()
                ),
            );
            continue;
        };
        if !export.labs.is_empty() {
            labs.push((member.clone(), export.labs));
        }
        readings.push((member, export.readings));
    }
    let added = state
        .store
        .add_readings_many_with(tenant, &readings, likely)
        .await?;
    answer.accepted = added.added.accepted;
    answer.duplicate = added.added.duplicate;
    answer.likely_duplicates =
        crate::routes::members::likely_bodies(&added.added.likely_duplicates);
    reject_not_enrolled(&mut answer, added.not_enrolled);
    let (mut labs_accepted, mut labs_duplicate) = (0, 0);
    for (member, results) in labs {
        match state.store.add_labs(tenant, &member, &results).await {
            Ok(added) => {
                labs_accepted += added.accepted;
                labs_duplicate += added.duplicate;
            }
            Err(incentive_store::StoreError::UnknownMember { .. }) => answer.reject(
                results.len() as u64,
                0,
                format!(
                    "member `{}` is not enrolled: its {} HbA1c results were not stored",
                    member.as_str(),
                    results.len()
                ),
            ),
            Err(e) => return Err(e.into()),
        }
    }
    answer.labs_accepted = Some(labs_accepted);
    answer.labs_duplicate = Some(labs_duplicate);
    answer.report = Some(fhir.report);
    Ok(answer)
}

fn read_csv(bytes: &[u8], handing: &mut Handing) -> Result<(UploadAnswer, ByMember), ApiError> {
    use incentive_engine::ingest::{BadRows, CsvOptions, Handover, read_readings_csv_handing_over};
    let options = CsvOptions {
        source_name: "the upload".into(),
        bad_rows: BadRows::Skip,
        ..CsvOptions::default()
    };
    let mut answer = UploadAnswer::default();
    let loaded = read_readings_csv_handing_over(
        bytes,
        &options,
        &mut |e| answer.reject(1, e.line, e.to_string()),
        &mut |h| match h {
            Handover::Member(id, readings) => handing.member(id, readings.iter().collect()),
            Handover::NotGrouped => handing.not_grouped(),
        },
    )
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

fn read_ndjson(bytes: &[u8], handing: &mut Handing) -> (UploadAnswer, ByMember) {
    let mut answer = UploadAnswer::default();
    let mut members = ByMember::new();
    // The member of the line before, handed over when the next line is another's.
    let mut last: Option<MemberId> = None;
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
            Ok((member, reading)) => {
                if last.as_ref() != Some(&member) {
                    if members.contains_key(&member) {
                        handing.not_grouped();
                    } else if let Some(previous) = last.take()
                        && let Some(readings) = members.get(&previous)
                    {
                        handing.member(&previous, readings.clone());
                    }
                    last = Some(member.clone());
                }
                members.entry(member).or_default().push(reading);
            }
            Err(reason) => answer.reject(1, line_no, reason),
        }
    }
    if let Some(previous) = last
        && let Some(readings) = members.get(&previous)
    {
        handing.member(&previous, readings.clone());
    }
    (answer, members)
}

crate::discloses! {
    // Rejections quote the rows sent.
    UploadAnswer => [Readings];
}
