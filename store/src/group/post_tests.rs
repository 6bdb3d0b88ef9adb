//! A group whose chain head moved between its read and its write is decided again under the
//! head's lock ([`super::post`]): for exactly the payouts its first decision reached — those
//! its callers are answered with — and no more; the rest were handed to the next group.

use super::read::one_call_tests::{policy, readings, store_with};
use super::{Item, post, read_and_decide};
use crate::{PayoutRequest, StoreOptions};
use incentive_engine::policy::MemberProfile;
use incentive_engine::{MemberId, Period};

const TENANT: &str = "post";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_decided_again_after_its_head_moved_answers_exactly_the_payouts_it_first_reached() {
    // A policy taking milliseconds a decision: a group's 1 ms is spent after its first.
    let mut slow = policy();
    for f in &mut slow.files {
        if f.name == "rules.rhai" {
            f.text = f.text.replace(
                "fn decide(record, member, history) {",
                "fn decide(record, member, history) {\n    let x = 0;\n    for i in 0..20000 { x += 1; }",
            );
        }
    }
    let options = StoreOptions {
        payout_group_decide_ms_max: 1,
        ..StoreOptions::default()
    };
    let (_dir, store, v) = store_with(TENANT, options, &slow).await;
    let members: Vec<MemberId> = ["A1", "B2", "C3", "D4"]
        .iter()
        .map(|id| MemberId::parse(id).expect("id"))
        .collect();
    for m in &members {
        store
            .upsert_member(TENANT, &MemberProfile::new(m.clone()))
            .await
            .expect("member");
        store
            .add_readings(TENANT, m, readings(3, 0.0))
            .await
            .expect("readings");
    }
    let request = |member: &MemberId| PayoutRequest {
        tenant: TENANT.into(),
        member: member.clone(),
        policy_id: v.policy_id.clone(),
        period: Period::parse("2026-03").expect("a period"),
    };
    let items: Vec<Item> = members[..3].iter().map(|m| (request(m), None)).collect();
    let shared = &store.shared;
    let first = read_and_decide(shared, items, None).await.expect("decided");
    assert_eq!(
        first.results.len(),
        1,
        "the group's time was spent after one"
    );

    // Another payout moves the head before the group is written.
    store.pay(request(&members[3])).await.expect("D4 paid");
    let (results, as_decided) = post(shared, first).await.expect("posted");
    assert!(!as_decided, "the head had moved: decided again");
    assert_eq!(results.len(), 1, "{results:?}");
    let report = store.verify(None, &[]).await.expect("verified");
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.tenants[0].decisions, 2, "{report:?}");
    assert_eq!(store.payout_groups().decided_again_under_lock, 1);
}
