//! The auditor's tools on every backend: replay from stored inputs, erasure that leaves the
//! ledger verifying, and the CSV export.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use incentive_engine::{Context, Glucose, GlucoseValue};
use incentive_store::Replay;

#[tokio::test]
async fn every_decision_replays_to_the_same_bytes_from_what_it_stored() {
    for db in databases().await {
        let store = store_with_plan(&db, str::to_owned).await;
        for (i, id) in ["M1", "M2"].into_iter().enumerate() {
            let m = enrol(&store, id).await;
            store
                .add_readings(TENANT, &m, controlled_march(4 + u32::try_from(i).unwrap()))
                .await
                .unwrap();
            store.pay(request(&m)).await.unwrap();
        }
        // A true-up, whose history and data differ from the first decision's.
        let m = member("M1");
        store
            .add_readings(TENANT, &m, (20..=25).map(|d| fasting(d, 11.0)))
            .await
            .unwrap();
        store.pay(request(&m)).await.unwrap();

        let decisions = store.decisions(TENANT, None).await.unwrap();
        assert_eq!(decisions.len(), 3, "{}", db.label);
        for d in &decisions {
            let replay = store.replay(d).await.unwrap();
            assert!(replay.is_identical(), "{}: {replay:?}", db.label);
        }
        store.close().await;
        db.cleanup().await;
    }
}

/// A meter that reports mmol/L gives mg/dL values such as 5.3 × 18 = 95.39999999999999, which
/// take seventeen digits to write; read back by serde_json's default parser it became 95.4,
/// one unit in the last place off, and every such decision's input hash replayed different.
#[tokio::test]
async fn a_decision_on_glucose_values_of_seventeen_digits_replays_to_the_same_bytes() {
    let long: [f64; 3] = [95.39999999999999, 145.79999999999998, 151.20000000000002];
    for v in long {
        let text = serde_json::to_string(&v).unwrap();
        assert_eq!(
            serde_json::from_str::<f64>(&text).unwrap().to_bits(),
            v.to_bits(),
            "{text}"
        );
    }
    for db in databases().await {
        let store = store_with_plan(&db, str::to_owned).await;
        let m = enrol(&store, "M1").await;
        let readings = (1..=12).flat_map(|d| {
            long.iter().enumerate().map(move |(i, v)| {
                let mut r = at(d, 7 + 3 * u32::try_from(i).unwrap(), 5.0, Context::Fasting);
                r.value = GlucoseValue::Measured(Glucose::from_mg_dl(*v).unwrap());
                r
            })
        });
        store.add_readings(TENANT, &m, readings).await.unwrap();
        let paid = store.pay(request(&m)).await.unwrap();
        let replay = store.replay(&paid.decision).await.unwrap();
        assert!(replay.is_identical(), "{}: {replay:?}", db.label);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn replay_shows_a_decision_that_does_not_follow_from_its_inputs() {
    for db in databases().await {
        let store = store_with_plan(&db, str::to_owned).await;
        let paid = paid(&store, "M1", 5).await;
        drop_the_guards(&db).await;
        raw(&db, "UPDATE decisions SET body = replace(body, '\"reward\":\"30.00\"', '\"reward\":\"300.00\"')").await.unwrap();
        let altered = store.decision(TENANT, &paid.id).await.unwrap();
        match store.replay(&altered).await.unwrap() {
            Replay::Differs {
                recorded, replayed, ..
            } => {
                assert!(recorded.contains("\"reward\":\"300.00\""), "{}", db.label);
                assert_eq!(replayed, paid.body);
            }
            other => panic!("{}: {other:?}", db.label),
        }
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn erasing_a_members_readings_keeps_the_ledger_verifying_and_replay_says_so() {
    for db in databases().await {
        let store = store_with_plan(&db, str::to_owned).await;
        let m = member("M1");
        let paid = paid(&store, "M1", 5).await;
        let before = store.checkpoint(None).await.unwrap();

        let erased = store.erase_member_data(TENANT, "M1").await.unwrap();
        assert_eq!((erased.readings, erased.decisions), (10, 1), "{}", db.label);

        let report = store.verify(None, &before).await.unwrap();
        assert!(report.ok(), "{}: {report:?}", db.label);
        let d = store.decision(TENANT, &paid.id).await.unwrap();
        assert_eq!(
            d.input_hash, paid.input_hash,
            "the decision keeps its input hash"
        );
        assert!(
            d.body.contains("\"metrics_used\""),
            "and the metrics it used"
        );
        match store.replay(&d).await.unwrap() {
            Replay::InputsErased { erased_at, .. } => assert!(erased_at.starts_with("2026-04-01T")),
            other => panic!("{}: {other:?}", db.label),
        }
        // Asking for the period again does not pay twice: there is nothing new to decide on.
        let again = store.pay(request(&m)).await.unwrap();
        assert_eq!(again.decision.reward, paid.reward, "{}", db.label);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_csv_export_has_a_row_per_posting_in_chain_order() {
    for db in databases().await {
        let store = store_with_plan(&db, str::to_owned).await;
        let m = enrol(&store, "M1").await;
        store
            .add_readings(TENANT, &m, controlled_march(5))
            .await
            .unwrap();
        store.pay(request(&m)).await.unwrap();
        let mut out = Vec::new();
        let rows = store.export_csv(None, &mut out).await.unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            rows, 4,
            "{}: two postings funding the pool, two paying M1\n{text}",
            db.label
        );
        assert!(lines[0].starts_with("tenant,seq,created_at,kind,"));
        assert!(
            lines[1].contains(",policy_published,")
                && lines[1].contains(",budget:tangdaifu-smbg@1.0.0,CNY,-200000000,"),
            "{}",
            lines[1]
        );
        assert!(
            lines[4].contains(",payout,")
                && lines[4].contains(",member:M1:rewards:tangdaifu-smbg,CNY,30,"),
            "{}",
            lines[4]
        );
        store.close().await;
        db.cleanup().await;
    }
}
