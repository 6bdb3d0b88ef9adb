//! docs/policy-authoring.md carries the generated script reference; it must be current.

use incentive_engine::policy::reference::function_reference;

const BEGIN: &str = "<!-- BEGIN GENERATED REFERENCE -->\n";
const END: &str = "<!-- END GENERATED REFERENCE -->";

#[test]
fn the_authoring_guide_carries_the_current_function_reference() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/policy-authoring.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let (head, rest) = doc
        .split_once(BEGIN)
        .expect("the guide has the BEGIN marker");
    let (current, tail) = rest.split_once(END).expect("the guide has the END marker");
    let generated = function_reference();
    assert!(
        !generated.contains("**undocumented**"),
        "a host function has no line in reference::DOCS:\n{generated}"
    );
    if current != generated {
        if std::env::var_os("INCENTIVE_BLESS").is_some() {
            std::fs::write(&path, format!("{head}{BEGIN}{generated}{END}{tail}")).unwrap();
        } else {
            panic!(
                "docs/policy-authoring.md is out of date; run INCENTIVE_BLESS=1 cargo test -p incentive-engine --test policy_reference"
            );
        }
    }
}
