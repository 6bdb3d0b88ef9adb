//! What a payout reads of its members — profile, the period's readings, the labs before its
//! end — is read in one statement on PostgreSQL (each member's readings as one value) and in
//! three on SQLite. The same records stored in both must read back the same, to the byte of
//! their debug form: the one path is held to the other here, on the records whose edges each
//! could get wrong (the window's two ends, meter `LO`/`HI`, two sources at one instant, labs
//! after the period, a member with nothing, a member not on record).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use chrono::{FixedOffset, TimeZone};
use common::*;
use incentive_engine::policy::MemberProfile;
use incentive_engine::{Context, GlucoseValue, Hba1c, LabResult, Reading, Source};
use incentive_store::Store;
use rust_decimal::Decimal;

fn instant(month: u32, day: u32, hour: u32, minute: u32) -> chrono::DateTime<FixedOffset> {
    shanghai()
        .with_ymd_and_hms(2026, month, day, hour, minute, 0)
        .unwrap()
}

fn reading(
    time: chrono::DateTime<FixedOffset>,
    value: GlucoseValue,
    context: Context,
    source: Source,
) -> Reading {
    Reading {
        time,
        value,
        context,
        source,
    }
}

/// Member A's readings: two before March (Shanghai), the month's first and last instants,
/// `LO` and `HI`, a meter and a sensor reading at one instant, and one in April.
fn readings_of_a() -> Vec<Reading> {
    let mut rs = vec![
        reading(
            instant(2, 28, 23, 59),
            GlucoseValue::Low,
            Context::Unknown,
            Source::Smbg,
        ),
        reading(
            instant(3, 1, 0, 0),
            GlucoseValue::High,
            Context::Unknown,
            Source::Smbg,
        ),
        reading(
            instant(3, 31, 23, 59),
            GlucoseValue::Low,
            Context::Fasting,
            Source::Smbg,
        ),
        reading(
            instant(4, 1, 0, 0),
            GlucoseValue::High,
            Context::Unknown,
            Source::Smbg,
        ),
    ];
    for (source, context) in [
        (Source::Cgm, Context::Unknown),
        (Source::Smbg, Context::PostMeal),
    ] {
        rs.push(reading(
            instant(3, 15, 10, 0),
            GlucoseValue::Measured(incentive_engine::Glucose::from_mmol_l(7.83).unwrap()),
            context,
            source,
        ));
    }
    rs.extend(controlled_march(3));
    rs
}

fn lab(month: u32, day: u32, percent: &str) -> LabResult {
    LabResult {
        time: instant(month, day, 9, 0),
        hba1c: Hba1c::from_percent(percent.parse::<Decimal>().unwrap()).unwrap(),
    }
}

/// A: a full profile, readings on every edge, labs before, in and after March. B: enrolled
/// with nothing. C: readings and labs, no profile fields.
async fn records_on(db: &TestDb) -> String {
    let store: Store = store_with_plan(db, |m| m.to_owned()).await;
    let mut a = MemberProfile::new(member("A"));
    a.age = Some(61);
    a.sex = Some("female".into());
    a.region = Some("上海".into());
    a.diabetes_type = Some("type2".into());
    a.insulin = Some(false);
    a.enrolled_on = Some("2025-11-03".parse().unwrap());
    store.upsert_member(TENANT, &a).await.unwrap();
    store
        .add_readings(TENANT, &member("A"), readings_of_a())
        .await
        .unwrap();
    store
        .add_labs(
            TENANT,
            &member("A"),
            &[lab(1, 5, "7.10"), lab(3, 20, "6.4"), lab(4, 2, "6.0")],
        )
        .await
        .unwrap();
    enrol(&store, "B").await;
    let c = enrol(&store, "C").await;
    store
        .add_readings(TENANT, &c, controlled_march(2))
        .await
        .unwrap();
    store.add_labs(TENANT, &c, &[lab(2, 1, "8")]).await.unwrap();

    let window = march().window(chrono_tz::Asia::Shanghai).unwrap();
    let read = store
        .period_inputs(TENANT, &["A", "NOBODY", "B", "C"], &window)
        .await
        .unwrap();
    // What either path must find, said plainly, so that both being wrong alike fails too.
    let ids: Vec<&str> = read.iter().map(|p| p.profile.id.as_str()).collect();
    assert_eq!(ids, ["A", "B", "C"], "{}", db.label);
    let a = &read[0];
    assert_eq!(a.profile.region.as_deref(), Some("上海"), "{}", db.label);
    // In March: the first instant, the last minute, the two at 10:00 on the 15th, 3 days × 2.
    assert_eq!(a.readings.len(), 2 + 2 + 6, "{}: {a:?}", db.label);
    assert_eq!(
        a.labs
            .iter()
            .map(|l| l.hba1c.percent().to_string())
            .collect::<Vec<_>>(),
        ["7.1", "6.4"],
        "{}",
        db.label
    );
    assert!(read[1].readings.is_empty() && read[1].labs.is_empty());
    assert_eq!((read[2].readings.len(), read[2].labs.len()), (4, 1));
    store.close().await;
    format!("{read:?}")
}

