//! Whatever an author saves — a half-typed line, a stray quote, a deleted bracket — loading a
//! package answers with diagnostics or a policy, never a panic or a hang.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use incentive_engine::policy::{PolicySource, SourceFile, load};
use proptest::prelude::*;

/// One edit of a text: delete a range, duplicate it, or insert one of the characters that
/// most often break TOML and Rhai.
fn mutate(text: &str, at: usize, len: usize, kind: u8, insert: char) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = at % (chars.len() + 1);
    let end = (at + len).min(chars.len());
    let (before, middle, after) = (&chars[..at], &chars[at..end], &chars[end..]);
    let out: Vec<char> = match kind % 3 {
        0 => [before, after].concat(),
        1 => [before, middle, middle, after].concat(),
        _ => [before, &[insert], middle, after].concat(),
    };
    out.into_iter().collect()
}

fn mutated_package(file: usize, at: usize, len: usize, kind: u8, insert: char) -> PolicySource {
    let dir = common::policies_dir().join("tangdaifu-smbg");
    let mut source = common::package(&dir);
    // policy.toml and rules.rhai come first (see `common::package`): give each a third.
    let index = match file % 3 {
        0 => 0,
        1 => 1,
        _ => 2 + file % (source.files.len() - 2),
    };
    let original = source.files[index].clone();
    source.files[index] = SourceFile::new(
        original.name.clone(),
        mutate(&original.text, at, len, kind, insert),
    );
    source
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn a_mutated_package_loads_or_is_refused_with_located_diagnostics(
        file in 0_usize..32,
        at in 0_usize..20_000,
        len in 0_usize..40,
        kind in any::<u8>(),
        insert in prop::sample::select(vec!['"', '{', '}', '[', ']', '=', ',', '\n', '#', '(', ')', ';', '`', '$', '\\', '\u{0}', '糖', '.']),
    ) {
        let source = mutated_package(file, at, len, kind, insert);
        match load(&source) {
            Ok(package) => {
                // A package that still loads still evaluates its own cases without panicking.
                for case in &package.cases {
                    let _ = case.run(&package.policy);
                }
            }
            Err(diags) => {
                prop_assert!(diags.has_errors());
                for d in diags.iter() {
                    prop_assert!(d.line >= 1 && d.column >= 1, "{d}");
                    prop_assert!(source.file(&d.file).is_none_or(|f| d.span.start <= f.text.len()), "{d}");
                }
            }
        }
    }
}
