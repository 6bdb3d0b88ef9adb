//! The sandbox's own `dedup` and `sort` with a comparer (engine/src/policy/sandbox_arrays.rs)
//! give what Rhai's built-ins give, and a script looping over them is stopped by its budget.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use incentive_engine::policy::{
    EvaluationInput, History, MemberProfile, PolicySource, SourceFile, load,
};
use incentive_engine::{MemberId, Period, Readings};

const MANIFEST: &str = r#"
id = "arrays"
version = "1"
name = "arrays"
insurer = "Example"
currency = "CNY"
timezone = "Asia/Shanghai"
period = "monthly"
effective_from = 2026-01-01

[rounding]
minor_unit = 0.01
"#;

fn source(body: &str) -> PolicySource {
    PolicySource {
        name: "arrays".into(),
        files: vec![
            SourceFile::new("policy.toml", MANIFEST),
            SourceFile::new(
                "rules.rhai",
                format!("fn decide(record, member, history) {{\n{body}\n}}\n"),
            ),
        ],
    }
}

/// The flags a script returns for one evaluation: each array printed.
fn flags(body: &str) -> Vec<String> {
    let package = load(&source(body)).unwrap_or_else(|d| panic!("{d}"));
    let member = MemberProfile::new(MemberId::parse("M1").unwrap());
    let input = EvaluationInput {
        member: &member,
        period: Period::parse("2026-03").unwrap(),
        readings: &Readings::default(),
        labs: &[],
        history: &History::default(),
    };
    package.policy.evaluate(&input).unwrap().flags
}

#[test]
fn dedup_and_sort_with_a_comparer_give_what_rhai_gives() {
    let cases = [
        // Consecutive repeats only, by `==`.
        (
            "let a = [3, 1, 1, 2, 2, 2, 3, 1]; a.dedup();",
            "[3, 1, 2, 3, 1]",
        ),
        // Items of different types are never equal.
        ("let a = [1, \"1\", 1, 1]; a.dedup();", "[1, \"1\", 1]"),
        ("let a = []; a.dedup();", "[]"),
        // By a comparer: the earlier item kept.
        (
            "let a = [1, 2, 12, 13, 4]; a.dedup(|x, y| x / 10 == y / 10);",
            "[1, 12, 4]",
        ),
        // A comparer that fails is "not equal".
        ("let a = [1, 1, 2]; a.dedup(|x, y| x.nothing);", "[1, 1, 2]"),
        (
            "let a = [5, 1, 4, 1]; a.sort(|x, y| x - y);",
            "[1, 1, 4, 5]",
        ),
        ("let a = [2, 9, 4]; a.sort_by(|x, y| y - x);", "[9, 4, 2]"),
        // `true` means "before".
        ("let a = [2, 9, 4]; a.sort(|x, y| x > y);", "[9, 4, 2]"),
        // Stable: equal keys keep their order.
        (
            "let a = [\"b1\", \"a1\", \"b2\", \"a2\"]; a.sort(|x, y| 0);",
            "[\"b1\", \"a1\", \"b2\", \"a2\"]",
        ),
        ("let a = [7]; a.sort(|x, y| x - y);", "[7]"),
    ];
    for (script, printed) in cases {
        let got = flags(&format!("{script}\n#{{ reward: 0, flags: [`${{a}}`] }}"));
        assert_eq!(got, vec![printed.to_owned()], "{script}");
    }
}

#[test]
fn a_script_sorting_or_removing_repeats_forever_is_stopped_by_its_budget() {
    for body in [
        "let a = []; a.pad(50000, 0); loop { let b = a; b.sort(|x, y| y - x); }",
        "let a = []; a.pad(50000, 0); loop { let b = a; b.dedup(|x, y| x == y); }",
        "let a = []; a.pad(50000, 0); loop { let b = a; b.dedup(); }",
    ] {
        let text = load(&source(&format!("{body}\n#{{ reward: 0 }}")))
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("eval_wall_clock_ms_max") || text.contains("eval_operations_max"),
            "{body}: {text}"
        );
    }
}

/// Rust's sort panics on a comparer that is not a total order; the sandbox catches it as the
/// script's error — and says so while it sorts, so that the program's panic hook, which reports
/// panics as bugs ("internal error … please report"), stays quiet for this one.
#[test]
fn a_comparer_that_is_not_an_order_is_the_scripts_error_and_an_expected_panic() {
    use std::sync::Mutex;
    static EXPECTED: Mutex<Vec<bool>> = Mutex::new(Vec::new());
    let this = std::thread::current().id();
    let before = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |_| {
        if std::thread::current().id() == this {
            EXPECTED
                .lock()
                .unwrap()
                .push(incentive_engine::policy::panic_is_expected());
        }
    }));
    let body = "let a = []; for i in 0..50 { a.push((i * 37) % 101); }\n\
                a.sort(|x, y| if (x + y) % 2 == 0 { -1 } else { 1 });\n#{ reward: 0 }";
    let text = load(&source(body))
        .map(|_| String::new())
        .unwrap_or_else(|d| d.to_string());
    std::panic::set_hook(before);
    assert!(text.contains("error in comparer for sorting"), "{text}");
    let expected = EXPECTED.lock().unwrap();
    assert!(
        !expected.is_empty() && expected.iter().all(|e| *e),
        "{expected:?}"
    );
    assert!(!incentive_engine::policy::panic_is_expected());
}
