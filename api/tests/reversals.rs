//! A reversal as an insurer means it: a payment reversed as erroneous is not paid again on the
//! same data, every view of the decision says it was reversed and by which entry, and corrected
//! data decides again and pays in full what it earns.
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

async fn pay(w: &World, key: &str) -> (StatusCode, Value) {
    w.call(
        "POST",
        "/v1/payouts",
        Some("platform"),
        &[("idempotency-key", key)],
        Some(payout()),
    )
    .await
}

#[tokio::test]
async fn a_reversed_decision_shows_its_reversal_everywhere_and_is_not_paid_again_on_the_same_data()
{
    for db in databases().await {
        let w = world(&db).await;
        w.call(
            "POST",
            "/v1/members/M1/readings",
            Some("platform"),
            &[],
            Some(readings_body(5)),
        )
        .await;
        let (status, paid) = pay(&w, "k1").await;
        assert_eq!(status, StatusCode::CREATED, "{}: {paid}", db.label);
        assert_eq!(paid["decision"]["reversed"], false);
        assert_eq!(paid["decision"]["reversed_by_entry"], Value::Null);
        let id = paid["decision"]["id"].as_str().unwrap().to_owned();
        let reward = paid["decision"]["reward_posted"].clone();

        let (status, reversal) = w
            .call(
                "POST",
                &format!("/v1/decisions/{id}/reversal"),
                Some("auditor"),
                &[],
                Some(json!({ "reason": "paid on readings from a faulty meter" })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {reversal}", db.label);
        let entry = reversal["ledger_seq"].clone();

        // The decision, by id and in the member's list.
        let (_, one) = w
            .call(
                "GET",
                &format!("/v1/decisions/{id}"),
                Some("auditor"),
                &[],
                None,
            )
            .await;
        let (_, list) = w
            .call(
                "GET",
                "/v1/members/M1/decisions",
                Some("platform"),
                &[],
                None,
            )
            .await;
        for view in [&one, &list[0]] {
            assert_eq!(view["reversed"], true, "{}: {view}", db.label);
            assert_eq!(view["reversed_by_entry"], entry, "{}: {view}", db.label);
        }

        // Asked again on the same data, under a new key: the reversed decision is the answer,
        // and nothing is posted.
        let (_, before) = w
            .call("GET", "/v1/ledger/verify", Some("auditor"), &[], None)
            .await;
        let (status, again) = pay(&w, "k2").await;
        assert_eq!(status, StatusCode::OK, "{}: {again}", db.label);
        assert_eq!(again["kind"], "already_decided");
        assert_eq!(again["decision"]["id"], id.as_str());
        assert_eq!(again["decision"]["reversed"], true);
        assert_eq!(again["decision"]["reversed_by_entry"], entry);
        let (_, after) = w
            .call("GET", "/v1/ledger/verify", Some("auditor"), &[], None)
            .await;
        assert_eq!(
            before["tenants"][0]["entries"], after["tenants"][0]["entries"],
            "{}: nothing posted",
            db.label
        );
        // The first key replays its own answer, which now says the decision was reversed.
        let (status, replayed) = pay(&w, "k1").await;
        assert_eq!(status, StatusCode::CREATED, "{}: {replayed}", db.label);
        assert_eq!(replayed["decision"]["reversed"], true);

        // Corrected data decides again, against nothing standing: the new reward in full.
        w.call(
            "POST",
            "/v1/members/M1/readings",
            Some("platform"),
            &[],
            Some(readings_body(12)),
        )
        .await;
        let (status, redecided) = pay(&w, "k3").await;
        assert_eq!(status, StatusCode::CREATED, "{}: {redecided}", db.label);
        assert_eq!(redecided["kind"], "true_up");
        assert_eq!(redecided["decision"]["supersedes"], id.as_str());
        assert_eq!(redecided["decision"]["reversed"], false);
        assert_eq!(
            redecided["decision"]["reward_posted"], redecided["decision"]["reward"],
            "{}: the reversed payment no longer stands, so the whole reward is posted",
            db.label
        );
        assert_eq!(reward, redecided["decision"]["reward"], "{}", db.label);
        let (_, verified) = w
            .call("GET", "/v1/ledger/verify", Some("auditor"), &[], None)
            .await;
        assert_eq!(
            verified["tenants"][0]["problem"],
            Value::Null,
            "{}: {verified}",
            db.label
        );
        w.store.close().await;
        db.cleanup().await;
    }
}
