//! Who sees what, generated from the rule and the document: docs/security.md's role × data
//! class table is the one the code enforces, every keyed operation of the OpenAPI document says
//! which roles call it and which classes it answers with, each of those roles may see each of
//! those classes by the table as the docs print it, and each role outside the list is refused.
//! Then the findings the rule came from: health data through dry runs to authors and actuaries.
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
use incentive_store::tenants::Role;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use world::*;

fn security_md() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/security.md");
    std::fs::read_to_string(path).unwrap()
}

/// The table as docs/security.md prints it: for each data class, the roles with a ✓.
fn documented_rule() -> BTreeMap<String, BTreeSet<String>> {
    let text = security_md();
    let mut lines = text
        .lines()
        .skip_while(|l| !l.starts_with("| data class |"));
    let header: Vec<String> = lines
        .next()
        .expect("docs/security.md has a `| data class |` table")
        .split('|')
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    let roles = &header[1..];
    lines
        .skip(1)
        .take_while(|l| l.starts_with('|'))
        .map(|row| {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            // cells[0] is before the first bar.
            let class = cells[1].trim_matches('`').to_owned();
            let allowed = roles
                .iter()
                .zip(&cells[2..])
                .filter(|(_, cell)| **cell == "✓")
                .map(|(role, _)| role.clone())
                .collect();
            (class, allowed)
        })
        .collect()
}

#[test]
fn the_role_by_data_class_table_in_the_security_doc_is_the_one_the_code_enforces() {
    let table = incentive_api::disclosure::markdown_table();
    assert!(
        security_md().contains(&table),
        "docs/security.md must carry the table the code enforces, exactly:\n\n{table}"
    );
    let documented = documented_rule();
    assert_eq!(
        documented.len(),
        incentive_api::disclosure::DataClass::ALL.len()
    );
    for class in incentive_api::disclosure::DataClass::ALL {
        for role in Role::ALL {
            assert_eq!(
                documented[class.as_str()].contains(role.as_str()),
                incentive_api::disclosure::may_see(role, class),
                "{} × {}",
                role.as_str(),
                class.as_str()
            );
        }
    }
}

/// Every keyed operation of the document: method, path template, its roles, its classes.
fn keyed_operations() -> Vec<(String, String, Vec<String>, Vec<String>)> {
    let doc = serde_json::to_value(incentive_api::openapi()).unwrap();
    let mut ops = Vec::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op.get("security").is_none() {
                continue;
            }
            let list = |name: &str| -> Vec<String> {
                op[name]
                    .as_array()
                    .unwrap_or_else(|| panic!("{method} {template} has no {name}"))
                    .iter()
                    .map(|v| v.as_str().unwrap().to_owned())
                    .collect()
            };
            ops.push((
                method.to_uppercase(),
                template.clone(),
                list("x-roles"),
                list("x-data-classes"),
            ));
        }
    }
    ops
}

