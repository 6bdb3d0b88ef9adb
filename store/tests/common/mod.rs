//! Shared set-up for the store's tests: a fresh database per test on every backend there is,
//! a fixed clock, the reference policies, and members with readings.
#![allow(dead_code, reason = "each test file uses part of this")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use incentive_engine::policy::{MemberProfile, PolicySource, SourceFile};
use incentive_engine::{Context, Glucose, GlucoseValue, MemberId, Reading, Source};
use incentive_store::{Clock, Store, StoreOptions};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// A database made for one test and dropped after it.
pub struct TestDb {
    pub url: String,
    pub label: &'static str,
    _dir: Option<tempfile::TempDir>,
    /// PostgreSQL: the server's admin URL and the database to drop.
    pg: Option<(String, String)>,
}

impl TestDb {
    pub async fn cleanup(mut self) {
        if let Some((admin, name)) = self.pg.take() {
            drop_pg_database(&admin, &name).await;
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    /// A database someone else made and removes (a test's own PostgreSQL server, say).
    pub fn kept_by_caller(url: String, label: &'static str) -> Self {
        Self {
            url,
            label,
            _dir: None,
            pg: None,
        }
    }
}

/// A test that ends without [`TestDb::cleanup`] — it failed, or returned early — still drops
/// its PostgreSQL database, so that no run leaves one behind on the server.
impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.pg.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on: a thread of its own.
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map(|rt| rt.block_on(drop_pg_database(&admin, &name)))
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("a test database could not be dropped");
        }
    }
}

async fn drop_pg_database(admin: &str, name: &str) {
    let pool = sqlx::PgPool::connect(admin).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

pub async fn sqlite_db() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    TestDb {
        url,
        label: "SQLite",
        _dir: Some(dir),
        pg: None,
    }
}

static NEXT_DB: AtomicU64 = AtomicU64::new(0);

/// A fresh PostgreSQL database when `INCENTIVE_TEST_PG_URL` names a server, else `None`.
pub async fn postgres_db() -> Option<TestDb> {
    let Ok(admin) = std::env::var("INCENTIVE_TEST_PG_URL") else {
        eprintln!(
            "PostgreSQL: skipped (INCENTIVE_TEST_PG_URL is not set); this test ran on SQLite only"
        );
        return None;
    };
    let name = format!(
        "incentive_test_{}_{}_{}",
        std::process::id(),
        NEXT_DB.fetch_add(1, Ordering::Relaxed),
        Utc::now().timestamp_micros() % 1_000_000_000
    );
    let pool = sqlx::PgPool::connect(&admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let (base, _) = admin.rsplit_once('/').unwrap();
    Some(TestDb {
        url: format!("{base}/{name}"),
        label: "PostgreSQL",
        _dir: None,
        pg: Some((admin, name)),
    })
}

/// One fresh database on each backend available.
pub async fn databases() -> Vec<TestDb> {
    let mut dbs = vec![sqlite_db().await];
    dbs.extend(postgres_db().await);
    dbs
}

/// A clock that starts at 2026-04-01T00:00:00Z and moves one millisecond each time it is read.
pub fn fixed_clock() -> Clock {
    let ticks = Arc::new(AtomicI64::new(0));
    let start = Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap();
    Arc::new(move || start + Duration::milliseconds(ticks.fetch_add(1, Ordering::Relaxed)))
}

pub fn options() -> StoreOptions {
    StoreOptions {
        clock: fixed_clock(),
        ..StoreOptions::default()
    }
}

/// `policies/` at the workspace root (this file is also included by the CLI's tests, whose
/// crate is the root).
pub fn policies_dir() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = if here.join("policies").is_dir() {
        here
    } else {
        here.join("..")
    };
    root.join("policies")
}

/// A reference policy's manifest, script and catalogs (its cases are not needed here).
pub fn policy(name: &str) -> PolicySource {
    policy_with(name, |m| m.to_owned())
}

