//! Reading readings CSV: every bad input gets an error naming the file, the line, the field
//! and the reason, and nothing is loaded from a file that fails.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::{load, member_id, window};
use incentive_engine::GlucoseUnit;
use incentive_engine::ingest::{BadRows, CsvOptions, IngestReport, RowError, read_readings_csv};

fn options(unit: Option<GlucoseUnit>, bad_rows: BadRows) -> CsvOptions {
    CsvOptions {
        source_name: "readings.csv".into(),
        unit,
        window: None,
        bad_rows,
    }
}

/// The whole error message for `csv`, which must fail to load.
fn error_of(csv: &str, unit: Option<GlucoseUnit>) -> String {
    match read_readings_csv(csv.as_bytes(), &options(unit, BadRows::Fail), &mut |_| {}) {
        Ok(loaded) => panic!("expected an error, loaded {:?}", loaded.report),
        Err(e) => e.to_string(),
    }
}

const HEADER: &str = "member_id,time,glucose_mg_dl\n";
const GOOD: &str = "M1,2026-03-01T08:00:00+08:00,100\n";

#[test]
fn each_bad_row_is_named_by_file_line_field_and_reason() {
    let cases: &[(&str, &str)] = &[
        (
            "M1,2026-03-01T08:05:00+08:00,abc\n",
            "readings.csv: line 3, field `glucose_mg_dl`: `abc` is not a glucose value",
        ),
        (
            "M1,2026-03-01T08:05:00+08:00,NaN\n",
            "line 3, field `glucose_mg_dl`: glucose value `NaN` is not a finite number",
        ),
        (
            "M1,2026-03-01T08:05:00+08:00,-3\n",
            "line 3, field `glucose_mg_dl`: glucose value -3 mg/dL is not positive",
        ),
        (
            "M1,2026-03-01T08:05:00+08:00,0\n",
            "line 3, field `glucose_mg_dl`: glucose value 0 mg/dL is not positive",
        ),
        (
            "M1,2026-03-01T08:05:00+08:00,900\n",
            "line 3, field `glucose_mg_dl`: glucose value 900 mg/dL is outside the plausible 20–600 mg/dL",
        ),
        (
            "M1,2026-03-01T08:05:00+08:00,\n",
            "line 3, field `glucose_mg_dl`: `` is not a glucose value",
        ),
        (
            "M1,2026-03-01T08:05:00,100\n",
            "line 3, field `time`: time `2026-03-01T08:05:00` has no UTC offset",
        ),
        (
            "M1,01/03/2026 08:05,100\n",
            "line 3, field `time`: time `01/03/2026 08:05` is not an RFC 3339 timestamp",
        ),
        (
            ",2026-03-01T08:05:00+08:00,100\n",
            "line 3, field `member_id`: member id is empty",
        ),
        (
            "M1,2026-03-01T08:05:00+08:00\n",
            "line 3: expected 3 fields as in the header, found 2",
        ),
        (
            "M1,2026-03-01T08:05:00+08:00,100,extra\n",
            "line 3: expected 3 fields as in the header, found 4",
        ),
    ];
    for (row, expected) in cases {
        let csv = format!("{HEADER}{GOOD}{row}");
        let message = error_of(&csv, None);
        assert!(
            message.contains(expected),
            "row {row:?}\n  got:  {message}\n  want: {expected}"
        );
    }
}

#[test]
fn unknown_contexts_and_sources_are_refused_with_the_vocabulary() {
    let csv = "member_id,time,glucose_mmol_l,context,source\nM1,2026-03-01T08:00:00+08:00,5.5,after lunch,smbg\n";
    assert_eq!(
        error_of(csv, None),
        "readings.csv: line 2, field `context`: unknown context `after lunch` (expected one of: fasting, pre_meal, post_meal, bedtime, random)"
    );
    let csv = "member_id,time,glucose_mmol_l,context,source\nM1,2026-03-01T08:00:00+08:00,5.5,fasting,pump\n";
    assert!(error_of(csv, None).contains("line 2, field `source`: unknown source `pump`"));
}

#[test]
fn a_bad_header_is_refused_before_any_row_is_read() {
    let cases: &[(&str, Option<GlucoseUnit>, &str)] = &[
        ("", None, "readings.csv: the file is empty"),
        (
            "time,glucose_mg_dl\n",
            None,
            "the header has no `member_id` (or `patient_id`) column; found `time`, `glucose_mg_dl`",
        ),
        (
            "member_id,glucose_mg_dl\n",
            None,
            "the header has no `time` column",
        ),
        (
            "member_id,time,value\n",
            None,
            "the header has no glucose column",
        ),
        (
            "member_id,time,glucose\n",
            None,
            "column `glucose` has no unit",
        ),
        (
            "member_id,time,glucose_mg_dl\n",
            Some(GlucoseUnit::MmolL),
            "column `glucose_mg_dl` is in mg/dL but the unit given is mmol/L",
        ),
        (
            "member_id,time,glucose_mg_dl,glucose_mmol_l\n",
            None,
            "more than one of the columns `glucose_mg_dl`, `glucose_mmol_l`, `glucose`",
        ),
        (
            "member_id,patient_id,time,glucose\n",
            Some(GlucoseUnit::MgDl),
            "more than one of the columns `member_id`, `patient_id`",
        ),
    ];
    for (csv, unit, expected) in cases {
        let message = error_of(csv, *unit);
        assert!(
            message.contains(expected),
            "header {csv:?}\n  got:  {message}\n  want: {expected}"
        );
    }
}

