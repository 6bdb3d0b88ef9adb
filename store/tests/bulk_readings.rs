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
            // 1,510 readings: 100 of them on record already, and 10 given twice in this upload.
            (first.clone(), {
                let mut r = many(1_500);
                r.extend(many(10));
                r
            }),
            (member(ids[1]), controlled_march(20)),
            // 2,000 readings sent twice: the upload is more than one statement's worth on
            // SQLite (4,000 rows), and some repeats fall in the statement after their first.
            (member(ids[2]), {
                let mut r = many(2_000);
                r.extend(many(2_000));
                r
            }),
            (member("not-enrolled"), many(7)),
            (member(ids[3]), vec![]),
        ];

        let added = store.add_readings_many(TENANT, &upload).await.unwrap();
        assert_eq!(
            added.added.accepted,
            1_400 + 40 + 2_000,
            "{}: {added:?}",
            db.label
        );
        assert_eq!(added.added.duplicate, 100 + 10 + 2_000, "{}", db.label);
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

/// `n` readings of every kind a row can hold: each context and source, `LO` and `HI`, and
/// three offsets from UTC, one every 7 minutes of March from the 2nd (no two within the
/// likely-duplicate window of each other, so none is set apart).
fn every_kind(n: u32) -> Vec<Reading> {
    use incentive_engine::{GlucoseValue, Source};
    let contexts = [
        Context::Fasting,
        Context::PreMeal,
        Context::PostMeal,
        Context::Bedtime,
        Context::Random,
        Context::Unknown,
    ];
    let sources = [Source::Smbg, Source::Cgm, Source::Unspecified];
    (0..n)
        .map(|i| {
            let mut r = at(
                2,
                0,
                4.0 + f64::from(i % 90) / 10.0,
                contexts[i as usize % 6],
            );
            r.source = sources[i as usize % 3];
            if r.source != Source::Cgm {
                // Finger-sticks an hour apart, beyond the likely-duplicate window.
                r.time += chrono::Duration::hours(i64::from(i));
            } else {
                r.time += chrono::Duration::minutes(i64::from(i) * 7);
            }
            let offset = [8 * 3600, -5 * 3600, 5 * 3600 + 1800][i as usize % 3];
            r.time = r
                .time
                .with_timezone(&chrono::FixedOffset::east_opt(offset).unwrap());
            r.value = match i % 17 {
                3 => GlucoseValue::Low,
                11 => GlucoseValue::High,
                _ => r.value,
            };
            r
        })
        .collect()
}

/// Every reading of `member` as stored, column for column (bar the time received), one line
/// a reading. (PostgreSQL writes a `DOUBLE PRECISION` as the shortest text that reads back to
/// the same value, so two lines are equal only when the values are.)
async fn stored_rows(db: &TestDb, member: &str) -> Vec<String> {
    let sql = "SELECT time_ms || ' ' || source || ' ' || offset_s || ' ' \
               || COALESCE(CAST(mg_dl AS TEXT), '-') || ' ' || COALESCE(flag, '-') || ' ' || context \
               FROM readings WHERE tenant = $1 AND member_id = $2 ORDER BY time_ms, source";
    query_texts(db, sql, &[TENANT, member]).await
}

/// How many readings were received on the store clock's first day, 2026-04-01 (UTC).
async fn received_on_the_first_of_april(db: &TestDb) -> i64 {
    let sql = "SELECT count(*) FROM readings WHERE tenant = $1 \
               AND received_at >= '2026-04-01' AND received_at < '2026-04-02'";
    query_i64(db, sql, &[TENANT]).await
}

#[tokio::test]
async fn a_bulk_upload_stores_every_column_as_the_one_member_path_does_whether_new_or_sent_twice() {
    for db in databases().await {
        let store = store_with_plan(&db, str::to_owned).await;
        for id in [
            "new",
            "new-single",
            "twice",
            "twice-single",
            "beside",
            "beside-single",
        ] {
            enrol(&store, id).await;
        }
        // What the one-member path stores, for comparison.
        for (id, n) in [
            ("new-single", 300),
            ("twice-single", 120),
            ("beside-single", 80),
        ] {
            store
                .add_readings(TENANT, &member(id), every_kind(n))
                .await
                .unwrap();
        }

        // Members with nothing on record: PostgreSQL copies them straight into `readings`.
        let added = store
            .add_readings_many(TENANT, &[(member("new"), every_kind(300))])
            .await
            .unwrap();
        assert_eq!(
            (added.added.accepted, added.added.duplicate),
            (300, 0),
            "{}",
            db.label
        );

        // New members again, but one sends ten readings twice: the straight copy meets a key
        // already taken, keeps nothing, and every row is deduplicated on the way in.
        let mut twice = every_kind(120);
        twice.extend(every_kind(10));
        let added = store
            .add_readings_many(
                TENANT,
                &[(member("twice"), twice), (member("beside"), every_kind(80))],
            )
            .await
            .unwrap();
        assert_eq!(
            (added.added.accepted, added.added.duplicate),
            (200, 10),
            "{}: {added:?}",
            db.label
        );

        for id in ["new", "twice", "beside"] {
            let bulk = stored_rows(&db, id).await;
            let single = stored_rows(&db, &format!("{id}-single")).await;
            assert!(!bulk.is_empty(), "{}: {id}", db.label);
            assert_eq!(bulk, single, "{}: {id}", db.label);
        }
        assert_eq!(
            received_on_the_first_of_april(&db).await,
            2 * (300 + 120 + 80),
            "{}",
            db.label
        );

        // Sent again: nothing new, every one counted as on record.
        let again = store
            .add_readings_many(TENANT, &[(member("new"), every_kind(300))])
            .await
            .unwrap();
        assert_eq!(
            (again.added.accepted, again.added.duplicate),
            (0, 300),
            "{}",
            db.label
        );
        store.close().await;
        db.cleanup().await;
    }
}
