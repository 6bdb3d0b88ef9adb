//! `device_exports`: what it fuzzes and what counts as a bug are said in
//! `fuzz/harness/src/` (`incentive_fuzz_harness::device_exports::run`), which the stable test suite also
//! runs over this target's corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| incentive_fuzz_harness::device_exports::run(data));
