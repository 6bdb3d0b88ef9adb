//! The auditor's pages of the ledger, lab results, bulk NDJSON uploads, and every route seen
//! from another tenant — on every backend there is.
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

async fn paid_world(db: &TestDb) -> (World, Value) {
    let w = world(db).await;
    w.call(
        "POST",
        "/v1/members/M1/readings",
        Some("platform"),
        &[],
        Some(readings_body(5)),
    )
    .await;
    let (status, paid) = w
        .call(
            "POST",
            "/v1/payouts",
            Some("platform"),
            &[("idempotency-key", "k1")],
            Some(payout()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{}: {paid}", db.label);
    (w, paid)
}

/// A payout's answer carries the engine's decision as recorded, so a client can check it
/// against `decision_hash` itself (parsed and written again, its keys came back sorted).
#[tokio::test]
async fn a_payouts_answer_holds_the_decision_whose_sha256_is_its_decision_hash() {
    #[derive(serde::Deserialize)]
    struct Answer {
        decision: View,
    }
    #[derive(serde::Deserialize)]
    struct View {
        decision_hash: String,
        decision: Box<serde_json::value::RawValue>,
    }
    for db in databases().await {
        let (w, _) = paid_world(&db).await;
        // The same key and body: the first answer again, from the decision on record.
        let (status, bytes) = w
            .call_for_bytes(
                "POST",
                "/v1/payouts",
                Some("platform"),
                &[("idempotency-key", "k1")],
                Some(payout()),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{}", db.label);
        let answer: Answer = serde_json::from_slice(&bytes).unwrap();
        let recorded = answer.decision.decision.get();
        assert!(
            recorded.starts_with(r#"{"member_id":"M1","#),
            "{}: {recorded}",
            db.label
        );
        assert_eq!(
            incentive_store::ledger::sha256_hex(recorded.as_bytes()),
            answer.decision.decision_hash,
            "{}",
            db.label
        );
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn an_auditor_pages_through_the_chain_to_the_head_verify_reports_and_reads_balances() {
    for db in databases().await {
        let (w, paid) = paid_world(&db).await;
        let mut entries: Vec<Value> = Vec::new();
        let mut after = 0;
        loop {
            let (status, page) = w
                .call(
                    "GET",
                    &format!("/v1/ledger/entries?after={after}&limit=1"),
                    Some("auditor"),
                    &[],
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{}: {page}", db.label);
            entries.extend(page["entries"].as_array().unwrap().iter().cloned());
            match page["next_after"].as_i64() {
                Some(next) => after = next,
                None => break,
            }
        }
        // Publication, then the payout; each entry names the hash of the one before.
        assert_eq!(entries.len(), 2, "{}", db.label);
        assert_eq!(entries[0]["kind"], "policy_published");
        assert_eq!(entries[1]["kind"], "payout");
        assert_eq!(entries[1]["decision_id"], paid["decision"]["id"]);
        assert_eq!(entries[1]["prev_hash"], entries[0]["hash"]);
        let (_, report) = w
            .call("GET", "/v1/ledger/verify", Some("auditor"), &[], None)
            .await;
        assert_eq!(report["tenants"][0]["head_hash"], entries[1]["hash"]);
        let postings = entries[1]["postings"].as_array().unwrap();
        assert!(
            postings
                .iter()
                .any(|p| p["account"] == "member:M1:rewards:tangdaifu-smbg" && p["amount"] == "30"),
            "{}: {postings:?}",
            db.label
        );

        let (status, page) = w
            .call(
                "GET",
                "/v1/ledger/balances?prefix=member:M1:",
                Some("auditor"),
                &[],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {page}", db.label);
        let balances = page["balances"].as_array().unwrap();
        assert!(
            balances
                .iter()
                .all(|b| b["account"].as_str().unwrap().starts_with("member:M1:"))
        );
        assert!(
            balances.iter().any(|b| b["account"] == "member:M1:rewards:tangdaifu-smbg"
                && b["balance"] == "30"),
            "{}: {balances:?}",
            db.label
        );
        // Pages of balances join up to the whole list.
        let (_, all) = w
            .call("GET", "/v1/ledger/balances", Some("auditor"), &[], None)
            .await;
        let (_, first) = w
            .call(
                "GET",
                "/v1/ledger/balances?limit=1",
                Some("auditor"),
                &[],
                None,
            )
            .await;
        let next = first["next_after"].as_str().unwrap();
        let (_, rest) = w
            .call(
                "GET",
                &format!("/v1/ledger/balances?after={next}&limit=1000"),
                Some("auditor"),
                &[],
                None,
            )
            .await;
        let joined: Vec<Value> = first["balances"]
            .as_array()
            .unwrap()
            .iter()
            .chain(rest["balances"].as_array().unwrap())
            .cloned()
            .collect();
        assert_eq!(&joined, all["balances"].as_array().unwrap(), "{}", db.label);

        for (uri, words) in [
            (
                "/v1/ledger/entries?limit=0",
                "limit: must be 1 to 1000, not 0",
            ),
            (
                "/v1/ledger/entries?limit=1001",
                "limit: must be 1 to 1000, not 1001",
            ),
            (
                "/v1/ledger/entries?after=-1",
                "after: must be 0 or more, not -1",
            ),
            (
                "/v1/ledger/entries?after=x",
                "the query string is not valid",
            ),
            ("/v1/ledger/balances?colour=red", "unknown field `colour`"),
        ] {
            let (status, body) = w.call("GET", uri, Some("auditor"), &[], None).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{}: {uri}", db.label);
            let message = body["error"]["message"].as_str().unwrap();
            assert!(message.contains(words), "{uri}: {message}");
        }
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn lab_results_are_counted_accepted_duplicate_or_rejected_with_their_reason() {
    for db in databases().await {
        let w = world(&db).await;
        let body = json!({ "labs": [
            { "time": "2026-03-03T09:00:00+08:00", "hba1c_percent": 6.8 },
            { "time": "2026-03-03T09:00:00+08:00", "hba1c_percent": "6.8" },
            { "time": "2026-03-04T09:00:00+08:00", "hba1c_percent": "high" },
            { "time": "yesterday", "hba1c_percent": 7.1 },
            { "time": "2026-03-05T09:00:00+08:00", "hba1c_percent": 40 },
        ]});
        let (status, answer) = w
            .call(
                "POST",
                "/v1/members/M1/labs",
                Some("platform"),
                &[],
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {answer}", db.label);
        assert_eq!(
            (answer["accepted"].as_u64(), answer["duplicate"].as_u64()),
            (Some(1), Some(1))
        );
        let rejected: Vec<(u64, String)> = answer["rejected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["index"].as_u64().unwrap(),
                    r["reason"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(rejected.len(), 3, "{rejected:?}");
        assert_eq!(rejected[0].0, 2);
        assert!(
            rejected[0]
                .1
                .starts_with("hba1c_percent: `high` is not a number")
        );
        assert_eq!(rejected[1].0, 3);
        assert!(rejected[1].1.starts_with("time:"), "{}", rejected[1].1);
        assert_eq!(rejected[2].0, 4);
        assert!(
            rejected[2].1.starts_with("hba1c_percent:"),
            "{}",
            rejected[2].1
        );

        let (status, body) = w
            .call(
                "POST",
                "/v1/members/M404/labs",
                Some("platform"),
                &[],
                Some(json!({ "labs": [] })),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{}: {body}", db.label);
        let (status, _) = w
            .call(
                "POST",
                "/v1/members/M1/labs",
                Some("auditor"),
                &[],
                Some(json!({ "labs": [] })),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        w.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn an_ndjson_upload_keeps_good_lines_and_names_each_bad_one_by_line() {
    for db in databases().await {
        let w = world(&db).await;
        w.call(
            "PUT",
            "/v1/members/M2",
            Some("platform"),
            &[],
            Some(json!({})),
        )
        .await;
        let lines = [
            r#"{"member_id":"M1","time":"2026-03-01T07:00:00+08:00","glucose_mmol_l":5.6,"context":"fasting","source":"smbg"}"#,
            r#"{"member_id":"M2","time":"2026-03-01T07:05:00+08:00","glucose_mg_dl":101}"#,
            "",
            r#"{"member_id":"M1","time":"2026-03-01T07:00:00+08:00","glucose_mmol_l":5.6,"context":"fasting","source":"smbg"}"#,
            r#"{"member_id":"M1","time":"2026-03-02T07:00:00+08:00"}"#,
            r#"{"member_id":"M1","time":"2026-03-02T07:00:00+08:00","glucose_mg_dl":101,"colour":"red"}"#,
            "not json",
            r#"{"member_id":"M9","time":"2026-03-02T07:00:00+08:00","glucose_mg_dl":99}"#,
        ]
        .join("\n");
        let (status, answer) = w
            .call_raw(
                "POST",
                "/v1/readings",
                "platform",
                "application/x-ndjson",
                lines,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {answer}", db.label);
        assert_eq!(answer["rows"], 7, "{answer}");
        assert_eq!(answer["accepted"], 2, "{answer}");
        assert_eq!(answer["duplicate"], 1, "{answer}");
        assert_eq!(answer["rejected"], 4, "{answer}");
        let reasons: Vec<(u64, String)> = answer["rejections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["index"].as_u64().unwrap(),
                    r["reason"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            reasons.iter().map(|r| r.0).collect::<Vec<_>>(),
            vec![5, 6, 7, 0],
            "{reasons:?}"
        );
        assert!(
            reasons[0]
                .1
                .contains("give exactly one of glucose_mg_dl and glucose_mmol_l")
        );
        assert!(
            reasons[1].1.contains("unknown field `colour`"),
            "{}",
            reasons[1].1
        );
        assert!(reasons[2].1.starts_with("line 7: not a reading"));
        assert_eq!(
            reasons[3].1,
            "member `M9` is not enrolled: its 1 readings were not stored"
        );
        w.store.close().await;
        db.cleanup().await;
    }
}

/// Every route, asked by another tenant's admin with this tenant's names in it: nothing of
/// this tenant comes back, and nothing of it changes.
#[tokio::test]
async fn another_tenant_sees_and_changes_nothing_of_this_one_on_any_route() {
    for db in databases().await {
        let (w, paid) = paid_world(&db).await;
        let decision = paid["decision"]["id"].as_str().unwrap().to_owned();
        // What the caller did not send and must not learn: the tenant's name, the decision's
        // hashes (its id the caller sent, and may see echoed in "does not exist").
        let secret_bits = [
            TENANT.to_owned(),
            paid["decision"]["decision_hash"]
                .as_str()
                .unwrap()
                .to_owned(),
            paid["decision"]["input_hash"].as_str().unwrap().to_owned(),
        ];
        // And a simulation of this tenant's, finished, for the simulation routes to be asked of.
        w.store
            .create_simulation(&incentive_store::NewSimulation {
                id: "sim_probe",
                tenant: TENANT,
                request: "{}",
                member_periods_total: 1,
                runner: "test",
            })
            .await
            .unwrap();
        w.store
            .simulation_finished("sim_probe", Ok(("{\"secret\": 1}", "<html>secret</html>")))
            .await
            .unwrap();
        let before = w.store.verify(Some(TENANT), &[]).await.unwrap();
        let doc = incentive_api::openapi();
        let mut routes = 0;
        for (template, item) in &doc.paths.paths {
            let uri = template
                .replace("{member_id}", "M1")
                .replace("{decision_id}", &decision)
                .replace("{policy_id}", PLAN)
                .replace("{version}", "1")
                .replace("{simulation_id}", "sim_probe");
            for (method, op) in [
                ("GET", &item.get),
                ("POST", &item.post),
                ("PUT", &item.put),
                ("DELETE", &item.delete),
            ] {
                if op.is_none() {
                    continue;
                }
                routes += 1;
                let body = match template.as_str() {
                    "/v1/payouts" => Some(payout()),
                    "/v1/evaluations" => Some(payout()),
                    "/v1/decisions/{decision_id}/reversal" => Some(json!({ "reason": "probe" })),
                    _ => Some(json!({})),
                };
                let (status, answer) = w
                    .call(
                        method,
                        &uri,
                        Some("other-admin"),
                        &[("idempotency-key", "probe")],
                        body,
                    )
                    .await;
                assert!(
                    !status.is_server_error(),
                    "{}: {method} {uri}: {answer}",
                    db.label
                );
                assert!(
                    !answer.to_string().contains("secret"),
                    "{}: {method} {uri} served this tenant's simulation to another: {answer}",
                    db.label
                );
                let text = answer.to_string();
                for bit in &secret_bits {
                    assert!(
                        !text.contains(bit.as_str()) || template == "/v1/openapi.json",
                        "{}: {method} {uri} told another tenant `{bit}`: {text}",
                        db.label
                    );
                }
            }
        }
        assert!(routes >= 31, "{routes} routes tried");
        let after = w.store.verify(Some(TENANT), &[]).await.unwrap();
        assert_eq!(
            serde_json::to_value(&before).unwrap(),
            serde_json::to_value(&after).unwrap(),
            "{}: this tenant's ledger is untouched",
            db.label
        );
        assert_eq!(
            w.store.decisions(TENANT, Some("M1")).await.unwrap().len(),
            1,
            "{}",
            db.label
        );
        w.store.close().await;
        db.cleanup().await;
    }
}
