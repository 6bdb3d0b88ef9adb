//! Peak resident memory of each device-export reader against the file's size (issue 19:
//! "memory flat in file size"): a reader's peak should grow with the readings it keeps, never
//! with the file's other bytes or a second copy of the file. Linux only (it reads
//! /proc/self/status).
//!
//! ```sh
//! cargo run --release -p incentive-engine --example export_memory -- write FORMAT N PATH
//! cargo run --release -p incentive-engine --example export_memory -- read READER PATH
//! ```
//!
//! `write` writes a file of N synthetic readings in FORMAT to PATH, deterministic, by the
//! generators of `benches/export_files.rs` (which describes the readings and each format): the
//! readings of `benches/exports.rs`, and its files byte for byte at its N (100,000). FORMAT is one
//! of
//!
//! - `incentive-csv`: the product's own CSV (N = 0 writes the header alone: the baseline);
//! - `dexcom-clarity`, `libreview` (EU layout, mmol/L), `nightscout` (compact entries),
//!   `nightscout-api` (the API's full entries, pretty-printed), `fhir-bundle`, `fhir-ndjson`,
//!   `apple-health`: the files the bench times;
//! - `carelink`: CareLink's `;`-separated layout (the preamble, one sensor section with its
//!   header, newest row first, Berlin local time);
//! - `apple-health-steps`: Apple Health with nine step-count records before each glucose record,
//!   as a phone writes them, so nine of every ten records, and most of the file's bytes, are not
//!   glucose;
//! - `sibionics`: the SiBionics app's workbook (.xlsx, every cell a shared string, deflated), as
//!   `tests/exports_sibionics.rs` writes it.
//!
//! `read` opens PATH with `File` and `BufReader`, reads it with READER (a FORMAT above, for its
//! format's reader, or `fhir-per-person`: `read_fhir` alone, without `about_one_person`), then
//! prints one line: the file's bytes, the rows and readings kept, the resident memory before the
//! read and the process's peak (`VmHWM`), in KiB. Only then (the peak already read) are the
//! readings checked against the synthetic ones: `check=ok` when every kept reading is at an
//! instant written. One read a process, so that memory freed by one read is not reused by the
//! next without showing.

#[path = "../benches/export_files/mod.rs"]
mod export_files;

use chrono_tz::Europe::Berlin;
use export_files::{
    apple_health, carelink, dexcom_clarity, fhir_bundle, fhir_ndjson, incentive_csv, libreview,
    nightscout, nightscout_api_entries, sibionics, synthetic,
};
use incentive_engine::exports::{DateOrder, ExportOptions, Format, read, read_fhir};
use incentive_engine::ingest::{CsvOptions, read_readings_csv};
use std::error::Error;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const USAGE: &str = "usage: export_memory write FORMAT N PATH | export_memory read READER PATH
FORMAT: incentive-csv, dexcom-clarity, libreview, carelink, nightscout, nightscout-api,
        fhir-bundle, fhir-ndjson, apple-health, apple-health-steps, sibionics
READER: a FORMAT, or fhir-per-person (read_fhir without about_one_person)";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["write", format, n, path] => {
            let n: usize = n
                .replace('_', "")
                .parse()
                .map_err(|_| format!("`{n}` is not a whole number; {USAGE}"))?;
            write_file(format, n, path)
        }
        ["read", reader, path] => read_file(reader, path),
        _ => Err(USAGE.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Reading.

/// Which reader a `read` runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reader {
    /// `ingest::read_readings_csv`: the baseline.
    IncentiveCsv,
    /// `exports::read` in this format.
    Export(Format),
    /// `exports::read_fhir`, the people kept apart.
    FhirPerPerson,
}

impl Reader {
    fn parse(name: &str) -> Result<Reader> {
        Ok(match name {
            "incentive-csv" => Reader::IncentiveCsv,
            "dexcom-clarity" => Reader::Export(Format::DexcomClarity),
            "libreview" => Reader::Export(Format::LibreView),
            "carelink" => Reader::Export(Format::CareLink),
            "nightscout" | "nightscout-api" => Reader::Export(Format::Nightscout),
            "fhir" | "fhir-bundle" | "fhir-ndjson" => Reader::Export(Format::Fhir),
            "fhir-per-person" => Reader::FhirPerPerson,
            "apple-health" | "apple-health-steps" => Reader::Export(Format::AppleHealth),
            "sibionics" => Reader::Export(Format::SiBionics),
            _ => return Err(format!("unknown reader `{name}`; {USAGE}").into()),
        })
    }
}

