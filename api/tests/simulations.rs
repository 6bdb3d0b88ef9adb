//! Simulations over HTTP, on every backend: a run started with `POST /v1/simulations` is
//! polled to its end and serves the very summary.json `incentive simulate` computes for the
//! same request; every bad request is refused by field or limit; a full queue answers 429, and
//! so does a tenant at its own quota while another tenant's run is taken; a run whose server
//! went away is reported failed, not left "running" for ever; another tenant sees none of it;
//! and a run of a slow policy stops within two seconds when it is cancelled, runs past its
//! time, or the server shuts down.
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
use incentive_engine::policy::{PolicySource, SourceFile, load};
use incentive_simulations::options::{Options, Renewal};
use incentive_simulations::report::{PlanInfo, RunInfo, summary_json};
use incentive_simulations::{Config, Population, Shard, run};
use incentive_store::{NewSimulation, SimulationStatus, Store};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use world::*;

fn small_run() -> Value {
    json!({ "policy_id": PLAN, "members": 12, "periods": 3, "replications": 4, "seed": 2015, "first_period": "2026-01" })
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

        let done = w.simulation_finished("actuary", &id).await;
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
        let done = w
            .simulation_finished("actuary", started["id"].as_str().unwrap())
            .await;
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
async fn a_renewed_run_with_a_book_a_confidence_and_a_tornado_serves_what_the_command_computes() {
    let db = sqlite_db().await;
    let w = world(&db).await;
    let mut body = small_run();
    body["periods"] = json!(24);
    body["renewal"] = json!("unchanged");
    body["book_members"] = json!(1200);
    body["confidence"] = json!("0.9");
    body["tornado"] = json!(true);
    let (status, started) = w
        .call("POST", "/v1/simulations", Some("actuary"), &[], Some(body))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    let runs = 1 + incentive_simulations::tornado::runs_needed() as u64;
    assert_eq!(started["member_periods_total"], 12 * 24 * 4 * runs);
    assert_eq!(started["request"]["renewal"], "unchanged");
    let id = started["id"].as_str().unwrap().to_owned();
    let done = w.simulation_finished("actuary", &id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["member_periods_done"], done["member_periods_total"]);

    // The command's meaning of the same options, through the same policy package.
    let policy = load(&policy(PLAN)).unwrap().policy;
    let model = Population::default();
    let config = Config {
        members: 12,
        periods: 24,
        replications: 4,
        seed: 2015,
        first_period: Period::parse("2026-01").unwrap(),
        shard: Shard::WHOLE,
    };
    let options = Options {
        book_members: Some(1200),
        confidence: "0.9".parse().unwrap(),
        renewal: Some(Renewal::Unchanged),
        tornado: true,
    };
    let priced = options.plans_for(&[&policy], 12);
    let plans: Vec<_> = priced.iter().collect();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let results = options
        .run(&model, &plans, &config, &|_| {}, &stop)
        .unwrap();
    let expected = summary_json(&options.info(&config, &plans, &model), &results).unwrap();
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
    assert_eq!(summary, serde_json::from_str::<Value>(&expected).unwrap());
    assert_eq!(summary["run"]["renewal"], "unchanged");
    assert_eq!(summary["run"]["book_members"], 1200);
    assert_eq!(summary["run"]["confidence"], "0.9");
    assert_eq!(summary["run"]["periods"].as_array().unwrap().len(), 24);
    assert_eq!(
        summary["sensitivity"]["bars"].as_array().unwrap().len(),
        incentive_simulations::population::RANGES.len()
    );
    w.store.close().await;
    db.cleanup().await;
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
            "periods past the plan's effective dates",
            with(&|v| {
                v["periods"] = json!(24);
                v["first_period"] = json!("2026-01");
            }),
            StatusCode::BAD_REQUEST,
            "reach 2027-01, outside it; ask for at most 12 period(s) from 2026-01",
        ),
        (
            "a confidence of one",
            with(&|v| v["confidence"] = json!("1")),
            StatusCode::BAD_REQUEST,
            "confidence 1 is not a share between 0 and 1 (exclusive)",
        ),
        (
            "a book of no members",
            with(&|v| v["book_members"] = json!(0)),
            StatusCode::BAD_REQUEST,
            "book_members 0: the book needs at least one member",
        ),
        (
            "a renewal the engine does not know",
            with(&|v| v["renewal"] = json!("sometimes")),
            StatusCode::BAD_REQUEST,
            "unknown variant `sometimes`",
        ),
        (
            "a tornado taking more member-periods than the server takes",
            with(&|v| {
                v["members"] = json!(200_000);
                v["periods"] = json!(12);
                v["replications"] = json!(1);
                v["tornado"] = json!(true);
            }),
            StatusCode::BAD_REQUEST,
            "= 31200000 member-periods, more than this server's limit",
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
        assert_eq!(
            w.simulation_finished("actuary", id).await["status"],
            "succeeded"
        );
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

/// Publishes in `tenant` the policy `slow` (simulations/tests/fixtures/slow): each decision
/// spends tens of milliseconds counting, so one chunk of 2,048 members takes a minute or more.
async fn publish_slow(store: &Store, tenant: &str) {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../simulations/tests/fixtures/slow");
    let file = |f: &str| SourceFile::new(f, std::fs::read_to_string(dir.join(f)).unwrap());
    let source = PolicySource {
        name: "slow".into(),
        files: vec![file("policy.toml"), file("rules.rhai")],
    };
    let v = store.put_policy(tenant, &source).await.unwrap();
    store
        .publish_policy(tenant, "slow", &v.version)
        .await
        .unwrap();
}

/// A run of the slow policy that would take many minutes.
fn slow_run() -> Value {
    json!({ "policy_id": "slow", "members": 2048, "periods": 12, "replications": 1, "seed": 7, "first_period": "2026-01" })
}

/// The world with the runner its router was built with, under `limits`.
fn with_limits(
    w: &mut World,
    limits: incentive_api::Limits,
) -> Arc<incentive_api::simulations::Runner> {
    let (app, runner) = incentive_api::service(w.store.clone(), limits);
    w.app = app;
    runner
}

/// Starts `body` as `key` and waits until the run is deciding (running, and a moment on).
async fn started_running(w: &World, key: &str, body: Value) -> String {
    let (status, started) = w
        .call("POST", "/v1/simulations", Some(key), &[], Some(body))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    let id = started["id"].as_str().unwrap().to_owned();
    for _ in 0..300 {
        let (_, now) = w
            .call(
                "GET",
                &format!("/v1/simulations/{id}"),
                Some(key),
                &[],
                None,
            )
            .await;
        if now["status"] == "running" {
            // Into its decisions: members are drawn, and the first chunk is being decided.
            tokio::time::sleep(Duration::from_millis(500)).await;
            return id;
        }
        assert_eq!(now["status"], "queued", "{now}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("simulation {id} did not start in six seconds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_run_cancelled_with_delete_is_recorded_cancelled_within_two_seconds() {
    for db in databases().await {
        let mut w = world(&db).await;
        publish_slow(&w.store, TENANT).await;
        let runner = with_limits(&mut w, incentive_api::Limits::default());
        let id = started_running(&w, "actuary", slow_run()).await;
        let uri = format!("/v1/simulations/{id}");

        // Another tenant cannot cancel it, nor learn it exists; nor can an id that is none.
        let (status, _) = w.call("DELETE", &uri, Some("other-admin"), &[], None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{}", db.label);
        let (status, _) = w
            .call(
                "DELETE",
                "/v1/simulations/sim_none",
                Some("actuary"),
                &[],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{}", db.label);

        let asked = Instant::now();
        let (status, cancelled) = w.call("DELETE", &uri, Some("actuary"), &[], None).await;
        let answered = asked.elapsed();
        assert_eq!(status, StatusCode::OK, "{}: {cancelled}", db.label);
        assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
        assert!(
            answered < Duration::from_secs(2),
            "{}: the cancel took {answered:?}",
            db.label
        );
        assert!(
            !runner.holds(&id),
            "{}: the run still holds its threads",
            db.label
        );
        assert!(
            cancelled["member_periods_done"].as_u64().unwrap()
                < cancelled["member_periods_total"].as_u64().unwrap(),
            "{cancelled}"
        );
        let record = w.store.simulation(TENANT, &id).await.unwrap();
        assert_eq!(record.status, SimulationStatus::Cancelled, "{}", db.label);
        assert!(record.finished_at.is_some());
        let (_, shown) = w.call("GET", &uri, Some("admin"), &[], None).await;
        assert_eq!(shown["status"], "cancelled");
        assert!(
            shown["error"].as_str().unwrap().contains("cancelled"),
            "{shown}"
        );

        // Once cancelled it stays so: cancelling again is a conflict, and it has no results.
        let (status, again) = w.call("DELETE", &uri, Some("actuary"), &[], None).await;
        assert_eq!(status, StatusCode::CONFLICT, "{again}");
        assert!(
            again["error"]["message"]
                .as_str()
                .unwrap()
                .contains("already been cancelled"),
            "{again}"
        );
        let (status, summary) = w
            .call("GET", &format!("{uri}/summary"), Some("actuary"), &[], None)
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(
            summary["error"]["message"]
                .as_str()
                .unwrap()
                .contains("was cancelled"),
            "{summary}"
        );

        // A run that has finished cannot be cancelled either.
        let (_, small) = w
            .call(
                "POST",
                "/v1/simulations",
                Some("actuary"),
                &[],
                Some(small_run()),
            )
            .await;
        let small = small["id"].as_str().unwrap().to_owned();
        assert_eq!(
            w.simulation_finished("actuary", &small).await["status"],
            "succeeded"
        );
        let (status, body) = w
            .call(
                "DELETE",
                &format!("/v1/simulations/{small}"),
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
                .contains("already succeeded"),
            "{body}"
        );
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_shutdown_stops_a_running_run_within_two_seconds_and_records_it_failed() {
    for db in databases().await {
        let mut w = world(&db).await;
        publish_slow(&w.store, TENANT).await;
        let runner = with_limits(&mut w, incentive_api::Limits::default());
        let id = started_running(&w, "actuary", slow_run()).await;
        // A second run waits behind it, and is let go as well.
        let (status, waiting) = w
            .call(
                "POST",
                "/v1/simulations",
                Some("admin"),
                &[],
                Some(slow_run()),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{waiting}");
        let waiting = waiting["id"].as_str().unwrap().to_owned();

        let asked = Instant::now();
        runner.stop_all(&w.store).await;
        let took = asked.elapsed();
        assert!(
            took < Duration::from_secs(2),
            "{}: stopping took {took:?}",
            db.label
        );
        for id in [&id, &waiting] {
            assert!(!runner.holds(id), "{}: {id} is still held", db.label);
            let record = w.store.simulation(TENANT, id).await.unwrap();
            assert_eq!(record.status, SimulationStatus::Failed, "{}", db.label);
            assert!(
                record
                    .error
                    .as_deref()
                    .unwrap_or_default()
                    .contains("shut down before it finished"),
                "{record:?}"
            );
        }
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_past_its_wall_clock_limit_is_stopped_and_recorded_failed_naming_the_limit() {
    let db = sqlite_db().await;
    let mut w = world(&db).await;
    publish_slow(&w.store, TENANT).await;
    let runner = with_limits(
        &mut w,
        incentive_api::Limits {
            simulation_wall_clock_seconds_max: 1,
            ..incentive_api::Limits::default()
        },
    );
    let (status, started) = w
        .call(
            "POST",
            "/v1/simulations",
            Some("actuary"),
            &[],
            Some(slow_run()),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    let id = started["id"].as_str().unwrap().to_owned();
    let posted = Instant::now();
    let done = w.simulation_finished("actuary", &id).await;
    let took = posted.elapsed();
    assert_eq!(done["status"], "failed", "{done}");
    let error = done["error"].as_str().unwrap();
    assert!(
        error.contains("limit of 1 s (simulation_wall_clock_seconds_max)"),
        "{error}"
    );
    // A second to run, and at most two more to stop (and to be seen stopped).
    assert!(took < Duration::from_secs(4), "{took:?}");
    assert!(!runner.holds(&id));
    w.store.close().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_at_its_quota_gets_429_naming_it_while_another_tenants_run_is_taken_and_finishes()
{
    let db = sqlite_db().await;
    let mut w = world(&db).await;
    publish_slow(&w.store, TENANT).await;
    let v = w.store.put_policy("other", &policy(PLAN)).await.unwrap();
    w.store
        .publish_policy("other", PLAN, &v.version)
        .await
        .unwrap();
    let runner = with_limits(
        &mut w,
        incentive_api::Limits {
            simulations_running_max: 2,
            simulations_waiting_max: 4,
            simulations_per_tenant_max: 1,
            ..incentive_api::Limits::default()
        },
    );
    // Tenant A fills its quota with a run that would take many minutes.
    let slow = started_running(&w, "actuary", slow_run()).await;
    let (status, refused) = w
        .call(
            "POST",
            "/v1/simulations",
            Some("admin"),
            &[],
            Some(small_run()),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{refused}");
    assert_eq!(refused["error"]["code"], "too_many_simulations");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("this tenant has 1 simulation(s)")
            && message.contains("simulations_per_tenant_max"),
        "{message}"
    );

    // Tenant B's run is taken, and finishes while A's is still running.
    let (status, theirs) = w
        .call(
            "POST",
            "/v1/simulations",
            Some("other-admin"),
            &[],
            Some(small_run()),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{theirs}");
    let theirs = theirs["id"].as_str().unwrap().to_owned();
    for _ in 0..600 {
        let (_, now) = w
            .call(
                "GET",
                &format!("/v1/simulations/{theirs}"),
                Some("other-admin"),
                &[],
                None,
            )
            .await;
        if now["status"] == "succeeded" {
            break;
        }
        assert!(
            now["status"] == "queued" || now["status"] == "running",
            "{now}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        w.store.simulation("other", &theirs).await.unwrap().status,
        SimulationStatus::Succeeded
    );
    assert!(runner.holds(&slow), "tenant A's run is still running");

    // Cancelled, A's run leaves its place, and A may start another at once.
    let (status, _) = w
        .call(
            "DELETE",
            &format!("/v1/simulations/{slow}"),
            Some("actuary"),
            &[],
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = w
        .call(
            "POST",
            "/v1/simulations",
            Some("admin"),
            &[],
            Some(small_run()),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(
        w.simulation_finished("actuary", body["id"].as_str().unwrap())
            .await["status"],
        "succeeded"
    );
    w.store.close().await;
    db.cleanup().await;
}

/// The security review's model: every member on a sensor, on all the time, reading every
/// minute. Over a year a member-period would hold 527,100 readings: refused by field and limit.
/// Over a month it fits a member-period, and the run is refused only past the server's memory
/// limit, with the estimate and the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sensor_reading_every_minute_is_refused_over_a_year_and_past_the_memory_limit_with_both_figures()
 {
    let db = sqlite_db().await;
    let mut w = world(&db).await;
    let v = w
        .store
        .put_policy(TENANT, &policy("vitality-status"))
        .await
        .unwrap();
    w.store
        .publish_policy(TENANT, "vitality-status", &v.version)
        .await
        .unwrap();
    let every_minute = "[cgm]\nwearing_share = 1\nwear_share = 1\ninterval_minutes = 1\n";
    let yearly = json!({ "policy_id": "vitality-status", "members": 2048, "periods": 1, "replications": 1, "seed": 1, "first_period": "2026", "population": every_minute });
    let (status, body) = w
        .call(
            "POST",
            "/v1/simulations",
            Some("actuary"),
            &[],
            Some(yearly),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("population: 1 problem(s): cgm.interval_minutes = 1 gives a sensor wearer up to 527100 readings in an annual period, more than 200000"),
        "{message}"
    );

    let monthly = json!({ "policy_id": PLAN, "members": 2048, "periods": 1, "replications": 1, "seed": 1, "first_period": "2026-01", "population": every_minute });
    let _runner = with_limits(
        &mut w,
        incentive_api::Limits {
            simulation_memory_bytes_max: 50_000_000,
            ..incentive_api::Limits::default()
        },
    );
    let (status, body) = w
        .call(
            "POST",
            "/v1/simulations",
            Some("actuary"),
            &[],
            Some(monthly.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    let estimate = incentive_simulations::footprint::estimate(
        &Population::from_toml(every_minute, "population").unwrap(),
        &[incentive_simulations::footprint::PlanShape::default()],
        &Config {
            members: 2048,
            periods: 1,
            replications: 1,
            seed: 1,
            first_period: Period::parse("2026-01").unwrap(),
            shard: Shard::WHOLE,
        },
        1,
    );
    assert!(
        message.contains(&format!(
            "the run would take about {} of memory at its peak",
            incentive_simulations::footprint::describe_bytes(estimate.bytes)
        )) && message
            .contains("more than simulation_memory_bytes_max allows: 50.0 MB (50,000,000 bytes)"),
        "{message}"
    );
    let (_, list) = w
        .call("GET", "/v1/simulations", Some("actuary"), &[], None)
        .await;
    assert_eq!(list["simulations"], json!([]), "a refused run was kept");

    // Under the default limit the same run is taken (and cancelled: it is not what is tested).
    let runner = with_limits(&mut w, incentive_api::Limits::default());
    let (status, body) = w
        .call(
            "POST",
            "/v1/simulations",
            Some("actuary"),
            &[],
            Some(monthly),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let id = body["id"].as_str().unwrap();
    let (status, _) = w
        .call(
            "DELETE",
            &format!("/v1/simulations/{id}"),
            Some("actuary"),
            &[],
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!runner.holds(id));
    w.store.close().await;
    db.cleanup().await;
}
