//! The two backends behind one handle, chosen by URL, and the column types that read the same
//! on both.
//!
//! The rest of the crate is written once: a query is written inside [`on_pool!`] or
//! [`on_conn!`], which expand it for SQLite and for PostgreSQL, and the values it binds and
//! reads are types that encode and decode on both ([`Money`], [`Instant`] and the plain
//! integers, strings and booleans). Where the SQL itself differs, the two arms are written out.

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, Postgres};
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection as _, Database};
use std::str::FromStr;
use std::time::Duration;

use crate::error::StoreError;

mod columns;
pub use columns::{Instant, Money};

/// Which database a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }
}

/// Limits of the connection pool, with units in their names.
#[derive(Clone, Debug)]
pub struct PoolLimits {
    /// Connections a process opens at most (SQLite readers; PostgreSQL connections).
    pub pool_connections_max: u32,
    /// How long a writer waits for SQLite's write lock held by another process.
    pub sqlite_busy_timeout_ms: u64,
    /// How long a caller waits for a free connection.
    pub pool_acquire_timeout_ms: u64,
}

impl Default for PoolLimits {
    fn default() -> Self {
        Self {
            pool_connections_max: 8,
            sqlite_busy_timeout_ms: 10_000,
            pool_acquire_timeout_ms: 30_000,
        }
    }
}

/// How long a PostgreSQL connection may sit in the pool before it is pinged on its next use.
pub const PG_PING_AFTER_IDLE_MS: u64 = 1_000;

/// Rows sqlx's SQLite driver may hand from the connection's thread before the reader takes
/// them (sqlx's default is 50): a payout group reads about twenty reading rows a member, and a
/// full channel stops the thread until the reader catches up.
const SQLITE_ROW_CHANNEL_ROWS: usize = 2_048;

/// A pool of either backend.
#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPools),
}

/// PostgreSQL's connections, in two pools that share the process's limit.
///
/// `reads` serves reads outside a transaction (a payout group's, previews', keys'), every one
/// a lookup by key ([`ByKeys`], the members' records): each statement is kept prepared and
/// planned once a connection (`plan_cache_mode = force_generic_plan`), since planning it for
/// its values every time was most of what a lone payout's reads cost the server (0.43 of 0.57
/// ms, BENCHMARKS.md §4). A plan made once must be right whatever the tables hold later:
/// the statements look each key up by itself, and `enable_seqscan = off` keeps a plan made
/// while a table was nearly empty from scanning it for each key ever after.
///
/// `writes` keeps PostgreSQL's defaults (a statement kept prepared gets a generic plan after
/// five runs if it is no worse), and every write transaction and bulk upload runs there, where
/// a whole-table scan is sometimes the right plan.
#[derive(Clone, Debug)]
pub(crate) struct PgPools {
    pub(crate) writes: PgPool,
    reads: PgPool,
}

/// Runs `$body` with `$p` bound to the backend's pool, once per backend.
macro_rules! on_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            $crate::db::Pool::Sqlite($p) => $body,
            $crate::db::Pool::Postgres($crate::db::PgPools { writes: $p, .. }) => $body,
        }
    };
}
pub(crate) use on_pool;

/// A write transaction of either backend, or a read ([`Pool::begin_read`], [`Pool::reads`]).
#[derive(Debug)]
pub(crate) enum Tx {
    Sqlite(Handle<Sqlite>),
    Postgres(Handle<Postgres>),
}

/// A connection in a transaction, or taken only to read outside any.
///
/// Reads by key need no transaction where what they read is made safe otherwise: what a group
/// of payouts reads is made safe by the chain head, read first and compared under its lock
/// before anything is written (`group::decide_group`), not by a snapshot. On PostgreSQL, at the
/// `READ COMMITTED` a transaction would run at, each statement sees what had committed when it
/// started, in a transaction or not, and `BEGIN` is one more round trip (about a fifth of a
/// millisecond here, a tenth of a lone payout). On SQLite a read of several statements stays
/// in a transaction (one snapshot, one read lock on the WAL: outside one, a group's reads
/// measured no faster, BENCHMARKS.md §4); a read of one statement made safe by the head needs
/// none ([`Pool::reads`]).
#[derive(Debug)]
pub(crate) enum Handle<Db: Database> {
    Transaction(sqlx::Transaction<'static, Db>),
    Reads(sqlx::pool::PoolConnection<Db>),
}

impl<Db: Database> std::ops::Deref for Handle<Db> {
    type Target = Db::Connection;

