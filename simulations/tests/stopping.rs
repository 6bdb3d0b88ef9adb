//! A run lets go promptly when told to stop, however slow its policy and large its chunks: the
//! flag is read before each member and each decision, not once a chunk of 2,048 members (which
//! with a policy taking tens of milliseconds a decision was a minute or more on one thread).
//! And a model that would give a member more readings in a period than one may hold is refused
//! before anything is drawn.
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
use incentive_engine::policy::EvaluationInput;
use incentive_simulations::{Population, Shard, SimError, run, run_until};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn slow() -> incentive_engine::policy::Policy {
    package(&repo().join("simulations/tests/fixtures/slow"))
}

#[test]
fn the_slow_fixture_policy_takes_tens_of_milliseconds_a_decision_within_its_budget() {
    let policy = slow();
    let member = incentive_engine::policy::MemberProfile::new(
        incentive_engine::MemberId::parse("S1").unwrap(),
    );
    let readings = incentive_engine::Readings::default();
    let history = incentive_engine::policy::History::default();
    let started = Instant::now();
    for _ in 0..5 {
        policy
            .evaluate(&EvaluationInput {
                member: &member,
                period: Period::parse("2026-03").unwrap(),
                readings: &readings,
                labs: &[],
                history: &history,
            })
            .unwrap();
    }
    let each = started.elapsed() / 5;
    eprintln!("one decision of the slow policy: {each:?}");
    assert!(
        each >= Duration::from_millis(5)
            && each.as_millis()
                < u128::from(incentive_engine::policy::host::LIMITS.eval_wall_clock_ms_max),
        "{each:?}"
    );
}

#[test]
fn a_run_of_a_slow_policy_told_to_stop_lets_go_within_half_a_second() {
    let policy = slow();
    let model = Population::default();
    // One chunk of 2,048 members on one thread: minutes of decisions, if the flag were read
    // only between chunks.
    let c = config(2048, 1, 1, Shard::WHOLE);
    let stop = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    std::thread::scope(|s| {
        let told = s.spawn(|| {
            std::thread::sleep(Duration::from_millis(500));
            stop.store(true, Ordering::Relaxed);
            Instant::now()
        });
        let outcome = pool.install(|| {
            run_until(
                &model,
                &[&policy],
                &c,
                &|n| {
                    done.fetch_add(n, Ordering::Relaxed);
                },
                &stop,
            )
        });
        let let_go = Instant::now();
        let told = told.join().unwrap();
        assert!(
            matches!(outcome, Err(SimError::Stopped)),
            "{:?}",
            outcome.map(|_| ())
        );
        let waited = let_go.saturating_duration_since(told);
        assert!(waited < Duration::from_millis(500), "{waited:?}");
        assert_eq!(
            done.load(Ordering::Relaxed),
            0,
            "the chunk was stopped half-way, not finished"
        );
    });
}

/// The model: every member on a sensor, on all the time, reading every minute. Over a
/// year that is 527,100 readings a member (about 20 GB for a chunk of 2,048); it is refused by
/// field and limit, with every other problem of the model beside it.
#[test]
fn a_sensor_reading_every_minute_all_year_is_refused_naming_the_field_and_the_limit() {
    let annual = package(&repo().join("policies/vitality-status"));
    let mut model = Population::default();
    model.cgm.wearing_share = 1.0;
    model.cgm.wear_share = 1.0;
    model.cgm.interval_minutes = 1;
    model.members.female_share = 2.0;
    let mut c = config(10, 1, 1, Shard::WHOLE);
    c.first_period = Period::parse("2026").unwrap();
    let err = run(&model, &[&annual], &c, &|_| {}).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("2 problem(s)")
            && text.contains("members.female_share = 2")
            && text.contains("cgm.interval_minutes = 1 gives a sensor wearer up to 527100 readings in an annual period, more than 200000")
            && text.contains("set cgm.interval_minutes to 3 or more"),
        "{text}"
    );
}
