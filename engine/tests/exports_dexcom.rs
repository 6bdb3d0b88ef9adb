//! Dexcom Clarity CSV read as Clarity writes it: sensor readings (`EGV`) kept, `Low`/`High` as
//! the meter flags LO/HI, finger-stick calibrations as finger-sticks, rows about the patient
//! and the device and other events dropped and counted, local times placed in the zone given.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use incentive_engine::exports::{ExportError, ExportOptions, Format, detect, read_dexcom_clarity};
use incentive_engine::{GlucoseValue, Source};

const HEADER: &str = "Index,Timestamp (YYYY-MM-DDThh:mm:ss),Event Type,Event Subtype,Patient Info,Device Info,Source Device ID,Glucose Value (mg/dL),Insulin Value (u),Carb Value (grams),Duration (hh:mm:ss),Glucose Rate of Change (mg/dL/min),Transmitter Time (Long Integer),Transmitter ID";

/// A Clarity export in its exact layout: the patient's and the device's rows first, then events.
fn clarity(rows: &[&str]) -> String {
    let mut out = format!(
        "{HEADER}\n1,,FirstName,,Jane,,,,,,,,,\n2,,LastName,,Doe,,,,,,,,,\n3,,DateOfBirth,,1/1/80,,,,,,,,,\n4,,Device,,,Dexcom G6 Receiver,PG00000000,,,,,,,\n"
    );
    for (i, r) in rows.iter().enumerate() {
        out.push_str(&format!("{},{r}\n", i + 5));
    }
    out
}

fn options(zone: Option<&str>) -> ExportOptions {
    ExportOptions {
        source_name: "clarity.csv".into(),
        zone: zone.map(|z| z.parse().unwrap()),
        date_order: None,
    }
}

#[test]
fn egv_rows_are_kept_low_and_high_as_flags_and_the_rest_counted_by_reason() {
    let text = clarity(&[
        "2021-03-28T01:55:00,EGV,,,,PG00000000,120,,,,,7573,38J902",
        "2021-03-28T02:00:00,EGV,,,,PG00000000,Low,,,,,7873,38J902",
        "2021-03-28T03:05:00,EGV,,,,PG00000000,High,,,,,8173,38J902",
        "2021-03-28T03:10:00,Calibration,,,,PG00000000,131,,,,,8473,38J902",
        "2021-03-28T03:15:00,Insulin,Fast-Acting,,,PG00000000,,4,,,,,",
        "2021-03-28T03:20:00,Carbs,,,,PG00000000,,,30,,,,",
        "2021-03-28T03:25:00,Alert,High,,,PG00000000,,,,,,,",
    ]);
    assert_eq!(detect(text.as_bytes()), Some(Format::DexcomClarity));
    let export = read_dexcom_clarity(text.as_bytes(), &options(Some("Europe/Berlin"))).unwrap();
    let r = &export.report;
    assert_eq!((r.rows, r.kept, r.kept_as_lo, r.kept_as_hi), (11, 4, 1, 1));
    assert_eq!(
        r.dropped
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect::<Vec<_>>(),
        [
            ("alert events (not glucose)", 1),
            ("carbs events (not glucose)", 1),
            ("insulin events (not glucose)", 1),
            ("patient or device information", 4),
        ]
    );
    let readings = &export.readings;
    assert_eq!(readings[0].time.to_rfc3339(), "2021-03-28T01:55:00+01:00");
    // 02:00 did not happen in Berlin that night (clocks went to 03:00): read at +01:00.
    assert_eq!(readings[1].time.to_rfc3339(), "2021-03-28T02:00:00+01:00");
    assert_eq!(r.local_times_skipped_by_the_zone, 1);
    assert_eq!(readings[2].time.to_rfc3339(), "2021-03-28T03:05:00+02:00");
    assert_eq!(readings[1].value, GlucoseValue::Low);
    assert_eq!(readings[2].value, GlucoseValue::High);
    assert_eq!(
        (readings[0].source, readings[3].source),
        (Source::Cgm, Source::Smbg)
    );
    assert_eq!(
        r.summary(),
        "dexcom-clarity: 11 rows: 4 kept (1 as LO, 1 as HI); dropped 7: 1 alert events (not glucose), 1 carbs events (not glucose), 1 insulin events (not glucose), 4 patient or device information; 1 local times the zone skipped (read with the offset before the change)"
    );
}

#[test]
fn a_clarity_export_without_a_zone_or_with_a_bad_row_is_refused_naming_what_to_give() {
    let text = clarity(&["2023-08-08T04:10:35,EGV,,,,PG00000000,226,,,,,7573,38J902"]);
    assert_eq!(
        read_dexcom_clarity(text.as_bytes(), &options(None)).unwrap_err(),
        ExportError::NeedsZone {
            source_name: "clarity.csv".into(),
            format: Format::DexcomClarity
        }
    );
    let bad = clarity(&["08/08/2023 04:10,EGV,,,,PG00000000,226,,,,,7573,38J902"]);
    let e = read_dexcom_clarity(bad.as_bytes(), &options(Some("UTC")))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "clarity.csv: line 6, field `Timestamp (YYYY-MM-DDThh:mm:ss)`: `08/08/2023 04:10` is not a time such as 2023-08-08T04:10:35"
    );
    let bad = clarity(&["2023-08-08T04:10:35,EGV,,,,PG00000000,9999,,,,,7573,38J902"]);
    let e = read_dexcom_clarity(bad.as_bytes(), &options(Some("UTC")))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("clarity.csv: line 6, field `Glucose Value (mg/dL)`: "),
        "{e}"
    );
    let not = read_dexcom_clarity("time,glucose_mg_dl\n".as_bytes(), &options(Some("UTC")))
        .unwrap_err()
        .to_string();
    assert!(
        not.contains("not a dexcom-clarity export: no `Timestamp (YYYY-MM-DDThh:mm:ss)` column"),
        "{not}"
    );
}

/// The published Clarity sample (../shared/data/realworld, when it is there; its licence keeps
/// it out of the repository): every EGV kept, its lows and highs as flags, and time in range
/// as counted by hand (awk over the file: 695 of 2,855 readings in 70–180 mg/dL, Low and High
/// counted outside it).
#[test]
fn the_published_clarity_sample_is_read_whole_and_its_time_in_range_is_the_hand_count() {
    let Some(file) = common::realworld("dexcom_clarity_g6_mgdl.csv") else {
        return;
    };
    let export = read_dexcom_clarity(file, &options(Some("America/Los_Angeles"))).unwrap();
    let r = &export.report;
    assert_eq!(
        (r.rows, r.kept, r.kept_as_lo, r.kept_as_hi),
        (2859, 2855, 33, 317)
    );
    assert_eq!(r.dropped.get("patient or device information"), Some(&4));
    let (tir, duplicates) = common::time_in_range(export.readings);
    assert_eq!(duplicates, 0);
    assert!((tir - 100.0 * 695.0 / 2855.0).abs() < 1e-9, "{tir}");
}