/// A figure of /proc/self/status, in KiB.
fn status_kib(field: &str) -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .ok_or_else(|| format!("no {field} in /proc/self/status"))?;
    Ok(line
        .trim_start_matches(field)
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?)
}

fn read_file(name: &str, path: &str) -> Result<()> {
    let reader = Reader::parse(name)?;
    let file_bytes = std::fs::metadata(path)?.len();
    let rss_before = status_kib("VmRSS:")?;
    let input = BufReader::new(File::open(path)?);
    let options = ExportOptions {
        source_name: path.to_owned(),
        zone: Some(Berlin),
        date_order: (reader == Reader::Export(Format::LibreView)).then_some(DateOrder::DayFirst),
    };
    // Each arm reads, takes the peak while what was read is still held, and only then gathers
    // the instants kept to check them.
    let (rows, kept, peak, mut times_ms) = match reader {
        Reader::IncentiveCsv => {
            let csv_options = CsvOptions {
                source_name: path.to_owned(),
                ..CsvOptions::default()
            };
            let loaded = read_readings_csv(input, &csv_options, &mut |_| {})?;
            let peak = status_kib("VmHWM:")?;
            let times: Vec<i64> = loaded
                .members
                .values()
                .flat_map(|r| r.times_ms().iter().copied())
                .collect();
            (loaded.report.rows, loaded.report.accepted, peak, times)
        }
        Reader::Export(format) => {
            let export = read(format, input, &options)?;
            let peak = status_kib("VmHWM:")?;
            let times: Vec<i64> = export
                .readings
                .iter()
                .map(|r| r.time.timestamp_millis())
                .collect();
            (export.report.rows, export.report.kept, peak, times)
        }
        Reader::FhirPerPerson => {
            let export = read_fhir(input, &options)?;
            let peak = status_kib("VmHWM:")?;
            let times: Vec<i64> = export
                .people
                .iter()
                .flat_map(|(_, e)| e.readings.iter().map(|r| r.time.timestamp_millis()))
                .collect();
            (export.report.rows, export.report.kept, peak, times)
        }
    };
    times_ms.sort_unstable();
    let written = synthetic(times_ms.len());
    let check = times_ms.len() as u64 == kept
        && times_ms
            .iter()
            .zip(&written.times)
            .all(|(read, written)| *read == written.timestamp_millis());
    println!(
        "reader={name} file_bytes={file_bytes} rows={rows} kept={kept} rss_before_kib={rss_before} peak_kib={peak} check={}",
        if check { "ok" } else { "FAILED" }
    );
    if check {
        Ok(())
    } else {
        Err(format!("{name}: the readings kept are not the instants written").into())
    }
}

// ---------------------------------------------------------------------------------------------
// Writing: N readings, by the generators of benches/export_files.rs.

fn write_file(format: &str, n: usize, path: &str) -> Result<()> {
    let r = synthetic(n);
    let mut out = BufWriter::new(File::create(path)?);
    match format {
        "incentive-csv" => incentive_csv(&r, &mut out)?,
        "dexcom-clarity" => dexcom_clarity(&r, &mut out)?,
        "libreview" => libreview(&r, &mut out)?,
        "carelink" => carelink(&r, &mut out)?,
        "nightscout" => nightscout(&r, &mut out)?,
        "nightscout-api" => nightscout_api_entries(&r, &mut out)?,
        "fhir-bundle" => fhir_bundle(&r, &mut out)?,
        "fhir-ndjson" => fhir_ndjson(&r, &mut out)?,
        "apple-health" => apple_health(&r, 0, &mut out)?,
        "apple-health-steps" => apple_health(&r, 9, &mut out)?,
        "sibionics" => sibionics(&r, &mut out)?,
        _ => return Err(format!("unknown format `{format}`; {USAGE}").into()),
    }
    out.flush()?;
    Ok(())
}
