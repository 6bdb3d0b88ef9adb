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
//! `write` writes a file of N synthetic readings in FORMAT to PATH, deterministic: the readings
//! of `benches/exports.rs` (one every 5 minutes from 2025-01-01T00:00:00Z, a daily triangle wave
//! 70–190 mg/dL plus LCG noise ±20; local times in Europe/Berlin), written by the bench's
//! generators where it has one. FORMAT is one of
//!
//! - `incentive-csv`: the product's own CSV (N = 0 writes the header alone: the baseline);
//! - `dexcom-clarity`, `libreview` (EU layout, mmol/L), `nightscout` (compact entries),
//!   `nightscout-api` (the API's full entries, pretty-printed), `fhir-bundle`, `fhir-ndjson`,
//!   `apple-health`: as the bench writes them;
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

use chrono::{DateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use incentive_engine::MG_DL_PER_MMOL_L;
use incentive_engine::exports::{DateOrder, ExportOptions, Format, read, read_fhir};
use incentive_engine::ingest::{CsvOptions, read_readings_csv};
use std::collections::HashMap;
use std::error::Error;
use std::fs::File;
use std::io::{BufReader, BufWriter, Seek, Write};

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
// Writing: the readings of benches/exports.rs, N of them.

fn write_file(format: &str, n: usize, path: &str) -> Result<()> {
    let r = synthetic(n);
    if format == "sibionics" {
        return sibionics(&r, BufWriter::new(File::create(path)?));
    }
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
        _ => return Err(format!("unknown format `{format}`; {USAGE}").into()),
    }
    out.flush()?;
    Ok(())
}

/// The synthetic readings: the instant of each and its value in mg/dL.
struct Synthetic {
    times: Vec<DateTime<Utc>>,
    mg_dl: Vec<u32>,
}

