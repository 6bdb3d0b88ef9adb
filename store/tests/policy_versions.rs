//! Policy versions in the store, on every backend: a draft is checked and may change, a
//! published version never does, versions of one policy never overlap, and the one in effect
//! is found by date.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use incentive_store::{PolicyStatus, Store, StoreError};

fn version(manifest: &str, version: &str, from: &str, to: &str) -> String {
    manifest
        .replace("version = \"1.0.0\"", &format!("version = \"{version}\""))
        .replace(
            "effective_from = 2026-01-01",
            &format!("effective_from = {from}"),
        )
        .replace("effective_to = 2026-12-31", &format!("effective_to = {to}"))
}

#[tokio::test]
async fn a_package_with_errors_is_refused_with_every_diagnostic() {
    for db in databases().await {
        let store = Store::open(&db.url, options()).await.unwrap();
        store.create_tenant(TENANT).await.unwrap();
        let bad = policy_with(PLAN, |m| {
            m.replace("currency = \"CNY\"", "curency = \"CNY\"")
                .replace("period = \"monthly\"", "period = \"weekly\"")
        });
        match store.put_policy(TENANT, &bad).await.unwrap_err() {
            StoreError::PolicyInvalid { diagnostics, .. } => {
                let text = diagnostics.to_string();
                assert!(
                    text.contains("unknown field `curency`"),
                    "{}: {text}",
                    db.label
                );
                assert!(
                    text.contains("period `weekly` must be monthly, quarterly or annual"),
                    "{text}"
                );
            }
            other => panic!("{}: {other}", db.label),
        }
        assert!(
            store.policies(TENANT).await.unwrap().is_empty(),
            "nothing half-written"
        );
        let err = store.put_policy("nobody", &policy(PLAN)).await.unwrap_err();
        assert_eq!(err.to_string(), "tenant `nobody` does not exist");
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_draft_may_be_replaced_but_a_published_version_never() {
    for db in databases().await {
        let store = Store::open(&db.url, options()).await.unwrap();
        store.create_tenant(TENANT).await.unwrap();
        let first = store.put_policy(TENANT, &policy(PLAN)).await.unwrap();
        let edited = policy_with(PLAN, |m| {
            m.replace("per_period = 30.00", "per_period = 25.00")
        });
        let second = store.put_policy(TENANT, &edited).await.unwrap();
        assert_ne!(first.content_hash, second.content_hash, "{}", db.label);
        assert_eq!(
            store.policy_versions(TENANT, PLAN).await.unwrap().len(),
            1,
            "the draft was replaced"
        );

        store.publish_policy(TENANT, PLAN, "1.0.0").await.unwrap();
        let err = store.put_policy(TENANT, &policy(PLAN)).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "policy `tangdaifu-smbg` version 1.0.0 already exists and is published",
            "{}",
            db.label
        );
        let err = store
            .publish_policy(TENANT, PLAN, "1.0.0")
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "policy `tangdaifu-smbg` version 1.0.0 is published; only a draft version can be published"
        );
        let err = store
            .publish_policy(TENANT, PLAN, "9.9.9")
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "policy `tangdaifu-smbg` version 9.9.9 does not exist"
        );
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn published_versions_may_not_overlap_and_the_one_in_effect_is_found_by_date() {
    for db in databases().await {
        let store = Store::open(&db.url, options()).await.unwrap();
        store.create_tenant(TENANT).await.unwrap();
        let v1 = policy_with(PLAN, |m| version(m, "1.0.0", "2026-01-01", "2026-06-30"));
        let v2 = policy_with(PLAN, |m| version(m, "2.0.0", "2026-07-01", "2026-12-31"));
        let clash = policy_with(PLAN, |m| version(m, "2.1.0", "2026-06-01", "2026-09-30"));
        for source in [&v1, &v2, &clash] {
            store.put_policy(TENANT, source).await.unwrap();
        }
        store.publish_policy(TENANT, PLAN, "1.0.0").await.unwrap();
        store.publish_policy(TENANT, PLAN, "2.0.0").await.unwrap();
        let err = store
            .publish_policy(TENANT, PLAN, "2.1.0")
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "policy `tangdaifu-smbg` version 2.1.0 would be in effect 2026-06-01 to 2026-09-30, overlapping published version 1.0.0",
            "{}",
            db.label
        );

        let m = enrol(&store, "M1").await;
        let mut june = request(&m);
        june.period = incentive_engine::Period::parse("2026-06").unwrap();
        let mut july = request(&m);
        july.period = incentive_engine::Period::parse("2026-07").unwrap();
        assert_eq!(
            store.pay(june).await.unwrap().decision.policy_version,
            "1.0.0",
            "{}",
            db.label
        );
        assert_eq!(
            store
                .pay(july.clone())
                .await
                .unwrap()
                .decision
                .policy_version,
            "2.0.0"
        );

        // Retired: on record, no longer in effect; retiring again is refused.
        store.retire_policy(TENANT, PLAN, "2.0.0").await.unwrap();
        let mut august = july;
        august.period = incentive_engine::Period::parse("2026-08").unwrap();
        let err = store.pay(august).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "no published version of policy `tangdaifu-smbg` is in effect in 2026-08"
        );
        let err = store
            .retire_policy(TENANT, PLAN, "2.0.0")
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "policy `tangdaifu-smbg` version 2.0.0 is retired; only a published version can be retired",
            "{}",
            db.label
        );
        let statuses: Vec<PolicyStatus> = store
            .policy_versions(TENANT, PLAN)
            .await
            .unwrap()
            .iter()
            .map(|v| v.status)
            .collect();
        // Oldest effective date first: 1.0.0 (January), 2.1.0 (June, a draft), 2.0.0 (July).
        assert_eq!(
            statuses,
            [
                PolicyStatus::Published,
                PolicyStatus::Draft,
                PolicyStatus::Retired
            ]
        );
        assert!(store.verify(None, &[]).await.unwrap().ok(), "{}", db.label);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn readings_for_a_member_not_enrolled_are_refused_and_duplicates_counted() {
    for db in databases().await {
        let store = store_with_plan(&db, str::to_owned).await;
        let err = store
            .add_readings(TENANT, &member("GHOST"), controlled_march(2))
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "member `GHOST` is not enrolled with `zhongan`",
            "{}",
            db.label
        );
        let m = enrol(&store, "M1").await;
        let first = store
            .add_readings(TENANT, &m, controlled_march(3))
            .await
            .unwrap();
        let again = store
            .add_readings(TENANT, &m, controlled_march(4))
            .await
            .unwrap();
        assert_eq!((first.accepted, first.duplicate), (6, 0), "{}", db.label);
        assert_eq!((again.accepted, again.duplicate), (2, 6), "{}", db.label);
        store.close().await;
        db.cleanup().await;
    }
}

