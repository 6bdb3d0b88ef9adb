//! Bulk uploads of many members' readings, on every backend: each reading lands once whatever
//! the member's id holds (commas, quotes, other scripts), duplicates are counted across
//! statement boundaries, members not enrolled are counted and nothing of theirs is stored, and
//! what lands decides exactly as the same readings sent one member at a time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use incentive_engine::{Context, Reading};

/// `n` distinct March readings, one every 20 minutes from the 1st.
fn many(n: u32) -> Vec<Reading> {
    (0..n)
        .map(|i| {
            let mut r = at(
                1 + (i / 72) % 28,
                0,
                5.0 + f64::from(i % 40) / 10.0,
                Context::Unknown,
            );
            r.time += chrono::Duration::minutes(i64::from(i % 72) * 20);
            r
        })
        .collect()
}

#[tokio::test]
async fn a_bulk_upload_stores_each_reading_once_and_decides_as_one_member_at_a_time_would() {
    for db in databases().await {
        let store = store_with_plan(&db, str::to_owned).await;
        let ids = ["M,1", "M\"2", "张三", "M 4"];
        for id in ids {
            enrol(&store, id).await;
        }
        // What the one-member-at-a-time path stores, for comparison.
        let single = enrol(&store, "single").await;
        store
            .add_readings(TENANT, &single, controlled_march(20))
            .await
            .unwrap();
        // M,1 already has 100 of its readings on record.
        let first = member(ids[0]);
        store
            .add_readings(TENANT, &first, many(1_500).into_iter().take(100))
            .await
            .unwrap();

        let upload: Vec<(incentive_engine::MemberId, Vec<Reading>)> = vec![
            // 1,500 readings: more than one statement's worth, 100 of them on record already,
            // and 10 given twice in this upload.
            (first.clone(), {
                let mut r = many(1_500);
                r.extend(many(10));
                r
            }),
            (member(ids[1]), controlled_march(20)),
            (member(ids[2]), many(900)),
            (member("not-enrolled"), many(7)),
            (member(ids[3]), vec![]),
        ];

        let added = store.add_readings_many(TENANT, &upload).await.unwrap();
        assert_eq!(
            added.added.accepted,
            1_400 + 40 + 900,
            "{}: {added:?}",
            db.label
        );
        assert_eq!(added.added.duplicate, 100 + 10, "{}", db.label);
        assert_eq!(added.not_enrolled, vec![(member("not-enrolled"), 7)]);

        // Sent again: every one a duplicate.
        let again = store.add_readings_many(TENANT, &upload).await.unwrap();
        assert_eq!(again.added.accepted, 0, "{}", db.label);

        // The quoted id's readings decide like the same readings sent the other way.
        let bulk = store.dry_run(request(&member(ids[1]))).await.unwrap();
        let one = store.dry_run(request(&single)).await.unwrap();
        let metrics = |d: &incentive_store::StoredDecision| {
            let body: serde_json::Value = serde_json::from_str(&d.body).unwrap();
            body["metrics"].clone()
        };
        assert_eq!(bulk.decision.reward, one.decision.reward, "{}", db.label);
        assert_eq!(
            metrics(&bulk.decision),
            metrics(&one.decision),
            "{}",
            db.label
        );
        store.close().await;
        db.cleanup().await;
    }
}
