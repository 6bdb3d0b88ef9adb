//! Idempotency keys on every backend, recorded in the payout's own transaction: a retry gets
//! the first answer, another body is told so, many requests with one key — in one group, or
//! from two processes — pay once, and an error answer is kept by whoever got there first.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use incentive_store::{IdempotencyKey, Keyed, KeyedPayout, PayoutKind, Store, StoreError};

fn keyed(key: &str, hash: &str) -> Keyed {
    Keyed {
        key: IdempotencyKey::parse(key).unwrap(),
        request_hash: hash.into(),
    }
}

/// A store with the plan and member M1, whose March readings qualify.
async fn member_with_march(db: &TestDb) -> (Store, incentive_engine::MemberId) {
    let store = store_with_plan(db, str::to_owned).await;
    let m = enrol(&store, "M1").await;
    store
        .add_readings(TENANT, &m, controlled_march(20))
        .await
        .unwrap();
    (store, m)
}

#[tokio::test]
async fn a_key_is_written_with_its_payout_and_a_retry_replays_the_decision_it_names() {
    for db in databases().await {
        let (store, m) = member_with_march(&db).await;

        let first = store
            .pay_keyed(request(&m), keyed("k1", "sha256:a"))
            .await
            .unwrap();
        let KeyedPayout::Decided(paid) = first else {
            panic!("{}: {first:?}", db.label)
        };
        assert_eq!(paid.kind, PayoutKind::Paid);

        let again = store
            .pay_keyed(request(&m), keyed("k1", "sha256:a"))
            .await
            .unwrap();
        assert_eq!(again, KeyedPayout::Replayed(paid.clone()), "{}", db.label);
        let other = store
            .pay_keyed(request(&m), keyed("k1", "sha256:b"))
            .await
            .unwrap();
        assert_eq!(other, KeyedPayout::DifferentRequest, "{}", db.label);

        // Late readings and the same key: still the first answer, no true-up under it.
        store
            .add_readings(TENANT, &m, vec![fasting(25, 5.5)])
            .await
            .unwrap();
        let late = store
            .pay_keyed(request(&m), keyed("k1", "sha256:a"))
            .await
            .unwrap();
        assert_eq!(late, KeyedPayout::Replayed(paid.clone()), "{}", db.label);
        // A new key asks afresh: the true-up.
        let fresh = store
            .pay_keyed(request(&m), keyed("k2", "sha256:a"))
            .await
            .unwrap();
        assert!(
            matches!(&fresh, KeyedPayout::Decided(o) if o.kind == PayoutKind::TrueUp),
            "{}: {fresh:?}",
            db.label
        );
        assert_eq!(
            store
                .idempotency_answer(TENANT, &keyed("k1", "sha256:a"))
                .await
                .unwrap(),
            Some(KeyedPayout::Replayed(paid)),
            "{}: read outside a group, the same",
            db.label
        );
        assert_eq!(
            store
                .idempotency_answer("other", &keyed("k1", "sha256:a"))
                .await
                .unwrap(),
            None,
            "{}: keys are per tenant",
            db.label
        );
        store.close().await;
        db.cleanup().await;
    }
}