    fn deref(&self) -> &Db::Connection {
        match self {
            Self::Transaction(t) => t,
            Self::Reads(c) => c,
        }
    }
}

impl<Db: Database> std::ops::DerefMut for Handle<Db> {
    fn deref_mut(&mut self) -> &mut Db::Connection {
        match self {
            Self::Transaction(t) => t,
            Self::Reads(c) => c,
        }
    }
}

impl<Db: Database> Handle<Db> {
    async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Transaction(t) => t.commit().await,
            // Nothing written: the connection goes back to the pool when dropped.
            Self::Reads(_) => Ok(()),
        }
    }

    async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Transaction(t) => t.rollback().await,
            Self::Reads(_) => Ok(()),
        }
    }
}

/// Runs `$body` with `$c` bound to the transaction's connection, once per backend; the second
/// form also names the backend's `sqlx::Database` type (for a `QueryBuilder`).
macro_rules! on_tx {
    ($tx:expr, $c:ident, $db:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t) => {
                #[allow(dead_code)]
                type $db = sqlx::Sqlite;
                let $c = &mut **t;
                $body
            }
            $crate::db::Tx::Postgres(t) => {
                #[allow(dead_code)]
                type $db = sqlx::Postgres;
                let $c = &mut **t;
                $body
            }
        }
    };
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::db::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}
pub(crate) use on_tx;

/// How a backend runs a write of several statements (`end_statement!`, `run_statements!`).
/// sqlx runs each SQLite call on the connection's own thread, two thread hops a statement —
/// most of what a lone payout's small `INSERT`s cost (BENCHMARKS.md §4) — so on SQLite the
/// statements are gathered into one text and run in one call, each binding its own values.
/// PostgreSQL binds values for one statement at a time, so there each runs as it is built.
pub(crate) trait Statements: Database {
    const GATHERED: bool;
}

impl Statements for Sqlite {
    const GATHERED: bool = true;
}

impl Statements for Postgres {
    const GATHERED: bool = false;
}

/// `end_statement!(q, c, Db)`, inside `on_tx!`: ends the statement just written into `q`
/// (begun as `QueryBuilder::new("")`): on PostgreSQL runs it and empties `q` for the next; on
/// SQLite keeps it for `run_statements!`. (Macros rather than functions: a built query's
/// arguments must be taken for as long as it is borrowed, which the concrete types allow.)
macro_rules! end_statement {
    ($q:ident, $c:expr, $db:ty) => {
        if <$db as $crate::db::Statements>::GATHERED {
            $q.push(";\n");
        } else {
            $q.build().persistent(false).execute(&mut *$c).await?;
            $q.reset();
        }
    };
}
pub(crate) use end_statement;

/// `run_statements!(q, c)`, inside `on_tx!`: runs what `end_statement!` gathered (SQLite);
/// nothing is left on PostgreSQL.
macro_rules! run_statements {
    ($q:ident, $c:expr) => {
        if !$q.sql().trim().is_empty() {
            $q.build().persistent(false).execute(&mut *$c).await?;
            $q.reset();
        }
    };
}
pub(crate) use run_statements;

/// Reading a tenant's rows by a list of keys: `Db::select_by_keys(select, tenant, column,
/// keys)`, then any ` AND …` conditions on the table's rows, then `Db::end_by_keys(&mut q)`,
/// then any ` ORDER BY …` of the table's columns.
///
/// SQLite: `SELECT … WHERE tenant = ? AND column IN (SELECT value FROM json_each(?))`, the
/// keys bound as one JSON array. PostgreSQL: the keys bound as one array, and each looked up by itself —
/// `SELECT t.* FROM unnest($1) AS keys(key) CROSS JOIN LATERAL (SELECT … WHERE tenant = $2
/// AND column = keys.key … OFFSET 0) AS t` — so that the statement's one plan is right
/// whatever the table held when it was made. One text whatever the list's length, so the
/// statement is kept prepared where it is read outside a transaction ([`Tx::keeps_prepared`]):
/// sqlx sends a statement it does not keep in two round trips, one it keeps in one. Kept, it is
/// planned once a connection (the reads' pool, [`PgPools`]); written as `column = ANY($1)` its
/// one plan, made while `decisions` was small, scanned all of a tenant's decisions for each
/// payout ever after (measured: BENCHMARKS.md §4), while a subquery a key that cannot be
/// pulled up (`OFFSET 0`) can only be a lookup of that key.
pub(crate) trait ByKeys: Database {
    /// `select` is `SELECT … FROM table`; the rows are those of `tenant` whose `column` is one
    /// of `keys`.
    fn select_by_keys<'a>(
        select: &str,
        tenant: &'a str,
        column: &'static str,
        keys: &[&'a str],
    ) -> sqlx::QueryBuilder<'a, Self> {
        let mut q = sqlx::QueryBuilder::new("");
        Self::push_select_by_keys(&mut q, select, tenant, column, keys);
        q
    }

    /// [`ByKeys::select_by_keys`] written at the end of `q`: one statement of several gathered
    /// into one text (SQLite, [`gathered`]).
    fn push_select_by_keys<'a>(
        q: &mut sqlx::QueryBuilder<'a, Self>,
        select: &str,
        tenant: &'a str,
        column: &'static str,
        keys: &[&'a str],
    );

    /// Ends the conditions of a statement of [`ByKeys::select_by_keys`]; an ` ORDER BY` may
    /// follow, naming the table's columns.
    fn end_by_keys(q: &mut sqlx::QueryBuilder<'_, Self>);
}

