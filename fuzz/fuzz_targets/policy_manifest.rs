//! `policy::load` with a fuzzed `policy.toml` and the real tangdaifu-smbg script. Diagnostics
//! are answers; a panic is a bug.
#![no_main]

use incentive_engine::policy::{PolicySource, SourceFile, load};
use libfuzzer_sys::fuzz_target;

const SCRIPT: &str = include_str!("../../policies/tangdaifu-smbg/rules.rhai");

fuzz_target!(|data: &[u8]| {
    let manifest = String::from_utf8_lossy(data).into_owned();
    let source = PolicySource {
        name: "fuzz".into(),
        files: vec![
            SourceFile::new("policy.toml", manifest),
            SourceFile::new("rules.rhai", SCRIPT),
        ],
    };
    let _ = load(&source);
});
