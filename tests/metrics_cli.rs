//! `incentive metrics` end to end: the real binary, real files, standard input and output.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const CGM_FIXTURE: &str = "engine/tests/fixtures/iglu/cgm-two-members.csv";
const IGLU_EXPECTED: &str = "engine/tests/fixtures/iglu/expected.json";

/// The fields product.md promises, in its order.
const CONTRACT_FIELDS: [&str; 21] = [
    "member_id",
    "n_readings",
    "first_time",
    "last_time",
    "mean_mg_dl",
    "mean_mmol_l",
    "sd_mg_dl",
    "cv_percent",
    "gmi_percent",
    "tir_percent",
    "tbr_percent",
    "tbr_level2_percent",
    "tar_percent",
    "tar_level2_percent",
    "gri",
    "j_index",
    "lbgi",
    "hbgi",
    "active_percent",
    "days_with_readings",
    "n_measured",
];

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn incentive(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_incentive"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("the binary starts: {e}"));
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // The binary may exit on a bad argument before it reads its input: a broken pipe is fine.
        let _ = pipe.write_all(text.as_bytes());
    }
    child.wait_with_output().unwrap_or_else(|e| panic!("{e}"))
}

fn stdout_json(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("stdout is JSON: {e}"))
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A CSV file in a fresh temporary directory, removed when the guard drops.
struct TempCsv(PathBuf);

