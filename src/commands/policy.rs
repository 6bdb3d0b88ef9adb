//! `incentive policy check|test` and `incentive evaluate`: a policy package from disk.

use crate::cli::{EvaluateArgs, PolicyArgs, ReportFormat};
use anyhow::{Context as _, bail};
use incentive_engine::policy::cases::read_member_file;
use incentive_engine::policy::{
    Diagnostics, EvaluationInput, History, MemberProfile, Package, PolicySource, Severity,
    SourceFile, load,
};
use incentive_engine::{MemberId, Period, Readings};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};
use std::path::Path;

/// Bytes a package file may have; a policy is text an insurer wrote, not data.
const PACKAGE_FILE_BYTES_MAX: u64 = 4 * 1024 * 1024;
const PACKAGE_FILES_MAX: usize = 1_000;

/// Reads every file of a package directory into memory.
pub fn read_package(dir: &Path) -> anyhow::Result<PolicySource> {
    if !dir.is_dir() {
        bail!(
            "policy package `{}` is not a directory (expected policy.toml, rules.rhai and cases/)",
            dir.display()
        );
    }
    let mut files = Vec::new();
    let mut read = |path: &Path, name: String| -> anyhow::Result<()> {
        let size = std::fs::metadata(path)?.len();
        if size > PACKAGE_FILE_BYTES_MAX {
            bail!(
                "`{}` is {size} bytes, more than a package file may have ({PACKAGE_FILE_BYTES_MAX})",
                path.display()
            );
        }
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            anyhow::anyhow!(
                "`{}` is not UTF-8 text (byte {})",
                path.display(),
                e.utf8_error().valid_up_to()
            )
        })?;
        files.push(SourceFile::new(name, text));
        Ok(())
    };
    for name in ["policy.toml", "rules.rhai"] {
        let path = dir.join(name);
        if path.is_file() {
            read(&path, name.to_owned())?;
        }
    }
    // The cases, and the catalogs of member text (`locales/en.ftl`, `locales/zh-CN.ftl` …).
    for (folder, extensions) in [
        ("cases", &[".toml", ".csv"][..]),
        ("locales", &[".ftl"][..]),
    ] {
        let path = dir.join(folder);
        if !path.is_dir() {
            continue;
        }
        let mut entries: Vec<_> = std::fs::read_dir(&path)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        if entries.len() > PACKAGE_FILES_MAX {
            bail!(
                "`{}` has {} files, more than {PACKAGE_FILES_MAX}",
                path.display(),
                entries.len()
            );
        }
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_file() && extensions.iter().any(|x| name.ends_with(x)) {
                read(&e.path(), format!("{folder}/{name}"))?;
            }
        }
    }
    Ok(PolicySource {
        name: dir.display().to_string(),
        files,
    })
}

/// Renders diagnostics with the offending source line, for people.
fn render(source: &PolicySource, diags: &Diagnostics) -> String {
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor());
    let mut out = String::new();
    for d in diags.iter() {
        let text = source
            .file(&d.file)
            .map(|f| f.text.clone())
            .unwrap_or_default();
        let mut m =
            MietteDiagnostic::new(format!("{}:{}:{}: {}", d.file, d.line, d.column, d.message))
                .with_code(d.code)
                .with_severity(match d.severity {
                    Severity::Error => miette::Severity::Error,
                    Severity::Warning => miette::Severity::Warning,
                });
        if !text.is_empty() {
            let start = d.span.start.min(text.len());
            let len = d.span.len().max(1).min(text.len() - start);
            m = m.with_label(LabeledSpan::at(start..start + len, "here"));
        }
        if let Some(help) = &d.help {
            m = m.with_help(help.clone());
        }
        let report = miette::Report::new(m).with_source_code(NamedSource::new(&d.file, text));
        if handler.render_report(&mut out, report.as_ref()).is_err() {
            out.push_str(&format!("{d}\n"));
        }
        out.push('\n');
    }
    out
}

pub fn load_or_report(dir: &Path, format: ReportFormat) -> anyhow::Result<(PolicySource, Package)> {
    let source = read_package(dir)?;
    match load(&source) {
        Ok(package) => Ok((source, package)),
        Err(diags) => {
            match format {
                ReportFormat::Json => println!(
                    "{}",
                    serde_json::json!({ "policy": source.name, "ok": false, "diagnostics": diags })
                ),
                ReportFormat::Text => eprint!("{}", render(&source, &diags)),
            }
            let n = diags.errors().count();
            bail!(
                "policy `{}` has {n} error{}",
                source.name,
                if n == 1 { "" } else { "s" }
            )
        }
    }
}

/// How the package's rules run, in words: compiled, or on the interpreter and why.
fn how_it_runs(p: &incentive_engine::policy::Policy) -> String {
    match p.interpreted() {
        None => "rules.rhai runs compiled".to_owned(),
        Some(i) => {
            let at =
                i.at.map_or_else(String::new, |(line, column)| format!(":{line}:{column}"));
            format!(
                "rules.rhai runs on the interpreter, slower: rules.rhai{at}: {}",
                i.why
            )
        }
    }
}

