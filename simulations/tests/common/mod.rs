//! What the simulation tests share: loading a policy package and a run's configuration.
#![allow(dead_code, reason = "each test file uses a part")]

use incentive_engine::Period;
use incentive_engine::policy::{Policy, PolicySource, SourceFile, load};
use incentive_simulations::{Config, Shard};
use std::path::{Path, PathBuf};

/// The workspace root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The policy of the package in `dir`.
pub fn package(dir: &Path) -> Policy {
    package_with(dir, |manifest| manifest.to_owned())
}

/// The policy of the package in `dir`, its policy.toml edited by `edit` first.
pub fn package_with(dir: &Path, edit: impl Fn(&str) -> String) -> Policy {
    let files = ["policy.toml", "rules.rhai"]
        .iter()
        .map(|name| {
            let text = std::fs::read_to_string(dir.join(name)).unwrap();
            let text = if *name == "policy.toml" {
                edit(&text)
            } else {
                text
            };
            SourceFile::new(*name, text)
        })
        .collect();
    let source = PolicySource {
        name: dir.display().to_string(),
        files,
    };
    load(&source).unwrap().policy
}

pub fn tangdaifu() -> Policy {
    package(&repo().join("policies/tangdaifu-smbg"))
}

/// A run from 2026-01 with a fixed seed.
pub fn config(members: u64, periods: u32, replications: u64, shard: Shard) -> Config {
    Config {
        members,
        periods,
        replications,
        seed: 20_151_101,
        first_period: Period::parse("2026-01").unwrap(),
        shard,
    }
}
