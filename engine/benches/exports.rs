//! Readings per second of each device-export reader against the product's own CSV reader, over
//! files that hold the same readings (issue 19: every reader within 2x of the product's reader).
//!
//! `cargo bench -p incentive-engine --bench exports`
//!
//! Every file is built in memory before divan starts by the generators of `export_files.rs`
//! (which describes the readings and each format): deterministic, and holding the same
//! N = 100,000 sensor readings (347 days, so both of Berlin's clock changes are in it). Each
//! benchmark reads the file's bytes (`&[u8]` is a `Read`) and counts items = readings, so divan
//! prints readings per second; bytes are counted too. Before timing, each export reader's result
//! is checked (N readings kept, at the instants written), and the product's (N accepted).
//!
//! - `incentive_csv`: `ingest::read_readings_csv` over the product's CSV.
//! - `dexcom_clarity`: `read_dexcom_clarity` over Clarity's CSV.
//! - `libreview`: `read_libreview` over LibreView's EU layout, `--date-order dmy`.
//! - `nightscout`: `read_nightscout` over compact entries.
//! - `nightscout_api_entries`: `read_nightscout` over the same readings with every field
//!   Nightscout's API writes, pretty-printed: what a real export costs the reader.
//! - `apple_health`: `read_apple_health` over an `export.xml` in Apple's layout.
//! - `fhir_bundle`, `fhir_ndjson`: `exports::read` in `Format::Fhir` over the CGM IG's
//!   data-submission Bundle and over bulk data's NDJSON.
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

mod export_files;

use chrono_tz::Europe::Berlin;
use divan::counter::{BytesCount, ItemsCount};
use divan::{Bencher, black_box};
use export_files::{
    Synthetic, apple_health, dexcom_clarity, fhir_bundle, fhir_ndjson, incentive_csv, libreview,
    nightscout, nightscout_api_entries, synthetic,
};
use incentive_engine::Reading;
use incentive_engine::exports::{
    DateOrder, Export, ExportOptions, Format, read, read_apple_health, read_dexcom_clarity,
    read_libreview, read_nightscout,
};
use incentive_engine::ingest::{CsvOptions, read_readings_csv};
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
    let readings = synthetic(N);
    let r = &readings;
    Files {
        incentive_csv: in_memory(|out| incentive_csv(r, out)),
        dexcom_clarity: in_memory(|out| dexcom_clarity(r, out)),
        libreview: in_memory(|out| libreview(r, out)),
        nightscout: in_memory(|out| nightscout(r, out)),
        nightscout_api_entries: in_memory(|out| nightscout_api_entries(r, out)),
        apple_health: in_memory(|out| apple_health(r, 0, out)),
        fhir_bundle: in_memory(|out| fhir_bundle(r, out)),
        fhir_ndjson: in_memory(|out| fhir_ndjson(r, out)),
        readings,
    }
});

/// The bytes `write` writes.
fn in_memory(write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> Vec<u8> {
    let mut out = Vec::new();
    if let Err(e) = write(&mut out) {
        panic!("writing a file in memory: {e}");
    }
    out
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
