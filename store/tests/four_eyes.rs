//! Four-eyes publishing, on every backend: a draft is approved only by a key of another holder
//! than the one whose key stored it, an approval stands for the files it saw (a change voids
//! it), and publishing the way the API does needs one that stands unless the tenant turned
//! four eyes off.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use incentive_store::tenants::{Caller, Role};
use incentive_store::{Store, StoreError, TenantSettings};

async fn key(store: &Store, role: Role, holder: Option<&str>) -> Caller {
    let made = store.create_key_held(TENANT, role, holder).await.unwrap();
    store.authenticate(&made.secret).await.unwrap().unwrap()
}

fn version(v: &str) -> incentive_engine::policy::PolicySource {
    policy_with(PLAN, |m| {
        m.replace("version = \"1.0.0\"", &format!("version = \"{v}\""))
    })
}

#[tokio::test]
async fn a_draft_is_published_only_once_another_holder_approved_it_as_it_is() {
    for db in databases().await {
        let store = Store::open(&db.url, options()).await.unwrap();
        store.create_tenant(TENANT).await.unwrap();
        let ana = key(&store, Role::Author, Some("Ana Lima")).await;
        let ana_again = key(&store, Role::Admin, Some("Ana Lima")).await;
        let ben = key(&store, Role::Admin, Some("Ben Wu")).await;
        let nobody = key(&store, Role::Admin, None).await;
        assert_eq!(ana.holder.as_deref(), Some("Ana Lima"));

        store
            .put_policy_by(TENANT, &version("2.0.0"), ana.holder.as_deref())
            .await
            .unwrap();
        let refused = store
            .publish_policy_approved(TENANT, PLAN, "2.0.0")
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, StoreError::NeedsApproval(m) if m.contains("no one has approved it")),
            "{}: {refused}",
            db.label
        );
        // Not the holder who stored it, by any of her keys; not a key without a holder.
        for (caller, says) in [
            (&ana, "Ana Lima stored policy"),
            (&ana_again, "Ana Lima stored policy"),
            (&nobody, "this key names no holder"),
        ] {
            let e = store
                .approve_policy(caller, PLAN, "2.0.0", "looks fine")
                .await
                .unwrap_err();
            assert!(
                matches!(&e, StoreError::NotApprover(m) if m.contains(says)),
                "{e}"
            );
        }
        let approval = store
            .approve_policy(&ben, PLAN, "2.0.0", "tiers match the memo")
            .await
            .unwrap();
        assert_eq!(
            (approval.approver.as_str(), approval.current),
            ("Ben Wu", true)
        );

        // The draft stored again with a catalog reworded: the approval no longer stands.
        let mut changed = version("2.0.0");
        for f in &mut changed.files {
            if f.name.ends_with("en.ftl") {
                f.text.push_str("\n# reworded after approval\n");
            }
        }
        store
            .put_policy_by(TENANT, &changed, ana.holder.as_deref())
            .await
            .unwrap();
        let approvals = store.policy_approvals(TENANT, PLAN, "2.0.0").await.unwrap();
        assert_eq!(approvals.len(), 1);
        assert!(!approvals[0].current, "{approvals:?}");
        let refused = store
            .publish_policy_approved(TENANT, PLAN, "2.0.0")
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, StoreError::NeedsApproval(m) if m.contains("it has changed since it was approved")),
            "{refused}"
        );

        store
            .approve_policy(&ben, PLAN, "2.0.0", "rewording checked")
            .await
            .unwrap();
        // The whole history in one read says what each version's own read says: the void
        // approval and the standing one, in order; a version with none is absent.
        let by_version = store
            .policy_approvals_by_version(TENANT, PLAN)
            .await
            .unwrap();
        let one = store.policy_approvals(TENANT, PLAN, "2.0.0").await.unwrap();
        assert_eq!(by_version.get("2.0.0"), Some(&one));
        assert_eq!(
            one.iter()
                .map(|a| (a.comment.as_str(), a.current))
                .collect::<Vec<_>>(),
            [("tiers match the memo", false), ("rewording checked", true)]
        );
        assert_eq!(by_version.keys().collect::<Vec<_>>(), ["2.0.0"]);
        let published = store
            .publish_policy_approved(TENANT, PLAN, "2.0.0")
            .await
            .unwrap();
        assert_eq!(published.stored_by.as_deref(), Some("Ana Lima"));
        let e = store
            .approve_policy(&ben, PLAN, "2.0.0", "again")
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::PolicyWrongStatus { .. }), "{e}");

        // A draft whose writer is unknown cannot have a second pair of eyes.
        store.put_policy(TENANT, &version("3.0.0")).await.unwrap();
        let e = store
            .approve_policy(&ben, PLAN, "3.0.0", "fine")
            .await
            .unwrap_err();
        assert!(
            matches!(&e, StoreError::NotApprover(m) if m.contains("names no holder, so who wrote it is unknown")),
            "{e}"
        );
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_tenant_that_turned_four_eyes_off_publishes_without_approval() {
    for db in databases().await {
        let store = Store::open(&db.url, options()).await.unwrap();
        store.create_tenant(TENANT).await.unwrap();
        store
            .set_tenant_settings(
                TENANT,
                &TenantSettings {
                    four_eyes: false,
                    ..TenantSettings::default()
                },
            )
            .await
            .unwrap();
        store.put_policy(TENANT, &version("2.0.0")).await.unwrap();
        let published = store
            .publish_policy_approved(TENANT, PLAN, "2.0.0")
            .await
            .unwrap();
        assert_eq!(
            published.status,
            incentive_store::PolicyStatus::Published,
            "{}",
            db.label
        );
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_holders_name_and_an_approvals_comment_are_held_to_their_limits() {
    let db = sqlite_db().await;
    let store = Store::open(&db.url, options()).await.unwrap();
    store.create_tenant(TENANT).await.unwrap();
    for (holder, says) in [
        (
            "x".repeat(65),
            "holder: is 65 characters: a holder's name is 1 to 64",
        ),
        (
            "   ".to_owned(),
            "holder: is 3 characters: a holder's name is 1 to 64",
        ),
        ("Ana\u{200b}Lima".to_owned(), "holder: contains"),
    ] {
        let e = store
            .create_key_held(TENANT, Role::Author, Some(&holder))
            .await
            .unwrap_err();
        assert!(e.to_string().starts_with(says), "{holder:?}: {e}");
    }
    assert!(
        store
            .create_key_held(TENANT, Role::Author, Some(&"x".repeat(64)))
            .await
            .is_ok()
    );
    let ana = key(&store, Role::Author, Some("Ana Lima")).await;
    let ben = key(&store, Role::Admin, Some("Ben Wu")).await;
    store
        .put_policy_by(TENANT, &version("2.0.0"), ana.holder.as_deref())
        .await
        .unwrap();
    let e = store
        .approve_policy(&ben, PLAN, "2.0.0", &"y".repeat(2_001))
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "comment: is 2001 characters; a comment is at most 2000"
    );
    assert!(
        store
            .approve_policy(&ben, PLAN, "2.0.0", &"y".repeat(2_000))
            .await
            .is_ok()
    );
    store.close().await;
    db.cleanup().await;
}
