//! Nightscout entries read as Nightscout writes them: sensor and meter readings kept, whether
//! `sgv` is a number or a string, Dexcom's error codes dropped and counted, real lows kept,
//! times from `date` and `utcOffset` or from `dateString`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use incentive_engine::exports::{ExportOptions, Format, detect, read_nightscout};
use incentive_engine::{GlucoseValue, Source};

fn options() -> ExportOptions {
    ExportOptions {
        source_name: "entries.json".into(),
        zone: None,
        date_order: None,
    }
}

const ENTRIES: &str = r#"[
  {"_id": "a", "type": "sgv", "sgv": 162, "date": 1775421029000, "dateString": "2026-04-05T20:30:29.000Z", "utcOffset": 120, "direction": "Flat"},
  {"type": "sgv", "sgv": "39", "date": 1775420729000, "utcOffset": 120},
  {"type": "sgv", "sgv": "5", "date": 1775420429000, "direction": "NOT COMPUTABLE"},
  {"type": "sgv", "sgv": 15, "dateString": "2026-04-05T22:15:29.000+02:00"},
  {"type": "mbg", "mbg": 130, "date": 1775420000000},
  {"type": "cal", "slope": 1000, "date": 1775419000000},
  {"type": "note", "date": 1775418000000},
  "not an entry"
]"#;

#[test]
fn readings_are_kept_error_codes_dropped_and_every_entry_counted() {
    assert_eq!(detect(ENTRIES.as_bytes()), Some(Format::Nightscout));
    let export = read_nightscout(ENTRIES.as_bytes(), &options()).unwrap();
    let r = &export.report;
    assert_eq!((r.rows, r.kept, r.kept_as_lo, r.kept_as_hi), (8, 4, 1, 0));
    assert_eq!(
        r.dropped
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect::<Vec<_>>(),
        [
            ("Dexcom error codes (0–12), not readings", 1),
            ("elements that are not entries", 1),
            ("other entry types (not glucose)", 1),
            ("sensor calibration records (not glucose)", 1),
        ]
    );
    let rd = &export.readings;
    // `date` is the instant, `utcOffset` its offset.
    assert_eq!(rd[0].time.to_rfc3339(), "2026-04-05T22:30:29+02:00");
    // A real low, written as a string, is kept.
    assert!(matches!(rd[1].value, GlucoseValue::Measured(g) if g.mg_dl() == 39.0));
    // Below the plausible range: kept as LO, from `dateString` alone.
    assert_eq!(rd[2].value, GlucoseValue::Low);
    assert_eq!(rd[2].time.to_rfc3339(), "2026-04-05T22:15:29+02:00");
    assert_eq!((rd[0].source, rd[3].source), (Source::Cgm, Source::Smbg));
}

#[test]
fn an_entry_that_cannot_be_read_is_named_by_its_place_and_field() {
    for (json, want) in [
        (
            r#"[{"type": "sgv", "sgv": "high-ish", "date": 1}]"#,
            "entries.json: entry 1, field `sgv`: `\"high-ish\"` is not a glucose value in mg/dL",
        ),
        (
            r#"[{"type": "sgv", "sgv": 100}]"#,
            "entries.json: entry 1, field `date`: neither `date`",
        ),
        (
            r#"[{"type": "sgv", "sgv": 100, "date": 1}, {"type": "mbg"}]"#,
            "entries.json: entry 2, field `mbg`: is missing",
        ),
        (
            r#"{"status": "ok"}"#,
            "entries.json: not a nightscout export: not a JSON array of entries",
        ),
        (
            r#"[{"type": "sgv", "sgv": 100, "date": 1}"#,
            "entries.json: line 1: could not be read",
        ),
    ] {
        let e = read_nightscout(json.as_bytes(), &options())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(want), "{json}: {e}");
    }
}

/// The published Nightscout samples (../shared/data/realworld, when it is there): every entry
/// kept or dropped by reason, and time in range as counted by hand (Python over the JSON: 560
/// of 1,000 readings in 70–180 mg/dL; in the fixture, 12 error codes and 18 readings, all in
/// range).
#[test]
fn the_published_nightscout_samples_are_read_whole() {
    for (file, rows, kept, errors, tir) in [
        ("nightscout_entries_api.json", 1000, 1000, 0, 56.0),
        ("nightscout_entries_fixture.json", 30, 18, 12, 100.0),
    ] {
        let Some(f) = common::realworld(file) else {
            return;
        };
        let export = read_nightscout(std::io::BufReader::new(f), &options()).unwrap();
        let r = &export.report;
        assert_eq!((r.rows, r.kept), (rows, kept), "{file}");
        assert_eq!(
            r.dropped
                .get("Dexcom error codes (0–12), not readings")
                .copied()
                .unwrap_or(0),
            errors,
            "{file}"
        );
        let (got, _) = common::time_in_range(export.readings);
        assert!((got - tir).abs() < 1e-9, "{file}: {got}");
    }
}