impl ByKeys for Sqlite {
    fn push_select_by_keys<'a>(
        q: &mut sqlx::QueryBuilder<'a, Self>,
        select: &str,
        tenant: &'a str,
        column: &'static str,
        keys: &[&'a str],
    ) {
        // The keys as one JSON array, so the text is the same whatever their number and the
        // statement is kept prepared: preparing it again cost more than running it (a lone
        // payout's reads, BENCHMARKS.md §4). SQLite still looks each key up in the index
        // (`LIST SUBQUERY`, in key order).
        let list = serde_json::Value::from(keys.to_vec()).to_string();
        q.push(select);
        q.push(" WHERE tenant = ").push_bind(tenant);
        q.push(" AND ")
            .push(column)
            .push(" IN (SELECT value FROM json_each(")
            .push_bind(list)
            .push("))");
    }

    fn end_by_keys(_: &mut sqlx::QueryBuilder<'_, Self>) {}
}

impl ByKeys for Postgres {
    fn push_select_by_keys<'a>(
        q: &mut sqlx::QueryBuilder<'a, Self>,
        select: &str,
        tenant: &'a str,
        column: &'static str,
        keys: &[&'a str],
    ) {
        q.push("SELECT t.* FROM unnest(");
        q.push_bind(keys.to_vec())
            .push("::text[]) AS keys(key) CROSS JOIN LATERAL (")
            .push(select)
            .push(" WHERE tenant = ")
            .push_bind(tenant)
            .push(" AND ")
            .push(column)
            .push(" = keys.key");
    }

    fn end_by_keys(q: &mut sqlx::QueryBuilder<'_, Self>) {
        q.push(" OFFSET 0) AS t");
    }
}

/// What one statement of several run in one call gave ([`gathered`]): the rows it read and
/// the rows it changed.
#[derive(Default)]
pub(crate) struct Gathered {
    pub(crate) rows: Vec<sqlx::sqlite::SqliteRow>,
    pub(crate) changes: u64,
}

/// SQLite: runs the statements gathered into `q` (each ended by `;`) in one call to the
/// driver's thread and returns what each gave, in order; `statements` is how many there are.
/// sqlx's SQLite driver runs a text of several statements, each binding its own values, as
/// the writes gathered by [`end_statement!`] rely on too; a statement is two thread hops or
/// more whatever it does (BENCHMARKS.md §4), so a payout group's reads cost one call rather
/// than six. `persistent`: whether the text is kept prepared (one that is the same every
/// time, as reads by key are, [`ByKeys`]).
pub(crate) async fn gathered(
    c: &mut sqlx::SqliteConnection,
    q: &mut sqlx::QueryBuilder<'_, Sqlite>,
    statements: usize,
    persistent: bool,
) -> Result<Vec<Gathered>, StoreError> {
    use futures_util::TryStreamExt as _;
    use sqlx::Executor as _;
    let mut out: Vec<Gathered> = Vec::with_capacity(statements);
    let mut current = Gathered::default();
    let mut steps = c.fetch_many(q.build().persistent(persistent));
    while let Some(step) = steps.try_next().await? {
        match step {
            sqlx::Either::Left(done) => {
                current.changes = done.rows_affected();
                out.push(std::mem::take(&mut current));
            }
            sqlx::Either::Right(row) => current.rows.push(row),
        }
    }
    if out.len() != statements {
        return Err(StoreError::Corrupt(format!(
            "{statements} statements run in one call gave {} results",
            out.len()
        )));
    }
    Ok(out)
}

impl Tx {
    /// Whether a statement of [`ByKeys`] is kept prepared on this handle: on SQLite (one text
    /// whatever the list's length) and on PostgreSQL's reads ([`ByKeys`]); in a PostgreSQL
    /// transaction it would get a generic plan.
    pub(crate) fn keeps_prepared(&self) -> bool {
        matches!(self, Self::Sqlite(_) | Self::Postgres(Handle::Reads(_)))
    }

    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Sqlite(t) => t.commit().await,
            Self::Postgres(t) => t.commit().await,
        }
    }

    /// Rolls back now, rather than when the connection is next used, as a dropped
    /// transaction is: on SQLite the write lock is let go before this returns.
    pub(crate) async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Sqlite(t) => t.rollback().await,
            Self::Postgres(t) => t.rollback().await,
        }
    }
}

