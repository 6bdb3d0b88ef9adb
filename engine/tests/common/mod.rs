//! Helpers shared by the engine's integration tests: records from CSV text.

#![allow(dead_code, reason = "each test binary uses its own subset")]
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    reason = "a test helper fails the test by panicking"
)]

use incentive_engine::ingest::{BadRows, CsvOptions, ReadingsByMember, read_readings_csv};
use incentive_engine::time::parse_timestamp;
use incentive_engine::{MemberId, Metrics, Readings, Record, Window, compute_metrics};

/// Loads CSV text (header included), failing the test on any error.
pub fn load(csv: &str) -> ReadingsByMember {
    let options = CsvOptions {
        source_name: "test.csv".into(),
        bad_rows: BadRows::Fail,
        ..CsvOptions::default()
    };
    match read_readings_csv(csv.as_bytes(), &options, &mut |_| {}) {
        Ok(loaded) => loaded,
        Err(e) => panic!("test CSV must load: {e}"),
    }
}

/// The readings of `member` in CSV text.
pub fn readings_of(csv: &str, member: &str) -> Readings {
    let loaded = load(csv);
    let id = member_id(member);
    loaded.members.get(&id).cloned().unwrap_or_default()
}

pub fn member_id(text: &str) -> MemberId {
    match MemberId::parse(text) {
        Ok(id) => id,
        Err(e) => panic!("test member id: {e}"),
    }
}

/// Metrics of a single-member CSV with columns `time,glucose_mg_dl` (member M1 is added).
pub fn metrics_of_rows(rows: &[(&str, &str)]) -> Metrics {
    let mut csv = String::from("member_id,time,glucose_mg_dl\n");
    for (time, value) in rows {
        csv.push_str(&format!("M1,{time},{value}\n"));
    }
    let readings = readings_of(&csv, "M1");
    compute_metrics(&Record::new(member_id("M1"), readings, Vec::new()))
}

/// `a ≈ b` to `rel` relative (absolute near zero).
pub fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1.0)
}

/// The window `[start, end)` from two RFC 3339 timestamps.
pub fn window(start: &str, end: &str) -> Window {
    let instant = |t: &str| match parse_timestamp(t) {
        Ok(t) => t.to_utc(),
        Err(e) => panic!("test timestamp: {e}"),
    };
    match Window::new(instant(start), instant(end)) {
        Some(w) => w,
        None => panic!("test window must not be empty: {start} .. {end}"),
    }
}

/// Reads a policy package directory the way the CLI does: policy.toml, rules.rhai, cases/*.
#[allow(dead_code)]
pub fn package(dir: &std::path::Path) -> incentive_engine::policy::PolicySource {
    use incentive_engine::policy::{PolicySource, SourceFile};
    let mut files = Vec::new();
    for name in ["policy.toml", "rules.rhai"] {
        if let Ok(text) = std::fs::read_to_string(dir.join(name)) {
            files.push(SourceFile::new(name, text));
        }
    }
    for folder in ["cases", "locales"] {
        if let Ok(entries) = std::fs::read_dir(dir.join(folder)) {
            let mut entries: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
            entries.sort();
            for p in entries {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                files.push(SourceFile::new(
                    format!("{folder}/{name}"),
                    std::fs::read_to_string(&p).unwrap(),
                ));
            }
        }
    }
    PolicySource {
        name: dir.display().to_string(),
        files,
    }
}

/// The repository's policies/ directory.
#[allow(dead_code)]
pub fn policies_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies")
}

/// Every package directory under policies/, sorted.
#[allow(dead_code)]
pub fn policy_dirs() -> Vec<std::path::PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir(policies_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// A manifest for a test policy `id` deciding `period` periods from 2026-01-01, with `extra`
/// (terms, tables, [history], [attributes] …) before its [rounding].
pub fn manifest(id: &str, period: &str, extra: &str) -> String {
    format!(
        "id = \"{id}\"\nversion = \"1\"\nname = \"{id}\"\ninsurer = \"Example\"\ncurrency = \"CNY\"\ntimezone = \"Asia/Shanghai\"\nperiod = \"{period}\"\neffective_from = 2026-01-01\n{extra}\n[rounding]\nminor_unit = 0.01\n"
    )
}

/// A package of `manifest` whose `decide` gives, as its one reason, what `expression` is for
/// member M1. Every other member — the probes a package is loaded with — reads `otherwise`
/// instead, so an expression that fails on purpose fails only when a test asks.
pub fn saying(
    manifest: &str,
    expression: &str,
    otherwise: &str,
) -> incentive_engine::policy::PolicySource {
    use incentive_engine::policy::{PolicySource, SourceFile};
    let rules = format!(
        "fn decide(record, member, history) {{\n    let said = if member.id == \"M1\" {{ {expression} }} else {{ {otherwise} }};\n    #{{ reward: 0, reasons: [`${{said}}`] }}\n}}\n"
    );
    PolicySource {
        name: "test-policy".into(),
        files: vec![
            SourceFile::new("policy.toml", manifest),
            SourceFile::new("rules.rhai", rules),
        ],
    }
}

/// The decision `policy` gives `member` for `period`, or the error as text.
pub fn decide(
    policy: &incentive_engine::policy::Policy,
    member: &incentive_engine::policy::MemberProfile,
    period: &str,
    readings: &Readings,
    history: &incentive_engine::policy::History,
) -> Result<incentive_engine::policy::Decision, String> {
    use incentive_engine::Period;
    use incentive_engine::policy::EvaluationInput;
    policy
        .evaluate(&EvaluationInput {
            member,
            period: Period::parse(period).unwrap(),
            readings,
            labs: &[],
            history,
        })
        .map_err(|e| e.to_string())
}

/// What a policy made by [`saying`] says for `member`: its explanation, or the error as text.
pub fn said(
    policy: &incentive_engine::policy::Policy,
    member: &incentive_engine::policy::MemberProfile,
    period: &str,
    readings: &Readings,
    history: &incentive_engine::policy::History,
) -> Result<String, String> {
    let english = policy.catalogs.negotiate(&["en"]);
    decide(policy, member, period, readings, history)
        .map(|d| policy.catalogs.explanation(english, &d).join(" | "))
}

/// A published device export from ../shared/data/realworld (beside the repository), when that
/// folder is there: their licences keep them out of the repository, so a checkout without it
/// says so and checks them not.
#[allow(dead_code)]
pub fn realworld(file: &str) -> Option<std::fs::File> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/realworld")
        .join(file);
    let found = std::fs::File::open(&path).ok();
    if found.is_none() {
        eprintln!(
            "{} is not here: the published sample is not checked",
            path.display()
        );
    }
    found
}

/// Time in range (70–180 mg/dL) of readings as one member's record, and how many were
/// duplicates of another (same time and source) and so left out.
#[allow(
    dead_code,
    clippy::expect_used,
    reason = "a test helper fails by panicking"
)]
pub fn time_in_range(
    readings: impl IntoIterator<Item = incentive_engine::Reading>,
) -> (f64, usize) {
    let built: incentive_engine::BuiltReadings = readings.into_iter().collect();
    let record = incentive_engine::Record::new(member_id("P1"), built.readings, vec![]);
    let tir = incentive_engine::compute_metrics(&record)
        .tir_percent
        .expect("readings to compute time in range over");
    (tir, built.duplicates)
}
