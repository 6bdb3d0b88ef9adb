//! Readings per second of each device-export reader against the product's own CSV reader, over
//! files that hold the same readings (issue 19: every reader within 2x of the product's reader).
//!
//! `cargo bench -p incentive-engine --bench exports`
//!
//! Every file is built in memory before divan starts, deterministic, and holds the same
//! N = 100,000 sensor readings: one every 5 minutes from 2025-01-01T00:00:00Z (347 days, so
//! both of Berlin's clock changes are in it), values in mg/dL from a daily triangle wave
//! (70–190) plus LCG noise (±20), LibreView's in mmol/L with one decimal. Each benchmark reads
//! the file's bytes (`&[u8]` is a `Read`) and counts items = readings, so divan prints
//! readings per second; bytes are counted too. Before timing, each export reader's result is
//! checked (N readings kept, at the instants written), and the product's (N accepted).
//!
//! - `incentive_csv`: `ingest::read_readings_csv` over the product's CSV
//!   (`member_id,time,glucose_mg_dl,context,source`, RFC 3339 times with Berlin's offset).
//! - `dexcom_clarity`: `read_dexcom_clarity` over Clarity's CSV (its exact header, the four
//!   patient and device rows, then one `EGV` row per reading in Berlin local time).
//! - `libreview`: `read_libreview` over LibreView's EU layout (a report line, the header, one
//!   record type 0 row per reading, `DD-MM-YYYY HH:MM`), `--date-order dmy`.
//! - `nightscout`: `read_nightscout` over a JSON array of
//!   `{"type":"sgv","sgv":…,"date":…,"dateString":"…","utcOffset":0}`.
//! - `nightscout_api_entries`: the same readings with every field Nightscout's API writes in
//!   the published sample (`_id`, `direction`, `sessionStartDate`, `sysTime` …), pretty-printed
//!   as the API returns them: what a real export costs the reader.
//! - `apple_health`: `read_apple_health` over an `export.xml` in Apple's layout (the
//!   declaration, a DOCTYPE with the part of Apple's internal DTD that declares records — the
//!   whole DTD is 7 KB, read once, so it does not weigh on the rate —, `<ExportDate>`, `<Me>`),
//!   then one `<Record type="HKQuantityTypeIdentifierBloodGlucose" …/>` per reading with the
//!   attributes Apple writes for a sensor's reading (`sourceName`, `sourceVersion`, `unit`,
//!   `creationDate`, `startDate`, `endDate`, `value`; times with Berlin's offset). The file is
//!   4.7 times the bytes of the product's CSV for the same readings.
//!
//! Memory: divan cannot show a reader's peak heap, so it is argued, not measured, here. Every
//! reader streams: the CSV readers take one record at a time from the `csv` crate (a buffer of
//! 8 KiB and the record being read), Nightscout takes one array element at a time from
//! `serde_json`'s reader, Apple Health one XML event at a time from `quick-xml` (a 64 KiB input
//! buffer and the tag being read, capped at 1 MiB). What stays is what is kept: the product's
//! reader 22 bytes per reading in columns (`Readings`), the export readers a `Vec<Reading>` of
//! `size_of::<Reading>()` bytes per reading (printed at start-up). The exception is LibreView:
//! it holds each glucose row's time and value text (a `String` each, plus the line and the
//! kind) until the whole file has been seen, because the file's date order may only show in a
//! later row: its peak is about three times the others' per reading (measured once:
//! BENCHMARKS.md, section 9), growing with the glucose rows, not with the file's other bytes,
//! but above the file's own size.

#![allow(
    clippy::panic,
    reason = "a bench whose setup is wrong must stop, not measure something else"
)]

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use divan::counter::{BytesCount, ItemsCount};
use divan::{Bencher, black_box};
use incentive_engine::exports::{
    DateOrder, Export, ExportOptions, Format, read, read_apple_health, read_dexcom_clarity,
    read_libreview, read_nightscout,
};
use incentive_engine::ingest::{CsvOptions, read_readings_csv};
use incentive_engine::{MG_DL_PER_MMOL_L, Reading};
use std::fmt::Write as _;
use std::sync::LazyLock;

