//! A stored version run over the tenant's real history (`POST …/versions/{v}/backtest`): the
//! totals an author or an actuary may see — what it would have paid beside what was paid —
//! never a member's row, and none at all over fewer members than could hide one.
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

const URI: &str = "/v1/policies/tangdaifu-smbg/versions/1.0.0/backtest";

/// `count` members besides M1, each with twelve March mornings in target.
async fn enrol_members(w: &World, count: usize) {
    for m in 0..count {
        let id = format!("H{m:03}");
        let (status, body) = w
            .call(
                "PUT",
                &format!("/v1/members/{id}"),
                Some("platform"),
                &[],
                Some(json!({ "age": 55 })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = w
            .call(
                "POST",
                &format!("/v1/members/{id}/readings"),
                Some("platform"),
                &[],
                Some(readings_body(12)),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

fn march() -> Value {
    json!({ "from": "2026-03", "to": "2026-03" })
}

#[tokio::test]
async fn an_author_sees_what_a_version_would_have_paid_beside_what_was_paid_and_no_member() {
    for db in databases().await {
        let w = world(&db).await;
        enrol_members(&w, 11).await;
        // M1 measures too, and is paid for March under the published version.
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
        let (status, paid) = w
            .call(
                "POST",
                "/v1/payouts",
                Some("platform"),
                &[("idempotency-key", "history-1")],
                Some(payout()),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{}: {paid}", db.label);
        assert_eq!(paid["decision"]["reward"], "30", "{paid}");

        let (status, totals) = w
            .call("POST", URI, Some("author"), &[], Some(march()))
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {totals}", db.label);
        assert_eq!(totals["members"], 12, "{totals}");
        assert_eq!(totals["periods"], json!(["2026-03"]), "{totals}");
        // Twelve members with all fasting readings in target: the full rebate, 30, each.
        assert_eq!(totals["would_pay"]["total_reward"], "360", "{totals}");
        assert_eq!(totals["would_pay"]["members_earning"], 12, "{totals}");
        let actual = &totals["actually_paid"];
        assert_eq!(actual["members_paid"], 1, "{totals}");
        assert_eq!(actual["total_reward"], "30", "{totals}");
        assert_eq!(totals["difference_reward"], "330", "{totals}");
        // Totals only: no member is named, by id or by pseudonym.
        let text = totals.to_string();
        for id in ["M1", "H000", "H010", "pseudonym"] {
            assert!(!text.contains(id), "{id} in {text}");
        }
        // An actuary and an admin see the same; a platform key and an auditor may not ask.
        for role in ["actuary", "admin"] {
            let (status, same) = w.call("POST", URI, Some(role), &[], Some(march())).await;
            assert_eq!(status, StatusCode::OK, "{role}: {same}");
            assert_eq!(same, totals, "{role}");
        }
        for role in ["platform", "auditor"] {
            let (status, body) = w.call("POST", URI, Some(role), &[], Some(march())).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{role}: {body}");
        }
        // Another tenant's key finds no such policy.
        let (status, body) = w
            .call("POST", URI, Some("other-admin"), &[], Some(march()))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn totals_over_fewer_members_than_could_hide_one_are_refused() {
    for db in databases().await {
        let w = world(&db).await;
        // M1 and eight more: nine members, one fewer than history_members_min (10).
        enrol_members(&w, 8).await;
        let (status, body) = w
            .call("POST", URI, Some("author"), &[], Some(march()))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(
            error_message(&body),
            "the tenant's history has 9 members: totals over fewer than 10 (history_members_min) could single a member out, so none are given"
        );
        enrol_members(&w, 9).await;
        let (status, body) = w
            .call("POST", URI, Some("author"), &[], Some(march()))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_draft_is_run_a_span_is_checked_and_a_version_past_its_dates_runs_only_renewed() {
    for db in databases().await {
        let w = world(&db).await;
        enrol_members(&w, 10).await;
        // A draft that halves the premium: half the rebate.
        let draft = package("tangdaifu-smbg", |m| {
            m.replace("version = \"1.0.0\"", "version = \"1.1.0\"")
                .replace(
                    "value = 100.00, description = \"the member's monthly premium\"",
                    "value = 50.00, description = \"the member's monthly premium\"",
                )
        });
        let (status, body) = w
            .call("POST", "/v1/policies", Some("author"), &[], Some(draft))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, totals) = w
            .call(
                "POST",
                "/v1/policies/tangdaifu-smbg/versions/1.1.0/backtest",
                Some("author"),
                &[],
                Some(march()),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{totals}");
        assert_eq!(totals["plan"]["version"], "1.1.0");
        assert_eq!(totals["would_pay"]["total_reward"], "150", "{totals}");

        // Each refusal names the field.
        for (body, starts) in [
            (
                json!({ "from": "2026-04", "to": "2026-03" }),
                "to `2026-03` is before from",
            ),
            (
                json!({ "from": "2026-Q1", "to": "2026-Q1" }),
                "from `2026-Q1` is not a monthly period",
            ),
            (json!({ "from": "March", "to": "2026-03" }), "from:"),
            (
                json!({ "from": "2026-01", "to": "2036-12" }),
                "from `2026-01` to to `2036-12` spans more than 120",
            ),
        ] {
            let (status, refused) = w
                .call("POST", URI, Some("author"), &[], Some(body.clone()))
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {refused}");
            assert!(
                error_message(&refused).starts_with(starts),
                "{body}: {refused}"
            );
        }
        let (status, refused) = w
            .call(
                "POST",
                "/v1/policies/tangdaifu-smbg/versions/not%20a%20version/backtest",
                Some("author"),
                &[],
                Some(march()),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
        assert!(error_message(&refused).starts_with("version:"), "{refused}");

        // 2027 is past 1.0.0's dates: it cannot decide there unless renewed unchanged.
        let next_year = json!({ "from": "2027-03", "to": "2027-03" });
        let (status, refused) = w
            .call("POST", URI, Some("author"), &[], Some(next_year))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert!(
            error_message(&refused).contains("not in effect in 2027-03"),
            "{refused}"
        );
        let renewed = json!({ "from": "2027-03", "to": "2027-03", "renewal": "unchanged" });
        let (status, totals) = w
            .call("POST", URI, Some("author"), &[], Some(renewed))
            .await;
        assert_eq!(status, StatusCode::OK, "{totals}");
        // No readings in 2027: nobody measures, nobody earns.
        assert_eq!(totals["would_pay"]["members_measuring"], 0, "{totals}");
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_backtest_past_the_member_periods_one_request_decides_is_refused_with_the_limit() {
    let db = sqlite_db().await;
    let w = world(&db).await;
    enrol_members(&w, 10).await;
    let small = World {
        store: w.store.clone(),
        app: incentive_api::router(
            w.store.clone(),
            incentive_api::Limits {
                history_member_periods_max: 21,
                policy_decision_ms_max: 2_000,
                ..incentive_api::Limits::default()
            },
        ),
        keys: w.keys.clone(),
    };
    // Eleven members: one month is 11 member-periods, two are 22.
    let (status, body) = small
        .call("POST", URI, Some("author"), &[], Some(march()))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = small
        .call(
            "POST",
            URI,
            Some("author"),
            &[],
            Some(json!({ "from": "2026-03", "to": "2026-04" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        error_message(&body),
        "11 members × 2 periods = 22 member-periods, more than one request decides (21, history_member_periods_max): ask for fewer periods, or run `incentive backtest` on the database"
    );
    w.store.close().await;
}
