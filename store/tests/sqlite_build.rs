//! The SQLite linked into the store is built the way `.cargo/config.toml` says: without STAT4,
//! under which each payout's reads — the same statements with another member's values — were
//! compiled afresh on every run once `ANALYZE` had kept its samples (BENCHMARKS.md §4).
#![allow(clippy::unwrap_used, reason = "tests")]

use sqlx::Connection as _;

async fn compile_options() -> Vec<String> {
    let mut c = sqlx::SqliteConnection::connect("sqlite::memory:")
        .await
        .unwrap();
    sqlx::query_scalar::<_, String>("PRAGMA compile_options")
        .fetch_all(&mut c)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_linked_sqlite_is_built_without_stat4_so_a_statement_keeps_its_plan_across_values() {
    let options = compile_options().await;
    // The build is the bundled one: its own options are there to be read.
    assert!(
        options.iter().any(|o| o == "ENABLE_FTS5"),
        "not libsqlite3-sys's bundled build: {options:?}"
    );
    assert!(
        !options.iter().any(|o| o.starts_with("ENABLE_STAT4")),
        "SQLite was built with STAT4 (is LIBSQLITE3_FLAGS in .cargo/config.toml?): {options:?}"
    );
}