/// A PostgreSQL pool of at most `max` connections.
async fn pg_pool(
    url: &str,
    options: PgConnectOptions,
    max: u32,
    acquire: Duration,
) -> Result<PgPool, StoreError> {
    PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(acquire)
        // A ping only for a connection idle a while: a ping before every use is a round
        // trip a transaction, two of a lone payout's dozen (BENCHMARKS.md §4), while a
        // connection in steady use is one the server has just answered. One idle past
        // `PG_PING_AFTER_IDLE_MS` may have been dropped (a restart, a failover) and is
        // replaced if the ping fails; one dropped sooner fails its next statement, an
        // I/O error the API answers as transient (503, `Retry-After`), and is replaced.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= Duration::from_millis(PG_PING_AFTER_IDLE_MS) {
                    conn.ping().await?;
                }
                Ok(!conn.is_in_transaction())
            })
        })
        .connect_with(options)
        .await
        .map_err(|e| StoreError::connect(url, e))
}

impl Pool {
    /// Opens the database a URL names: `sqlite://FILE` (created if missing) or `postgres://…`.
    pub(crate) async fn connect(url: &str, limits: &PoolLimits) -> Result<Self, StoreError> {
        let acquire = Duration::from_millis(limits.pool_acquire_timeout_ms);
        if url.starts_with("sqlite:") {
            // WAL lets readers go on while one writer commits. synchronous=FULL: a payout
            // acknowledged is on disk even if the machine loses power (NORMAL would only
            // survive a crash of the process). Writers take the lock up front (BEGIN
            // IMMEDIATE, see `begin`) so that two never deadlock upgrading a read lock.
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::BadUrl {
                    url: url.to_owned(),
                    reason: e.to_string(),
                })?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_millis(limits.sqlite_busy_timeout_ms))
                .row_buffer_size(SQLITE_ROW_CHANNEL_ROWS);
            // A connection still in a transaction when it is taken from the pool is out of
            // step with its database: when a COMMIT fails because the disk is full, SQLite has
            // already rolled the transaction back, the driver's ROLLBACK then fails, and its
            // count of open transactions stays at one — every later BEGIN on that connection
            // would fail. Such a connection is closed and replaced (tests/faults.rs).
            let pool = SqlitePoolOptions::new()
                .max_connections(limits.pool_connections_max.max(1))
                .acquire_timeout(acquire)
                // No ping before each use: a file has no server to drop a connection, and the
                // ping is one more hop to the connection's thread per transaction.
                .test_before_acquire(false)
                .before_acquire(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
                .connect_with(options)
                .await
                .map_err(|e| StoreError::connect(url, e))?;
            Ok(Self::Sqlite(pool))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url).map_err(|e| StoreError::BadUrl {
                url: url.to_owned(),
                reason: e.to_string(),
            })?;
            // The reads' share of the limit is half. A limit of one is one pool for both,
            // planning every statement for its values: right for reads and writes alike, and
            // slower for both.
            let max = limits.pool_connections_max.max(1);
            let by_key = options.clone().options([
                ("enable_seqscan", "off"),
                ("plan_cache_mode", "force_generic_plan"),
            ]);
            let (writes, reads) = if max < 2 {
                let custom = options.options([("plan_cache_mode", "force_custom_plan")]);
                let one = pg_pool(url, custom, 1, acquire).await?;
                (one.clone(), one)
            } else {
                (
                    pg_pool(url, options, max - max / 2, acquire).await?,
                    pg_pool(url, by_key, max / 2, acquire).await?,
                )
            };
            Ok(Self::Postgres(PgPools { writes, reads }))
        } else {
            Err(StoreError::BadUrl {
                url: url.to_owned(),
                reason: "expected `sqlite://FILE` or `postgres://…`".into(),
            })
        }
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the backend's migrations that are not applied yet.
    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(p) => sqlx::migrate!("migrations/sqlite").run(p).await,
            Self::Postgres(p) => sqlx::migrate!("migrations/postgres").run(&p.writes).await,
        }
        .map_err(|e| StoreError::Migration(e.to_string()))
    }

    /// Starts a write transaction. SQLite takes the database's write lock now; PostgreSQL
    /// takes row locks as the transaction goes (the chain head, `FOR UPDATE`).
    pub(crate) async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Self::Sqlite(p) => {
                Tx::Sqlite(Handle::Transaction(p.begin_with("BEGIN IMMEDIATE").await?))
            }
            Self::Postgres(p) => Tx::Postgres(Handle::Transaction(p.writes.begin().await?)),
        })
    }

    /// Starts reading: on SQLite a transaction that does not take the write lock, so it never
    /// waits behind (or holds up) the payout writer, and sees one snapshot; on PostgreSQL a
    /// connection outside any transaction ([`Handle`]).
    pub(crate) async fn begin_read(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Self::Sqlite(p) => Tx::Sqlite(Handle::Transaction(p.begin().await?)),
            Self::Postgres(p) => Tx::Postgres(Handle::Reads(p.reads.acquire().await?)),
        })
    }

    /// A connection to read outside any transaction on either backend ([`Handle`]): each
    /// statement sees the last commit before it began, and nothing holds two reads together,
    /// so only for reads made safe otherwise — a chain head compared with where a payout
    /// group read it.
    pub(crate) async fn reads(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Self::Sqlite(p) => Tx::Sqlite(Handle::Reads(p.acquire().await?)),
            Self::Postgres(p) => Tx::Postgres(Handle::Reads(p.reads.acquire().await?)),
        })
    }

    /// SQLite: copies the log into the database file (`PASSIVE`: it never waits for a writer
    /// or a reader), so that the next commit can start the log again from its beginning rather
    /// than copy it itself (`payout::Checkpoints`, which bounds how long its lane waits for
    /// this). PostgreSQL checkpoints by itself.
    pub(crate) async fn checkpoint(&self) -> Result<(), sqlx::Error> {
        if let Self::Sqlite(p) = self {
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(p)
                .await?;
        }
        Ok(())
    }

    pub(crate) async fn close(&self) {
        match self {
            Self::Sqlite(p) => p.close().await,
            Self::Postgres(p) => {
                p.reads.close().await;
                p.writes.close().await;
            }
        }
    }
}

