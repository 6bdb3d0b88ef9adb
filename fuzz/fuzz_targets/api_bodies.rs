//! `api_bodies`: the API's request bodies through the real router, in process. What counts as a
//! bug is said in `fuzz/harness/src/api_bodies.rs`, which the stable test suite also runs over
//! this target's corpus.
#![no_main]

use incentive_fuzz_harness::api_bodies::Harness;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        // Under $TMPDIR (run.sh points it at a directory it removes afterwards): libFuzzer
        // exits without running destructors, so the directory is kept rather than dropped.
        let dir = tempfile::Builder::new()
            .prefix("incentive-fuzz-api-")
            .tempdir()
            .expect("a temporary directory")
            .keep();
        Harness::new(&dir)
    })
}

fuzz_target!(|data: &[u8]| harness().run(data));
