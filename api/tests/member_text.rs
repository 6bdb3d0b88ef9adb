//! Decisions shown in the member's language over the API: `?locale=`, the member's `locale`
//! attribute, `Accept-Language`, in that order; the stored decision and its hash the same in
//! every language.
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

/// Pays M1 for twelve controlled days of March and gives the decision's id.
async fn paid(w: &World) -> String {
    let (status, body) = w
        .call(
            "POST",
            "/v1/members/M1/readings",
            Some("platform"),
            &[],
            Some(readings_body(12)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = w
        .call(
            "POST",
            "/v1/payouts",
            Some("platform"),
            &[("idempotency-key", "march-M1")],
            Some(payout()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["decision"]["id"].as_str().unwrap().to_owned()
}

async fn shown(w: &World, uri: &str, headers: &[(&str, &str)]) -> Value {
    let (status, body) = w.call("GET", uri, Some("auditor"), headers, None).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    body
}

#[tokio::test]
async fn a_decision_is_shown_in_the_language_asked_for_and_its_bytes_are_the_same_in_each() {
    for db in databases().await {
        let w = world(&db).await;
        let id = paid(&w).await;
        let zh = shown(&w, &format!("/v1/decisions/{id}?locale=zh-CN"), &[]).await;
        assert_eq!(zh["shown"]["locale"], "zh-CN", "{}", db.label);
        assert_eq!(zh["shown"]["title"], "糖大夫月度控糖保费返还 · 2026-03");
        assert_eq!(zh["shown"]["reward"], "奖励：¥30.00");
        assert_eq!(
            zh["shown"]["why"][0],
            "本月您在 12 天内测量了 24 次，已达到测量要求"
        );
        // What is stored is the message and its arguments, never the words.
        assert_eq!(
            zh["decision"]["explanation"][0],
            json!({ "id": "measuring-gate-met", "args": { "days": "12", "readings": "24" } })
        );
        let en = shown(&w, &format!("/v1/decisions/{id}"), &[]).await;
        assert_eq!(en["shown"]["locale"], "en");
        assert_eq!(en["shown"]["reward"], "reward: 30.00 CNY");
        assert_eq!(en["decision"], zh["decision"]);
        assert_eq!(en["decision_hash"], zh["decision_hash"]);

        // The app's languages, in order, where none is asked for.
        let app = shown(
            &w,
            &format!("/v1/decisions/{id}"),
            &[("accept-language", "fr-FR, zh;q=0.8, en;q=0.5")],
        )
        .await;
        assert_eq!(app["shown"]["locale"], "zh-CN");
        let list = shown(&w, "/v1/members/M1/decisions?locale=zh", &[]).await;
        assert_eq!(list[0]["shown"]["reward"], "奖励：¥30.00");
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_members_own_language_is_used_unless_the_reader_asks_for_another() {
    for db in databases().await {
        let w = world_with(&db, |m| {
            m.replace(
                "\n[terms]",
                "\n[attributes]\nlocale = { type = \"text\", optional = true, description = \"the language the member reads\" }\n\n[terms]",
            )
        })
        .await;
        let (status, body) = w
            .call(
                "PUT",
                "/v1/members/M1",
                Some("platform"),
                &[],
                Some(json!({ "attributes": { "locale": "zh-CN" } })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", db.label);
        let id = paid(&w).await;
        let own = shown(
            &w,
            &format!("/v1/decisions/{id}"),
            &[("accept-language", "en")],
        )
        .await;
        assert_eq!(own["shown"]["locale"], "zh-CN", "{}", db.label);
        let asked = shown(&w, &format!("/v1/decisions/{id}?locale=en"), &[]).await;
        assert_eq!(asked["shown"]["locale"], "en");
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_locale_that_is_not_a_language_tag_is_refused_by_name() {
    for db in databases().await {
        let w = world(&db).await;
        let id = paid(&w).await;
        for bad in ["not%20a%20tag", &"x".repeat(40), "zh_CN%00"] {
            let (status, body) = w
                .call(
                    "GET",
                    &format!("/v1/decisions/{id}?locale={bad}"),
                    Some("auditor"),
                    &[],
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("locale: `"),
                "{body}"
            );
        }
        // A header of nonsense is passed over, not refused: it is the app's, not the caller's.
        let junk = "\u{1}".repeat(10);
        let (status, body) = w
            .call(
                "GET",
                &format!("/v1/decisions/{id}"),
                Some("auditor"),
                &[("accept-language", "*;;;,,,q=x, 12345678901234567890")],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{junk:?}: {body}");
        assert_eq!(body["shown"]["locale"], "en");
        w.store.close().await;
        db.cleanup().await;
    }
}
