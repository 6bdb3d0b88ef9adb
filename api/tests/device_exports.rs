//! A device's export sent as the device wrote it, on every backend: read, stored for the member,
//! answered with what was kept and dropped by reason; refused by name when it is not an export,
//! lacks the zone it needs, or names a format that does not exist; and only for the roles and
//! the tenant that may send a member's data.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

#[path = "../../store/tests/common/mod.rs"]
mod common;
mod world;

use axum::http::StatusCode;
use common::*;
use serde_json::{Value, json};
use world::*;

const CLARITY: &str = "Index,Timestamp (YYYY-MM-DDThh:mm:ss),Event Type,Event Subtype,Patient Info,Device Info,Source Device ID,Glucose Value (mg/dL),Insulin Value (u),Carb Value (grams),Duration (hh:mm:ss),Glucose Rate of Change (mg/dL/min),Transmitter Time (Long Integer),Transmitter ID
1,,FirstName,,Jane,,,,,,,,,
2,2026-03-02T07:00:00,EGV,,,,PG00000000,110,,,,,7573,38J902
3,2026-03-02T07:05:00,EGV,,,,PG00000000,Low,,,,,7873,38J902
4,2026-03-02T07:10:00,Insulin,Fast-Acting,,,PG00000000,,4,,,,,
";

async fn send(w: &World, uri: &str, key: &str, body: &str) -> (StatusCode, Value) {
    w.call_raw("POST", uri, key, "text/csv", body.to_owned())
        .await
}

