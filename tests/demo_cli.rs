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
    assert!(
        stdout.contains(&format!("incentive ledger verify --db {url}")),
        "{stdout}"
    );
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
    ] {
        let out = incentive(dir.path(), &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
