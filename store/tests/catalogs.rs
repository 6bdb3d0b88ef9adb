//! A policy's catalogs on every backend: stored with its files, outside its content hash, and
//! a draft stored again with a corrected translation is shown with it at once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use incentive_engine::policy::SourceFile;
use incentive_store::Store;

#[tokio::test]
async fn a_draft_stored_again_with_a_corrected_translation_is_shown_with_it() {
    for db in databases().await {
        let store = Store::open(&db.url, options()).await.unwrap();
        store.create_tenant(TENANT).await.unwrap();
        let mut source = policy(PLAN);
        let first = store.put_policy(TENANT, &source).await.unwrap();
        let name = |store: &Store| {
            let store = store.clone();
            async move {
                let p = store
                    .policy_version_compiled(TENANT, PLAN, "1.0.0")
                    .await
                    .unwrap();
                let zh = p.catalogs.negotiate(&["zh-CN"]);
                (
                    p.content_hash.clone(),
                    p.catalogs.line(
                        zh,
                        &incentive_engine::policy::Line::Message(
                            incentive_engine::policy::Message::named("policy-name".into()),
                        ),
                    ),
                )
            }
        };
        let (hash, before) = name(&store).await;
        assert_eq!(before, "糖大夫月度控糖保费返还", "{}", db.label);
        let zh = source
            .files
            .iter_mut()
            .find(|f| f.name == "locales/zh-CN.ftl")
            .unwrap();
        *zh = SourceFile::new(
            "locales/zh-CN.ftl",
            zh.text
                .replace("糖大夫月度控糖保费返还", "糖大夫每月控糖返还"),
        );
        let again = store.put_policy(TENANT, &source).await.unwrap();
        assert_eq!(
            again.content_hash, first.content_hash,
            "a translation is outside the hash"
        );
        let (hash_after, after) = name(&store).await;
        assert_eq!(hash_after, hash);
        assert_eq!(after, "糖大夫每月控糖返还", "{}", db.label);
        store.close().await;
        db.cleanup().await;
    }
}
