//! A tenant's settings, on every backend: the defaults until set, set whole, kept per tenant,
//! and an identifier system that is not an absolute URI refused by name.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use incentive_store::{IdentifierSystem, Store, StoreError, TenantSettings};

#[tokio::test]
async fn settings_are_the_defaults_until_set_and_each_tenant_keeps_its_own() {
    for db in databases().await {
        let store = Store::open(&db.url, options()).await.unwrap();
        store.create_tenant("insurer-a").await.unwrap();
        store.create_tenant("insurer-b").await.unwrap();
        assert_eq!(
            store.tenant_settings("insurer-a").await.unwrap(),
            TenantSettings::default()
        );
        // Four eyes are on until an admin turns them off.
        assert!(store.tenant_settings("insurer-a").await.unwrap().four_eyes);
        let set = TenantSettings {
            fhir_member_identifier_system: Some(
                IdentifierSystem::parse("https://insurer-a.example/member-id").unwrap(),
            ),
            four_eyes: false,
        };
        store.set_tenant_settings("insurer-a", &set).await.unwrap();
        assert_eq!(store.tenant_settings("insurer-a").await.unwrap(), set);
        assert_eq!(
            store.tenant_settings("insurer-b").await.unwrap(),
            TenantSettings::default(),
            "{}",
            db.label
        );
        // Set again, whole: unset is unset.
        store
            .set_tenant_settings("insurer-a", &TenantSettings::default())
            .await
            .unwrap();
        assert_eq!(
            store.tenant_settings("insurer-a").await.unwrap(),
            TenantSettings::default()
        );
        let unknown = store.set_tenant_settings("nobody", &set).await.unwrap_err();
        assert!(matches!(unknown, StoreError::UnknownTenant(_)), "{unknown}");
        db.cleanup().await;
    }
}

#[test]
fn an_identifier_system_is_an_absolute_uri_of_bounded_length() {
    for good in [
        "urn:oid:2.16.840.1.113883.4.1",
        "https://insurer.example/member-id",
        "http://hl7.org/fhir/sid/us-ssn",
    ] {
        assert_eq!(IdentifierSystem::parse(good).unwrap().as_str(), good);
    }
    for (bad, says) in [
        ("", "is 0 bytes"),
        ("member-id", "is not an absolute URI"),
        (
            "https://insurer.example/member id",
            "is not an absolute URI",
        ),
        ("1urn:x", "is not an absolute URI"),
    ] {
        let e = IdentifierSystem::parse(bad).unwrap_err().to_string();
        assert!(
            e.contains(says) && e.contains("fhir_member_identifier_system"),
            "{bad}: {e}"
        );
    }
    let long = format!("urn:{}", "x".repeat(300));
    assert!(
        IdentifierSystem::parse(&long)
            .unwrap_err()
            .to_string()
            .contains("is 304 bytes")
    );
}
