//! How long past the sandbox's wall-clock limit (`eval_wall_clock_ms_max`, 250 ms) a script
//! runs before it is stopped, for loops whose single operations cost the most the other limits
//! allow. The clock is read every few operations, not every one, so one costly operation
//! times the check interval is how far a script can overrun.
//!
//!     cargo run --release -p incentive-engine --example wall_clock_overrun
//!
//! Prints a Markdown table: for each script, the median and worst time one evaluation takes to
//! be stopped over 5 runs and the worst's ratio to the limit, and the worst time `policy::load`
//! takes to refuse the script when it loops on every probe record.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a measurement"
)]

use incentive_engine::policy::{
    EvaluationInput, History, MemberProfile, PolicySource, SourceFile, load,
};
use incentive_engine::{MemberId, Period, Readings};
use std::time::Instant;

const MANIFEST: &str = r#"
id = "overrun"
version = "1"
name = "overrun"
insurer = "Example"
currency = "CNY"
timezone = "Asia/Shanghai"
period = "monthly"
effective_from = 2026-01-01

[rounding]
minor_unit = 0.01
"#;

/// Each body loops until the sandbox stops it.
const SCRIPTS: &[(&str, &str)] = &[
    (
        "counting (the cheapest operation)",
        "let n = 0; loop { n += 1; }",
    ),
    (
        "copying the largest array (199,999 items)",
        "let a = []; a.pad(199999, 0); let n = 0; loop { let b = a; n += b.len(); }",
    ),
    (
        "searching the largest array",
        "let a = []; a.pad(199999, 0); let n = 0; loop { if a.contains(1) { n += 1; } }",
    ),
    (
        "comparing two largest arrays",
        "let a = []; a.pad(199999, 0); let b = a; let n = 0; loop { if a == b { n += 1; } }",
    ),
    (
        "removing repeats from the largest array",
        "let a = []; a.pad(199999, 0); let n = 0; loop { let b = a; b.dedup(); n += b.len(); }",
    ),
    (
        "filtering the largest array with a closure",
        "let a = []; a.pad(199999, 0); let n = 0; loop { n += a.filter(|x| x > 0).len(); }",
    ),
    (
        "mapping the largest array with a built-in function",
        "let a = []; a.pad(199999, 0); let n = 0; loop { n += a.map(Fn(\"abs\")).len(); }",
    ),
    (
        "sorting the largest array",
        "let a = []; a.pad(199999, 0); let n = 0; loop { let b = a; b.sort(); n += b.len(); }",
    ),
    (
        "sorting the largest array with a closure",
        "let a = []; a.pad(199999, 0); let n = 0; loop { let b = a; b.sort(|x, y| y - x); n += b.len(); }",
    ),
    (
        "removing repeats with a closure",
        "let a = []; a.pad(199999, 0); let n = 0; loop { let b = a; b.dedup(|x, y| x == y); n += b.len(); }",
    ),
    (
        "the longest string, concatenated and cut",
        "let s = \"\"; s.pad(2000, \"x\"); let n = 0; loop { let t = s + s; n += t.len(); }",
    ),
    (
        "reading every reading of a record",
        "let n = 0; loop { n += record.readings().len(); }",
    ),
];

/// Times one call, in ms.
fn timed<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let started = Instant::now();
    let out = f();
    (started.elapsed().as_secs_f64() * 1000.0, out)
}

fn source(script: String) -> PolicySource {
    PolicySource {
        name: "overrun".into(),
        files: vec![
            SourceFile::new("policy.toml", MANIFEST),
            SourceFile::new("rules.rhai", script),
        ],
    }
}

fn worst_and_median(mut times: Vec<f64>) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    (times[times.len() - 1], times[times.len() / 2])
}

fn main() {
    const RUNS: usize = 5;
    let member = {
        let mut m = MemberProfile::new(MemberId::parse("M119").unwrap());
        // The scripts loop only for a member aged 119, whom no probe record has: the package
        // loads, and one evaluation of this member is what is timed.
        m.age = Some(119);
        m
    };
    let readings = Readings::default();
    let history = History::default();
    println!(
        "| script | one evaluation: median ms to stop | worst | worst ÷ 250 ms | loading the package (every probe loops): worst ms |"
    );
    println!("| --- | ---: | ---: | ---: | ---: |");
    for (name, body) in SCRIPTS {
        let looping = format!("fn decide(record, member, history) {{ {body} #{{ reward: 0 }} }}");
        let only_for_119 = format!(
            "fn decide(record, member, history) {{ if member.age == 119 {{ {body} }} #{{ reward: 0 }} }}"
        );
        let package = load(&source(only_for_119)).expect("loads: no probe is 119");
        let input = EvaluationInput {
            member: &member,
            period: Period::parse("2026-03").unwrap(),
            readings: &readings,
            labs: &[],
            history: &history,
        };
        let evaluations: Vec<f64> = (0..RUNS)
            .map(|_| {
                let (ms, result) = timed(|| package.policy.evaluate(&input));
                let text = result.expect_err("stopped").to_string();
                assert!(
                    text.contains("eval_wall_clock_ms_max") || text.contains("eval_operations_max"),
                    "{name}: stopped by something else: {text}"
                );
                ms
            })
            .collect();
        let loads: Vec<f64> = (0..RUNS)
            .map(|_| {
                let (ms, result) = timed(|| load(&source(looping.clone())));
                assert!(result.is_err(), "{name}: an endless loop loaded");
                ms
            })
            .collect();
        let (worst, median) = worst_and_median(evaluations);
        let (load_worst, _) = worst_and_median(loads);
        println!(
            "| {name} | {median:.0} | {worst:.0} | {:.2} | {load_worst:.0} |",
            worst / 250.0
        );
    }
}
