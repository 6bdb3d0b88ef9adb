//! What each fuzz target does with one input. A target's function returns normally on any
//! input the product answers (an error, a diagnostic, a refusal are answers) and panics only
//! on a bug: a crash, a broken invariant, a 5xx. libFuzzer drives these functions from
//! `fuzz/fuzz_targets/` (cargo-fuzz, nightly); `tests/corpora.rs` replays every seed and
//! regression input of `fuzz/corpus/` through them on the stable toolchain, with mutations, so
//! a fix's regression input is checked on every CI run.
//!
//! The panics here are the point: a fuzz target reports a bug by panicking.
#![allow(
    clippy::panic,
    clippy::expect_used,
    reason = "a fuzz target's way to report a bug, or a fixture that cannot fail, is to panic"
)]

pub mod api_bodies;
pub mod device_exports;
pub mod policy;
pub mod population_toml;
pub mod readings_csv;

/// The tangdaifu-smbg plan: the manifest and script most targets pair with the fuzzed file.
pub(crate) const MANIFEST: &str = include_str!("../../../policies/tangdaifu-smbg/policy.toml");
pub(crate) const SCRIPT: &str = include_str!("../../../policies/tangdaifu-smbg/rules.rhai");

/// A target's name, as `fuzz/corpus/<name>/` and `cargo fuzz list` name it, and what it does
/// with one input.
pub type Target = (&'static str, fn(&[u8]));

/// Every target but `api_bodies`, which needs a harness (a store).
pub const STATELESS_TARGETS: &[Target] = &[
    ("readings_csv", readings_csv::run),
    ("device_exports", device_exports::run),
    ("policy_manifest", policy::manifest),
    ("policy_script", policy::script),
    ("policy_cases", policy::cases),
    ("population_toml", population_toml::run),
];