fn main() {
    // Build the files before divan starts printing its table, and say what they are.
    let files = &*FILES;
    eprintln!(
        "{N} readings in each file; size_of::<Reading>() = {} bytes",
        size_of::<Reading>()
    );
    for (name, bytes) in [
        ("incentive_csv", &files.incentive_csv),
        ("dexcom_clarity", &files.dexcom_clarity),
        ("libreview", &files.libreview),
        ("nightscout", &files.nightscout),
        ("nightscout_api_entries", &files.nightscout_api_entries),
        ("apple_health", &files.apple_health),
        ("fhir_bundle", &files.fhir_bundle),
        ("fhir_ndjson", &files.fhir_ndjson),
    ] {
        eprintln!(
            "{name}: {} bytes, {:.1} bytes per reading",
            bytes.len(),
            bytes.len() as f64 / N as f64
        );
    }
    divan::main();
}

/// Readings in every file.
const N: usize = 100_000;

/// The synthetic readings: the instant of each and its value in mg/dL.
struct Synthetic {
    times: Vec<DateTime<Utc>>,
    mg_dl: Vec<u32>,
}

fn synthetic() -> Synthetic {
    let Some(start) = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single() else {
        unreachable!("2025-01-01T00:00:00Z is a valid time")
    };
    let times = (0..N)
        .map(|i| start + TimeDelta::minutes(5 * i as i64))
        .collect();
    // Knuth's MMIX LCG for the noise, as in benches/metrics.rs.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mg_dl = (0..N)
        .map(|i| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            // A day is 288 readings: up from 70 to 190 over 144 of them, then down again.
            let step = (i % 288) as u32;
            let wave = 70 + 120 * step.min(288 - step) / 144;
            let noise = ((state >> 32) % 41) as u32;
            wave + noise - 20
        })
        .collect();
    Synthetic { times, mg_dl }
}

/// The same readings in every format.
struct Files {
    readings: Synthetic,
    incentive_csv: Vec<u8>,
    dexcom_clarity: Vec<u8>,
    libreview: Vec<u8>,
    nightscout: Vec<u8>,
    nightscout_api_entries: Vec<u8>,
    apple_health: Vec<u8>,
    fhir_bundle: Vec<u8>,
    fhir_ndjson: Vec<u8>,
}

static FILES: LazyLock<Files> = LazyLock::new(|| {
    let readings = synthetic();
    Files {
        incentive_csv: incentive_csv(&readings),
        dexcom_clarity: dexcom_clarity(&readings),
        libreview: libreview(&readings),
        nightscout: nightscout(&readings),
        nightscout_api_entries: nightscout_api_entries(&readings),
        apple_health: apple_health(&readings),
        fhir_bundle: fhir_bundle(&readings),
        fhir_ndjson: fhir_ndjson(&readings),
        readings,
    }
});

fn incentive_csv(r: &Synthetic) -> Vec<u8> {
    let mut out = String::from("member_id,time,glucose_mg_dl,context,source\n");
    for (t, v) in r.times.iter().zip(&r.mg_dl) {
        let local = t.with_timezone(&Berlin).format("%Y-%m-%dT%H:%M:%S%:z");
        let _ = writeln!(out, "M0000001,{local},{v},unknown,cgm");
    }
    out.into_bytes()
}

fn dexcom_clarity(r: &Synthetic) -> Vec<u8> {
    let mut out = String::from(
        "Index,Timestamp (YYYY-MM-DDThh:mm:ss),Event Type,Event Subtype,Patient Info,Device Info,Source Device ID,Glucose Value (mg/dL),Insulin Value (u),Carb Value (grams),Duration (hh:mm:ss),Glucose Rate of Change (mg/dL/min),Transmitter Time (Long Integer),Transmitter ID\n\
         1,,FirstName,,Subject,,,,,,,,,\n\
         2,,LastName,,2,,,,,,,,,\n\
         3,,DateOfBirth,,1/1/80,,,,,,,,,\n\
         4,,Device,,,Dexcom G6 Receiver,PG00000000,,,,,,,\n",
    );
    for (i, (t, v)) in r.times.iter().zip(&r.mg_dl).enumerate() {
        let local = t.with_timezone(&Berlin).format("%Y-%m-%dT%H:%M:%S");
        let transmitter_time = 7573 + 300 * i;
        let _ = writeln!(
            out,
            "{},{local},EGV,,,,PG00000000,{v},,,,,{transmitter_time},38J902",
            i + 5
        );
    }
    out.into_bytes()
}

