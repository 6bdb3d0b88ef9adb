//! Four-eyes publishing over the API, on every backend: the author who stored a draft cannot
//! approve it, another holder can; publishing without an approval that stands is refused, a
//! draft changed after its approval is refused until approved again, the version history shows
//! who stored and who approved; a tenant's admin may turn four eyes off, and another tenant's
//! keys reach none of it.
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

const POLICY: &str = "hba1c-outcome";

#[tokio::test]
async fn a_draft_is_published_only_after_another_holder_approves_it_as_it_is() {
    for db in databases().await {
        let w = world(&db).await;
        let (status, draft) = w
            .call(
                "POST",
                "/v1/policies",
                Some("author"),
                &[],
                Some(package(POLICY, str::to_owned)),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{}: {draft}", db.label);
        assert_eq!(draft["stored_by"], "author holder");
        let v = draft["version"].as_str().unwrap().to_owned();
        let approve = format!("/v1/policies/{POLICY}/versions/{v}/approve");
        let publish = format!("/v1/policies/{POLICY}/versions/{v}/publish");
        let comment = |c: &str| Some(json!({ "comment": c }));

        let (status, refused) = w.call("POST", &publish, Some("author"), &[], None).await;
        assert_eq!(status, StatusCode::CONFLICT, "{refused}");
        assert!(
            error_message(&refused).contains("no one has approved it"),
            "{refused}"
        );
        // Not by the author who stored it; not by another tenant's admin (not found there).
        let (status, refused) = w
            .call("POST", &approve, Some("author"), &[], comment("mine, fine"))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
        assert!(
            error_message(&refused).contains("author holder stored policy"),
            "{refused}"
        );
        let (status, _) = w
            .call("POST", &approve, Some("other-admin"), &[], comment("fine"))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // A platform key is no approver.
        let (status, _) = w
            .call("POST", &approve, Some("platform"), &[], comment("fine"))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        let (status, approval) = w
            .call(
                "POST",
                &approve,
                Some("admin"),
                &[],
                comment("refund matches the memo"),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{approval}");
        assert_eq!(
            (approval["approver"].clone(), approval["current"].clone()),
            (json!("admin holder"), json!(true))
        );

        // Stored again with a term changed: the approval no longer stands.
        let changed = package(POLICY, |m| m.replace("value = 4500", "value = 4600"));
        let (status, _) = w
            .call("POST", "/v1/policies", Some("author"), &[], Some(changed))
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, refused) = w.call("POST", &publish, Some("author"), &[], None).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(
            error_message(&refused).contains("it has changed since it was approved"),
            "{refused}"
        );
        let (status, _) = w
            .call(
                "POST",
                &approve,
                Some("admin"),
                &[],
                comment("new refund checked"),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, published) = w.call("POST", &publish, Some("author"), &[], None).await;
        assert_eq!(
            (status, published["status"].clone()),
            (StatusCode::OK, json!("published")),
            "{published}"
        );

        // The history shows who stored it and both approvals, the first no longer standing.
        let (_, history) = w
            .call(
                "GET",
                &format!("/v1/policies/{POLICY}/versions"),
                Some("auditor"),
                &[],
                None,
            )
            .await;
        let this = history
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["version"] == json!(v))
            .unwrap();
        assert_eq!(this["stored_by"], "author holder");
        let approvals: Vec<(Value, Value)> = this["approvals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["comment"].clone(), a["current"].clone()))
            .collect();
        assert_eq!(
            approvals,
            [
                (json!("refund matches the memo"), json!(false)),
                (json!("new refund checked"), json!(true)),
            ]
        );
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_tenant_whose_admin_turned_four_eyes_off_publishes_without_approval() {
    for db in databases().await {
        let w = world(&db).await;
        let (status, settings) = w
            .call(
                "PUT",
                "/v1/settings",
                Some("admin"),
                &[],
                Some(json!({ "four_eyes": false })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{settings}");
        assert_eq!(settings["four_eyes"], false);
        let (_, draft) = w
            .call(
                "POST",
                "/v1/policies",
                Some("author"),
                &[],
                Some(package(POLICY, str::to_owned)),
            )
            .await;
        let v = draft["version"].as_str().unwrap();
        let (status, published) = w
            .call(
                "POST",
                &format!("/v1/policies/{POLICY}/versions/{v}/publish"),
                Some("author"),
                &[],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {published}", db.label);
        w.store.close().await;
        db.cleanup().await;
    }
}
