//! The policy packages the demo publishes, built into the binary so that the demo runs from
//! anywhere: the four reference packages, and a variant of `tangdaifu-smbg` for the actuary to
//! price against it.

use std::collections::BTreeMap;

/// A package as the API takes it: file name → text.
pub type Files = BTreeMap<String, String>;

macro_rules! package {
    ($dir:literal) => {
        [
            (
                "policy.toml",
                include_str!(concat!("../../../policies/", $dir, "/policy.toml")),
            ),
            (
                "rules.rhai",
                include_str!(concat!("../../../policies/", $dir, "/rules.rhai")),
            ),
            (
                "locales/en.ftl",
                include_str!(concat!("../../../policies/", $dir, "/locales/en.ftl")),
            ),
            (
                "locales/zh-CN.ftl",
                include_str!(concat!("../../../policies/", $dir, "/locales/zh-CN.ftl")),
            ),
        ]
    };
}

const REFERENCE: [(&str, [(&str, &str); 4]); 4] = [
    ("tangdaifu-smbg", package!("tangdaifu-smbg")),
    ("cgm-consensus", package!("cgm-consensus")),
    ("hba1c-outcome", package!("hba1c-outcome")),
    ("vitality-status", package!("vitality-status")),
];

/// The plan the demo pays members under.
pub const PAID: &str = "tangdaifu-smbg";
/// The variant the actuary compares it with.
pub const VARIANT: &str = "tangdaifu-smbg-lenient";

fn files(parts: &[(&str, &str)]) -> Files {
    parts
        .iter()
        .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
        .collect()
}

/// The reference packages, by id.
pub fn reference() -> Vec<(&'static str, Files)> {
    REFERENCE
        .iter()
        .map(|(id, parts)| (*id, files(parts)))
        .collect()
}

/// `tangdaifu-smbg` made easier to earn: three readings on three days are enough to take
/// part, and each rebate step starts ten points lower.
pub fn variant() -> anyhow::Result<Files> {
    let mut f = files(&REFERENCE[0].1);
    let manifest = f
        .get("policy.toml")
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("tangdaifu-smbg has no policy.toml"))?;
    let mut edited = manifest.clone();
    for (from, to) in [
        ("id = \"tangdaifu-smbg\"", "id = \"tangdaifu-smbg-lenient\""),
        (
            "name = \"糖大夫 monthly glucose-control rebate\"",
            "name = \"糖大夫 monthly rebate, lenient variant\"",
        ),
        (
            "min_readings = { type = \"count\", value = 4,",
            "min_readings = { type = \"count\", value = 3,",
        ),
        (
            "min_measuring_days = { type = \"count\", value = 4,",
            "min_measuring_days = { type = \"count\", value = 3,",
        ),
        (
            "  { to = 50, value = 0 },\n  { from = 50, to = 70, value = 10 },\n  { from = 70, to = 90, value = 20 },\n  { from = 90, value = 30 },",
            "  { to = 40, value = 0 },\n  { from = 40, to = 60, value = 10 },\n  { from = 60, to = 80, value = 20 },\n  { from = 80, value = 30 },",
        ),
    ] {
        if !edited.contains(from) {
            anyhow::bail!(
                "the variant cannot be made: tangdaifu-smbg's policy.toml no longer has `{from}`"
            );
        }
        edited = edited.replace(from, to);
    }
    f.insert("policy.toml".into(), edited);
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use incentive_engine::policy::{PolicySource, SourceFile, load};

    fn load_files(name: &str, f: &Files) -> incentive_engine::policy::Policy {
        let source = PolicySource {
            name: name.into(),
            files: f
                .iter()
                .map(|(n, t)| SourceFile::new(n.clone(), t.clone()))
                .collect(),
        };
        load(&source).unwrap().policy
    }

    #[test]
    fn every_built_in_package_loads_and_the_variant_is_another_plan() {
        for (id, f) in reference() {
            assert_eq!(load_files(id, &f).manifest.id, id);
        }
        let v = load_files(VARIANT, &variant().unwrap());
        assert_eq!(v.manifest.id, VARIANT);
        let a = load_files(PAID, &reference()[0].1);
        assert_ne!(v.content_hash, a.content_hash);
    }
}
