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

/// Found by `fuzz/fuzz_targets/policy_script.rs`: rust_decimal's `tan` panics where the
/// tangent is infinite, and Rhai's math package called it unchecked.
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