impl TempCsv {
    fn new(name: &str, text: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("incentive-cli-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        Self(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap_or_default()
    }
}

impl Drop for TempCsv {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[test]
fn json_output_has_the_contract_fields_in_order_and_iglus_figures() {
    let output = incentive(
        &["metrics", "--readings", CGM_FIXTURE, "--format", "json"],
        None,
    );
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let json = stdout_json(&output);
    let members = json.as_array().cloned().unwrap_or_default();
    assert_eq!(members.len(), 2);
    // Field order as written on stdout, not as a map would sort it.
    let first_object = text.split("},").next().unwrap_or_default();
    let positions: Vec<usize> = CONTRACT_FIELDS
        .iter()
        .map(|f| {
            first_object
                .find(&format!("\"{f}\":"))
                .unwrap_or(usize::MAX)
        })
        .collect();
    assert!(
        positions.is_sorted() && positions.last() != Some(&usize::MAX),
        "{positions:?}"
    );

    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(repo(IGLU_EXPECTED)).unwrap_or_default())
            .unwrap_or(Value::Null);
    for member in &members {
        let id = member["member_id"].as_str().unwrap_or_default();
        for field in [
            "mean_mg_dl",
            "sd_mg_dl",
            "tir_percent",
            "gri",
            "active_percent",
        ] {
            let ours = member[field].as_f64().unwrap_or(f64::NAN);
            let iglu = expected["members"][id][field].as_f64().unwrap_or(f64::NAN);
            assert!(
                (ours - iglu).abs() <= 1e-12 * iglu.abs().max(1.0),
                "{id}.{field}: {ours} vs {iglu}"
            );
        }
    }
    assert!(
        stderr(&output).contains("3275 rows; 3275 readings for 2 members; 0 duplicates dropped")
    );
}

#[test]
fn finger_stick_readings_in_mmol_count_flags_and_fasting_targets_but_no_cgm_metrics() {
    let json = stdout_json(&incentive(
        &[
            "metrics",
            "--readings",
            "examples/readings/smbg-mmol.csv",
            "--tz",
            "Asia/Shanghai",
        ],
        None,
    ));
    let by_id = |id: &str| {
        json.as_array()
            .and_then(|a| a.iter().find(|m| m["member_id"] == id))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let (s002, s003) = (by_id("S002"), by_id("S003"));
    assert_eq!(s002["n_low_flags"], 1);
    assert_eq!(s003["n_high_flags"], 1);
    assert!(s002["fasting_n"].as_u64() > Some(0));
    assert!(s002["fasting_in_target_percent"].is_number());
    assert!(s002["active_percent"].is_null() && s002["hypo_episodes"].is_null());
}

#[test]
fn standard_input_is_read_when_the_file_is_a_dash() {
    let csv = "member_id,time,glucose\nA,2026-03-01T08:00:00+08:00,5.0\nA,2026-03-01T09:00:00+08:00,7.0\n";
    let json = stdout_json(&incentive(
        &["metrics", "--readings", "-", "--unit", "mmol/L"],
        Some(csv),
    ));
    assert_eq!(json[0]["member_id"], "A");
    assert_eq!(json[0]["mean_mg_dl"], 108.0);
    assert_eq!(json[0]["mean_mmol_l"], 6.0);
}

#[test]
fn the_table_is_for_people_with_one_row_per_member() {
    let output = incentive(
        &["metrics", "--readings", CGM_FIXTURE, "--format", "table"],
        None,
    );
    assert!(output.status.success());
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("TIR %") && table.contains("M001") && table.contains("M002"),
        "{table}"
    );
    // M001's TIR, 95.09333 %, rounded for reading.
    assert!(table.contains("95.1"), "{table}");
}

/// Each header of the table and the JSON field it shows, written here apart from the table's
/// own list so that a header over the wrong column is caught.
const TABLE_FIELDS: [(&str, &str); 16] = [
    ("member", "member_id"),
    ("readings", "n_readings"),
    ("days", "days_with_readings"),
    ("readings/week", "readings_per_week"),
    ("fasting in target %", "fasting_in_target_percent"),
    ("mean mg/dL", "mean_mg_dl"),
    ("SD", "sd_mg_dl"),
    ("CV %", "cv_percent"),
    ("GMI %", "gmi_percent"),
    ("TIR %", "tir_percent"),
    ("TBR %", "tbr_percent"),
    ("TBR<54 %", "tbr_level2_percent"),
    ("TAR %", "tar_percent"),
    ("TAR>250 %", "tar_level2_percent"),
    ("GRI", "gri"),
    ("active %", "active_percent"),
];

/// The cells of each line of a table drawn with `UTF8_FULL_CONDENSED`, borders left out.
fn table_rows(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .filter(|line| line.starts_with('│'))
        .map(|line| {
            line.trim_matches('│')
                .split('┆')
                .map(|cell| cell.trim().to_owned())
                .collect()
        })
        .collect()
}

/// A JSON value as the table shows it: text and counts as they are, other numbers to one
/// decimal, an undefined metric as `–`.
fn as_the_table_shows(value: &Value) -> String {
    match value {
        Value::Null => "–".to_owned(),
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_u64() => n.to_string(),
        Value::Number(n) => match n.as_f64() {
            Some(v) => format!("{v:.1}"),
            None => panic!("{n} is not a number the table shows"),
        },
        other => panic!("no cell shows {other}"),
    }
}

#[test]
fn under_each_header_the_table_shows_the_json_value_of_that_field() {
    // The README's own example (finger sticks, fasting readings) and a CGM file (active %).
    for readings in [
        &[
            "--readings",
            "examples/readings/smbg-mmol.csv",
            "--tz",
            "Asia/Shanghai",
        ][..],
        &["--readings", CGM_FIXTURE][..],
    ] {
        let run = |format: &str| {
            let mut args = vec!["metrics"];
            args.extend_from_slice(readings);
            args.extend_from_slice(&["--format", format]);
            incentive(&args, None)
        };
        let json = stdout_json(&run("json"));
        let table = run("table");
        assert!(table.status.success(), "{}", stderr(&table));
        let table = String::from_utf8_lossy(&table.stdout).into_owned();
        let rows = table_rows(&table);
        let Some((headers, members)) = rows.split_first() else {
            panic!("{readings:?}: no table\n{table}");
        };
        let expected: Vec<&str> = TABLE_FIELDS.iter().map(|(h, _)| *h).collect();
        assert_eq!(headers, &expected, "{readings:?}: the headers\n{table}");
        let Some(json) = json.as_array() else {
            panic!("{readings:?}: not an array: {json}");
        };
        assert_eq!(
            members.len(),
            json.len(),
            "{readings:?}: a row a member\n{table}"
        );
        for (row, member) in members.iter().zip(json) {
            assert_eq!(row.len(), TABLE_FIELDS.len(), "{readings:?}: {row:?}");
            for ((header, field), cell) in TABLE_FIELDS.iter().zip(row) {
                assert_eq!(
                    cell,
                    &as_the_table_shows(&member[field]),
                    "{readings:?}: member {}, under `{header}` (`{field}`)\n{table}",
                    member["member_id"]
                );
            }
        }
    }
}

#[test]
fn a_bad_row_stops_with_its_file_and_line_and_prints_no_partial_output() {
    let file = TempCsv::new(
        "bad.csv",
        "member_id,time,glucose_mg_dl\nA,2026-03-01T08:00:00+08:00,100\nA,2026-03-01T09:00:00,100\n",
    );
    let output = incentive(&["metrics", "--readings", file.path()], None);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "nothing half-written to stdout");
    let message = stderr(&output);
    assert!(
        message.contains(
            "bad.csv: line 3, field `time`: time `2026-03-01T09:00:00` has no UTC offset"
        ),
        "{message}"
    );
}

