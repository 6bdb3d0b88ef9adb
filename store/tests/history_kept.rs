//! The metrics a policy keeps (`[history] keep`) are stored with each decision and read back by
//! the next period's, across versions of the same policy, on every backend: cgm-improvement
//! pays a quarter for rising 20 points of time in range over the quarter before, which was
//! decided by the version before it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use chrono::{Duration, TimeZone};
use common::*;
use incentive_engine::{Context, Glucose, GlucoseValue, Period, Reading, Source};
use incentive_store::{PayoutRequest, Store};
use rust_decimal::Decimal;

const IMPROVEMENT: &str = "cgm-improvement";

/// A sensor reading every 15 minutes for 20 days from the quarter's first day, `in_range` of
/// each five at 120 mg/dL and the rest at 220: time in range `in_range × 20` %.
fn quarter_trace(month: u32, in_range: usize) -> Vec<Reading> {
    let start = shanghai()
        .with_ymd_and_hms(2026, month, 1, 0, 0, 0)
        .unwrap();
    (0..20 * 96)
        .map(|i| Reading {
            time: start + Duration::minutes(15 * i as i64),
            value: GlucoseValue::Measured(
                Glucose::from_mg_dl(if i % 5 < in_range { 120.0 } else { 220.0 }).unwrap(),
            ),
            context: Context::Unknown,
            source: Source::Cgm,
        })
        .collect()
}

fn quarter(text: &str) -> PayoutRequest {
    PayoutRequest {
        tenant: TENANT.into(),
        member: member("C1"),
        policy_id: IMPROVEMENT.into(),
        period: Period::parse(text).unwrap(),
    }
}

#[tokio::test]
async fn a_quarter_reads_the_time_in_range_the_quarter_before_kept_across_versions() {
    for db in databases().await {
        let store = Store::open(&db.url, options()).await.unwrap();
        store.create_tenant(TENANT).await.unwrap();
        // 1.0.0 decides Q1; 1.1.0, from April, decides Q2 and reads what 1.0.0 kept.
        let first = policy_with(IMPROVEMENT, |m| {
            m.replace("effective_to = 2027-12-31", "effective_to = 2026-03-31")
        });
        let second = policy_with(IMPROVEMENT, |m| {
            m.replace("version = \"1.0.0\"", "version = \"1.1.0\"")
                .replace("effective_from = 2026-01-01", "effective_from = 2026-04-01")
        });
        for source in [&first, &second] {
            let v = store.put_policy(TENANT, source).await.unwrap();
            store
                .publish_policy(TENANT, IMPROVEMENT, &v.version)
                .await
                .unwrap();
        }
        let m = enrol(&store, "C1").await;
        let mut readings = quarter_trace(1, 2);
        readings.extend(quarter_trace(4, 3));
        store.add_readings(TENANT, &m, readings).await.unwrap();

        let q1 = store.pay(quarter("2026-Q1")).await.unwrap().decision;
        assert_eq!(q1.policy_version, "1.0.0", "{}", db.label);
        assert_eq!(q1.reward, Decimal::ZERO);
        let body: serde_json::Value = serde_json::from_str(&q1.body).unwrap();
        assert_eq!(body["kept"], serde_json::json!({ "tir_percent": "40" }));
        assert_eq!(
            body["explanation"][0]["id"], "tir-nothing-to-compare",
            "{}",
            body["explanation"]
        );

        let q2 = store.pay(quarter("2026-Q2")).await.unwrap().decision;
        assert_eq!(q2.policy_version, "1.1.0", "{}", db.label);
        assert_eq!(
            q2.reward,
            Decimal::new(6000, 2),
            "{}: {}",
            db.label,
            q2.body
        );
        assert!(
            q2.body
                .contains(r#""before":"2026-Q1","earlier":"40","gain":"20""#),
            "{}",
            q2.body
        );
        // Replayed from what the store kept, the decision is the same bytes.
        assert!(store.verify(None, &[]).await.unwrap().ok(), "{}", db.label);
        store.close().await;
        db.cleanup().await;
    }
}
