//! A readings file as the commands take it: the product's own CSV or a device's export
//! (docs/data-formats.md), told by `--readings-format` or by its first bytes, `-` for standard
//! input. What a device export's reader kept and dropped is said on standard error.

use anyhow::Context as _;
use incentive_engine::exports;
use incentive_engine::ingest::{
    BadRows, CsvOptions, IngestReport, ReadingsByMember, read_readings_csv,
};
use incentive_engine::{BuiltReadings, GlucoseUnit, MemberId, Window};
use std::io::{self, Read, Write};
use std::path::Path;

/// The flags that say how to read a device's export.
#[derive(Debug, Default)]
pub struct ExportFlags<'a> {
    /// `--readings-format`.
    pub format: Option<&'a str>,
    /// `--tz`: the zone the device's clock was in.
    pub zone: Option<&'a str>,
    /// `--member`: whom the export is about (default `patient`).
    pub member: Option<&'a str>,
    /// `--date-order`.
    pub date_order: Option<&'a str>,
}

/// Reads `path`, gives the readings by member, the format read, and the name messages use.
pub fn read_readings_file(
    path: &Path,
    unit: Option<GlucoseUnit>,
    window: Option<Window>,
    bad_rows: BadRows,
    told: &ExportFlags<'_>,
) -> anyhow::Result<(ReadingsByMember, exports::Format, String)> {
    let stdin = path == Path::new("-");
    let source_name = if stdin {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    };
    let mut input: Box<dyn Read> = if stdin {
        Box::new(io::stdin().lock())
    } else {
        Box::new(io::BufReader::new(std::fs::File::open(path).with_context(
            || format!("cannot open readings file `{source_name}`"),
        )?))
    };
    // The format: as told, else from the file's first bytes (read once, then read again
    // before the rest), else the product's own CSV, whose reader says what it expected.
    let mut head = Vec::with_capacity(exports::DETECT_BYTES);
    (&mut input)
        .take(exports::DETECT_BYTES as u64)
        .read_to_end(&mut head)
        .with_context(|| format!("cannot read readings file `{source_name}`"))?;
    let format = match told.format {
        Some(name) => {
            exports::Format::parse(name).map_err(|e| anyhow::anyhow!("--readings-format: {e}"))?
        }
        None => exports::detect(&head).unwrap_or(exports::Format::IncentiveCsv),
    };
    let input: Box<dyn Read> = Box::new(io::Cursor::new(head).chain(input));
    let options = CsvOptions {
        source_name: source_name.clone(),
        unit,
        window,
        bad_rows,
    };
    let loaded = if format == exports::Format::IncentiveCsv {
        let stderr = io::stderr();
        read_readings_csv(input, &options, &mut |error| {
            // Each skipped row is said once, as it is met, so nothing is dropped unseen.
            let _ = writeln!(stderr.lock(), "skipped: {}: {error}", options.source_name);
        })?
    } else {
        read_export(input, format, &options, told)?
    };
    Ok((loaded, format, source_name))
}

/// A device's export, about one member (`--member`, else `patient`), as the product's own
/// readings: what its reader kept and dropped is said on standard error.
fn read_export(
    input: impl Read,
    format: exports::Format,
    options: &CsvOptions,
    told: &ExportFlags<'_>,
) -> anyhow::Result<ReadingsByMember> {
    let zone = told
        .zone
        .map(|z| z.parse::<chrono_tz::Tz>())
        .transpose()
        .map_err(|_| anyhow::anyhow!("--tz: unknown time zone"))?;
    let member = MemberId::parse(told.member.unwrap_or("patient"))
        .map_err(|e| anyhow::anyhow!("--member: {e}"))?;
    let export_options = exports::ExportOptions {
        source_name: options.source_name.clone(),
        zone,
        date_order: told
            .date_order
            .map(exports::DateOrder::parse)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--date-order: {e}"))?,
    };
    let export = exports::read(format, input, &export_options)?;
    eprintln!("{}: {}", options.source_name, export.report.summary());
    let rows = export.report.rows;
    let mut built: BuiltReadings = export.readings.into_iter().collect();
    let mut report = IngestReport {
        rows,
        duplicates: built.duplicates as u64,
        ..IngestReport::default()
    };
    if let Some(w) = &options.window {
        let before = built.readings.len();
        built.readings = built.readings.into_within(w);
        report.outside_window = (before - built.readings.len()) as u64;
    }
    report.accepted = built.readings.len() as u64;
    report.members = 1;
    report.skipped = rows - export.report.kept;
    Ok(ReadingsByMember {
        members: [(member, built.readings)].into_iter().collect(),
        report,
    })
}
