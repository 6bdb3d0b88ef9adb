//! A run whose periods reach past a plan's effective dates is refused before any work: it used
//! to price the whole first year and then fail at the first period outside them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use incentive_engine::Period;
use incentive_simulations::{Config, Population, Shard, SimError, run};
use std::sync::atomic::{AtomicU64, Ordering};

fn months(first: &str, periods: u32) -> Config {
    Config {
        first_period: Period::parse(first).unwrap(),
        ..config(20, periods, 2, Shard::WHOLE)
    }
}

#[test]
fn a_run_past_the_plans_effective_dates_is_refused_before_any_member_period_is_decided() {
    let plan = tangdaifu();
    let done = AtomicU64::new(0);
    let progress = |n: u64| {
        done.fetch_add(n, Ordering::Relaxed);
    };
    let err = run(
        &Population::default(),
        &[&plan],
        &months("2026-01", 24),
        &progress,
    )
    .unwrap_err();
    assert_eq!(
        done.load(Ordering::Relaxed),
        0,
        "no work before the refusal"
    );
    let SimError::Config(message) = err else {
        panic!("{err}")
    };
    for part in [
        "policy `tangdaifu-smbg` version 1.0.0 is in effect 2026-01-01 to 2026-12-31",
        "the run's 24 periods from 2026-01 to 2027-12 reach 2027-01, outside it",
        "ask for at most 12 period(s) from 2026-01",
    ] {
        assert!(message.contains(part), "`{part}` in: {message}");
    }
    // Starting outside the dates names where to start instead.
    let err = run(
        &Population::default(),
        &[&plan],
        &months("2025-12", 3),
        &progress,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("start the run (--first-period) within 2026-01-01 to 2026-12-31"),
        "{err}"
    );
    // Exactly the plan's year runs.
    let results = run(
        &Population::default(),
        &[&plan],
        &months("2026-01", 12),
        &progress,
    )
    .unwrap();
    assert_eq!(results.replications.len(), 2);
    assert!(done.load(Ordering::Relaxed) > 0);
}

/// A monthly plan compared with an annual one used to be refused as "outside" dates it was
/// inside: the periods were of the wrong kind, not the wrong dates.
#[test]
fn plans_of_another_period_kind_are_refused_for_their_kind_not_their_dates() {
    let annual = common::package(&common::repo().join("policies/vitality-status"));
    let err = run(
        &Population::default(),
        &[&common::tangdaifu(), &annual],
        &months("2026-01", 6),
        &|_| {},
    )
    .unwrap_err();
    let SimError::Config(message) = err else {
        panic!("{err}")
    };
    assert_eq!(
        message,
        "policy `vitality-status` decides annual periods, but the run's periods are monthly (from 2026-01); plans compared in one run must decide periods of one kind"
    );
}
