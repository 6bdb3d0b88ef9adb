//! SQLite reads a payout group's part of a tenant in one call ([`super::one_call`]); what it
//! finds must be what the reads one by one find, row for row, on a record with everything a
//! group reads: idempotency keys, profiles with attributes, readings inside and outside the
//! window, labs before and after its end, earlier decisions, balances, and a member unknown.

use super::one_call::{Wanted, load_in_one_call};
use super::{TenantData, load_decisions};
use crate::group::accounts_of;
use crate::idempotency::{IdempotencyKey, Keyed, load_keys};
use crate::member_records::load_member_records;
use crate::policies::PolicyVersion;
use crate::{PayoutRequest, Store, StoreOptions, ledger};
use chrono::{FixedOffset, TimeZone as _};
use incentive_engine::policy::attributes::AttributeValue;
use incentive_engine::policy::{MemberProfile, PolicySource, SourceFile};
use incentive_engine::{
    Context, Glucose, GlucoseValue, Hba1c, LabResult, MemberId, Period, Reading, Source,
};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;

const TENANT: &str = "one-call";

pub(in crate::group) fn policy() -> PolicySource {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/tangdaifu-smbg");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("a reference file");
    // A member attribute of its own, so that a profile read has one to carry.
    let manifest = format!(
        "{}\n[attributes]\nemployer = {{ type = \"text\", optional = true }}\n",
        read("policy.toml")
    );
    let mut files = vec![
        SourceFile::new("policy.toml", manifest),
        SourceFile::new("rules.rhai", read("rules.rhai")),
    ];
    let mut locales: Vec<String> = std::fs::read_dir(dir.join("locales"))
        .expect("locales")
        .map(|e| {
            e.expect("a locale")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    locales.sort();
    for name in locales {
        files.push(SourceFile::new(
            format!("locales/{name}"),
            read(&format!("locales/{name}")),
        ));
    }
    PolicySource {
        name: "tangdaifu-smbg".into(),
        files,
    }
}

/// Two readings a day for ten days from the first of `month` (2026), and one at the end of
/// the month before, outside a window of `month`.
pub(in crate::group) fn readings(month: u32, shift: f64) -> Vec<Reading> {
    let east8 = FixedOffset::east_opt(8 * 3600).expect("+08:00");
    let at = |m: u32, d: u32, h: u32| {
        east8
            .with_ymd_and_hms(2026, m, d, h, 0, 0)
            .single()
            .expect("a time")
    };
    let reading = |time, mmol: f64, context| Reading {
        time,
        value: GlucoseValue::Measured(Glucose::from_mmol_l(mmol).expect("in range")),
        context,
        source: Source::Smbg,
    };
    let mut out = vec![reading(at(month - 1, 28, 7), 6.0 + shift, Context::Fasting)];
    for d in 1..=10 {
        out.push(reading(
            at(month, d, 7),
            5.0 + shift + f64::from(d) / 10.0,
            Context::Fasting,
        ));
        out.push(reading(at(month, d, 10), 7.5 + shift, Context::PostMeal));
    }
    out
}

fn sorted<K: Ord + Debug, V: Debug>(map: &HashMap<K, V>) -> String {
    format!("{:?}", map.iter().collect::<BTreeMap<_, _>>())
}

/// A SQLite store in a directory of its own (kept while the store is), with tenant `tenant`
/// and [`policy`] published; the version stored.
pub(in crate::group) async fn store_with_policy(
    tenant: &str,
    options: StoreOptions,
) -> (tempfile::TempDir, Store, PolicyVersion) {
    store_with(tenant, options, &policy()).await
}

/// [`store_with_policy`] with a package of the caller's.
pub(in crate::group) async fn store_with(
    tenant: &str,
    options: StoreOptions,
    package: &PolicySource,
) -> (tempfile::TempDir, Store, PolicyVersion) {
    let dir = tempfile::tempdir().expect("a directory");
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let store = Store::open(&url, options).await.expect("store");
    store.create_tenant(tenant).await.expect("tenant");
    let v = store.put_policy(tenant, package).await.expect("policy");
    store
        .publish_policy(tenant, &v.policy_id, &v.version)
        .await
        .expect("published");
    (dir, store, v)
}

#[tokio::test]
async fn a_tenants_reads_in_one_call_find_what_the_reads_one_by_one_find() {
    let (_dir, store, v) = store_with_policy(TENANT, StoreOptions::default()).await;

    let (a, b) = (
        MemberId::parse("A1").expect("id"),
        MemberId::parse("B2").expect("id"),
    );
    let mut profile = MemberProfile::new(a.clone());
    profile.age = Some(57);
    profile.region = Some("上海".into());
    profile
        .attributes
        .insert("employer".into(), AttributeValue::Text("ACME".into()));
    store.upsert_member(TENANT, &profile).await.expect("A");
    store
        .upsert_member(TENANT, &MemberProfile::new(b.clone()))
        .await
        .expect("B");
    for (member, shift) in [(&a, 0.0), (&b, 1.5)] {
        for month in [2, 3, 4] {
            store
                .add_readings(TENANT, member, readings(month, shift))
                .await
                .expect("readings");
        }
    }
    let lab = |m: u32, percent: &str| LabResult {
        time: FixedOffset::east_opt(8 * 3600)
            .expect("+08:00")
            .with_ymd_and_hms(2026, m, 15, 9, 0, 0)
            .single()
            .expect("a time"),
        hba1c: Hba1c::from_percent(percent.parse().expect("a number")).expect("in range"),
    };
    store
        .add_labs(TENANT, &a, &[lab(2, "6.8"), lab(4, "6.5")])
        .await
        .expect("labs");

    let request = |member: &MemberId, month: &str| PayoutRequest {
        tenant: TENANT.into(),
        member: member.clone(),
        policy_id: v.policy_id.clone(),
        period: Period::parse(month).expect("a period"),
    };
    let keyed = Keyed {
        key: IdempotencyKey::parse("pay-A1-2026-02").expect("a key"),
        request_hash: "h".into(),
    };
    store
        .pay_keyed(request(&a, "2026-02"), keyed)
        .await
        .expect("A February");
    store.pay(request(&b, "2026-02")).await.expect("B February");

    // What a group paying A and B for March (and C, unknown) would read.
    let march = request(&a, "2026-03");
    let policy = crate::policies::policy_in_effect(
        &store.shared,
        &mut store.shared.pool.reads().await.expect("reads"),
        TENANT,
        &v.policy_id,
        march.period,
    )
    .await
    .expect("in effect")
    .1;
    let window = march
        .period
        .window(policy.manifest.timezone)
        .expect("a window");
    let span = (
        window.start.timestamp_millis(),
        window.end.timestamp_millis(),
    );
    let keys = ["pay-A1-2026-02", "pay-A1-2026-03"];
    let members = ["A1", "B2", "C3"];
    let mut accounts: Vec<(String, String)> = [&a, &b]
        .into_iter()
        .flat_map(|m| {
            accounts_of(
                &request(m, "2026-03"),
                &v.version,
                &policy.manifest.currency,
            )
        })
        .collect();
    accounts.sort();
    accounts.dedup();

    let mut one = TenantData::default();
    let mut tx = store.shared.pool.reads().await.expect("reads");
    let crate::db::Tx::Sqlite(c) = &mut tx else {
        panic!("a SQLite store")
    };
    let wanted = Wanted {
        keys: &keys,
        members: &members,
        accounts: &accounts,
        span,
    };
    load_in_one_call(c, TENANT, &wanted, &mut one)
        .await
        .expect("read in one call");

    let by_one = load_member_records(&mut tx, TENANT, &members, span)
        .await
        .expect("records");
    let keys_by_one = load_keys(&mut tx, TENANT, &keys).await.expect("keys");
    let decisions = load_decisions(&mut tx, TENANT, &members)
        .await
        .expect("decisions");
    let balances = ledger::balances(&mut tx, TENANT, &accounts)
        .await
        .expect("balances");

    // The record is not empty where it matters, so that equal cannot mean both empty.
    assert_eq!(one.profiles.len(), 2, "A and B are enrolled; C is not");
    assert_eq!(
        one.readings.get("A1").map(Vec::len),
        Some(21),
        "March's twenty and the one of the 28th, not February's or April's"
    );
    assert_eq!(
        one.labs.get("A1").map(Vec::len),
        Some(1),
        "February's lab, not April's"
    );
    assert_eq!(one.keys.len(), 1, "the key that answered");
    assert_eq!(one.decisions.len(), 2, "February's decisions of A and B");
    assert!(!one.balances.is_empty(), "the accounts February moved");

    assert_eq!(sorted(&one.profiles), sorted(&by_one.profiles));
    assert_eq!(sorted(&one.readings), sorted(&by_one.readings));
    assert_eq!(sorted(&one.labs), sorted(&by_one.labs));
    assert_eq!(sorted(&one.keys), sorted(&keys_by_one));
    assert_eq!(sorted(&one.decisions), sorted(&decisions));
    assert_eq!(sorted(&one.balances), sorted(&balances));
    drop(tx);
    store.close().await;
}