#[test]
fn skipping_bad_rows_names_each_skipped_row_and_keeps_the_rest() {
    let csv = "member_id,time,glucose_mg_dl\nA,2026-03-01T08:00:00+08:00,100\nA,x,100\nB,2026-03-01T08:00:00+08:00,7000\nB,2026-03-01T09:00:00+08:00,120\n";
    let output = incentive(
        &["metrics", "--readings", "-", "--skip-bad-rows"],
        Some(csv),
    );
    let json = stdout_json(&output);
    assert_eq!(json.as_array().map(Vec::len), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("skipped: <stdin>: line 3, field `time`"),
        "{message}"
    );
    assert!(
        message.contains("skipped: <stdin>: line 4, field `glucose_mg_dl`"),
        "{message}"
    );
    assert!(message.contains("2 bad rows skipped"), "{message}");
}

#[test]
fn a_window_keeps_readings_from_its_start_up_to_its_end_and_counts_the_rest() {
    let csv = "member_id,time,glucose_mg_dl\nA,2026-03-01T08:00:00+08:00,100\nA,2026-03-02T08:00:00+08:00,200\nA,2026-03-03T08:00:00+08:00,300\n";
    let output = incentive(
        &[
            "metrics",
            "--readings",
            "-",
            "--from",
            "2026-03-02T08:00:00+08:00",
            "--to",
            "2026-03-03T08:00:00+08:00",
        ],
        Some(csv),
    );
    let json = stdout_json(&output);
    assert_eq!(json[0]["n_readings"], 1);
    assert_eq!(json[0]["mean_mg_dl"], 200.0);
    assert!(stderr(&output).contains("2 outside the window"));
}

#[test]
fn days_follow_the_time_zone_given() {
    let csv =
        "member_id,time,glucose_mg_dl\nA,2026-03-01T23:30:00Z,100\nA,2026-03-02T01:00:00Z,110\n";
    let utc = stdout_json(&incentive(&["metrics", "--readings", "-"], Some(csv)));
    let shanghai = stdout_json(&incentive(
        &["metrics", "--readings", "-", "--tz", "Asia/Shanghai"],
        Some(csv),
    ));
    assert_eq!(
        (
            utc[0]["days_with_readings"].as_u64(),
            shanghai[0]["days_with_readings"].as_u64()
        ),
        (Some(2), Some(1))
    );
}

