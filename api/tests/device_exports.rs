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
