//! Payouts through the store's one function, on every backend: decided, posted, paid once,
//! trued up after late readings, and never past a cap or a budget under concurrency.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use incentive_store::{PayoutKind, StoreError};
use rust_decimal::Decimal;

fn cny(s: &str) -> Decimal {
    Decimal::from_str_exact(s).unwrap()
}

#[tokio::test]
async fn a_payout_is_decided_posted_and_the_ledger_verifies() {
    for db in databases().await {
        let store = store_with_plan(&db, str::to_owned).await;
        let m = enrol(&store, "M1").await;
        let added = store
            .add_readings(TENANT, &m, controlled_march(6))
            .await
            .unwrap();
        assert_eq!(added.accepted, 12, "{}", db.label);

        let out = store.pay(request(&m)).await.unwrap();
        assert_eq!(out.kind, PayoutKind::Paid, "{}", db.label);
        assert_eq!(out.decision.reward, cny("30"), "{}", db.label);
        assert_eq!(out.decision.reward_posted, cny("30"));
        assert!(out.decision.body.contains("\"member_id\":\"M1\""));
        assert_eq!(
            out.decision.ledger_seq, 2,
            "entry 1 is the policy's publication"
        );

        let report = store.verify(None, &[]).await.unwrap();
        assert!(report.ok(), "{}: {report:?}", db.label);
        assert_eq!(report.tenants[0].entries, 2);
        assert_eq!(report.tenants[0].decisions, 1);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn paying_a_period_again_returns_the_decision_on_record_and_posts_nothing() {
    for db in databases().await {
        let store = store_with_plan(&db, str::to_owned).await;
        let m = enrol(&store, "M1").await;
        store
            .add_readings(TENANT, &m, controlled_march(6))
            .await
            .unwrap();
        let first = store.pay(request(&m)).await.unwrap();
        let again = store.pay(request(&m)).await.unwrap();
        assert_eq!(again.kind, PayoutKind::AlreadyDecided, "{}", db.label);
        assert_eq!(again.decision, first.decision, "{}", db.label);
        let report = store.verify(None, &[]).await.unwrap();
        assert_eq!(
            report.tenants[0].entries, 2,
            "{}: no second posting",
            db.label
        );
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn late_readings_lead_to_a_true_up_that_posts_only_the_difference() {
    for db in databases().await {
        let store = store_with_plan(&db, str::to_owned).await;
        let m = enrol(&store, "M1").await;
        // Four days, fasting in target on two of them: 50 % in target, a 10 % rebate.
        store
            .add_readings(
                TENANT,
                &m,
                vec![
                    fasting(1, 5.6),
                    fasting(2, 5.6),
                    fasting(3, 9.5),
                    fasting(4, 9.5),
                ],
            )
            .await
            .unwrap();
        let first = store.pay(request(&m)).await.unwrap();
        assert_eq!(first.decision.reward, cny("10"), "{}", db.label);

        // Six more good fasting days arrive late: 80 % in target, a 20 % rebate.
        store
            .add_readings(TENANT, &m, (5..=10).map(|d| fasting(d, 5.6)))
            .await
            .unwrap();
        let trued = store.pay(request(&m)).await.unwrap();
        assert_eq!(trued.kind, PayoutKind::TrueUp, "{}", db.label);
        assert_eq!(trued.decision.reward, cny("20"));
        assert_eq!(
            trued.decision.reward_posted,
            cny("10"),
            "only the difference"
        );
        assert_eq!(trued.decision.ordinal, 1);
        assert_eq!(
            trued.decision.supersedes.as_deref(),
            Some(first.decision.id.as_str())
        );

        let report = store.verify(None, &[]).await.unwrap();
        assert!(report.ok(), "{}: {report:?}", db.label);
        assert_eq!(report.tenants[0].entries, 3);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_member_or_tenant_the_store_does_not_know_is_refused_by_name() {
    for db in databases().await {
        let store = store_with_plan(&db, str::to_owned).await;
        let err = store.pay(request(&member("NOBODY"))).await.unwrap_err();
        assert!(
            matches!(err, StoreError::UnknownMember { .. }),
            "{}: {err}",
            db.label
        );
        assert_eq!(
            err.to_string(),
            "member `NOBODY` is not enrolled with `zhongan`"
        );

        let mut r = request(&member("M1"));
        r.tenant = "elsewhere".into();
        let err = store.pay(r).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "tenant `elsewhere` does not exist",
            "{}",
            db.label
        );

        let m = enrol(&store, "M1").await;
        let mut r = request(&m);
        r.period = incentive_engine::Period::parse("2027-03").unwrap();
        let err = store.pay(r).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "no published version of policy `tangdaifu-smbg` is in effect in 2027-03",
            "{}",
            db.label
        );
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn concurrent_payouts_never_pay_past_the_pool_budget() {
    concurrent_payouts_pay_exactly_the_pool_budget(false).await;
}

/// The same on a pipelined lane (`payout_pipeline`): each group decided while the one before
/// it is written, as if that one were posted — the pool it drew on, the member it paid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_payouts_on_a_pipelined_lane_never_pay_past_the_pool_budget() {
    concurrent_payouts_pay_exactly_the_pool_budget(true).await;
}

async fn concurrent_payouts_pay_exactly_the_pool_budget(pipeline: bool) {
    for db in databases().await {
        // A pool of 100 CNY and 40 members each due 30: the pool runs dry part-way.
        let options = incentive_store::StoreOptions {
            payout_pipeline: pipeline,
            ..options()
        };
        let store = store_with_plan_on(&db, options, |m| {
            m.replace("pool_budget = 200000000.00", "pool_budget = 100.00")
        })
        .await;
        let mut members = Vec::new();
        for i in 0..40 {
            let m = enrol(&store, &format!("M{i:02}")).await;
            store
                .add_readings(TENANT, &m, controlled_march(5))
                .await
                .unwrap();
            members.push(m);
        }
        let mut tasks = tokio::task::JoinSet::new();
        for m in &members {
            // Each member asked for twice at once, as a retrying client would.
            for _ in 0..2 {
                let store = store.clone();
                let r = request(m);
                tasks.spawn(async move { store.pay(r).await });
            }
        }
        let mut paid = Decimal::ZERO;
        let mut kinds = std::collections::HashMap::new();
        while let Some(result) = tasks.join_next().await {
            let out = result.unwrap().unwrap();
            paid += out.decision.reward_posted
                * Decimal::from(u8::from(out.kind != PayoutKind::AlreadyDecided));
            *kinds.entry(out.kind).or_insert(0) += 1;
        }
        assert_eq!(
            paid,
            cny("100"),
            "{}: exactly the budget is paid, never more",
            db.label
        );
        assert_eq!(
            kinds.get(&PayoutKind::Paid),
            Some(&40),
            "{}: {kinds:?}",
            db.label
        );
        assert_eq!(
            kinds.get(&PayoutKind::AlreadyDecided),
            Some(&40),
            "{}: {kinds:?}",
            db.label
        );
        let report = store.verify(None, &[]).await.unwrap();
        assert!(report.ok(), "{}: {report:?}", db.label);
        assert_eq!(report.tenants[0].entries, 41);
        for d in store.decisions(TENANT, None).await.unwrap() {
            let replay = store.replay(&d).await.unwrap();
            assert!(replay.is_identical(), "{}: {replay:?}", db.label);
        }
        let groups = store.payout_groups();
        assert_eq!(
            groups.decided_ahead > 0,
            pipeline,
            "{}: groups decided ahead only when pipelined: {groups:?}",
            db.label
        );
        assert_eq!(
            groups.decided_again_under_lock, 0,
            "{}: {groups:?}",
            db.label
        );
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_plan_that_refuses_rather_than_cuts_pays_nothing_once_the_pool_cannot_pay_in_full() {
    for db in databases().await {
        let store = store_with_plan(&db, |m| {
            m.replace(
                "pool_budget = 200000000.00",
                "pool_budget = 100.00\nwhen_short = \"refuse\"",
            )
        })
        .await;
        let mut rewards = Vec::new();
        for i in 0..5 {
            let m = enrol(&store, &format!("M{i}")).await;
            store
                .add_readings(TENANT, &m, controlled_march(5))
                .await
                .unwrap();
            rewards.push(store.pay(request(&m)).await.unwrap().decision);
        }
        let paid: Vec<Decimal> = rewards.iter().map(|d| d.reward_posted).collect();
        assert_eq!(
            paid,
            [cny("30"), cny("30"), cny("30"), cny("0"), cny("0")],
            "{}",
            db.label
        );
        assert!(
            rewards[3].body.contains(
                r#"{"id":"engine-refused-pool","args":{"given":"30.00","left":"10.00","paid":"0","pool":"100.00"}}"#
            ),
            "{}: {}",
            db.label,
            rewards[3].body
        );
        store.close().await;
        db.cleanup().await;
    }
}

/// Fasting readings at 07:00 Shanghai time in `month` of 2026, on days `from..=to`.
fn fasting_in(month: u32, from: u32, to: u32, mmol_l: f64) -> Vec<incentive_engine::Reading> {
    use chrono::TimeZone;
    (from..=to)
        .map(|d| incentive_engine::Reading {
            time: shanghai()
                .with_ymd_and_hms(2026, month, d, 7, 0, 0)
                .unwrap(),
            value: incentive_engine::GlucoseValue::Measured(
                incentive_engine::Glucose::from_mmol_l(mmol_l).unwrap(),
            ),
            context: incentive_engine::Context::Fasting,
            source: incentive_engine::Source::Smbg,
        })
        .collect()
}

#[tokio::test]
async fn a_true_up_after_later_months_were_paid_still_keeps_the_yearly_cap() {
    for db in databases().await {
        let store = store_with_plan(&db, str::to_owned).await;
        let m = enrol(&store, "M1").await;
        let pay = |month: u32| {
            let mut r = request(&m);
            r.period = incentive_engine::Period::parse(&format!("2026-{month:02}")).unwrap();
            let store = store.clone();
            async move { store.pay(r).await.unwrap().decision }
        };
        // January: half the fasting readings in target, a 10 % rebate (10 CNY).
        store
            .add_readings(TENANT, &m, fasting_in(1, 1, 2, 5.6))
            .await
            .unwrap();
        store
            .add_readings(TENANT, &m, fasting_in(1, 3, 4, 9.0))
            .await
            .unwrap();
        assert_eq!(pay(1).await.reward_posted, cny("10"), "{}", db.label);
        // February to November in good control: 30 a month until the yearly 300 is reached.
        let mut year = cny("10");
        for month in 2..=11 {
            store
                .add_readings(TENANT, &m, fasting_in(month, 1, 5, 5.6))
                .await
                .unwrap();
            year += pay(month).await.reward_posted;
        }
        assert_eq!(
            year,
            cny("300"),
            "{}: the yearly cap binds in November",
            db.label
        );

        // January's late readings would lift it to 30: the true-up may not pass the yearly cap.
        store
            .add_readings(TENANT, &m, fasting_in(1, 10, 20, 5.6))
            .await
            .unwrap();
        let trued = pay(1).await;
        assert_eq!(trued.ordinal, 1, "{}", db.label);
        assert_eq!(
            trued.reward_posted,
            cny("0"),
            "{}: {}",
            db.label,
            trued.body
        );
        assert!(
            trued
                .body
                .contains(r#""id":"engine-capped-year","args":{"cap":"300.00","earlier":"290"#),
            "{}",
            trued.body
        );
        let total: Decimal = store
            .decisions(TENANT, None)
            .await
            .unwrap()
            .iter()
            .map(|d| d.reward_posted)
            .sum();
        assert_eq!(total, cny("300"), "{}", db.label);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn concurrent_payouts_to_one_member_never_pay_past_the_yearly_cap() {
    one_members_concurrent_payouts_keep_the_yearly_cap(false).await;
}

/// The same on a pipelined lane: a group decided while the one before it is written sees
/// that one's months of the same member as paid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_payouts_to_one_member_on_a_pipelined_lane_never_pay_past_the_yearly_cap() {
    one_members_concurrent_payouts_keep_the_yearly_cap(true).await;
}

async fn one_members_concurrent_payouts_keep_the_yearly_cap(pipeline: bool) {
    for db in databases().await {
        // 30 a month at most and 300 a year: twelve good months would come to 360.
        let options = incentive_store::StoreOptions {
            payout_pipeline: pipeline,
            ..options()
        };
        let store = store_with_plan_on(&db, options, str::to_owned).await;
        let m = enrol(&store, "M1").await;
        for month in 1..=12 {
            store
                .add_readings(TENANT, &m, fasting_in(month, 1, 5, 5.6))
                .await
                .unwrap();
        }
        let mut tasks = tokio::task::JoinSet::new();
        for month in 1..=12 {
            for _ in 0..3 {
                let (store, mut r) = (store.clone(), request(&m));
                r.period = incentive_engine::Period::parse(&format!("2026-{month:02}")).unwrap();
                tasks.spawn(async move { store.pay(r).await });
            }
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap().unwrap();
        }
        let decisions = store.decisions(TENANT, None).await.unwrap();
        assert_eq!(decisions.len(), 12, "{}: one decision a month", db.label);
        let total: Decimal = decisions.iter().map(|d| d.reward_posted).sum();
        assert_eq!(
            total,
            cny("300"),
            "{}: the yearly cap, to the cent",
            db.label
        );
        assert!(store.verify(None, &[]).await.unwrap().ok(), "{}", db.label);
        store.close().await;
        db.cleanup().await;
    }
}

/// Groups are decided outside the write lock and posted only if the tenant's chain head has
/// not moved since they were read. Here two stores (two processes' writers) decide a payout
/// each while the head is held, both against a pool with room for one; whichever posts second
/// finds the head moved, decides again under the lock and pays nothing. Without that, both
/// would pay and the pool would go 30 past its budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_decided_while_another_writer_posted_is_decided_again_and_the_pool_holds() {
    for db in databases().await {
        let a = store_with_plan(&db, |m| {
            m.replace("pool_budget = 200000000.00", "pool_budget = 30.00")
        })
        .await;
        let b = incentive_store::Store::open(&db.url, options())
            .await
            .unwrap();
        for id in ["M1", "M2"] {
            let m = enrol(&a, id).await;
            a.add_readings(TENANT, &m, controlled_march(20))
                .await
                .unwrap();
        }
        let held = hold_chain_head(&db, TENANT).await;
        let (one, two) = (a.clone(), b.clone());
        let first = tokio::spawn(async move { one.pay(request(&member("M1"))).await });
        let second = tokio::spawn(async move { two.pay(request(&member("M2"))).await });
        // Both read the pool as full and decide 30 each, then wait for the head.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        held.release().await;
        let rewards: Vec<Decimal> = [first.await.unwrap(), second.await.unwrap()]
            .into_iter()
            .map(|r| r.unwrap().decision.reward_posted)
            .collect();
        let total: Decimal = rewards.iter().sum();
        assert_eq!(total, Decimal::from(30), "{}: {rewards:?}", db.label);
        assert!(
            rewards.contains(&Decimal::ZERO),
            "{}: {rewards:?}",
            db.label
        );
        assert!(a.verify(None, &[]).await.unwrap().ok(), "{}", db.label);
        b.close().await;
        a.close().await;
        db.cleanup().await;
    }
}

/// A group stops deciding once its time is spent (`payout_group_decide_ms_max`) and commits
/// what it has; the rest go to the next group. With a policy taking milliseconds a decision and
/// a budget of one, five payouts queued together are committed in five groups (five clock
/// readings: the test clock moves a millisecond each time a group reads it), each answered as
/// soon as its own group is in — not all after the last.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_whose_time_to_decide_is_spent_commits_what_it_has_and_the_rest_follow() {
    for db in databases().await {
        let store = incentive_store::Store::open(
            &db.url,
            incentive_store::StoreOptions {
                payout_group_decide_ms_max: 1,
                ..options()
            },
        )
        .await
        .unwrap();
        store.create_tenant(TENANT).await.unwrap();
        let mut source = policy(PLAN);
        for f in &mut source.files {
            if f.name == "rules.rhai" {
                f.text = f.text.replace(
                    "fn decide(record, member, history) {",
                    "fn decide(record, member, history) {\n    let x = 0;\n    for i in 0..20000 { x += 1; }",
                );
            }
        }
        let v = store.put_policy(TENANT, &source).await.unwrap();
        store
            .publish_policy(TENANT, PLAN, &v.version)
            .await
            .unwrap();
        for i in 0..6 {
            let m = enrol(&store, &format!("M{i}")).await;
            store
                .add_readings(TENANT, &m, controlled_march(20))
                .await
                .unwrap();
        }
        // The first payout waits at the held head; the other five queue behind it as one group.
        let held = hold_chain_head(&db, TENANT).await;
        let pay = |i: usize| {
            let store = store.clone();
            tokio::spawn(async move { store.pay(request(&member(&format!("M{i}")))).await })
        };
        let first = pay(0);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let rest: Vec<_> = (1..6).map(pay).collect();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        held.release().await;
        first.await.unwrap().unwrap();
        let mut times = std::collections::BTreeSet::new();
        for p in rest {
            let d = p.await.unwrap().unwrap().decision;
            assert_eq!(d.reward_posted, Decimal::from(30), "{}", db.label);
            times.insert(d.created_at);
        }
        assert_eq!(
            times.len(),
            5,
            "{}: five groups, not one: {times:?}",
            db.label
        );
        assert!(store.verify(None, &[]).await.unwrap().ok(), "{}", db.label);
        store.close().await;
        db.cleanup().await;
    }
}

/// A tenant's lane holds `payout_queue_max` payouts waiting at most; one more is refused at
/// once (`TenantBusy`, which the API answers 503) rather than held, and those taken are paid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenants_full_lane_refuses_the_next_payout_at_once_and_pays_those_it_took() {
    for db in databases().await {
        let store = incentive_store::Store::open(
            &db.url,
            incentive_store::StoreOptions {
                payout_queue_max: 1,
                ..options()
            },
        )
        .await
        .unwrap();
        store.create_tenant(TENANT).await.unwrap();
        let v = store.put_policy(TENANT, &policy(PLAN)).await.unwrap();
        store
            .publish_policy(TENANT, PLAN, &v.version)
            .await
            .unwrap();
        for i in 0..3 {
            let m = enrol(&store, &format!("M{i}")).await;
            store
                .add_readings(TENANT, &m, controlled_march(20))
                .await
                .unwrap();
        }
        let held = hold_chain_head(&db, TENANT).await;
        let pay = |i: usize| {
            let store = store.clone();
            tokio::spawn(async move { store.pay(request(&member(&format!("M{i}")))).await })
        };
        // The first is taken by the lane and waits at the head; the second waits in the lane.
        let first = pay(0);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let second = pay(1);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let third = pay(2).await.unwrap();
        assert!(
            matches!(third, Err(StoreError::TenantBusy { queued: 1 })),
            "{}: {third:?}",
            db.label
        );
        assert!(third.unwrap_err().is_transient());
        held.release().await;
        for p in [first, second] {
            assert_eq!(
                p.await.unwrap().unwrap().decision.reward_posted,
                Decimal::from(30),
                "{}",
                db.label
            );
        }
        store.close().await;
        db.cleanup().await;
    }
}

/// On PostgreSQL a process's connections are two pools — reads, each statement planned for its
/// values, and writes — and together they stay within `pool_connections_max`: with a limit of
/// one (one pool for both) and of four, forty members at once each paid, previewed (a read)
/// and sent more readings (a write) never have more connections open on the server, and every
/// payout is made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_never_opens_more_database_connections_than_its_limit() {
    for limit in [1_u32, 4] {
        for db in databases().await {
            if !db.is_postgres() {
                db.cleanup().await;
                continue;
            }
            let setup = store_with_plan(&db, |m| m.to_owned()).await;
            let mut members = Vec::new();
            for i in 0..40 {
                let m = enrol(&setup, &format!("M{i:02}")).await;
                setup
                    .add_readings(TENANT, &m, controlled_march(5))
                    .await
                    .unwrap();
                members.push(m);
            }
            setup.close().await;
            // One connection counts the others, all the test long: a counter that connected
            // afresh each time would leave sessions ending behind it, counted by the next.
            let mut counter = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url)
                .await
                .unwrap();
            let mut open = async || -> u32 {
                let n: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM pg_stat_activity \
                     WHERE datname = current_database() AND pid <> pg_backend_pid()",
                )
                .fetch_one(&mut counter)
                .await
                .unwrap();
                u32::try_from(n).unwrap()
            };
            // The set-up store's sessions end a moment after it closed them.
            for _ in 0..500 {
                if open().await == 0 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            assert_eq!(open().await, 0, "the set-up store's sessions did not end");
            let mut opts = options();
            opts.limits.pool_connections_max = limit;
            let store = incentive_store::Store::open(&db.url, opts).await.unwrap();
            let mut tasks = tokio::task::JoinSet::new();
            for m in &members {
                let (store, r, m) = (store.clone(), request(m), m.clone());
                tasks.spawn(async move {
                    let (paid, previewed, sent) = tokio::join!(
                        store.pay(r.clone()),
                        store.dry_run(r),
                        store.add_readings(TENANT, &m, fasting_in(4, 1, 3, 6.0)),
                    );
                    assert!(paid.unwrap().decision.qualified);
                    assert!(previewed.unwrap().decision.qualified);
                    sent.unwrap();
                });
            }
            let mut most = 0;
            while !tasks.is_empty() {
                most = most.max(open().await);
                while let Some(done) = tasks.try_join_next() {
                    done.unwrap();
                }
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            most = most.max(open().await);
            assert!(
                (1..=limit).contains(&most),
                "limit {limit}: {most} connections were open at once"
            );
            store.close().await;
            sqlx::Connection::close(counter).await.unwrap();
            db.cleanup().await;
        }
    }
}

/// SQLite copies its log into the database in the commit that takes the log past 1,000 pages,
/// and that group's callers wait for the copy. A lane checkpoints between its groups instead
/// (`payout::Checkpoints`), so the log is started again long before: after 100 payouts one by
/// one, the log file (which SQLite reuses, never shrinks) has held far fewer pages than that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lane_checkpoints_sqlites_log_between_groups_so_it_stays_short() {
    let db = sqlite_db().await;
    // However loaded the machine, the lane waits for each checkpoint: what is measured is
    // where they happen, not how fast.
    let store = store_with_plan_on(
        &db,
        incentive_store::StoreOptions {
            payout_checkpoint_wait_ms_max: 60_000,
            ..options()
        },
        str::to_owned,
    )
    .await;
    for i in 0..100 {
        let m = enrol(&store, &format!("M{i:03}")).await;
        store
            .add_readings(TENANT, &m, controlled_march(3))
            .await
            .unwrap();
    }
    let path = db.url.trim_start_matches("sqlite://").to_owned();
    let wal = format!("{path}-wal");
    // Enrolment's own writes leave the log as SQLite's checkpoints left it: start from empty.
    let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut c)
        .await
        .unwrap();
    assert_eq!(std::fs::metadata(&wal).unwrap().len(), 0);
    for i in 0..100 {
        store
            .pay(request(&member(&format!("M{i:03}"))))
            .await
            .unwrap();
    }
    let page: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(&mut c)
        .await
        .unwrap();
    // A frame of the log is a page and its 24-byte header.
    let frames = i64::try_from(std::fs::metadata(&wal).unwrap().len()).unwrap() / (page + 24);
    assert!(
        (1..500).contains(&frames),
        "the log held {frames} pages at most over 100 payouts"
    );
    assert!(store.verify(None, &[]).await.unwrap().ok());
    drop(c);
    store.close().await;
    db.cleanup().await;
}
