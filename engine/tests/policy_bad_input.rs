//! Every kind of bad policy input an author can write stops with a message that names the
//! file, the line and the limit hit. Each fixture under `fixtures/policies/` is a package and
//! an `expect.txt` whose every line must appear in the diagnostics.

mod common;

use incentive_engine::policy::load;
use std::path::Path;

#[test]
fn every_bad_policy_fixture_is_refused_with_the_expected_diagnostics() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/policies");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 25, "fixtures went missing: {}", dirs.len());
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let expect = std::fs::read_to_string(dir.join("expect.txt")).unwrap();
        match load(&common::package(dir)) {
            Ok(_) => failures.push(format!("{name}: loaded, but should have been refused")),
            Err(diags) => {
                assert!(diags.has_errors(), "{name}: refused without an error");
                let text = diags.to_string();
                for want in expect.lines().filter(|l| !l.trim().is_empty()) {
                    if !text.contains(want) {
                        failures.push(format!("{name}: missing `{want}` in:\n{text}"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_script_larger_than_its_limit_is_refused_before_it_is_parsed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/policies/negative-reward");
    let mut source = common::package(&dir);
    let script = source
        .files
        .iter_mut()
        .find(|f| f.name == "rules.rhai")
        .unwrap();
    script.text = format!("{}\n{}", "// padding\n".repeat(30_000), script.text);
    let diags = load(&source).unwrap_err();
    let text = diags.to_string();
    assert!(
        text.contains("rules.rhai:1:1: error: rules.rhai is 330")
            && text.contains("more than script_bytes_max (262144)"),
        "{text}"
    );
}

/// Found with `fuzz/fuzz_targets/policy_script.rs` (`fuzz/corpus/policy_script/
/// regression-tan-pi-half`): rust_decimal's `tan` panics where the tangent is infinite, and
/// Rhai's math package called it unchecked.
#[test]
fn a_tangent_where_it_is_infinite_is_an_arithmetic_error_not_a_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/tangdaifu-smbg");
    let mut source = common::package(&dir);
    source.files.retain(|f| f.name == "policy.toml");
    source.files.push(incentive_engine::policy::SourceFile::new(
        "rules.rhai",
        "fn decide(record, member, history) {\n    let t = tan(PI() / 2);\n    #{ reward: 0 }\n}\n",
    ));
    let text = load(&source).unwrap_err().to_string();
    assert!(
        text.contains("rules.rhai:2:")
            && text.contains("arithmetic error: tan(")
            && text.contains("is undefined or too large for a decimal"),
        "{text}"
    );
}

/// A reference package (manifest, script and catalogs) with `cases` as its only cases.
fn package_with_cases(
    name: &str,
    cases: &[(&str, String)],
) -> incentive_engine::policy::PolicySource {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../policies")
        .join(name);
    let mut source = common::package(&dir);
    source.files.retain(|f| !f.name.starts_with("cases/"));
    for (case, text) in cases {
        source.files.push(incentive_engine::policy::SourceFile::new(
            format!("cases/{case}.toml"),
            text.as_str(),
        ));
    }
    source
}

/// Found with `fuzz/fuzz_targets/policy_cases.rs` (`fuzz/corpus/policy_cases/regression-*`):
/// `History::as_of` summed a case's earlier rewards and points with `+`, and the caps
/// subtracted what was paid with `-`; a history beyond what a decimal or an integer holds
/// panicked instead of deciding.
#[test]
fn a_case_history_beyond_the_largest_number_is_decided_not_a_panic() {
    let full_rebate = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../policies/tangdaifu-smbg/cases/the-yearly-cap-holds.toml"),
    )
    .unwrap();
    let (record, _) = full_rebate.split_once("[history]").unwrap();
    let max = "79228162514264337593543950335";
    let case = |history: &str, expect: &str| {
        format!("{record}[history]\n{history}\n\n[expect]\n{expect}\n")
    };
    let source = package_with_cases(
        "tangdaifu-smbg",
        &[
            (
                "rewards-past-a-decimal",
                case(
                    &format!(
                        "outcomes = [{{ period = \"2026-01\", reward = {max} }}, {{ period = \"2026-02\", reward = {max} }}]"
                    ),
                    "reward = 0",
                ),
            ),
            (
                "negative-rewards-past-a-decimal",
                case(
                    &format!(
                        "outcomes = [{{ period = \"2026-01\", reward = -{max} }}, {{ period = \"2026-02\", reward = -{max} }}]"
                    ),
                    "reward = 30.00",
                ),
            ),
            (
                "points-past-an-integer",
                case(
                    "outcomes = [{ period = \"2026-01\", points = 9223372036854775807 }, { period = \"2026-02\", points = 9223372036854775807 }]",
                    "reward = 30.00",
                ),
            ),
            (
                "pool-paid-below-a-decimal",
                case(&format!("pool_paid = -{max}"), "reward = 30.00"),
            ),
        ],
    );
    let package = load(&source).unwrap();
    let (outcomes, failed) = package.run_cases();
    assert_eq!(outcomes.len(), 4);
    assert_eq!(failed, 0, "{outcomes:#?}");
}

/// Found with the same target, on vitality-status (whose script adjusts premiums): a case's
/// premium loading plus the script's adjustment overflowed a decimal.
#[test]
fn a_premium_loading_beyond_the_largest_number_is_held_at_its_cap_not_a_panic() {
    let source = package_with_cases(
        "vitality-status",
        &[(
            "loading-past-a-decimal",
            "description = \"bronze with a loading no decimal can raise\"\nperiod = \"2026\"\n\n[member]\nid = \"V001\"\n\n[history]\npremium_loading_percent = 79228162514264337593543950335\n\n[expect]\ntier = \"bronze\"\npremium_adjustment_percent = 0\n".to_owned(),
        )],
    );
    let package = load(&source).unwrap();
    let (outcomes, failed) = package.run_cases();
    assert_eq!(failed, 0, "{outcomes:#?}");
}

/// Found with `fuzz/fuzz_targets/policy_script.rs` (`fuzz/corpus/policy_script/
/// regression-curry-loop`): `loop { f = f.curry(array) }` copied every array curried before at
/// each step, outside the size limits, and ran for minutes before the wall-clock check.
/// `curry` is refused; closures, which capture without it, still run.
#[test]
fn currying_a_function_pointer_is_refused_and_closures_still_run() {
    let script = |body: &str| {
        let mut source = package_with_cases("tangdaifu-smbg", &[]);
        source.files.retain(|f| f.name == "policy.toml");
        source.files.push(incentive_engine::policy::SourceFile::new(
            "rules.rhai",
            format!("fn g(x, y) {{ y }}\nfn decide(record, member, history) {{\n{body}\n}}\n"),
        ));
        load(&source)
    };
    for (body, says) in [
        (
            "    let f = curry(Fn(\"g\"), [1, 2]);\n    #{ reward: f.call(0) }",
            "'curry' is disabled",
        ),
        (
            "    let f = Fn(\"g\").curry([1, 2]);\n    #{ reward: f.call(0) }",
            "Expecting name of a property",
        ),
    ] {
        let text = script(body).unwrap_err().to_string();
        assert!(
            text.contains("rules.rhai:3:") && text.contains(says),
            "{text}"
        );
    }
    let closure = script("    let n = 2;\n    let f = |x| x * n;\n    #{ reward: f.call(3) }");
    assert!(closure.is_ok(), "{closure:?}");
}
