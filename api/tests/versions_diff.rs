//! A diff between two stored versions of a policy, on every backend: files side by side, the
//! terms that changed with their units, and the `to` version's cases decided under both, those
//! whose decision changes marked; an unknown version is a 404 naming it, a missing parameter a
//! 400 naming it; another tenant's keys find nothing and a platform key may not read policies.
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

const POLICY: &str = "hba1c-outcome";

/// A decimal as the API writes it, a string or a number, as text.
fn decimal(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[tokio::test]
async fn a_diff_shows_files_terms_and_the_cases_whose_decision_changes() {
    for db in databases().await {
        let w = world(&db).await;
        let (status, first) = w
            .call(
                "POST",
                "/v1/policies",
                Some("author"),
                &[],
                Some(package(POLICY, str::to_owned)),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{}: {first}", db.label);
        let raised = package(POLICY, |m| {
            m.replace("value = 4500", "value = 4600")
                .replace("version = \"1.0.0\"", "version = \"1.1.0\"")
        });
        let (status, second) = w
            .call("POST", "/v1/policies", Some("author"), &[], Some(raised))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{}: {second}", db.label);
        assert_eq!(second["version"], "1.1.0");

        let uri = format!("/v1/policies/{POLICY}/diff?from=1.0.0&to=1.1.0");
        for role in ["author", "actuary", "auditor", "admin"] {
            let (status, _) = w.call("GET", &uri, Some(role), &[], None).await;
            assert_eq!(status, StatusCode::OK, "{}: {role}", db.label);
        }
        let (status, diff) = w.call("GET", &uri, Some("actuary"), &[], None).await;
        assert_eq!(status, StatusCode::OK, "{}: {diff}", db.label);
        assert_eq!(
            (diff["from"].clone(), diff["to"].clone()),
            (json!("1.0.0"), json!("1.1.0"))
        );

        let file = |name: &str| {
            diff["files"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["name"] == name)
                .unwrap_or_else(|| panic!("no file {name}: {diff}"))
                .clone()
        };
        let manifest = file("policy.toml");
        assert_eq!(manifest["status"], "changed", "{manifest}");
        assert!(manifest["from"].as_str().unwrap().contains("value = 4500"));
        assert!(manifest["to"].as_str().unwrap().contains("value = 4600"));
        let rules = file("rules.rhai");
        assert_eq!(rules["status"], "same");
        assert_eq!(rules["from"], rules["to"]);
        assert_eq!(file("cases/below-7-pays-a-month.toml")["status"], "same");

        let terms = diff["terms"].as_array().unwrap();
        assert_eq!(terms.len(), 1, "only the premium changed: {terms:?}");
        let term = &terms[0];
        assert_eq!(term["name"], "monthly_premium");
        assert_eq!(term["kind"], "money");
        assert_eq!(term["unit"], "JPY");
        assert_eq!(
            (decimal(&term["from"]), decimal(&term["to"])),
            ("4500".into(), "4600".into())
        );
        assert_eq!(diff["tables"], json!([]), "{diff}");

        let cases = diff["cases"].as_array().unwrap();
        assert!(!cases.is_empty());
        let paid = cases
            .iter()
            .find(|c| c["case"] == "cases/below-7-pays-a-month.toml")
            .unwrap_or_else(|| panic!("{diff}"));
        assert_eq!(paid["changed"], true, "{paid}");
        assert_eq!(
            (
                decimal(&paid["from"]["reward"]),
                decimal(&paid["to"]["reward"])
            ),
            ("4500".into(), "4600".into()),
            "{paid}"
        );
        assert_eq!(paid["to"]["qualified"], true);
        // A case that pays nothing under either is unchanged.
        let unpaid = cases
            .iter()
            .find(|c| c["case"] == "cases/aged-17-is-not-eligible.toml")
            .unwrap_or_else(|| panic!("{diff}"));
        assert_eq!(unpaid["changed"], false, "{unpaid}");
        assert_eq!(
            diff["cases_changed"].as_u64().unwrap(),
            cases.iter().filter(|c| c["changed"] == true).count() as u64
        );
        assert_eq!(diff["cases_not_run"], 0);

        // A version against itself: every file the same, nothing changed.
        let (status, same) = w
            .call(
                "GET",
                &format!("/v1/policies/{POLICY}/diff?from=1.1.0&to=1.1.0"),
                Some("auditor"),
                &[],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{same}");
        assert!(
            same["files"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["status"] == "same")
        );
        assert_eq!(
            (same["terms"].clone(), same["cases_changed"].clone()),
            (json!([]), json!(0))
        );

        // An unknown version is named; a missing parameter is named.
        let (status, body) = w
            .call(
                "GET",
                &format!("/v1/policies/{POLICY}/diff?from=1.0.0&to=9.9.9"),
                Some("author"),
                &[],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert!(error_message(&body).contains("9.9.9"), "{body}");
        let (status, body) = w
            .call(
                "GET",
                &format!("/v1/policies/{POLICY}/diff?from=1.0.0"),
                Some("author"),
                &[],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(error_message(&body).starts_with("to:"), "{body}");
        let (status, body) = w
            .call(
                "GET",
                &format!("/v1/policies/{POLICY}/diff?to=1.0.0"),
                Some("author"),
                &[],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(error_message(&body).starts_with("from:"), "{body}");
        let long = "9".repeat(33);
        let (status, body) = w
            .call(
                "GET",
                &format!("/v1/policies/{POLICY}/diff?from={long}&to=1.0.0"),
                Some("author"),
                &[],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(error_message(&body).starts_with("from:"), "{body}");

        // Another tenant's key finds no such policy; a platform key may not read policies.
        let (status, body) = w.call("GET", &uri, Some("other-admin"), &[], None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        let (status, body) = w.call("GET", &uri, Some("platform"), &[], None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

        w.store.close().await;
        db.cleanup().await;
    }
}

/// A step of a table changed shows as that table, from and to, and the cases it moves change:
/// tangdaifu-smbg's second step raised from 20 % to 25 % of the premium (the top one, 30 %, is
/// the plan's cap a month: raising it would move no decision).
#[tokio::test]
async fn a_changed_table_is_shown_with_its_rows_and_moves_the_cases_it_decides() {
    for db in databases().await {
        let w = world(&db).await;
        let plan = "tangdaifu-smbg";
        let raised = package(plan, |m| {
            m.replace("version = \"1.0.0\"", "version = \"1.2.0\"")
                .replace(
                    "{ from = 70, to = 90, value = 20 }",
                    "{ from = 70, to = 90, value = 25 }",
                )
        });
        let (status, draft) = w
            .call("POST", "/v1/policies", Some("author"), &[], Some(raised))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{}: {draft}", db.label);
        let (status, diff) = w
            .call(
                "GET",
                &format!("/v1/policies/{plan}/diff?from=1.0.0&to=1.2.0"),
                Some("actuary"),
                &[],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{diff}");
        let tables: Vec<&str> = diff["tables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(tables, ["rebate_percent_by_fasting_in_target"], "{diff}");
        assert!(diff["terms"].as_array().unwrap().is_empty(), "{diff}");
        let changed: Vec<&str> = diff["cases"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["changed"] == true)
            .map(|c| c["case"].as_str().unwrap())
            .collect();
        assert_eq!(changed, ["cases/seventy-percent-is-the-second-step.toml"]);
        w.store.close().await;
        db.cleanup().await;
    }
}

/// Next year's draft against this year's published version: the cases, moved to next year
/// with it, are decided by this year's version renewed unchanged — compared on the rules, not
/// refused on the dates — and say so; a case past both versions' dates is decided as it is.
#[tokio::test]
async fn next_years_draft_is_compared_with_this_years_version_renewed_not_refused_on_its_dates() {
    for db in databases().await {
        let w = world(&db).await;
        let plan = "tangdaifu-smbg";
        let mut next_year = package(plan, |m| {
            m.replace("version = \"1.0.0\"", "version = \"2.0.0\"")
                .replace("effective_from = 2026-01-01", "effective_from = 2027-01-01")
                .replace("effective_to = 2026-12-31", "effective_to = 2027-12-31")
                .replace(
                    "{ from = 70, to = 90, value = 20 }",
                    "{ from = 70, to = 90, value = 25 }",
                )
        });
        for (name, text) in next_year["files"].as_object_mut().unwrap() {
            if name.starts_with("cases/") {
                let moved = text
                    .as_str()
                    .unwrap()
                    .replace("2027-", "2028-")
                    .replace("2026-", "2027-");
                *text = serde_json::Value::String(moved);
            }
        }
        let (status, draft) = w
            .call("POST", "/v1/policies", Some("author"), &[], Some(next_year))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{}: {draft}", db.label);
        let (status, diff) = w
            .call(
                "GET",
                &format!("/v1/policies/{plan}/diff?from=1.0.0&to=2.0.0"),
                Some("author"),
                &[],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{diff}");
        let cases = diff["cases"].as_array().unwrap();
        let changed: Vec<&str> = cases
            .iter()
            .filter(|c| c["changed"] == true)
            .map(|c| c["case"].as_str().unwrap())
            .collect();
        assert_eq!(
            changed,
            ["cases/seventy-percent-is-the-second-step.toml"],
            "{diff}"
        );
        let case = |name: &str| {
            cases
                .iter()
                .find(|c| c["case"] == format!("cases/{name}.toml"))
                .unwrap()
        };
        let full = case("full-rebate");
        assert_eq!(full["from_renewed"], true, "{full}");
        assert_eq!(full["from"]["reward"], full["to"]["reward"], "{full}");
        // 2028-01: past both versions' dates, refused by both, nothing renewed.
        let outside = case("outside-the-effective-dates");
        assert_eq!(outside["from_renewed"], false, "{outside}");
        assert!(outside["from"]["error"].is_string(), "{outside}");
        assert!(outside["to"]["error"].is_string(), "{outside}");
        w.store.close().await;
        db.cleanup().await;
    }
}
