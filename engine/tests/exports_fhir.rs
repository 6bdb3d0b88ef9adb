//! HL7 FHIR R4 read as health systems write it: glucose by LOINC code to readings (sensor,
//! finger-stick, laboratory), HbA1c to labs (IFCC converted), the CGM IG's summaries and
//! everything not a result counted and dropped, each resource's own unit, whom the data is
//! about from `subject` and the Patient resources.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use incentive_engine::exports::{
    ExportError, ExportOptions, Format, Identifier, detect, read, read_fhir,
};
use incentive_engine::{Context, GlucoseValue, Source};
use rust_decimal::Decimal;

fn options(zone: Option<&str>) -> ExportOptions {
    ExportOptions {
        source_name: "bundle.json".into(),
        zone: zone.map(|z| z.parse().unwrap()),
        date_order: None,
    }
}

/// An Observation with a LOINC code, a quantity, a time and a subject reference.
fn observation(code: &str, value: &str, unit: &str, time: &str, subject: &str) -> String {
    format!(
        r#"{{"resourceType":"Observation","status":"final","code":{{"coding":[{{"system":"http://loinc.org","code":"{code}"}}]}},"subject":{{"reference":"{subject}"}},"effectiveDateTime":"{time}","valueQuantity":{{"value":{value},"unit":"{unit}","system":"http://unitsofmeasure.org","code":"{unit}"}}}}"#
    )
}

fn bundle(kind: &str, resources: &[String]) -> String {
    let entries: Vec<String> = resources
        .iter()
        .enumerate()
        .map(|(i, r)| {
            format!(r#"{{"fullUrl":"urn:uuid:00000000-0000-0000-0000-{i:012}","resource":{r}}}"#)
        })
        .collect();
    format!(
        r#"{{"resourceType":"Bundle","type":"{kind}","entry":[{}]}}"#,
        entries.join(",\n")
    )
}

const PATIENT: &str = r#"{"resourceType":"Patient","id":"p-7","identifier":[{"system":"urn:oid:2.16.156.10011.1.1","value":"M-0007"},{"system":"https://hospital.example/mrn","value":"MRN-55"}]}"#;

#[test]
fn glucose_becomes_readings_by_code_hba1c_becomes_labs_and_the_rest_is_counted_by_reason() {
    let text = bundle(
        "collection",
        &[
            PATIENT.to_owned(),
            // A finger-stick by glucometer in mg/dL, one in mmol/L.
            observation("41653-7", "132", "mg/dL", "2025-03-01T07:30:00+08:00", "Patient/p-7"),
            observation("14743-9", "5.4", "mmol/L", "2025-03-01T12:00:00+08:00", "Patient/p-7"),
            // A sensor reading; a laboratory's fasting glucose.
            observation("99504-3", "180", "mg/dL", "2025-03-01T13:05:00Z", "Patient/p-7"),
            observation("1558-6", "101", "mg/dL", "2025-03-02T07:00:00+08:00", "Patient/p-7"),
            // HbA1c in NGSP percent and in IFCC mmol/mol.
            observation("4548-4", "6.8", "%", "2025-03-03T09:00:00+08:00", "Patient/p-7"),
            observation("59261-8", "53", "mmol/mol", "2025-06-03T09:00:00+08:00", "Patient/p-7"),
            // A heart rate: not glucose.
            observation("8867-4", "72", "/min", "2025-03-01T07:30:00+08:00", "Patient/p-7"),
            // A mean glucose (the CGM IG's summary): never a reading.
            observation("97507-8", "145", "mg/dL", "2025-03-01T00:00:00Z", "Patient/p-7"),
            observation("41653-7", "99", "mg/dL", "2025-03-01T08:00:00+08:00", "Patient/p-7")
                .replace("\"final\"", "\"entered-in-error\""),
            observation("41653-7", "98", "mg/dL", "2025-03-01T08:00:00+08:00", "Patient/p-7")
                .replace("\"final\"", "\"cancelled\""),
            r#"{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"99504-3"}]},"subject":{"reference":"Patient/p-7"},"effectiveDateTime":"2025-03-01T13:10:00Z","dataAbsentReason":{"text":"sensor warm-up"}}"#.to_owned(),
            r#"{"resourceType":"Device","id":"cgm"}"#.to_owned(),
        ],
    );
    let export = read(Format::Fhir, text.as_bytes(), &options(None)).unwrap();
    let r = &export.report;
    assert_eq!((r.rows, r.kept, r.kept_labs), (13, 4, 2), "{r:?}");
    let dropped: Vec<(&str, u64)> = r.dropped.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        dropped,
        [
            (
                "CGM summaries (mean glucose, GMI, time in ranges …), not readings",
                1
            ),
            ("observations cancelled", 1),
            ("observations entered in error", 1),
            ("observations that are not glucose or HbA1c", 1),
            ("observations without a value (dataAbsentReason)", 1),
            ("patients (read for whom the data is about)", 1),
            ("resources other than observations and patients", 1),
        ]
    );
    let seen: Vec<(String, String, Source, Context)> = export
        .readings
        .iter()
        .map(|r| {
            (
                r.time.to_rfc3339(),
                r.value.to_string(),
                r.source,
                r.context,
            )
        })
        .collect();
    let expected = [
        (
            "2025-03-01T07:30:00+08:00",
            "132",
            Source::Smbg,
            Context::Unknown,
        ),
        (
            "2025-03-01T12:00:00+08:00",
            "97.2",
            Source::Smbg,
            Context::Unknown,
        ),
        (
            "2025-03-01T13:05:00+00:00",
            "180",
            Source::Cgm,
            Context::Unknown,
        ),
        (
            "2025-03-02T07:00:00+08:00",
            "101",
            Source::Unspecified,
            Context::Fasting,
        ),
    ];
    for ((time, value, source, context), seen) in expected.iter().zip(&seen) {
        assert_eq!(seen.0, *time);
        assert!(seen.1.starts_with(value), "{} is not {value} mg/dL", seen.1);
        assert_eq!((seen.2, seen.3), (*source, *context));
    }
    let labs: Vec<(String, Decimal)> = export
        .labs
        .iter()
        .map(|l| (l.time.to_rfc3339(), l.hba1c.percent()))
        .collect();
    assert_eq!(
        labs,
        [
            ("2025-03-03T09:00:00+08:00".to_owned(), Decimal::new(68, 1)),
            // 53 mmol/mol is 7.0 % by the IFCC–NGSP master equation.
            ("2025-06-03T09:00:00+08:00".to_owned(), Decimal::new(70, 1)),
        ]
    );
}