fn libreview(r: &Synthetic) -> Vec<u8> {
    let mut out = String::from(
        "Glucose Data,Generated on,13-12-2025 10:23 UTC,Generated by,Redacted Redacted\n\
         Device,Serial Number,Device Timestamp,Record Type,Historic Glucose mmol/L,Scan Glucose mmol/L,Non-numeric Rapid-Acting Insulin,Rapid-Acting Insulin (units),Non-numeric Food,Carbohydrates (grams),Carbohydrates (servings),Non-numeric Long-Acting Insulin,Long-Acting Insulin Value (units),Notes,Strip Glucose mmol/L,Ketone mmol/L,Meal Insulin (units),Correction Insulin (units),User Change Insulin (units)\n",
    );
    for (t, v) in r.times.iter().zip(&r.mg_dl) {
        let local = t.with_timezone(&Berlin).format("%d-%m-%Y %H:%M");
        let mmol = f64::from(*v) / MG_DL_PER_MMOL_L;
        let _ = writeln!(
            out,
            "FreeStyle LibreLink,00000000-0000-0000-0000-000000000000,{local},0,{mmol:.1},,,,,,,,,,,,,,"
        );
    }
    out.into_bytes()
}

fn nightscout(r: &Synthetic) -> Vec<u8> {
    let mut out = String::from("[");
    for (i, (t, v)) in r.times.iter().zip(&r.mg_dl).enumerate() {
        let sep = if i == 0 { "" } else { "," };
        let _ = write!(
            out,
            "{sep}{{\"type\":\"sgv\",\"sgv\":{v},\"date\":{},\"dateString\":\"{}\",\"utcOffset\":0}}",
            t.timestamp_millis(),
            t.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        );
    }
    out.push(']');
    out.into_bytes()
}

/// Entries with every field of the published API sample, pretty-printed as the API returns them.
fn nightscout_api_entries(r: &Synthetic) -> Vec<u8> {
    let mut out = String::from("[");
    for (i, (t, v)) in r.times.iter().zip(&r.mg_dl).enumerate() {
        let sep = if i == 0 { "" } else { "," };
        let at = t.format("%Y-%m-%dT%H:%M:%S%.3fZ");
        let _ = write!(
            out,
            "{sep}\n  {{\n    \"_id\": \"{i:08X}-82D7-49E4-B0C1-0DD0BFF92586\",\n    \"date\": {},\n    \"dateString\": \"{at}\",\n    \"glucose\": {v},\n    \"direction\": \"Flat\",\n    \"type\": \"sgv\",\n    \"sessionStartDate\": \"2024-12-30T14:10:28.450Z\",\n    \"sgv\": {v},\n    \"unfiltered\": {v},\n    \"uncalibrated\": {v},\n    \"utcOffset\": 0,\n    \"sysTime\": \"{at}\"\n  }}",
            t.timestamp_millis(),
        );
    }
    out.push_str("\n]\n");
    out.into_bytes()
}

