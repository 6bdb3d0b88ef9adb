//! Member data policies declare, on every backend: sent with the member, checked against what
//! the tenant's published policies declare, stored, and read by the payout; a member without
//! one the policy needs gets an error naming both, not a payment.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use incentive_engine::policy::attributes::AttributeValue;
use incentive_engine::policy::{MemberProfile, PolicySource, SourceFile};
use incentive_store::{PayoutRequest, Store, StoreError};
use rust_decimal::Decimal;

const OWN_PREMIUM: &str = "own-premium";

/// A tenth of the member's own monthly premium for a month with a reading.
fn own_premium_plan() -> PolicySource {
    let manifest = r#"id = "own-premium"
version = "1.0.0"
name = "A tenth of your own premium back"
insurer = "Example"
currency = "CNY"
timezone = "Asia/Shanghai"
period = "monthly"
effective_from = 2026-01-01

[attributes]
monthly_premium = { type = "money", description = "the member's own premium a month" }
family_id = { type = "text", optional = true }

[rounding]
minor_unit = 0.01
"#;
    let rules = r#"fn decide(record, member, history) {
    if record.n_readings == 0 {
        return #{ reward: 0, reasons: ["no readings this month"] };
    }
    #{ reward: member.monthly_premium / 10, qualified: true, reasons: [`a tenth of your ${member.monthly_premium} CNY premium`] }
}
"#;
    PolicySource {
        name: OWN_PREMIUM.into(),
        files: vec![
            SourceFile::new("policy.toml", manifest),
            SourceFile::new("rules.rhai", rules),
        ],
    }
}

fn with(id: &str, attributes: &[(&str, AttributeValue)]) -> MemberProfile {
    MemberProfile {
        attributes: attributes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
        ..MemberProfile::new(member(id))
    }
}

fn text(s: &str) -> AttributeValue {
    AttributeValue::Text(s.to_owned())
}

#[tokio::test]
async fn attributes_are_checked_against_published_policies_stored_and_read_by_the_payout() {
    for db in databases().await {
        let store = Store::open(&db.url, options()).await.unwrap();
        store.create_tenant(TENANT).await.unwrap();
        // Before any policy declares it, an attribute has nowhere to go.
        let early = store
            .upsert_member(TENANT, &with("M1", &[("monthly_premium", text("200.00"))]))
            .await
            .unwrap_err();
        assert!(
            early.to_string().contains(
                "`monthly_premium` is not an attribute any published policy of this tenant declares"
            ),
            "{}: {early}",
            db.label
        );
        let v = store.put_policy(TENANT, &own_premium_plan()).await.unwrap();
        store
            .publish_policy(TENANT, OWN_PREMIUM, &v.version)
            .await
            .unwrap();

        let refused: &[(MemberProfile, &str)] = &[
            (
                with("M1", &[("monthly_premum", text("200"))]),
                "attributes: `monthly_premum` is not an attribute any published policy of this tenant declares; did you mean `monthly_premium`?",
            ),
            (
                with("M1", &[("monthly_premium", text("lots"))]),
                "attributes: `monthly_premium`: \"lots\" is not money (an amount of 0 or more, as text such as \"100.00\"), as policy own-premium 1.0.0 declares it",
            ),
            (
                with("M1", &[("family_id", text("F\u{202e}1"))]),
                "attributes: attribute `family_id`:",
            ),
        ];
        for (profile, expected) in refused {
            let err = store.upsert_member(TENANT, profile).await.unwrap_err();
            assert!(
                matches!(err, StoreError::BadInput { .. }) && err.to_string().contains(expected),
                "{}: {expected}\n  got: {err}",
                db.label
            );
        }

        store
            .upsert_member(
                TENANT,
                &with(
                    "M1",
                    &[
                        ("monthly_premium", text("200.00")),
                        ("family_id", text("F-7")),
                    ],
                ),
            )
            .await
            .unwrap();
        store
            .upsert_member(TENANT, &MemberProfile::new(member("M2")))
            .await
            .unwrap();
        for id in ["M1", "M2"] {
            store
                .add_readings(TENANT, &member(id), controlled_march(3))
                .await
                .unwrap();
        }
        let request = |id: &str| PayoutRequest {
            tenant: TENANT.into(),
            member: member(id),
            policy_id: OWN_PREMIUM.into(),
            period: march(),
        };
        let paid = store.pay(request("M1")).await.unwrap().decision;
        assert_eq!(paid.reward, Decimal::new(2000, 2), "{}", db.label);
        assert!(paid.body.contains("a tenth of your 200.00 CNY premium"));

        let err = store.pay(request("M2")).await.unwrap_err();
        assert!(
            err.to_string().contains(
                "policy `own-premium`: member `M2` has no attribute `monthly_premium`, which the policy reads"
            ),
            "{}: {err}",
            db.label
        );
        assert!(store.verify(None, &[]).await.unwrap().ok(), "{}", db.label);
        store.close().await;
        db.cleanup().await;
    }
}
