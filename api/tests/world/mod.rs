//! The world the API tests share: a store with two tenants, a key per role, and a caller.
#![allow(dead_code, reason = "each test file uses a part")]

pub mod real_server;

use crate::common::*;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use incentive_store::Store;
use incentive_store::tenants::Role;
use serde_json::{Value, json};
use tower::ServiceExt;

/// A store with `zhongan` (the plan published, member M1 enrolled) and `other`, a key per role
/// for `zhongan` and a platform key and an admin key for `other`.
pub struct World {
    pub store: Store,
    pub app: Router,
    pub keys: std::collections::HashMap<&'static str, String>,
}

pub async fn world(db: &TestDb) -> World {
    world_with(db, str::to_owned).await
}

/// [`world`] with the plan's manifest changed by `edit`.
pub async fn world_with(db: &TestDb, edit: impl Fn(&str) -> String) -> World {
    let store = store_with_plan(db, edit).await;
    enrol(&store, "M1").await;
    store.create_tenant("other").await.unwrap();
    let mut keys = std::collections::HashMap::new();
    for role in Role::ALL {
        keys.insert(
            role.as_str(),
            // Each key held by a person of its own, as four-eyes publishing needs.
            store
                .create_key_held(TENANT, role, Some(&format!("{} holder", role.as_str())))
                .await
                .unwrap()
                .secret,
        );
    }
    keys.insert(
        "other-platform",
        store
            .create_key_held("other", Role::Platform, Some("other platform holder"))
            .await
            .unwrap()
            .secret,
    );
    keys.insert(
        "other-admin",
        store
            .create_key_held("other", Role::Admin, Some("other admin holder"))
            .await
            .unwrap()
            .secret,
    );
    let app = incentive_api::router(
        store.clone(),
        incentive_api::Limits {
            // Probes of the reference policies take a few ms in a release build and tens in
            // a test build on a busy machine; the limit itself is tested in
            // api/tests/disclosure.rs with a policy made to exceed it.
            policy_decision_ms_max: 2_000,
            ..incentive_api::Limits::default()
        },
    );
    World { store, app, keys }
}

impl World {
    /// Polls a simulation, as `role`, until it is no longer queued or running (a minute at
    /// most).
    pub async fn simulation_finished(&self, role: &str, id: &str) -> Value {
        for _ in 0..600 {
            let (status, body) = self
                .call(
                    "GET",
                    &format!("/v1/simulations/{id}"),
                    Some(role),
                    &[],
                    None,
                )
                .await;
            assert_eq!(status, axum::http::StatusCode::OK, "{body}");
            if body["status"] != "queued" && body["status"] != "running" {
                return body;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("simulation {id} did not finish in a minute");
    }

    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        key: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (status, bytes) = self.call_for_bytes(method, uri, key, headers, body).await;
        (status, answer_value(&bytes))
    }

    /// [`World::call`] with the answer's bytes as they came.
    pub async fn call_for_bytes(
        &self,
        method: &str,
        uri: &str,
        key: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (StatusCode, axum::body::Bytes) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(key) = key {
            req = req.header("authorization", format!("Bearer {}", self.keys[key]));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = body.map_or(Body::empty(), |b| Body::from(b.to_string()));
        let res = self
            .app
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let status = res.status();
        (status, res.into_body().collect().await.unwrap().to_bytes())
    }

    /// A call with the `Authorization` header written as given.
    pub async fn call_with_authorization(
        &self,
        method: &str,
        uri: &str,
        authorization: &str,
    ) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", authorization)
            .body(Body::empty())
            .unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, answer_value(&bytes))
    }

    /// A body sent as it is, with its content type.
    pub async fn call_raw(
        &self,
        method: &str,
        uri: &str,
        key: &str,
        content_type: &str,
        body: String,
    ) -> (StatusCode, Value) {
        self.call_bytes(method, uri, key, content_type, body.into_bytes())
            .await
    }

    /// [`World::call_raw`] with a body that need not be text (a workbook, say).
    pub async fn call_bytes(
        &self,
        method: &str,
        uri: &str,
        key: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {}", self.keys[key]))
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, answer_value(&bytes))
    }
}

/// An answer's body as JSON, or as a JSON string where it is not JSON.
fn answer_value(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

pub fn readings_body(days: u32) -> Value {
    let readings: Vec<Value> = (1..=days)
        .flat_map(|d| {
            [
                json!({ "time": format!("2026-03-{d:02}T07:00:00+08:00"), "glucose_mmol_l": 5.6, "context": "fasting", "source": "smbg" }),
                json!({ "time": format!("2026-03-{d:02}T10:00:00+08:00"), "glucose_mmol_l": 7.8, "context": "post_meal", "source": "smbg" }),
            ]
        })
        .collect();
    json!({ "readings": readings })
}

pub fn payout() -> Value {
    json!({ "member_id": "M1", "policy_id": PLAN, "period": "2026-03" })
}

/// A reference package's files (policy.toml, rules.rhai, cases/, locales/), its manifest
/// edited by `edit`, as `POST /v1/policies` takes them.
pub fn package(policy: &str, edit: impl Fn(&str) -> String) -> Value {
    let dir = policies_dir().join(policy);
    let mut files = serde_json::Map::new();
    for file in ["policy.toml", "rules.rhai"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let text = if file == "policy.toml" {
            edit(&text)
        } else {
            text
        };
        files.insert(file.into(), Value::String(text));
    }
    for folder in ["cases", "locales"] {
        let Ok(entries) = std::fs::read_dir(dir.join(folder)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_file() {
                let name = format!("{folder}/{}", path.file_name().unwrap().to_string_lossy());
                files.insert(name, Value::String(std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    json!({ "files": files })
}

/// The message of an error answer (`{"error": {"message": …}}`), or "".
pub fn error_message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}