#[tokio::test]
async fn a_clarity_export_is_stored_for_the_member_with_what_was_dropped_and_why() {
    for db in databases().await {
        let w = world(&db).await;
        let uri = "/v1/members/M1/readings/export?tz=Asia/Shanghai";
        let (status, body) = send(&w, uri, "platform", CLARITY).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", db.label);
        assert_eq!(body["accepted"], 2);
        assert_eq!(body["duplicate"], 0);
        assert_eq!(body["report"]["format"], "dexcom-clarity");
        assert_eq!(body["report"]["kept_as_lo"], 1);
        assert_eq!(
            body["report"]["dropped"],
            json!({ "insulin events (not glucose)": 1, "patient or device information": 1 })
        );
        // Sent again: nothing twice.
        let (_, again) = send(&w, uri, "platform", CLARITY).await;
        assert_eq!(
            (again["accepted"].clone(), again["duplicate"].clone()),
            (json!(0), json!(2))
        );
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn an_export_is_refused_by_name_and_only_its_tenants_senders_may_send_it() {
    for db in databases().await {
        let w = world(&db).await;
        for (uri, body, want) in [
            (
                "/v1/members/M1/readings/export",
                CLARITY,
                "tz: dexcom-clarity writes local times without an offset",
            ),
            (
                "/v1/members/M1/readings/export?tz=Mars/Olympus",
                CLARITY,
                "tz: `Mars/Olympus` is not an IANA time zone",
            ),
            (
                "/v1/members/M1/readings/export?format=clarity",
                CLARITY,
                "format: `clarity` is not a readings format",
            ),
            (
                "/v1/members/M1/readings/export",
                "member_id,time,glucose_mg_dl\n",
                "body: not an export this reads",
            ),
            (
                "/v1/members/M1/readings/export?tz=UTC&date_order=ymd",
                CLARITY,
                "date_order: `ymd` is not a date order",
            ),
        ] {
            let (status, answer) = send(&w, uri, "platform", body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {answer}");
            let message = answer["error"]["message"].as_str().unwrap();
            assert!(message.starts_with(want), "{uri}: {message}");
        }
        let uri = "/v1/members/M1/readings/export?tz=UTC";
        assert_eq!(
            send(&w, uri, "author", CLARITY).await.0,
            StatusCode::FORBIDDEN
        );
        // Another tenant's platform key does not reach this tenant's member.
        let (status, _) = send(&w, uri, "other-platform", CLARITY).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{}", db.label);
        let (status, _) = send(
            &w,
            "/v1/members/NOBODY/readings/export?tz=UTC",
            "platform",
            CLARITY,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        w.store.close().await;
        db.cleanup().await;
    }
}

const SYSTEM: &str = "https://insurer.example/member-id";

fn fhir_observation(code: &str, value: &str, unit: &str, time: &str, subject: &str) -> String {
    format!(
        r#"{{"resource":{{"resourceType":"Observation","status":"final","code":{{"coding":[{{"system":"http://loinc.org","code":"{code}"}}]}},"subject":{{"reference":"{subject}"}},"effectiveDateTime":"{time}","valueQuantity":{{"value":{value},"unit":"{unit}","code":"{unit}"}}}}}}"#
    )
}

fn fhir_patient(id: &str, member: Option<&str>) -> String {
    let identifier = member.map_or(String::new(), |m| {
        format!(r#","identifier":[{{"system":"{SYSTEM}","value":"{m}"}}]"#)
    });
    format!(r#"{{"resource":{{"resourceType":"Patient","id":"{id}"{identifier}}}}}"#)
}

fn fhir_bundle(entries: &[String]) -> String {
    format!(
        r#"{{"resourceType":"Bundle","type":"collection","entry":[{}]}}"#,
        entries.join(",")
    )
}

#[tokio::test]
async fn a_fhir_bundle_for_one_member_stores_its_readings_and_its_hba1c_as_labs() {
    for db in databases().await {
        let w = world(&db).await;
        let bundle = fhir_bundle(&[
            fhir_patient("a", Some("M1")),
            fhir_observation(
                "41653-7",
                "126",
                "mg/dL",
                "2026-03-02T07:00:00+08:00",
                "Patient/a",
            ),
            fhir_observation(
                "14743-9",
                "7.1",
                "mmol/L",
                "2026-03-02T09:00:00+08:00",
                "Patient/a",
            ),
            fhir_observation(
                "59261-8",
                "53",
                "mmol/mol",
                "2026-03-03T09:00:00+08:00",
                "Patient/a",
            ),
            fhir_observation(
                "97507-8",
                "140",
                "mg/dL",
                "2026-03-01T00:00:00Z",
                "Patient/a",
            ),
        ]);
        let uri = "/v1/members/M1/readings/export";
        let (status, body) = w
            .call_raw(
                "POST",
                uri,
                "platform",
                "application/fhir+json",
                bundle.clone(),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", db.label);
        assert_eq!(body["report"]["format"], "fhir");
        assert_eq!(
            (body["accepted"].clone(), body["labs_accepted"].clone()),
            (json!(2), json!(1))
        );
        assert_eq!(body["report"]["kept_labs"], 1);
        // Sent again: each reading and result is on record once.
        let (_, again) = w
            .call_raw("POST", uri, "platform", "application/fhir+json", bundle)
            .await;
        assert_eq!(
            (again["duplicate"].clone(), again["labs_duplicate"].clone()),
            (json!(2), json!(1))
        );
        // Two patients' data is never given to one member.
        let two = fhir_bundle(&[
            fhir_observation(
                "41653-7",
                "126",
                "mg/dL",
                "2026-03-02T07:00:00+08:00",
                "Patient/a",
            ),
            fhir_observation(
                "41653-7",
                "131",
                "mg/dL",
                "2026-03-02T07:00:00+08:00",
                "Patient/b",
            ),
        ]);
        let (status, refused) = w
            .call_raw("POST", uri, "platform", "application/fhir+json", two)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            refused["error"]["message"],
            "the export: the export is about 2 patients (Patient/a, Patient/b): send it to the bulk route, or split it by patient"
        );
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_bulk_fhir_upload_names_members_by_the_identifier_system_the_tenants_admin_set() {
    for db in databases().await {
        let w = world(&db).await;
        let bundle = fhir_bundle(&[
            fhir_patient("a", Some("M1")),
            fhir_patient("b", Some("M9")),
            fhir_patient("c", None),
            fhir_observation(
                "41653-7",
                "126",
                "mg/dL",
                "2026-03-02T07:00:00+08:00",
                "Patient/a",
            ),
            fhir_observation(
                "4548-4",
                "6.9",
                "%",
                "2026-03-03T09:00:00+08:00",
                "Patient/a",
            ),
            fhir_observation(
                "41653-7",
                "140",
                "mg/dL",
                "2026-03-02T07:00:00+08:00",
                "Patient/b",
            ),
            fhir_observation(
                "41653-7",
                "150",
                "mg/dL",
                "2026-03-02T07:00:00+08:00",
                "Patient/c",
            ),
        ]);
        let upload = |key: &'static str| {
            w.call_raw(
                "POST",
                "/v1/readings",
                key,
                "application/fhir+json",
                bundle.clone(),
            )
        };
        // Until the tenant says which identifier names its members, nothing is guessed.
        let (status, body) = upload("platform").await;
        assert_eq!(status, StatusCode::CONFLICT, "{}: {body}", db.label);
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("an admin sets `fhir_member_identifier_system` with PUT /v1/settings"),
            "{body}"
        );

        let set = json!({ "fhir_member_identifier_system": SYSTEM });
        let (status, _) = w
            .call(
                "PUT",
                "/v1/settings",
                Some("platform"),
                &[],
                Some(set.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, body) = w
            .call(
                "PUT",
                "/v1/settings",
                Some("admin"),
                &[],
                Some(json!({ "fhir_member_identifier_system": "member id" })),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("fhir_member_identifier_system: `member id` is not an absolute URI"),
            "{body}"
        );
        let (status, body) = w
            .call("PUT", "/v1/settings", Some("admin"), &[], Some(set.clone()))
            .await;
        let answered = json!({ "fhir_member_identifier_system": SYSTEM, "four_eyes": true });
        assert_eq!((status, body), (StatusCode::OK, answered.clone()));
        let (_, body) = w
            .call("GET", "/v1/settings", Some("admin"), &[], None)
            .await;
        assert_eq!(body, answered);
        // Another tenant's admin sees its own settings, not these.
        let (_, theirs) = w
            .call("GET", "/v1/settings", Some("other-admin"), &[], None)
            .await;
        assert_eq!(
            theirs,
            json!({ "fhir_member_identifier_system": null, "four_eyes": true })
        );

        let (status, body) = upload("platform").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            (
                body["rows"].clone(),
                body["accepted"].clone(),
                body["labs_accepted"].clone(),
                body["rejected"].clone()
            ),
            (json!(7), json!(1), json!(1), json!(2))
        );
        let reasons: Vec<&str> = body["rejections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["reason"].as_str().unwrap())
            .collect();
        assert_eq!(
            reasons,
            [
                "Patient/c has no member id in `https://insurer.example/member-id`: its 1 readings and 0 HbA1c results were not stored",
                "member `M9` is not enrolled: its 1 readings were not stored",
            ]
        );
        assert_eq!(body["report"]["format"], "fhir");
        // Another tenant's platform, whose admin set nothing, is refused the same bundle.
        let (status, _) = upload("other-platform").await;
        assert_eq!(status, StatusCode::CONFLICT);
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_finger_stick_sent_again_by_another_app_is_named_and_not_stored_unless_kept() {
    for db in databases().await {
        let w = world(&db).await;
        let meter = json!({ "readings": [
            { "time": "2026-03-02T07:02:41+08:00", "glucose_mg_dl": 126, "source": "smbg" }
        ] });
        let (status, _) = w
            .call(
                "POST",
                "/v1/members/M1/readings",
                Some("platform"),
                &[],
                Some(meter),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        // The same test typed by hand, in mmol/L, at the minute it was remembered.
        let typed = |keep: bool| {
            json!({ "readings": [
                { "time": "2026-03-02T07:00:00+08:00", "glucose_mmol_l": 7.0 }
            ], "keep_likely_duplicates": keep })
        };
        let (_, answer) = w
            .call(
                "POST",
                "/v1/members/M1/readings",
                Some("platform"),
                &[],
                Some(typed(false)),
            )
            .await;
        assert_eq!(answer["accepted"], 0, "{}: {answer}", db.label);
        assert_eq!(
            answer["likely_duplicates"],
            json!([{ "member_id": "M1", "time": "2026-03-02T07:00:00+08:00", "repeats": "2026-03-02T07:02:41+08:00" }])
        );
        let (_, kept) = w
            .call(
                "POST",
                "/v1/members/M1/readings",
                Some("platform"),
                &[],
                Some(typed(true)),
            )
            .await;
        assert_eq!(kept["accepted"], 1, "{kept}");
        // A bulk upload names them the same way.
        let csv = "member_id,time,glucose_mmol_l\nM1,2026-03-02T07:05:00+08:00,7.0\n";
        let (_, bulk) = w
            .call_raw(
                "POST",
                "/v1/readings",
                "platform",
                "text/csv",
                csv.to_owned(),
            )
            .await;
        assert_eq!(bulk["accepted"], 0, "{bulk}");
        assert_eq!(bulk["likely_duplicates"][0]["member_id"], "M1");
        w.store.close().await;
        db.cleanup().await;
    }
}

/// SiBionics' app writes an Excel workbook and Apple's Health app an XML export: sent as their
/// bytes, each is told by its content and read (the fuzz seeds: one small file of each).
#[tokio::test]
async fn a_sibionics_workbook_and_an_apple_health_export_are_read_from_their_bytes() {
    for db in databases().await {
        let w = world(&db).await;
        for (seed, content_type, format, accepted) in [
            (
                "sibionics-export.xlsx",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "sibionics",
                4,
            ),
            (
                "apple-health-export.xml",
                "application/xml",
                "apple-health",
                4,
            ),
        ] {
            let bytes = std::fs::read(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../fuzz/corpus/device_exports")
                    .join(seed),
            )
            .unwrap();
            let (status, body) = w
                .call_bytes(
                    "POST",
                    "/v1/members/M1/readings/export",
                    "platform",
                    content_type,
                    bytes,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{}: {seed}: {body}", db.label);
            assert_eq!(body["report"]["format"], format);
            assert_eq!(body["accepted"], accepted, "{seed}: {body}");
        }
        w.store.close().await;
        db.cleanup().await;
    }
}

/// A trial takes a device's export as its text, read in the policy's zone unless told: an
/// author tries a plan on what a member's app exported, nothing stored.
#[tokio::test]
async fn a_trial_reads_the_readings_of_an_export_sent_as_its_text() {
    for db in databases().await {
        let w = world(&db).await;
        // Four meter readings on four days of March 2026, Nightscout's shape.
        let entries: Vec<String> = (2..6)
            .map(|d| {
                let ms =
                    chrono::DateTime::parse_from_rfc3339(&format!("2026-03-0{d}T07:00:00+08:00"))
                        .unwrap()
                        .timestamp_millis();
                format!(r#"{{"type":"mbg","mbg":110,"date":{ms},"utcOffset":480}}"#)
            })
            .collect();
        let body = json!({
            "policy_id": "tangdaifu-smbg",
            "period": "2026-03",
            "readings_export": { "text": format!("[{}]", entries.join(",")) },
        });
        let (status, answer) = w
            .call(
                "POST",
                "/v1/evaluations/trial",
                Some("author"),
                &[],
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {answer}", db.label);
        assert_eq!(
            answer["shown"]["why"][0], "measured 4 times on 4 days: the measuring target is met",
            "{answer}"
        );
        // Not an export: named by its field.
        let (status, refused) = w
            .call(
                "POST",
                "/v1/evaluations/trial",
                Some("author"),
                &[],
                Some(json!({
                    "policy_id": "tangdaifu-smbg",
                    "period": "2026-03",
                    "readings_export": { "text": "hello" },
                })),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            error_message(&refused).starts_with("readings_export.text: not an export"),
            "{refused}"
        );
        w.store.close().await;
        db.cleanup().await;
    }
}