/// SQLite reads a list of keys as one JSON array: keys with the characters JSON escapes are
/// each found as written, and one is not taken for another.
#[tokio::test]
async fn keys_with_quotes_backslashes_and_other_scripts_are_each_found_as_written() {
    for db in databases().await {
        let (store, m) = member_with_march(&db).await;
        let odd = r#"k"1\","x"]键/é"#;
        let first = store
            .pay_keyed(request(&m), keyed(odd, "sha256:a"))
            .await
            .unwrap();
        let KeyedPayout::Decided(paid) = first else {
            panic!("{}: {first:?}", db.label)
        };
        for (hash, want) in [
            ("sha256:a", KeyedPayout::Replayed(paid.clone())),
            ("sha256:b", KeyedPayout::DifferentRequest),
        ] {
            let got = store
                .pay_keyed(request(&m), keyed(odd, hash))
                .await
                .unwrap();
            assert_eq!(got, want, "{}: key {odd}", db.label);
        }
        // Keys that differ from it only in what JSON escapes are other keys.
        for other in [r#"k"1"#, r#"k1\","x"]键/é"#, "x"] {
            let got = store
                .pay_keyed(request(&m), keyed(other, "sha256:a"))
                .await
                .unwrap();
            assert!(
                matches!(&got, KeyedPayout::Decided(_)),
                "{}: key {other} answered {got:?}",
                db.label
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_requests_with_one_key_from_two_processes_pay_once_and_all_get_that_decision() {
    for db in databases().await {
        let a = store_with_plan(&db, str::to_owned).await;
        let b = Store::open(&db.url, options()).await.unwrap();
        let m = enrol(&a, "M1").await;
        a.add_readings(TENANT, &m, controlled_march(20))
            .await
            .unwrap();
        let mut calls = Vec::new();
        for i in 0..40 {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let m = m.clone();
            calls.push(tokio::spawn(async move {
                store
                    .pay_keyed(request(&m), keyed("once", "sha256:a"))
                    .await
                    .unwrap()
            }));
        }
        let mut decided = 0;
        let mut ids = std::collections::BTreeSet::new();
        for call in calls {
            match call.await.unwrap() {
                KeyedPayout::Decided(o) => {
                    decided += 1;
                    ids.insert(o.decision.id);
                }
                KeyedPayout::Replayed(o) => {
                    ids.insert(o.decision.id);
                }
                other => panic!("{}: {other:?}", db.label),
            }
        }
        assert_eq!(decided, 1, "{}: one request decided", db.label);
        assert_eq!(
            ids.len(),
            1,
            "{}: every answer names one decision",
            db.label
        );
        assert_eq!(a.decisions(TENANT, Some("M1")).await.unwrap().len(), 1);
        assert!(a.verify(None, &[]).await.unwrap().ok(), "{}", db.label);
        b.close().await;
        a.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn an_error_answer_is_kept_by_whichever_request_recorded_it_first() {
    for db in databases().await {
        let store = store_with_plan(&db, str::to_owned).await;
        let k = keyed("k-err", "sha256:a");
        let first = store
            .idempotency_record_error(TENANT, &k, 404, "{\"first\":true}")
            .await
            .unwrap();
        assert_eq!(first, None, "{}: recorded", db.label);
        let second = store
            .idempotency_record_error(TENANT, &k, 422, "{\"second\":true}")
            .await
            .unwrap();
        let first_answer = KeyedPayout::ReplayedError {
            status: 404,
            response: "{\"first\":true}".into(),
        };
        assert_eq!(second, Some(first_answer.clone()), "{}", db.label);

        // And a payout asked with that key replays the error, even once it could be paid.
        let m = enrol(&store, "M1").await;
        store
            .add_readings(TENANT, &m, controlled_march(20))
            .await
            .unwrap();
        let answer = store.pay_keyed(request(&m), k).await.unwrap();
        assert_eq!(answer, first_answer, "{}", db.label);
        assert!(
            store
                .decisions(TENANT, Some("M1"))
                .await
                .unwrap()
                .is_empty()
        );
        store.close().await;
        db.cleanup().await;
    }
}

#[test]
fn a_key_that_is_empty_too_long_or_unprintable_is_refused_by_name() {
    for key in [String::new(), "k".repeat(256)] {
        let err = IdempotencyKey::parse(&key).unwrap_err();
        assert!(matches!(err, StoreError::BadInput { .. }));
        assert_eq!(
            err.to_string(),
            "Idempotency-Key: must be 1 to 255 printable characters"
        );
    }
    for (key, named) in [("line\nbreak", "U+000A"), ("k\u{202E}1", "U+202E")] {
        let err = IdempotencyKey::parse(key).unwrap_err();
        assert!(matches!(err, StoreError::BadInput { .. }));
        assert_eq!(
            err.to_string(),
            format!(
                "Idempotency-Key: contains {named}, a character a reader cannot see; use printable characters only"
            )
        );
    }
    assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
}
