//! The compiled path against the interpreter, the reference: every package's cases and probes,
//! scripts of every construct the compiler takes, and random records through every package,
//! decided on both paths — the same decision to the byte, or the same error.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use chrono::{Duration, FixedOffset, NaiveDate, TimeZone};
use incentive_engine::policy::compiled::fallbacks_on_this_thread;
use incentive_engine::policy::probes::probes;
use incentive_engine::policy::{
    EvaluationInput, History, MemberProfile, Package, Path, Policy, PolicySource, PriorOutcome,
    SourceFile, load,
};
use incentive_engine::{
    BuiltReadings, Context, Glucose, GlucoseValue, Hba1c, LabResult, MemberId, Period, Reading,
    Readings, Source,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

/// A decision as bytes, or the error as its text: what must be the same on both paths.
fn outcome(policy: &Policy, input: &EvaluationInput<'_>, path: Path) -> String {
    match policy.evaluate_on(input, path) {
        Ok(d) => serde_json::to_string(&d).unwrap(),
        Err(e) => format!("error: {e}"),
    }
}

fn same_on_both_paths(policy: &Policy, input: &EvaluationInput<'_>, what: &str) -> String {
    let interpreted = outcome(policy, input, Path::Interpreted);
    let compiled = outcome(policy, input, Path::Compiled);
    assert_eq!(compiled, interpreted, "{}: {what}", policy.id());
    compiled
}

/// The unrecorded evaluation (what simulations decide with) gives what `evaluate` gives — the
/// same decision, or the same error — but for an empty input hash.
fn same_unrecorded(policy: &Policy, input: &EvaluationInput<'_>, what: &str) {
    let recorded = policy.evaluate(input).map(|mut d| {
        assert!(
            d.input_hash.starts_with("sha256:"),
            "{what}: a recorded hash"
        );
        d.input_hash.clear();
        d
    });
    let unrecorded = policy.evaluate_unrecorded(input).map(|d| (*d).clone());
    assert_eq!(unrecorded, recorded, "{}: {what}: unrecorded", policy.id());
}

fn packages() -> Vec<Package> {
    let mut dirs = common::policy_dirs();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/policies");
    dirs.extend(
        std::fs::read_dir(fixtures)
            .unwrap()
            .map(|e| e.unwrap().path()),
    );
    dirs.sort();
    // A fixture that does not load has nothing to evaluate.
    dirs.iter()
        .filter_map(|d| load(&common::package(d)).ok())
        .collect()
}

#[test]
fn every_package_decides_its_cases_and_probes_the_same_on_both_paths_and_unrecorded() {
    let packages = packages();
    assert!(packages.len() >= 7, "the reference packages load");
    let mut evaluations = 0;
    for package in &packages {
        let policy = &package.policy;
        for case in &package.cases {
            same_on_both_paths(policy, &case.input(), &case.name);
            same_unrecorded(policy, &case.input(), &case.name);
            evaluations += 1;
        }
        for probe in probes(policy) {
            same_on_both_paths(policy, &probe.input(), probe.description);
            same_unrecorded(policy, &probe.input(), probe.description);
            evaluations += 1;
        }
    }
    assert!(evaluations > 100, "{evaluations} evaluations");
}

#[test]
fn the_reference_packages_are_compiled_except_where_policy_check_says_why() {
    let mut interpreted = Vec::new();
    for dir in common::policy_dirs() {
        let package = load(&common::package(&dir)).unwrap();
        if let Some(why) = package.policy.interpreted() {
            interpreted.push(format!("{}: {}", package.policy.id(), why.why));
        }
    }
    assert_eq!(
        interpreted,
        ["annual-fasting-renewal: a closure (`|x| …`) is not compiled"]
    );
}

const MANIFEST: &str = r#"
id = "construct"
version = "1.0.0"
name = "A construct, on both paths"
insurer = "Test"
period = "monthly"
currency = "CNY"
timezone = "Asia/Shanghai"
effective_from = 2026-01-01

[terms]
one = { type = "decimal", value = 1.0, description = "a decimal one" }
premium = { type = "money", value = 100.00, description = "a premium" }

[rounding]
minor_unit = 0.01
"#;

const MESSAGES: &str = "gate = Gate\nshare = Share\n";

fn package_of(script: &str) -> Package {
    let source = PolicySource {
        name: "construct".into(),
        files: vec![
            SourceFile::new("policy.toml", MANIFEST),
            SourceFile::new("rules.rhai", script),
            SourceFile::new("locales/en.ftl", MESSAGES),
        ],
    };
    load(&source).unwrap_or_else(|d| panic!("{script}\n{d}"))
}

fn smbg_readings(n: usize) -> Readings {
    let offset = FixedOffset::east_opt(8 * 3600).unwrap();
    let start = offset.with_ymd_and_hms(2026, 3, 1, 7, 0, 0).unwrap();
    let built: BuiltReadings = (0..n)
        .map(|i| Reading {
            time: start + Duration::hours(i as i64 * 13),
            value: GlucoseValue::Measured(
                Glucose::from_mg_dl(90.0 + (i % 7) as f64 * 20.0).unwrap(),
            ),
            context: if i % 2 == 0 {
                Context::Fasting
            } else {
                Context::PostMeal
            },
            source: Source::Smbg,
        })
        .collect();
    built.readings
}

/// Each body is the inside of `decide`; what it returns — a decision or an error — must be the
/// same on both paths, and the script must be one the compiler takes.
#[test]
fn every_construct_the_compiler_takes_decides_as_the_interpreter_does() {
    let bodies = [
        // Arithmetic on integers and decimals, mixed as Rhai mixes them.
        ("#{ reward: 7 / 2 + 7 % 3 - 1 * 2 }", false),
        ("#{ reward: terms.premium * 3 / 7 }", false),
        ("#{ reward: terms.premium - 1 + terms.one * 2 }", false),
        ("let x = 2; x *= 3; x -= 1; x /= 2; #{ reward: x }", false),
        ("#{ reward: -(-terms.one) + (10 - 3) }", false),
        (
            "#{ reward: (terms.premium / 3).round(2) + (terms.premium / 7).floor() + (terms.premium / 9).ceiling() + (0.0 - terms.one).abs() }",
            false,
        ),
        (
            "#{ reward: 0, points: (terms.premium / 7).to_int() }",
            false,
        ),
        // Failures: the interpreter's words, at its place.
        ("#{ reward: 1 / 0 }", true),
        ("#{ reward: terms.premium / 0 }", true),
        ("let big = 9223372036854775807; #{ reward: big + 1 }", true),
        ("#{ reward: 1, qualified: 1 }", false),
        ("if record.n_readings { } #{ reward: 0 }", false),
        ("#{ reward: (0.0 - terms.one).round(-1) }", true),
        ("#{ reward: helper(\"ten\") }", false),
        // Comparisons, `()` and logic.
        (
            "#{ reward: 0, qualified: 1 < terms.one || 2 >= 2 && !(3 == 3.0) }",
            false,
        ),
        (
            "#{ reward: 0, qualified: () == (), flags: [`${() != ()}`, `${() < 1}`, `${() != 1}`, `${\"a\" < \"b\"}`, `${\"a\" == ()}`] }",
            false,
        ),
        (
            "let m = record.fasting_in_target_percent; #{ reward: 0, qualified: m == () || m > 50 }",
            false,
        ),
        ("let x = () ?? 3; #{ reward: x }", false),
        ("#{ reward: 0, qualified: true != false }", false),
        // Text.
        (
            "#{ reward: 0, tier: \"a\" + \"b\" + `${terms.one}|${2}|${true}|${()}|${'c'}` }",
            false,
        ),
        (
            "#{ reward: 0, tier: `${record.period} has ${record.n_readings} readings` }",
            false,
        ),
        ("let s = \"x\"; s += \"y\"; #{ reward: 0, tier: s }", false),
        (
            "let s = \"x\"; for i in 0..13 { s += s; } #{ reward: 0, tier: s }",
            true,
        ),
        // Arrays and maps.
        (
            "let a = [1, 2, 3]; a.push(4); a += [5]; #{ reward: a[-1] + a[0] + a.len() }",
            false,
        ),
        ("let a = [1]; #{ reward: 0, flags: [`${a}`] }", true),
        ("let a = [1]; #{ reward: a[3] }", true),
        (
            "let m = #{ b: 1, a: 2 }; m.c = 3; m.a += 10; m += #{ d: 4 }; let n = m + #{ e: 5 }; #{ reward: n.a + n[\"c\"] + n.len() }",
            false,
        ),
        ("let m = #{ a: 1 }; #{ reward: m.b }", true),
        (
            "let a = []; for i in 0..300 { a.push(#{ i: i }); } #{ reward: a.len() }",
            true,
        ),
        // Control flow.
        (
            "let t = 0; for x in [1, 2, 3, 4, 5, 6] { if x == 2 { continue; } if x == 5 { break; } t += x; } #{ reward: t }",
            false,
        ),
        (
            "let t = 0; for (x, i) in [10, 20] { t += x * i; } for i in 1..=3 { t += i; } #{ reward: t }",
            false,
        ),
        (
            "let n = 0; while n < 10 { n += 3; } let m = 0; loop { m += 1; if m > 4 { break; } } let k = 0; do { k += 2; } until k >= 5; #{ reward: n + m + k }",
            false,
        ),
        (
            "let x = if record.n_readings > 5 { 10 } else { 20 }; let y = { let z = 2; z * 3 }; #{ reward: x + y }",
            false,
        ),
        ("let x = 1; { let x = 2; } #{ reward: x }", false),
        // A variable read once in what a function returns is taken; twice, copied.
        (
            "let a = [7]; let b = a; #{ reward: a[0], points: a.len() + b.len() }",
            false,
        ),
        (
            "let a = [7]; if a.len() > 0 { return #{ reward: a[0] + a[-1], points: a.len() }; } #{ reward: 0 }",
            false,
        ),
        ("let a = [7]; #{ reward: helper(a)[0] + a.len() }", false),
        // A `.` chain's method arguments are evaluated before what the chain starts from,
        // which they may assign.
        (
            "let x = terms.premium / 7; let y = x.round({ x = 1.0; 2 }); #{ reward: y + x }",
            false,
        ),
        (
            "let m = #{ a: terms.premium / 7 }; let y = m.a.round({ m = #{ a: 1.5 }; 0 }); #{ reward: y + m.a }",
            false,
        ),
        (
            "let x = terms.premium / 7; let y = helper(x).round({ x = 1.0; 2 }); #{ reward: y + x }",
            false,
        ),
        (
            "let m = #{ a: terms.premium / 7 }; let n = m; #{ reward: m.a.round(1) + n.a.floor() }",
            false,
        ),
        // An operator's left side is read before its right, which may assign it.
        (
            "let x = terms.one; let y = x + { x = 5; 1 }; let z = { x = 7; 1 } + x; #{ reward: y * 10 + z + x }",
            false,
        ),
        ("loop { } #{ reward: 0 }", true),
        ("throw \"no\";", true),
        // The record, the member, the history and tables.
        (
            "#{ reward: 0, points: record.readings_spaced(60) + record.days_with_context(\"fasting\") + record.longest_run_of_days_above(140) + record.longest_run_of_days_below(100.5), flags: [`${record.percent_in_range(70, 180)}`, `${record.percent_in_range(\"fasting\", 70.0, 130.0)}`, `${record.percent_below(100)}`, `${record.percent_above(150.5)}`] }",
            false,
        ),
        (
            "#{ reward: 0, flags: [`${record.percent_in_range(70, 180.0)}`] }",
            true,
        ),
        (
            "#{ reward: 0, flags: [`${record.hba1c_max_percent(365)}`, `${record.hba1c_earliest_percent(365)}`, `${record.hba1c_count(365)}`, `${record.period_days}`, `${record.mean_mg_dl}`, `${record.cv_percent}`] }",
            false,
        ),
        (
            "#{ reward: 0, flags: [`${member.id}`, `${member.age}`, `${member.sex}`, `${member.days_enrolled}`, `${member.enrolled_on}`, `${member.insulin}`] }",
            false,
        ),
        (
            "#{ reward: 0, flags: [`${history.streak}`, `${history.previous_tier}`, `${history.payouts_this_year}`, `${history.qualified_last_period}`, `${history.points_last_year}`, `${history.premium_loading_percent}`] }",
            false,
        ),
        (
            "#{ reward: 0, flags: [`${helper(member).not_declared}`] }",
            true,
        ),
        (
            "#{ reward: 0, flags: [`${helper(record).not_a_metric}`] }",
            true,
        ),
        ("#{ reward: 0, points: record.months().len() }", false),
        // Messages.
        (
            "#{ reward: 0, reasons: [reason(\"gate\"), reason(\"share\", #{ z: 1, a: terms.one, m: \"t\", b: true }), \"plain\"] }",
            false,
        ),
        (
            "let args = #{ n: 3 }; args += #{ k: record.n_readings }; #{ reward: 0, reasons: [reason(\"gate\", args)] }",
            false,
        ),
        (
            "#{ reward: 0, reasons: [reason(helper(\"bad id!\"))] }",
            true,
        ),
        (
            "#{ reward: 0, reasons: [reason(\"gate\", #{ a: () })] }",
            true,
        ),
        (
            "#{ reward: 0, reasons: [reason(\"gate\", #{ a: [1] })] }",
            true,
        ),
        (
            "let long = \"x\"; for i in 0..11 { long += long; } #{ reward: 0, reasons: [reason(\"gate\", #{ a: long })] }",
            false,
        ),
    ];
    let readings = smbg_readings(40);
    let mut member = test_member(61);
    member.enrolled_on = NaiveDate::from_ymd_opt(2025, 6, 1);
    let history = History {
        outcomes: vec![PriorOutcome {
            period: Period::parse("2026-02").unwrap(),
            reward: Decimal::new(3000, 2),
            points: 12,
            qualified: true,
            tier: Some("gold".into()),
            premium_adjustment_percent: Decimal::ZERO,
            metrics: std::collections::BTreeMap::new(),
        }],
        ..History::default()
    };
    let labs = [LabResult {
        time: FixedOffset::east_opt(8 * 3600)
            .unwrap()
            .with_ymd_and_hms(2026, 1, 10, 9, 0, 0)
            .unwrap(),
        hba1c: Hba1c::from_percent(Decimal::new(68, 1)).unwrap(),
    }];
    let mut refused = Vec::new();
    for (body, falls_back) in bodies {
        let package = package_of(&guarded("fn helper(x) { x }", body));
        if let Some(why) = package.policy.interpreted() {
            refused.push(format!("{body}: {}", why.why));
            continue;
        }
        for readings in [&readings, &Readings::default()] {
            let input = EvaluationInput {
                member: &member,
                period: Period::parse("2026-03").unwrap(),
                readings,
                labs: &labs,
                history: &history,
            };
            let before = fallbacks_on_this_thread();
            same_on_both_paths(&package.policy, &input, body);
            // The interpreter's run counts none; the compiled run one when it handed over.
            let handed_over = fallbacks_on_this_thread() - before;
            if !readings.is_empty() {
                assert_eq!(
                    handed_over == 1,
                    falls_back,
                    "{body}: handed to the interpreter {handed_over} times"
                );
            }
        }
    }
    assert!(refused.is_empty(), "not compiled:\n{}", refused.join("\n"));
}

#[test]
fn a_construct_outside_the_compiled_subset_runs_the_whole_script_on_the_interpreter() {
    for (body, why) in [
        (
            "let a = [3, 1]; a.sort(); #{ reward: a[0] }",
            "the method `sort` is not compiled",
        ),
        (
            "switch record.n_readings { 1 => (), _ => () } #{ reward: 0 }",
            "`switch` is not compiled",
        ),
        (
            "let f = |x| x + 1; #{ reward: f.call(1) }",
            "a closure (`|x| …`) is not compiled",
        ),
        (
            "#{ reward: max(record.n_readings, 2) }",
            "the function `max` is not compiled",
        ),
    ] {
        let package = package_of(&format!("fn decide(record, member, history) {{ {body} }}"));
        let interpreted = package.policy.interpreted().expect(body);
        assert_eq!(interpreted.why, why, "{body}");
        assert!(interpreted.at.is_some(), "{body}: a place");
        let member = MemberProfile::new(MemberId::parse("M-1").unwrap());
        let input = EvaluationInput {
            member: &member,
            period: Period::parse("2026-03").unwrap(),
            readings: &Readings::default(),
            labs: &[],
            history: &History::default(),
        };
        let decided = same_on_both_paths(&package.policy, &input, body);
        assert!(decided.starts_with('{'), "{body}: {decided}");
    }
}

/// `decide` guarded so that only the test's member reaches `body`: the probes a package must
/// pass to load would meet its failures first.
fn guarded(functions: &str, body: &str) -> String {
    format!(
        "{functions}\nfn decide(record, member, history) {{\n    if member.id != \"construct-member\" {{ return #{{ reward: 0 }}; }}\n    {body}\n}}\n"
    )
}

fn test_member(age: u32) -> MemberProfile {
    let mut member = MemberProfile::new(MemberId::parse("construct-member").unwrap());
    member.age = Some(age);
    member
}

#[test]
fn calls_nested_past_half_the_call_limit_go_to_the_interpreter_which_allows_or_stops_them() {
    let package = package_of(&guarded(
        "fn down(n) { if n == 0 { 0 } else { 1 + down(n - 1) } }",
        "#{ reward: 0, points: down(member.age) }",
    ));
    assert_eq!(package.policy.interpreted(), None);
    // Depth 5 the compiled path decides; 20 (past half of call_levels_max, 32) it hands over
    // and the interpreter decides; 40 the interpreter refuses.
    for (depth, handed_over, decided) in [(5, 0, true), (20, 1, true), (40, 1, false)] {
        let member = test_member(depth);
        let input = EvaluationInput {
            member: &member,
            period: Period::parse("2026-03").unwrap(),
            readings: &Readings::default(),
            labs: &[],
            history: &History::default(),
        };
        let before = fallbacks_on_this_thread();
        let compiled = outcome(&package.policy, &input, Path::Compiled);
        assert_eq!(
            fallbacks_on_this_thread() - before,
            handed_over,
            "depth {depth}"
        );
        assert_eq!(
            compiled,
            outcome(&package.policy, &input, Path::Interpreted)
        );
        assert_eq!(
            compiled.starts_with('{'),
            decided,
            "depth {depth}: {compiled}"
        );
    }
}

#[test]
fn a_script_of_more_variables_than_the_compiled_path_holds_runs_on_the_interpreter() {
    let lets: String = (0..70).map(|i| format!("let v{i} = {i};\n")).collect();
    let package = package_of(&guarded("", &format!("{lets}#{{ reward: v69 }}")));
    let interpreted = package.policy.interpreted().expect("refused");
    assert_eq!(
        interpreted.why,
        "the script's functions hold more than 64 variables is not compiled"
    );
    let member = test_member(50);
    let input = EvaluationInput {
        member: &member,
        period: Period::parse("2026-03").unwrap(),
        readings: &Readings::default(),
        labs: &[],
        history: &History::default(),
    };
    let decided = same_on_both_paths(&package.policy, &input, "70 variables");
    assert!(decided.contains(r#""reward":"69.00""#), "{decided}");
}

#[test]
fn a_compiled_script_out_of_time_is_stopped_on_the_compiled_path_with_the_sandbox_message() {
    let package = package_of(&guarded(
        "",
        "let n = 0; for i in 0..60000 { n += record.longest_run_of_days_above(100); } #{ reward: 0, points: n }",
    ));
    assert_eq!(package.policy.interpreted(), None);
    // A sensor's month: a reading every 5 minutes, each call of the method a pass over them.
    let offset = FixedOffset::east_opt(8 * 3600).unwrap();
    let start = offset.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    let built: BuiltReadings = (0..31 * 288)
        .map(|i| Reading {
            time: start + Duration::minutes(5 * i64::from(i)),
            value: GlucoseValue::Measured(Glucose::from_mg_dl(150.0).unwrap()),
            context: Context::Unknown,
            source: Source::Cgm,
        })
        .collect();
    let member = test_member(50);
    let input = EvaluationInput {
        member: &member,
        period: Period::parse("2026-03").unwrap(),
        readings: &built.readings,
        labs: &[],
        history: &History::default(),
    };
    let before = fallbacks_on_this_thread();
    let error = package
        .policy
        .evaluate_on(&input, Path::Compiled)
        .expect_err("out of time");
    assert_eq!(
        fallbacks_on_this_thread(),
        before,
        "not handed over: {error}"
    );
    assert!(
        error.to_string().contains("(eval_wall_clock_ms_max)"),
        "{error}"
    );
}

/// A member-month of random finger-stick readings, labs, history and profile.
#[derive(Clone, Debug)]
struct Record {
    readings: Vec<(u32, u32, u8)>,
    labs: Vec<(u32, u32)>,
    age: Option<u8>,
    enrolled_days_before: Option<u16>,
    prior: Vec<(u8, i64, bool, Option<u8>)>,
}

fn record() -> impl Strategy<Value = Record> {
    (
        prop::collection::btree_map(0_u32..(92 * 24 * 60), (0_u32..6_000, 0_u8..4), 0..200),
        prop::collection::vec((0_u32..400, 40_u32..140), 0..4),
        prop::option::of(0_u8..100),
        prop::option::of(0_u16..800),
        prop::collection::vec(
            (
                1_u8..12,
                0_i64..5_000,
                any::<bool>(),
                prop::option::of(0_u8..3),
            ),
            0..14,
        ),
    )
        .prop_map(|(readings, labs, age, enrolled, prior)| Record {
            readings: readings.into_iter().map(|(t, (v, c))| (t, v, c)).collect(),
            labs,
            age,
            enrolled_days_before: enrolled,
            prior,
        })
}

fn build(r: &Record) -> (Readings, Vec<LabResult>, MemberProfile, History) {
    let offset = FixedOffset::east_opt(8 * 3600).unwrap();
    let start = offset.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let built: BuiltReadings = r
        .readings
        .iter()
        .map(|&(minutes, tenths, context)| Reading {
            time: start + Duration::minutes(i64::from(minutes)),
            value: match tenths {
                0 => GlucoseValue::Low,
                1 => GlucoseValue::High,
                t => GlucoseValue::Measured(
                    Glucose::from_mg_dl((f64::from(t) / 10.0).max(20.0)).unwrap(),
                ),
            },
            context: [
                Context::Fasting,
                Context::PostMeal,
                Context::Unknown,
                Context::Bedtime,
            ][usize::from(context)],
            source: if r.readings.len() > 100 {
                Source::Cgm
            } else {
                Source::Smbg
            },
        })
        .collect();
    let labs = r
        .labs
        .iter()
        .map(|&(days, tenths)| LabResult {
            time: start - Duration::days(i64::from(days)) + Duration::days(80),
            hba1c: Hba1c::from_percent(Decimal::new(i64::from(tenths), 1)).unwrap(),
        })
        .collect();
    let mut member = MemberProfile::new(MemberId::parse("M-7").unwrap());
    member.age = r.age.map(u32::from);
    member.enrolled_on = r
        .enrolled_days_before
        .map(|d| NaiveDate::from_ymd_opt(2026, 3, 1).unwrap() - Duration::days(i64::from(d)));
    let tiers = ["gold", "silver", "bronze"];
    let history = History {
        outcomes: r
            .prior
            .iter()
            .map(|&(month, cents, qualified, tier)| PriorOutcome {
                period: Period::parse(&format!("2025-{month:02}")).unwrap(),
                reward: Decimal::new(cents, 2),
                points: cents / 10,
                qualified,
                tier: tier.map(|t| tiers[usize::from(t)].to_owned()),
                premium_adjustment_percent: Decimal::ZERO,
                metrics: std::collections::BTreeMap::new(),
            })
            .collect(),
        ..History::default()
    };
    (built.readings, labs, member, history)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_records_decide_the_same_on_both_paths_and_unrecorded_in_every_package(r in record()) {
        let (readings, labs, member, history) = build(&r);
        for dir in common::policy_dirs() {
            let package = load(&common::package(&dir)).unwrap();
            let policy = &package.policy;
            let first = policy.manifest.effective_from;
            let period = match policy.manifest.period {
                incentive_engine::period::PeriodKind::Monthly => Period::parse("2026-03"),
                incentive_engine::period::PeriodKind::Quarterly => Period::parse("2026-Q1"),
                incentive_engine::period::PeriodKind::Annual => Period::parse("2026"),
            }
            .unwrap();
            let _ = first;
            let input = EvaluationInput {
                member: &member,
                period,
                readings: &readings,
                labs: &labs,
                history: &history,
            };
            same_on_both_paths(policy, &input, "a random record");
            same_unrecorded(policy, &input, "a random record");
        }
    }
}