#[tokio::test]
async fn a_members_records_read_in_one_statement_on_postgresql_are_those_sqlite_reads_in_three() {
    let dbs = databases().await;
    let mut seen: Vec<(String, String)> = Vec::new();
    for db in dbs {
        seen.push((db.label.to_owned(), records_on(&db).await));
        db.cleanup().await;
    }
    if let [(first, a), rest @ ..] = seen.as_slice() {
        for (label, b) in rest {
            assert_eq!(a, b, "{first} and {label} read different records");
        }
    }
}

/// SQLite reads a member's readings as one JSON array, each glucose value as `quote()` prints
/// it (15 significant digits, or 21 where 15 would not give the same double back); PostgreSQL
/// as a `float8` array. Either must give back the very double stored, to the last bit:
/// 3,000 values spread over the plausible range with random low bits, and every value a meter
/// reporting mmol/L to one decimal makes.
#[tokio::test]
async fn every_glucose_value_reads_back_as_the_very_double_stored_on_every_backend() {
    let mut values: Vec<f64> = Vec::new();
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    for _ in 0..3_000 {
        // xorshift64: the same values every run.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let unit = (state >> 11) as f64 / (1_u64 << 53) as f64;
        values.push(20.0 + unit * 580.0);
    }
    for tenths in 12..=333 {
        let mmol = f64::from(tenths) / 10.0;
        values.push(
            incentive_engine::Glucose::from_mmol_l(mmol)
                .unwrap()
                .mg_dl(),
        );
    }
    let march_first = instant(3, 1, 0, 0);
    let readings: Vec<Reading> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            reading(
                march_first + chrono::Duration::minutes(i as i64),
                GlucoseValue::Measured(incentive_engine::Glucose::from_mg_dl(*v).unwrap()),
                Context::Unknown,
                Source::Cgm,
            )
        })
        .collect();
    for db in databases().await {
        let store: Store = store_with_plan(&db, |m| m.to_owned()).await;
        let v = enrol(&store, "V").await;
        store
            .add_readings(TENANT, &v, readings.clone())
            .await
            .unwrap();
        let window = march().window(chrono_tz::Asia::Shanghai).unwrap();
        let read = store.period_inputs(TENANT, &["V"], &window).await.unwrap();
        let back: Vec<u64> = read[0]
            .readings
            .values_mg_dl()
            .iter()
            .map(|v| v.to_bits())
            .collect();
        let sent: Vec<u64> = values.iter().map(|v| v.to_bits()).collect();
        assert_eq!(back.len(), sent.len(), "{}", db.label);
        let differ: Vec<(f64, f64)> = sent
            .iter()
            .zip(&back)
            .filter(|(a, b)| a != b)
            .map(|(a, b)| (f64::from_bits(*a), f64::from_bits(*b)))
            .take(5)
            .collect();
        assert!(
            differ.is_empty(),
            "{}: values read back differ (sent, read): {differ:?}",
            db.label
        );
        store.close().await;
        db.cleanup().await;
    }
}
