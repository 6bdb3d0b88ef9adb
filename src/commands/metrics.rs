//! `incentive metrics`: glucose-control metrics per member from a readings file.

use super::readings_file::{ExportFlags, read_readings_file};
use crate::cli::{Format, MetricsArgs};
use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use incentive_engine::exports;
use incentive_engine::ingest::BadRows;
use incentive_engine::time::parse_timestamp;
use incentive_engine::{DayBoundary, GlucoseUnit, Metrics, Record, Window, compute_metrics};
use std::io::{self, BufWriter, Write};

pub fn run(args: &MetricsArgs) -> anyhow::Result<()> {
    let unit = args
        .unit
        .as_deref()
        .map(GlucoseUnit::parse)
        .transpose()
        .context("--unit")?;
    let days = match args.tz.as_deref() {
        None => DayBoundary::ReadingOffset,
        Some(zone) => DayBoundary::Zone(zone.parse().map_err(|_| {
            anyhow::anyhow!(
                "--tz: unknown time zone `{zone}` (expected an IANA name such as `Asia/Shanghai`)"
            )
        })?),
    };
    let window = window(args.from.as_deref(), args.to.as_deref())?;
    let bad_rows = if args.skip_bad_rows {
        BadRows::Skip
    } else {
        BadRows::Fail
    };
    let exports_told = ExportFlags::new(&args.export, args.tz.as_deref(), args.member.as_deref());
    let file = read_readings_file(&args.readings, unit, window, bad_rows, &exports_told)?;
    let (loaded, format, source_name) = (file.by_member, file.format, file.source_name);

    let records: Vec<Record> = loaded
        .members
        .into_iter()
        .map(|(member, readings)| {
            let record = Record::new(member, readings, Vec::new()).with_day_boundary(days);
            match window {
                Some(w) => record.within(w),
                None => record,
            }
        })
        .collect();
    let metrics = compute_in_parallel(&records);
    let r = &loaded.report;
    // A device export's reader has said what it kept and dropped; the product's CSV says it here.
    if format == exports::Format::IncentiveCsv {
        eprintln!(
            "{}: {} rows; {} readings for {} members; {} duplicates dropped; {} outside the window; {} bad rows skipped",
            source_name, r.rows, r.accepted, r.members, r.duplicates, r.outside_window, r.skipped
        );
    } else if r.duplicates + r.outside_window > 0 {
        eprintln!(
            "{}: {} duplicates dropped; {} outside the window",
            source_name, r.duplicates, r.outside_window
        );
    }

    let mut out = BufWriter::new(io::stdout().lock());
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &metrics)?;
            writeln!(out)?;
        }
        Format::Table => writeln!(out, "{}", table(&metrics))?,
    }
    out.flush()?;
    Ok(())
}

/// Metrics of every record, using every core: each thread takes a contiguous slice of members
/// and the slices are joined in order, so the output is the same bytes on any machine.
fn compute_in_parallel(records: &[Record]) -> Vec<Metrics> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let per_thread = records.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = records
            .chunks(per_thread)
            .map(|chunk| scope.spawn(|| chunk.iter().map(compute_metrics).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            // A panic in a worker is a bug in the engine; surface it rather than lose members.
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

fn window(from: Option<&str>, to: Option<&str>) -> anyhow::Result<Option<Window>> {
    let parse = |flag: &str, text: &str| -> anyhow::Result<DateTime<Utc>> {
        Ok(parse_timestamp(text)
            .with_context(|| flag.to_owned())?
            .with_timezone(&Utc))
    };
    let start = from.map(|t| parse("--from", t)).transpose()?;
    let end = to.map(|t| parse("--to", t)).transpose()?;
    if start.is_none() && end.is_none() {
        return Ok(None);
    }
    let start = start.unwrap_or(DateTime::<Utc>::MIN_UTC);
    let end = end.unwrap_or(DateTime::<Utc>::MAX_UTC);
    match Window::new(start, end) {
        Some(w) => Ok(Some(w)),
        None => bail!("--to ({end}) must be after --from ({start})"),
    }
}

/// One column of the table: its header and how a member's value is shown under it.
type Column = (&'static str, fn(&Metrics) -> Cell);

/// The table's columns, each header beside its value, so a header cannot be shown over
/// another column's figure (they were two lists once, and drifted).
const COLUMNS: [Column; 16] = [
    ("member", |m| Cell::new(&m.member_id)),
    ("readings", |m| count(m.n_readings)),
    ("days", |m| count(m.days_with_readings)),
    ("readings/week", |m| num(m.readings_per_week)),
    ("fasting in target %", |m| num(m.fasting_in_target_percent)),
    ("mean mg/dL", |m| num(m.mean_mg_dl)),
    ("SD", |m| num(m.sd_mg_dl)),
    ("CV %", |m| num(m.cv_percent)),
    ("GMI %", |m| num(m.gmi_percent)),
    ("TIR %", |m| num(m.tir_percent)),
    ("TBR %", |m| num(m.tbr_percent)),
    ("TBR<54 %", |m| num(m.tbr_level2_percent)),
    ("TAR %", |m| num(m.tar_percent)),
    ("TAR>250 %", |m| num(m.tar_level2_percent)),
    ("GRI", |m| num(m.gri)),
    ("active %", |m| num(m.active_percent)),
];

/// A figure rounded to one decimal for reading; `–` where the metric is undefined.
fn num(v: Option<f64>) -> Cell {
    Cell::new(v.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}")))
        .set_alignment(CellAlignment::Right)
}

fn count(v: u64) -> Cell {
    Cell::new(v).set_alignment(CellAlignment::Right)
}

fn table(metrics: &[Metrics]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_header(COLUMNS.iter().map(|(header, _)| *header));
    for m in metrics {
        table.add_row(COLUMNS.iter().map(|(_, value)| value(m)));
    }
    table
}
