//! The simulation's report.html opened in a real headless Chromium: it loads from the file
//! alone, every chart is in the rendered page, no console message is logged, and a screenshot
//! is taken (kept under target/ for a person to look at). `.ci/run` installs Debian's chromium
//! and sets INCENTIVE_TEST_CHROMIUM; without a browser the test says so and, in CI, fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod browser;

use browser::chromium;
use std::path::PathBuf;
use std::process::Command;

#[test]
fn the_report_renders_in_headless_chromium_with_its_charts_and_no_console_messages() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have chromium (see .ci/run)"
        );
        eprintln!("chromium: not found; this test ran nothing (CI installs it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_incentive"))
        .args([
            "simulate",
            "--policy",
            "policies/tangdaifu-smbg",
            "--compare",
            "policies/tangdaifu-smbg",
            "--members",
            "20",
            "--periods",
            "6",
            "--replications",
            "12",
            "--seed",
            "5",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = dir.path().join("report.html");
    let html = std::fs::read_to_string(&report).unwrap();
    let url = format!("file://{}", report.display());
    let profile = dir.path().join("profile");
    let run = |extra: &[&str]| {
        Command::new(&browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(["--enable-logging=stderr", "--v=0"])
            .args(extra)
            .arg(&url)
            .output()
            .unwrap()
    };

    let dom = run(&["--dump-dom"]);
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let rendered = String::from_utf8_lossy(&dom.stdout);
    let charts = |text: &str| text.matches("<svg").count();
    assert!(
        charts(&html) >= 6,
        "two plans and their difference: {} charts",
        charts(&html)
    );
    assert_eq!(
        charts(&rendered),
        charts(&html),
        "every chart is in the rendered page"
    );
    assert!(rendered.contains("tangdaifu-smbg"));
    let log = String::from_utf8_lossy(&dom.stderr);
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");

    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("simulation-report.png");
    let taken = run(&[
        "--window-size=1200,2400",
        &format!("--screenshot={}", shot.display()),
    ]);
    assert!(
        taken.status.success(),
        "{}",
        String::from_utf8_lossy(&taken.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    // A blank page compresses to a few kilobytes; charts and tables do not.
    assert!(
        png.len() > 50_000,
        "the screenshot is {} bytes: is the page blank?",
        png.len()
    );
}
