//! What a client holding a valid key can send that the API must refuse clearly, cheaply and
//! without repeating it back: each test here is a finding of the security review, and fails on
//! the code as it was before its fix.
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
use serde_json::json;
use world::*;

/// Bytes of an error message that repeats a client's value: the value is cut to about 100
/// characters, so a whole message stays well under this.
const ECHO_BYTES_MAX: usize = 600;

#[tokio::test]
async fn the_bearer_scheme_is_read_in_any_case() {
    let db = sqlite_db().await;
    let w = world(&db).await;
    let key = &w.keys["auditor"];
    for scheme in ["bearer", "BEARER", "Bearer", "bEaReR"] {
        let (status, body) = w
            .call_with_authorization("GET", "/v1/ledger/verify", &format!("{scheme} {key}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{scheme}: {body}");
    }
    for wrong in [format!("Basic {key}"), format!("Bearer{key}"), key.clone()] {
        let (status, _) = w
            .call_with_authorization("GET", "/v1/ledger/verify", &wrong)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{wrong}");
    }
    w.store.close().await;
}

#[tokio::test]
async fn a_json_body_that_starts_with_a_byte_order_mark_is_read_as_if_it_had_none() {
    let db = sqlite_db().await;
    let w = world(&db).await;
    let (status, body) = w
        .call_raw(
            "PUT",
            "/v1/members/M7",
            "platform",
            "application/json",
            "\u{FEFF}{\"age\": 54, \"sex\": \"female\"}".into(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = w
        .call_raw(
            "POST",
            "/v1/readings",
            "platform",
            "application/x-ndjson",
            "\u{FEFF}{\"member_id\": \"M7\", \"time\": \"2026-03-02T07:00:00+08:00\", \"glucose_mmol_l\": 5.6}\n".into(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["accepted"].as_u64(), body["rejected"].as_u64()),
        (Some(1), Some(0)),
        "{body}"
    );
    w.store.close().await;
}

#[tokio::test]
async fn a_reading_value_that_is_not_a_number_or_text_is_refused_while_parsing_and_not_repeated() {
    let db = sqlite_db().await;
    let w = world(&db).await;
    // About 8 MB of empty arrays in one value: once parsed into JSON values it cost ~57 MB,
    // and the rejection carried it all back.
    let arrays = vec!["[]"; 2_000_000].join(",");
    let body = format!(
        "{{\"readings\": [{{\"time\": \"2026-03-02T07:00:00+08:00\", \"glucose_mg_dl\": [{arrays}]}}]}}"
    );
    let (status, answer) = w
        .call_raw(
            "POST",
            "/v1/members/M1/readings",
            "platform",
            "application/json",
            body,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "{}",
        error_message(&answer)
    );
    let text = error_message(&answer);
    assert!(text.len() < ECHO_BYTES_MAX, "{} bytes", text.len());
    assert!(
        text.contains("readings[0].glucose_mg_dl") && text.contains("a number or a string"),
        "{text}"
    );
    for value in [json!(true), json!({ "mg": 100 }), json!(null)] {
        let (status, answer) = w
            .call(
                "POST",
                "/v1/members/M1/readings",
                Some("platform"),
                &[],
                Some(json!({ "readings": [{ "time": "2026-03-02T07:00:00+08:00", "glucose_mg_dl": value }] })),
            )
            .await;
        // `null` is "absent", which leaves no value at all: refused per reading, not per body.
        if value.is_null() {
            assert_eq!(status, StatusCode::OK, "{answer}");
            assert_eq!(
                answer["rejected"][0]["reason"],
                "give exactly one of glucose_mg_dl and glucose_mmol_l"
            );
        } else {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{value}: {answer}");
        }
    }
    w.store.close().await;
}

#[tokio::test]
async fn a_long_value_of_the_wrong_kind_is_named_but_repeated_only_in_part() {
    let db = sqlite_db().await;
    let w = world(&db).await;
    let long = "9".repeat(1_000_000);
    let cases = [
        ("PUT", "/v1/members/M7", json!({ "age": long })),
        ("PUT", "/v1/members/M7", json!({ "sex": long })),
        ("PUT", "/v1/members/M7", json!({ "enrolled_on": long })),
        (
            "POST",
            "/v1/payouts",
            json!({ "member_id": "M1", "policy_id": PLAN, "period": long }),
        ),
        (
            "POST",
            "/v1/payouts",
            json!({ "member_id": "M1", "policy_id": long, "period": "2026-03" }),
        ),
        (
            "POST",
            "/v1/members/M1/readings",
            json!({ "readings": [{ "time": long, "glucose_mg_dl": 100 }] }),
        ),
        (
            "POST",
            "/v1/members/M1/readings",
            json!({ "readings": [{ "time": "2026-03-02T07:00:00+08:00", "glucose_mg_dl": long }] }),
        ),
        (
            "POST",
            "/v1/members/M1/labs",
            json!({ "labs": [{ "time": "2026-03-02T07:00:00+08:00", "hba1c_percent": format!("x{long}") }] }),
        ),
    ];
    for (method, uri, body) in cases {
        let (status, answer) = w
            .call(
                method,
                uri,
                Some("admin"),
                &[("idempotency-key", "k-long")],
                Some(body.clone()),
            )
            .await;
        let text = answer.to_string();
        assert!(
            text.len() < ECHO_BYTES_MAX,
            "{method} {uri} ({status}) answered {} bytes: {}…",
            text.len(),
            text.get(..300).unwrap_or(&text)
        );
        assert!(text.contains("bytes in all"), "{method} {uri}: {text}");
    }
    w.store.close().await;
}

#[tokio::test]
async fn a_region_is_at_most_64_characters_and_holds_no_hidden_ones() {
    let db = sqlite_db().await;
    let w = world(&db).await;
    let (status, body) = w
        .call(
            "PUT",
            "/v1/members/M7",
            Some("platform"),
            &[],
            Some(json!({ "region": "贵州省贵阳市".repeat(10) })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (region, says) in [
        ("贵".repeat(65), "65 characters, more than the 64"),
        (
            "x".repeat(7_000_000),
            "7000000 characters, more than the 64",
        ),
        ("Guizhou\u{202E}".to_owned(), "U+202E"),
    ] {
        let (status, body) = w
            .call(
                "PUT",
                "/v1/members/M7",
                Some("platform"),
                &[],
                Some(json!({ "region": region })),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{says}");
        assert!(error_message(&body).starts_with("region: "), "{body}");
        assert!(error_message(&body).contains(says), "{body}");
    }
    w.store.close().await;
}

#[tokio::test]
async fn ids_with_bidirectional_overrides_zero_width_or_control_characters_are_refused() {
    let db = sqlite_db().await;
    let w = world(&db).await;
    for (encoded, code_point) in [
        ("M1%E2%80%AE01", "U+202E"),
        ("M%E2%81%A61", "U+2066"),
        ("M%E2%80%8B1", "U+200B"),
        ("M%071", "U+0007"),
    ] {
        let (status, body) = w
            .call(
                "PUT",
                &format!("/v1/members/{encoded}"),
                Some("platform"),
                &[],
                Some(json!({})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{encoded}: {body}");
        assert!(
            error_message(&body).contains(code_point),
            "{encoded}: {body}"
        );
        let (status, body) = w
            .call(
                "POST",
                "/v1/payouts",
                Some("platform"),
                &[("idempotency-key", "k-bidi")],
                Some(json!({ "member_id": format!("M1{}", percent_decode(encoded)), "policy_id": PLAN, "period": "2026-03" })),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{encoded}: {body}");
        assert!(
            error_message(&body).contains(code_point),
            "{encoded}: {body}"
        );
    }
    w.store.close().await;
}

/// The characters the test's percent-encoded ids stand for.
fn percent_decode(encoded: &str) -> String {
    let mut bytes = Vec::new();
    let mut rest = encoded.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let hex = std::str::from_utf8(&tail[..2]).unwrap();
            bytes.push(u8::from_str_radix(hex, 16).unwrap());
            rest = &tail[2..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn a_reading_in_a_year_no_period_covers_is_rejected_with_its_reason() {
    let db = sqlite_db().await;
    let w = world(&db).await;
    let (status, body) = w
        .call(
            "POST",
            "/v1/members/M1/readings",
            Some("platform"),
            &[],
            Some(json!({ "readings": [
                { "time": "0000-01-01T00:00:00Z", "glucose_mg_dl": 100 },
                { "time": "1899-12-31T23:00:00+08:00", "glucose_mg_dl": 100 },
                { "time": "2026-03-02T07:00:00+08:00", "glucose_mg_dl": 100 },
            ] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["accepted"], 1, "{body}");
    for (i, rejected) in body["rejected"].as_array().unwrap().iter().enumerate() {
        assert_eq!(rejected["index"], i, "{body}");
        assert!(
            rejected["reason"]
                .as_str()
                .unwrap()
                .contains("outside the years 1900–9999"),
            "{body}"
        );
    }
    w.store.close().await;
}

#[tokio::test]
async fn a_padded_period_is_refused_and_its_key_stays_free_for_the_request_as_meant() {
    for db in databases().await {
        let w = world(&db).await;
        w.call(
            "POST",
            "/v1/members/M1/readings",
            Some("platform"),
            &[],
            Some(readings_body(20)),
        )
        .await;
        for padded in ["2026-03\n", "2026-03 ", " 2026-03"] {
            let (status, body) = w
                .call(
                    "POST",
                    "/v1/payouts",
                    Some("platform"),
                    &[("idempotency-key", "k-padded")],
                    Some(json!({ "member_id": "M1", "policy_id": PLAN, "period": padded })),
                )
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{}: {body}", db.label);
            assert!(error_message(&body).contains("white space"), "{body}");
        }
        let (status, body) = w
            .call(
                "POST",
                "/v1/payouts",
                Some("platform"),
                &[("idempotency-key", "k-padded")],
                Some(payout()),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{}: {body}", db.label);
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn package_file_names_that_could_reach_outside_the_package_are_refused() {
    let db = sqlite_db().await;
    let w = world(&db).await;
    for name in [
        "../policy.toml",
        "cases/../../etc/passwd",
        "/etc/passwd",
        "cases//a.toml",
        "./policy.toml",
        "cases\\a.toml",
        "C:policy.toml",
        "cases/a\u{0}.toml",
        "cases/\u{202E}lmot.a",
        "",
    ] {
        let files = json!({ "policy.toml": "", "rules.rhai": "", name: "x" });
        for route in ["/v1/policies/check", "/v1/policies/test", "/v1/policies"] {
            let (status, body) = w
                .call(
                    "POST",
                    route,
                    Some("author"),
                    &[],
                    Some(json!({ "files": files })),
                )
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{route} {name:?}: {body}");
            assert!(
                error_message(&body).contains("is not a package file name"),
                "{body}"
            );
        }
    }
    w.store.close().await;
}

#[tokio::test]
async fn member_attributes_are_refused_by_name_kind_and_limit() {
    let db = sqlite_db().await;
    let w = world(&db).await;
    let many: serde_json::Map<String, serde_json::Value> =
        (0..33).map(|i| (format!("a{i}"), json!("x"))).collect();
    let cases = [
        (
            json!({ "monthly_premium": 80.5 }),
            "80.5 is a fractional number; an attribute is a string, a whole number or true/false",
        ),
        (
            json!({ "monthly_premium": "80.50" }),
            "attributes: `monthly_premium` is not an attribute any published policy of this tenant declares",
        ),
        (
            serde_json::Value::Object(many),
            "attributes: 33 attributes, more than the 32 a member may carry",
        ),
        (
            json!({ "Bad Name": "x" }),
            "attributes: attribute name `Bad Name` is not a name a policy can declare",
        ),
        (
            json!({ "family_id": "x".repeat(10_000) }),
            "attributes: attribute `family_id`: 10000 characters, more than the 128",
        ),
        (
            json!({ "family_id": { "nested": true } }),
            "a string, a whole number or true/false",
        ),
    ];
    for (attributes, says) in cases {
        let (status, body) = w
            .call(
                "PUT",
                "/v1/members/M7",
                Some("platform"),
                &[],
                Some(json!({ "age": 50, "attributes": attributes })),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{says}: {body}");
        assert!(error_message(&body).contains(says), "{says}\n  got: {body}");
    }
    w.store.close().await;
}
