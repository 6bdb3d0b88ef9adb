//! Insurer-authored policies: packages, the Rhai sandbox, evaluation and decisions.
//!
//! A package is `policy.toml` (terms, tables, caps, rounding), `rules.rhai` (a function
//! `decide(record, member, history)` returning a decision map) and `cases/` (example records
//! with the decision each must produce). [`load`] checks all of it and returns every problem
//! at once; the resulting [`Policy`] evaluates members on any thread without re-compiling.

pub mod attributes;
mod branches;
mod caps;
pub mod cases;
pub mod compiled;
pub mod decision;
pub mod diagnostics;
pub mod evaluate;
pub mod explanation;
pub mod host;
mod input_hash;
pub mod inputs;
pub mod kept;
pub mod manifest;
pub mod probes;
mod properties;
pub mod record_view;
pub mod reference;
mod sandbox_arrays;
pub mod script;
mod sites;
pub mod tables;
pub mod terms;
mod toml_reader;

pub use cases::{Case, CaseOutcome, Expectation, Mismatch};
pub use compiled::{Interpreted, Path};
pub use decision::{Decision, ENGINE_VERSION, Unrecorded};
pub use diagnostics::{Diagnostic, Diagnostics, Severity, SourceFile};
pub use evaluate::{EvaluationError, EvaluationInput, Policy, content_hash};
pub use explanation::{Line, Message};
pub use inputs::{History, HistorySummary, MemberProfile, PeriodInputs, PriorOutcome};
pub use manifest::Manifest;
pub use sandbox_arrays::panic_is_expected;

use std::sync::Arc;

/// The files of a package, read by the caller (the engine does no I/O).
#[derive(Clone, Debug, Default)]
pub struct PolicySource {
    /// How messages name the package, usually its directory.
    pub name: String,
    /// Every file, named relative to the package: `policy.toml`, `rules.rhai`, `cases/…`.
    pub files: Vec<SourceFile>,
}

impl PolicySource {
    pub fn file(&self, name: &str) -> Option<&SourceFile> {
        self.files.iter().find(|f| f.name == name)
    }
}

/// A package that loaded: the policy, its cases, and any warnings.
#[derive(Clone, Debug)]
pub struct Package {
    pub policy: Policy,
    pub cases: Vec<Case>,
    pub warnings: Diagnostics,
    /// rules.rhai as written, for the branches its cases reach.
    script: SourceFile,
}

impl Package {
    /// Runs every case of the package against its policy, in order, and counts the failures.
    pub fn run_cases(&self) -> (Vec<cases::CaseOutcome>, usize) {
        let outcomes: Vec<_> = self.cases.iter().map(|c| c.run(&self.policy)).collect();
        let failed = outcomes.iter().filter(|o| !o.passed()).count();
        (outcomes, failed)
    }

    /// [`Package::run_cases`], and each table cell no case's lookup reached, in words
    /// ("table `rebate`: step 4 (90 and above)"): a step no case reaches is a threshold nothing
    /// shows the plan pays as the contract says.
    pub fn run_cases_covered(&self) -> (Vec<cases::CaseOutcome>, usize, Vec<String>) {
        let ((outcomes, failed), hits) = tables::recording_hits(|| self.run_cases());
        let missed = self
            .policy
            .manifest
            .tables
            .iter()
            .flat_map(|t| {
                t.cells_missed(&hits)
                    .into_iter()
                    .map(move |c| format!("table `{}`: {c}", t.name))
            })
            .collect();
        (outcomes, failed, missed)
    }

    /// Each branch of the script (an `if`'s body, its `else`, or its condition false where it
    /// has no `else`) no case reaches, in words with its place ("rules.rhai:12:5: the `else`
    /// of this `if`"): a rule nothing shows the plan applies as the contract says.
    pub fn branches_no_case_reaches(&self) -> Vec<String> {
        let (copy, branches) = branches::instrument(&self.script, &self.policy.script.ast);
        let Some(ast) = script::compile_copy(&copy, &self.policy.manifest) else {
            return Vec::new();
        };
        let counting = Policy {
            script: compiled::Script::compile(ast),
            ..self.policy.clone()
        };
        let ((), reached) = branches::recording(|| {
            for case in &self.cases {
                case.run(&counting);
            }
        });
        branches
            .iter()
            .enumerate()
            .filter(|(i, _)| !reached.contains(&rhai::INT::try_from(*i).unwrap_or(rhai::INT::MAX)))
            .map(|(_, b)| b.to_string())
            .collect()
    }
}

/// Loads and checks a package: manifest, script (compiled once), cases, and a run of the
/// script over the probe records so type errors surface now rather than on a member.
pub fn load(source: &PolicySource) -> Result<Package, Diagnostics> {
    let mut diags = Diagnostics::new();
    let missing = SourceFile::new("policy.toml", "");
    let manifest_file = source.file("policy.toml");
    let script_file = source.file("rules.rhai");
    for (name, found) in [
        ("policy.toml", manifest_file.is_some()),
        ("rules.rhai", script_file.is_some()),
    ] {
        if !found {
            diags.error(
                "package",
                &SourceFile::new(name, ""),
                0..0,
                format!("package `{}` has no {name}", source.name),
            );
        }
    }
    let manifest = manifest_file.and_then(|f| manifest::read_manifest(f, &mut diags));
    let compiled = script_file.and_then(|f| {
        let with_file = manifest.as_ref().zip(manifest_file);
        script::compile(f, with_file, &mut diags)
    });
    let mut cases = Vec::new();
    for f in source
        .files
        .iter()
        .filter(|f| f.name.starts_with("cases/") && f.name.ends_with(".toml"))
    {
        if let Some(case) = cases::read_case(f, &source.files, &mut diags) {
            cases.push(case);
        }
    }
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    let (Some(manifest), Some((ast, sites)), Some(script_file)) = (manifest, compiled, script_file)
    else {
        return Err(diags.sorted());
    };
    let policy = Policy {
        content_hash: evaluate::content_hash(
            &manifest_file.unwrap_or(&missing).text,
            &script_file.text,
        ),
        catalogs: Arc::new(crate::locale::Catalogs::read(
            &source.files,
            &manifest.currency,
            manifest.rounding.places(),
            &mut diags,
        )),
        manifest,
        script: compiled::Script::compile(ast),
        sites,
    };
    policy
        .catalogs
        .check_reasons(script_file, &policy.sites.reasons, &mut diags);
    for (locale, id) in policy.catalogs.gaps() {
        let file = source
            .file(&format!("locales/{locale}.ftl"))
            .cloned()
            .unwrap_or_else(|| SourceFile::new(format!("locales/{locale}.ftl"), ""));
        diags
            .warning(
                "locale-message",
                &file,
                0..0,
                format!("locales/{locale}.ftl has no message `{id}`, which another locale has: members shown {locale} read it in {}", policy.catalogs.default_locale()),
            )
            .help(format!("add `{id} = …` to locales/{locale}.ftl"));
    }
    probes::check(&policy, script_file, &mut diags);
    if cases.is_empty() && !diags.has_errors() {
        diags.warning(
            "no-cases",
            &SourceFile::new("cases/", ""),
            0..0,
            format!(
                "package `{}` has no cases: nothing shows what it decides",
                source.name
            ),
        );
    }
    if diags.has_errors() {
        return Err(diags.sorted());
    }
    Ok(Package {
        policy,
        cases,
        warnings: diags.sorted(),
        script: script_file.clone(),
    })
}
