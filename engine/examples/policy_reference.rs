//! Prints the generated script reference (the text docs/policy-authoring.md carries).
fn main() {
    print!(
        "{}",
        incentive_engine::policy::reference::function_reference()
    );
}