#[test]
fn every_keyed_operation_names_its_roles_and_classes_and_each_role_may_see_each_class() {
    let rule = documented_rule();
    let ops = keyed_operations();
    assert!(ops.len() >= 29, "{} keyed operations", ops.len());
    for (method, template, roles, classes) in ops {
        assert!(
            !roles.is_empty() && !classes.is_empty(),
            "{method} {template}"
        );
        for class in &classes {
            let allowed = rule
                .get(class)
                .unwrap_or_else(|| panic!("{method} {template}: `{class}` is not in the table"));
            for role in &roles {
                assert!(
                    allowed.contains(role),
                    "{method} {template} answers {role} with `{class}`, which docs/security.md does not let {role} see"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_role_outside_an_operations_roles_is_refused_and_one_inside_is_let_in() {
    let db = sqlite_db().await;
    let w = world(&db).await;
    for (method, template, roles, _) in keyed_operations() {
        let uri = template
            .replace("{member_id}", "M1")
            .replace("{decision_id}", "dec_x")
            .replace("{policy_id}", PLAN)
            .replace("{version}", "9")
            .replace("{simulation_id}", "sim_x");
        for role in Role::ALL.map(|r| r.as_str()) {
            let (status, body) = w
                .call(&method, &uri, Some(role), &[], Some(json!({})))
                .await;
            if roles.iter().any(|r| r == role) {
                assert_ne!(status, StatusCode::FORBIDDEN, "{role} {method} {uri}");
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{role} {method} {uri}: {body}"
                );
            }
        }
    }
    w.store.close().await;
}

/// A plan whose author writes members' readings and attributes into its reasons: what a
/// published policy could do to reach health data through a dry run.
fn prying_plan(text: &str) -> String {
    text.replace(
        "fn decide(record, member, history) {",
        "fn decide(record, member, history) {\n    let pry = `region=${member.region} age=${member.age} n=${record.n_readings}`;",
    )
}

#[tokio::test]
async fn authors_and_actuaries_try_a_policy_on_a_record_they_supply_never_on_a_members_data() {
    for db in databases().await {
        let w = world(&db).await;
        w.call(
            "PUT",
            "/v1/members/M1",
            Some("platform"),
            &[],
            Some(json!({ "age": 61, "region": "Guizhou" })),
        )
        .await;
        w.call(
            "POST",
            "/v1/members/M1/readings",
            Some("platform"),
            &[],
            Some(readings_body(20)),
        )
        .await;
        // The platform and the admin dry-run a real member, and see the decision on record's
        // shape; the author and the actuary may not.
        for role in ["platform", "admin"] {
            let (status, body) = w
                .call("POST", "/v1/evaluations", Some(role), &[], Some(payout()))
                .await;
            assert_eq!(status, StatusCode::OK, "{}: {role}: {body}", db.label);
        }
        for role in ["author", "actuary", "auditor"] {
            let (status, body) = w
                .call("POST", "/v1/evaluations", Some(role), &[], Some(payout()))
                .await;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{}: {role}: {body}",
                db.label
            );
        }

        // A trial on a record written in the body decides from that record alone.
        let trial = json!({
            "policy_id": PLAN,
            "period": "2026-03",
            "member": { "age": 40, "region": "Test" },
            "readings": (1..=20).map(|d| json!({
                "time": format!("2026-03-{d:02}T07:00:00+08:00"),
                "glucose_mmol_l": 6.1,
                "context": "fasting",
            })).collect::<Vec<_>>(),
        });
        let mut answers = Vec::new();
        for role in ["author", "actuary", "platform", "admin"] {
            let (status, body) = w
                .call(
                    "POST",
                    "/v1/evaluations/trial",
                    Some(role),
                    &[],
                    Some(trial.clone()),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{}: {role}: {body}", db.label);
            answers.push(body);
        }
        assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
        let answer = &answers[0];
        assert_eq!(answer["version"], "1.0.0");
        assert_eq!(answer["decision"]["member_id"], "trial", "{answer}");
        let text = answer.to_string();
        for absent in ["M1", "Guizhou", "ledger_seq", "dec_"] {
            assert!(!text.contains(absent), "`{absent}` in {text}");
        }
        let (status, _) = w
            .call(
                "POST",
                "/v1/evaluations/trial",
                Some("auditor"),
                &[],
                Some(trial.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_draft_that_prints_members_data_into_its_reasons_shows_an_author_only_the_record_they_wrote()
 {
    let db = sqlite_db().await;
    let w = world(&db).await;
    w.call(
        "PUT",
        "/v1/members/M1",
        Some("platform"),
        &[],
        Some(json!({ "age": 61, "region": "Guizhou" })),
    )
    .await;
    w.call(
        "POST",
        "/v1/members/M1/readings",
        Some("platform"),
        &[],
        Some(readings_body(20)),
    )
    .await;
    let source = policy_with(PLAN, |manifest| {
        manifest.replace("version = \"1.0.0\"", "version = \"1.1.0\"")
    });
    let files: BTreeMap<String, String> = source
        .files
        .iter()
        .map(|f| {
            let text = if f.name == "rules.rhai" {
                prying_plan(&f.text).replace("let reasons = [];", "let reasons = [pry];")
            } else {
                f.text.clone()
            };
            (f.name.clone(), text)
        })
        .collect();
    let (status, body) = w
        .call(
            "POST",
            "/v1/policies",
            Some("author"),
            &[],
            Some(json!({ "files": files })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = w
        .call(
            "POST",
            "/v1/evaluations/trial",
            Some("author"),
            &[],
            Some(json!({
                "policy_id": PLAN, "version": "1.1.0", "period": "2026-03",
                "member": { "age": 33, "region": "Nowhere" },
                "readings": [{ "time": "2026-03-02T07:00:00+08:00", "glucose_mmol_l": 5.5, "context": "fasting" }],
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let text = body.to_string();
    assert!(
        text.contains("region=Nowhere age=33 n=1"),
        "the draft's reason shows the record supplied: {text}"
    );
    assert!(!text.contains("Guizhou") && !text.contains("61"), "{text}");
    w.store.close().await;
}

#[tokio::test]
async fn a_trial_names_every_reading_it_cannot_read_and_decides_nothing() {
    let db = sqlite_db().await;
    let w = world(&db).await;
    let (status, body) = w
        .call(
            "POST",
            "/v1/evaluations/trial",
            Some("author"),
            &[],
            Some(json!({
                "policy_id": PLAN, "period": "2026-03",
                "readings": [
                    { "time": "2026-03-02T07:00:00+08:00", "glucose_mmol_l": 5.5 },
                    { "time": "yesterday", "glucose_mmol_l": 5.5 },
                    { "time": "2026-03-03T07:00:00+08:00", "glucose_mg_dl": "lots" },
                ],
                "labs": [{ "time": "2026-03-03T07:00:00+08:00", "hba1c_percent": 99 }],
            })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("3 of the record's readings and labs"),
        "{message}"
    );
    for part in [
        "readings[1]: time:",
        "readings[2]: glucose_mg_dl:",
        "labs[0]: hba1c_percent:",
    ] {
        assert!(message.contains(part), "{part} in {message}");
    }
    let (status, body) = w
        .call(
            "POST",
            "/v1/evaluations/trial",
            Some("actuary"),
            &[],
            Some(json!({ "policy_id": PLAN, "period": "2031-03" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = w
        .call(
            "POST",
            "/v1/evaluations/trial",
            Some("actuary"),
            &[],
            Some(json!({ "policy_id": PLAN, "version": "7.7.7", "period": "2026-03" })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // A record may carry no more readings than a batch may (readings_per_batch_max): 413.
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let few = incentive_api::router(
        w.store.clone(),
        incentive_api::Limits {
            readings_per_batch_max: 2,
            ..incentive_api::Limits::default()
        },
    );
    let reading = json!({ "time": "2026-03-02T07:00:00+08:00", "glucose_mmol_l": 5.5 });
    let request = axum::http::Request::post("/v1/evaluations/trial")
        .header("authorization", format!("Bearer {}", w.keys["author"]))
        .body(Body::from(
            json!({ "policy_id": PLAN, "period": "2026-03", "readings": [reading, reading, reading] })
                .to_string(),
        ))
        .unwrap();
    let res = few.oneshot(request).await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(
        body["error"]["message"],
        "the batch has 3 readings, more than the 2 one batch may carry; send it in parts"
    );
    w.store.close().await;
}
