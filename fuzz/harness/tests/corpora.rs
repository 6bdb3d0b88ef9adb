//! Every input kept in `fuzz/corpus/` (the seeds, and each fuzzer finding's regression input)
//! run through its target on the stable toolchain, then a bounded slice of mutations of them:
//! the part of fuzzing that fits in CI. Long runs are `fuzz/run.sh` with libFuzzer.
//!
//! The mutation slice is reproducible: a fixed seed unless PROPTEST_RNG_SEED is set, 200 cases a
//! target unless PROPTEST_CASES is.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

use incentive_fuzz_harness::STATELESS_TARGETS;
use incentive_fuzz_harness::api_bodies::Harness;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus")
}

/// The corpus of one target, by file name, in name order.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir().join(target);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// Runs every input, then names every one that panicked (not only the first).
fn replay(target: &str, run: &dyn Fn(&[u8])) -> usize {
    let inputs = corpus(target);
    let failed: Vec<&str> = inputs
        .iter()
        .filter(|(_, data)| catch_unwind(AssertUnwindSafe(|| run(data))).is_err())
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(
        failed.is_empty(),
        "fuzz/corpus/{target}: these inputs found a bug again: {failed:?}"
    );
    inputs.len()
}

#[test]
fn every_corpus_directory_is_a_target_and_every_target_has_seeds() {
    let mut dirs: Vec<String> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut targets: Vec<String> = STATELESS_TARGETS
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .chain(["api_bodies".to_owned()])
        .collect();
    targets.sort();
    assert_eq!(dirs, targets);
    // And the fuzz crate builds one binary per target, of the same name.
    let fuzz_toml = std::fs::read_to_string(corpus_dir().join("../Cargo.toml")).unwrap();
    for target in &targets {
        assert!(
            fuzz_toml.contains(&format!("name = \"{target}\"")),
            "fuzz/Cargo.toml has no [[bin]] {target}"
        );
        assert!(!corpus(target).is_empty(), "fuzz/corpus/{target} is empty");
    }
}

#[test]
fn every_seed_and_regression_input_of_the_parsers_and_the_sandbox_is_answered_without_a_bug() {
    for (target, run) in STATELESS_TARGETS {
        let n = replay(target, run);
        eprintln!("{target}: {n} inputs");
    }
}

#[test]
fn every_seed_and_regression_body_sent_to_the_api_is_answered_without_a_5xx() {
    let dir = tempfile::tempdir().unwrap();
    let harness = Harness::new(dir.path());
    let n = replay("api_bodies", &|data| harness.run(data));
    eprintln!("api_bodies: {n} inputs");
}

/// One edit of an input, as libFuzzer's mutators make them.
#[derive(Debug, Clone)]
enum Edit {
    Flip {
        at: usize,
        bit: u8,
    },
    Set {
        at: usize,
        byte: u8,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
    Delete {
        at: usize,
        len: usize,
    },
    /// A run of bytes copied from elsewhere in the input (or from another input).
    Splice {
        at: usize,
        from: usize,
        len: usize,
    },
}

fn edit() -> impl Strategy<Value = Edit> {
    let at = any::<usize>();
    prop_oneof![
        (at, 0..8_u8).prop_map(|(at, bit)| Edit::Flip { at, bit }),
        // Bytes that matter to the formats: digits, separators, quotes, brackets, newlines,
        // signs, and anything else.
        (
            at,
            prop::sample::select(b"0123456789-+.,;:\"'[]{}()=\n\r\t #e\xff\x00".to_vec())
        )
            .prop_map(|(at, byte)| Edit::Set { at, byte }),
        (at, prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Edit::Insert { at, bytes }),
        (at, 1..64_usize).prop_map(|(at, len)| Edit::Delete { at, len }),
        (at, any::<usize>(), 1..256_usize).prop_map(|(at, from, len)| Edit::Splice {
            at,
            from,
            len
        }),
    ]
}

fn apply(mut data: Vec<u8>, donor: &[u8], edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let n = data.len();
        match e {
            Edit::Flip { at, bit } if n > 0 => data[at % n] ^= 1 << bit,
            Edit::Set { at, byte } if n > 0 => data[at % n] = *byte,
            Edit::Insert { at, bytes } => {
                let at = at % (n + 1);
                data.splice(at..at, bytes.iter().copied());
            }
            Edit::Delete { at, len } if n > 0 => {
                let at = at % n;
                data.drain(at..(at + len).min(n));
            }
            Edit::Splice { at, from, len } => {
                let source = if donor.is_empty() {
                    data.clone()
                } else {
                    donor.to_vec()
                };
                if !source.is_empty() {
                    let from = from % source.len();
                    let run = &source[from..(from + len).min(source.len())];
                    let at = at % (n + 1);
                    data.splice(at..at, run.iter().copied());
                }
            }
            _ => {}
        }
    }
    data
}

fn config() -> Config {
    // Config::default() reads PROPTEST_CASES and PROPTEST_RNG_SEED; without them the slice is
    // fixed, so CI gives the same answer twice.
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 200;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(2015);
    }
    config.failure_persistence = None;
    config
}

/// Mutated inputs: a corpus entry, a donor entry for splices, and up to eight edits.
fn mutations(target: &str) -> impl Strategy<Value = Vec<u8>> {
    let inputs: Vec<Vec<u8>> = corpus(target).into_iter().map(|(_, d)| d).collect();
    let count = inputs.len();
    (0..count, 0..count, prop::collection::vec(edit(), 1..8))
        .prop_map(move |(base, donor, edits)| apply(inputs[base].clone(), &inputs[donor], &edits))
}

#[test]
fn mutations_of_the_corpora_are_answered_without_a_bug() {
    for (target, run) in STATELESS_TARGETS {
        let mut runner = TestRunner::new(config());
        runner
            .run(&mutations(target), |data| {
                run(&data);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{target}: {e}"));
    }
}

#[test]
fn mutations_of_the_api_bodies_are_answered_without_a_5xx() {
    let dir = tempfile::tempdir().unwrap();
    let harness = Harness::new(dir.path());
    let mut runner = TestRunner::new(config());
    runner
        .run(&mutations("api_bodies"), |data| {
            harness.run(&data);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("api_bodies: {e}"));
}
