//! A simulation started on a real `serve` process is let go when the server is told to stop:
//! the process exits within two seconds rather than waiting out a long run of a slow policy
//! (it used to finish the chunk of 2,048 members it was in, a minute or more), and the run is
//! recorded as failed — never left "running" — so a client polling it is told to start it
//! again.
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
        // Each decision of `slow` takes tens of milliseconds (simulations/tests/fixtures).
        let slow = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("simulations/tests/fixtures/slow");
        let file = |f: &str| {
            incentive_engine::policy::SourceFile::new(
                f,
                std::fs::read_to_string(slow.join(f)).unwrap(),
            )
        };
        let v = store
            .put_policy(
                TENANT,
                &incentive_engine::policy::PolicySource {
                    name: "slow".into(),
                    files: vec![file("policy.toml"), file("rules.rhai")],
                },
            )
            .await
            .unwrap();
        store
            .publish_policy(TENANT, "slow", &v.version)
            .await
            .unwrap();
        let key = store
            .create_key(TENANT, Role::Actuary)
            .await
            .unwrap()
            .secret;
        let (mut child, addr) = spawn_serve(&db);
        let auth = format!("Bearer {key}");
        // Minutes of work on one thread for each chunk of 2,048 members.
        let body = r#"{"policy_id": "slow", "members": 5000, "periods": 12, "replications": 1, "seed": 1, "first_period": "2026-01"}"#;
        let (status, answer) = http(
            &addr,
            "POST",
            "/v1/simulations",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body,
        );
        assert_eq!(status, 202, "{}: {answer}", db.label);
        let started: serde_json::Value = serde_json::from_str(&answer).unwrap();
        let id = started["id"].as_str().unwrap().to_owned();
        // Wait until it is under way, deciding its first chunk.
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
            if now["status"] == "running" {
                std::thread::sleep(Duration::from_millis(500));
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
            took < Duration::from_secs(2),
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
