//! Policy packages: a fuzzed `policy.toml` with the real script, a fuzzed `rules.rhai` (the Rhai
//! sandbox) with the real manifest, and a fuzzed case file with both. Diagnostics and failing
//! cases are answers; a panic, a hang or running out of memory means a check or a limit of the
//! sandbox is missing.

use crate::{MANIFEST, SCRIPT};
use chrono::{FixedOffset, TimeZone};
use incentive_engine::policy::{
    EvaluationInput, History, MemberProfile, PolicySource, SourceFile, load,
};
use incentive_engine::{
    Context, Glucose, GlucoseValue, MemberId, Period, Reading, Readings, ReadingsBuilder, Source,
};
use std::sync::OnceLock;

fn source(files: Vec<SourceFile>) -> PolicySource {
    PolicySource {
        name: "fuzz".into(),
        files,
    }
}

/// `policy::load` with a fuzzed `policy.toml` and the real tangdaifu-smbg script.
pub fn manifest(data: &[u8]) {
    let manifest = String::from_utf8_lossy(data).into_owned();
    let _ = load(&source(vec![
        SourceFile::new("policy.toml", manifest),
        SourceFile::new("rules.rhai", SCRIPT),
    ]));
}

/// A fuzzed `rules.rhai` under the real manifest, loaded (which compiles it and runs it over
/// the probe records) and, if it loads, evaluated once on a small March record.
pub fn script(data: &[u8]) {
    let script = String::from_utf8_lossy(data).into_owned();
    let Ok(package) = load(&source(vec![
        SourceFile::new("policy.toml", MANIFEST),
        SourceFile::new("rules.rhai", script),
    ])) else {
        return;
    };
    let f = fixture();
    let input = EvaluationInput {
        member: &f.member,
        period: f.period,
        readings: &f.readings,
        labs: &[],
        history: &f.history,
    };
    let _ = package.policy.evaluate(&input);
}

/// A fuzzed `cases/*.toml` in the tangdaifu-smbg package, loaded and, if the package loads,
/// run.
pub fn cases(data: &[u8]) {
    let case = String::from_utf8_lossy(data).into_owned();
    if let Ok(package) = load(&source(vec![
        SourceFile::new("policy.toml", MANIFEST),
        SourceFile::new("rules.rhai", SCRIPT),
        SourceFile::new("cases/fuzz.toml", case),
    ])) {
        let _ = package.run_cases();
    }
}

struct Fixture {
    member: MemberProfile,
    period: Period,
    readings: Readings,
    history: History,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let shanghai = FixedOffset::east_opt(8 * 3600).expect("+08:00");
        let mut builder = ReadingsBuilder::new();
        for (day, hour, mmol_l, context) in [
            (1, 7, 5.6, Context::Fasting),
            (1, 10, 7.8, Context::PostMeal),
            (2, 7, 6.4, Context::Fasting),
            (3, 7, 7.4, Context::Fasting),
            (4, 22, 9.1, Context::Bedtime),
        ] {
            let time = shanghai
                .with_ymd_and_hms(2026, 3, day, hour, 0, 0)
                .single()
                .expect("a March time");
            builder.push(Reading {
                time,
                value: GlucoseValue::Measured(Glucose::from_mmol_l(mmol_l).expect("plausible")),
                context,
                source: Source::Smbg,
            });
        }
        let mut member = MemberProfile::new(MemberId::parse("M1").expect("a member id"));
        member.age = Some(56);
        member.sex = Some("female".into());
        member.diabetes_type = Some("type2".into());
        Fixture {
            member,
            period: Period::parse("2026-03").expect("a month"),
            readings: builder.finish().readings,
            history: History::default(),
        }
    })
}
