//! Property: any sequence of payouts, late readings and reversals keeps every entry balanced,
//! never pays past a cap or the pool budget, keeps what stands posted for a period equal to its
//! last decision (unless reversed), replays every decision to its bytes, and gives the same
//! chain head on SQLite and PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use chrono::TimeZone;
use common::*;
use incentive_engine::{Context, Glucose, GlucoseValue, Period, Reading, Source};
use incentive_store::{Checkpoint, PayoutRequest};
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
enum Op {
    /// Ask for member `m`'s payout for month `p` (January to March).
    Pay { m: u8, p: u8 },
    /// Readings for member `m` in month `p`: `days` days from `from`, in or out of control,
    /// `tenths` tenths of a mmol/L above the level's base (as a meter reports them: some, such
    /// as 5.3, take seventeen digits once in mg/dL).
    Readings {
        m: u8,
        p: u8,
        from: u8,
        days: u8,
        good: bool,
        tenths: u8,
    },
    /// Reverse member `m`'s latest decision for month `p`, if it has one not yet reversed.
    Reverse { m: u8, p: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..4u8, 0..3u8).prop_map(|(m, p)| Op::Pay { m, p }),
        (0..4u8, 0..3u8).prop_map(|(m, p)| Op::Reverse { m, p }),
        (0..4u8, 0..3u8, 1..20u8, 1..8u8, any::<bool>(), 0..10u8).prop_map(
            |(m, p, from, days, good, tenths)| Op::Readings {
                m,
                p,
                from,
                days,
                good,
                tenths,
            }
        ),
    ]
}

fn readings(p: u8, from: u8, days: u8, good: bool, tenths: u8) -> Vec<Reading> {
    let offset = shanghai();
    let mmol_l = f64::from(u16::from(tenths) + if good { 50 } else { 90 }) / 10.0;
    (from..from + days)
        .map(|d| Reading {
            time: offset
                .with_ymd_and_hms(2026, u32::from(p) + 1, u32::from(d), 7, 0, 0)
                .unwrap(),
            value: GlucoseValue::Measured(Glucose::from_mmol_l(mmol_l).unwrap()),
            context: Context::Fasting,
            source: Source::Smbg,
        })
        .collect()
}

/// Applies the operations to a fresh store on `db`; returns the head and checks the invariants.
async fn run(db: &TestDb, ops: &[Op]) -> Vec<Checkpoint> {
    let store = store_with_plan(db, |m| {
        m.replace("pool_budget = 200000000.00", "pool_budget = 150.00")
    })
    .await;
    for m in 0..4 {
        enrol(&store, &format!("M{m}")).await;
    }
    let mut reversed = std::collections::HashSet::new();
    for op in ops {
        match op {
            Op::Reverse { m, p } => {
                let member = format!("M{m}");
                let period = format!("2026-{:02}", p + 1);
                let latest = store
                    .decisions(TENANT, Some(&member))
                    .await
                    .unwrap()
                    .into_iter()
                    .rfind(|d| d.period == period);
                if let Some(d) = latest.filter(|d| !reversed.contains(&d.id)) {
                    store
                        .reverse(TENANT, &d.id, "property test", "auditor")
                        .await
                        .unwrap();
                    reversed.insert(d.id);
                }
            }
            Op::Pay { m, p } => {
                let request = PayoutRequest {
                    tenant: TENANT.into(),
                    member: member(&format!("M{m}")),
                    policy_id: PLAN.into(),
                    period: Period::parse(&format!("2026-{:02}", p + 1)).unwrap(),
                };
                store.pay(request).await.unwrap();
            }
            Op::Readings {
                m,
                p,
                from,
                days,
                good,
                tenths,
            } => {
                store
                    .add_readings(
                        TENANT,
                        &member(&format!("M{m}")),
                        readings(*p, *from, *days, *good, *tenths),
                    )
                    .await
                    .unwrap();
            }
        }
    }
    let report = store.verify(None, &[]).await.unwrap();
    assert!(report.ok(), "{}: {report:?}", db.label);

    let decisions = store.decisions(TENANT, None).await.unwrap();
    for d in &decisions {
        let replay = store.replay(d).await.unwrap();
        assert!(replay.is_identical(), "{}: {replay:?}", db.label);
    }
    let mut per_period: BTreeMap<(String, String), (Decimal, Option<Decimal>)> = BTreeMap::new();
    let mut pool = Decimal::ZERO;
    for d in &decisions {
        let e = per_period
            .entry((d.member_id.clone(), d.period.clone()))
            .or_default();
        let standing = if reversed.contains(&d.id) {
            Decimal::ZERO
        } else {
            d.reward_posted
        };
        e.0 += standing;
        // Decisions come in ledger order: the last is the period's outcome.
        e.1 = if reversed.contains(&d.id) {
            None
        } else {
            Some(d.reward)
        };
        pool += standing;
        assert!(d.reward <= Decimal::new(30, 0), "the per-period cap: {d:?}");
        assert!(d.reward >= Decimal::ZERO);
    }
    for ((member, period), (posted, last)) in &per_period {
        assert!(
            *posted >= Decimal::ZERO && *posted <= Decimal::new(30, 0),
            "{}: {member} {period}: {posted}",
            db.label
        );
        if let Some(last) = last {
            assert_eq!(
                posted, last,
                "{}: {member} {period}: what stands posted is what the last decision says",
                db.label
            );
        }
    }
    assert!(
        pool <= Decimal::new(150, 0),
        "{}: the pool paid {pool}",
        db.label
    );
    let checkpoints = store.checkpoint(None).await.unwrap();
    store.close().await;
    checkpoints
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn any_sequence_of_payouts_late_readings_and_reversals_keeps_the_ledger_whole(ops in prop::collection::vec(op(), 1..24)) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let sqlite = sqlite_db().await;
            let head = run(&sqlite, &ops).await;
            sqlite.cleanup().await;
            if let Some(pg) = postgres_db().await {
                let pg_head = run(&pg, &ops).await;
                pg.cleanup().await;
                assert_eq!(head, pg_head, "the same operations give the same head on both backends");
            }
        });
    }
}
