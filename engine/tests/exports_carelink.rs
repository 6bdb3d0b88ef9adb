//! Medtronic CareLink CSV read as CareLink writes it: `;` and decimal commas, a preamble, a
//! section per device with its own header, newest row first; the sensor's readings and the
//! pump's finger-sticks kept as two sources, events dropped and counted.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use incentive_engine::Source;
use incentive_engine::exports::{ExportOptions, Format, detect, read_carelink};

fn options(zone: Option<&str>) -> ExportOptions {
    ExportOptions {
        source_name: "carelink.csv".into(),
        zone: zone.map(|z| z.parse().unwrap()),
        date_order: None,
    }
}

const HEADER: &str = "Index;Date;Time;New Device Time;BG Reading (mg/dL);Linked BG Meter ID;Basal Rate (U/h);Bolus Volume Delivered (U);Alarm;Sensor Calibration BG (mg/dL);Sensor Glucose (mg/dL);ISIG Value;Event Marker";

fn carelink() -> String {
    format!(
        "Last Name;First Name;Patient ID;System ID;Start Date;End Date;Device;Guardian Connect
\"Redacted\";\"Redacted\";\"\";\"\";\"01.05.2021 00:00:00\";\"25.07.2021 23:59:59\";\"Serial Number\";XXXXXX

Device data shown may exceed selected date range.

-------;Guardian Connect;Pump;XXXXXX-XXXX;-------
{HEADER}
0,00000;2021/10/31;09:35:28;;;;;27,00;;;;;
1,00000;2021/10/31;08:54:04;;135;;;;;;;;
2,00000;2021/10/31;08:00:00;;;;;;;112;;;
-------;Guardian Connect;Sensor;XXXXXX-XXXX;-------
{HEADER}
3,00000;2021/10/31;02:40:00;;;;;;;;101;17,43;
4,00000;2021/10/31;02:30:00;;;;;;;;99;17,01;
5,00000;2021/10/31;02:05:00;;;;;;;;97;16,80;
6,00000;2021/10/31;02:30:00;;;;;;;;95;16,50;
7,00000;2021/10/31;01:00:00;;;;;;;;;;SENSOR CHANGE
"
    )
}

#[test]
fn both_sections_are_read_as_two_sources_and_a_repeated_hour_is_read_backwards() {
    let text = carelink();
    assert_eq!(detect(text.as_bytes()), Some(Format::CareLink));
    let export = read_carelink(text.as_bytes(), &options(Some("Europe/Berlin"))).unwrap();
    let r = &export.report;
    assert_eq!((r.rows, r.kept), (8, 5));
    assert_eq!(
        r.dropped
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect::<Vec<_>>(),
        [
            ("pump and sensor events (not glucose)", 2),
            (
                "sensor calibrations (their finger-stick is a BG Reading row)",
                1
            ),
        ]
    );
    let rd = &export.readings;
    assert_eq!(rd[0].source, Source::Smbg);
    assert_eq!(rd[0].time.to_rfc3339(), "2021-10-31T08:54:04+01:00");
    // Newest first through the night Berlin repeats 02:00–03:00: the later 02:30 first.
    let sensor: Vec<String> = rd[1..].iter().map(|r| r.time.to_rfc3339()).collect();
    assert_eq!(
        sensor,
        [
            "2021-10-31T02:40:00+01:00",
            "2021-10-31T02:30:00+01:00",
            "2021-10-31T02:05:00+01:00",
            "2021-10-31T02:30:00+02:00",
        ]
    );
    assert_eq!(r.local_times_repeated_by_the_zone, 4);
    assert!(rd[1..].iter().all(|r| r.source == Source::Cgm));
}

#[test]
fn a_carelink_export_without_a_zone_or_with_a_bad_value_is_refused_naming_it() {
    let e = read_carelink(carelink().as_bytes(), &options(None))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("carelink writes local times without an offset: give the zone"),
        "{e}"
    );
    let bad = carelink().replace(";;;;;;;;101;17,43;", ";;;;;;;;lots;17,43;");
    let e = read_carelink(bad.as_bytes(), &options(Some("UTC")))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("carelink.csv: line 13, field `Sensor Glucose (mg/dL)`: "),
        "{e}"
    );
    let e = read_carelink("a;b;c\n1;2;3\n".as_bytes(), &options(Some("UTC")))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("not a carelink export: no section header"),
        "{e}"
    );
}

/// The published Guardian Connect sample (../shared/data/realworld, when it is there): 22,149
/// sensor readings and 255 finger-sticks, as Python counts them over its sections, and the
/// sensor's time in range as counted by hand (14,563 of 22,149 in 70–180 mg/dL).
#[test]
fn the_published_carelink_sample_keeps_both_sources() {
    let Some(file) = common::realworld("carelink_guardian_connect_eu.csv") else {
        return;
    };
    let export = read_carelink(file, &options(Some("Europe/Berlin"))).unwrap();
    let r = &export.report;
    let by = |s| export.readings.iter().filter(|r| r.source == s).count();
    assert_eq!((by(Source::Cgm), by(Source::Smbg)), (22_149, 255));
    assert_eq!(r.kept, 22_404);
    let sensor = export.readings.iter().filter(|r| r.source == Source::Cgm);
    let (tir, _) = common::time_in_range(sensor.copied());
    assert!((tir - 100.0 * 14_563.0 / 22_149.0).abs() < 1e-9, "{tir}");
}