/// Apple Health's `export.xml`: its head, then one glucose record per reading as a sensor's app
/// writes them to Health (created three hours after the reading, as Dexcom's are).
fn apple_health(r: &Synthetic) -> Vec<u8> {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE HealthData [\n\
         <!-- HealthKit Export Version: 14 -->\n\
         <!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord|Audiogram|VisionPrescription)*)>\n\
         <!ATTLIST HealthData\n  locale CDATA #REQUIRED\n>\n\
         <!ELEMENT ExportDate EMPTY>\n\
         <!ATTLIST ExportDate\n  value CDATA #REQUIRED\n>\n\
         <!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>\n\
         <!ATTLIST Record\n  type          CDATA #REQUIRED\n  unit          CDATA #IMPLIED\n  value         CDATA #IMPLIED\n  sourceName    CDATA #REQUIRED\n  sourceVersion CDATA #IMPLIED\n  device        CDATA #IMPLIED\n  creationDate  CDATA #IMPLIED\n  startDate     CDATA #REQUIRED\n  endDate       CDATA #REQUIRED\n>\n\
         <!ELEMENT MetadataEntry EMPTY>\n\
         <!ATTLIST MetadataEntry\n  key   CDATA #REQUIRED\n  value CDATA #REQUIRED\n>\n\
         ]>\n\
         <HealthData locale=\"de_DE\">\n \
         <ExportDate value=\"2025-12-14 10:23:00 +0100\"/>\n \
         <Me HKCharacteristicTypeIdentifierDateOfBirth=\"1980-01-01\" HKCharacteristicTypeIdentifierBiologicalSex=\"HKBiologicalSexNotSet\" HKCharacteristicTypeIdentifierBloodType=\"HKBloodTypeNotSet\" HKCharacteristicTypeIdentifierFitzpatrickSkinType=\"HKFitzpatrickSkinTypeNotSet\" HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse=\"None\"/>\n",
    );
    for (t, v) in r.times.iter().zip(&r.mg_dl) {
        let at = t.with_timezone(&Berlin).format("%Y-%m-%d %H:%M:%S %z");
        let created = (*t + TimeDelta::hours(3))
            .with_timezone(&Berlin)
            .format("%Y-%m-%d %H:%M:%S %z");
        let _ = writeln!(
            out,
            " <Record type=\"HKQuantityTypeIdentifierBloodGlucose\" sourceName=\"Dexcom G7\" sourceVersion=\"2.2.1\" unit=\"mg/dL\" creationDate=\"{created}\" startDate=\"{at}\" endDate=\"{at}\" value=\"{v}\"/>"
        );
    }
    out.push_str("</HealthData>\n");
    out.into_bytes()
}

/// One sensor reading as the HL7 CGM IG writes it (`cgm-sensor-reading-mass-per-volume`).
fn fhir_observation(i: usize, t: &DateTime<Utc>, v: u32) -> String {
    format!(
        r#"{{"resourceType":"Observation","id":"cgm-{i}","status":"final","category":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}}]}}],"code":{{"coding":[{{"system":"http://loinc.org","code":"99504-3","display":"Glucose [Mass/volume] in Interstitial fluid"}}]}},"subject":{{"reference":"Patient/patientExample"}},"effectiveDateTime":"{}","valueQuantity":{{"value":{v},"unit":"mg/dl","system":"http://unitsofmeasure.org","code":"mg/dL"}}}}"#,
        t.format("%Y-%m-%dT%H:%M:%SZ")
    )
}

/// The readings as the CGM IG's data-submission Bundle carries them: a transaction, each
/// Observation an entry with its `fullUrl` and `request`, one entry a line.
fn fhir_bundle(r: &Synthetic) -> Vec<u8> {
    let mut out = String::from(
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"timestamp\":\"2025-12-14T10:23:00Z\",\"entry\":[\n",
    );
    for (i, (t, v)) in r.times.iter().zip(&r.mg_dl).enumerate() {
        let sep = if i == 0 { "" } else { ",\n" };
        let _ = write!(
            out,
            "{sep}{{\"fullUrl\":\"urn:uuid:cgm-{i}\",\"resource\":{},\"request\":{{\"method\":\"POST\",\"url\":\"Observation\"}}}}",
            fhir_observation(i, t, *v)
        );
    }
    out.push_str("\n]}\n");
    out.into_bytes()
}

/// The readings as FHIR bulk data writes them: NDJSON, one Observation a line.
fn fhir_ndjson(r: &Synthetic) -> Vec<u8> {
    let mut out = String::new();
    for (i, (t, v)) in r.times.iter().zip(&r.mg_dl).enumerate() {
        out.push_str(&fhir_observation(i, t, *v));
        out.push('\n');
    }
    out.into_bytes()
}

fn options(date_order: Option<DateOrder>) -> ExportOptions {
    ExportOptions {
        source_name: "bench".into(),
        zone: Some(Berlin),
        date_order,
    }
}

