//! `incentive demo` from the built binary, in a temporary directory, as a newcomer runs it: it
//! finishes, says what it did, and what it says is true — the ledger it leaves verifies, its
//! report is there and whole, and the totals it printed are the sums in its database.
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

use incentive_store::{Store, StoreOptions};
use rust_decimal::Decimal;
use std::process::Command;
use std::str::FromStr;

fn incentive(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_incentive"))
        .args(args)
        .current_dir(dir)
        .env_remove("INCENTIVE_DB")
        .output()
        .unwrap()
}

/// The value printed after `label` on its line of the summary.
fn printed<'a>(stdout: &'a str, label: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(label))
        .unwrap_or_else(|| panic!("no `{label}` line in:\n{stdout}"))
        .trim()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_in_a_fresh_directory_and_what_it_prints_is_what_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let out = incentive(
        dir.path(),
        &["demo", "--members", "40", "--replications", "4"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // What it wrote, where it said.
    let demo = dir.path().join("incentive-demo");
    // Relative to where it ran, as a newcomer would type it next.
    let url = "sqlite://incentive-demo/incentive.db";
    let verify_line = stdout
        .lines()
        .find(|l| l.contains(&format!("ledger verify --db {url}")))
        .unwrap_or_else(|| panic!("no ledger verify line in:\n{stdout}"));
    // And the command printed runs as printed, from where the demo ran: the binary named as
    // this person can reach it (here, outside the project, by its full path).
    let words: Vec<&str> = verify_line.split_whitespace().collect();
    let printed_run = Command::new(words[0])
        .args(&words[1..])
        .current_dir(dir.path())
        .env_remove("INCENTIVE_DB")
        .output()
        .unwrap();
    assert!(printed_run.status.success(), "{verify_line}");
    let report = std::fs::read_to_string(demo.join("report.html")).unwrap();
    assert!(report.starts_with("<!DOCTYPE html>") && report.trim_end().ends_with("</html>"));
    assert!(report.matches("<svg").count() >= 3, "the report's charts");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(demo.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["plans"].as_array().unwrap().len(), 2);
    let keys = std::fs::read_to_string(demo.join("keys.env")).unwrap();
    assert_eq!(keys.matches("export ").count(), 5, "{keys}");

    // The ledger verifies, from the command an auditor would run.
    let verify = incentive(dir.path(), &["ledger", "verify", "--db", url]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );

    // The totals it printed are the database's.
    let absolute = format!("sqlite://{}", demo.join("incentive.db").display());
    let store = Store::open(&absolute, StoreOptions::default())
        .await
        .unwrap();
    let decisions = store.decisions("demo", None).await.unwrap();
    assert_eq!(decisions.len(), 40 * 12);
    let paid: Decimal = decisions.iter().map(|d| d.reward_posted).sum();
    let premium: Decimal = decisions.iter().map(|d| d.premium_posted).sum();
    let rewards = printed(&stdout, "rewards paid");
    assert_eq!(rewards, format!("{} CNY", paid.normalize()), "{stdout}");
    let adjustments = printed(&stdout, "premium adjustments");
    assert_eq!(
        adjustments,
        format!("{} percentage points", premium.normalize())
    );
    assert!(printed(&stdout, "payouts").starts_with("480 ("), "{stdout}");
    // A Chinese member reads their first decision in Chinese, the amount as the app shows it.
    let member = stdout
        .lines()
        .find_map(|l| l.strip_prefix("member: "))
        .and_then(|l| l.split(' ').next())
        .unwrap_or_else(|| panic!("{stdout}"));
    let first = decisions
        .iter()
        .find(|d| d.member_id == member && d.period == "2026-01" && d.ordinal == 0)
        .unwrap();
    assert!(
        stdout.contains("糖大夫月度控糖保费返还 · 2026-01")
            && stdout.contains(&format!("奖励：¥{:.2}", first.reward)),
        "{stdout}"
    );
    let head = store.checkpoint(Some("demo")).await.unwrap();
    assert!(
        printed(&stdout, "ledger head").ends_with(&head[0].hash),
        "{stdout}\n{head:?}"
    );
    let expected = summary["plans"][0]["total_reward"]["mean"]
        .as_str()
        .unwrap();
    assert!(
        printed(&stdout, "simulated year").contains(&format!("tangdaifu-smbg: {expected} CNY")),
        "{stdout}"
    );
    assert!(paid > Decimal::ZERO && Decimal::from_str(expected).unwrap() > Decimal::ZERO);
    store.close().await;

    // Run again in the same place: a fresh demo, not an error.
    let again = incentive(
        dir.path(),
        &["demo", "--members", "5", "--replications", "2"],
    );
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(String::from_utf8_lossy(&again.stdout).contains("payouts              60 ("));
}

#[test]
fn a_whole_demo_logged_at_trace_holds_no_key_reading_or_member_attribute() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_incentive"))
        .args(["demo", "--members", "12", "--replications", "2"])
        .current_dir(dir.path())
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let demo = dir.path().join("incentive-demo");
    let logs = std::fs::read_to_string(demo.join("server.log")).unwrap();
    assert!(
        logs.contains("/v1/payouts") && logs.contains("/v1/readings"),
        "the logs name the routes the demo called"
    );
    let keys = std::fs::read_to_string(demo.join("keys.env")).unwrap();
    let mut secrets: Vec<String> = keys
        .lines()
        .filter_map(|l| l.split_once('=').map(|(_, k)| k.to_owned()))
        .collect();
    assert_eq!(secrets.len(), 5);
    // Member attributes and readings as the demo sent them.
    for s in [
        "Guizhou-Suiyang",
        "Guizhou-other",
        "\"age\"",
        "glucose_mg_dl",
        "hba1c_percent",
        "+08:00",
    ] {
        secrets.push(s.to_owned());
    }
    let printed = String::from_utf8_lossy(&out.stdout);
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "`{secret}` is in the server's logs"
        );
        assert!(
            !printed.contains(secret.as_str()),
            "`{secret}` is in what the demo printed"
        );
    }
}