/// Compiled versions are kept up to `compiled_policies_max` (so drafts stored again and again
/// cannot fill memory); past it the cache starts again, and a version it let go is compiled
/// again, the same, when asked for.
#[tokio::test]
async fn compiled_versions_are_kept_up_to_their_limit_and_compiled_again_after() {
    let db = sqlite_db().await;
    let store = Store::open(
        &db.url,
        incentive_store::StoreOptions {
            compiled_policies_max: 2,
            ..options()
        },
    )
    .await
    .unwrap();
    store.create_tenant(TENANT).await.unwrap();
    let mut hashes = Vec::new();
    for version in ["1.0.1", "1.0.2", "1.0.3"] {
        let source = policy_with(PLAN, |m| {
            m.replace("version = \"1.0.0\"", &format!("version = \"{version}\""))
        });
        store.put_policy(TENANT, &source).await.unwrap();
        let compiled = store
            .policy_version_compiled(TENANT, PLAN, version)
            .await
            .unwrap();
        hashes.push(compiled.content_hash.clone());
        assert!(
            store.compiled_policies() <= 2,
            "{}",
            store.compiled_policies()
        );
    }
    let again = store
        .policy_version_compiled(TENANT, PLAN, "1.0.1")
        .await
        .unwrap();
    assert_eq!(again.content_hash, hashes[0]);
    assert!(store.compiled_policies() <= 2);
    store.close().await;
    db.cleanup().await;
}
