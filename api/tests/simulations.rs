//! Simulations over HTTP, on every backend: a run started with `POST /v1/simulations` is
//! polled to its end and serves the very summary.json `incentive simulate` computes for the
//! same request; every bad request is refused by field or limit; a full queue answers 429; a
//! run whose server went away is reported failed, not left "running" for ever; and another
//! tenant sees none of it.
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
use incentive_engine::Period;
use incentive_engine::policy::load;
use incentive_simulations::report::{PlanInfo, RunInfo, summary_json};
use incentive_simulations::{Config, Population, Shard, run};
use incentive_store::NewSimulation;
use serde_json::{Value, json};
use std::time::Duration;
use world::*;

fn small_run() -> Value {
    json!({ "policy_id": PLAN, "members": 12, "periods": 3, "replications": 4, "seed": 2015, "first_period": "2026-01" })
}

/// Polls a simulation until it is no longer queued or running.
async fn finished(w: &World, id: &str) -> Value {
    for _ in 0..600 {
        let (status, body) = w
            .call(
                "GET",
                &format!("/v1/simulations/{id}"),
                Some("actuary"),
                &[],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["status"] != "queued" && body["status"] != "running" {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("simulation {id} did not finish in a minute");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulation_over_http_serves_the_summary_incentive_simulate_computes() {
    for db in databases().await {
        let w = world(&db).await;
        let (status, started) = w
            .call(
                "POST",
                "/v1/simulations",
                Some("actuary"),
                &[],
                Some(small_run()),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{}: {started}", db.label);
        let id = started["id"].as_str().unwrap().to_owned();
        let hex = id.strip_prefix("sim_").unwrap();
        assert!(
            hex.len() == 24 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
            "a simulation id is sim_ and 24 hex digits: {id}"
        );
        assert_eq!(started["member_periods_total"], 12 * 3 * 4);
        assert_eq!(started["request"]["policy_id"], PLAN);

        let done = finished(&w, &id).await;
        assert_eq!(done["status"], "succeeded", "{}: {done}", db.label);
        assert_eq!(done["member_periods_done"], done["member_periods_total"]);
        assert!(done["finished_at"].is_string());

        // The library's run of the same request, through the same policy package.
        let policy = load(&policy(PLAN)).unwrap().policy;
        let model = Population::default();
        let config = Config {
            members: 12,
            periods: 3,
            replications: 4,
            seed: 2015,
            first_period: Period::parse("2026-01").unwrap(),
            shard: Shard::WHOLE,
        };
        let results = run(&model, &[&policy], &config, &|_| {}).unwrap();
        let info = RunInfo::new(&config, vec![PlanInfo::of(&policy)], &model);
        let expected = summary_json(&info, &results).unwrap();
        let (status, summary) = w
            .call(
                "GET",
                &format!("/v1/simulations/{id}/summary"),
                Some("actuary"),
                &[],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            summary,
            serde_json::from_str::<Value>(&expected).unwrap(),
            "{}",
            db.label
        );
        let (status, report) = w
            .call(
                "GET",
                &format!("/v1/simulations/{id}/report"),
                Some("admin"),
                &[],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let html = report.as_str().unwrap();
        assert!(
            html.starts_with("<!DOCTYPE html>"),
            "{}",
            &html[..80.min(html.len())]
        );
        assert!(html.contains("<svg"));

        let (status, list) = w
            .call("GET", "/v1/simulations", Some("actuary"), &[], None)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list["simulations"][0]["id"], id.as_str());

        // Another tenant, even its admin, finds none of it.
        for uri in [
            format!("/v1/simulations/{id}"),
            format!("/v1/simulations/{id}/summary"),
            format!("/v1/simulations/{id}/report"),
        ] {
            let (status, _) = w.call("GET", &uri, Some("other-admin"), &[], None).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        }
        let (_, theirs) = w
            .call("GET", "/v1/simulations", Some("other-admin"), &[], None)
            .await;
        assert_eq!(theirs["simulations"], json!([]));

        // A comparison runs both plans on the same members.
        let mut ab = small_run();
        ab["compare_policy_id"] = json!(PLAN);
        let (status, started) = w
            .call("POST", "/v1/simulations", Some("admin"), &[], Some(ab))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{started}");
        let done = finished(&w, started["id"].as_str().unwrap()).await;
        assert_eq!(done["status"], "succeeded", "{done}");
        let (_, summary) = w
            .call(
                "GET",
                &format!("/v1/simulations/{}/summary", done["id"].as_str().unwrap()),
                Some("actuary"),
                &[],
                None,
            )
            .await;
        assert_eq!(
            summary["difference_a_minus_b"]["mean"], "0",
            "{}",
            summary["difference_a_minus_b"]
        );
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_simulation_requests_are_refused_by_field_or_limit() {
    let db = sqlite_db().await;
    let w = world(&db).await;
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut v = small_run();
        edit(&mut v);
        v
    };
    let cases: Vec<(&str, Value, StatusCode, &str)> = vec![
        (
            "no members",
            with(&|v| v["members"] = json!(0)),
            StatusCode::BAD_REQUEST,
            "members 0 is outside 1 to",
        ),
        (
            "too many periods",
            with(&|v| v["periods"] = json!(500)),
            StatusCode::BAD_REQUEST,
            "periods 500 is outside 1 to 120",
        ),
        (
            "more member-periods than the server takes",
            with(&|v| {
                v["members"] = json!(1_000_000);
                v["periods"] = json!(12);
                v["replications"] = json!(10);
            }),
            StatusCode::BAD_REQUEST,
            "simulation_member_periods_max",
        ),
        (
            "a bad first period",
            with(&|v| v["first_period"] = json!("2026-13")),
            StatusCode::BAD_REQUEST,
            "first_period",
        ),
        (
            "an unknown field",
            with(&|v| v["member"] = json!(3)),
            StatusCode::BAD_REQUEST,
            "unknown field `member`",
        ),
        (
            "a negative seed",
            with(&|v| v["seed"] = json!(-1)),
            StatusCode::BAD_REQUEST,
            "seed",
        ),
        (
            "a population model with a bad value",
            with(&|v| v["population"] = json!("[measuring]\nmonthly_readings_mean = -3\n")),
            StatusCode::BAD_REQUEST,
            "population",
        ),
        (
            "a population model that is not TOML",
            with(&|v| v["population"] = json!("[measuring\n")),
            StatusCode::BAD_REQUEST,
            "population",
        ),
        (
            "a policy the tenant does not have",
            with(&|v| v["policy_id"] = json!("nope")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "`nope`",
        ),
        (
            "a policy with no version then",
            with(&|v| v["first_period"] = json!("2019-01")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "in effect in 2019-01",
        ),
        (
            "an unknown policy and no first period",
            with(&|v| {
                v["policy_id"] = json!("nope");
                v.as_object_mut().unwrap().remove("first_period");
            }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "no published version",
        ),
    ];
    for (what, body, expected, says) in cases {
        let (status, answer) = w
            .call("POST", "/v1/simulations", Some("actuary"), &[], Some(body))
            .await;
        assert_eq!(status, expected, "{what}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{what}: {message}");
    }
    let (_, list) = w
        .call("GET", "/v1/simulations", Some("actuary"), &[], None)
        .await;
    assert_eq!(
        list["simulations"],
        json!([]),
        "a refused request left a simulation behind"
    );
    let (status, _) = w
        .call(
            "GET",
            "/v1/simulations/sim_nope",
            Some("actuary"),
            &[],
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    w.store.close().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_answers_429_and_the_first_run_still_finishes() {
    let db = sqlite_db().await;
    let mut w = world(&db).await;
    w.app = incentive_api::router(
        w.store.clone(),
        incentive_api::Limits {
            simulations_running_max: 1,
            simulations_waiting_max: 1,
            ..incentive_api::Limits::default()
        },
    );
    let mut big = small_run();
    big["members"] = json!(300);
    big["periods"] = json!(12);
    big["replications"] = json!(5);
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (status, body) = w
            .call(
                "POST",
                "/v1/simulations",
                Some("actuary"),
                &[],
                Some(big.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    let (status, body) = w
        .call(
            "POST",
            "/v1/simulations",
            Some("actuary"),
            &[],
            Some(small_run()),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "too_many_simulations");
    // While the second waits, its results are not there yet, and the answer says why.
    let (status, body) = w
        .call(
            "GET",
            &format!("/v1/simulations/{}/summary", ids[1]),
            Some("actuary"),
            &[],
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("member-periods done"),
        "{body}"
    );
    for id in &ids {
        assert_eq!(finished(&w, id).await["status"], "succeeded");
    }
    // With both done, the queue takes another.
    let (status, _) = w
        .call(
            "POST",
            "/v1/simulations",
            Some("actuary"),
            &[],
            Some(small_run()),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    w.store.close().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_server_went_quiet_is_reported_failed_not_running_for_ever() {
    for db in databases().await {
        let w = world(&db).await;
        w.store
            .create_simulation(&NewSimulation {
                id: "sim_lost",
                tenant: TENANT,
                request: &small_run().to_string(),
                member_periods_total: 144,
                runner: "a process that died",
            })
            .await
            .unwrap();
        let (_, fresh) = w
            .call(
                "GET",
                "/v1/simulations/sim_lost",
                Some("actuary"),
                &[],
                None,
            )
            .await;
        assert_eq!(fresh["status"], "queued", "{fresh}");
        raw(
            &db,
            "UPDATE simulations SET heartbeat_ms = heartbeat_ms - 31000 WHERE id = 'sim_lost'",
        )
        .await
        .unwrap();
        let (_, lost) = w
            .call(
                "GET",
                "/v1/simulations/sim_lost",
                Some("actuary"),
                &[],
                None,
            )
            .await;
        assert_eq!(lost["status"], "failed", "{}: {lost}", db.label);
        assert!(
            lost["error"]
                .as_str()
                .unwrap()
                .contains("stopped before it finished")
        );
        let (status, body) = w
            .call(
                "GET",
                "/v1/simulations/sim_lost/report",
                Some("actuary"),
                &[],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("failed: the server running it stopped"),
            "{body}"
        );
        w.store.close().await;
        db.cleanup().await;
    }
}
