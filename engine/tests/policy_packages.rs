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
