//! A readings file as the commands take it: the product's own CSV or a device's export
//! (docs/data-formats.md), told by `--readings-format` or by its first bytes, `-` for standard
//! input. What a device export's reader kept and dropped is said on standard error.

use anyhow::{Context as _, bail};
use incentive_engine::exports;
use incentive_engine::ingest::{BadRows, CsvOptions, ReadingsByMember, read_readings_csv};
use incentive_engine::{BuiltReadings, GlucoseUnit, LabResult, MemberId, Window};
use std::collections::BTreeMap;
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
    /// `--identifier-system`: the FHIR identifier system whose values are member ids.
    pub identifier_system: Option<&'a str>,
    /// Whether a FHIR file about several patients is split by patient even when `member` is
    /// given (`evaluate` then takes its member's part), rather than refused.
    pub split_by_patient: bool,
}

impl<'a> ExportFlags<'a> {
    /// The flags as given on the command line, with the command's own zone and member.
    pub fn new(
        args: &'a crate::cli::DeviceExportArgs,
        zone: Option<&'a str>,
        member: Option<&'a str>,
    ) -> Self {
        Self {
            format: args.readings_format.as_deref(),
            zone,
            member,
            date_order: args.date_order.as_deref(),
            identifier_system: args.identifier_system.as_deref(),
            split_by_patient: false,
        }
    }
}

/// HbA1c results a file held, by member (FHIR exports).
pub type LabsByMember = BTreeMap<MemberId, Vec<LabResult>>;

/// A readings file, read.
pub struct ReadingsFile {
    pub by_member: ReadingsByMember,
    pub labs: LabsByMember,
    pub format: exports::Format,
    /// The name messages use: the path, or `<stdin>`.
    pub source_name: String,
}

/// Reads `path`, gives the readings by member, the format read, and the name messages use.
pub fn read_readings_file(
    path: &Path,
    unit: Option<GlucoseUnit>,
    window: Option<Window>,
    bad_rows: BadRows,
    told: &ExportFlags<'_>,
) -> anyhow::Result<ReadingsFile> {
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
    let (by_member, labs) = if format == exports::Format::IncentiveCsv {
        let stderr = io::stderr();
        let loaded = read_readings_csv(input, &options, &mut |error| {
            // Each skipped row is said once, as it is met, so nothing is dropped unseen.
            let _ = writeln!(stderr.lock(), "skipped: {}: {error}", options.source_name);
        })?;
        (loaded, LabsByMember::new())
    } else {
        read_export(input, format, &options, told)?
    };
    Ok(ReadingsFile {
        by_member,
        labs,
        format,
        source_name,
    })
}

/// A device's export as the product's own readings, by member: what its reader kept and
/// dropped is said on standard error. An export about one person is about `--member` (else
/// the FHIR patient's id, else `patient`); a FHIR export about several is split by patient,
/// each named by their identifier in `--identifier-system`, else their Patient id.
fn read_export(
    input: impl Read,
    format: exports::Format,
    options: &CsvOptions,
    told: &ExportFlags<'_>,
) -> anyhow::Result<(ReadingsByMember, LabsByMember)> {
    let zone = told
        .zone
        .map(|z| z.parse::<chrono_tz::Tz>())
        .transpose()
        .map_err(|_| anyhow::anyhow!("--tz: unknown time zone"))?;
    let member_id =
        |id: &str, flag: &str| MemberId::parse(id).map_err(|e| anyhow::anyhow!("{flag}: {e}"));
    let export_options = exports::ExportOptions {
        source_name: options.source_name.clone(),
        zone,
        date_order: told
            .date_order
            .map(exports::DateOrder::parse)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--date-order: {e}"))?,
    };
    let (report, people) = if format == exports::Format::Fhir {
        let fhir = exports::read_fhir(input, &export_options)?;
        let named = fhir.people.iter().filter(|(p, _)| !p.is_nobody()).count();
        if named <= 1 || (told.member.is_some() && !told.split_by_patient) {
            let key = fhir
                .people
                .iter()
                .find_map(|(p, _)| p.key(told.identifier_system))
                .map(str::to_owned);
            let export = fhir.about_one_person(&export_options)?;
            let member = match (told.member, key.as_deref()) {
                (Some(m), _) => member_id(m, "--member")?,
                (None, Some(k)) => member_id(k, "the FHIR patient's id")?,
                (None, None) => member_id("patient", "--member")?,
            };
            (export.report, vec![(member, export.readings, export.labs)])
        } else {
            let mut people = Vec::new();
            for (person, export) in fhir.people {
                let Some(key) = person.key(told.identifier_system) else {
                    bail!(
                        "{}: {} has no {}: say which identifier names members with --identifier-system, or split the file by patient",
                        options.source_name,
                        person.describe(),
                        told.identifier_system
                            .map_or("Patient id".to_owned(), |s| format!(
                                "identifier in system `{s}`"
                            ))
                    );
                };
                people.push((
                    member_id(key, "the FHIR patient's identifier")?,
                    export.readings,
                    export.labs,
                ));
            }
            (fhir.report, people)
        }
    } else {
        let member = member_id(told.member.unwrap_or("patient"), "--member")?;
        let export = exports::read(format, input, &export_options)?;
        (export.report, vec![(member, export.readings, export.labs)])
    };
    eprintln!("{}: {}", options.source_name, report.summary());
    let mut by_member = ReadingsByMember::default();
    let mut labs_by_member = LabsByMember::new();
    let mut accepted = 0_u64;
    for (member, readings, labs) in people {
        let mut built: BuiltReadings = readings.into_iter().collect();
        by_member.report.duplicates += built.duplicates as u64;
        if let Some(w) = &options.window {
            let before = built.readings.len();
            built.readings = built.readings.into_within(w);
            by_member.report.outside_window += (before - built.readings.len()) as u64;
        }
        accepted += built.readings.len() as u64;
        if !labs.is_empty() {
            let mut labs = labs;
            labs.sort_by_key(|l| l.time);
            labs_by_member.insert(member.clone(), labs);
        }
        if by_member.members.contains_key(&member) {
            bail!(
                "{}: two patients are both member `{}`",
                options.source_name,
                member.as_str()
            );
        }
        by_member.members.insert(member, built.readings);
    }
    by_member.report.rows = report.rows;
    by_member.report.accepted = accepted;
    by_member.report.members = by_member.members.len() as u64;
    by_member.report.skipped = report.rows - report.kept - report.kept_labs;
    Ok((by_member, labs_by_member))
}
