//! `incentive policy check|test` and `incentive evaluate` end to end: the real binary on the
//! real packages under policies/ and on copies changed to fail.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    reason = "a test fails by panicking"
)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TANGDAIFU: &str = "policies/tangdaifu-smbg";

fn incentive(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_incentive"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run incentive: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh directory under the target dir for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn copy_package(from: &str, to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join(from);
    std::fs::create_dir_all(to.join("cases")).unwrap();
    for name in ["policy.toml", "rules.rhai"] {
        std::fs::copy(from.join(name), to.join(name)).unwrap();
    }
    for folder in ["cases", "locales"] {
        std::fs::create_dir_all(to.join(folder)).unwrap();
        for e in std::fs::read_dir(from.join(folder)).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, to.join(folder).join(p.file_name().unwrap())).unwrap();
        }
    }
}

/// The readings of one case as a readings CSV with a member_id column.
fn case_readings_csv(case: &str, member: &str, dir: &Path) -> PathBuf {
    let toml = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(TANGDAIFU)
            .join("cases")
            .join(case),
    )
    .unwrap();
    let body = toml
        .split("\"\"\"")
        .nth(1)
        .unwrap()
        .trim_start_matches('\n');
    let mut lines = body.lines();
    let mut csv = format!("member_id,{}\n", lines.next().unwrap());
    for l in lines {
        csv.push_str(&format!("{member},{l}\n"));
    }
    let path = dir.join("readings.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

/// Runs `incentive evaluate` for member M7 on the readings of the full-rebate case, in a
/// scratch directory named `test`, with `extra` arguments after the common ones.
fn evaluate_m7(test: &str, period: &str, history: Option<&str>, extra: &[&str]) -> Output {
    let dir = scratch(test);
    let readings = case_readings_csv("full-rebate.toml", "M7", &dir);
    let readings = readings.to_str().unwrap().to_owned();
    let history_path = dir.join("m7.toml");
    let mut args = vec![
        "evaluate",
        "--policy",
        TANGDAIFU,
        "--readings",
        &readings,
        "--member",
        "M7",
        "--period",
        period,
    ];
    let history_arg = history_path.to_str().unwrap().to_owned();
    if let Some(text) = history {
        std::fs::write(&history_path, text).unwrap();
        args.extend(["--history", &history_arg]);
    }
    args.extend(extra);
    incentive(&args)
}

#[test]
fn check_accepts_a_reference_policy_and_prints_its_content_hash() {
    let out = incentive(&["policy", "check", TANGDAIFU]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("policy `tangdaifu-smbg` version 1.0.0 is valid"),
        "{stdout}"
    );
    assert!(stdout.contains("content hash sha256:"), "{stdout}");
    assert!(stdout.contains("rules.rhai runs compiled"), "{stdout}");
}

#[test]
fn check_says_when_a_script_runs_on_the_interpreter_and_which_construct_keeps_it_there() {
    let out = incentive(&["policy", "check", "policies/annual-fasting-renewal"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("rules.rhai runs on the interpreter, slower: rules.rhai:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("a closure (`|x| …`) is not compiled"),
        "{stdout}"
    );
    let out = incentive(&[
        "policy",
        "check",
        "policies/annual-fasting-renewal",
        "--format",
        "json",
    ]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["compiled"], false, "{json:#}");
    assert_eq!(
        json["interpreted"]["why"], "a closure (`|x| …`) is not compiled",
        "{json:#}"
    );
    assert!(json["interpreted"]["line"].as_u64().is_some(), "{json:#}");
    let out = incentive(&["policy", "check", TANGDAIFU, "--format", "json"]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["compiled"], true, "{json:#}");
}

#[test]
fn check_reports_every_problem_as_json_with_line_and_column_and_fails() {
    let out = incentive(&[
        "policy",
        "check",
        "engine/tests/fixtures/policies/every-manifest-problem-at-once",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["ok"], false);
    let diags = json["diagnostics"]["items"].as_array().unwrap();
    assert!(diags.len() >= 4, "{json:#}");
    let tz = diags
        .iter()
        .find(|d| d["message"].as_str().unwrap().contains("Asia/Shanghia"))
        .unwrap();
    assert_eq!(
        (
            tz["file"].as_str(),
            tz["line"].as_u64(),
            tz["column"].as_u64()
        ),
        (Some("policy.toml"), Some(6), Some(12))
    );
    assert!(
        text(&out.stderr).contains("has 5 errors") || text(&out.stderr).contains("errors"),
        "{}",
        text(&out.stderr)
    );
}

/// Rust's sort panics on a policy comparer that is not an order; the sandbox catches that as
/// the script's error, and the program's panic report ("internal error … please report"),
/// meant for bugs, stays quiet for it.
#[test]
fn check_reports_a_comparer_that_is_not_an_order_as_the_scripts_error_not_an_internal_one() {
    let dir = scratch("comparer-not-an-order");
    copy_package(TANGDAIFU, &dir);
    let rules = std::fs::read_to_string(dir.join("rules.rhai")).unwrap();
    let sorting = "fn decide(record, member, history) {\n    \
                   let a = []; for i in 0..50 { a.push((i * 37) % 101); }\n    \
                   a.sort(|x, y| if (x + y) % 2 == 0 { -1 } else { 1 });";
    let changed = rules.replace("fn decide(record, member, history) {", sorting);
    assert_ne!(changed, rules, "the package's decide was found");
    std::fs::write(dir.join("rules.rhai"), changed).unwrap();
    let out = incentive(&["policy", "check", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        stderr.contains("error in comparer for sorting"),
        "{stdout}{stderr}"
    );
    assert!(
        !stderr.contains("internal error") && !stderr.contains("panicked"),
        "{stderr}"
    );
}

#[test]
fn check_renders_the_offending_source_line_for_people() {
    let out = incentive(&[
        "policy",
        "check",
        "engine/tests/fixtures/policies/unknown-term",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("rules.rhai:2:46"), "{stderr}");
    assert!(
        stderr.contains("#{ reward: terms.monthly_premium + terms.monthly_premum }"),
        "{stderr}"
    );
    assert!(stderr.contains("declared: monthly_premium"), "{stderr}");
}

#[test]
fn test_runs_every_case_of_a_reference_policy() {
    let out = incentive(&["policy", "test", TANGDAIFU]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("15 passed, 0 failed"), "{stdout}");
}

#[test]
fn test_shows_expected_against_actual_when_a_case_fails() {
    let dir = scratch("failing-case");
    copy_package(TANGDAIFU, &dir);
    let case = dir.join("cases/full-rebate.toml");
    let changed = std::fs::read_to_string(&case)
        .unwrap()
        .replace("reward = 30.00", "reward = 25.00");
    std::fs::write(&case, changed).unwrap();
    let out = incentive(&["policy", "test", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let failed_line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("reward"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        failed_line.contains("25.00") && failed_line.contains("30.00"),
        "{failed_line}"
    );
    assert!(stdout.contains("FAILED cases/full-rebate.toml"), "{stdout}");
    assert!(stdout.contains("14 passed, 1 failed"), "{stdout}");
}

#[test]
fn evaluate_prints_the_same_decision_bytes_every_run() {
    let dir = scratch("evaluate-json");
    let readings = case_readings_csv("full-rebate.toml", "M7", &dir);
    let args = [
        "evaluate",
        "--policy",
        TANGDAIFU,
        "--readings",
        readings.to_str().unwrap(),
        "--member",
        "M7",
        "--period",
        "2026-03",
    ];
    let first = incentive(&args);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(first.stdout, incentive(&args).stdout);
    let d: Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(d["reward"], "30.00");
    assert_eq!(d["member_id"], "M7");
    assert_eq!(d["metrics_used"]["fasting_n"], 12);
    assert!(d["input_hash"].as_str().unwrap().starts_with("sha256:"));
}

#[test]
fn evaluate_reads_earlier_outcomes_from_a_history_file_and_explains_the_cap() {
    let history = "[member]\nid = \"M7\"\nage = 61\n\n[history]\noutcomes = [{ period = \"2026-02\", reward = 295.00, qualified = true }]\n";
    let out = evaluate_m7(
        "evaluate-history",
        "2026-03",
        Some(history),
        &["--format", "text"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("reward: 5.00 CNY"), "{stdout}");
    assert!(stdout.contains("capped at 5.00 CNY"), "{stdout}");
}

#[test]
fn evaluate_shows_a_member_what_they_get_and_why_and_staff_the_rest() {
    let member = evaluate_m7(
        "evaluate-member-view",
        "2026-03",
        None,
        &["--format", "text"],
    );
    assert!(member.status.success(), "{}", text(&member.stderr));
    let shown = text(&member.stdout);
    assert!(
        shown.starts_with("糖大夫 monthly glucose-control rebate · 2026-03\nreward: 30.00 CNY\n"),
        "{shown}"
    );
    assert!(shown.contains("why:\n  - "), "{shown}");
    for staff_only in [
        "sha256:",
        "metrics read",
        "engine",
        "M7",
        "premium adjustment",
    ] {
        assert!(
            !shown.contains(staff_only),
            "`{staff_only}` in the member view:\n{shown}"
        );
    }
    let staff = evaluate_m7(
        "evaluate-staff-view",
        "2026-03",
        None,
        &["--format", "text", "--view", "staff"],
    );
    assert!(staff.status.success(), "{}", text(&staff.stderr));
    let shown = text(&staff.stdout);
    for line in [
        "M7 · 2026-03 · tangdaifu-smbg v1.0.0",
        "metrics read: ",
        "fasting_n = 12",
        " · inputs sha256:",
    ] {
        assert!(
            shown.contains(line),
            "`{line}` missing from the staff view:\n{shown}"
        );
    }
}

#[test]
fn evaluate_shows_a_chinese_member_their_decision_in_chinese_with_the_same_decision_bytes() {
    let zh = evaluate_m7(
        "evaluate-zh",
        "2026-03",
        None,
        &["--format", "text", "--locale", "zh-CN"],
    );
    assert!(zh.status.success(), "{}", text(&zh.stderr));
    assert_eq!(
        text(&zh.stdout),
        "糖大夫月度控糖保费返还 · 2026-03\n奖励：¥30.00\n原因：\n  - 本月您在 12 天内测量了 24 次，已达到测量要求\n  - 12 次空腹读数中有 100% 在 4.4–7.0 mmol/L 目标范围内：返还 ¥100.00 月保费的 30%\n"
    );
    // The decision itself (JSON) is the same bytes whatever language it is shown in.
    let json = |extra: &[&str]| evaluate_m7("evaluate-zh-json", "2026-03", None, extra).stdout;
    assert_eq!(json(&[]), json(&["--locale", "zh-CN"]));
}

#[test]
fn evaluate_refuses_a_period_of_the_wrong_kind_by_name() {
    let out = evaluate_m7("evaluate-period", "2026-Q1", None, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("policy `tangdaifu-smbg` is monthly; period 2026-Q1 is not one"),
        "{stderr}"
    );
}

#[test]
fn evaluate_points_at_the_line_of_a_bad_history_file() {
    let out = evaluate_m7(
        "evaluate-bad-history",
        "2026-03",
        Some("[member]\nid = \"M7\"\nage = 300\n"),
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(":3:7: age 300 is outside 0–130 years"),
        "{stderr}"
    );
}

#[test]
fn a_directory_that_is_not_a_package_is_named_in_the_error() {
    let out = incentive(&["policy", "check", "no/such/package"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("policy package `no/such/package` is not a directory"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_readmes_evaluate_example_decides_a_member_and_explains_why() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    // The command as written, its `\` continuation lines joined.
    let joined = readme.replace("\\\n", " ");
    let example = joined
        .lines()
        .find(|l| l.starts_with("cargo run --release -- evaluate "))
        .unwrap();
    let args: Vec<&str> = example
        .trim_start_matches("cargo run --release -- ")
        .split_whitespace()
        .collect();
    let out = incentive(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("reward: 20.00 CNY"), "{stdout}");
    assert!(
        stdout.contains("70% of 10 fasting readings were in 4.4–7.0 mmol/L"),
        "{stdout}"
    );
}

#[test]
fn evaluate_names_the_line_of_a_bad_reading() {
    let dir = scratch("evaluate-bad-reading");
    let readings = dir.join("bad.csv");
    std::fs::write(&readings, "member_id,time,glucose_mmol_l\nM7,2026-03-01T07:00:00+08:00,5.5\nM7,2026-03-02T07:00:00,5.5\n").unwrap();
    let out = incentive(&[
        "evaluate",
        "--policy",
        TANGDAIFU,
        "--readings",
        readings.to_str().unwrap(),
        "--member",
        "M7",
        "--period",
        "2026-03",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("bad.csv") && stderr.contains("line 3") && stderr.contains("time"),
        "{stderr}"
    );
}

#[test]
fn test_reports_every_case_as_json_for_ci() {
    let out = incentive(&[
        "policy",
        "test",
        "policies/hba1c-outcome",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["failed"], 0);
    let cases = json["cases"].as_array().unwrap();
    assert_eq!(json["passed"].as_u64(), Some(cases.len() as u64));
    assert!(
        cases
            .iter()
            .all(|c| c["mismatches"].as_array().is_some_and(Vec::is_empty))
    );
    assert!(
        cases
            .iter()
            .all(|c| c["name"].as_str().is_some_and(|n| n.starts_with("cases/")))
    );
}

/// `evaluate` reads a device's export as `metrics` does, about the member decided, in the
/// policy's zone unless told another: a reading at 00:30 on 1 April in Shanghai is April's.
#[test]
fn evaluate_reads_a_device_export_in_the_policys_zone() {
    let dir = scratch("evaluate-export");
    let mut clarity = "Index,Timestamp (YYYY-MM-DDThh:mm:ss),Event Type,Event Subtype,Patient Info,Device Info,Source Device ID,Glucose Value (mg/dL),Insulin Value (u),Carb Value (grams),Duration (hh:mm:ss),Glucose Rate of Change (mg/dL/min),Transmitter Time (Long Integer),Transmitter ID\n1,,FirstName,,Jane,,,,,,,,,\n".to_owned();
    for (i, t) in [
        "2026-03-02T08:00:00",
        "2026-03-03T08:00:00",
        "2026-03-04T08:00:00",
        "2026-03-31T23:30:00",
        "2026-04-01T00:30:00",
    ]
    .iter()
    .enumerate()
    {
        clarity.push_str(&format!("{},{t},EGV,,,,PG0,110,,,,,1,38J\n", i + 2));
    }
    let path = dir.join("clarity.csv");
    std::fs::write(&path, clarity).unwrap();
    let out = incentive(&[
        "evaluate",
        "--policy",
        TANGDAIFU,
        "--readings",
        path.to_str().unwrap(),
        "--member",
        "M7",
        "--period",
        "2026-03",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr)
            .contains("dexcom-clarity: 6 rows: 5 kept; dropped 1: 1 patient or device information"),
        "{}",
        text(&out.stderr)
    );
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    // Four March days (the last at 23:30 Shanghai time); the 00:30 reading is April's.
    assert_eq!(d["metrics_used"]["days_with_readings"], 4, "{d}");
    assert_eq!(d["explanation"][0]["id"], "measuring-gate-met", "{d}");
}

/// A health system's FHIR export gives `evaluate` the member's HbA1c results as labs, beside
/// the history file's: M-0002's 7.4 % (the example's `4548-4` result) is not below the plan's
/// 7.0 %, and the explanation says so from that result.
#[test]
fn evaluate_takes_the_hba1c_results_of_a_fhir_export_as_the_members_labs() {
    let dir = scratch("fhir-labs");
    let history = dir.join("member.toml");
    std::fs::write(
        &history,
        "[member]\nid = \"M-0002\"\nage = 55\nenrolled_on = 2025-06-01\n",
    )
    .unwrap();
    let out = incentive(&[
        "evaluate",
        "--policy",
        "policies/hba1c-outcome",
        "--readings",
        "examples/readings/fhir-two-patients.json",
        "--identifier-system",
        "https://insurer.example/member-id",
        "--member",
        "M-0002",
        "--period",
        "2026",
        "--history",
        history.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let decision: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let explanation = decision.to_string();
    assert!(explanation.contains("7.4"), "{explanation}");
    assert_eq!(decision["qualified"], false, "{explanation}");
}
