//! The Rhai sandbox: a fuzzed `rules.rhai` under the real tangdaifu-smbg manifest, loaded (which
//! compiles it and runs it over the probe records) and, if it loads, evaluated once on a small
//! March record. Errors are answers; a panic, a hang or running out of memory means a limit of
//! the sandbox is missing.
#![no_main]

use chrono::{FixedOffset, TimeZone};
use incentive_engine::policy::{
    EvaluationInput, History, MemberProfile, PolicySource, SourceFile, load,
};
use incentive_engine::{
    Context, Glucose, GlucoseValue, MemberId, Period, Reading, Readings, ReadingsBuilder, Source,
};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const MANIFEST: &str = include_str!("../../policies/tangdaifu-smbg/policy.toml");

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

fuzz_target!(|data: &[u8]| {
    let script = String::from_utf8_lossy(data).into_owned();
    let source = PolicySource {
        name: "fuzz".into(),
        files: vec![
            SourceFile::new("policy.toml", MANIFEST),
            SourceFile::new("rules.rhai", script),
        ],
    };
    let Ok(package) = load(&source) else {
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
});
