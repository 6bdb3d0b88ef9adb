//! `cases/*.toml`: a fuzzed case file in the tangdaifu-smbg package, loaded and, if the package
//! loads, run. Diagnostics and failing cases are answers; a panic is a bug.
#![no_main]

use incentive_engine::policy::{PolicySource, SourceFile, load};
use libfuzzer_sys::fuzz_target;

const MANIFEST: &str = include_str!("../../policies/tangdaifu-smbg/policy.toml");
const SCRIPT: &str = include_str!("../../policies/tangdaifu-smbg/rules.rhai");

fuzz_target!(|data: &[u8]| {
    let case = String::from_utf8_lossy(data).into_owned();
    let source = PolicySource {
        name: "fuzz".into(),
        files: vec![
            SourceFile::new("policy.toml", MANIFEST),
            SourceFile::new("rules.rhai", SCRIPT),
            SourceFile::new("cases/fuzz.toml", case),
        ],
    };
    if let Ok(package) = load(&source) {
        let _ = package.run_cases();
    }
});