#[test]
fn bad_demo_flags_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    for (args, says) in [
        (
            vec!["demo", "--members", "0"],
            "--members 0 is outside 1 to 1,000,000",
        ),
        (
            vec!["demo", "--replications", "0"],
            "--replications 0 is outside 1 to 10,000",
        ),
        (vec!["demo", "--db", "mysql://x"], "mysql://x"),
        (
            vec!["demo", "--members", "5", "--serve", "--addr", "nowhere"],
            "cannot listen on --addr nowhere",
        ),
    ] {
        let out = incentive(dir.path(), &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn the_demo_kept_serving_prints_the_workbench_and_the_author_key_that_signs_in_to_it() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_incentive"))
        .args([
            "demo",
            "--members",
            "20",
            "--replications",
            "2",
            "--serve",
            "--addr",
            "127.0.0.1:0",
        ])
        .current_dir(dir.path())
        .env_remove("INCENTIVE_DB")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut workbench = None;
    let mut key = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("the policy workbench: ") {
            workbench = Some(url.trim().to_owned());
        }
        if let Some(rest) = line
            .trim()
            .strip_prefix("sign in as the author (demo author) with ")
        {
            key = Some(rest.trim().to_owned());
        }
        if line.starts_with("serving until Ctrl-C") {
            break;
        }
    }
    let workbench = workbench.expect("the demo prints the workbench's address");
    let key = key.expect("the demo prints the author's key");
    let addr = workbench
        .strip_prefix("http://")
        .and_then(|rest| rest.strip_suffix("/workbench/"))
        .unwrap()
        .to_owned();
    let (status, page) = serve::http(&addr, "GET", "/workbench/", &[], "");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("workbench.js"), "{page}");
    let bearer = format!("Bearer {key}");
    let (status, caller) = serve::http(
        &addr,
        "GET",
        "/v1/caller",
        &[("authorization", &bearer)],
        "",
    );
    assert_eq!(status, 200, "{caller}");
    let caller: serde_json::Value = serde_json::from_str(&caller).unwrap();
    assert_eq!(caller["role"], "author");
    assert_eq!(caller["holder"], "demo author");
    // Still serving, until told to stop; then it stops cleanly.
    assert!(child.try_wait().unwrap().is_none());
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}