#[test]
fn a_plain_glucose_column_takes_the_unit_given_and_patient_id_names_the_member() {
    let csv = "patient_id,time,glucose\nP7,2026-03-01T08:00:00+08:00,7.0\n";
    let loaded = read_readings_csv(
        csv.as_bytes(),
        &options(Some(GlucoseUnit::MmolL), BadRows::Fail),
        &mut |_| {},
    );
    let values = loaded.ok().and_then(|l| {
        l.members
            .get(&member_id("P7"))
            .map(|r| r.values_mg_dl().to_vec())
    });
    assert_eq!(values, Some(vec![126.0]));
}

#[test]
fn skipping_bad_rows_reports_every_one_and_keeps_the_good_ones() {
    let csv = format!(
        "{HEADER}{GOOD}M1,bad-time,100\nM2,2026-03-01T08:00:00+08:00,HI\nM2,2026-03-01T08:05:00+08:00,x\n"
    );
    let mut skipped: Vec<RowError> = Vec::new();
    let loaded = read_readings_csv(csv.as_bytes(), &options(None, BadRows::Skip), &mut |e| {
        skipped.push(e.clone())
    });
    let loaded = loaded.unwrap_or_else(|e| panic!("{e}"));
    let lines: Vec<(u64, Option<&str>)> = skipped.iter().map(|e| (e.line, e.field)).collect();
    assert_eq!(lines, vec![(3, Some("time")), (5, Some("glucose_mg_dl"))]);
    assert_eq!(
        loaded.report,
        IngestReport {
            rows: 4,
            accepted: 2,
            duplicates: 0,
            outside_window: 0,
            skipped: 2,
            members: 2
        }
    );
}

#[test]
fn duplicates_and_readings_outside_the_window_are_counted_not_silently_dropped() {
    let csv = format!(
        "{HEADER}{GOOD}{GOOD}M1,2026-03-01T00:00:00Z,101\nM1,2026-02-28T08:00:00+08:00,100\nM1,2026-03-02T08:00:00+08:00,100\n"
    );
    let window = window("2026-03-01T00:00:00+08:00", "2026-03-02T00:00:00+08:00");
    let mut opts = options(None, BadRows::Fail);
    opts.window = Some(window);
    let loaded =
        read_readings_csv(csv.as_bytes(), &opts, &mut |_| {}).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        loaded.report,
        IngestReport {
            rows: 5,
            accepted: 1,
            duplicates: 2,
            outside_window: 2,
            skipped: 0,
            members: 1
        }
    );
}

#[test]
fn a_member_whose_readings_all_fall_outside_the_window_has_no_record() {
    let csv = format!("{HEADER}M9,2020-01-01T08:00:00+08:00,100\n{GOOD}");
    let window = window("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
    let mut opts = options(None, BadRows::Fail);
    opts.window = Some(window);
    let loaded =
        read_readings_csv(csv.as_bytes(), &opts, &mut |_| {}).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        loaded
            .members
            .keys()
            .map(|m| m.as_str())
            .collect::<Vec<_>>(),
        vec!["M1"]
    );
    assert_eq!(loaded.report.outside_window, 1);
}

#[test]
fn quoted_fields_extra_columns_a_byte_order_mark_and_crlf_are_read() {
    let csv = "\u{feff}device,member_id,time,glucose_mg_dl,note\r\n\"meter, A\",\"M1\",2026-03-01T08:00:00+08:00,100,\"said \"\"hi\"\"\"\r\n";
    let loaded = load(csv);
    assert_eq!(loaded.report.accepted, 1);
}

#[test]
fn invalid_utf8_in_a_field_is_a_clear_row_error() {
    let mut csv = HEADER.as_bytes().to_vec();
    csv.extend_from_slice(b"M\xff1,2026-03-01T08:00:00+08:00,100\n");
    let result = read_readings_csv(csv.as_slice(), &options(None, BadRows::Fail), &mut |_| {});
    let message = result.err().map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(
        message,
        "readings.csv: line 2, field `member_id`: field `member_id` is not valid UTF-8"
    );
}

#[test]
fn lo_and_hi_flags_are_kept_in_either_unit() {
    let csv = "member_id,time,glucose_mmol_l\nM1,2026-03-01T08:00:00+08:00,LO\nM1,2026-03-01T09:00:00+08:00,hi\n";
    let loaded = load(csv);
    let values = loaded
        .members
        .get(&member_id("M1"))
        .map(|r| r.values_mg_dl().to_vec());
    assert_eq!(values, Some(vec![f64::NEG_INFINITY, f64::INFINITY]));
}

#[test]
fn a_header_that_is_not_utf8_is_refused_at_line_one() {
    let csv = b"member_id,t\xffme,glucose_mg_dl\nM1,2026-03-01T08:00:00+08:00,100\n";
    let result = read_readings_csv(csv.as_slice(), &options(None, BadRows::Fail), &mut |_| {});
    let message = result.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.starts_with("readings.csv: line 1: could not be read:"),
        "{message}"
    );
}