/// A reference policy with its manifest changed by `edit`.
pub fn policy_with(name: &str, edit: impl Fn(&str) -> String) -> PolicySource {
    let dir = policies_dir().join(name);
    let manifest = std::fs::read_to_string(dir.join("policy.toml")).unwrap();
    let script = std::fs::read_to_string(dir.join("rules.rhai")).unwrap();
    let mut files = vec![
        SourceFile::new("policy.toml", edit(&manifest)),
        SourceFile::new("rules.rhai", script),
    ];
    let mut locales: Vec<_> = std::fs::read_dir(dir.join("locales"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    locales.sort();
    for path in locales {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        files.push(SourceFile::new(
            format!("locales/{name}"),
            std::fs::read_to_string(&path).unwrap(),
        ));
    }
    PolicySource {
        name: name.to_owned(),
        files,
    }
}

pub const TENANT: &str = "zhongan";
pub const PLAN: &str = "tangdaifu-smbg";

/// A store on `db` with tenant `zhongan` and `tangdaifu-smbg` published (its manifest edited
/// by `edit`).
pub async fn store_with_plan(db: &TestDb, edit: impl Fn(&str) -> String) -> Store {
    store_with_plan_on(db, options(), edit).await
}

/// [`store_with_plan`] on a store opened with `options`.
pub async fn store_with_plan_on(
    db: &TestDb,
    options: StoreOptions,
    edit: impl Fn(&str) -> String,
) -> Store {
    let store = Store::open(&db.url, options).await.unwrap();
    store.create_tenant(TENANT).await.unwrap();
    let v = store
        .put_policy(TENANT, &policy_with(PLAN, edit))
        .await
        .unwrap();
    store
        .publish_policy(TENANT, PLAN, &v.version)
        .await
        .unwrap();
    store
}

pub fn member(id: &str) -> MemberId {
    MemberId::parse(id).unwrap()
}

pub async fn enrol(store: &Store, id: &str) -> MemberId {
    let m = member(id);
    store
        .upsert_member(TENANT, &MemberProfile::new(m.clone()))
        .await
        .unwrap();
    m
}

/// Enrols member `id`, gives them `days` days of controlled March readings
/// ([`controlled_march`]) and pays them for March.
pub async fn paid(store: &Store, id: &str, days: u32) -> incentive_store::StoredDecision {
    let m = enrol(store, id).await;
    store
        .add_readings(TENANT, &m, controlled_march(days))
        .await
        .unwrap();
    store.pay(request(&m)).await.unwrap().decision
}

pub fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap()
}

/// A fasting reading at 07:00 Shanghai time on `day` of March 2026, `mmol_l` mmol/L.
pub fn fasting(day: u32, mmol_l: f64) -> Reading {
    at(day, 7, mmol_l, Context::Fasting)
}

pub fn at(day: u32, hour: u32, mmol_l: f64, context: Context) -> Reading {
    let time: DateTime<FixedOffset> = shanghai()
        .with_ymd_and_hms(2026, 3, day, hour, 0, 0)
        .unwrap();
    Reading {
        time,
        value: GlucoseValue::Measured(Glucose::from_mmol_l(mmol_l).unwrap()),
        context,
        source: Source::Smbg,
    }
}

/// March readings of a member in good control: a fasting 5.6 mmol/L and a post-meal 7.8 on
/// each of `days` days. Under tangdaifu-smbg this earns the top rebate, 30 CNY.
pub fn controlled_march(days: u32) -> Vec<Reading> {
    (1..=days)
        .flat_map(|d| [fasting(d, 5.6), at(d, 10, 7.8, Context::PostMeal)])
        .collect()
}

pub fn march() -> incentive_engine::Period {
    incentive_engine::Period::parse("2026-03").unwrap()
}

pub fn request(member: &MemberId) -> incentive_store::PayoutRequest {
    incentive_store::PayoutRequest {
        tenant: TENANT.into(),
        member: member.clone(),
        policy_id: PLAN.into(),
        period: march(),
    }
}

/// Runs SQL on the test database behind the store's back.
pub async fn raw(db: &TestDb, sql: &str) -> Result<u64, sqlx::Error> {
    if db.is_postgres() {
        let pool = sqlx::PgPool::connect(&db.url).await?;
        let n = sqlx::raw_sql(sql)
            .execute(&pool)
            .await
            .map(|r| r.rows_affected());
        pool.close().await;
        n
    } else {
        let pool = sqlx::SqlitePool::connect(&db.url).await?;
        let n = sqlx::raw_sql(sql)
            .execute(&pool)
            .await
            .map(|r| r.rows_affected());
        pool.close().await;
        n
    }
}

/// The integer a query of bound text values returns, read on either backend.
pub async fn query_i64(db: &TestDb, sql: &str, binds: &[&str]) -> i64 {
    let text = query_texts(db, &format!("SELECT CAST(({sql}) AS TEXT)"), binds).await;
    text.first()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("not one integer from {sql}: {text:?}"))
}