#[cfg(test)]
mod by_keys_tests {
    //! SQLite reads a list of keys as one JSON array (one statement text whatever the list's
    //! length, so it stays prepared); SQLite must still look each key up in the table's key.

    use super::ByKeys;
    use sqlx::{Connection, Row};

    #[tokio::test]
    async fn every_read_by_keys_on_sqlite_looks_each_key_up_rather_than_scanning_the_table() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("plans.db").display());
        let store = crate::Store::open(&url, crate::StoreOptions::default())
            .await
            .expect("a store");
        drop(store);
        let mut c = sqlx::SqliteConnection::connect(&url)
            .await
            .expect("a connection");
        let reads = [
            (
                "members",
                "member_id",
                "EXPLAIN QUERY PLAN SELECT member_id FROM members",
            ),
            (
                "readings",
                "member_id",
                "EXPLAIN QUERY PLAN SELECT member_id, time_ms, mg_dl FROM readings",
            ),
            (
                "labs",
                "member_id",
                "EXPLAIN QUERY PLAN SELECT member_id, hba1c FROM labs",
            ),
            (
                "decisions",
                "member_id",
                "EXPLAIN QUERY PLAN SELECT id, period FROM decisions",
            ),
            (
                "account_balances",
                "account",
                "EXPLAIN QUERY PLAN SELECT account, balance FROM account_balances",
            ),
            (
                "idempotency_keys",
                "key",
                "EXPLAIN QUERY PLAN SELECT key, status FROM idempotency_keys",
            ),
        ];
        for (table, column, select) in reads {
            for keys in [vec!["a"], vec!["a", "b\"", "c"]] {
                let mut q = sqlx::Sqlite::select_by_keys(select, "t", column, &keys);
                sqlx::Sqlite::end_by_keys(&mut q);
                let plan: Vec<String> = q
                    .build()
                    .fetch_all(&mut c)
                    .await
                    .expect("a plan")
                    .iter()
                    .map(|r| r.get::<String, _>("detail"))
                    .collect();
                let plan = plan.join(" / ");
                assert!(
                    plan.contains(&format!("SEARCH {table} USING"))
                        && plan.contains(&format!("{column}=?"))
                        && !plan.contains(&format!("SCAN {table}")),
                    "{table} by {column}: {plan}"
                );
            }
        }
    }
}
