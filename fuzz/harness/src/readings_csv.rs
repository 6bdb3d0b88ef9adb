//! `read_readings_csv` over arbitrary bytes: skipping bad rows, failing on the first, and with a
//! unit given for a plain `glucose` column. Errors are answers; a panic is a bug.

use incentive_engine::GlucoseUnit;
use incentive_engine::ingest::{BadRows, CsvOptions, read_readings_csv};

pub fn run(data: &[u8]) {
    for (unit, bad_rows) in [
        (None, BadRows::Skip),
        (None, BadRows::Fail),
        (Some(GlucoseUnit::MmolL), BadRows::Skip),
    ] {
        let options = CsvOptions {
            source_name: "fuzz.csv".into(),
            unit,
            window: None,
            bad_rows,
        };
        let mut skipped = 0_u64;
        if let Ok(loaded) = read_readings_csv(data, &options, &mut |_| skipped += 1) {
            let r = &loaded.report;
            // The report's own invariant: every row is accounted for exactly once.
            assert_eq!(
                r.rows,
                r.accepted + r.duplicates + r.outside_window + r.skipped,
                "{r:?}"
            );
            assert_eq!(r.skipped, skipped);
        }
    }
}
