//! The device-export readers, health systems' FHIR among them, over arbitrary bytes: format
//! detection, then each reader with a zone whose clock skips and repeats an hour
//! (Europe/Berlin) and without one. Errors are answers; a panic, or a report that loses a row
//! (or, for FHIR, a reading no person has), is a bug.

use incentive_engine::exports::{
    DateOrder, Export, ExportOptions, Format, detect, read, read_fhir,
};

pub fn run(data: &[u8]) {
    let _ = detect(data);
    for (zone, date_order) in [
        (Some(chrono_tz::Europe::Berlin), None),
        (Some(chrono_tz::Europe::Berlin), Some(DateOrder::MonthFirst)),
        (None, None),
    ] {
        let options = ExportOptions {
            source_name: "fuzz-export".into(),
            zone,
            date_order,
        };
        for format in Format::ALL {
            if let Ok(export) = read(format, data, &options) {
                accounted(&export);
            }
        }
        // A FHIR export about many patients: every reading and lab kept is some person's.
        if let Ok(fhir) = read_fhir(data, &options) {
            let readings: usize = fhir.people.iter().map(|(_, e)| e.readings.len()).sum();
            let labs: usize = fhir.people.iter().map(|(_, e)| e.labs.len()).sum();
            assert_eq!(readings as u64, fhir.report.kept, "{:?}", fhir.report);
            assert_eq!(labs as u64, fhir.report.kept_labs, "{:?}", fhir.report);
        }
    }
}

/// Every row is kept or dropped for a reason, once.
fn accounted(export: &Export) {
    let r = &export.report;
    let dropped: u64 = r.dropped.values().sum();
    assert_eq!(
        r.rows,
        r.kept + r.kept_apart + r.kept_labs + dropped,
        "{r:?}"
    );
    assert_eq!(r.kept_labs, export.labs.len() as u64, "{r:?}");
    assert_eq!(r.kept, export.readings.len() as u64, "{r:?}");
    assert_eq!(r.kept_apart, export.apart.len() as u64, "{r:?}");
    assert!(r.kept_as_lo + r.kept_as_hi <= r.kept, "{r:?}");
}
