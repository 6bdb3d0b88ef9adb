//! A group read and decided while the group before it is still being written — before that one
//! commits, or after — decides exactly as a group read once it has landed: the same results,
//! entries, decisions, keys and balances, byte for byte ([`super::carry::carry_over`]).

use super::read::one_call_tests::{readings, store_with_policy};
use super::{Decided, Item, post, read_and_decide};
use crate::idempotency::{IdempotencyKey, Keyed};
use crate::{PayoutRequest, StoreOptions};
use incentive_engine::policy::MemberProfile;
use incentive_engine::{MemberId, Period};

const TENANT: &str = "carry";

/// A clock that stands still, so that groups decided at different moments may be compared
/// byte for byte (each decision and entry carries the time it was decided).
fn stopped_clock() -> StoreOptions {
    let at = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 5, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    StoreOptions {
        clock: std::sync::Arc::new(move || at),
        ..StoreOptions::default()
    }
}

/// Everything a decided group would write, and what it answers, as text to compare.
fn written(d: &Decided) -> String {
    let mut out = format!("results {:?}\nheads {:?}\n", d.results, d.loaded.heads_read);
    for (tenant, t) in &d.loaded.data {
        out += &format!("{tenant} head {:?}\n", t.head);
        for (entry, hash) in &t.entries {
            out += &format!("entry {entry:?} {hash}\n");
        }
        for (decision, inputs) in &t.new_decisions {
            out += &format!("decision {decision:?}\ninputs {inputs}\n");
        }
        for k in &t.new_keys {
            out += &format!("key {} {} {}\n", k.key, k.request_hash, k.decision_id);
        }
        for account in &t.touched {
            out += &format!("balance {account:?} {:?}\n", t.balances.get(account));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_decided_before_the_one_before_it_lands_decides_as_if_after() {
    let (_dir, store, v) = store_with_policy(TENANT, stopped_clock()).await;
    let (a, b) = (
        MemberId::parse("A1").expect("id"),
        MemberId::parse("B2").expect("id"),
    );
    for (member, shift) in [(&a, 0.0), (&b, 1.5)] {
        store
            .upsert_member(TENANT, &MemberProfile::new(member.clone()))
            .await
            .expect("member");
        for month in [3, 4] {
            store
                .add_readings(TENANT, member, readings(month, shift))
                .await
                .expect("readings");
        }
    }
    let request = |member: &MemberId, month: &str| PayoutRequest {
        tenant: TENANT.into(),
        member: member.clone(),
        policy_id: v.policy_id.clone(),
        period: Period::parse(month).expect("a period"),
    };
    let keyed = Some(Keyed {
        key: IdempotencyKey::parse("pay-A1-2026-03").expect("a key"),
        request_hash: "h".into(),
    });
    let earlier: Vec<Item> = vec![
        (request(&a, "2026-03"), keyed.clone()),
        (request(&b, "2026-03"), None),
    ];
    // The next group reads what the earlier one posts: the pool it drew on (in each
    // decision's inputs), A's March (April's history), B's March (already decided) and the
    // key (answered again).
    let next: Vec<Item> = vec![
        (request(&a, "2026-04"), None),
        (request(&b, "2026-03"), None),
        (request(&a, "2026-03"), keyed),
        (request(&b, "2026-04"), None),
    ];
    let shared = &store.shared;

    let first = read_and_decide(shared, earlier, None)
        .await
        .expect("decided");
    let first_loaded = std::sync::Arc::clone(&first.loaded);
    let before_it_landed = read_and_decide(shared, next.clone(), Some(&first_loaded))
        .await
        .expect("decided before the first landed");
    let (_, as_decided) = post(shared, first).await.expect("the first posted");
    assert!(as_decided, "the first group was posted as decided");
    let after_it_landed = read_and_decide(shared, next.clone(), Some(&first_loaded))
        .await
        .expect("decided after, with the first laid over");
    let reference = read_and_decide(shared, next, None)
        .await
        .expect("decided after the first landed");

    let expected = written(&reference);
    assert!(expected.contains("Replayed"), "{expected}");
    assert!(expected.contains("AlreadyDecided"), "{expected}");
    assert_eq!(written(&before_it_landed), expected);
    assert_eq!(written(&after_it_landed), expected);

    let (results, as_decided) = post(shared, before_it_landed)
        .await
        .expect("the next posted");
    assert!(as_decided, "the next group was posted as decided");
    assert_eq!(results.len(), 4);
    let report = store.verify(None, &[]).await.expect("verified");
    assert!(report.ok(), "{report:?}");
    // The chain's first entry, then two a group.
    assert_eq!(report.tenants[0].entries, 5, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_decided_on_one_that_did_not_land_as_decided_is_not_posted() {
    let (_dir, store, v) = store_with_policy(TENANT, stopped_clock()).await;
    let a = MemberId::parse("A1").expect("id");
    store
        .upsert_member(TENANT, &MemberProfile::new(a.clone()))
        .await
        .expect("member");
    store
        .add_readings(TENANT, &a, readings(3, 0.0))
        .await
        .expect("readings");
    let request = |month: &str| PayoutRequest {
        tenant: TENANT.into(),
        member: a.clone(),
        policy_id: v.policy_id.clone(),
        period: Period::parse(month).expect("a period"),
    };
    let shared = &store.shared;
    // A group decided, then dropped (it never lands), and one decided as if it had.
    let dropped = read_and_decide(shared, vec![(request("2026-03"), None)], None)
        .await
        .expect("decided");
    let next = read_and_decide(
        shared,
        vec![(request("2026-04"), None)],
        Some(&dropped.loaded),
    )
    .await
    .expect("decided on the dropped one");
    // Its head is where the dropped group would have left it: not found, so decided again
    // under the lock, on the record as it is.
    let (results, as_decided) = post(shared, next).await.expect("posted");
    assert!(!as_decided);
    assert_eq!(results.len(), 1);
    let report = store.verify(None, &[]).await.expect("verified");
    assert!(report.ok(), "{report:?}");
    // The chain's first entry and April's: the dropped group's March never was.
    assert_eq!(report.tenants[0].entries, 2, "{report:?}");
    assert_eq!(report.tenants[0].decisions, 1, "{report:?}");
}
