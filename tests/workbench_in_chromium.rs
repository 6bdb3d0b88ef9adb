//! The policy workbench end to end: the built binary serves a fresh SQLite database, two
//! tenants and their keys are made with `admin`, and api/workbench/e2e/workbench.e2e.mjs drives
//! headless Chromium through the author's, the approver's, another tenant's and the platform's
//! morning (playwright-core, installed by `npm ci` in api/workbench; Debian's chromium).
//! `.ci/run` installs both and sets INCENTIVE_TEST_REQUIRE_BROWSER; without them the test says
//! so and, in CI, fails. With INCENTIVE_UPDATE_SCREENSHOTS=1 its screenshots replace those of
//! docs/images/ (docs/workbench.md shows them); otherwise they go under target/.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod browser;
#[path = "../store/tests/common/mod.rs"]
mod common;
mod serve;

use browser::chromium;
use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What the browser test needs, or why it cannot run.
fn browser_tools() -> Result<PathBuf, String> {
    let browser = chromium().ok_or("chromium is not installed")?;
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Err("node is not installed".into());
    }
    let playwright = root().join("api/workbench/node_modules/playwright-core");
    if !playwright.exists() {
        return Err("playwright-core is not installed: run `npm ci` in api/workbench".into());
    }
    Ok(browser)
}

fn incentive(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_incentive"))
        .args(args)
        .env_remove("INCENTIVE_DB")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "incentive {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A new key's secret: alone on the last line.
fn key(db: &str, tenant: &str, role: &str, holder: &str) -> String {
    let out = incentive(&[
        "admin", "key", "create", "--tenant", tenant, "--role", role, "--holder", holder, "--db",
        db,
    ]);
    out.lines().last().unwrap().trim().to_owned()
}

#[tokio::test]
async fn an_author_edits_tries_prices_and_publishes_a_policy_that_another_person_approved() {
    let browser = match browser_tools() {
        Ok(browser) => browser,
        Err(why) => {
            assert!(
                std::env::var_os("INCENTIVE_TEST_REQUIRE_BROWSER").is_none(),
                "CI must have the browser test's tools (see .ci/run): {why}"
            );
            eprintln!("workbench in chromium: {why}; this test ran nothing (CI installs it)");
            return;
        }
    };
    let db = common::sqlite_db().await;
    incentive(&["admin", "tenant", "create", "acme", "--db", &db.url]);
    incentive(&["admin", "tenant", "create", "rival", "--db", &db.url]);
    let keys = [
        ("AUTHOR_KEY", key(&db.url, "acme", "author", "alice")),
        ("APPROVER_KEY", key(&db.url, "acme", "author", "bob")),
        ("ADMIN_KEY", key(&db.url, "acme", "admin", "carol")),
        (
            "PLATFORM_KEY",
            key(&db.url, "acme", "platform", "meter app"),
        ),
        ("OTHER_TENANT_KEY", key(&db.url, "rival", "author", "eve")),
    ];
    let (mut server, addr) = serve::spawn_serve(&db);
    let screenshots = if std::env::var_os("INCENTIVE_UPDATE_SCREENSHOTS").is_some() {
        root().join("docs/images")
    } else {
        root().join("target/workbench-screenshots")
    };
    let out = Command::new("node")
        .arg(root().join("api/workbench/e2e/workbench.e2e.mjs"))
        .current_dir(root().join("api/workbench"))
        .env("WORKBENCH_URL", format!("http://{addr}"))
        .env("CHROMIUM", &browser)
        .env("POLICY_DIR", root().join("policies/tangdaifu-smbg"))
        .env("SCREENSHOTS", &screenshots)
        .envs(keys.iter().map(|(name, key)| (*name, key.as_str())))
        .output()
        .unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the workbench's end-to-end run failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("steps passed") && !stdout.contains("not ok"),
        "{stdout}"
    );
    for shot in [
        "diagnostic",
        "cases",
        "trial-zh-CN",
        "impact",
        "history",
        "diff",
        "approval",
        "published",
    ] {
        let png = screenshots.join(format!("workbench-{shot}.png"));
        let bytes = std::fs::read(&png).unwrap();
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
            "{} is a real screenshot",
            png.display()
        );
    }
}
