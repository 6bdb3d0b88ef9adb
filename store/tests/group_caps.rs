//! A family's yearly cap on every backend: the members sharing a `family_id` are paid at most
//! `per_group_per_year` together in a calendar year, whether they are paid one after another,
//! at the same moment, or trued up later.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use incentive_engine::policy::MemberProfile;
use incentive_engine::policy::attributes::AttributeValue;
use incentive_store::Store;
use rust_decimal::Decimal;

/// tangdaifu-smbg (30 CNY for a controlled month) with a family sharing 40 CNY a year.
fn family_plan(manifest: &str) -> String {
    manifest.replace(
        "\n[caps]\n",
        "\n[attributes]\nfamily_id = { type = \"text\", optional = true, description = \"the family the policy covers\" }\n\n[caps]\ngroup = \"family_id\"\nper_group_per_year = 40.00\n",
    )
}

async fn enrol_in(store: &Store, id: &str, family: Option<&str>) -> incentive_engine::MemberId {
    enrol_with_days(store, id, family, 12).await
}

/// Enrols `id` in `family` with `days` days of controlled March readings (four or more earn
/// 30 CNY, fewer nothing).
async fn enrol_with_days(
    store: &Store,
    id: &str,
    family: Option<&str>,
    days: u32,
) -> incentive_engine::MemberId {
    let m = member(id);
    let mut profile = MemberProfile::new(m.clone());
    if let Some(f) = family {
        profile
            .attributes
            .insert("family_id".into(), AttributeValue::Text(f.into()));
    }
    store.upsert_member(TENANT, &profile).await.unwrap();
    store
        .add_readings(TENANT, &m, controlled_march(days))
        .await
        .unwrap();
    m
}

fn cny(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[tokio::test]
async fn a_family_shares_its_yearly_cap_and_other_families_and_members_alone_do_not() {
    for db in databases().await {
        let store = store_with_plan(&db, family_plan).await;
        let a1 = enrol_in(&store, "A1", Some("F-A")).await;
        let a2 = enrol_in(&store, "A2", Some("F-A")).await;
        let b1 = enrol_in(&store, "B1", Some("F-B")).await;
        let alone = enrol_in(&store, "C1", None).await;
        let pay = |m| store.pay(request(m));
        assert_eq!(
            pay(&a1).await.unwrap().decision.reward_posted,
            cny("30"),
            "{}",
            db.label
        );
        let second = pay(&a2).await.unwrap().decision;
        assert_eq!(
            second.reward_posted,
            cny("10"),
            "{}: {}",
            db.label,
            second.body
        );
        assert!(
            second
                .body
                .contains(r#""id":"engine-capped-group","args":{"cap":"40.00","earlier":"30"#),
            "{}",
            second.body
        );
        assert_eq!(pay(&b1).await.unwrap().decision.reward_posted, cny("30"));
        assert_eq!(pay(&alone).await.unwrap().decision.reward_posted, cny("30"));
        // Replayed from what was stored with it, the capped decision is the same bytes.
        assert!(store.verify(None, &[]).await.unwrap().ok(), "{}", db.label);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_family_paid_at_the_same_moment_is_paid_no_more_than_its_cap_together() {
    for db in databases().await {
        let store = store_with_plan(&db, family_plan).await;
        let mut members = Vec::new();
        for i in 0..6 {
            members.push(enrol_in(&store, &format!("F{i}"), Some("F-many")).await);
        }
        let mut paying = tokio::task::JoinSet::new();
        for m in &members {
            let (store, request) = (store.clone(), request(m));
            paying.spawn(async move { store.pay(request).await });
        }
        let mut total = Decimal::ZERO;
        while let Some(paid) = paying.join_next().await {
            total += paid.unwrap().unwrap().decision.reward_posted;
        }
        assert_eq!(total, cny("40"), "{}", db.label);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_true_up_of_a_family_member_still_keeps_the_familys_cap() {
    for db in databases().await {
        let store = store_with_plan(&db, family_plan).await;
        // A1 first measures on two days, too few for a reward; A2 is paid 30; A1's late
        // readings then earn 30, of which the family has 10 left.
        let a1 = enrol_with_days(&store, "A1", Some("F-A"), 2).await;
        let a2 = enrol_in(&store, "A2", Some("F-A")).await;
        let first = store.pay(request(&a1)).await.unwrap().decision;
        assert_eq!(first.reward_posted, cny("0"), "{}", db.label);
        assert_eq!(
            store
                .pay(request(&a2))
                .await
                .unwrap()
                .decision
                .reward_posted,
            cny("30")
        );
        store
            .add_readings(TENANT, &a1, controlled_march(12))
            .await
            .unwrap();
        let again = store.pay(request(&a1)).await.unwrap();
        assert_eq!(
            again.decision.reward_posted,
            cny("10"),
            "{}: {}",
            db.label,
            again.decision.body
        );
        let standing: Decimal = store
            .decisions(TENANT, None)
            .await
            .unwrap()
            .iter()
            .filter(|d| d.reversed_by.is_none())
            .map(|d| d.reward_posted)
            .sum();
        assert_eq!(
            standing,
            cny("40"),
            "{}: {:?}",
            db.label,
            again.decision.body
        );
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_member_leaving_a_family_is_no_longer_counted_in_it() {
    for db in databases().await {
        let store = store_with_plan(&db, family_plan).await;
        let a1 = enrol_in(&store, "A1", Some("F-A")).await;
        assert_eq!(
            store
                .pay(request(&a1))
                .await
                .unwrap()
                .decision
                .reward_posted,
            cny("30")
        );
        // A1 moves to another family before A2 is paid: A2's family has been paid nothing.
        store
            .upsert_member(TENANT, &{
                let mut p = MemberProfile::new(a1.clone());
                p.attributes
                    .insert("family_id".into(), AttributeValue::Text("F-Z".into()));
                p
            })
            .await
            .unwrap();
        let a2 = enrol_in(&store, "A2", Some("F-A")).await;
        assert_eq!(
            store
                .pay(request(&a2))
                .await
                .unwrap()
                .decision
                .reward_posted,
            cny("30"),
            "{}",
            db.label
        );
        store.close().await;
        db.cleanup().await;
    }
}