#[test]
fn a_meters_below_and_above_range_comparators_are_its_lo_and_hi() {
    let lo = observation(
        "41653-7",
        "20",
        "mg/dL",
        "2025-03-01T07:30:00Z",
        "Patient/a",
    )
    .replace(r#""value":20"#, r#""value":20,"comparator":"<""#);
    let hi = observation(
        "41653-7",
        "600",
        "mg/dL",
        "2025-03-01T08:30:00Z",
        "Patient/a",
    )
    .replace(r#""value":600"#, r#""value":600,"comparator":">""#);
    let export = read(
        Format::Fhir,
        bundle("searchset", &[lo, hi]).as_bytes(),
        &options(None),
    )
    .unwrap();
    assert_eq!(
        export.readings.iter().map(|r| r.value).collect::<Vec<_>>(),
        [GlucoseValue::Low, GlucoseValue::High]
    );
    assert_eq!((export.report.kept_as_lo, export.report.kept_as_hi), (1, 1));
}

#[test]
fn a_single_observation_and_ndjson_are_read_as_a_bundle_is() {
    let one = observation(
        "99504-3",
        "120",
        "mg/dL",
        "2024-05-02T10:15:00Z",
        "Patient/x",
    );
    let export = read(Format::Fhir, one.as_bytes(), &options(None)).unwrap();
    assert_eq!((export.report.rows, export.report.kept), (1, 1));

    let lines: Vec<String> = (0..5)
        .map(|i| {
            observation(
                "99504-3",
                &(100 + i).to_string(),
                "mg/dL",
                &format!("2024-05-02T10:{:02}:00Z", i * 5),
                "Patient/x",
            )
        })
        .collect();
    let ndjson = lines.join("\n") + "\n";
    let export = read(Format::Fhir, ndjson.as_bytes(), &options(None)).unwrap();
    assert_eq!((export.report.rows, export.report.kept), (5, 5));
    assert_eq!(
        export.readings[4].time.to_rfc3339(),
        "2024-05-02T10:20:00+00:00"
    );
}

#[test]
fn data_about_several_patients_is_refused_for_one_member_and_gathered_by_person_in_bulk() {
    let text = bundle(
        "collection",
        &[
            PATIENT.to_owned(),
            r#"{"resourceType":"Patient","id":"p-8","identifier":[{"system":"urn:oid:2.16.156.10011.1.1","value":"M-0008"}]}"#.to_owned(),
            observation("41653-7", "132", "mg/dL", "2025-03-01T07:30:00+08:00", "Patient/p-7"),
            // The same patient by the bundle's full URL of its Patient entry.
            observation("41653-7", "140", "mg/dL", "2025-03-01T11:30:00+08:00", "urn:uuid:00000000-0000-0000-0000-000000000000"),
            observation("41653-7", "150", "mg/dL", "2025-03-01T07:30:00+08:00", "https://fhir.example/r4/Patient/p-8"),
            // By identifier only.
            r#"{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"subject":{"identifier":{"system":"urn:oid:2.16.156.10011.1.1","value":"M-0008"}},"effectiveDateTime":"2025-03-03T09:00:00+08:00","valueQuantity":{"value":7.4,"unit":"%","code":"%"}}"#.to_owned(),
        ],
    );
    let refused = read(Format::Fhir, text.as_bytes(), &options(None)).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "bundle.json: the export is about 2 patients (Patient/p-7, Patient/p-8): send it to the bulk route, or split it by patient"
    );
    let export = read_fhir(text.as_bytes(), &options(None)).unwrap();
    let people: Vec<(Option<&str>, Option<&str>, usize, usize)> = export
        .people
        .iter()
        .map(|(p, e)| {
            (
                p.key(Some("urn:oid:2.16.156.10011.1.1")),
                p.key(None),
                e.readings.len(),
                e.labs.len(),
            )
        })
        .collect();
    assert_eq!(
        people,
        [
            (Some("M-0007"), Some("p-7"), 2, 0),
            (Some("M-0008"), Some("p-8"), 1, 1)
        ]
    );
    assert_eq!(
        export.people[0].0.identifiers[1],
        Identifier {
            system: Some("https://hospital.example/mrn".into()),
            value: "MRN-55".into()
        }
    );
}

#[test]
fn what_cannot_be_read_is_named_by_entry_and_field_and_nothing_is_kept() {
    let cases: [(String, &str); 5] = [
        (
            observation("41653-7", "132", "mg", "2025-03-01T07:30:00Z", "Patient/a"),
            "bundle.json: entry 2, field `valueQuantity.code`: `mg` is not a glucose unit this reads (mg/dL, mmol/L)",
        ),
        (
            observation("4548-4", "6.8", "g/dL", "2025-03-01T07:30:00Z", "Patient/a"),
            "bundle.json: entry 2, field `valueQuantity.code`: `g/dL` is not an HbA1c unit this reads (%, mmol/mol)",
        ),
        (
            observation("4548-4", "68", "%", "2025-03-01T07:30:00Z", "Patient/a"),
            "bundle.json: entry 2, field `valueQuantity.value`: HbA1c 68% is outside the plausible 3.0–20.0% (NGSP)",
        ),
        (
            observation("41653-7", "132", "mg/dL", "1 March 2025", "Patient/a"),
            "bundle.json: entry 2, field `effectiveDateTime`: `1 March 2025` is not a FHIR dateTime such as 2024-05-02T10:15:00Z",
        ),
        (
            r#"{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"41653-7"}]},"effectiveDateTime":"2025-03-01T07:30:00Z"}"#.to_owned(),
            "bundle.json: entry 2, field `valueQuantity`: is missing: a glucose or HbA1c observation carries its value as a quantity",
        ),
    ];
    let good = observation(
        "41653-7",
        "132",
        "mg/dL",
        "2025-03-01T07:00:00Z",
        "Patient/a",
    );
    for (bad, expected) in cases {
        let text = bundle("collection", &[good.clone(), bad]);
        let error = read(Format::Fhir, text.as_bytes(), &options(None)).unwrap_err();
        assert_eq!(error.to_string(), expected);
    }
}

#[test]
fn a_time_without_its_offset_needs_the_zone_and_a_lab_dated_by_day_is_placed_only_with_one() {
    let local = observation(
        "41653-7",
        "132",
        "mg/dL",
        "2025-03-01T07:30:00",
        "Patient/a",
    );
    let error = read(Format::Fhir, local.as_bytes(), &options(None)).unwrap_err();
    assert!(
        matches!(
            error,
            ExportError::NeedsZone {
                format: Format::Fhir,
                ..
            }
        ),
        "{error}"
    );
    let export = read(
        Format::Fhir,
        local.as_bytes(),
        &options(Some("Asia/Shanghai")),
    )
    .unwrap();
    assert_eq!(
        export.readings[0].time.to_rfc3339(),
        "2025-03-01T07:30:00+08:00"
    );

    let day = observation("4548-4", "6.8", "%", "2025-03-01", "Patient/a");
    let unplaced = read(Format::Fhir, day.as_bytes(), &options(None)).unwrap();
    assert_eq!(unplaced.labs.len(), 0);
    assert_eq!(
        unplaced.report.dropped.keys().collect::<Vec<_>>(),
        ["HbA1c results dated by day only (placed on their day when a zone is given)"]
    );
    let placed = read(
        Format::Fhir,
        day.as_bytes(),
        &options(Some("Asia/Shanghai")),
    )
    .unwrap();
    assert_eq!(
        placed.labs[0].time.to_rfc3339(),
        "2025-03-01T00:00:00+08:00"
    );
}

#[test]
fn json_that_is_not_fhir_is_refused_as_not_this_format_and_fhir_is_told_by_its_content() {
    for text in ["[1,2,3]", "", "not json"] {
        let error = read(Format::Fhir, text.as_bytes(), &options(None)).unwrap_err();
        assert!(
            matches!(
                error,
                ExportError::NotThisFormat {
                    format: Format::Fhir,
                    ..
                }
            ),
            "{text}: {error}"
        );
    }
    let text = bundle(
        "transaction",
        &[observation(
            "99504-3",
            "120",
            "mg/dL",
            "2024-05-02T10:15:00Z",
            "Patient/x",
        )],
    );
    assert_eq!(detect(text.as_bytes()), Some(Format::Fhir));
}

/// The HL7 CGM implementation guide's data-submission bundle (../shared/data/realworld, when
/// it is there): a PDF report, the summary panel and its six figures, and one sensor reading.
/// Counted by hand from the file: 9 entries; the DiagnosticReport is not an observation; the
/// summary (107931-8), mean glucose (97507-8), times in ranges (106793-3), GMI (97506-0), CV
/// (104638-2), days of wear (104636-6) and sensor active time (104637-4) are summaries; the
/// one reading is 120 mg/dL at 2024-05-02T10:15:00Z, about Patient/patientExample.
#[test]
fn the_published_cgm_ig_bundle_gives_its_one_reading_and_counts_its_seven_summaries() {
    let Some(file) = common::realworld("fhir_r4_cgm_ig_bundle.json") else {
        return;
    };
    let export = read_fhir(std::io::BufReader::new(file), &options(None)).unwrap();
    let r = &export.report;
    assert_eq!((r.rows, r.kept, r.kept_labs), (9, 1, 0), "{r:?}");
    assert_eq!(
        r.dropped
            .get("CGM summaries (mean glucose, GMI, time in ranges …), not readings"),
        Some(&7)
    );
    assert_eq!(
        r.dropped
            .get("resources other than observations and patients"),
        Some(&1)
    );
    let [(person, data)] = export.people.as_slice() else {
        panic!("one person: {:?}", export.people);
    };
    assert_eq!(person.key(None), Some("patientExample"));
    assert_eq!(
        data.readings[0].time.to_rfc3339(),
        "2024-05-02T10:15:00+00:00"
    );
    assert_eq!(data.readings[0].value.to_string(), "120 mg/dL");
    assert_eq!(data.readings[0].source, Source::Cgm);
}

#[test]
fn every_format_is_written_in_reports_by_the_name_the_flag_takes() {
    for format in Format::ALL {
        assert_eq!(
            serde_json::to_value(format).unwrap(),
            serde_json::json!(format.name())
        );
        assert_eq!(Format::parse(format.name()), Ok(format));
    }
}

#[test]
fn a_resource_that_cannot_be_read_is_named_at_its_line_not_taken_for_another_format() {
    let text = "{\"resourceType\": \"Observation\",\n \"status\": 5}";
    let error = read(Format::Fhir, text.as_bytes(), &options(None)).unwrap_err();
    assert!(
        matches!(&error, ExportError::Read { line: 2, .. }),
        "{error}"
    );
}

#[test]
fn a_reading_is_timed_by_effective_date_time_else_effective_instant_else_the_periods_start() {
    let at = |effective: &str| {
        format!(
            r#"{{"resourceType":"Observation","status":"final","code":{{"coding":[{{"system":"http://loinc.org","code":"41653-7"}}]}},{effective}"valueQuantity":{{"value":120,"unit":"mg/dL","code":"mg/dL"}}}}"#
        )
    };
    for (effective, expected) in [
        (
            r#""effectiveInstant":"2025-03-01T07:30:00.000+08:00","#,
            "2025-03-01T07:30:00+08:00",
        ),
        (
            r#""effectivePeriod":{"start":"2025-03-01T07:35:00+08:00","end":"2025-03-01T07:36:00+08:00"},"#,
            "2025-03-01T07:35:00+08:00",
        ),
        (
            r#""effectiveDateTime":"2025-03-01T07:40:00+08:00","effectivePeriod":{"start":"2025-03-01T06:00:00+08:00"},"#,
            "2025-03-01T07:40:00+08:00",
        ),
    ] {
        let export = read(Format::Fhir, at(effective).as_bytes(), &options(None)).unwrap();
        assert_eq!(
            export.readings[0].time.to_rfc3339(),
            expected,
            "{effective}"
        );
    }
    let none = read(Format::Fhir, at("").as_bytes(), &options(None)).unwrap_err();
    assert_eq!(
        none.to_string(),
        "bundle.json: entry 1, field `effectiveDateTime`: is missing: the observation says not when it was made"
    );
}
