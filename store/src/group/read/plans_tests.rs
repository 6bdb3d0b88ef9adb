//! The reads' pool plans each statement once a connection ([`crate::db::PgPools`]); a plan
//! made while the tables were empty must still look up only the keys it is given once they
//! hold thousands of rows. Counted by PostgreSQL itself: the rows each table gave the reading
//! connection in one transaction and the pages it read of the table and its indexes
//! (`pg_stat_xact_user_tables`, `pg_stat_get_xact_blocks_fetched`), after a payout group's
//! every read by key ran there on empty tables and 5,000 rows a table were added.

use super::load_decisions;
use crate::db::{Handle, Tx};
use crate::{Store, StoreOptions, idempotency, ledger, member_records, members, policies};

const TENANT: &str = "plans";
const ROWS: i64 = 5_000;

/// A fresh database on the server `INCENTIVE_TEST_PG_URL` names, or `None` without one (a
/// server named and not reached fails the test).
async fn fresh_database() -> Option<(String, String)> {
    let Ok(admin) = std::env::var("INCENTIVE_TEST_PG_URL") else {
        eprintln!("PostgreSQL: skipped (INCENTIVE_TEST_PG_URL is not set)");
        return None;
    };
    let name = format!(
        "incentive_plans_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros() % 1_000_000_000
    );
    let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
        .await
        .expect("INCENTIVE_TEST_PG_URL names a server that answers");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut c)
        .await
        .expect("a fresh database");
    let (base, _) = admin
        .rsplit_once('/')
        .expect("a URL ending in a database name");
    Some((admin.clone(), format!("{base}/{name}")))
}

/// Every read of a payout group by a key or a list of keys, for `member`.
async fn read_by_keys(
    shared: &crate::Shared,
    tx: &mut Tx,
    member: &str,
) -> Result<(), crate::StoreError> {
    let march = incentive_engine::Period::parse("2026-03")
        .map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
    let (_, version) = policies::head_and_policy_in_effect(shared, tx, TENANT, "p0", march).await?;
    assert!(
        matches!(version, Err(crate::StoreError::NoVersionInEffect { .. })),
        "no policy p0: {version:?}"
    );
    let members = [member];
    member_records::load_member_records(tx, TENANT, &members, (0, i64::MAX)).await?;
    member_records::load_profiles(tx, TENANT, &members).await?;
    load_decisions(tx, TENANT, &members).await?;
    let accounts = [(format!("member:{member}:rewards"), "CNY".to_owned())];
    ledger::balances(tx, TENANT, &accounts).await?;
    idempotency::load_keys(tx, TENANT, &[&format!("key-{member}")]).await?;
    members::enrolled_among(tx, TENANT, &members).await?;
    Ok(())
}

/// 5,000 rows in each table the reads look up, one member (and key, account, policy,
/// tenant) a row.
const FILL: [&str; 8] = [
    "INSERT INTO chain_heads (tenant, seq, hash) SELECT 't' || i, 0, 'h' FROM generate_series(1, 5000) i",
    "INSERT INTO policy_versions (tenant, policy_id, version, content_hash, status, period_kind, \
       effective_from, files, created_at) \
     SELECT 'plans', 'p' || i, '1.0.0', 'h', 'published', 'month', '2000-01-01', '[]', now() \
     FROM generate_series(1, 5000) i",
    "INSERT INTO members (tenant, member_id, updated_at) \
     SELECT 'plans', 'M' || i, now() FROM generate_series(1, 5000) i",
    "INSERT INTO readings (tenant, member_id, time_ms, source, offset_s, mg_dl, context, received_at) \
     SELECT 'plans', 'M' || i, i, 'smbg', 0, 100, 'fasting', now() FROM generate_series(1, 5000) i",
    "INSERT INTO labs (tenant, member_id, time_ms, offset_s, hba1c, received_at) \
     SELECT 'plans', 'M' || i, i, 0, 6.5, now() FROM generate_series(1, 5000) i",
    "INSERT INTO decisions (id, tenant, member_id, policy_id, policy_version, period, ordinal, \
       input_hash, data_hash, decision_hash, body, reward, premium_adjustment_percent, reward_posted, \
       premium_posted, qualified, points, ledger_seq, created_at) \
     SELECT 'D' || i, 'plans', 'M' || i, 'p', '1', '2026-03', 0, 'h', 'h', 'h', '{}', 0, 0, 0, 0, \
       false, 0, i, now() FROM generate_series(1, 5000) i",
    "INSERT INTO account_balances (tenant, account, currency, balance) \
     SELECT 'plans', 'member:M' || i || ':rewards', 'CNY', 0 FROM generate_series(1, 5000) i",
    "INSERT INTO idempotency_keys (tenant, key, request_hash, state, decision_id, kind, created_at, locked_until) \
     SELECT 'plans', 'key-M' || i, 'h', 'done', 'D' || i, 'paid', now(), now() FROM generate_series(1, 5000) i",
];

