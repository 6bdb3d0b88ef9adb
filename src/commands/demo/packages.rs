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

/// A case of `tangdaifu-smbg`, as the package holds it.
macro_rules! case {
    ($name:literal) => {
        (
            concat!("cases/", $name, ".toml"),
            include_str!(concat!(
                "../../../policies/tangdaifu-smbg/cases/",
                $name,
                ".toml"
            )),
        )
    };
}

/// The cases of the plan the demo pays, stored with it so that an author opening the demo's
/// workbench can run them, try them and see them decided by a draft (a test holds the list to
/// the folder).
const PAID_CASES: [(&str, &str); 15] = [
    case!("a-reading-of-exactly-13-9-is-not-above-it"),
    case!("below-half-in-target-pays-nothing"),
    case!("fifty-percent-is-the-first-paying-step"),
    case!("full-rebate"),
    case!("measuring-gate-not-met"),
    case!("no-fasting-readings-no-judgement"),
    case!("outside-the-effective-dates"),
    case!("readings-in-april-do-not-count"),
    case!("readings-within-an-hour-count-once"),
    case!("seventy-percent-is-the-second-step"),
    case!("target-bounds-are-inclusive"),
    case!("the-pool-budget-holds"),
    case!("the-yearly-cap-holds"),
    case!("three-days-above-13-9-flag-a-clinician"),
    case!("two-days-above-13-9-are-not-a-flag"),
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

/// The reference packages, by id; the one the demo pays with its cases.
pub fn reference() -> Vec<(&'static str, Files)> {
    REFERENCE
        .iter()
        .map(|(id, parts)| {
            let mut f = files(parts);
            if *id == PAID {
                f.extend(files(&PAID_CASES));
            }
            (*id, f)
        })
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
    fn the_paid_plan_carries_every_case_of_its_folder_and_they_all_pass() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/policies/tangdaifu-smbg/cases");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| format!("cases/{}", e.unwrap().file_name().to_string_lossy()))
            .collect();
        on_disk.sort();
        let built_in: Vec<String> = PAID_CASES.iter().map(|(n, _)| (*n).to_owned()).collect();
        assert_eq!(built_in, on_disk);
        let (id, f) = &reference()[0];
        let source = PolicySource {
            name: (*id).into(),
            files: f
                .iter()
                .map(|(n, t)| SourceFile::new(n.clone(), t.clone()))
                .collect(),
        };
        let package = load(&source).unwrap();
        let (outcomes, failed, _) = package.run_cases_covered();
        assert_eq!((outcomes.len(), failed), (PAID_CASES.len(), 0));
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