pub fn check(args: &PolicyArgs) -> anyhow::Result<()> {
    let (source, package) = load_or_report(&args.dir, args.format)?;
    let p = &package.policy;
    match args.format {
        ReportFormat::Json => {
            let interpreted = p.interpreted().map(|i| {
                serde_json::json!({ "why": i.why, "line": i.at.map(|a| a.0), "column": i.at.map(|a| a.1) })
            });
            println!(
                "{}",
                serde_json::json!({ "policy": source.name, "ok": true, "id": p.manifest.id, "version": p.manifest.version, "content_hash": p.content_hash, "cases": package.cases.len(), "compiled": interpreted.is_none(), "interpreted": interpreted, "diagnostics": package.warnings })
            );
        }
        ReportFormat::Text => {
            eprint!("{}", render(&source, &package.warnings));
            println!(
                "{}: policy `{}` version {} is valid ({} terms, {} tables, {} cases, {} warnings)\ncontent hash {}",
                source.name,
                p.manifest.id,
                p.manifest.version,
                p.manifest.terms.len(),
                p.manifest.tables.len(),
                package.cases.len(),
                package.warnings.len(),
                p.content_hash
            );
            println!("{}", how_it_runs(p));
        }
    }
    Ok(())
}

pub fn test(args: &PolicyArgs) -> anyhow::Result<()> {
    let (source, package) = load_or_report(&args.dir, args.format)?;
    let (outcomes, failed, missed) = package.run_cases_covered();
    let branches = package.branches_no_case_reaches();
    match args.format {
        ReportFormat::Json => println!(
            "{}",
            serde_json::json!({ "policy": source.name, "passed": outcomes.len() - failed, "failed": failed, "cases": outcomes, "cells_no_case_reaches": missed, "branches_no_case_reaches": branches })
        ),
        ReportFormat::Text => {
            for o in &outcomes {
                if o.passed() {
                    println!("ok     {}  {}", o.name, o.description);
                } else {
                    println!("FAILED {}  {}", o.name, o.description);
                    println!("       {:<28} {:<24} actual", "field", "expected");
                    for m in &o.mismatches {
                        println!("       {:<28} {:<24} {}", m.field, m.expected, m.actual);
                    }
                    println!("       the decision said:");
                    for line in &o.got {
                        println!("         {line}");
                    }
                }
            }
            for m in missed.iter().chain(&branches) {
                println!("warning: no case reaches {m}");
            }
            println!(
                "{}: {} passed, {failed} failed",
                source.name,
                outcomes.len() - failed
            );
        }
    }
    if failed > 0 {
        bail!(
            "{failed} case{} of `{}` failed",
            if failed == 1 { "" } else { "s" },
            source.name
        );
    }
    Ok(())
}

pub fn evaluate(args: &EvaluateArgs) -> anyhow::Result<()> {
    let (_, package) = load_or_report(&args.policy, ReportFormat::Text)?;
    let policy = &package.policy;
    let member =
        MemberId::parse(&args.member).with_context(|| format!("--member `{}`", args.member))?;
    let period = Period::parse(&args.period).context("--period")?;
    // A device's export is about the member decided, in the zone told, else the plan's.
    let zone = args
        .tz
        .clone()
        .unwrap_or_else(|| policy.manifest.timezone.name().to_owned());
    let told = super::readings_file::ExportFlags {
        // `evaluate` takes its member's part of a file about several patients.
        split_by_patient: true,
        ..super::readings_file::ExportFlags::new(&args.export, Some(&zone), Some(&args.member))
    };
    let file = super::readings_file::read_readings_file(
        &args.readings,
        None,
        None,
        incentive_engine::ingest::BadRows::Fail,
        &told,
    )?;
    let (mut by_member, name) = (file.by_member, file.source_name);
    let mut export_labs = file.labs;
    let readings = by_member.members.remove(&member).unwrap_or_else(|| {
        // Not an error (a member who never measured is decided like anyone else), but a
        // mistyped id would look just like that.
        eprintln!(
            "note: `{name}` has no readings for member `{}`",
            member.as_str()
        );
        Readings::default()
    });
    let (profile, history, labs) = match &args.history {
        None => (
            MemberProfile::new(member.clone()),
            History::default(),
            Vec::new(),
        ),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read history file `{}`", path.display()))?;
            let file = SourceFile::new(path.display().to_string(), text);
            read_member_file(&file, &member).map_err(|d| {
                let source = PolicySource {
                    name: file.name.clone(),
                    files: vec![file.clone()],
                };
                eprint!("{}", render(&source, &d));
                anyhow::anyhow!(
                    "history file `{}` has {} error(s)",
                    file.name,
                    d.errors().count()
                )
            })?
        }
    };
    // HbA1c results in the readings file (a FHIR export) join the history file's.
    let mut labs = labs;
    labs.extend(export_labs.remove(&member).unwrap_or_default());
    labs.sort_by_key(|l| l.time);
    let input = EvaluationInput {
        member: &profile,
        period,
        readings: &readings,
        labs: &labs,
        history: &history,
    };
    let decision = policy.evaluate(&input)?;
    match args.format {
        crate::cli::DecisionFormat::Json => println!("{}", decision.to_json_pretty()),
        crate::cli::DecisionFormat::Text => {
            let catalogs = &policy.catalogs;
            let locale = catalogs.for_reader(args.locale.as_deref(), profile.locale(), &[]);
            match args.view {
                crate::cli::DecisionView::Member => {
                    print!("{}", catalogs.member_view(locale, &decision).to_text());
                }
                crate::cli::DecisionView::Staff => {
                    print!(
                        "{}",
                        decision.to_text(&catalogs.explanation(locale, &decision))
                    );
                }
            }
        }
    }
    Ok(())
}
