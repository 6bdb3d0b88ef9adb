//! Every reference package under policies/ loads without errors and passes its own cases.

mod common;

use incentive_engine::policy::load;

#[test]
fn every_reference_policy_passes_its_cases() {
    let dirs = common::policy_dirs();
    assert!(!dirs.is_empty());
    let mut report = Vec::new();
    for dir in &dirs {
        let package = match load(&common::package(dir)) {
            Ok(p) => p,
            Err(d) => panic!("{} does not load:\n{d}", dir.display()),
        };
        assert!(
            package.cases.len() >= 5,
            "{} has only {} cases",
            dir.display(),
            package.cases.len()
        );
        for case in &package.cases {
            let outcome = case.run(&package.policy);
            if !outcome.passed() {
                report.push(format!(
                    "{} {}: {:?}\n  got: {:?}",
                    dir.display(),
                    outcome.name,
                    outcome.mismatches,
                    outcome.got
                ));
            }
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

/// A step or a branch no case reaches is a rule nothing shows the plan applies as the
/// contract says: every reference package's cases reach every cell of every table and every
/// branch of its script.
#[test]
fn every_reference_policys_cases_reach_every_cell_of_its_tables_and_every_branch() {
    for dir in common::policy_dirs() {
        let package = load(&common::package(&dir)).unwrap();
        let (_, failed, missed) = package.run_cases_covered();
        assert_eq!(failed, 0, "{}", dir.display());
        assert!(missed.is_empty(), "{}: {missed:?}", dir.display());
        let branches = package.branches_no_case_reaches();
        assert!(branches.is_empty(), "{}: {branches:?}", dir.display());
    }
}

#[test]
fn the_cells_no_case_reaches_are_named_by_step_and_entry() {
    let dir = common::policies_dir().join("tangdaifu-smbg");
    let mut source = common::package(&dir);
    // Only the case that pays the top step.
    source
        .files
        .retain(|f| !f.name.starts_with("cases/") || f.name.contains("full-rebate"));
    let package = load(&source).unwrap();
    let (outcomes, _, missed) = package.run_cases_covered();
    assert!(!outcomes.is_empty());
    assert!(
        missed
            .contains(&"table `rebate_percent_by_fasting_in_target`: step 1 (below 50)".to_owned()),
        "{missed:?}"
    );
}

/// The reference packages speak to members in English and Chinese: each ships both catalogs,
/// every reason its script gives has text in both, and at least three cases check the Chinese.
#[test]
fn every_reference_policy_ships_english_and_chinese_text_for_every_reason() {
    for dir in common::policy_dirs() {
        let package = load(&common::package(&dir)).unwrap();
        assert_eq!(
            package.policy.catalogs.locales(),
            ["en", "zh-CN"],
            "{}",
            dir.display()
        );
        let about_text: Vec<String> = package
            .warnings
            .iter()
            .filter(|w| w.code.starts_with("locale"))
            .map(ToString::to_string)
            .collect();
        assert!(about_text.is_empty(), "{}: {about_text:?}", dir.display());
        let checked = package
            .cases
            .iter()
            .filter(|c| c.expect.explanation_in.contains_key("zh-CN"))
            .count();
        assert!(
            checked >= 3,
            "{}: {checked} cases check the Chinese text",
            dir.display()
        );
    }
}
