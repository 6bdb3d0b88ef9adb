//! What the policy workbench reads and runs over the API, on every backend: `GET /v1/caller`
//! tells each key its tenant, role and holder and exactly the accesses its role passes; a
//! stored version's files come back as they were stored; a trial of a case decides the case's
//! own record under the version named, a draft too, and refuses a record sent with it; a
//! simulation of a draft against the published version names both versions in its summary;
//! and the page's three files are served with no key under a strict content security policy.
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
use axum::http::{Request, StatusCode, header};
use common::*;
use http_body_util::BodyExt;
use incentive_store::tenants::Role;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use tower::ServiceExt;
use world::*;

/// Bytes of an error message that repeats a client's value: the value is cut to about 100
/// characters, so a whole message stays well under this (as in api/tests/hostile_input.rs).
const ECHO_BYTES_MAX: usize = 600;

/// A decimal as the API writes it, a string or a number, as text.
fn decimal(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// tangdaifu-smbg's package (with its cases) stored as draft `version`, its manifest further
/// changed by `edit`.
async fn draft(w: &World, version: &str, edit: impl Fn(&str) -> String) -> Value {
    let versioned = format!("version = \"{version}\"");
    let body = package(PLAN, |m| {
        edit(&m.replace("version = \"1.0.0\"", &versioned))
    });
    let (status, stored) = w
        .call("POST", "/v1/policies", Some("author"), &[], Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{stored}");
    assert_eq!(stored["status"], "draft", "{stored}");
    stored
}

/// One representative route per access (`auth::ACCESSES`), called with `{}` as the roles
/// matrix in api/tests/http.rs calls them: past the role check it answers 200, 400 or 404.
const ROUTE_OF_ACCESS: [(&str, &str, &str); 15] = [
    ("SendMemberData", "PUT", "/v1/members/M2"),
    ("RequestPayouts", "POST", "/v1/payouts"),
    ("ReadDecisions", "GET", "/v1/decisions/dec_x"),
    ("AuditLedger", "GET", "/v1/ledger/verify"),
    ("AuthorPolicies", "POST", "/v1/policies/check"),
    ("ReadPolicies", "GET", "/v1/policies"),
    ("DryRunOnMember", "POST", "/v1/evaluations"),
    ("TryPolicies", "POST", "/v1/evaluations/trial"),
    ("ReverseDecisions", "POST", "/v1/decisions/dec_x/reversal"),
    ("EraseMemberData", "DELETE", "/v1/members/M2/readings"),
    ("RunSimulations", "GET", "/v1/simulations"),
    (
        "ApprovePolicies",
        "POST",
        "/v1/policies/tangdaifu-smbg/versions/9/approve",
    ),
    (
        "BacktestHistory",
        "POST",
        "/v1/policies/tangdaifu-smbg/versions/9/backtest",
    ),
    ("ManageSettings", "GET", "/v1/settings"),
    ("IdentifyCaller", "GET", "/v1/caller"),
];

fn may(caller: &Value) -> BTreeSet<String> {
    caller["may"]
        .as_array()
        .unwrap_or_else(|| panic!("no `may`: {caller}"))
        .iter()
        .map(|m| m.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_caller_route_tells_each_key_its_tenant_role_holder_and_exactly_what_its_role_may_do() {
    for db in databases().await {
        let mut w = world(&db).await;
        let unheld = w
            .store
            .create_key(TENANT, Role::Auditor)
            .await
            .unwrap()
            .secret;
        w.keys.insert("unheld-auditor", unheld);

        for role in Role::ALL.map(|r| r.as_str()) {
            let (status, caller) = w.call("GET", "/v1/caller", Some(role), &[], None).await;
            assert_eq!(status, StatusCode::OK, "{}: {role}: {caller}", db.label);
            assert_eq!(caller["tenant"], TENANT, "{caller}");
            assert_eq!(caller["role"], role, "{caller}");
            assert_eq!(caller["holder"], format!("{role} holder"), "{caller}");
            assert_eq!(caller["four_eyes"], true, "{caller}");
        }
        let (status, theirs) = w
            .call("GET", "/v1/caller", Some("other-platform"), &[], None)
            .await;
        assert_eq!(status, StatusCode::OK, "{theirs}");
        assert_eq!(
            (
                theirs["tenant"].clone(),
                theirs["role"].clone(),
                theirs["holder"].clone()
            ),
            (
                json!("other"),
                json!("platform"),
                json!("other platform holder")
            )
        );
        let (status, unheld) = w
            .call("GET", "/v1/caller", Some("unheld-auditor"), &[], None)
            .await;
        assert_eq!(status, StatusCode::OK, "{unheld}");
        assert_eq!(unheld["holder"], Value::Null, "{unheld}");
        assert_eq!(unheld["role"], "auditor");

        let (_, platform) = w
            .call("GET", "/v1/caller", Some("platform"), &[], None)
            .await;
        let platform = may(&platform);
        for lacks in ["ReadPolicies", "AuthorPolicies", "RunSimulations"] {
            assert!(
                !platform.contains(lacks),
                "platform may {lacks}: {platform:?}"
            );
        }
        assert!(platform.contains("RequestPayouts"), "{platform:?}");
        let (_, author) = w.call("GET", "/v1/caller", Some("author"), &[], None).await;
        let author = may(&author);
        for has in [
            "AuthorPolicies",
            "RunSimulations",
            "ReadPolicies",
            "TryPolicies",
        ] {
            assert!(author.contains(has), "author may not {has}: {author:?}");
        }
        for lacks in ["RequestPayouts", "ReadDecisions", "ManageSettings"] {
            assert!(!author.contains(lacks), "author may {lacks}: {author:?}");
        }

        // The admin may do everything there is, so the list below covers every access.
        let (_, admin) = w.call("GET", "/v1/caller", Some("admin"), &[], None).await;
        let listed: BTreeSet<String> = ROUTE_OF_ACCESS
            .iter()
            .map(|(a, _, _)| (*a).to_owned())
            .collect();
        assert_eq!(may(&admin), listed, "an access without a route here");

        // Each name in `may` is an access the role passes on its route, and each name not in
        // it is a 403 there.
        for role in Role::ALL.map(|r| r.as_str()) {
            let (_, caller) = w.call("GET", "/v1/caller", Some(role), &[], None).await;
            let allowed = may(&caller);
            for (access, method, uri) in ROUTE_OF_ACCESS {
                let (status, body) = w.call(method, uri, Some(role), &[], Some(json!({}))).await;
                if allowed.contains(access) {
                    assert!(
                        status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                        "{}: {role} may {access} but {method} {uri} is {status}: {body}",
                        db.label
                    );
                } else {
                    assert_eq!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{}: {role} may not {access}, yet {method} {uri}: {body}",
                        db.label
                    );
                    assert!(
                        error_message(&body)
                            .starts_with(&format!("this key's role ({role}) may not")),
                        "{body}"
                    );
                }
            }
        }

        // `four_eyes` is the tenant's setting as its admin last put it.
        let (status, _) = w
            .call(
                "PUT",
                "/v1/settings",
                Some("admin"),
                &[],
                Some(json!({ "four_eyes": false })),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (_, caller) = w.call("GET", "/v1/caller", Some("author"), &[], None).await;
        assert_eq!(caller["four_eyes"], false, "{caller}");
        // Another tenant's setting is its own.
        let (_, theirs) = w
            .call("GET", "/v1/caller", Some("other-admin"), &[], None)
            .await;
        assert_eq!(theirs["four_eyes"], true, "{theirs}");
        w.call(
            "PUT",
            "/v1/settings",
            Some("admin"),
            &[],
            Some(json!({ "four_eyes": true })),
        )
        .await;
        let (_, caller) = w
            .call("GET", "/v1/caller", Some("actuary"), &[], None)
            .await;
        assert_eq!(caller["four_eyes"], true, "{caller}");

        let (status, body) = w.call("GET", "/v1/caller", None, &[], None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["error"]["code"], "unauthenticated");
        let (status, _) = w
            .call_with_authorization("GET", "/v1/caller", "Bearer ik_nope")
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_versions_files_are_the_files_stored_byte_for_byte_and_only_to_its_tenants_readers() {
    for db in databases().await {
        let w = world(&db).await;
        let mut body = package(PLAN, |m| {
            m.replace("version = \"1.0.0\"", "version = \"1.1.0\"")
                // Chinese, a tab, a carriage return and an emoji, in a comment.
                .replacen(
                    "\n",
                    "\n# 糖友每月血糖控制返还\t（试行）🩸 — 保留原文\r\n",
                    1,
                )
        });
        let case = std::fs::read_to_string(policies_dir().join(PLAN).join("cases/full-rebate.toml"))
            .unwrap()
            .replace(
                "description = \"fasting in target every morning for 12 days: 30% of the premium back\"",
                "description = \"连续 12 天早晨空腹达标：返还保费的 30%\"",
            );
        assert!(case.contains("连续 12 天"));
        body["files"]["cases/全额返还.toml"] = json!(case);
        let (status, stored) = w
            .call(
                "POST",
                "/v1/policies",
                Some("author"),
                &[],
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{}: {stored}", db.label);
        assert_eq!(stored["version"], "1.1.0");

        let uri = format!("/v1/policies/{PLAN}/versions/1.1.0/files");
        for role in ["author", "actuary", "auditor", "admin"] {
            let (status, files) = w.call("GET", &uri, Some(role), &[], None).await;
            assert_eq!(status, StatusCode::OK, "{}: {role}: {files}", db.label);
            assert_eq!(
                (files["policy_id"].clone(), files["version"].clone()),
                (json!(PLAN), json!("1.1.0"))
            );
            assert_eq!(files["files"], body["files"], "{}: {role}", db.label);
        }
        let (_, files) = w.call("GET", &uri, Some("author"), &[], None).await;
        let manifest = files["files"]["policy.toml"].as_str().unwrap();
        assert!(
            manifest.contains("# 糖友每月血糖控制返还\t（试行）🩸 — 保留原文\r\n"),
            "{manifest}"
        );
        assert!(
            files["files"]["cases/全额返还.toml"]
                .as_str()
                .unwrap()
                .contains("连续 12 天早晨空腹达标")
        );
        assert!(files["files"]["cases/full-rebate.toml"].is_string());

        // The published version was stored without cases: none appear.
        let (status, published) = w
            .call(
                "GET",
                &format!("/v1/policies/{PLAN}/versions/1.0.0/files"),
                Some("auditor"),
                &[],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{published}");
        let names: Vec<&str> = published["files"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            names,
            [
                "locales/en.ftl",
                "locales/zh-CN.ftl",
                "policy.toml",
                "rules.rhai"
            ]
        );

        let (status, missing) = w
            .call(
                "GET",
                &format!("/v1/policies/{PLAN}/versions/9.9.9/files"),
                Some("author"),
                &[],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
        assert_eq!(
            error_message(&missing),
            "policy `tangdaifu-smbg` version 9.9.9 does not exist"
        );
        let (status, _) = w.call("GET", &uri, Some("platform"), &[], None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = w.call("GET", &uri, None, &[], None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // Another tenant's policy, there for its own admin, is not found from here, nor ours
        // from there.
        let (status, _) = w
            .call(
                "POST",
                "/v1/policies",
                Some("other-admin"),
                &[],
                Some(package("hba1c-outcome", str::to_owned)),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let theirs = "/v1/policies/hba1c-outcome/versions/1.0.0/files";
        let (status, files) = w.call("GET", theirs, Some("other-admin"), &[], None).await;
        assert_eq!(status, StatusCode::OK, "{files}");
        assert!(files["files"]["rules.rhai"].is_string());
        let (status, _) = w.call("GET", theirs, Some("admin"), &[], None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = w.call("GET", &uri, Some("other-admin"), &[], None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        w.store.close().await;
        db.cleanup().await;
    }
}

/// full-rebate's record typed out as a trial body's readings.
fn full_rebate_readings() -> Vec<Value> {
    (1..=12)
        .flat_map(|d| {
            [
                json!({ "time": format!("2026-03-{d:02}T07:00:00+08:00"), "glucose_mmol_l": 5.8, "context": "fasting" }),
                json!({ "time": format!("2026-03-{d:02}T09:30:00+08:00"), "glucose_mmol_l": 8.2, "context": "post_meal" }),
            ]
        })
        .collect()
}

#[tokio::test]
async fn a_trial_of_a_case_decides_the_cases_record_under_the_version_named_a_draft_too() {
    for db in databases().await {
        let w = world(&db).await;
        draft(&w, "1.1.0", str::to_owned).await;
        // A draft whose premium is halved: the same case pays half under it.
        draft(&w, "1.2.0", |m| {
            m.replace(
                "value = 100.00, description = \"the member's monthly premium\"",
                "value = 50.00, description = \"the member's monthly premium\"",
            )
        })
        .await;

        // The package's own test run: full-rebate passes (it expects 30.00, qualified).
        let (status, tested) = w
            .call(
                "POST",
                "/v1/policies/test",
                Some("author"),
                &[],
                Some(package(PLAN, str::to_owned)),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{tested}");
        let full = tested["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "cases/full-rebate.toml")
            .unwrap_or_else(|| panic!("{tested}"));
        assert_eq!(full["mismatches"], json!([]), "{full}");

        let mut decisions = Vec::new();
        for case in ["full-rebate", "cases/full-rebate.toml"] {
            let (status, trial) = w
                .call(
                    "POST",
                    "/v1/evaluations/trial?locale=zh-CN",
                    Some("author"),
                    &[],
                    Some(json!({ "policy_id": PLAN, "version": "1.1.0", "case": case })),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{}: {case}: {trial}", db.label);
            assert_eq!(
                (
                    trial["policy_id"].clone(),
                    trial["version"].clone(),
                    trial["period"].clone()
                ),
                (json!(PLAN), json!("1.1.0"), json!("2026-03")),
                "{trial}"
            );
            let d = &trial["decision"];
            assert_eq!(decimal(&d["reward"]), "30.00", "{case}: {d}");
            assert_eq!(d["qualified"], true);
            assert_eq!(d["flags"], json!([]));
            assert_eq!(d["member_id"], "M001", "the case's member: {d}");
            assert_eq!(d["policy_version"], "1.1.0");
            let why: Vec<&str> = trial["shown"]["why"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l.as_str().unwrap())
                .collect();
            assert_eq!(trial["shown"]["locale"], "zh-CN");
            for line in [
                "本月您在 12 天内测量了 24 次，已达到测量要求",
                "12 次空腹读数中有 100% 在 4.4–7.0 mmol/L 目标范围内：返还 ¥100.00 月保费的 30%",
            ] {
                assert!(why.iter().any(|w| w.contains(line)), "{line} in {why:?}");
            }
            decisions.push(d.clone());
        }
        assert_eq!(decisions[0], decisions[1], "a case by name or by file name");

        // The same record typed out decides the same (but for whose record it is).
        let (status, typed) = w
            .call(
                "POST",
                "/v1/evaluations/trial",
                Some("author"),
                &[],
                Some(json!({
                    "policy_id": PLAN, "version": "1.1.0", "period": "2026-03",
                    "readings": full_rebate_readings(),
                })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{typed}");
        for field in [
            "reward",
            "qualified",
            "flags",
            "metrics_used",
            "explanation",
            "policy_hash",
            "premium_adjustment_percent",
        ] {
            assert_eq!(
                typed["decision"][field], decisions[0][field],
                "{}: {field}",
                db.label
            );
        }

        // The draft named decides, not the version in effect: half the premium, half back.
        let (status, halved) = w
            .call(
                "POST",
                "/v1/evaluations/trial",
                Some("actuary"),
                &[],
                Some(json!({ "policy_id": PLAN, "version": "1.2.0", "case": "full-rebate" })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{halved}");
        assert_eq!(halved["version"], "1.2.0");
        assert_eq!(decimal(&halved["decision"]["reward"]), "15.00", "{halved}");

        // A case whose name is not ASCII, by its name.
        let mut body = package(PLAN, |m| {
            m.replace("version = \"1.0.0\"", "version = \"1.3.0\"")
        });
        body["files"]["cases/全额返还.toml"] = body["files"]["cases/full-rebate.toml"].clone();
        let (status, _) = w
            .call("POST", "/v1/policies", Some("author"), &[], Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, chinese) = w
            .call(
                "POST",
                "/v1/evaluations/trial",
                Some("platform"),
                &[],
                Some(json!({ "policy_id": PLAN, "version": "1.3.0", "case": "全额返还" })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{chinese}");
        assert_eq!(decimal(&chinese["decision"]["reward"]), "30.00");

        // An auditor tries no policies.
        let (status, _) = w
            .call(
                "POST",
                "/v1/evaluations/trial",
                Some("auditor"),
                &[],
                Some(json!({ "policy_id": PLAN, "version": "1.1.0", "case": "full-rebate" })),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_trial_of_a_case_refuses_a_record_sent_with_it_and_names_what_is_wrong() {
    for db in databases().await {
        let w = world(&db).await;
        draft(&w, "1.1.0", str::to_owned).await;
        let trial = |extra: Value| {
            let mut body = json!({ "policy_id": PLAN, "version": "1.1.0", "case": "full-rebate" });
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            body
        };
        let call = |body: Value| async {
            w.call(
                "POST",
                "/v1/evaluations/trial",
                Some("author"),
                &[],
                Some(body),
            )
            .await
        };

        for (field, value) in [
            ("period", json!("2026-03")),
            ("member", json!({ "age": 40 })),
            (
                "readings",
                json!([{ "time": "2026-03-02T07:00:00+08:00", "glucose_mmol_l": 5.5, "context": "fasting" }]),
            ),
            (
                "labs",
                json!([{ "time": "2026-03-03T07:00:00+08:00", "hba1c_percent": 6.5 }]),
            ),
            (
                "history",
                json!({ "outcomes": [], "premium_loading_percent": "0", "pool_paid": null }),
            ),
            ("readings_export", json!({ "text": "hello" })),
        ] {
            let (status, refused) = call(trial(json!({ field: value }))).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{}: {field}: {refused}",
                db.label
            );
            assert_eq!(
                error_message(&refused),
                format!(
                    "{field}: a trial of a case takes its record from the case; send `case` or a record, not both"
                ),
                "{refused}"
            );
        }

        // A case belongs to a version: without one, 400 naming `version`.
        let (status, refused) = call(json!({ "policy_id": PLAN, "case": "full-rebate" })).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
        assert!(
            error_message(&refused).starts_with("version: "),
            "{refused}"
        );
        // A record without a case needs its period.
        let (status, refused) = call(json!({
            "policy_id": PLAN, "version": "1.1.0", "readings": full_rebate_readings(),
        }))
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
        assert!(error_message(&refused).starts_with("period: "), "{refused}");

        // An unknown case, and a version without cases (1.0.0 was stored without them).
        let (status, missing) = call(trial(json!({ "case": "no-such-case" }))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
        assert_eq!(
            error_message(&missing),
            "case `no-such-case`: version 1.1.0 of policy `tangdaifu-smbg` has no such case"
        );
        let (status, missing) = call(trial(json!({ "version": "1.0.0" }))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
        assert!(
            error_message(&missing).starts_with("case `full-rebate`: version 1.0.0"),
            "{missing}"
        );
        // An unknown version.
        let (status, missing) = call(trial(json!({ "version": "7.7.7" }))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
        assert!(
            error_message(&missing).contains("version 7.7.7"),
            "{missing}"
        );
        // Another tenant's policy is not found from here.
        let (status, _) = w
            .call(
                "POST",
                "/v1/evaluations/trial",
                Some("other-admin"),
                &[],
                Some(trial(json!({}))),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // A name that climbs out of cases/ names no case: nothing else of the package is read.
        for climbing in ["../policy", "cases/../policy.toml", "../rules.rhai"] {
            let (status, refused) = call(trial(json!({ "case": climbing }))).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{climbing}: {refused}");
            let text = refused.to_string();
            assert!(
                error_message(&refused).starts_with(&format!("case `{climbing}`")),
                "{refused}"
            );
            for leaked in ["monthly_premium", "fn ", "rebate_percent"] {
                assert!(!text.contains(leaked), "{climbing}: {text}");
            }
        }
        // A name with a character a reader cannot see is repeated escaped, so the message
        // reads as it is.
        let (status, refused) = call(trial(json!({ "case": "full\u{202e}rebate" }))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{refused}");
        let message = error_message(&refused);
        assert!(
            message.starts_with("case `full\\u{202e}rebate`") && !message.contains('\u{202e}'),
            "{message}"
        );
        // A version that cannot be one is refused by what it is, not looked up and repeated.
        let (status, refused) = call(trial(json!({ "version": "9".repeat(100_000) }))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{status}");
        assert!(
            error_message(&refused).starts_with("version: `999")
                && refused.to_string().len() < ECHO_BYTES_MAX,
            "{}",
            refused.to_string().get(..300).unwrap_or_default()
        );
        // A very long name is repeated as an excerpt only.
        let long = "x".repeat(100_000);
        let (status, refused) = call(trial(json!({ "case": long }))).await;
        assert!(status.is_client_error(), "{status}");
        let text = refused.to_string();
        assert!(
            text.len() < ECHO_BYTES_MAX,
            "{status}: {} bytes: {}…",
            text.len(),
            text.get(..300).unwrap_or(&text)
        );
        assert!(text.contains("(100000 bytes in all)"), "{text}");
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_author_simulates_a_draft_against_the_published_version_and_reads_both_in_the_summary() {
    for db in databases().await {
        let w = world(&db).await;
        draft(&w, "1.1.0", |m| {
            m.replace(
                "value = 100.00, description = \"the member's monthly premium\"",
                "value = 50.00, description = \"the member's monthly premium\"",
            )
        })
        .await;
        let run = json!({
            "policy_id": PLAN, "version": "1.1.0",
            "compare_policy_id": PLAN, "compare_version": "1.0.0",
            "members": 4, "periods": 2, "replications": 2, "seed": 2015,
        });
        let (status, started) = w
            .call(
                "POST",
                "/v1/simulations",
                Some("author"),
                &[],
                Some(run.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{}: {started}", db.label);
        assert_eq!(
            (
                started["request"]["version"].clone(),
                started["request"]["compare_version"].clone()
            ),
            (json!("1.1.0"), json!("1.0.0")),
            "{started}"
        );
        assert_eq!(started["member_periods_total"], 4 * 2 * 2 * 2);
        let id = started["id"].as_str().unwrap().to_owned();
        let done = w.simulation_finished("author", &id).await;
        assert_eq!(done["status"], "succeeded", "{}: {done}", db.label);

        let (status, summary) = w
            .call(
                "GET",
                &format!("/v1/simulations/{id}/summary"),
                Some("author"),
                &[],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{summary}");
        let plans = summary["plans"].as_array().unwrap();
        assert_eq!(plans.len(), 2, "{summary}");
        assert_eq!(
            (
                plans[0]["plan"]["version"].clone(),
                plans[1]["plan"]["version"].clone()
            ),
            (json!("1.1.0"), json!("1.0.0")),
            "{}",
            db.label
        );
        assert_eq!(plans[0]["plan"]["policy_id"], PLAN);
        assert_ne!(
            plans[0]["plan"]["content_hash"], plans[1]["plan"]["content_hash"],
            "two different versions ran"
        );
        // The author's run is listed to the author, and to no other tenant.
        let (_, list) = w
            .call("GET", "/v1/simulations", Some("author"), &[], None)
            .await;
        assert_eq!(list["simulations"][0]["id"], id.as_str());
        let (status, _) = w
            .call(
                "GET",
                &format!("/v1/simulations/{id}/summary"),
                Some("other-admin"),
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
async fn a_simulation_of_a_version_refuses_a_compare_version_alone_an_unknown_version_and_a_platform_key()
 {
    for db in databases().await {
        let w = world(&db).await;
        let base =
            json!({ "policy_id": PLAN, "members": 4, "periods": 2, "replications": 2, "seed": 1 });
        let with = |extra: Value| {
            let mut body = base.clone();
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            body
        };
        let start = |body: Value| async {
            w.call("POST", "/v1/simulations", Some("author"), &[], Some(body))
                .await
        };

        let (status, refused) = start(with(json!({ "compare_version": "1.0.0" }))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{}: {refused}", db.label);
        assert!(
            error_message(&refused).starts_with("compare_version: "),
            "{refused}"
        );
        assert!(
            error_message(&refused).contains("compare_policy_id"),
            "{refused}"
        );

        // An unknown version, with the first period given or taken from the version.
        for extra in [
            json!({ "version": "7.7.7" }),
            json!({ "version": "7.7.7", "first_period": "2026-01" }),
        ] {
            let (status, missing) = start(with(extra.clone())).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{extra}: {missing}");
            assert!(error_message(&missing).contains("7.7.7"), "{missing}");
        }
        let (status, missing) = start(with(
            json!({ "compare_policy_id": PLAN, "compare_version": "7.7.8" }),
        ))
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
        assert!(error_message(&missing).contains("7.7.8"), "{missing}");
        // Another tenant's version is unknown here.
        let (status, _) = w
            .call(
                "POST",
                "/v1/policies",
                Some("other-admin"),
                &[],
                Some(package(PLAN, |m| {
                    m.replace("version = \"1.0.0\"", "version = \"3.0.0\"")
                })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, _) = start(with(json!({ "version": "3.0.0" }))).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // A version is a short label: a long one is refused by its length, not repeated.
        for extra in [
            json!({ "version": "9".repeat(100_000) }),
            json!({ "version": "9".repeat(100_000), "first_period": "2026-01" }),
        ] {
            let (status, refused) = start(with(extra)).await;
            let text = refused.to_string();
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{}: {}…",
                db.label,
                text.get(..200).unwrap_or(&text)
            );
            let message = error_message(&refused);
            assert!(
                message.starts_with("version: `999")
                    && message.contains("is not a version: 1 to 32 ASCII letters")
                    && message.len() < ECHO_BYTES_MAX,
                "{}…",
                message.get(..300).unwrap_or(message)
            );
        }

        let (status, refused) = w
            .call(
                "POST",
                "/v1/simulations",
                Some("platform"),
                &[],
                Some(with(json!({ "version": "1.0.0" }))),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
        assert!(
            error_message(&refused).starts_with("this key's role (platform) may not"),
            "{refused}"
        );
        w.store.close().await;
        db.cleanup().await;
    }
}

/// A GET of the page with no key: status, headers and the body's bytes.
async fn get_page(w: &World, uri: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let res = w
        .app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, headers, bytes)
}

#[tokio::test]
async fn the_workbench_page_is_served_without_a_key_under_a_strict_content_security_policy() {
    // The page's files are built into the binary: no store is read, one backend will do.
    let db = sqlite_db().await;
    let w = world(&db).await;
    // The files as this build embedded them (the bundle may be rebuilt on disk meanwhile).
    let files: [(&str, &str, &str, &[u8]); 3] = [
        (
            "/workbench/",
            "text/html; charset=utf-8",
            "index.html",
            include_bytes!("../workbench/index.html"),
        ),
        (
            "/workbench/workbench.js",
            "text/javascript; charset=utf-8",
            "dist/workbench.js",
            include_bytes!("../workbench/dist/workbench.js"),
        ),
        (
            "/workbench/workbench.css",
            "text/css; charset=utf-8",
            "workbench.css",
            include_bytes!("../workbench/workbench.css"),
        ),
    ];
    for (uri, content_type, file, built) in files {
        let (status, headers, body) = get_page(&w, uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert_eq!(headers[header::CONTENT_TYPE], content_type, "{uri}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{uri}");
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(
                directives.contains(&directive),
                "{uri}: {directive} in {csp}"
            );
        }
        assert!(!csp.contains("unsafe-eval"), "{csp}");
        assert!(
            body == built,
            "{uri} serves {} bytes, not the {} of {file} as built",
            body.len(),
            built.len()
        );
    }
    let (_, _, html) = get_page(&w, "/workbench/").await;
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains("src=\"workbench.js\""), "{html}");
    assert!(html.contains("href=\"workbench.css\""), "{html}");
    assert!(
        !html.contains("<script>"),
        "no inline script, which script-src 'self' would block: {html}"
    );

    let (status, headers, _) = get_page(&w, "/workbench").await;
    assert_eq!(status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(headers[header::LOCATION], "/workbench/");
    let (status, _, _) = get_page(&w, "/workbench/nothing.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    w.store.close().await;
}
