//! The simulation and the API's payout path are one evaluation: a simulated population — its
//! members, readings and lab results — enrolled in a real store and paid through
//! `Store::pay`, period by period, gets the very decisions and totals the simulation reports,
//! pool budget included (a small one, spent out part-way), on every backend.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

#[path = "../store/tests/common/mod.rs"]
mod common;

use common::*;
use incentive_engine::Period;
use incentive_engine::policy::load;
use incentive_simulations::synth::{Draw, member, period_data};
use incentive_simulations::{Config, Population, Shard, run};
use incentive_store::PayoutRequest;
use rust_decimal::Decimal;

/// A pool that runs out in the third month.
fn small_pool(manifest: &str) -> String {
    manifest.replace("pool_budget = 200000000.00", "pool_budget = 120.00")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_population_paid_through_the_store_gets_the_simulations_totals() {
    let (members, periods, seed) = (40_u64, 4_u32, 99_u64);
    let policy = load(&policy_with(PLAN, small_pool)).unwrap().policy;
    let model = Population::default();
    let first = Period::parse("2026-01").unwrap();
    let config = Config {
        members,
        periods,
        replications: 1,
        seed,
        first_period: first,
        shard: Shard::WHOLE,
    };
    let simulated = run(&model, &[&policy], &config, &|_| {}).unwrap();
    let sim = &simulated.replications[0].plans[0];
    // Members behave as the run drew them: answering to what the plan puts at stake.
    let behaviour = simulated.stakes[0]
        .as_ref()
        .expect("the default model measures a stake")
        .behaviour(&model);
    assert!(
        behaviour.readings_factor > 1.0,
        "the plan pays, so members measure more: {behaviour:?}"
    );
    // With one replication, each member's sum is what the member was paid.
    let sim_members = &simulated.members[0].sum;
    assert!(
        sim.pool_exhausted_in.is_some(),
        "the pool is meant to run out: {sim:?}"
    );

    for db in databases().await {
        let store = store_with_plan(&db, small_pool).await;
        let enrolled = first.first_day().unwrap();
        let who: Vec<_> = (0..members)
            .map(|m| member(&model, seed, m, 0, enrolled).unwrap())
            .collect();
        for w in &who {
            store.upsert_member(TENANT, &w.profile).await.unwrap();
        }
        let zone = policy.manifest.timezone;
        let mut paid = vec![Decimal::ZERO; who.len()];
        let mut total = Decimal::ZERO;
        for (k, period) in config.periods().into_iter().enumerate() {
            // The period's data arrives, then every member is paid, in the simulation's order.
            for (m, w) in who.iter().enumerate() {
                let draw = Draw {
                    seed,
                    member: m as u64,
                    replication: 0,
                };
                let data =
                    period_data(&model, w, &behaviour, draw, k as u64, period, zone).unwrap();
                store
                    .add_readings(TENANT, &w.profile.id, data.readings.iter())
                    .await
                    .unwrap();
                if let Some(lab) = data.lab {
                    store.add_labs(TENANT, &w.profile.id, &[lab]).await.unwrap();
                }
            }
            for (m, w) in who.iter().enumerate() {
                let outcome = store
                    .pay(PayoutRequest {
                        tenant: TENANT.into(),
                        member: w.profile.id.clone(),
                        policy_id: PLAN.into(),
                        period,
                    })
                    .await
                    .unwrap();
                paid[m] += outcome.decision.reward_posted;
                total += outcome.decision.reward_posted;
            }
        }
        assert_eq!(total.normalize(), sim.reward, "{}: the total", db.label);
        let per_member: Vec<Decimal> = paid.iter().map(|d| d.normalize()).collect();
        assert_eq!(&per_member, sim_members, "{}: each member", db.label);
        store.close().await;
        db.cleanup().await;
    }
}
