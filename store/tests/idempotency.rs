//! Idempotency keys on every backend: a retry gets the first answer, another body is told so,
//! a request in flight is not run twice, and a key whose holder died can be taken over.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use incentive_store::{Idempotency, Store, StoreError};
use std::time::Duration;

const LEASE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_key_answers_a_retry_with_the_first_response_and_refuses_another_body() {
    for db in databases().await {
        let store = Store::open(&db.url, options()).await.unwrap();
        let begin = |key: &'static str, hash: &'static str| {
            let store = store.clone();
            async move {
                store
                    .idempotency_begin(TENANT, key, hash, LEASE)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(
            begin("k1", "sha256:a").await,
            Idempotency::Started,
            "{}",
            db.label
        );
        assert_eq!(
            begin("k1", "sha256:a").await,
            Idempotency::InFlight,
            "{}: still being answered",
            db.label
        );
        assert_eq!(
            begin("k1", "sha256:b").await,
            Idempotency::DifferentRequest,
            "{}",
            db.label
        );
        store
            .idempotency_finish(TENANT, "k1", 201, "{\"paid\":true}")
            .await
            .unwrap();
        assert_eq!(
            begin("k1", "sha256:a").await,
            Idempotency::Replay {
                status: 201,
                response: "{\"paid\":true}".into()
            },
            "{}",
            db.label
        );
        assert_eq!(begin("k1", "sha256:b").await, Idempotency::DifferentRequest);
        // Keys are per tenant.
        let other = store
            .idempotency_begin("other-tenant", "k1", "sha256:b", LEASE)
            .await
            .unwrap();
        assert_eq!(other, Idempotency::Started, "{}", db.label);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_key_whose_holder_died_is_taken_over_once_its_lease_runs_out() {
    for db in databases().await {
        let store = Store::open(&db.url, options()).await.unwrap();
        // A lease of nothing: the holder is taken to be gone at once.
        let first = store
            .idempotency_begin(TENANT, "k", "sha256:a", Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(first, Idempotency::Started);
        let retry = store
            .idempotency_begin(TENANT, "k", "sha256:a", LEASE)
            .await
            .unwrap();
        assert_eq!(retry, Idempotency::Started, "{}: taken over", db.label);
        let again = store
            .idempotency_begin(TENANT, "k", "sha256:a", LEASE)
            .await
            .unwrap();
        assert_eq!(
            again,
            Idempotency::InFlight,
            "{}: but only by one",
            db.label
        );
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_key_that_is_empty_too_long_or_unprintable_is_refused_by_name() {
    for db in databases().await {
        let store = Store::open(&db.url, options()).await.unwrap();
        for key in [String::new(), "k".repeat(256), "line\nbreak".into()] {
            let err = store
                .idempotency_begin(TENANT, &key, "sha256:a", LEASE)
                .await
                .unwrap_err();
            assert!(matches!(err, StoreError::BadInput { .. }), "{}", db.label);
            assert_eq!(
                err.to_string(),
                "Idempotency-Key: must be 1 to 255 printable characters"
            );
        }
        store.close().await;
        db.cleanup().await;
    }
}
