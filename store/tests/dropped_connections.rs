//! Connections are not pinged before each use (db.rs: a round trip a transaction). A
//! connection PostgreSQL dropped while it sat in the pool — a restart, a failover, an operator
//! ending sessions — therefore fails its next statement: that request gets an error the API
//! answers as transient (503, retry), the pool lets the connection go, and the retry is paid
//! once, on a fresh connection.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;

/// Ends every session of the test's database but the caller's.
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

#[tokio::test]
async fn a_payout_on_a_connection_the_server_dropped_fails_as_transient_and_its_retry_is_paid_once()
{
    let Some(db) = postgres_db().await else {
        return;
    };
    let store = store_with_plan(&db, str::to_owned).await;
    let m = enrol(&store, "M1").await;
    store
        .add_readings(TENANT, &m, controlled_march(20))
        .await
        .unwrap();
    // The pool holds connections that have answered.
    store.dry_run(request(&m)).await.unwrap();
    let ended = drop_every_connection(&db).await;
    assert!(ended > 0);

    let mut transient = 0;
    let paid = loop {
        match store.pay(request(&m)).await {
            Ok(outcome) => break outcome,
            Err(e) => {
                assert!(e.is_transient(), "not transient: {e}");
                transient += 1;
                assert!(transient <= 20, "still failing after 20 tries: {e}");
            }
        }
    };
    // At most one failure a connection the server dropped: each is let go once it fails.
    assert!(
        transient <= ended,
        "{transient} failures for {ended} dropped connections"
    );
    assert_eq!(paid.decision.reward.to_string(), "30");
    assert_eq!(paid.decision.ordinal, 0);
    // Paid once: asked again, the decision on record answers.
    let again = store.pay(request(&m)).await.unwrap();
    assert_eq!(again.decision.id, paid.decision.id);
    let report = store.verify(None, &[]).await.unwrap();
    assert!(report.ok(), "{report:?}");
    store.close().await;
    db.cleanup().await;
}
