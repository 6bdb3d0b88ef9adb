//! Faults, on a real `serve` process: killed outright (SIGKILL) under a stream of payouts and
//! started again, with every client retrying with its keys; its PostgreSQL server crashing and
//! coming back under the same stream, or its disk filling; and clients that hang up half-way
//! through a request, or before reading the answer. After each: no acknowledged payout lost,
//! none doubled, the ledger verifies, and the service carries on without a hand on it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

#[path = "../store/tests/common/mod.rs"]
mod common;
mod pg_cluster;
mod serve;
mod small_disk;

use common::*;
use incentive_store::tenants::Role;
use serve::*;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Enrols each member with a controlled March of readings: every one is paid.
async fn enrol_with_march(store: &incentive_store::Store, members: &[impl AsRef<str>]) {
    for m in members {
        let id = enrol(store, m.as_ref()).await;
        store
            .add_readings(TENANT, &id, controlled_march(20))
            .await
            .unwrap();
    }
}

async fn platform_key(store: &incentive_store::Store) -> String {
    store
        .create_key(TENANT, Role::Platform)
        .await
        .unwrap()
        .secret
}

fn payout_body(member: &str) -> String {
    format!("{{\"member_id\":\"{member}\",\"policy_id\":\"{PLAN}\",\"period\":\"2026-03\"}}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_payouts_then_a_restart_and_retries_lose_nothing_and_double_nothing() {
    for db in databases().await {
        let store = store_with_plan(&db, str::to_owned).await;
        let members: Vec<String> = (0..200).map(|i| format!("K{i:03}")).collect();
        enrol_with_march(&store, &members).await;
        let key = platform_key(&store).await;
        let auth = format!("Bearer {key}");
        let (mut child, addr) = spawn_serve(&db);
        // member → the decision its 2xx answer named.
        let acknowledged = Arc::new(Mutex::new(BTreeMap::<String, String>::new()));
        let mut clients = Vec::new();
        for slice in members.chunks(25) {
            let (slice, addr, auth, acknowledged) = (
                slice.to_vec(),
                addr.clone(),
                auth.clone(),
                acknowledged.clone(),
            );
            clients.push(std::thread::spawn(move || {
                for m in slice {
                    let headers = [
                        ("authorization", auth.as_str()),
                        ("idempotency-key", m.as_str()),
                    ];
                    match try_http(&addr, "/v1/payouts", &headers, &payout_body(&m)) {
                        Some((status, answer)) if status < 300 => {
                            let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
                            let id = v["decision"]["id"].as_str().unwrap().to_owned();
                            acknowledged.lock().unwrap().insert(m, id);
                        }
                        Some((status, answer)) => {
                            assert!(status < 500 || status == 503, "{status}: {answer}")
                        }
                        None => return,
                    }
                }
            }));
        }
        while acknowledged.lock().unwrap().len() < 30 {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        child.kill().unwrap(); // SIGKILL: no drain, no destructor, no flush.
        child.wait().unwrap();
        for c in clients {
            c.join().unwrap();
        }
        let acknowledged = acknowledged.lock().unwrap().clone();

        // Started again, with no repair step; every client retries every payout with its key.
        let (mut child, addr) = spawn_serve(&db);
        for m in &members {
            let headers = [
                ("authorization", auth.as_str()),
                ("idempotency-key", m.as_str()),
            ];
            let (status, answer) =
                try_http(&addr, "/v1/payouts", &headers, &payout_body(m)).unwrap();
            assert!(status < 300, "{}: {m}: {status} {answer}", db.label);
            let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
            if let Some(first) = acknowledged.get(m) {
                assert_eq!(
                    v["decision"]["id"],
                    first.as_str(),
                    "{}: {m} answered anew",
                    db.label
                );
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();

        let decisions = store.decisions(TENANT, None).await.unwrap();
        assert_eq!(
            decisions.len(),
            members.len(),
            "{}: one decision a member, none doubled",
            db.label
        );
        for (m, id) in &acknowledged {
            assert!(
                decisions.iter().any(|d| &d.id == id && &d.member_id == m),
                "{}: acknowledged payout {id} of {m} is missing",
                db.label
            );
        }
        let report = store.verify(Some(TENANT), &[]).await.unwrap();
        assert!(report.ok(), "{}: {report:?}", db.label);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_hang_up_mid_request_cost_nothing_and_the_server_carries_on() {
    for db in databases().await {
        let store = store_with_plan(&db, str::to_owned).await;
        enrol_with_march(&store, &["H1", "H2"]).await;
        let key = platform_key(&store).await;
        let auth = format!("Bearer {key}");
        let (mut child, addr) = spawn_serve(&db);

        // Half a body, then gone: nothing is decided.
        for _ in 0..20 {
            let mut s = std::net::TcpStream::connect(&addr).unwrap();
            let body = payout_body("H1");
            let head = format!(
                "POST /v1/payouts HTTP/1.1\r\nhost: x\r\nauthorization: {auth}\r\nidempotency-key: half\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            s.write_all(head.as_bytes()).unwrap();
            s.write_all(&body.as_bytes()[..body.len() / 2]).unwrap();
            drop(s);
        }
        // A whole request, then gone before the answer: it may be decided; a retry with the
        // key gets that decision, never a second one.
        for _ in 0..5 {
            let mut s = std::net::TcpStream::connect(&addr).unwrap();
            let body = payout_body("H2");
            let request = format!(
                "POST /v1/payouts HTTP/1.1\r\nhost: x\r\nauthorization: {auth}\r\nidempotency-key: gone\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            s.write_all(request.as_bytes()).unwrap();
            drop(s);
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert_eq!(
            http(&addr, "GET", "/readyz", &[], "").0,
            200,
            "{}",
            db.label
        );
        assert!(
            store
                .decisions(TENANT, Some("H1"))
                .await
                .unwrap()
                .is_empty(),
            "{}: half a request decided something",
            db.label
        );
        let headers = [
            ("authorization", auth.as_str()),
            ("idempotency-key", "gone"),
        ];
        let (status, answer) =
            try_http(&addr, "/v1/payouts", &headers, &payout_body("H2")).unwrap();
        assert!(status < 300, "{status} {answer}");
        let h2 = store.decisions(TENANT, Some("H2")).await.unwrap();
        assert_eq!(h2.len(), 1, "{}: {h2:?}", db.label);
        // And the first member is paid normally afterwards.
        let headers = [
            ("authorization", auth.as_str()),
            ("idempotency-key", "whole"),
        ];
        assert_eq!(
            try_http(&addr, "/v1/payouts", &headers, &payout_body("H1"))
                .unwrap()
                .0,
            201
        );
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(store.verify(Some(TENANT), &[]).await.unwrap().ok());
        store.close().await;
        db.cleanup().await;
    }
}

/// libfaketime, from Debian's package `faketime`, which .ci/run installs; elsewhere the test
/// says it was skipped. Preloaded through `env`, which becomes the server: the `faketime`
/// program forks, so killing it would leave the server it started running.
fn libfaketime() -> Option<String> {
    let found = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .map(|arch| arch.path().join("faketime/libfaketime.so.1"))
        .find(|lib| lib.exists());
    if found.is_none() {
        assert!(
            std::env::var_os("INCENTIVE_TEST_REQUIRE_FAKETIME").is_none(),
            "libfaketime is required here: apt-get install faketime"
        );
        eprintln!("clock skew: skipped (libfaketime is not installed)");
    }
    found.map(|lib| format!("LD_PRELOAD={}", lib.display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_whose_clocks_disagree_by_hours_pay_each_member_once_and_the_ledger_verifies() {
    let Some(preload) = libfaketime() else {
        return;
    };
    let Some(db) = postgres_db().await else {
        return;
    };
    let store = store_with_plan(&db, str::to_owned).await;
    let members: Vec<String> = (0..60).map(|i| format!("C{i:02}")).collect();
    enrol_with_march(&store, &members).await;
    let key = platform_key(&store).await;
    // One server three hours ahead, one two hours behind.
    let (mut ahead, addr_ahead) = spawn_serve_under(&db, &[], &["env", &preload, "FAKETIME=+3h"]);
    let (mut behind, addr_behind) = spawn_serve_under(&db, &[], &["env", &preload, "FAKETIME=-2h"]);
    let auth = format!("Bearer {key}");
    // Each server first pays five members of its own, so both clocks write entries whoever
    // wins the race below (one server can win every key of a race when it starts sooner).
    let pay = |addr: &str, members: &[String]| -> BTreeMap<String, String> {
        members
            .iter()
            .map(|m| {
                let headers = [
                    ("authorization", auth.as_str()),
                    ("idempotency-key", m.as_str()),
                ];
                let (status, answer) =
                    try_http(addr, "/v1/payouts", &headers, &payout_body(m)).unwrap();
                assert!(status < 300, "{status} {answer}");
                let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
                let id = v.pointer("/decision/id").and_then(|v| v.as_str());
                (m.clone(), id.unwrap().to_owned())
            })
            .collect()
    };
    let first_ahead = pay(&addr_ahead, &members[..5]);
    let first_behind = pay(&addr_behind, &members[5..10]);
    // Then both race over every key, from opposite ends, replaying the first ten.
    let reversed: Vec<String> = members.iter().rev().cloned().collect();
    let (answers_ahead, answers_behind) = std::thread::scope(|s| {
        let a = s.spawn(|| pay(&addr_ahead, &members));
        let b = s.spawn(|| pay(&addr_behind, &reversed));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!(
        answers_ahead, answers_behind,
        "both servers answer each key with the same decision"
    );
    for (m, id) in first_ahead.iter().chain(&first_behind) {
        assert_eq!(answers_ahead.get(m), Some(id), "{m}: a replay decided anew");
    }
    for child in [&mut ahead, &mut behind] {
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let decisions = store.decisions(TENANT, None).await.unwrap();
    assert_eq!(decisions.len(), members.len(), "each member paid once");
    // The entries' times come from two clocks five hours apart, and the chain still verifies.
    let times: std::collections::BTreeSet<&str> =
        decisions.iter().map(|d| &d.created_at[..13]).collect();
    assert!(times.len() >= 2, "the servers' clocks differed: {times:?}");
    assert!(store.verify(Some(TENANT), &[]).await.unwrap().ok());
    store.close().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_that_fills_mid_stream_refuses_payouts_whole_and_the_same_process_recovers_once_it_has_room()
 {
    let db = sqlite_db().await;
    let store = store_with_plan(&db, str::to_owned).await;
    let members: Vec<String> = (0..150).map(|i| format!("D{i:03}")).collect();
    enrol_with_march(&store, &members).await;
    let key = platform_key(&store).await;
    let auth = format!("Bearer {key}");
    // The server may write no file past 256 KiB: its write-ahead log fills after a few dozen
    // payouts, as a full disk would (SIGXFSZ ignored, so the write fails with EFBIG instead).
    // The log is emptied first, so the server's writes start at its beginning.
    raw(&db, "PRAGMA wal_checkpoint(TRUNCATE)").await.unwrap();
    let script = "trap '' XFSZ; ulimit -S -f 256; exec \"$0\" \"$@\"".to_owned();
    let wrapper = ["bash", "-c", script.as_str()];
    let (mut child, addr) = spawn_serve_under(&db, &[], &wrapper);
    let mut acknowledged = BTreeMap::new();
    let mut refused = 0;
    for m in &members {
        let headers = [
            ("authorization", auth.as_str()),
            ("idempotency-key", m.as_str()),
        ];
        let (status, answer) = try_http(&addr, "/v1/payouts", &headers, &payout_body(m)).unwrap();
        if status < 300 {
            let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
            acknowledged.insert(m.clone(), v["decision"]["id"].as_str().unwrap().to_owned());
        } else {
            // Out of room is "not now": 503, and the platform retries.
            assert_eq!(status, 503, "{answer}");
            assert!(
                !answer.contains("EFBIG") && !answer.contains("disk"),
                "{answer}"
            );
            refused += 1;
        }
    }
    assert!(
        refused > 0 && !acknowledged.is_empty(),
        "{refused} refused, {} paid",
        acknowledged.len()
    );
    assert_eq!(
        http(&addr, "GET", "/healthz", &[], "").0,
        200,
        "the process is still there"
    );

    // Room again, for the same process: every payout retried with its key.
    let pid = child.id().to_string();
    let lifted = std::process::Command::new("prlimit")
        .args(["--pid", &pid, "--fsize=unlimited"])
        .status()
        .unwrap();
    assert!(lifted.success());
    for m in &members {
        let headers = [
            ("authorization", auth.as_str()),
            ("idempotency-key", m.as_str()),
        ];
        let (status, answer) = try_http(&addr, "/v1/payouts", &headers, &payout_body(m)).unwrap();
        assert!(
            status < 300,
            "{m} after the disk has room: {status} {answer}"
        );
        if let Some(first) = acknowledged.get(m) {
            let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
            assert_eq!(v["decision"]["id"], first.as_str());
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let decisions = store.decisions(TENANT, None).await.unwrap();
    assert_eq!(decisions.len(), members.len(), "none lost, none doubled");
    assert!(store.verify(Some(TENANT), &[]).await.unwrap().ok());
    store.close().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_crashing_under_keyed_payouts_and_coming_back_loses_nothing_doubles_nothing_and_needs_no_hand()
 {
    postgres_down_under_payouts(Duration::from_secs(2), &[], false).await;
}

/// Down for longer than a request may wait for a connection, and longer than a request may
/// take: requests are answered 503 rather than held, and the process still comes back alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_down_longer_than_every_timeout_is_answered_503_and_the_same_process_comes_back()
{
    let flags = [
        "--pool-acquire-timeout-ms",
        "1000",
        "--request-timeout-ms",
        "2500",
    ];
    postgres_down_under_payouts(Duration::from_secs(6), &flags, true).await;
}

/// Eight clients paying 240 members with keys, retrying until acknowledged, while the test's
/// own PostgreSQL server crashes and stays down for `outage`. With `refusals_expected`, the
/// outage outlasts the server's timeouts, so some requests must have been answered 503.
async fn postgres_down_under_payouts(
    outage: Duration,
    serve_flags: &[&str],
    refusals_expected: bool,
) {
    let started = Instant::now();
    let Some(cluster) = pg_cluster::Cluster::start() else {
        return;
    };
    eprintln!("cluster up: {:?}", started.elapsed());
    let admin = sqlx::PgPool::connect(&cluster.url("postgres"))
        .await
        .unwrap();
    sqlx::query("CREATE DATABASE incentive")
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let db = TestDb::kept_by_caller(cluster.url("incentive"), "PostgreSQL of its own");
    let store = store_with_plan(&db, str::to_owned).await;
    let members: Vec<String> = (0..240).map(|i| format!("P{i:03}")).collect();
    enrol_with_march(&store, &members).await;
    let key = platform_key(&store).await;
    let auth = format!("Bearer {key}");
    eprintln!("members enrolled: {:?}", started.elapsed());
    let (mut child, addr) = spawn_serve_with(&db, serve_flags);

    // Eight clients, each paying its members in turn and retrying a payout with its key until
    // it is acknowledged, as a platform must. Every answer that is not one is counted by kind.
    let acknowledged = Arc::new(Mutex::new(BTreeMap::<String, String>::new()));
    let failures = Arc::new(Mutex::new(BTreeMap::<String, usize>::new()));
    let mut clients = Vec::new();
    for slice in members.chunks(30) {
        let (slice, addr, auth) = (slice.to_vec(), addr.clone(), auth.clone());
        let (acknowledged, failures) = (acknowledged.clone(), failures.clone());
        clients.push(std::thread::spawn(move || {
            for m in slice {
                let deadline = Instant::now() + Duration::from_secs(90);
                loop {
                    let headers = [
                        ("authorization", auth.as_str()),
                        ("idempotency-key", m.as_str()),
                    ];
                    let kind = match try_http(&addr, "/v1/payouts", &headers, &payout_body(&m)) {
                        Some((status, answer)) if status < 300 => {
                            let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
                            let id = v.pointer("/decision/id").and_then(|v| v.as_str());
                            acknowledged
                                .lock()
                                .unwrap()
                                .insert(m, id.unwrap().to_owned());
                            break;
                        }
                        Some((status, answer)) => {
                            assert!(status >= 500, "{m}: {status} {answer}");
                            format!("{status}")
                        }
                        None => "no answer".to_owned(),
                    };
                    *failures.lock().unwrap().entry(kind).or_default() += 1;
                    assert!(Instant::now() < deadline, "{m}: never acknowledged");
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }));
    }
    while acknowledged.lock().unwrap().len() < 40 {
        std::thread::sleep(Duration::from_millis(2));
    }
    cluster.crash();
    let at_crash = acknowledged.lock().unwrap().len();
    // Down for real: the database refuses connections while the server keeps answering.
    let direct = <sqlx::PgConnection as sqlx::Connection>::connect(&cluster.url("incentive"));
    assert!(direct.await.is_err());
    let asked = Instant::now();
    let ready_while_down = http(&addr, "GET", "/readyz", &[], "").0;
    assert!(
        asked.elapsed() < Duration::from_secs(4),
        "/readyz answered in {:?}: a probe wants an answer, not a wait",
        asked.elapsed()
    );
    std::thread::sleep(outage.saturating_sub(asked.elapsed()));
    eprintln!("down for: {:?}", outage.max(asked.elapsed()));
    cluster.start_again();
    eprintln!("restarted at: {:?}", started.elapsed());
    for c in clients {
        c.join().unwrap();
    }
    eprintln!("all acknowledged at: {:?}", started.elapsed());
    let acknowledged = acknowledged.lock().unwrap().clone();
    let failures = failures.lock().unwrap().clone();
    eprintln!(
        "acknowledged before the crash: {at_crash}; answers that were not an acknowledgement: \
         {failures:?}; /readyz while down: {ready_while_down}"
    );
    assert_eq!(ready_while_down, 503, "/readyz says the database is gone");
    if refusals_expected {
        assert!(
            failures.get("503").is_some_and(|n| *n > 0),
            "requests held past the timeouts rather than answered: {failures:?}"
        );
    }
    assert!(
        failures.keys().all(|k| k == "503" || k == "no answer"),
        "a database that is down is a 503 (retry), never a 500: {failures:?}"
    );
    assert!(
        at_crash < members.len(),
        "the crash came before the stream ended"
    );
    assert_eq!(
        acknowledged.len(),
        members.len(),
        "every member acknowledged"
    );
    // The same process serves on: no restart, no repair step.
    assert_eq!(http(&addr, "GET", "/readyz", &[], "").0, 200);
    child.kill().unwrap();
    child.wait().unwrap();

    let decisions = store.decisions(TENANT, None).await.unwrap();
    assert_eq!(
        decisions.len(),
        members.len(),
        "one decision a member, none doubled"
    );
    for (m, id) in &acknowledged {
        assert!(
            decisions.iter().any(|d| &d.id == id && &d.member_id == m),
            "acknowledged payout {id} of {m} is missing"
        );
    }
    let report = store.verify(Some(TENANT), &[]).await.unwrap();
    assert!(report.ok(), "{report:?}");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_disk_that_fills_mid_stream_refuses_payouts_whole_with_503_and_the_same_process_pays_once_there_is_room()
 {
    let Some(cluster) = pg_cluster::Cluster::start() else {
        return;
    };
    // The database's tables live on a 24 MiB tmpfs (its write-ahead log stays on the big
    // disk): ENOSPC there is PostgreSQL's "could not extend file", SQLSTATE 53100.
    let Some(disk) = cluster.small_tablespace("small", 24) else {
        return;
    };
    let admin = sqlx::PgPool::connect(&cluster.url("postgres"))
        .await
        .unwrap();
    for sql in [
        format!("CREATE TABLESPACE small LOCATION '{}'", disk.path.display()),
        "CREATE DATABASE incentive TABLESPACE small".to_owned(),
    ] {
        sqlx::raw_sql(&sql).execute(&admin).await.unwrap();
    }
    admin.close().await;
    let db = TestDb::kept_by_caller(cluster.url("incentive"), "PostgreSQL on a small disk");
    let store = store_with_plan(&db, str::to_owned).await;
    let members: Vec<String> = (0..150).map(|i| format!("F{i:03}")).collect();
    enrol_with_march(&store, &members).await;
    let key = platform_key(&store).await;
    let auth = format!("Bearer {key}");

    // Fill the disk with tables of about 240 KiB until one does not fit, then drop one: room
    // for a few dozen payouts, not for 150.
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let mut fillers = 0;
    loop {
        let fill = format!(
            "CREATE TABLE filler_{fillers} AS SELECT repeat('x', 900) AS pad FROM generate_series(1, 256)"
        );
        match sqlx::raw_sql(&fill).execute(&pool).await {
            Ok(_) => fillers += 1,
            Err(e) => {
                let code = e.as_database_error().and_then(|d| d.code());
                assert_eq!(code.as_deref(), Some("53100"), "{e}");
                break;
            }
        }
        assert!(fillers < 200, "24 MiB never filled");
    }
    sqlx::raw_sql("DROP TABLE filler_0")
        .execute(&pool)
        .await
        .unwrap();

    let (mut child, addr) = spawn_serve(&db);
    let pay = |m: &str| {
        let headers = [("authorization", auth.as_str()), ("idempotency-key", m)];
        try_http(&addr, "/v1/payouts", &headers, &payout_body(m)).unwrap()
    };
    let mut acknowledged = BTreeMap::new();
    let mut refused = Vec::new();
    for m in &members {
        let (status, answer) = pay(m);
        if status < 300 {
            let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
            let id = v.pointer("/decision/id").and_then(|v| v.as_str());
            acknowledged.insert(m.clone(), id.unwrap().to_owned());
        } else {
            // A full disk is "not now": 503, and the platform retries.
            assert_eq!(status, 503, "{m}: {answer}");
            refused.push(m.clone());
        }
    }
    eprintln!(
        "{} fillers; acknowledged with the disk filling: {}; refused: {}",
        fillers,
        acknowledged.len(),
        refused.len()
    );
    assert!(
        !acknowledged.is_empty() && !refused.is_empty(),
        "the disk filled mid-stream"
    );
    // Refused whole: nothing decided or posted for a refused payout.
    for m in &refused {
        let decided = store.decisions(TENANT, Some(m)).await.unwrap();
        assert!(decided.is_empty(), "{m}: refused yet decided: {decided:?}");
    }
    assert!(store.verify(Some(TENANT), &[]).await.unwrap().ok());

    // Room again; the same process, every payout retried with its key.
    for n in 1..fillers {
        sqlx::raw_sql(&format!("DROP TABLE filler_{n}"))
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
    for m in &members {
        let (status, answer) = pay(m);
        assert!(status < 300, "{m}: {status} {answer}");
        let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
        if let Some(first) = acknowledged.get(m) {
            assert_eq!(
                v.pointer("/decision/id").and_then(|v| v.as_str()),
                Some(first.as_str()),
                "{m} answered anew"
            );
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let decisions = store.decisions(TENANT, None).await.unwrap();
    assert_eq!(decisions.len(), members.len(), "one decision a member");
    assert!(store.verify(Some(TENANT), &[]).await.unwrap().ok());
    store.close().await;
}