#[test]
fn bad_arguments_get_messages_that_name_them() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--readings", "no-such-file.csv"],
            "cannot open readings file `no-such-file.csv`",
        ),
        (
            &["--readings", "-", "--unit", "g/L"],
            "--unit: unknown glucose unit `g/L`",
        ),
        (
            &["--readings", "-", "--tz", "Mars/Olympus"],
            "--tz: unknown time zone `Mars/Olympus`",
        ),
        (
            &["--readings", "-", "--from", "2026-03-01"],
            "--from: time `2026-03-01` is not an RFC 3339 timestamp",
        ),
        (
            &[
                "--readings",
                "-",
                "--from",
                "2026-03-02T00:00:00Z",
                "--to",
                "2026-03-01T00:00:00Z",
            ],
            "--to (2026-03-01 00:00:00 UTC) must be after --from (2026-03-02 00:00:00 UTC)",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["metrics"];
        all.extend_from_slice(args);
        let output = incentive(&all, Some("member_id,time,glucose_mg_dl\n"));
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(output.stdout.is_empty());
        assert!(
            stderr(&output).contains(expected),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn output_is_the_same_bytes_on_every_run() {
    let args = ["metrics", "--readings", CGM_FIXTURE];
    assert_eq!(incentive(&args, None).stdout, incentive(&args, None).stdout);
}

/// A Dexcom Clarity export is told from its header and read as Clarity writes it: its lows and
/// highs as LO/HI, its patient and device rows dropped and said, its local times in `--tz`,
/// which it cannot do without; a format it is told that does not exist is named.
#[test]
fn a_dexcom_clarity_export_is_read_as_it_comes_in_the_zone_given() {
    let clarity = "Index,Timestamp (YYYY-MM-DDThh:mm:ss),Event Type,Event Subtype,Patient Info,Device Info,Source Device ID,Glucose Value (mg/dL),Insulin Value (u),Carb Value (grams),Duration (hh:mm:ss),Glucose Rate of Change (mg/dL/min),Transmitter Time (Long Integer),Transmitter ID
1,,FirstName,,Jane,,,,,,,,,
2,,Device,,,Dexcom G6 Receiver,PG00000000,,,,,,,
3,2023-08-08T23:50:00,EGV,,,,PG00000000,100,,,,,7573,38J902
4,2023-08-08T23:55:00,EGV,,,,PG00000000,Low,,,,,7873,38J902
5,2023-08-09T00:00:00,EGV,,,,PG00000000,High,,,,,8173,38J902
6,2023-08-09T00:05:00,EGV,,,,PG00000000,150,,,,,8473,38J902
";
    let no_zone = incentive(&["metrics", "--readings", "-"], Some(clarity));
    assert_eq!(no_zone.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&no_zone.stderr);
    assert!(stderr.contains("<stdin>: dexcom-clarity writes local times without an offset: give the zone the device was in with --tz"), "{stderr}");

    let out = incentive(
        &[
            "metrics",
            "--readings",
            "-",
            "--tz",
            "Asia/Shanghai",
            "--member",
            "P7",
        ],
        Some(clarity),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("dexcom-clarity: 6 rows: 4 kept (1 as LO, 1 as HI); dropped 2: 2 patient or device information"),
        "{stderr}"
    );
    let metrics: Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = &metrics[0];
    assert_eq!(m["member_id"], "P7");
    assert_eq!(m["n_readings"], 4);
    // Two readings either side of midnight in Shanghai: two days.
    assert_eq!(m["days_with_readings"], 2);
    assert_eq!(m["first_time"], "2023-08-08T23:50:00+08:00");
    // 100 and 150 in range, LO below it, HI above it.
    assert_eq!(m["tir_percent"], 50.0);

    let bad = incentive(
        &["metrics", "--readings", "-", "--readings-format", "clarity"],
        Some(clarity),
    );
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("--readings-format: `clarity` is not a readings format (formats: incentive-csv, dexcom-clarity, nightscout, libreview, carelink, fhir, apple-health, sibionics)"),
        "{stderr}"
    );
}

/// A FHIR bundle about two patients gives one row each, named by the identifier system given
/// (else each Patient's id); a patient without an identifier in that system is named, and the
/// file is not half-read.
#[test]
fn a_fhir_bundle_about_two_patients_gives_each_their_own_metrics_by_the_identifier_system() {
    let obs = |value: u32, time: &str, subject: &str| {
        format!(
            r#"{{"resource":{{"resourceType":"Observation","status":"final","code":{{"coding":[{{"system":"http://loinc.org","code":"41653-7"}}]}},"subject":{{"reference":"{subject}"}},"effectiveDateTime":"{time}","valueQuantity":{{"value":{value},"unit":"mg/dL","code":"mg/dL"}}}}}}"#
        )
    };
    let patient = |id: &str, member: &str| {
        format!(
            r#"{{"resource":{{"resourceType":"Patient","id":"{id}","identifier":[{{"system":"urn:insurer:member","value":"{member}"}}]}}}}"#
        )
    };
    let bundle = format!(
        r#"{{"resourceType":"Bundle","type":"collection","entry":[{},{},{},{},{}]}}"#,
        patient("a", "M-001"),
        patient("b", "M-002"),
        obs(100, "2025-03-01T07:00:00+08:00", "Patient/a"),
        obs(200, "2025-03-01T08:00:00+08:00", "Patient/a"),
        obs(120, "2025-03-01T07:00:00+08:00", "Patient/b"),
    );
    let out = incentive(
        &[
            "metrics",
            "--readings",
            "-",
            "--identifier-system",
            "urn:insurer:member",
        ],
        Some(&bundle),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let metrics = stdout_json(&out);
    let rows: Vec<(String, u64)> = metrics
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["member_id"].as_str().unwrap().to_owned(),
                m["n_readings"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows, [("M-001".to_owned(), 2), ("M-002".to_owned(), 1)]);
    assert!(
        stderr(&out).contains(
            "fhir: 5 rows: 3 kept; dropped 2: 2 patients (read for whom the data is about)"
        ),
        "{}",
        stderr(&out)
    );

    let by_id = incentive(&["metrics", "--readings", "-"], Some(&bundle));
    let ids: Vec<String> = stdout_json(&by_id)
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["member_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["a", "b"]);

    let unknown = incentive(
        &[
            "metrics",
            "--readings",
            "-",
            "--identifier-system",
            "urn:other",
        ],
        Some(&bundle),
    );
    assert_eq!(unknown.status.code(), Some(1));
    assert!(unknown.stdout.is_empty());
    assert!(
        stderr(&unknown).contains("<stdin>: Patient/a has no identifier in system `urn:other`: say which identifier names members with --identifier-system, or split the file by patient"),
        "{}",
        stderr(&unknown)
    );
}

/// Every format the product reads is told by its content, whatever the file is called, and
/// read by `metrics` (the fuzz seeds: one small file of each, in each vendor's layout); what
/// its reader kept is said on standard error, under the format's name.
#[test]
fn a_file_of_every_format_is_told_by_its_content_and_read() {
    for (seed, format, kept) in [
        ("apple-health-export.xml", "apple-health", 4),
        ("carelink-two-sections.csv", "carelink", 5),
        ("dexcom-clarity-dst.csv", "dexcom-clarity", 4),
        ("fhir-bundle.json", "fhir", 2),
        ("libreview-us.csv", "libreview", 3),
        ("nightscout-entries.json", "nightscout", 4),
        ("sibionics-export.xlsx", "sibionics", 4),
    ] {
        let path = repo(&format!("fuzz/corpus/device_exports/{seed}"));
        let out = incentive(
            &[
                "metrics",
                "--readings",
                path.to_str().unwrap(),
                "--tz",
                "Europe/Berlin",
            ],
            None,
        );
        assert!(out.status.success(), "{seed}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!(": {format}: ")),
            "{seed}: {}",
            stderr(&out)
        );
        assert!(
            stderr(&out).contains(&format!("rows: {kept} kept")),
            "{seed}: {}",
            stderr(&out)
        );
        assert_eq!(stdout_json(&out).as_array().unwrap().len(), 1, "{seed}");
    }
}
