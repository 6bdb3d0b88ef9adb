//! Reversals on every backend: they undo one decision's postings with new ones that point at
//! them, once, with a reason, and `verify` holds them to that.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use incentive_store::{PayoutKind, StoreError};
use rust_decimal::Decimal;

#[tokio::test]
async fn a_reversal_posts_the_opposite_of_the_decision_and_the_pool_gets_its_money_back() {
    for db in databases().await {
        let store = store_with_plan(&db, |m| {
            m.replace("pool_budget = 200000000.00", "pool_budget = 1000.00")
        })
        .await;
        let m = member("M1");
        let paid = paid(&store, "M1", 5).await;

        let r = store
            .reverse(
                TENANT,
                &paid.id,
                "meter shared with a relative",
                "auditor key_1",
            )
            .await
            .unwrap();
        assert_eq!(
            (r.reverses, r.ledger_seq),
            (paid.ledger_seq, paid.ledger_seq + 1),
            "{}",
            db.label
        );
        assert_eq!(r.reward_reversed, Decimal::new(30, 0));
        let report = store.verify(None, &[]).await.unwrap();
        assert!(report.ok(), "{}: {report:?}", db.label);

        let mut csv = Vec::new();
        store.export_csv(None, &mut csv).await.unwrap();
        let csv = String::from_utf8(csv).unwrap();
        let reversal: Vec<&str> = csv.lines().filter(|l| l.contains(",reversal,")).collect();
        assert_eq!(reversal.len(), 2, "{csv}");
        assert!(
            reversal[0].contains(",pool:tangdaifu-smbg@1.0.0,CNY,30,"),
            "{}",
            reversal[0]
        );
        assert!(
            reversal[0].contains("at the request of auditor key_1: meter shared with a relative")
        );

        // The same data again: the decision stands reversed and nothing more is paid.
        let again = store.pay(request(&m)).await.unwrap();
        assert_eq!(again.kind, PayoutKind::AlreadyDecided, "{}", db.label);
        // New data: decided afresh, and the whole new reward is posted, since none stands.
        store
            .add_readings(TENANT, &m, (20..=25).map(|d| fasting(d, 5.5)))
            .await
            .unwrap();
        let trued = store.pay(request(&m)).await.unwrap();
        assert_eq!(trued.kind, PayoutKind::TrueUp, "{}", db.label);
        assert_eq!(trued.decision.reward_posted, trued.decision.reward);
        assert!(store.verify(None, &[]).await.unwrap().ok(), "{}", db.label);
        for d in store.decisions(TENANT, None).await.unwrap() {
            assert!(
                store.replay(&d).await.unwrap().is_identical(),
                "{}",
                db.label
            );
        }
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_decision_is_reversed_once_and_only_with_a_reason() {
    for db in databases().await {
        let store = store_with_plan(&db, str::to_owned).await;
        let paid = paid(&store, "M1", 5).await;

        let err = store
            .reverse(TENANT, &paid.id, "  ", "auditor")
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "reason: a reversal needs a reason of 1 to 1000 characters",
            "{}",
            db.label
        );
        let too_long = "x".repeat(1_001);
        let err = store
            .reverse(TENANT, &paid.id, &too_long, "auditor")
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "reason: a reversal needs a reason of 1 to 1000 characters"
        );
        let err = store
            .reverse(TENANT, "dec_missing", "typo", "auditor")
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "decision `dec_missing` does not exist");
        let err = store
            .reverse("elsewhere", &paid.id, "typo", "auditor")
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "tenant `elsewhere` does not exist");

        store
            .reverse(TENANT, &paid.id, "duplicate account", "auditor")
            .await
            .unwrap();
        let err = store
            .reverse(TENANT, &paid.id, "again", "auditor")
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::AlreadyReversed { seq: 3, .. }),
            "{}: {err}",
            db.label
        );
        assert_eq!(store.verify(None, &[]).await.unwrap().tenants[0].entries, 3);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn verify_sees_a_reversal_removed_from_the_record_behind_the_ledgers_back() {
    for db in databases().await {
        let store = store_with_plan(&db, str::to_owned).await;
        let paid = paid(&store, "M1", 5).await;
        store
            .reverse(TENANT, &paid.id, "duplicate account", "auditor")
            .await
            .unwrap();
        drop_the_guards(&db).await;
        if db.is_postgres() {
            raw(&db, "ALTER TABLE reversals DISABLE TRIGGER USER")
                .await
                .unwrap();
        } else {
            raw(&db, "DROP TRIGGER reversals_append_only_delete")
                .await
                .unwrap();
        }
        raw(&db, "DELETE FROM reversals").await.unwrap();
        let report = store.verify(None, &[]).await.unwrap();
        let problem = report.tenants[0]
            .problem
            .clone()
            .expect("verify must notice");
        assert_eq!(problem.seq, Some(3), "{}", db.label);
        assert!(
            problem
                .message
                .contains("the reversal on record does not match it"),
            "{}",
            problem.message
        );
        store.close().await;
        db.cleanup().await;
    }
}
