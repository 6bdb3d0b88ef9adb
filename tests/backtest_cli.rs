//! `incentive backtest`, the built binary against real databases: the policy that paid,
//! backtested over the same history, would have paid exactly what was paid, member by member;
//! another policy over the same history gives its own totals beside the real ones; a reversed
//! payout no longer counts as paid; a readings file gives the database's answer for a policy
//! that reads only readings; and every bad invocation is refused by name, writing nothing.
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
use incentive_engine::policy::PolicySource;
use incentive_simulations::Population;
use incentive_simulations::response::Behaviour;
use incentive_simulations::synth::{Draw, member, period_data};
use incentive_store::{PayoutRequest, Store};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::str::FromStr;

const MEMBERS: u64 = 30;
const PERIODS: usize = 4;
const SEED: u64 = 7;

/// A pool that runs out part-way, so the order members are paid in matters.
fn small_pool(manifest: &str) -> String {
    manifest.replace("pool_budget = 200000000.00", "pool_budget = 90.00")
}

fn write_package(source: &PolicySource, dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    for f in &source.files {
        let path = dir.join(&f.name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &f.text).unwrap();
    }
    dir.to_path_buf()
}

fn any_reading() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("simulations/tests/fixtures/any-reading")
}

fn backtest(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_incentive"))
        .arg("backtest")
        .args(args)
        .output()
        .unwrap()
}

