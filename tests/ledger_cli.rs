//! The auditor's and operator's commands against real databases: `db migrate`, `admin`, and
//! `ledger verify|checkpoint|replay|export`, through the real binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

#[path = "../store/tests/common/mod.rs"]
mod common;
mod serve;

use common::*;
use serve::*;
use std::process::{Command, Output};

fn incentive(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_incentive"))
        .args(args)
        .env_remove("INCENTIVE_DB")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A database with tangdaifu-smbg published and two members paid for March.
async fn paid_ledger(db: &TestDb) {
    let store = store_with_plan(db, str::to_owned).await;
    for id in ["M1", "M2"] {
        let m = enrol(&store, id).await;
        store
            .add_readings(TENANT, &m, controlled_march(5))
            .await
            .unwrap();
        store.pay(request(&m)).await.unwrap();
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn db_migrate_creates_the_schema_and_names_a_url_it_cannot_use() {
    for db in databases().await {
        let out = incentive(&["db", "migrate", "--db", &db.url]);
        assert!(out.status.success(), "{}: {}", db.label, stderr(&out));
        assert_eq!(
            stdout(&out),
            format!("the {} schema is up to date\n", db.label)
        );
        // Twice is fine: migrations already applied are skipped.
        assert!(
            incentive(&["db", "migrate", "--db", &db.url])
                .status
                .success()
        );
        db.cleanup().await;
    }
    let out = incentive(&["db", "migrate", "--db", "mysql://somewhere/x"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("database URL `mysql://somewhere/x` is not usable"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_prints_the_head_and_a_checkpoint_proves_the_ledger_extends_it() {
    for db in databases().await {
        paid_ledger(&db).await;
        let out = incentive(&["ledger", "verify", "--db", &db.url]);
        assert!(out.status.success(), "{}: {}", db.label, stderr(&out));
        let text = stdout(&out);
        assert!(
            text.starts_with("zhongan: ok — 3 entries, 2 decisions, 4 accounts; head 3 sha256:"),
            "{text}"
        );

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("checkpoint.jsonl");
        let out = incentive(&[
            "ledger",
            "checkpoint",
            "--db",
            &db.url,
            "--out",
            file.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let saved = std::fs::read_to_string(&file).unwrap();
        assert!(
            saved.starts_with("{\"tenant\":\"zhongan\",\"seq\":3,\"hash\":\"sha256:"),
            "{saved}"
        );

        let out = incentive(&[
            "ledger",
            "verify",
            "--db",
            &db.url,
            "--since",
            file.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).contains("the ledger extends every checkpoint in the file"));

        std::fs::write(&file, "{\"tenant\":\"zhongan\",\"seq\":3}\n").unwrap();
        let out = incentive(&[
            "ledger",
            "verify",
            "--db",
            &db.url,
            "--since",
            file.to_str().unwrap(),
        ]);
        assert!(!out.status.success());
        assert!(
            stderr(&out).contains("checkpoint.jsonl:1: not a checkpoint"),
            "{}",
            stderr(&out)
        );
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_exits_non_zero_naming_the_entry_that_was_edited() {
    for db in databases().await {
        paid_ledger(&db).await;
        drop_the_guards(&db).await;
        raw(
            &db,
            "UPDATE ledger_entries SET memo = 'nothing to see' WHERE seq = 2",
        )
        .await
        .unwrap();
        let out = incentive(&["ledger", "verify", "--db", &db.url]);
        assert_eq!(out.status.code(), Some(1), "{}", db.label);
        assert!(
            stdout(&out).starts_with("zhongan: FAILED at entry 2: entry 2 has been altered"),
            "{}",
            stdout(&out)
        );
        assert!(stderr(&out).contains("the ledger does not verify"));

        let out = incentive(&["ledger", "verify", "--db", &db.url, "--format", "json"]);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["tenants"][0]["problem"]["seq"], 2);
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_confirms_every_decision_and_export_writes_a_row_per_posting() {
    for db in databases().await {
        paid_ledger(&db).await;
        let out = incentive(&[
            "ledger", "replay", "--db", &db.url, "--tenant", TENANT, "--all",
        ]);
        assert!(out.status.success(), "{}: {}", db.label, stderr(&out));
        assert!(
            stdout(&out).ends_with("2 replayed: 2 identical, 0 not, 0 with inputs erased\n"),
            "{}",
            stdout(&out)
        );

        let out = incentive(&[
            "ledger",
            "replay",
            "--db",
            &db.url,
            "--tenant",
            TENANT,
            "--decision",
            "dec_nope",
        ]);
        assert!(!out.status.success());
        assert!(
            stderr(&out).contains("decision `dec_nope` does not exist"),
            "{}",
            stderr(&out)
        );

        let out = incentive(&["ledger", "export", "--db", &db.url, "--format", "csv"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let csv = stdout(&out);
        assert_eq!(
            csv.lines().count(),
            1 + 2 + 2 + 2,
            "header, the pool's funding, two payouts:\n{csv}"
        );
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_makes_a_tenant_and_a_key_printed_once_on_the_last_line() {
    for db in databases().await {
        let out = incentive(&["admin", "tenant", "create", "acme-health", "--db", &db.url]);
        assert!(out.status.success(), "{}: {}", db.label, stderr(&out));
        let out = incentive(&["admin", "tenant", "create", "acme-health", "--db", &db.url]);
        assert!(
            stderr(&out).contains("tenant `acme-health` already exists"),
            "{}",
            stderr(&out)
        );
        let out = incentive(&["admin", "tenant", "create", "Bad Name", "--db", &db.url]);
        assert!(
            stderr(&out).contains("tenant name `Bad Name` is not allowed"),
            "{}",
            stderr(&out)
        );

        let out = incentive(&[
            "admin",
            "key",
            "create",
            "--tenant",
            "acme-health",
            "--role",
            "platform",
            "--db",
            &db.url,
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        let secret = text.lines().last().unwrap();
        assert!(secret.starts_with("ik_") && secret.len() == 67, "{text}");
        let id = text.split_whitespace().nth(1).unwrap().to_owned();

        let store = incentive_store::Store::open(&db.url, options())
            .await
            .unwrap();
        let caller = store.authenticate(secret).await.unwrap().unwrap();
        assert_eq!(
            (caller.tenant.as_str(), caller.role.as_str()),
            ("acme-health", "platform")
        );
        let out = incentive(&["admin", "key", "revoke", &id, "--db", &db.url]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(
            store.authenticate(secret).await.unwrap(),
            None,
            "a revoked key lets no one in"
        );
        let out = incentive(&["admin", "key", "revoke", &id, "--db", &db.url]);
        assert!(stderr(&out).contains(&format!("no live key has the id `{id}`")));
        let out = incentive(&[
            "admin",
            "key",
            "create",
            "--tenant",
            "acme-health",
            "--role",
            "root",
            "--db",
            &db.url,
        ]);
        assert!(
            stderr(&out).contains("`root` is not a role"),
            "{}",
            stderr(&out)
        );
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reverse_undoes_a_decision_once_and_the_ledger_still_verifies() {
    for db in databases().await {
        paid_ledger(&db).await;
        let store = incentive_store::Store::open(&db.url, options())
            .await
            .unwrap();
        let id = store.decisions(TENANT, Some("M1")).await.unwrap()[0]
            .id
            .clone();
        store.close().await;
        let args = [
            "ledger",
            "reverse",
            "--db",
            &db.url,
            "--tenant",
            TENANT,
            "--decision",
            &id,
            "--reason",
            "duplicate enrolment",
            "--by",
            "ops",
        ];
        let out = incentive(&args);
        assert!(out.status.success(), "{}: {}", db.label, stderr(&out));
        assert!(
            stdout(&out).starts_with(&format!(
                "decision {id} reversed by entry 4 (it reversed entry 2): 30 back to the pool"
            )),
            "{}",
            stdout(&out)
        );
        let out = incentive(&args);
        assert!(
            stderr(&out).contains(&format!("decision `{id}` was already reversed, by entry 4")),
            "{}",
            stderr(&out)
        );
        assert!(
            incentive(&["ledger", "verify", "--db", &db.url])
                .status
                .success()
        );
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_listens_on_the_port_it_prints_and_stops_cleanly_on_sigterm() {
    use std::io::{BufRead, BufReader, Read, Write};
    let db = sqlite_db().await;
    paid_ledger(&db).await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_incentive"))
        .args(["serve", "--db", &db.url, "--addr", "127.0.0.1:0"])
        .env_remove("INCENTIVE_DB")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("{line}"))
        .to_owned();

    let mut socket = std::net::TcpStream::connect(&addr).unwrap();
    socket
        .write_all(b"GET /readyz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    socket.read_to_string(&mut response).unwrap();
    assert!(
        response.starts_with("HTTP/1.1 200") && response.ends_with("ready"),
        "{response}"
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert!(exit.success(), "{exit:?}");
    assert_eq!(rest, "stopped: every request in flight was answered\n");
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    let answered: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "answered")
        .collect();
    assert_eq!(answered.len(), 1, "one JSON log line per request:\n{logs}");
    assert_eq!(answered[0]["fields"]["status"], 200);
    assert_eq!(answered[0]["span"]["route"], "/readyz", "{logs}");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_on_one_postgresql_pay_each_member_once() {
    let Some(db) = postgres_db().await else {
        return;
    };
    let store = store_with_plan(&db, str::to_owned).await;
    let members: Vec<String> = (0..30).map(|i| format!("M{i:02}")).collect();
    let key = enrolled_with_a_platform_key(&store, &members, 5).await;
    let (mut a, addr_a) = spawn_serve(&db);
    let (mut b, addr_b) = spawn_serve(&db);

    let mut threads = Vec::new();
    for (server, addr) in [("a", addr_a), ("b", addr_b)] {
        let (members, key) = (members.clone(), key.clone());
        threads.push(std::thread::spawn(move || {
            let mut statuses = Vec::new();
            for id in &members {
                let (status, answer) =
                    pay_march_over_http(&addr, &key, id, &format!("{server}-{id}"));
                assert!(
                    status == 201 || status == 200,
                    "{server} {id}: {status} {answer}"
                );
                statuses.push(status);
            }
            statuses
        }));
    }
    let statuses: Vec<u16> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        30,
        "each member paid by exactly one of the two"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        30,
        "and found paid by the other"
    );

    let decisions = store.decisions(TENANT, None).await.unwrap();
    assert_eq!(decisions.len(), 30);
    assert!(decisions.iter().all(|d| d.ordinal == 0));
    assert!(store.verify(None, &[]).await.unwrap().ok());
    for child in [&mut a, &mut b] {
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(child.wait().unwrap().success());
    }
    store.close().await;
    db.cleanup().await;
}

/// Two servers whose lanes decide each group while the one before it is written
/// (`--payout-pipeline`), on one database, asked at once from eight clients each for every
/// member: each member is paid once, the pool pays its budget to the cent and no more, the
/// ledger verifies and every decision replays to the same bytes — the other server moving the
/// chain head under a group decided ahead is what sends it to be decided again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_pipelined_serve_processes_on_one_database_pay_each_member_once_within_the_pool() {
    for db in databases().await {
        let store = store_with_plan(&db, |m| {
            m.replace("pool_budget = 200000000.00", "pool_budget = 300.00")
        })
        .await;
        let members: Vec<String> = (0..40).map(|i| format!("M{i:02}")).collect();
        let key = enrolled_with_a_platform_key(&store, &members, 5).await;
        let (mut a, addr_a) = spawn_serve_with(&db, &["--payout-pipeline"]);
        let (mut b, addr_b) = spawn_serve_with(&db, &["--payout-pipeline"]);
        let mut threads = Vec::new();
        for (server, addr) in [("a", addr_a), ("b", addr_b)] {
            for client in 0..8 {
                let mine: Vec<String> = members.iter().skip(client).step_by(8).cloned().collect();
                let (addr, key) = (addr.clone(), key.clone());
                threads.push(std::thread::spawn(move || {
                    mine.iter()
                        .map(|id| {
                            let idem = format!("{server}-{id}");
                            let (status, answer) = pay_march_over_http(&addr, &key, id, &idem);
                            assert!(
                                status == 201 || status == 200,
                                "{server} {id}: {status} {answer}"
                            );
                            status
                        })
                        .collect::<Vec<u16>>()
                }));
            }
        }
        let statuses: Vec<u16> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == 201).count(),
            40,
            "{}",
            db.label
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            40,
            "{}",
            db.label
        );
        let decisions = store.decisions(TENANT, None).await.unwrap();
        assert_eq!(decisions.len(), 40, "{}: one decision a member", db.label);
        let paid: rust_decimal::Decimal = decisions.iter().map(|d| d.reward_posted).sum();
        assert_eq!(
            paid,
            rust_decimal::Decimal::from(300),
            "{}: the budget, no more",
            db.label
        );
        assert!(store.verify(None, &[]).await.unwrap().ok(), "{}", db.label);
        for d in &decisions {
            let replay = store.replay(d).await.unwrap();
            assert!(replay.is_identical(), "{}: {replay:?}", db.label);
        }
        for child in [&mut a, &mut b] {
            Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(child.wait().unwrap().success());
        }
        store.close().await;
        db.cleanup().await;
    }
}

/// `members` enrolled with `days` of well-controlled March readings, and a platform key's secret.
async fn enrolled_with_a_platform_key(
    store: &incentive_store::Store,
    members: &[String],
    days: u32,
) -> String {
    for id in members {
        let m = enrol(store, id).await;
        store
            .add_readings(TENANT, &m, controlled_march(days))
            .await
            .unwrap();
    }
    store
        .create_key(TENANT, incentive_store::tenants::Role::Platform)
        .await
        .unwrap()
        .secret
}

/// `POST /v1/payouts` for `member`'s March under [`PLAN`], with idempotency key `key_name`.
fn pay_march_over_http(addr: &str, api_key: &str, member: &str, key_name: &str) -> (u16, String) {
    let body =
        format!("{{\"member_id\":\"{member}\",\"policy_id\":\"{PLAN}\",\"period\":\"2026-03\"}}");
    let auth = format!("Bearer {api_key}");
    http(
        addr,
        "POST",
        "/v1/payouts",
        &[
            ("authorization", &auth),
            ("idempotency-key", key_name),
            ("content-type", "application/json"),
        ],
        &body,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_a_stream_of_payouts_loses_no_acknowledged_payout() {
    for db in databases().await {
        let store = store_with_plan(&db, str::to_owned).await;
        let members: Vec<String> = (0..240).map(|i| format!("M{i:03}")).collect();
        let key = enrolled_with_a_platform_key(&store, &members, 20).await;
        let (mut child, addr) = spawn_serve(&db);
        let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let mut clients = Vec::new();
        for slice in members.chunks(30) {
            let (slice, addr, key, acknowledged) = (
                slice.to_vec(),
                addr.clone(),
                key.clone(),
                acknowledged.clone(),
            );
            clients.push(std::thread::spawn(move || {
                let auth = format!("Bearer {key}");
                for m in slice {
                    let body = format!(
                        "{{\"member_id\":\"{m}\",\"policy_id\":\"{PLAN}\",\"period\":\"2026-03\"}}"
                    );
                    let headers = [
                        ("authorization", auth.as_str()),
                        ("idempotency-key", m.as_str()),
                    ];
                    match try_http(&addr, "/v1/payouts", &headers, &body) {
                        Some((201, answer)) => {
                            let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
                            let id = v["decision"]["id"].as_str().unwrap().to_owned();
                            acknowledged.lock().unwrap().push(id);
                        }
                        Some((status, answer)) => {
                            assert!(status < 500 || status == 503, "{status}: {answer}")
                        }
                        None => return,
                    }
                }
            }));
        }
        // Stop the server mid-stream, once some payouts have been acknowledged.
        while acknowledged.lock().unwrap().len() < 40 {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        for c in clients {
            c.join().unwrap();
        }
        let exit = child.wait().unwrap();
        assert!(exit.success(), "{}: a clean stop: {exit}", db.label);
        let acknowledged = acknowledged.lock().unwrap().clone();
        assert!(acknowledged.len() >= 40, "{}", db.label);
        for id in &acknowledged {
            assert!(
                store.decision(TENANT, id).await.is_ok(),
                "{}: acknowledged payout {id} is missing",
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
async fn serve_takes_its_limits_from_flags_and_answers_past_them_in_its_own_words() {
    let db = sqlite_db().await;
    let store = store_with_plan(&db, str::to_owned).await;
    enrol(&store, "M1").await;
    let key = store
        .create_key(TENANT, incentive_store::tenants::Role::Platform)
        .await
        .unwrap()
        .secret;
    let (mut child, addr) = spawn_serve_with(
        &db,
        &[
            "--request-body-bytes-max",
            "200",
            "--readings-per-batch-max",
            "2",
        ],
    );
    let auth = format!("Bearer {key}");
    let reading = r#"{"time":"2026-03-01T07:00:00+08:00","glucose_mg_dl":101}"#;
    let three = "x".repeat(300);
    let (status, body) = http(
        &addr,
        "POST",
        "/v1/members/M1/readings",
        &[("authorization", &auth)],
        &three,
    );
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("200"), "names the limit in bytes: {body}");
    let (status, body) = http(
        &addr,
        "POST",
        "/v1/members/M1/readings",
        &[("authorization", &auth)],
        &format!(r#"{{"readings":[{reading},{reading}]}}"#),
    );
    assert_eq!(status, 200, "{body}");
    let short = r#"{"readings":[{"time":"2026-03-01T07:00:00+08:00","glucose_mg_dl":1},{"time":"2026-03-01T07:00:00+08:00","glucose_mg_dl":2},{"time":"x","glucose_mg_dl":3}]}"#;
    let (status, body) = http(
        &addr,
        "POST",
        "/v1/members/M1/readings",
        &[("authorization", &auth)],
        short,
    );
    assert_eq!(status, 413, "{body}");
    assert!(
        body.contains("3 readings") && body.contains("2"),
        "names the count and the limit: {body}"
    );
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(child.wait().unwrap().success());
    store.close().await;
}

#[test]
fn serve_refuses_a_limit_of_zero_or_not_a_number_naming_the_flag() {
    for (flag, value) in [
        ("--pool-acquire-timeout-ms", "0"),
        ("--pool-acquire-timeout-ms", "soon"),
        ("--request-timeout-ms", "-1"),
        ("--simulations-per-tenant-max", "0"),
        ("--simulation-wall-clock-seconds-max", "0"),
        ("--simulation-memory-bytes-max", "lots"),
        ("--evaluation-threads", "0"),
        ("--policy-cases-max", "0"),
        ("--history-member-periods-max", "0"),
        ("--history-members-min", "0"),
        ("--policy-decision-ms-max", "0"),
        ("--payout-group-decide-ms-max", "0"),
        ("--payout-checkpoint-wait-ms-max", "soon"),
        ("--payout-checkpoint-wait-ms-max", "-1"),
    ] {
        let given = format!("{flag}={value}");
        let out = incentive(&["serve", "--db", "sqlite://unused.db", &given]);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        assert!(
            stderr(&out).contains(flag),
            "{flag} {value}: {}",
            stderr(&out)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_logs_name_routes_and_never_readings_attributes_or_keys() {
    use std::io::{BufRead, Read};
    let db = sqlite_db().await;
    let store = store_with_plan(&db, str::to_owned).await;
    let key = store
        .create_key(TENANT, incentive_store::tenants::Role::Platform)
        .await
        .unwrap()
        .secret;
    let mut child = Command::new(env!("CARGO_BIN_EXE_incentive"))
        .args(["serve", "--db", &db.url, "--addr", "127.0.0.1:0"])
        .env_remove("INCENTIVE_DB")
        .env("RUST_LOG", "trace")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap()
        .to_owned();
    let auth = format!("Bearer {key}");
    let headers = [("authorization", auth.as_str())];
    let attributes =
        r#"{"age":77,"sex":"female","region":"Qiandongnan-7731","diabetes_type":"type2"}"#;
    assert_eq!(
        http(&addr, "PUT", "/v1/members/M1", &headers, attributes).0,
        200
    );
    let readings = r#"{"readings":[{"time":"2026-03-01T07:00:00+08:00","glucose_mg_dl":123.4567},{"time":"2026-03-01T09:00:00+08:00","glucose_mg_dl":"oops-98765"}]}"#;
    assert_eq!(
        http(&addr, "POST", "/v1/members/M1/readings", &headers, readings).0,
        200
    );
    let labs = r#"{"labs":[{"time":"2026-03-01T07:00:00+08:00","hba1c_percent":7.654}]}"#;
    assert_eq!(
        http(&addr, "POST", "/v1/members/M1/labs", &headers, labs).0,
        200
    );
    let payout = format!(r#"{{"member_id":"M1","policy_id":"{PLAN}","period":"2026-03"}}"#);
    let keyed = [
        ("authorization", auth.as_str()),
        ("idempotency-key", "log-check"),
    ];
    assert!(http(&addr, "POST", "/v1/payouts", &keyed, &payout).0 < 500);
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert!(
        logs.contains("/v1/members/{member_id}/readings") && logs.contains("/v1/payouts"),
        "the logs name each request's route: {logs}"
    );
    for secret in [
        "Qiandongnan-7731",
        "123.4567",
        "oops-98765",
        "7.654",
        key.as_str(),
        "\"age\"",
    ] {
        assert!(!logs.contains(secret), "`{secret}` is in the logs");
    }
    store.close().await;
}
