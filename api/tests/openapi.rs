//! The OpenAPI document against the router it describes: every parameter the document declares
//! is where the router reads it. A client generated from the document puts each parameter where
//! the document says; one declared in the path but read from the query breaks every such client.
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
use serde_json::Value;
use std::collections::BTreeSet;
use tower::ServiceExt;
use world::*;

/// A value for each path parameter a route template may name.
fn sample(name: &str) -> &'static str {
    match name {
        "member_id" => "M1",
        "decision_id" => "dec_x",
        "policy_id" => PLAN,
        "version" => "9",
        "simulation_id" => "sim_x",
        other => panic!("no sample value for the path parameter `{other}`: add one"),
    }
}

/// Bodies that pass their route's own checks, for operations whose header parameters are
/// probed (a body refused first would hide whether the header is read).
fn body_for(method: &str, path: &str) -> Option<String> {
    match (method, path) {
        ("POST", "/v1/payouts") => Some(payout().to_string()),
        ("POST", "/v1/readings") => {
            Some("member_id,time,glucose_mg_dl\nM1,2026-03-02T07:00:00+08:00,120\n".to_owned())
        }
        ("POST", "/v1/policies/{policy_id}/versions/{version}/approve") => {
            Some(r#"{"comment": "checked"}"#.to_owned())
        }
        ("PUT", "/v1/settings") => Some(
            r#"{"fhir_member_identifier_system": "https://insurer.example/member-id"}"#.to_owned(),
        ),
        ("POST", "/v1/members/{member_id}/readings/export") => Some(
            r#"[{"type": "sgv", "sgv": 120, "date": 1775421029000, "utcOffset": 480}]"#.to_owned(),
        ),
        ("POST", "/v1/policies/{policy_id}/versions/{version}/backtest") => {
            Some(r#"{"from": "2026-03", "to": "2026-03"}"#.to_owned())
        }
        ("POST", "/v1/evaluations/trial") => {
            Some(serde_json::json!({ "policy_id": PLAN, "period": "2026-03" }).to_string())
        }
        _ => None,
    }
}

/// The `{name}`s of a path template.
fn placeholders(template: &str) -> BTreeSet<String> {
    template
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
        .collect()
}

/// Whether an error message names `name` as the API names a field: `name: …` or `` `name` ``.
fn names(message: &str, name: &str) -> bool {
    let message = message.to_ascii_lowercase();
    let name = name.to_ascii_lowercase();
    message.contains(&format!("{name}:")) || message.contains(&format!("`{name}`"))
}

struct Call<'a> {
    w: &'a World,
    method: &'a str,
    path: &'a str,
    headers: Vec<(String, String)>,
    body: String,
}

impl Call<'_> {
    async fn with_query(&self, query: &str) -> (StatusCode, Value) {
        let uri = if query.is_empty() {
            self.path.to_owned()
        } else {
            format!("{}?{query}", self.path)
        };
        let mut req = Request::builder()
            .method(self.method)
            .uri(&uri)
            .header("authorization", format!("Bearer {}", self.w.keys["admin"]))
            .header("content-type", "application/json");
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        let res = self
            .w
            .app
            .clone()
            .oneshot(req.body(Body::from(self.body.clone())).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }
}

fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn every_parameter_the_openapi_document_declares_is_where_the_router_reads_it() {
    let db = sqlite_db().await;
    let w = world(&db).await;
    let (status, doc) = w.call("GET", "/v1/openapi.json", None, &[], None).await;
    assert_eq!(status, StatusCode::OK);
    let mut probed = BTreeSet::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let method = method.to_uppercase();
            let operation = format!("{method} {template}");
            let params: Vec<&Value> = op["parameters"]
                .as_array()
                .map(|p| p.iter().collect())
                .unwrap_or_default();
            let declared_in = |place: &str| -> Vec<&Value> {
                params
                    .iter()
                    .copied()
                    .filter(|p| p["in"] == place)
                    .collect()
            };
            for p in &params {
                assert!(
                    ["path", "query", "header"].contains(&p["in"].as_str().unwrap_or("")),
                    "{operation}: parameter {p} is declared somewhere the router reads nothing"
                );
            }

            // In the path: exactly the template's `{name}`s, each required.
            let in_path: BTreeSet<String> = declared_in("path")
                .iter()
                .map(|p| p["name"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(
                in_path,
                placeholders(template),
                "{operation}: the parameters declared `in: path` are the template's `{{name}}`s"
            );
            for p in declared_in("path") {
                assert_eq!(p["required"], true, "{operation}: {p}");
            }

            let mut path = template.clone();
            for name in placeholders(template) {
                path = path.replace(&format!("{{{name}}}"), sample(&name));
            }
            let body = body_for(&method, template).unwrap_or_else(|| "{}".to_owned());
            let mut call = Call {
                w: &w,
                method: &method,
                path: &path,
                headers: Vec::new(),
                body,
            };

            // In a header: a required one left out is a 400 that names it.
            let headers = declared_in("header");
            if !headers.is_empty() {
                assert!(
                    body_for(&method, template).is_some(),
                    "{operation} declares a header: give `body_for` a body it accepts"
                );
            }
            for p in &headers {
                let name = p["name"].as_str().unwrap();
                assert_eq!(
                    p["required"], true,
                    "{operation}: {p}: no optional header is read"
                );
                call.headers = headers
                    .iter()
                    .filter(|other| other["name"] != name)
                    .map(|other| {
                        (
                            other["name"].as_str().unwrap().to_owned(),
                            format!("openapi-{}", probed.len()),
                        )
                    })
                    .collect();
                let (status, body) = call.with_query("").await;
                assert!(
                    status == StatusCode::BAD_REQUEST && names(message(&body), name),
                    "{operation} without the header `{name}` the document requires: {status} {body}"
                );
                probed.insert(format!("{operation} header {name}"));
            }
            call.headers = headers
                .iter()
                .map(|p| {
                    (
                        p["name"].as_str().unwrap().to_owned(),
                        format!("openapi-{}", probed.len()),
                    )
                })
                .collect();

            // In the query: left out, each optional one is not missed; a value of the wrong
            // type, or outside the range the document gives, is a 400 that names it.
            let query = declared_in("query");
            if query.is_empty() {
                continue;
            }
            // A required one left out is a 400 that names it; each other parameter is probed
            // with the required ones given (their examples).
            let example = |p: &Value| {
                p["example"]
                    .as_str()
                    .or(p["schema"]["example"].as_str())
                    .unwrap_or("M")
                    .to_owned()
            };
            let required_but = |name: &str| -> String {
                query
                    .iter()
                    .filter(|o| o["required"] == true && o["name"] != name)
                    .map(|o| format!("{}={}&", o["name"].as_str().unwrap(), example(o)))
                    .collect()
            };
            let (status, body) = call.with_query("").await;
            if query.iter().any(|p| p["required"] == true) {
                assert!(
                    status == StatusCode::BAD_REQUEST
                        && query
                            .iter()
                            .any(|p| names(message(&body), p["name"].as_str().unwrap())),
                    "{operation} with no query, which the document requires: {status} {body}"
                );
            } else {
                assert_ne!(
                    status,
                    StatusCode::BAD_REQUEST,
                    "{operation} with no query: {body}"
                );
            }
            for p in &query {
                let name = p["name"].as_str().unwrap();
                let required = p["required"] == true;
                let given = required_but(name);
                if required {
                    let others: Vec<String> = query
                        .iter()
                        .filter(|o| o["name"] != name)
                        .map(|o| format!("{}=1", o["name"].as_str().unwrap()))
                        .collect();
                    let (status, body) = call.with_query(&others.join("&")).await;
                    assert!(
                        status == StatusCode::BAD_REQUEST && names(message(&body), name),
                        "{operation} without `{name}`, which the document requires: {status} {body}"
                    );
                }
                let schema = &p["schema"];
                let types: Vec<&str> = match &schema["type"] {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                    _ => Vec::new(),
                };
                let mut wrong = Vec::new();
                if types.contains(&"integer") || types.contains(&"number") {
                    wrong.push("not-a-number".to_owned());
                }
                if types.contains(&"boolean") {
                    wrong.push("not-a-flag".to_owned());
                    let (status, body) = call.with_query(&format!("{given}{name}=true")).await;
                    assert_ne!(
                        status,
                        StatusCode::BAD_REQUEST,
                        "{operation}?{name}=true: {body}"
                    );
                }
                if let Some(min) = schema["minimum"].as_i64() {
                    wrong.push((min - 1).to_string());
                }
                if let Some(max) = schema["maximum"].as_i64() {
                    wrong.push((max + 1).to_string());
                }
                if let Some(longest) = schema["maxLength"].as_u64() {
                    wrong.push("a".repeat(usize::try_from(longest).unwrap() + 1));
                }
                if wrong.iter().all(|w| w.starts_with('a')) {
                    // Text: any value of its form (its example, where the document gives one)
                    // is accepted.
                    let good = p["example"]
                        .as_str()
                        .or(schema["example"].as_str())
                        .unwrap_or("M");
                    let (status, body) = call.with_query(&format!("{given}{name}={good}")).await;
                    assert_ne!(
                        status,
                        StatusCode::BAD_REQUEST,
                        "{operation}?{name}=M: {body}"
                    );
                }
                for value in wrong {
                    let (status, body) = call.with_query(&format!("{given}{name}={value}")).await;
                    assert!(
                        status == StatusCode::BAD_REQUEST && names(message(&body), name),
                        "{operation}?{name}={value}: a 400 naming `{name}`, not {status} {body}"
                    );
                    probed.insert(format!("{operation}?{name}={value}"));
                }
            }
            // The query is read against the declared names: one the document does not
            // declare is refused, so the ones it does are the ones read.
            let (status, body) = call.with_query("undeclared=1").await;
            assert!(
                status == StatusCode::BAD_REQUEST && message(&body).contains("undeclared"),
                "{operation}?undeclared=1: {status} {body}"
            );
        }
    }
    // The routes with paging parameters, and the payout's key, were among those probed.
    for expected in [
        "GET /v1/ledger/entries?limit=0",
        "GET /v1/ledger/entries?limit=1001",
        "GET /v1/ledger/entries?after=-1",
        "GET /v1/ledger/entries?after=not-a-number",
        "GET /v1/ledger/balances?limit=0",
        "GET /v1/ledger/balances?limit=not-a-number",
        "POST /v1/payouts header Idempotency-Key",
    ] {
        assert!(
            probed.contains(expected),
            "{expected} was probed: {probed:#?}"
        );
    }
    w.store.close().await;
}