fn summary(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

fn money(v: &Value) -> Decimal {
    Decimal::from_str(
        v.as_str()
            .unwrap_or_else(|| panic!("not a decimal string: {v}")),
    )
    .unwrap()
}

/// A simulated population's year so far in a store, paid period by period in id order;
/// returns what each member was paid, and the readings as a CSV file's text.
async fn history(store: &Store) -> (BTreeMap<String, Decimal>, String) {
    let model = Population::default();
    let first = Period::parse("2026-01").unwrap();
    let who: Vec<_> = (0..MEMBERS)
        .map(|m| member(&model, SEED, m, 0, first.first_day().unwrap()).unwrap())
        .collect();
    for w in &who {
        store.upsert_member(TENANT, &w.profile).await.unwrap();
    }
    let zone = chrono_tz::Asia::Shanghai;
    let mut paid = BTreeMap::new();
    let mut csv = String::from("member_id,time,glucose_mg_dl,context\n");
    let mut period = first;
    for k in 0..PERIODS {
        for (m, w) in who.iter().enumerate() {
            let draw = Draw {
                seed: SEED,
                member: m as u64,
                replication: 0,
            };
            let data =
                period_data(&model, w, &Behaviour::NONE, draw, k as u64, period, zone).unwrap();
            for r in data.readings.iter() {
                let incentive_engine::GlucoseValue::Measured(g) = r.value else {
                    continue;
                };
                let _ = writeln!(
                    csv,
                    "{},{},{},{}",
                    w.profile.id.as_str(),
                    r.time.to_rfc3339(),
                    g.mg_dl(),
                    r.context.as_str()
                );
            }
            store
                .add_readings(TENANT, &w.profile.id, data.readings.iter())
                .await
                .unwrap();
            if let Some(lab) = data.lab {
                store.add_labs(TENANT, &w.profile.id, &[lab]).await.unwrap();
            }
        }
        for w in &who {
            let outcome = store
                .pay(PayoutRequest {
                    tenant: TENANT.into(),
                    member: w.profile.id.clone(),
                    policy_id: PLAN.into(),
                    period,
                })
                .await
                .unwrap();
            *paid
                .entry(w.profile.id.as_str().to_owned())
                .or_insert(Decimal::ZERO) += outcome.decision.reward_posted;
        }
        period = period.next();
    }
    (paid, csv)
}

/// `members.csv` as member (id, or pseudonym for a database's backtest) → (reward,
/// paid_reward).
fn members_csv(dir: &Path) -> BTreeMap<String, (Decimal, Option<Decimal>)> {
    let text = std::fs::read_to_string(dir.join("members.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[col("member_id").or(col("member_pseudonym")).unwrap()].to_owned(),
                (
                    Decimal::from_str(f[col("reward").unwrap()]).unwrap(),
                    col("paid_reward").map(|c| Decimal::from_str(f[c]).unwrap()),
                ),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_that_paid_backtested_over_its_history_would_have_paid_exactly_that() {
    for db in databases().await {
        let store = store_with_plan(&db, small_pool).await;
        let (paid, _) = history(&store).await;
        let total: Decimal = paid.values().sum();
        let root = tempfile::tempdir().unwrap();
        let package = write_package(&policy_with(PLAN, small_pool), &root.path().join("package"));
        let out = root.path().join("out");
        let run = backtest(&[
            "--policy",
            package.to_str().unwrap(),
            "--db",
            &db.url,
            "--tenant",
            TENANT,
            "--from",
            "2026-01",
            "--to",
            "2026-04",
            "--out",
            out.to_str().unwrap(),
        ]);
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success(),
            "{}: {stdout}{}",
            db.label,
            String::from_utf8_lossy(&run.stderr)
        );
        let s = summary(&out);
        assert_eq!(
            money(&s["would_pay"]["total_reward"]),
            total.normalize(),
            "{}",
            db.label
        );
        assert_eq!(
            money(&s["actually_paid"]["total_reward"]),
            total.normalize()
        );
        assert_eq!(money(&s["difference_reward"]), Decimal::ZERO);
        assert!(
            s["would_pay"]["pool_exhausted_in"].is_string(),
            "{}: the pool is meant to run out: {s}",
            db.label
        );
        assert_eq!(s["members"], MEMBERS);
        assert_eq!(s["source"]["tenant"], TENANT);
        // Members by the tenant's pseudonym, never by the platform's id: the tables are an
        // actuary's.
        let pseudonyms = store.pseudonyms(TENANT).await.unwrap();
        let paid: BTreeMap<String, Decimal> = paid
            .iter()
            .map(|(id, amount)| (pseudonyms.of(id), *amount))
            .collect();
        let members = members_csv(&out);
        assert_eq!(members.len() as u64, MEMBERS);
        for (pseudonym, (would, actual)) in &members {
            assert_eq!(
                *would,
                paid[pseudonym].normalize(),
                "{}: {pseudonym}",
                db.label
            );
            assert_eq!(
                *actual,
                Some(paid[pseudonym].normalize()),
                "{}: {pseudonym}",
                db.label
            );
        }
        let rows = std::fs::read_to_string(out.join("member_periods.csv")).unwrap();
        assert!(rows.starts_with("member_pseudonym,period,"), "{rows}");
        for table in [
            rows.clone(),
            std::fs::read_to_string(out.join("members.csv")).unwrap(),
        ] {
            for id in store.member_ids(TENANT).await.unwrap() {
                assert!(
                    !table.contains(&format!("{id},")),
                    "{}: `{id}` in a table",
                    db.label
                );
            }
        }
        assert_eq!(rows.lines().count() - 1, MEMBERS as usize * PERIODS);
        assert!(out.join("member_periods.parquet").is_file());
        assert!(
            stdout.contains(&format!("would pay      {} CNY", total.normalize())),
            "{stdout}"
        );

        // The same backtest again writes the same bytes.
        let again = root.path().join("again");
        let mut args: Vec<String> = vec![
            "--policy".into(),
            package.display().to_string(),
            "--db".into(),
            db.url.clone(),
            "--tenant".into(),
            TENANT.into(),
            "--from".into(),
            "2026-01".into(),
            "--to".into(),
            "2026-04".into(),
            "--out".into(),
        ];
        args.push(again.display().to_string());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        assert!(backtest(&refs).status.success());
        for f in [
            "summary.json",
            "members.csv",
            "member_periods.csv",
            "members.parquet",
        ] {
            assert_eq!(
                std::fs::read(out.join(f)).unwrap(),
                std::fs::read(again.join(f)).unwrap(),
                "{f}"
            );
        }
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_policy_over_the_same_history_is_set_beside_what_was_paid() {
    for db in databases().await {
        let store = store_with_plan(&db, small_pool).await;
        let (paid, csv) = history(&store).await;
        // Reverse one member's first payout: what stands paid drops by its amount.
        let decisions = store.decisions(TENANT, None).await.unwrap();
        let reversed = decisions
            .iter()
            .find(|d| d.reward_posted > Decimal::ZERO)
            .unwrap();
        store
            .reverse(TENANT, &reversed.id, "paid in error", "auditor")
            .await
            .unwrap();
        let total: Decimal = paid.values().sum::<Decimal>() - reversed.reward_posted;

        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        let run = backtest(&[
            "--policy",
            any_reading().to_str().unwrap(),
            "--db",
            &db.url,
            "--tenant",
            TENANT,
            "--from",
            "2026-01",
            "--to",
            "2026-04",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let s = summary(&out);
        // Ten yuan for every member-month with a reading.
        let rows = std::fs::read_to_string(out.join("member_periods.csv")).unwrap();
        let with_readings = rows
            .lines()
            .skip(1)
            .filter(|l| l.split(',').nth(2).unwrap() != "0")
            .count();
        let would = Decimal::from(with_readings * 10);
        assert_eq!(money(&s["would_pay"]["total_reward"]), would);
        assert_eq!(
            money(&s["actually_paid"]["total_reward"]),
            total.normalize()
        );
        assert_eq!(money(&s["difference_reward"]), (would - total).normalize());
        assert_eq!(
            money(&s["actually_paid"]["by_policy"][PLAN]),
            total.normalize()
        );

        // The readings file of the same history gives the same would-pay: this policy reads
        // nothing but readings.
        let file = root.path().join("readings.csv");
        std::fs::write(&file, &csv).unwrap();
        let from_file = root.path().join("from-file");
        let run = backtest(&[
            "--policy",
            any_reading().to_str().unwrap(),
            "--readings",
            file.to_str().unwrap(),
            "--from",
            "2026-01",
            "--to",
            "2026-04",
            "--out",
            from_file.to_str().unwrap(),
        ]);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let f = summary(&from_file);
        assert_eq!(money(&f["would_pay"]["total_reward"]), would);
        assert!(f["actually_paid"].is_null());
        assert_eq!(f["source"]["kind"], "readings_file");
        let header = std::fs::read_to_string(from_file.join("members.csv")).unwrap();
        assert_eq!(header.lines().next().unwrap(), "member_id,reward");
        store.close().await;
        db.cleanup().await;
    }
}

#[test]
fn bad_invocations_are_refused_by_name_and_write_nothing() {
    let root = tempfile::tempdir().unwrap();
    let missing_db = root.path().join("missing.db");
    let missing_url = format!("sqlite://{}", missing_db.display());
    let bad_readings = root.path().join("bad.csv");
    std::fs::write(
        &bad_readings,
        "member_id,time,glucose_mg_dl\nM1,2026-01-03T08:00:00+08:00,120\nM1,yesterday,130\n",
    )
    .unwrap();
    let policy = any_reading();
    let policy = policy.to_str().unwrap();
    let readings = bad_readings.to_str().unwrap();
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        (
            "a SQLite file that does not exist",
            vec![
                "--db",
                &missing_url,
                "--tenant",
                "t",
                "--from",
                "2026-01",
                "--to",
                "2026-02",
            ],
            "there is no SQLite database at",
        ),
        (
            "--to before --from",
            vec![
                "--readings",
                readings,
                "--from",
                "2026-05",
                "--to",
                "2026-02",
            ],
            "--to `2026-02` is before --from `2026-05`",
        ),
        (
            "a quarter for a monthly policy",
            vec![
                "--readings",
                readings,
                "--from",
                "2026-Q1",
                "--to",
                "2026-Q2",
            ],
            "--from `2026-Q1` is not a monthly period",
        ),
        (
            "more periods than allowed",
            vec![
                "--readings",
                readings,
                "--from",
                "2020-01",
                "--to",
                "2036-01",
            ],
            "spans more than 120 periods",
        ),
        (
            "a database and a readings file",
            vec![
                "--db",
                &missing_url,
                "--tenant",
                "t",
                "--readings",
                readings,
                "--from",
                "2026-01",
                "--to",
                "2026-02",
            ],
            "cannot be used with",
        ),
        (
            "neither a database nor a readings file",
            vec!["--from", "2026-01", "--to", "2026-02"],
            "--db",
        ),
        (
            "a bad row in the readings file",
            vec![
                "--readings",
                readings,
                "--from",
                "2026-01",
                "--to",
                "2026-02",
            ],
            "line 3, field `time`",
        ),
    ];
    for (what, args, expected) in cases {
        let out = root.path().join("out");
        let mut all = vec!["--policy", policy, "--out", out.to_str().unwrap()];
        all.extend(args);
        let run = backtest(&all);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(!run.status.success(), "{what}: succeeded");
        assert!(stderr.contains(expected), "{what}: {stderr}");
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        assert!(!out.exists(), "{what}: wrote {}", out.display());
    }
    assert!(!missing_db.exists(), "the backtest created a database");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_the_database_does_not_have_is_refused() {
    let db = sqlite_db().await;
    let store = store_with_plan(&db, |m| m.to_owned()).await;
    store.close().await;
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("out");
    let run = backtest(&[
        "--policy",
        any_reading().to_str().unwrap(),
        "--db",
        &db.url,
        "--tenant",
        "nobody",
        "--from",
        "2026-01",
        "--to",
        "2026-01",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(stderr.contains("no tenant `nobody`"), "{stderr}");
    assert!(!out.exists());
    db.cleanup().await;
}

/// A health system's FHIR export is a history too: each patient, named by their identifier in
/// the system given, decided as `evaluate` decides them (M-0001's March earns tangdaifu-smbg's
/// top rebate, 30.00; M-0002's finger-sticks are not fasting ones).
#[test]
fn a_fhir_export_about_two_patients_is_backtested_patient_by_patient() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("fhir");
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let run = backtest(&[
        "--policy",
        repo.join("policies/tangdaifu-smbg").to_str().unwrap(),
        "--readings",
        repo.join("examples/readings/fhir-two-patients.json")
            .to_str()
            .unwrap(),
        "--identifier-system",
        "https://insurer.example/member-id",
        "--from",
        "2026-03",
        "--to",
        "2026-03",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains("fhir: 24 rows: 19 kept; 2 HbA1c results kept as labs"),
        "{stderr}"
    );
    let members = members_csv(&out);
    let rewards: Vec<(&str, Decimal)> = members
        .iter()
        .map(|(m, (reward, _))| (m.as_str(), *reward))
        .collect();
    assert_eq!(
        rewards,
        [("M-0001", Decimal::new(3000, 2)), ("M-0002", Decimal::ZERO)]
    );
}
