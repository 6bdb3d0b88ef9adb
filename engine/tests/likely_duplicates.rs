//! One finger-stick written twice — by the meter's app in mg/dL and by hand in mmol/L, a few
//! minutes apart — is found as a likely duplicate; sensor neighbours, readings further apart
//! or further from each other in value, and the very same reading sent again are not.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use incentive_engine::likely_duplicates::{likely_duplicates, same_finger_stick};
use incentive_engine::time::parse_timestamp;
use incentive_engine::{Context, GlucoseUnit, GlucoseValue, Reading, Source};

fn reading(time: &str, value: &str, unit: GlucoseUnit, source: Source) -> Reading {
    Reading {
        time: parse_timestamp(time).unwrap(),
        value: GlucoseValue::parse(value, unit).unwrap(),
        context: Context::Unknown,
        source,
    }
}

fn mg(time: &str, value: &str) -> Reading {
    reading(time, value, GlucoseUnit::MgDl, Source::Smbg)
}

fn mmol(time: &str, value: &str) -> Reading {
    reading(time, value, GlucoseUnit::MmolL, Source::Unspecified)
}

#[test]
fn pairs_are_likely_one_finger_stick_only_when_near_in_time_and_value_and_both_finger_sticks() {
    let meter = mg("2026-03-02T07:02:41+08:00", "126");
    let cases: [(&str, Reading, bool); 9] = [
        (
            "the same value typed in mmol/L at the minute",
            mmol("2026-03-02T07:00:00+08:00", "7.0"),
            true,
        ),
        (
            "typed ten minutes later",
            mmol("2026-03-02T07:12:41+08:00", "7.0"),
            true,
        ),
        (
            "typed eleven minutes later",
            mmol("2026-03-02T07:13:42+08:00", "7.0"),
            false,
        ),
        (
            "a value one decimal of mmol/L away (7.1 is 127.8 mg/dL)",
            mmol("2026-03-02T07:00:00+08:00", "7.1"),
            false,
        ),
        (
            "127 mg/dL, within the rounding of either unit",
            mg("2026-03-02T07:05:00+08:00", "127"),
            true,
        ),
        (
            "128 mg/dL: a second test",
            mg("2026-03-02T07:05:00+08:00", "128"),
            false,
        ),
        (
            "the very same reading sent again (the store's own key)",
            meter,
            false,
        ),
        (
            "a sensor's reading of the same value",
            reading(
                "2026-03-02T07:00:00+08:00",
                "126",
                GlucoseUnit::MgDl,
                Source::Cgm,
            ),
            false,
        ),
        (
            "the same instant in another offset",
            mmol("2026-03-01T23:00:00Z", "7.0"),
            true,
        ),
    ];
    for (case, other, expected) in cases {
        assert_eq!(same_finger_stick(&meter, &other), expected, "{case}");
        assert_eq!(
            same_finger_stick(&other, &meter),
            expected,
            "{case}, the other way"
        );
    }
    let lo = mg("2026-03-02T07:02:41+08:00", "LO");
    assert!(same_finger_stick(
        &lo,
        &mmol("2026-03-02T07:00:00+08:00", "LO")
    ));
    assert!(!same_finger_stick(
        &lo,
        &mmol("2026-03-02T07:00:00+08:00", "HI")
    ));
}

#[test]
fn each_incoming_reading_that_repeats_one_on_record_or_an_earlier_incoming_one_is_reported_once() {
    let on_record = [
        mg("2026-03-02T07:02:41+08:00", "126"),
        mg("2026-03-02T12:30:00+08:00", "180"),
    ];
    let incoming = [
        // Repeats the morning reading on record.
        mmol("2026-03-02T07:00:00+08:00", "7.0"),
        // New.
        mmol("2026-03-02T19:00:00+08:00", "8.4"),
        // Repeats the incoming one above (typed twice).
        mg("2026-03-02T19:04:00+08:00", "151"),
        // The evening reading's neighbour in value, but an hour later: a second test.
        mg("2026-03-02T20:04:00+08:00", "151"),
    ];
    let found = likely_duplicates(&on_record, &incoming);
    let seen: Vec<(usize, String, String)> = found
        .iter()
        .map(|d| (d.index, d.time.to_rfc3339(), d.repeats.to_rfc3339()))
        .collect();
    assert_eq!(
        seen,
        [
            (
                0,
                "2026-03-02T07:00:00+08:00".into(),
                "2026-03-02T07:02:41+08:00".into()
            ),
            (
                2,
                "2026-03-02T19:04:00+08:00".into(),
                "2026-03-02T19:00:00+08:00".into()
            ),
        ]
    );
}