/// The first `n` readings of the bench's (the same values at the same indices).
fn synthetic(n: usize) -> Synthetic {
    let Some(start) = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single() else {
        unreachable!("2025-01-01T00:00:00Z is a valid time")
    };
    let times = (0..n)
        .map(|i| start + TimeDelta::minutes(5 * i as i64))
        .collect();
    // Knuth's MMIX LCG for the noise, as in benches/metrics.rs.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mg_dl = (0..n)
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

fn incentive_csv(r: &Synthetic, out: &mut impl Write) -> Result<()> {
    writeln!(out, "member_id,time,glucose_mg_dl,context,source")?;
    for (t, v) in r.times.iter().zip(&r.mg_dl) {
        let local = t.with_timezone(&Berlin).format("%Y-%m-%dT%H:%M:%S%:z");
        writeln!(out, "M0000001,{local},{v},unknown,cgm")?;
    }
    Ok(())
}

fn dexcom_clarity(r: &Synthetic, out: &mut impl Write) -> Result<()> {
    out.write_all(
        b"Index,Timestamp (YYYY-MM-DDThh:mm:ss),Event Type,Event Subtype,Patient Info,Device Info,Source Device ID,Glucose Value (mg/dL),Insulin Value (u),Carb Value (grams),Duration (hh:mm:ss),Glucose Rate of Change (mg/dL/min),Transmitter Time (Long Integer),Transmitter ID\n\
          1,,FirstName,,Subject,,,,,,,,,\n\
          2,,LastName,,2,,,,,,,,,\n\
          3,,DateOfBirth,,1/1/80,,,,,,,,,\n\
          4,,Device,,,Dexcom G6 Receiver,PG00000000,,,,,,,\n",
    )?;
    for (i, (t, v)) in r.times.iter().zip(&r.mg_dl).enumerate() {
        let local = t.with_timezone(&Berlin).format("%Y-%m-%dT%H:%M:%S");
        let transmitter_time = 7573 + 300 * i;
        writeln!(
            out,
            "{},{local},EGV,,,,PG00000000,{v},,,,,{transmitter_time},38J902",
            i + 5
        )?;
    }
    Ok(())
}

fn libreview(r: &Synthetic, out: &mut impl Write) -> Result<()> {
    out.write_all(
        b"Glucose Data,Generated on,13-12-2025 10:23 UTC,Generated by,Redacted Redacted\n\
          Device,Serial Number,Device Timestamp,Record Type,Historic Glucose mmol/L,Scan Glucose mmol/L,Non-numeric Rapid-Acting Insulin,Rapid-Acting Insulin (units),Non-numeric Food,Carbohydrates (grams),Carbohydrates (servings),Non-numeric Long-Acting Insulin,Long-Acting Insulin Value (units),Notes,Strip Glucose mmol/L,Ketone mmol/L,Meal Insulin (units),Correction Insulin (units),User Change Insulin (units)\n",
    )?;
    for (t, v) in r.times.iter().zip(&r.mg_dl) {
        let local = t.with_timezone(&Berlin).format("%d-%m-%Y %H:%M");
        let mmol = f64::from(*v) / MG_DL_PER_MMOL_L;
        writeln!(
            out,
            "FreeStyle LibreLink,00000000-0000-0000-0000-000000000000,{local},0,{mmol:.1},,,,,,,,,,,,,,"
        )?;
    }
    Ok(())
}

/// The column header of a CareLink section (as in `tests/exports_carelink.rs`).
const CARELINK_HEADER: &str = "Index;Date;Time;New Device Time;BG Reading (mg/dL);Linked BG Meter ID;Basal Rate (U/h);Bolus Volume Delivered (U);Alarm;Sensor Calibration BG (mg/dL);Sensor Glucose (mg/dL);ISIG Value;Event Marker";

/// CareLink's export: the preamble, then the sensor's section, newest row first, Berlin local
/// time, the ISIG beside each reading with a decimal comma.
fn carelink(r: &Synthetic, out: &mut impl Write) -> Result<()> {
    write!(
        out,
        "Last Name;First Name;Patient ID;System ID;Start Date;End Date;Device;Guardian Connect\n\
         \"Redacted\";\"Redacted\";\"\";\"\";\"01.01.2025 00:00:00\";\"31.12.2028 23:59:59\";\"Serial Number\";XXXXXX\n\
         \n\
         Device data shown may exceed selected date range.\n\
         \n\
         -------;Guardian Connect;Sensor;XXXXXX-XXXX;-------\n\
         {CARELINK_HEADER}\n"
    )?;
    for (index, (t, v)) in r.times.iter().zip(&r.mg_dl).rev().enumerate() {
        let local = t.with_timezone(&Berlin);
        let date = local.format("%Y/%m/%d");
        let time = local.format("%H:%M:%S");
        let isig = v * 17 / 100;
        let isig_hundredths = v * 17 % 100;
        writeln!(
            out,
            "{index},00000;{date};{time};;;;;;;;{v};{isig},{isig_hundredths:02};"
        )?;
    }
    Ok(())
}

fn nightscout(r: &Synthetic, out: &mut impl Write) -> Result<()> {
    out.write_all(b"[")?;
    for (i, (t, v)) in r.times.iter().zip(&r.mg_dl).enumerate() {
        let sep = if i == 0 { "" } else { "," };
        write!(
            out,
            "{sep}{{\"type\":\"sgv\",\"sgv\":{v},\"date\":{},\"dateString\":\"{}\",\"utcOffset\":0}}",
            t.timestamp_millis(),
            t.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        )?;
    }
    out.write_all(b"]")?;
    Ok(())
}

/// Entries with every field of the published API sample, pretty-printed as the API returns them.
fn nightscout_api_entries(r: &Synthetic, out: &mut impl Write) -> Result<()> {
    out.write_all(b"[")?;
    for (i, (t, v)) in r.times.iter().zip(&r.mg_dl).enumerate() {
        let sep = if i == 0 { "" } else { "," };
        let at = t.format("%Y-%m-%dT%H:%M:%S%.3fZ");
        write!(
            out,
            "{sep}\n  {{\n    \"_id\": \"{i:08X}-82D7-49E4-B0C1-0DD0BFF92586\",\n    \"date\": {},\n    \"dateString\": \"{at}\",\n    \"glucose\": {v},\n    \"direction\": \"Flat\",\n    \"type\": \"sgv\",\n    \"sessionStartDate\": \"2024-12-30T14:10:28.450Z\",\n    \"sgv\": {v},\n    \"unfiltered\": {v},\n    \"uncalibrated\": {v},\n    \"utcOffset\": 0,\n    \"sysTime\": \"{at}\"\n  }}",
            t.timestamp_millis(),
        )?;
    }
    out.write_all(b"\n]\n")?;
    Ok(())
}

/// The phone Apple writes as a step count's `device` (as in `tests/exports_apple_health.rs`).
const PHONE: &str = "&lt;&lt;HKDevice: 0x3027d4a50&gt;, name:iPhone, manufacturer:Apple Inc., model:iPhone, hardware:iPhone15,2, software:17.4.1, creation date:2024-04-12 08:13:22 +0000&gt;";

/// Apple Health's `export.xml`: its head, then one glucose record per reading as a sensor's app
/// writes them to Health (created three hours after the reading, as Dexcom's are), each after
/// `steps_before` step-count records of the phone's (30 s each, in the 5 minutes before it).
fn apple_health(r: &Synthetic, steps_before: i64, out: &mut impl Write) -> Result<()> {
    out.write_all(
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
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
    )?;
    for (i, (t, v)) in r.times.iter().zip(&r.mg_dl).enumerate() {
        for k in 0..steps_before {
            let start = *t - TimeDelta::seconds(30 * (steps_before - k));
            let end = start + TimeDelta::seconds(30);
            let created = (end + TimeDelta::minutes(10))
                .with_timezone(&Berlin)
                .format("%Y-%m-%d %H:%M:%S %z");
            let start = start.with_timezone(&Berlin).format("%Y-%m-%d %H:%M:%S %z");
            let end = end.with_timezone(&Berlin).format("%Y-%m-%d %H:%M:%S %z");
            let steps = (i as i64 * 7 + k * 13) % 60 + 1;
            writeln!(
                out,
                " <Record type=\"HKQuantityTypeIdentifierStepCount\" sourceName=\"iPhone\" sourceVersion=\"17.4.1\" device=\"{PHONE}\" unit=\"count\" creationDate=\"{created}\" startDate=\"{start}\" endDate=\"{end}\" value=\"{steps}\"/>"
            )?;
        }
        let at = t.with_timezone(&Berlin).format("%Y-%m-%d %H:%M:%S %z");
        let created = (*t + TimeDelta::hours(3))
            .with_timezone(&Berlin)
            .format("%Y-%m-%d %H:%M:%S %z");
        writeln!(
            out,
            " <Record type=\"HKQuantityTypeIdentifierBloodGlucose\" sourceName=\"Dexcom G7\" sourceVersion=\"2.2.1\" unit=\"mg/dL\" creationDate=\"{created}\" startDate=\"{at}\" endDate=\"{at}\" value=\"{v}\"/>"
        )?;
    }
    out.write_all(b"</HealthData>\n")?;
    Ok(())
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
fn fhir_bundle(r: &Synthetic, out: &mut impl Write) -> Result<()> {
    out.write_all(
        b"{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"timestamp\":\"2025-12-14T10:23:00Z\",\"entry\":[\n",
    )?;
    for (i, (t, v)) in r.times.iter().zip(&r.mg_dl).enumerate() {
        let sep = if i == 0 { "" } else { ",\n" };
        write!(
            out,
            "{sep}{{\"fullUrl\":\"urn:uuid:cgm-{i}\",\"resource\":{},\"request\":{{\"method\":\"POST\",\"url\":\"Observation\"}}}}",
            fhir_observation(i, t, *v)
        )?;
    }
    out.write_all(b"\n]}\n")?;
    Ok(())
}

/// The readings as FHIR bulk data writes them: NDJSON, one Observation a line.
fn fhir_ndjson(r: &Synthetic, out: &mut impl Write) -> Result<()> {
    for (i, (t, v)) in r.times.iter().zip(&r.mg_dl).enumerate() {
        writeln!(out, "{}", fhir_observation(i, t, *v))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// SiBionics: a workbook in the app's layout, as tests/exports_sibionics.rs writes it.

const SPREADSHEET_NS: &str = r#"xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main""#;

/// The app's export: the `Sensor Glucose` sheet, `Time` and `Sensor Reading(mg/dL)`, every cell
/// a shared string (each text once), the header in style 1 and the rest in style 2, deflated.
/// Times are Berlin's, with its offset from GMT (`01-01-2025 01:00 GMT+1`).
fn sibionics(r: &Synthetic, out: impl Write + Seek) -> Result<()> {
    let ns = SPREADSHEET_NS;
    let mut strings: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut shared = |text: String| -> usize {
        *index.entry(text).or_insert_with_key(|text| {
            strings.push(text.clone());
            strings.len() - 1
        })
    };
    let rows = r.times.len() + 1;
    let mut sheet = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<worksheet {ns}><dimension ref="A1:B{rows}"/><sheetViews><sheetView workbookViewId="0" tabSelected="true"/></sheetViews><sheetFormatPr defaultRowHeight="15.0" baseColWidth="25"/><sheetData>"#
    );
    let time = shared("Time".into());
    let reading = shared("Sensor Reading(mg/dL)".into());
    sheet.push_str(&format!(
        r#"<row r="1"><c r="A1" s="1" t="s"><v>{time}</v></c><c r="B1" s="1" t="s"><v>{reading}</v></c></row>"#
    ));
    for (i, (t, v)) in r.times.iter().zip(&r.mg_dl).enumerate() {
        let n = i + 2;
        let local = t.with_timezone(&Berlin);
        let hours = local.offset().fix().local_minus_utc() / 3600;
        let text = format!("{} GMT{hours:+}", local.format("%d-%m-%Y %H:%M"));
        let time = shared(text);
        let reading = shared(v.to_string());
        sheet.push_str(&format!(
            r#"<row r="{n}"><c r="A{n}" s="2" t="s"><v>{time}</v></c><c r="B{n}" s="2" t="s"><v>{reading}</v></c></row>"#
        ));
    }
    sheet.push_str(r#"</sheetData><pageMargins bottom="0.75" footer="0.3" header="0.3" left="0.7" right="0.7" top="0.75"/></worksheet>"#);
    let mut sst = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<sst count="{}" uniqueCount="{}" {ns}>"#,
        strings.len(),
        strings.len()
    );
    for s in &strings {
        // The texts are digits, `-`, `:`, `+`, spaces and letters: nothing to escape.
        sst.push_str(&format!("<si><t>{s}</t></si>"));
    }
    sst.push_str("</sst>");
    let parts = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default ContentType="application/vnd.openxmlformats-package.relationships+xml" Extension="rels"/><Default ContentType="application/xml" Extension="xml"/><Override ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml" PartName="/xl/sharedStrings.xml"/><Override ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml" PartName="/xl/styles.xml"/><Override ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml" PartName="/xl/workbook.xml"/><Override ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml" PartName="/xl/worksheets/sheet1.xml"/></Types>"#.to_owned(),
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Target="xl/workbook.xml" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/></Relationships>"#.to_owned(),
        ),
        ("xl/sharedStrings.xml", sst),
        (
            "xl/styles.xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<styleSheet {ns}><fonts count="1"><font><sz val="11.0"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="solid"><fgColor indexed="22"/></patternFill></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="0" fillId="1" borderId="0" xfId="0" applyFill="true"/><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs></styleSheet>"#
            ),
        ),
        (
            "xl/workbook.xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<workbook {ns} xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><workbookPr date1904="false"/><bookViews><workbookView activeTab="0"/></bookViews><sheets><sheet name="Sensor Glucose" r:id="rId3" sheetId="1"/></sheets></workbook>"#
            ),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Target="sharedStrings.xml" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/><Relationship Id="rId2" Target="styles.xml" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"/><Relationship Id="rId3" Target="worksheets/sheet1.xml" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/></Relationships>"#.to_owned(),
        ),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    let mut zip = zip::ZipWriter::new(out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in parts {
        zip.start_file(name, options)?;
        zip.write_all(text.as_bytes())?;
    }
    zip.finish()?.flush()?;
    Ok(())
}
