//! Our metrics agree with iglu's on the same CGM data, to floating-point precision.
#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]
//!
//! `fixtures/iglu/cgm-two-members.csv` is two virtual patients of the UVA/Padova simulator;
//! `fixtures/iglu/expected.json` holds what iglu-python 0.4.3 computes for them, made once by
//! `fixtures/iglu/make_expected.py` (its docstring says how). Python is not needed to run this.

mod common;

use common::{close, load};
use incentive_engine::{Record, compute_metrics};
use serde_json::Value;

const FIXTURE: &str = include_str!("fixtures/iglu/cgm-two-members.csv");
const EXPECTED: &str = include_str!("fixtures/iglu/expected.json");

/// Relative tolerance: iglu sums with numpy's pairwise summation and takes the SD in two
/// passes; we sum in eight lanes with a shift. Both are within a few ulps of the exact value.
const TOLERANCE: f64 = 1e-12;

#[test]
fn every_metric_agrees_with_iglu_on_simulated_cgm_traces() {
    let expected: Value = serde_json::from_str(EXPECTED).unwrap_or(Value::Null);
    let members = expected["members"].as_object().cloned().unwrap_or_default();
    assert_eq!(members.len(), 2, "the fixture has two members");
    let loaded = load(FIXTURE);
    assert_eq!(loaded.report.duplicates, 0);
    let mut compared = 0;
    for (member, readings) in loaded.members {
        let ours = compute_metrics(&Record::new(member.clone(), readings, Vec::new()));
        let ours = serde_json::to_value(&ours).unwrap_or(Value::Null);
        let theirs = members[member.as_str()]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (field, value) in theirs {
            let (Some(a), Some(b)) = (ours[&field].as_f64(), value.as_f64()) else {
                panic!("{member}.{field}: ours {} vs iglu {value}", ours[&field]);
            };
            assert!(
                close(a, b, TOLERANCE),
                "{member}.{field}: ours {a} vs iglu {b} (difference {})",
                a - b
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 2 * 15, "every iglu figure was compared");
}
