//! The ledger against real processes: one killed with SIGKILL in the middle of a stream of
//! payouts, and two paying the same members at once on one PostgreSQL database.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use incentive_store::Store;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn load(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ledger-load"));
    c.args(args);
    c
}

fn setup(db: &TestDb, members: u32, extra: &[&str]) {
    let policy = policies_dir().join(PLAN);
    let members = members.to_string();
    let mut args = vec![
        "setup",
        "--db",
        &db.url,
        "--policy",
        policy.to_str().unwrap(),
        "--members",
        &members,
    ];
    args.extend_from_slice(extra);
    let out = load(&args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `(decision id, member)` of each `ack` line.
fn acks(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.strip_prefix("ack "))
        .map(|l| {
            let mut parts = l.split(' ');
            (
                parts.next().unwrap().to_owned(),
                parts.next().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_mid_stream_leaves_a_ledger_that_verifies_with_every_acknowledged_payout()
{
    for db in databases().await {
        setup(&db, 1500, &[]);
        let mut child = load(&[
            "pay",
            "--db",
            &db.url,
            "--members",
            "1500",
            "--writers",
            "16",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut seen = String::new();
        let mut lines = 0;
        while lines < 200 {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap() == 0 {
                break;
            }
            seen.push_str(&line);
            lines += 1;
        }
        child.kill().unwrap(); // SIGKILL: no destructor, no flush, no goodbye.
        child.wait().unwrap();
        // Whatever it printed before it died was acknowledged, so it must be on record.
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut reader, &mut rest);
        seen.push_str(&rest);
        let acknowledged = acks(&seen);
        assert!(acknowledged.len() >= 200, "{}", db.label);
        assert!(
            acknowledged.len() < 1500,
            "{}: the process was killed before it finished",
            db.label
        );

        let store = Store::open(&db.url, options()).await.unwrap();
        let report = store.verify(None, &[]).await.unwrap();
        assert!(report.ok(), "{}: {report:?}", db.label);
        for (id, member) in &acknowledged {
            let d = store.decision("load", id).await.unwrap();
            assert_eq!(&d.member_id, member);
        }

        // Starting again pays the rest, and nobody twice.
        let out = load(&[
            "pay",
            "--db",
            &db.url,
            "--members",
            "1500",
            "--writers",
            "16",
        ])
        .output()
        .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let decisions = store.decisions("load", None).await.unwrap();
        assert_eq!(decisions.len(), 1500, "{}", db.label);
        assert!(decisions.iter().all(|d| d.ordinal == 0));
        assert!(store.verify(None, &[]).await.unwrap().ok());
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_paying_the_same_members_on_one_postgresql_pay_each_once_within_the_budget() {
    let Some(db) = postgres_db().await else {
        return;
    };
    // 600 members due 0–30 CNY each against a pool of 2,000 CNY: it runs dry part-way.
    setup(&db, 600, &["--pool-budget", "2000.00"]);
    let spawn = || {
        load(&[
            "pay",
            "--db",
            &db.url,
            "--members",
            "600",
            "--writers",
            "32",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    assert_eq!(acks(&String::from_utf8_lossy(&a.stdout)).len(), 600);
    assert_eq!(acks(&String::from_utf8_lossy(&b.stdout)).len(), 600);

    let store = Store::open(&db.url, options()).await.unwrap();
    let decisions = store.decisions("load", None).await.unwrap();
    assert_eq!(
        decisions.len(),
        600,
        "each member decided once, by one process or the other"
    );
    let paid: rust_decimal::Decimal = decisions.iter().map(|d| d.reward_posted).sum();
    assert_eq!(
        paid,
        rust_decimal::Decimal::new(200_000, 2),
        "the pool is spent to the last cent and not past it"
    );
    let report = store.verify(None, &[]).await.unwrap();
    assert!(report.ok(), "{report:?}");
    store.close().await;
    db.cleanup().await;
}
