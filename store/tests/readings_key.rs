//! Readings lost their foreign key to members (migration 0012, for the speed of bulk uploads):
//! a database that had readings keeps every one of them through the migration, and a reading
//! of a member who is not enrolled is still refused — by the writers, which check enrolment
//! first — on the single path, and the bulk one, which reports them and stores none of theirs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use incentive_store::{Store, StoreError};
use std::borrow::Cow;

/// The schema as it was before migration 0012, with a tenant, a member and two readings in it.
async fn before_the_migration(db: &TestDb) {
    let (path, backend) = if db.is_postgres() {
        ("migrations/postgres", "postgres")
    } else {
        ("migrations/sqlite", "sqlite")
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let mut migrator = sqlx::migrate::Migrator::new(dir).await.unwrap();
    migrator.migrations = Cow::Owned(
        migrator
            .migrations
            .iter()
            .filter(|m| m.version < 12)
            .cloned()
            .collect(),
    );
    let inserts = [
        "INSERT INTO tenants (name, created_at) VALUES ('zhongan', '2026-03-01T00:00:00Z')",
        "INSERT INTO members (tenant, member_id, updated_at) VALUES ('zhongan', 'M1', '2026-03-01T00:00:00Z')",
        "INSERT INTO readings (tenant, member_id, time_ms, source, offset_s, mg_dl, flag, context, received_at) \
         VALUES ('zhongan', 'M1', 1772406000000, 'smbg', 28800, 104.4, NULL, 'fasting', '2026-03-02T00:00:00Z')",
        "INSERT INTO readings (tenant, member_id, time_ms, source, offset_s, mg_dl, flag, context, received_at) \
         VALUES ('zhongan', 'M1', 1772492400000, 'smbg', 28800, NULL, 'HI', 'unknown', '2026-03-03T00:00:00Z')",
    ];
    if backend == "postgres" {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        migrator.run(&pool).await.unwrap();
        for sql in inserts {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        pool.close().await;
    } else {
        let options: sqlx::sqlite::SqliteConnectOptions = db.url.parse().unwrap();
        let pool = sqlx::SqlitePool::connect_with(options.create_if_missing(true))
            .await
            .unwrap();
        migrator.run(&pool).await.unwrap();
        for sql in inserts {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }
}

/// The rows of `readings` for `member`, counted in the table itself.
async fn readings_in_table(db: &TestDb, member: &str) -> i64 {
    query_i64(
        db,
        "SELECT COUNT(*) FROM readings WHERE member_id = $1",
        &[member],
    )
    .await
}

#[tokio::test]
async fn readings_stored_before_the_member_key_went_are_all_kept_and_no_member_still_gets_none() {
    for db in databases().await {
        before_the_migration(&db).await;
        let store = Store::open(&db.url, options()).await.unwrap();
        let window = incentive_engine::Period::parse("2026-03")
            .unwrap()
            .window(chrono_tz::Asia::Shanghai)
            .unwrap();
        let kept = store.period_inputs(TENANT, &["M1"], &window).await.unwrap();
        assert_eq!(kept.len(), 1, "{}", db.label);
        assert_eq!(kept[0].readings.len(), 2, "{}: {kept:?}", db.label);

        // The writers refuse a member who is not enrolled, as the key did.
        let err = store
            .add_readings(TENANT, &member("NOBODY"), controlled_march(4))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::UnknownMember { member, .. } if member == "NOBODY"),
            "{}: {err}",
            db.label
        );
        let bulk = store
            .add_readings_many(
                TENANT,
                &[
                    (member("M1"), controlled_march(3)),
                    (member("NOBODY"), controlled_march(3)),
                ],
            )
            .await
            .unwrap();
        let nobody = u64::try_from(controlled_march(3).len()).unwrap();
        assert_eq!(
            bulk.not_enrolled,
            [(member("NOBODY"), nobody)],
            "{}",
            db.label
        );
        let after = store
            .period_inputs(TENANT, &["M1", "NOBODY"], &window)
            .await
            .unwrap();
        assert_eq!(
            after.len(),
            1,
            "{}: a member not enrolled has no record",
            db.label
        );
        assert_eq!(
            after[0].readings.len() as u64,
            2 + bulk.added.accepted,
            "{}",
            db.label
        );
        // Nothing of NOBODY's is in the table, read as it is.
        assert_eq!(readings_in_table(&db, "NOBODY").await, 0, "{}", db.label);
        assert_eq!(
            u64::try_from(readings_in_table(&db, "M1").await).unwrap(),
            2 + bulk.added.accepted,
            "{}",
            db.label
        );
        store.close().await;
        db.cleanup().await;
    }
}
