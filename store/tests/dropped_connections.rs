//! PostgreSQL connections are pinged only after sitting idle in the pool for
//! `PG_PING_AFTER_IDLE_MS` (db.rs: a ping before every use is a round trip a transaction). A
//! connection the server dropped — a restart, a failover, an operator ending sessions — is
//! therefore replaced unseen if it sat idle that long, and otherwise fails its next statement:
//! that request gets an error the API answers as transient (503, retry), the pool lets the
//! connection go, and the retry is paid once, on a fresh connection.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use incentive_store::{PayoutOutcome, Store};

/// Ends every session of the test's database but the caller's; how many it ended.
async fn drop_every_connection(db: &TestDb) -> u64 {
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let ended = sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(&pool)
    .await
    .unwrap()
    .rows_affected();
    pool.close().await;
    ended
}

/// Pays `member` until it is paid; how many transient errors came first (any other error
/// fails the test).
async fn pay_until_paid(store: &Store, member: &str) -> (PayoutOutcome, u64) {
    let mut transient = 0;
    loop {
        match store.pay(request(&common::member(member))).await {
            Ok(outcome) => return (outcome, transient),
            Err(e) => {
                assert!(e.is_transient(), "not transient: {e}");
                transient += 1;
                assert!(transient <= 20, "still failing after 20 tries: {e}");
            }
        }
    }
}

#[tokio::test]
async fn connections_the_server_dropped_are_replaced_unseen_after_a_pause_and_fail_once_as_transient_without_one()
 {
    let Some(db) = postgres_db().await else {
        return;
    };
    let store = store_with_plan(&db, str::to_owned).await;
    for id in ["M1", "M2"] {
        let m = enrol(&store, id).await;
        store
            .add_readings(TENANT, &m, controlled_march(20))
            .await
            .unwrap();
    }
    // The pool holds connections that have answered.
    store.dry_run(request(&member("M1"))).await.unwrap();

    // Dropped, then left idle past the ping threshold: pinged, replaced, never seen.
    assert!(drop_every_connection(&db).await > 0);
    let idle = incentive_store::db::PG_PING_AFTER_IDLE_MS + 200;
    tokio::time::sleep(std::time::Duration::from_millis(idle)).await;
    let (paid, transient) = pay_until_paid(&store, "M1").await;
    assert_eq!(
        transient, 0,
        "a connection idle past the threshold is pinged first"
    );
    assert_eq!(paid.decision.reward.to_string(), "30");

    // Dropped and used at once: at most one transient failure a dropped connection, then
    // paid once. (The pool's reads and writes are two pools, `db::PgPools`: a dropped
    // connection the payout did not need may be met by the one after it.)
    let ended = drop_every_connection(&db).await;
    assert!(ended > 0);
    let (paid, transient) = pay_until_paid(&store, "M2").await;
    assert_eq!(paid.decision.reward.to_string(), "30");
    assert_eq!(paid.decision.ordinal, 0);
    let (again, more) = pay_until_paid(&store, "M2").await;
    assert_eq!(again.decision.id, paid.decision.id);
    let mut failed_verify = 0;
    let report = loop {
        match store.verify(None, &[]).await {
            Ok(report) => break report,
            Err(e) => {
                assert!(e.is_transient(), "not transient: {e}");
                failed_verify += 1;
                assert!(failed_verify <= 20, "still failing after 20 tries: {e}");
            }
        }
    };
    assert!(report.ok(), "{report:?}");
    assert!(
        transient + more + failed_verify <= ended,
        "{transient} + {more} + {failed_verify} failures for {ended} dropped connections"
    );
    store.close().await;
    db.cleanup().await;
}

/// The tests' own housekeeping: a test that fails, or returns before its `cleanup`, still drops
/// its PostgreSQL database, with any connection a store left open on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_database_left_without_its_cleanup_is_dropped_all_the_same() {
    let Some(db) = postgres_db().await else {
        return;
    };
    let name = db.url.rsplit_once('/').unwrap().1.to_owned();
    let store = Store::open(&db.url, options()).await.unwrap();
    let admin = sqlx::PgPool::connect(&std::env::var("INCENTIVE_TEST_PG_URL").unwrap())
        .await
        .unwrap();
    let exists = |admin: sqlx::PgPool, name: String| async move {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_one(&admin)
            .await
            .unwrap()
    };
    assert_eq!(exists(admin.clone(), name.clone()).await, 1);
    drop(db);
    assert_eq!(
        exists(admin.clone(), name).await,
        0,
        "dropped with the TestDb"
    );
    store.close().await;
    admin.close().await;
}