#[tokio::test]
async fn reads_planned_while_the_tables_were_empty_still_look_up_only_their_keys() {
    let Some((admin, url)) = fresh_database().await else {
        return;
    };
    let mut options = StoreOptions::default();
    // Two connections: the reads' pool is one, so every read below shares its plans.
    options.limits.pool_connections_max = 2;
    let store = Store::open(&url, options).await.expect("store");
    store.create_tenant(TENANT).await.expect("tenant");

    // The tables known empty (as after a first `VACUUM`), where a scan is the cheapest way
    // to find anything.
    let mut filler = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .expect("filler");
    sqlx::query(
        "VACUUM ANALYZE chain_heads, policy_versions, members, readings, labs, decisions, \
         account_balances, idempotency_keys",
    )
    .execute(&mut filler)
    .await
    .expect("vacuum");
    let mut tx = store.shared.pool.begin_read().await.expect("read");
    read_by_keys(&store.shared, &mut tx, "M42")
        .await
        .expect("reads on empty tables");

    // Filled by a connection of its own, as a replica would be (no foreign keys, no
    // append-only triggers), and not analysed: the plans above stay the plans.
    sqlx::query("SET session_replication_role = replica")
        .execute(&mut filler)
        .await
        .expect("replica");
    for sql in FILL {
        sqlx::query(sql).execute(&mut filler).await.expect(sql);
    }

    let Tx::Postgres(Handle::Reads(c)) = &mut tx else {
        panic!("a read on PostgreSQL is a connection of the reads' pool");
    };
    sqlx::query("BEGIN").execute(&mut **c).await.expect("begin");
    read_by_keys(&store.shared, &mut tx, "M42")
        .await
        .expect("reads on full tables");
    let Tx::Postgres(Handle::Reads(c)) = &mut tx else {
        panic!("still the reads' connection");
    };
    // Rows scanned, rows fetched by index, and pages read of the table and its indexes.
    let counted: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT t.relname::text, t.seq_tup_read, t.idx_tup_fetch, \
           (pg_stat_get_xact_blocks_fetched(t.relid) + (SELECT COALESCE(SUM(pg_stat_get_xact_blocks_fetched(i.indexrelid)), 0) \
              FROM pg_index i WHERE i.indrelid = t.relid))::int8 \
         FROM pg_stat_xact_user_tables t \
         WHERE t.relname IN ('chain_heads', 'policy_versions', 'members', 'readings', 'labs', \
           'decisions', 'account_balances', 'idempotency_keys') \
         ORDER BY t.relname",
    )
    .fetch_all(&mut **c)
    .await
    .expect("counts");
    sqlx::query("ROLLBACK")
        .execute(&mut **c)
        .await
        .expect("rollback");
    drop(tx);
    let generic: i64 = {
        let mut tx = store.shared.pool.begin_read().await.expect("read");
        let Tx::Postgres(Handle::Reads(c)) = &mut tx else {
            panic!("the reads' connection");
        };
        sqlx::query_scalar(
            "SELECT COALESCE(SUM(generic_plans), 0)::int8 FROM pg_prepared_statements",
        )
        .fetch_one(&mut **c)
        .await
        .expect("plans")
    };
    store.close().await;
    let _ = sqlx::query(&format!(
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        url.rsplit('/').next().unwrap_or_default()
    ))
    .execute(
        &mut <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
            .await
            .expect("admin"),
    )
    .await;

    assert_eq!(counted.len(), 8, "every table was read: {counted:?}");
    for (table, seq_read, index_fetched, pages) in &counted {
        // M42's own row of each table (a member's, by each of the three reads of members), a
        // few pages a lookup; a plan that filtered the tenant's rows would fetch all 5,000 of
        // them, one that walked a whole index would read its every leaf.
        assert!(
            *seq_read == 0 && *index_fetched <= 3 && *pages <= 24,
            "`{table}`: {seq_read} rows scanned, {index_fetched} fetched by index and {pages} pages read to find one member's (of {ROWS})"
        );
    }
    assert!(
        generic >= 6,
        "the reads ran on plans made once ({generic} generic plans)"
    );
}
