//! Helpers shared by the engine's integration tests: records from CSV text.

#![allow(dead_code, reason = "each test binary uses its own subset")]
#![allow(clippy::panic, reason = "a test helper fails the test by panicking")]

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