/// The one text column of each row a query of bound text values returns, on either backend.
pub async fn query_texts(db: &TestDb, sql: &str, binds: &[&str]) -> Vec<String> {
    if db.is_postgres() {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        let mut q = sqlx::query_scalar(sql);
        for b in binds {
            q = q.bind(*b);
        }
        let rows = q.fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    } else {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        let mut q = sqlx::query_scalar(sql);
        for b in binds {
            q = q.bind(*b);
        }
        let rows = q.fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    }
}

/// What an attacker with the database owner's rights does first.
pub async fn drop_the_guards(db: &TestDb) {
    if db.is_postgres() {
        for t in [
            "ledger_entries",
            "ledger_postings",
            "decisions",
            "policy_versions",
        ] {
            raw(db, &format!("ALTER TABLE {t} DISABLE TRIGGER USER"))
                .await
                .unwrap();
        }
    } else {
        for t in [
            "ledger_entries_append_only_update",
            "ledger_entries_append_only_delete",
            "ledger_postings_append_only_update",
            "ledger_postings_append_only_delete",
            "decisions_append_only_update",
            "decisions_append_only_delete",
            "policy_versions_published_are_immutable",
            "policy_versions_published_are_kept",
        ] {
            raw(db, &format!("DROP TRIGGER {t}")).await.unwrap();
        }
    }
}

/// The tenant's chain head, held from another connection as another process's payout would
/// hold it, until [`HeldHead::release`]: payouts asked for meanwhile genuinely wait.
pub struct HeldHead {
    release: tokio::sync::oneshot::Sender<()>,
    done: tokio::task::JoinHandle<()>,
}

impl HeldHead {
    pub async fn release(self) {
        let _ = self.release.send(());
        self.done.await.unwrap();
    }
}

pub async fn hold_chain_head(db: &TestDb, tenant: &str) -> HeldHead {
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let (held, is_held) = tokio::sync::oneshot::channel::<()>();
    let url = db.url.clone();
    let tenant = tenant.to_owned();
    let postgres = db.is_postgres();
    let done = tokio::spawn(async move {
        if postgres {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            let mut tx = pool.begin().await.unwrap();
            sqlx::query("SELECT seq FROM chain_heads WHERE tenant = $1 FOR UPDATE")
                .bind(&tenant)
                .fetch_one(&mut *tx)
                .await
                .unwrap();
            let _ = held.send(());
            let _ = released.await;
            tx.rollback().await.unwrap();
            pool.close().await;
        } else {
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            let tx = pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
            let _ = held.send(());
            let _ = released.await;
            tx.rollback().await.unwrap();
            pool.close().await;
        }
    });
    is_held.await.unwrap();
    HeldHead { release, done }
}
