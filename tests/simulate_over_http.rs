//! A simulation started on a real `serve` process is let go when the server is told to stop:
//! the process exits at once rather than waiting out a long run, and the run is recorded as
//! failed — never left "running" — so a client polling it is told to start it again.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

#[path = "../store/tests/common/mod.rs"]
mod common;
mod serve;

use common::*;
use incentive_store::SimulationStatus;
use incentive_store::tenants::Role;
use serve::*;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_long_simulation_go_and_records_it_as_stopped() {
    for db in databases().await {
        let store = store_with_plan(&db, str::to_owned).await;
        let key = store
            .create_key(TENANT, Role::Actuary)
            .await
            .unwrap()
            .secret;
        let (mut child, addr) = spawn_serve(&db);
        let auth = format!("Bearer {key}");
        // Minutes of work on one thread.
        let body = format!(
            r#"{{"policy_id": "{PLAN}", "members": 5000, "periods": 12, "replications": 200, "seed": 1, "first_period": "2026-01"}}"#
        );
        let (status, answer) = http(
            &addr,
            "POST",
            "/v1/simulations",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            &body,
        );
        assert_eq!(status, 202, "{}: {answer}", db.label);
        let started: serde_json::Value = serde_json::from_str(&answer).unwrap();
        let id = started["id"].as_str().unwrap().to_owned();
        // Wait until it is under way.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (_, now) = http(
                &addr,
                "GET",
                &format!("/v1/simulations/{id}"),
                &[("authorization", &auth)],
                "",
            );
            let now: serde_json::Value = serde_json::from_str(&now).unwrap();
            if now["status"] == "running" && now["member_periods_done"].as_u64().unwrap() > 0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{}: never got going: {now}",
                db.label
            );
            std::thread::sleep(Duration::from_millis(200));
        }

        let asked = Instant::now();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = child.wait().unwrap();
        let took = asked.elapsed();
        assert!(exit.success(), "{exit:?}");
        assert!(
            took < Duration::from_secs(15),
            "{}: stopping took {took:?}",
            db.label
        );

        let record = store.simulation(TENANT, &id).await.unwrap();
        assert_eq!(
            record.status,
            SimulationStatus::Failed,
            "{}: {record:?}",
            db.label
        );
        assert!(
            record
                .error
                .as_deref()
                .unwrap_or_default()
                .contains("shut down before it finished"),
            "{record:?}"
        );
        assert!(record.member_periods_done < record.member_periods_total);
        store.close().await;
        db.cleanup().await;
    }
}
