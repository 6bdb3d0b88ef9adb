//! Policy code's limits: a version slower to decide than the operator's limit is refused when
//! published, policy tests that run to the sandbox's budget hold neither `/healthz` nor another
//! tenant's reads and are answered at the request's time limit, and one request runs a bounded
//! number of cases.
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

use common::*;
use incentive_engine::policy::{PolicySource, SourceFile};
use incentive_store::tenants::Role;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use world::real_server::*;

#[tokio::test]
async fn a_policy_slower_to_decide_than_the_operators_limit_is_refused_when_published() {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let db = sqlite_db().await;
    let store = store_with_plan(&db, str::to_owned).await;
    let dir = policies_dir().join(PLAN);
    let manifest = std::fs::read_to_string(dir.join("policy.toml"))
        .unwrap()
        .replace("version = \"1.0.0\"", "version = \"2.0.0\"")
        .replace("effective_from = 2026-01-01", "effective_from = 2027-01-01")
        .replace("effective_to = 2026-12-31", "effective_to = 2027-12-31");
    // Every member costs twenty thousand loop turns: milliseconds, well inside the sandbox.
    let rules = "fn decide(record, member, history) {\n    let x = 0;\n    for i in 0..20000 { x += 1; }\n    #{ reward: 0, reasons: [`counted ${x}`] }\n}\n";
    let source = PolicySource {
        name: PLAN.into(),
        files: vec![
            SourceFile::new("policy.toml", manifest),
            SourceFile::new("rules.rhai", rules),
        ],
    };
    let v = store.put_policy(TENANT, &source).await.unwrap();
    // What this holds is the decision-time limit, not four eyes.
    store
        .set_tenant_settings(
            TENANT,
            &incentive_store::TenantSettings {
                four_eyes: false,
                ..incentive_store::TenantSettings::default()
            },
        )
        .await
        .unwrap();
    let key = store.create_key(TENANT, Role::Author).await.unwrap().secret;
    let publish = |limit_ms: u64| {
        let app = incentive_api::router(
            store.clone(),
            incentive_api::Limits {
                policy_decision_ms_max: limit_ms,
                ..incentive_api::Limits::default()
            },
        );
        let request = Request::post(format!(
            "/v1/policies/{PLAN}/versions/{}/publish",
            v.version
        ))
        .header("authorization", format!("Bearer {key}"))
        .body(Body::empty())
        .unwrap();
        async move {
            let res = app.oneshot(request).await.unwrap();
            let status = res.status();
            let body: serde_json::Value =
                serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes())
                    .unwrap();
            (status, body)
        }
    };
    let (status, body) = publish(1).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(
            "more than the 1 ms a decision may take on this server (policy_decision_ms_max)"
        ) && message.contains("version 2.0.0 took")
            && message.contains("to decide the probe member"),
        "{message}"
    );
    let versions = store.policy_versions(TENANT, PLAN).await.unwrap();
    assert_eq!(versions[1].status.as_str(), "draft", "still a draft");
    let (status, body) = publish(60_000).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "published");
    store.close().await;
}

/// A package whose cases each run to the sandbox's budget: the slow policy, and `cases` cases
/// of a `slow-lane` member.
fn slow_package(cases: usize) -> serde_json::Value {
    let mut files = serde_json::Map::new();
    for f in slow_policy().files {
        files.insert(f.name, f.text.into());
    }
    for i in 0..cases {
        files.insert(
            format!("cases/slow-{i}.toml"),
            "description = \"a member whose decision runs to the budget\"\nperiod = \"2026-03\"\n\n[member]\nid = \"M001\"\nregion = \"slow-lane\"\n\n[expect]\nreward = 0\n".into(),
        );
    }
    serde_json::json!({ "files": files })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_tests_that_run_to_the_budget_hold_neither_healthz_nor_another_tenants_reads() {
    let db = sqlite_db().await;
    let store = store_with_plan(&db, str::to_owned).await;
    store.create_tenant(SLOW).await.unwrap();
    let author = store.create_key(SLOW, Role::Author).await.unwrap().secret;
    let reader = store
        .create_key(TENANT, Role::Auditor)
        .await
        .unwrap()
        .secret;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(incentive_api::serve(
        listener,
        incentive_api::router(
            store.clone(),
            incentive_api::Limits {
                evaluation_threads: 1,
                request_timeout_ms: 1_500,
                ..incentive_api::Limits::default()
            },
        ),
        async move {
            let _ = stopped.await;
        },
    ));
    // Two requests of eight cases each: 2 s of policy code apiece, past the 1.5 s limit.
    let body = slow_package(8).to_string();
    let tests: Vec<_> = (0..2)
        .map(|i| {
            let (author, body) = (author.clone(), body.clone());
            tokio::spawn(async move {
                let started = Instant::now();
                let response =
                    post(addr, &author, "/v1/policies/test", &format!("t-{i}"), &body).await;
                (response, started.elapsed())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut slowest = Duration::ZERO;
    for _ in 0..5 {
        let started = Instant::now();
        let health = healthz(addr).await;
        assert!(health.starts_with("HTTP/1.1 200"), "{health}");
        let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
        socket
            .write_all(
                format!("GET /v1/ledger/verify HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {reader}\r\nconnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .await
            .unwrap();
        let mut verify = String::new();
        socket.read_to_string(&mut verify).await.unwrap();
        assert!(verify.starts_with("HTTP/1.1 200"), "{verify}");
        slowest = slowest.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        slowest < Duration::from_millis(500),
        "/healthz and another tenant's read took up to {slowest:?} while policy tests ran"
    );
    for t in tests {
        let (response, took) = t.await.unwrap();
        // The time limit applies to policy code too: answered at the limit, not after it.
        assert!(
            response.starts_with("HTTP/1.1 503") && response.contains("timed_out"),
            "{response}"
        );
        assert!(
            took < Duration::from_millis(2_500),
            "answered after {took:?}"
        );
    }
    // A package with more cases than one request may run is refused before any runs.
    let response = post(
        addr,
        &author,
        "/v1/policies/test",
        "t-many",
        &slow_package(101).to_string(),
    )
    .await;
    assert!(
        response.starts_with("HTTP/1.1 400") && response.contains("policy_cases_max"),
        "{response}"
    );
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    store.close().await;
}
