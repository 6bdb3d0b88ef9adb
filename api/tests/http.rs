//! The API through `Router::oneshot` on real databases (every backend there is): keys and
//! roles, tenant isolation, members and readings, payouts and their idempotency keys, and the
//! error format; then one payout through a real server on port 0 and its graceful shutdown.
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

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use http_body_util::BodyExt;
use incentive_store::tenants::Role;
use serde_json::{Value, json};
use tower::ServiceExt;
use world::*;

#[tokio::test]
async fn a_call_without_a_live_key_is_401_and_a_role_outside_the_route_is_403() {
    for db in databases().await {
        let w = world(&db).await;
        let (status, body) = w.call("GET", "/v1/ledger/verify", None, &[], None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{}", db.label);
        assert_eq!(body["error"]["code"], "unauthenticated");
        let bogus = w
            .app
            .clone()
            .oneshot(
                Request::get("/v1/ledger/verify")
                    .header("authorization", "Bearer ik_nope")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(bogus.status(), StatusCode::UNAUTHORIZED);

        let matrix: [(&str, &str, &[&str]); 38] = [
            (
                "POST",
                "/v1/policies/tangdaifu-smbg/versions/9/approve",
                &["author", "admin"],
            ),
            ("GET", "/v1/settings", &["admin"]),
            ("PUT", "/v1/settings", &["admin"]),
            (
                "GET",
                "/v1/caller",
                &["author", "actuary", "platform", "auditor", "admin"],
            ),
            ("POST", "/v1/simulations", &["author", "actuary", "admin"]),
            ("GET", "/v1/simulations", &["author", "actuary", "admin"]),
            (
                "GET",
                "/v1/simulations/sim_x",
                &["author", "actuary", "admin"],
            ),
            (
                "DELETE",
                "/v1/simulations/sim_x",
                &["author", "actuary", "admin"],
            ),
            (
                "GET",
                "/v1/simulations/sim_x/summary",
                &["author", "actuary", "admin"],
            ),
            (
                "GET",
                "/v1/simulations/sim_x/report",
                &["author", "actuary", "admin"],
            ),
            ("PUT", "/v1/members/M2", ["platform", "admin"].as_slice()),
            ("POST", "/v1/members/M1/readings", &["platform", "admin"]),
            ("POST", "/v1/payouts", &["platform", "admin"]),
            (
                "GET",
                "/v1/decisions/dec_x",
                &["platform", "auditor", "admin"],
            ),
            ("GET", "/v1/ledger/verify", &["auditor", "admin"]),
            ("GET", "/v1/ledger/entries", &["auditor", "admin"]),
            ("GET", "/v1/ledger/balances", &["auditor", "admin"]),
            ("POST", "/v1/members/M1/labs", &["platform", "admin"]),
            ("POST", "/v1/readings", &["platform", "admin"]),
            (
                "POST",
                "/v1/members/M1/readings/export",
                &["platform", "admin"],
            ),
            (
                "GET",
                "/v1/members/M1/decisions",
                &["platform", "auditor", "admin"],
            ),
            ("DELETE", "/v1/members/M1/readings", &["platform", "admin"]),
            ("POST", "/v1/evaluations", &["platform", "admin"]),
            (
                "POST",
                "/v1/evaluations/trial",
                &["platform", "actuary", "author", "admin"],
            ),
            (
                "POST",
                "/v1/decisions/dec_x/reversal",
                &["auditor", "admin"],
            ),
            ("POST", "/v1/decisions/dec_x/replay", &["auditor", "admin"]),
            ("GET", "/v1/ledger/checkpoint", &["auditor", "admin"]),
            ("GET", "/v1/ledger/export", &["auditor", "admin"]),
            (
                "GET",
                "/v1/policies",
                &["author", "actuary", "auditor", "admin"],
            ),
            ("POST", "/v1/policies", &["author", "admin"]),
            ("POST", "/v1/policies/check", &["author", "admin"]),
            ("POST", "/v1/policies/test", &["author", "admin"]),
            (
                "GET",
                "/v1/policies/tangdaifu-smbg/versions",
                &["author", "actuary", "auditor", "admin"],
            ),
            (
                "GET",
                "/v1/policies/tangdaifu-smbg/diff?from=1.0.0&to=1.0.0",
                &["author", "actuary", "auditor", "admin"],
            ),
            (
                "POST",
                "/v1/policies/tangdaifu-smbg/versions/9/backtest",
                &["author", "actuary", "admin"],
            ),
            (
                "GET",
                "/v1/policies/tangdaifu-smbg/versions/9/files",
                &["author", "actuary", "auditor", "admin"],
            ),
            (
                "POST",
                "/v1/policies/tangdaifu-smbg/versions/9/publish",
                &["author", "admin"],
            ),
            (
                "POST",
                "/v1/policies/tangdaifu-smbg/versions/9/retire",
                &["author", "admin"],
            ),
        ];
        // The list covers every route that takes a key, so a new route cannot skip its check
        // (by its path: a query string there is what the route needs to get past its checks).
        let listed: std::collections::BTreeSet<(String, String)> = matrix
            .iter()
            .map(|(m, u, _)| {
                let path = u.split_once('?').map_or(*u, |(p, _)| p);
                ((*m).to_owned(), path.to_owned())
            })
            .collect();
        let doc = incentive_api::openapi();
        for (template, item) in &doc.paths.paths {
            let uri = template
                .replace("{member_id}", "M1")
                .replace("{decision_id}", "dec_x")
                .replace("{policy_id}", PLAN)
                .replace("{version}", "9")
                .replace("{simulation_id}", "sim_x");
            for (method, op) in [
                ("GET", &item.get),
                ("POST", &item.post),
                ("PUT", &item.put),
                ("DELETE", &item.delete),
            ] {
                let Some(op) = op else { continue };
                if op.security.is_some() {
                    let uri = if uri == "/v1/members/M1" {
                        "/v1/members/M2".to_owned()
                    } else {
                        uri.clone()
                    };
                    assert!(
                        listed.contains(&(method.to_owned(), uri.clone())),
                        "{method} {template} takes a key but is not in the roles matrix"
                    );
                }
            }
        }
        for (method, uri, allowed) in matrix {
            for role in Role::ALL.map(|r| r.as_str()) {
                let (status, body) = w.call(method, uri, Some(role), &[], Some(json!({}))).await;
                if allowed.contains(&role) {
                    assert_ne!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{}: {role} {method} {uri}",
                        db.label
                    );
                } else {
                    assert_eq!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{}: {role} {method} {uri}: {body}",
                        db.label
                    );
                    assert!(
                        body["error"]["message"]
                            .as_str()
                            .unwrap()
                            .starts_with(&format!("this key's role ({role}) may not"))
                    );
                }
            }
        }
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn readings_are_counted_accepted_duplicate_or_rejected_with_their_reason() {
    for db in databases().await {
        let w = world(&db).await;
        let (status, body) = w
            .call(
                "POST",
                "/v1/members/M1/readings",
                Some("platform"),
                &[],
                Some(readings_body(3)),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", db.label);
        assert_eq!(
            body,
            json!({ "accepted": 6, "duplicate": 0, "rejected": [], "likely_duplicates": [] })
        );

        let mut batch = readings_body(4);
        let list = batch["readings"].as_array_mut().unwrap();
        list.push(json!({ "time": "2026-03-09 07:00", "glucose_mmol_l": 5.0 }));
        list.push(json!({ "time": "2026-03-09T07:00:00+08:00", "glucose_mmol_l": 5.0, "glucose_mg_dl": 90 }));
        list.push(json!({ "time": "2026-03-09T07:00:00+08:00", "glucose_mg_dl": "HI", "context": "after_dinner" }));
        list.push(json!({ "time": "2026-03-09T08:00:00+08:00", "glucose_mg_dl": "LO" }));
        let (status, body) = w
            .call(
                "POST",
                "/v1/members/M1/readings",
                Some("platform"),
                &[],
                Some(batch),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", db.label);
        assert_eq!(
            (body["accepted"].as_u64(), body["duplicate"].as_u64()),
            (Some(3), Some(6)),
            "{body}"
        );
        let rejected = body["rejected"].as_array().unwrap();
        assert_eq!(rejected.len(), 3, "{body}");
        assert_eq!(rejected[0]["index"], 8);
        assert!(
            rejected[0]["reason"]
                .as_str()
                .unwrap()
                .starts_with("time: "),
            "{body}"
        );
        assert_eq!(
            rejected[1]["reason"],
            "give exactly one of glucose_mg_dl and glucose_mmol_l"
        );
        assert!(
            rejected[2]["reason"]
                .as_str()
                .unwrap()
                .starts_with("context: "),
            "{body}"
        );

        let (status, body) = w
            .call(
                "POST",
                "/v1/members/NOBODY/readings",
                Some("platform"),
                &[],
                Some(readings_body(1)),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{}: {body}", db.label);
        let (status, body) = w
            .call(
                "POST",
                "/v1/members/M1/readings",
                Some("platform"),
                &[],
                Some(json!({ "readings": [{ "tyme": 1 }] })),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("unknown field `tyme`"),
            "{body}"
        );
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_member_is_enrolled_with_attributes_checked_by_name() {
    for db in databases().await {
        let w = world(&db).await;
        let good = json!({ "age": 61, "sex": "female", "diabetes_type": "type2", "insulin": false, "enrolled_on": "2025-11-02" });
        let (status, _) = w
            .call("PUT", "/v1/members/M9", Some("platform"), &[], Some(good))
            .await;
        assert_eq!(status, StatusCode::OK, "{}", db.label);
        for (body, message) in [
            (
                json!({ "sex": "unknown" }),
                "sex: `unknown` is not one of female, male, other",
            ),
            (json!({ "age": 200 }), "age: 200 is more than 130 years"),
            (
                json!({ "enrolled_on": "02/11/2025" }),
                "enrolled_on: `02/11/2025` is not a date (YYYY-MM-DD)",
            ),
            (
                json!({ "diabetes_type": "type3" }),
                "diabetes_type: `type3` is not one of type1, type2, gestational, other",
            ),
        ] {
            let (status, answer) = w
                .call("PUT", "/v1/members/M9", Some("platform"), &[], Some(body))
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{}", db.label);
            assert_eq!(answer["error"]["message"], message);
        }
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_payout_retried_with_its_key_is_answered_once_and_keys_are_held_to_their_body() {
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

        let (status, body) = w
            .call("POST", "/v1/payouts", Some("platform"), &[], Some(payout()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{}: no key", db.label);
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Idempotency-Key")
        );

        let key = [("idempotency-key", "march-M1-1")];
        let (status, first) = w
            .call(
                "POST",
                "/v1/payouts",
                Some("platform"),
                &key,
                Some(payout()),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{}: {first}", db.label);
        assert_eq!(first["kind"], "paid");
        assert_eq!(first["decision"]["reward_posted"], "30");
        assert!(
            first["decision"]["decision"]["explanation"]
                .as_array()
                .unwrap()
                .len()
                >= 2
        );

        let (status, again) = w
            .call(
                "POST",
                "/v1/payouts",
                Some("platform"),
                &key,
                Some(payout()),
            )
            .await;
        assert_eq!(
            (status, &again),
            (StatusCode::CREATED, &first),
            "{}: the first answer, replayed",
            db.label
        );

        let other_body = json!({ "member_id": "M1", "policy_id": PLAN, "period": "2026-04" });
        let (status, body) = w
            .call(
                "POST",
                "/v1/payouts",
                Some("platform"),
                &key,
                Some(other_body),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}: {body}",
            db.label
        );

        // A new key for the same period: the period is paid once, the decision on record.
        let (status, body) = w
            .call(
                "POST",
                "/v1/payouts",
                Some("platform"),
                &[("idempotency-key", "other")],
                Some(payout()),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}", db.label);
        assert_eq!(
            (body["kind"].as_str(), &body["decision"]["id"]),
            (Some("already_decided"), &first["decision"]["id"])
        );

        // A key whose first request is genuinely still being answered (it waits for the
        // chain head, held as another process would hold it): 409, and the first still pays.
        let m2 = json!({ "member_id": "M2", "policy_id": PLAN, "period": "2026-03" });
        w.call(
            "PUT",
            "/v1/members/M2",
            Some("platform"),
            &[],
            Some(json!({})),
        )
        .await;
        w.call(
            "POST",
            "/v1/members/M2/readings",
            Some("platform"),
            &[],
            Some(readings_body(5)),
        )
        .await;
        let held = hold_chain_head(&db, TENANT).await;
        let first_call = {
            let app = w.app.clone();
            let key = w.keys["platform"].clone();
            let body = m2.to_string();
            tokio::spawn(async move {
                let req = Request::builder()
                    .method("POST")
                    .uri("/v1/payouts")
                    .header("authorization", format!("Bearer {key}"))
                    .header("idempotency-key", "busy")
                    .body(Body::from(body))
                    .unwrap();
                let res = app.oneshot(req).await.unwrap();
                let status = res.status();
                let bytes = res.into_body().collect().await.unwrap().to_bytes();
                (status, serde_json::from_slice::<Value>(&bytes).unwrap())
            })
        };
        // Until the first request has claimed its key, a second could win the race instead.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let busy = [("idempotency-key", "busy")];
        let (status, body) = w
            .call(
                "POST",
                "/v1/payouts",
                Some("platform"),
                &busy,
                Some(m2.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{}: {body}", db.label);
        assert!(
            !first_call.is_finished(),
            "{}: the first is still waiting",
            db.label
        );
        held.release().await;
        let (status, first_m2) = first_call.await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{}: {first_m2}", db.label);
        let (status, replayed) = w
            .call("POST", "/v1/payouts", Some("platform"), &busy, Some(m2))
            .await;
        assert_eq!(
            (status, &replayed),
            (StatusCode::CREATED, &first_m2),
            "{}",
            db.label
        );

        // An error is an answer too: replayed for the same key and body, even once the same
        // request would be paid; a new key asks afresh.
        let m3 = json!({ "member_id": "M3", "policy_id": PLAN, "period": "2026-03" });
        let k3 = [("idempotency-key", "k-m3")];
        let (s1, b1) = w
            .call(
                "POST",
                "/v1/payouts",
                Some("platform"),
                &k3,
                Some(m3.clone()),
            )
            .await;
        assert_eq!(s1, StatusCode::NOT_FOUND, "{}: {b1}", db.label);
        w.call(
            "PUT",
            "/v1/members/M3",
            Some("platform"),
            &[],
            Some(json!({})),
        )
        .await;
        w.call(
            "POST",
            "/v1/members/M3/readings",
            Some("platform"),
            &[],
            Some(readings_body(5)),
        )
        .await;
        let (s2, b2) = w
            .call(
                "POST",
                "/v1/payouts",
                Some("platform"),
                &k3,
                Some(m3.clone()),
            )
            .await;
        assert_eq!((s2, &b2), (s1, &b1), "{}: the first answer", db.label);
        let (s3, b3) = w
            .call(
                "POST",
                "/v1/payouts",
                Some("platform"),
                &[("idempotency-key", "k-m3-new")],
                Some(m3),
            )
            .await;
        assert_eq!(s3, StatusCode::CREATED, "{}: {b3}", db.label);

        // A body that fails validation started nothing: it is not held against the key.
        let k4 = [("idempotency-key", "k-valid-later")];
        let invalid = json!({ "member_id": "M1", "policy_id": PLAN, "period": "March" });
        let (status, _) = w
            .call("POST", "/v1/payouts", Some("platform"), &k4, Some(invalid))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{}", db.label);
        let (status, body) = w
            .call("POST", "/v1/payouts", Some("platform"), &k4, Some(payout()))
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", db.label);
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn another_tenants_decision_is_not_found_exactly_as_one_that_does_not_exist() {
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
        let (_, paid) = w
            .call(
                "POST",
                "/v1/payouts",
                Some("platform"),
                &[("idempotency-key", "k")],
                Some(payout()),
            )
            .await;
        let id = paid["decision"]["id"].as_str().unwrap().to_owned();

        let (status, mine) = w
            .call(
                "GET",
                &format!("/v1/decisions/{id}"),
                Some("auditor"),
                &[],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}", db.label);
        assert_eq!(mine["decision_hash"], paid["decision"]["decision_hash"]);

        let (status, theirs) = w
            .call(
                "GET",
                &format!("/v1/decisions/{id}"),
                Some("other-platform"),
                &[],
                None,
            )
            .await;
        let (_, missing) = w
            .call(
                "GET",
                "/v1/decisions/dec_000000000000000000000000",
                Some("other-platform"),
                &[],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{}", db.label);
        assert_eq!(theirs["error"]["code"], missing["error"]["code"]);
        assert!(
            !theirs.to_string().contains("zhongan"),
            "nothing about the other tenant: {theirs}"
        );

        // The other tenant's auditor view of the ledger is its own, empty one.
        let (status, report) = w
            .call("GET", "/v1/ledger/verify", Some("auditor"), &[], None)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(report["tenants"].as_array().unwrap().len(), 1);
        assert_eq!(report["tenants"][0]["tenant"], TENANT);
        assert_eq!(report["tenants"][0]["entries"], 2);
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_and_bad_json_is_400_with_where() {
    let db = sqlite_db().await;
    let store = store_with_plan(&db, str::to_owned).await;
    let key = store
        .create_key(TENANT, Role::Platform)
        .await
        .unwrap()
        .secret;
    let limits = incentive_api::Limits {
        request_body_bytes_max: 1_000,
        ..incentive_api::Limits::default()
    };
    let app = incentive_api::router(store.clone(), limits);
    let big = readings_body(30).to_string();
    let res = app
        .clone()
        .oneshot(
            Request::post("/v1/members/M1/readings")
                .header("authorization", format!("Bearer {key}"))
                .body(Body::from(big))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("more than the 1000 this server accepts"),
        "{body}"
    );

    let few = incentive_api::router(
        store.clone(),
        incentive_api::Limits {
            readings_per_batch_max: 3,
            ..incentive_api::Limits::default()
        },
    );
    let res = few
        .oneshot(
            Request::post("/v1/members/M1/readings")
                .header("authorization", format!("Bearer {key}"))
                .body(Body::from(readings_body(2).to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(
        body["error"]["message"],
        "the batch has 4 readings, more than the 3 one batch may carry; send it in parts"
    );

    let res = app
        .oneshot(
            Request::post("/v1/members/M1/readings")
                .header("authorization", format!("Bearer {key}"))
                .body(Body::from("{\"readings\": [\n  {,}]}"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 2 column"),
        "{body}"
    );
    store.close().await;
}

#[tokio::test]
async fn a_real_server_on_port_0_pays_and_shuts_down_gracefully() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let db = sqlite_db().await;
    let store = store_with_plan(&db, str::to_owned).await;
    let m = enrol(&store, "M1").await;
    store
        .add_readings(TENANT, &m, controlled_march(5))
        .await
        .unwrap();
    let key = store
        .create_key(TENANT, Role::Platform)
        .await
        .unwrap()
        .secret;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(incentive_api::serve(
        listener,
        incentive_api::router(store.clone(), incentive_api::Limits::default()),
        async move {
            let _ = stopped.await;
        },
    ));
    let body = payout().to_string();
    let request = format!(
        "POST /v1/payouts HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {key}\r\nidempotency-key: real-1\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    socket.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    assert!(response.contains("\"kind\":\"paid\""), "{response}");

    stop.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(store.verify(None, &[]).await.unwrap().ok());
    store.close().await;
}

#[tokio::test]
async fn a_dry_run_decides_as_a_payout_would_and_posts_nothing() {
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
        let (status, dry) = w
            .call(
                "POST",
                "/v1/evaluations",
                Some("platform"),
                &[],
                Some(payout()),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {dry}", db.label);
        assert_eq!(dry["decision"]["reward"], "30");
        let (_, report) = w
            .call("GET", "/v1/ledger/verify", Some("auditor"), &[], None)
            .await;
        assert_eq!(
            report["tenants"][0]["entries"], 1,
            "{}: only the policy's publication",
            db.label
        );
        let (_, paid) = w
            .call(
                "POST",
                "/v1/payouts",
                Some("platform"),
                &[("idempotency-key", "k")],
                Some(payout()),
            )
            .await;
        assert_eq!(
            paid["decision"]["decision_hash"], dry["decision"]["decision_hash"],
            "{}: the same decision",
            db.label
        );
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn an_auditor_reverses_replays_checkpoints_and_exports_and_erasure_leaves_it_verifying() {
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
        let (_, paid) = w
            .call(
                "POST",
                "/v1/payouts",
                Some("platform"),
                &[("idempotency-key", "k")],
                Some(payout()),
            )
            .await;
        let id = paid["decision"]["id"].as_str().unwrap().to_owned();

        let (status, replay) = w
            .call(
                "POST",
                &format!("/v1/decisions/{id}/replay"),
                Some("auditor"),
                &[],
                None,
            )
            .await;
        assert_eq!(
            (status, replay["result"].as_str()),
            (StatusCode::OK, Some("identical")),
            "{}: {replay}",
            db.label
        );

        let (status, list) = w
            .call(
                "GET",
                "/v1/members/M1/decisions",
                Some("platform"),
                &[],
                None,
            )
            .await;
        assert_eq!(
            (status, list.as_array().unwrap().len()),
            (StatusCode::OK, 1),
            "{}",
            db.label
        );

        let (status, body) = w
            .call(
                "POST",
                &format!("/v1/decisions/{id}/reversal"),
                Some("auditor"),
                &[],
                Some(json!({ "reason": "" })),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{}: {body}", db.label);
        let (status, reversal) = w
            .call(
                "POST",
                &format!("/v1/decisions/{id}/reversal"),
                Some("auditor"),
                &[],
                Some(json!({ "reason": "shared meter" })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {reversal}", db.label);
        assert_eq!(reversal["reverses"], paid["decision"]["ledger_seq"]);
        let (status, _) = w
            .call(
                "POST",
                &format!("/v1/decisions/{id}/reversal"),
                Some("auditor"),
                &[],
                Some(json!({ "reason": "again" })),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{}", db.label);

        let (status, erased) = w
            .call(
                "DELETE",
                "/v1/members/M1/readings",
                Some("platform"),
                &[],
                None,
            )
            .await;
        assert_eq!(
            (status, erased["readings"].as_u64()),
            (StatusCode::OK, Some(10)),
            "{}: {erased}",
            db.label
        );
        let (_, replay) = w
            .call(
                "POST",
                &format!("/v1/decisions/{id}/replay"),
                Some("auditor"),
                &[],
                None,
            )
            .await;
        assert_eq!(replay["result"], "inputs_erased", "{}", db.label);

        let (status, checkpoints) = w
            .call("GET", "/v1/ledger/checkpoint", Some("auditor"), &[], None)
            .await;
        assert_eq!(
            (status, &checkpoints[0]["seq"]),
            (StatusCode::OK, &json!(3)),
            "{}",
            db.label
        );
        let (status, csv) = w
            .call("GET", "/v1/ledger/export", Some("auditor"), &[], None)
            .await;
        assert_eq!(status, StatusCode::OK);
        let csv = csv.as_str().unwrap();
        assert_eq!(
            csv.lines().count(),
            7,
            "{}: header, funding, payout, reversal:\n{csv}",
            db.label
        );
        assert!(!csv.contains("other"), "only the caller's tenant");
        let (_, report) = w
            .call("GET", "/v1/ledger/verify", Some("auditor"), &[], None)
            .await;
        assert!(
            report["tenants"][0]["problem"].is_null(),
            "{}: {report}",
            db.label
        );
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn an_author_checks_tests_stores_publishes_and_retires_a_policy() {
    for db in databases().await {
        let w = world(&db).await;
        let good = package("hba1c-outcome", str::to_owned);
        let broken = package("hba1c-outcome", |m| m.replace("currency = ", "curency = "));

        let (status, checked) = w
            .call(
                "POST",
                "/v1/policies/check",
                Some("author"),
                &[],
                Some(broken.clone()),
            )
            .await;
        assert_eq!(
            (status, &checked["ok"]),
            (StatusCode::OK, &json!(false)),
            "{}: {checked}",
            db.label
        );
        let item = &checked["diagnostics"]["items"][0];
        assert_eq!(
            (
                item["file"].as_str(),
                item["line"].is_u64(),
                item["column"].is_u64()
            ),
            (Some("policy.toml"), true, true),
            "{checked}"
        );

        let (status, refused) = w
            .call("POST", "/v1/policies", Some("author"), &[], Some(broken))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}: {refused}",
            db.label
        );
        assert_eq!(refused["error"]["code"], "policy_invalid");
        assert!(
            refused["error"]["diagnostics"]["items"]
                .as_array()
                .unwrap()
                .len()
                >= 2,
            "{refused}"
        );

        let mut crowded = serde_json::Map::new();
        for i in 0..1_001 {
            crowded.insert(format!("cases/{i}.toml"), Value::String(String::new()));
        }
        let (status, body) = w
            .call(
                "POST",
                "/v1/policies",
                Some("author"),
                &[],
                Some(json!({ "files": crowded })),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{}", db.label);
        assert_eq!(
            body["error"]["message"],
            "files: 1001 files, more than a package may have (1000)"
        );

        let (status, tested) = w
            .call(
                "POST",
                "/v1/policies/test",
                Some("author"),
                &[],
                Some(good.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {tested}", db.label);
        assert_eq!(tested["failed"], 0, "{tested}");
        assert!(tested["passed"].as_u64().unwrap() >= 10, "{tested}");
        // The reference package's cases reach every table cell and every branch.
        assert_eq!(tested["cells_no_case_reaches"], json!([]), "{tested}");
        assert_eq!(tested["branches_no_case_reaches"], json!([]), "{tested}");

        let (status, draft) = w
            .call("POST", "/v1/policies", Some("author"), &[], Some(good))
            .await;
        assert_eq!(
            (status, draft["status"].as_str()),
            (StatusCode::CREATED, Some("draft")),
            "{}: {draft}",
            db.label
        );
        let id = draft["policy_id"].as_str().unwrap().to_owned();
        let v = draft["version"].as_str().unwrap().to_owned();
        // Four eyes: another holder approves before the author publishes.
        let (status, approved) = w
            .call(
                "POST",
                &format!("/v1/policies/{id}/versions/{v}/approve"),
                Some("admin"),
                &[],
                Some(json!({ "comment": "the reference package as shipped" })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {approved}", db.label);
        let publish = format!("/v1/policies/{id}/versions/{v}/publish");
        let (status, published) = w.call("POST", &publish, Some("author"), &[], None).await;
        assert_eq!(
            (status, published["status"].as_str()),
            (StatusCode::OK, Some("published")),
            "{}: {published}",
            db.label
        );
        let (status, _) = w.call("POST", &publish, Some("author"), &[], None).await;
        assert_eq!(status, StatusCode::CONFLICT, "{}", db.label);

        let (status, list) = w
            .call("GET", "/v1/policies", Some("actuary"), &[], None)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            list,
            json!(["hba1c-outcome", "tangdaifu-smbg"]),
            "{}",
            db.label
        );
        let (status, _) = w
            .call(
                "GET",
                &format!("/v1/policies/{id}/versions"),
                Some("other-platform"),
                &[],
                None,
            )
            .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "a platform key reads no policies"
        );

        let (status, _) = w
            .call(
                "POST",
                &format!("/v1/policies/{id}/versions/{v}/retire"),
                Some("author"),
                &[],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}", db.label);
        let (_, versions) = w
            .call(
                "GET",
                &format!("/v1/policies/{id}/versions"),
                Some("auditor"),
                &[],
                None,
            )
            .await;
        assert_eq!(versions[0]["status"], "retired", "{}: {versions}", db.label);
        let (status, _) = w
            .call(
                "GET",
                "/v1/policies/nothing-here/versions",
                Some("auditor"),
                &[],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_payouts_by_outcome_with_no_member_in_them() {
    let db = sqlite_db().await;
    let w = world(&db).await;
    w.call(
        "POST",
        "/v1/members/M1/readings",
        Some("platform"),
        &[],
        Some(readings_body(5)),
    )
    .await;
    w.call(
        "POST",
        "/v1/payouts",
        Some("platform"),
        &[("idempotency-key", "k")],
        Some(payout()),
    )
    .await;
    w.call(
        "POST",
        "/v1/payouts",
        Some("platform"),
        &[("idempotency-key", "k2")],
        Some(payout()),
    )
    .await;
    let res = w
        .app
        .clone()
        .oneshot(
            Request::get("/healthz")
                .header("x-request-id", "trace-me-1")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        res.headers()["x-request-id"],
        "trace-me-1",
        "a caller's request id comes back"
    );
    let (status, text) = w.call("GET", "/metrics", None, &[], None).await;
    assert_eq!(status, StatusCode::OK);
    let text = text.as_str().unwrap().to_owned();
    assert!(text.contains(r#"incentive_http_requests_total{method="POST",route="/v1/members/{member_id}/readings",status="200"} 1"#), "{text}");
    assert!(
        text.contains(r#"incentive_payouts_total{kind="paid"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"incentive_payouts_total{kind="already_decided"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("incentive_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(!text.contains("M1"), "no member id in the metrics: {text}");
    w.store.close().await;
}

#[tokio::test]
async fn a_database_that_does_not_answer_is_a_503_that_says_when_to_retry() {
    let db = sqlite_db().await;
    let store = store_with_plan(&db, str::to_owned).await;
    let app = incentive_api::router(store.clone(), incentive_api::Limits::default());
    store.close().await;
    let res = app
        .oneshot(Request::get("/readyz").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        res.headers().get("retry-after").map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    let body: Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
}

#[tokio::test]
async fn past_its_limits_the_server_answers_503_in_its_own_words() {
    let db = sqlite_db().await;
    let store = store_with_plan(&db, str::to_owned).await;
    let full = incentive_api::router(
        store.clone(),
        incentive_api::Limits {
            concurrent_requests_max: 0,
            ..incentive_api::Limits::default()
        },
    );
    // (`/healthz` is answered outside the limit: api/tests/slow_clients.rs.)
    let res = full
        .oneshot(
            Request::get("/v1/openapi.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(body["error"]["code"], "overloaded", "{body}");

    // Another process holds SQLite's write lock: a payout waits for it past the time limit.
    // (A dry run no longer does: it reads and decides outside the write lock.)
    enrol(&store, "M1").await;
    let key = store
        .create_key(TENANT, Role::Platform)
        .await
        .unwrap()
        .secret;
    let other = sqlx::SqlitePool::connect(&db.url).await.unwrap();
    let mut holder = other.acquire().await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *holder)
        .await
        .unwrap();
    let hasty = incentive_api::router(
        store.clone(),
        incentive_api::Limits {
            request_timeout_ms: 200,
            ..incentive_api::Limits::default()
        },
    );
    let request = Request::post("/v1/payouts")
        .header("authorization", format!("Bearer {key}"))
        .header("idempotency-key", "k-hasty")
        .body(Body::from(payout().to_string()))
        .unwrap();
    let res = hasty.oneshot(request).await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(body["error"]["code"], "timed_out", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("limit of 200 ms"),
        "{body}"
    );
    sqlx::query("ROLLBACK").execute(&mut *holder).await.unwrap();
    drop(holder);
    other.close().await;
    store.close().await;
}

#[tokio::test]
async fn the_openapi_document_lists_every_route_and_every_route_it_lists_answers() {
    let db = sqlite_db().await;
    let w = world(&db).await;
    let (status, doc) = w.call("GET", "/v1/openapi.json", None, &[], None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        doc["openapi"].as_str().map(|v| v.starts_with("3.")),
        Some(true),
        "{doc}"
    );
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = Vec::new();
    for (path, item) in paths {
        for method in ["get", "put", "post", "delete"] {
            if item.get(method).is_some() {
                operations.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    assert_eq!(operations.len(), 41, "{operations:?}");
    let payout = &paths["/v1/payouts"]["post"];
    assert!(
        payout["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "Idempotency-Key"),
        "{payout}"
    );
    assert!(payout["responses"].get("409").is_some() && payout["responses"].get("422").is_some());

    // A route the document names answers, in the API's words, to a key that may call it: never
    // the router's own empty 404 or 405 for a route that is not there.
    for (method, path) in &operations {
        let concrete = path
            .replace("{member_id}", "M1")
            .replace("{decision_id}", "dec_x")
            .replace("{policy_id}", PLAN)
            .replace("{version}", "9")
            .replace("{simulation_id}", "sim_x");
        let mut req = Request::builder()
            .method(method.as_str())
            .uri(&concrete)
            .header("authorization", format!("Bearer {}", w.keys["admin"]));
        if method == "POST" && concrete == "/v1/payouts" {
            req = req.header("idempotency-key", "openapi-check");
        }
        let res = w
            .app
            .clone()
            .oneshot(req.body(Body::from("{}")).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        assert!(
            !((status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED)
                && body.is_empty()),
            "{method} {path} is documented but not routed ({status})"
        );
    }
    w.store.close().await;
}

#[tokio::test]
async fn a_csv_upload_of_many_members_keeps_good_rows_and_names_each_bad_one_by_line() {
    for db in databases().await {
        let w = world(&db).await;
        enrol(&w.store, "M2").await;
        let csv = "member_id,time,glucose_mmol_l,context\n\
                   M1,2026-03-01T07:00:00+08:00,5.6,fasting\n\
                   M1,2026-03-02T07:00:00+08:00,5.9,fasting\n\
                   M2,2026-03-01T07:00:00+08:00,abc,fasting\n\
                   M2,2026-03-01T07:05:00+08:00,6.1,fasting\n\
                   GHOST,2026-03-01T07:00:00+08:00,6.1,fasting\n\
                   M1,2026-03-01T07:00:00+08:00,5.6,fasting\n";
        let req = Request::post("/v1/readings")
            .header("authorization", format!("Bearer {}", w.keys["platform"]))
            .header("content-type", "text/csv")
            .body(Body::from(csv))
            .unwrap();
        let res = w.app.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{}", db.label);
        let body: Value =
            serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
        assert_eq!(
            (
                body["rows"].as_u64(),
                body["accepted"].as_u64(),
                body["duplicate"].as_u64(),
                body["rejected"].as_u64()
            ),
            (Some(6), Some(3), Some(1), Some(2)),
            "{}: {body}",
            db.label
        );
        let reasons: Vec<&str> = body["rejections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["reason"].as_str().unwrap())
            .collect();
        assert!(reasons[0].contains("line 4"), "{reasons:?}");
        assert_eq!(
            reasons[1],
            "member `GHOST` is not enrolled: its 1 readings were not stored"
        );

        let req = Request::post("/v1/readings")
            .header("authorization", format!("Bearer {}", w.keys["platform"]))
            .body(Body::from("who,when\nM1,now\n"))
            .unwrap();
        let res = w.app.clone().oneshot(req).await.unwrap();
        assert_eq!(
            res.status(),
            StatusCode::BAD_REQUEST,
            "{}: a header it cannot read",
            db.label
        );
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_revoked_key_is_refused_once_the_key_cache_has_forgotten_it() {
    for db in databases().await {
        let store = store_with_plan(&db, str::to_owned).await;
        for cache_seconds in [0_u64, 1] {
            let key = store.create_key(TENANT, Role::Auditor).await.unwrap();
            let limits = incentive_api::Limits {
                key_cache_seconds: cache_seconds,
                ..incentive_api::Limits::default()
            };
            let app = incentive_api::router(store.clone(), limits);
            let verify = || {
                let app = app.clone();
                let secret = key.secret.clone();
                async move {
                    let req = Request::get("/v1/ledger/verify")
                        .header("authorization", format!("Bearer {secret}"))
                        .body(Body::empty())
                        .unwrap();
                    app.oneshot(req).await.unwrap().status()
                }
            };
            assert_eq!(verify().await, StatusCode::OK, "{}", db.label);
            assert!(store.revoke_key(&key.id).await.unwrap());
            let right_after = verify().await;
            if cache_seconds == 0 {
                assert_eq!(
                    right_after,
                    StatusCode::UNAUTHORIZED,
                    "{}: no cache",
                    db.label
                );
            } else {
                // The documented price of the cache: up to `key_cache_seconds` of grace.
                assert_eq!(right_after, StatusCode::OK, "{}: cached", db.label);
                tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
                assert_eq!(verify().await, StatusCode::UNAUTHORIZED, "{}", db.label);
            }
        }
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn late_readings_bring_a_true_up_and_a_version_overlapping_a_published_one_is_refused() {
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
        let (status, first) = w
            .call(
                "POST",
                "/v1/payouts",
                Some("platform"),
                &[("idempotency-key", "march-1")],
                Some(payout()),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{}: {first}", db.label);
        // Late readings: a week of post-meal values far above target.
        let late: Vec<Value> = (10..=16)
            .map(|d| json!({ "time": format!("2026-03-{d:02}T10:00:00+08:00"), "glucose_mmol_l": 16.5, "context": "post_meal", "source": "smbg" }))
            .collect();
        let (status, _) = w
            .call(
                "POST",
                "/v1/members/M1/readings",
                Some("platform"),
                &[],
                Some(json!({ "readings": late })),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, second) = w
            .call(
                "POST",
                "/v1/payouts",
                Some("platform"),
                &[("idempotency-key", "march-2")],
                Some(payout()),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{}: {second}", db.label);
        assert_eq!(second["kind"], "true_up", "{}: {second}", db.label);
        let d = &second["decision"];
        assert_eq!(d["supersedes"], first["decision"]["id"]);
        assert_eq!(d["ordinal"], 1);
        let money = |v: &Value| {
            v.as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        };
        assert_eq!(
            money(&d["reward_posted"]),
            money(&d["reward"]) - money(&first["decision"]["reward"]),
            "{}: a true-up posts the difference",
            db.label
        );
        let (_, report) = w
            .call("GET", "/v1/ledger/verify", Some("auditor"), &[], None)
            .await;
        assert!(report["tenants"][0]["problem"].is_null(), "{report}");

        // Version 1.0.1 with 1.0.0's dates: stored as a draft, refused at publication.
        let next = package(PLAN, |t| {
            t.replace("version = \"1.0.0\"", "version = \"1.0.1\"")
        });
        let (status, draft) = w
            .call("POST", "/v1/policies", Some("author"), &[], Some(next))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{}: {draft}", db.label);
        let (status, _) = w
            .call(
                "POST",
                &format!("/v1/policies/{PLAN}/versions/1.0.1/approve"),
                Some("admin"),
                &[],
                Some(json!({ "comment": "dates to be checked at publication" })),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, refused) = w
            .call(
                "POST",
                &format!("/v1/policies/{PLAN}/versions/1.0.1/publish"),
                Some("author"),
                &[],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{}: {refused}", db.label);
        let message = refused["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("overlapping published version 1.0.0"),
            "{message}"
        );
        w.store.close().await;
        db.cleanup().await;
    }
}