/// Stops the bench unless the reader kept every reading at the instant written.
fn check(name: &str, export: &Export, expected: &Synthetic) {
    let r = &export.report;
    if r.kept != N as u64 || export.readings.len() != N || !export.apart.is_empty() {
        panic!("{name}: kept {} of {N}: {}", r.kept, r.summary());
    }
    for (reading, t) in export.readings.iter().zip(&expected.times) {
        if reading.time.timestamp_millis() != t.timestamp_millis() {
            panic!("{name}: read {} where {t} was written", reading.time);
        }
    }
}

#[divan::bench(name = "incentive_csv", sample_count = 30)]
fn incentive_csv_reader(bencher: Bencher) {
    let bytes = &FILES.incentive_csv;
    let options = CsvOptions {
        source_name: "bench".into(),
        ..CsvOptions::default()
    };
    let read = |b: &[u8]| read_readings_csv(b, &options, &mut |_| {});
    match read(bytes) {
        Ok(loaded) if loaded.report.accepted == N as u64 && loaded.report.members == 1 => {}
        Ok(loaded) => panic!("incentive_csv: {:?}", loaded.report),
        Err(e) => panic!("incentive_csv: {e}"),
    }
    bencher
        .counter(ItemsCount::new(N))
        .counter(BytesCount::new(bytes.len()))
        .bench(|| read(black_box(bytes)));
}

/// Benchmarks `reader` over `bytes` after checking what it reads.
fn bench_export(
    bencher: Bencher,
    name: &str,
    bytes: &[u8],
    options: &ExportOptions,
    reader: fn(&[u8], &ExportOptions) -> Result<Export, incentive_engine::exports::ExportError>,
) {
    match reader(bytes, options) {
        Ok(export) => check(name, &export, &FILES.readings),
        Err(e) => panic!("{name}: {e}"),
    }
    bencher
        .counter(ItemsCount::new(N))
        .counter(BytesCount::new(bytes.len()))
        .bench(|| reader(black_box(bytes), options));
}

#[divan::bench(name = "dexcom_clarity", sample_count = 30)]
fn dexcom_clarity_reader(bencher: Bencher) {
    bench_export(
        bencher,
        "dexcom_clarity",
        &FILES.dexcom_clarity,
        &options(None),
        |b, o| read_dexcom_clarity(b, o),
    );
}

#[divan::bench(name = "libreview", sample_count = 30)]
fn libreview_reader(bencher: Bencher) {
    bench_export(
        bencher,
        "libreview",
        &FILES.libreview,
        &options(Some(DateOrder::DayFirst)),
        |b, o| read_libreview(b, o),
    );
}

#[divan::bench(name = "nightscout", sample_count = 30)]
fn nightscout_reader(bencher: Bencher) {
    bench_export(
        bencher,
        "nightscout",
        &FILES.nightscout,
        &options(None),
        |b, o| read_nightscout(b, o),
    );
}

#[divan::bench(name = "nightscout_api_entries", sample_count = 30)]
fn nightscout_api_entries_reader(bencher: Bencher) {
    bench_export(
        bencher,
        "nightscout_api_entries",
        &FILES.nightscout_api_entries,
        &options(None),
        |b, o| read_nightscout(b, o),
    );
}

#[divan::bench(name = "apple_health", sample_count = 30)]
fn apple_health_reader(bencher: Bencher) {
    bench_export(
        bencher,
        "apple_health",
        &FILES.apple_health,
        &options(None),
        |b, o| read_apple_health(b, o),
    );
}

#[divan::bench(name = "fhir_bundle", sample_count = 30)]
fn fhir_bundle_reader(bencher: Bencher) {
    bench_export(
        bencher,
        "fhir_bundle",
        &FILES.fhir_bundle,
        &options(None),
        |b, o| read(Format::Fhir, b, o),
    );
}

#[divan::bench(name = "fhir_ndjson", sample_count = 30)]
fn fhir_ndjson_reader(bencher: Bencher) {
    bench_export(
        bencher,
        "fhir_ndjson",
        &FILES.fhir_ndjson,
        &options(None),
        |b, o| read(Format::Fhir, b, o),
    );
}
