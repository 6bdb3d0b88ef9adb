//! A finger-stick sent twice by two apps — the meter's in mg/dL, the patient's typing in
//! mmol/L a few minutes off — is named and not stored a second time, on every backend, by
//! one member's batch and by a bulk upload alike; a sender who knows they are two tests keeps
//! both. A sensor's readings are never taken for repeats.
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
use incentive_engine::{Context, Glucose, GlucoseValue, Reading, Source, Window};
use incentive_store::{LikelyDuplicates, Store};

fn typed(day: u32, hour: u32, minute: u32, mmol_l: f64, source: Source) -> Reading {
    Reading {
        time: shanghai()
            .with_ymd_and_hms(2026, 3, day, hour, minute, 0)
            .unwrap(),
        value: GlucoseValue::Measured(Glucose::from_mmol_l(mmol_l).unwrap()),
        context: Context::Unknown,
        source,
    }
}

async fn stored(store: &Store, member: &str) -> usize {
    let window = Window {
        start: shanghai()
            .with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
            .unwrap()
            .to_utc(),
        end: shanghai()
            .with_ymd_and_hms(2026, 4, 1, 0, 0, 0)
            .unwrap()
            .to_utc(),
    };
    store
        .period_inputs(TENANT, &[member], &window)
        .await
        .unwrap()
        .remove(0)
        .readings
        .len()
}

#[tokio::test]
async fn a_finger_stick_typed_again_in_the_other_unit_is_named_and_stored_once() {
    for db in databases().await {
        let store = store_with_plan(&db, str::to_owned).await;
        let m1 = enrol(&store, "M1").await;
        // The meter's app: 7.0 mmol/L (126 mg/dL) at 07:00 on 2 March.
        let first = store
            .add_readings(TENANT, &m1, [fasting(2, 7.0)])
            .await
            .unwrap();
        assert_eq!(first.accepted, 1);
        // Typed by hand at 07:04, and a second test at noon; a sensor's same value at 07:05.
        let again = store
            .add_readings(
                TENANT,
                &m1,
                [
                    typed(2, 7, 4, 7.0, Source::Unspecified),
                    typed(2, 12, 0, 7.0, Source::Smbg),
                    typed(2, 7, 5, 7.0, Source::Cgm),
                ],
            )
            .await
            .unwrap();
        assert_eq!((again.accepted, again.duplicate), (2, 0), "{}", db.label);
        let named: Vec<(String, String, String)> = again
            .likely_duplicates
            .iter()
            .map(|(m, d)| {
                (
                    m.as_str().to_owned(),
                    d.time.to_rfc3339(),
                    d.repeats.to_rfc3339(),
                )
            })
            .collect();
        assert_eq!(
            named,
            [(
                "M1".to_owned(),
                "2026-03-02T07:04:00+08:00".to_owned(),
                "2026-03-02T07:00:00+08:00".to_owned()
            )]
        );
        assert_eq!(stored(&store, "M1").await, 3);

        // The sender knows they were two tests: both kept, still named.
        let kept = store
            .add_readings_with(
                TENANT,
                &m1,
                [typed(2, 7, 4, 7.0, Source::Unspecified)],
                LikelyDuplicates::Keep,
            )
            .await
            .unwrap();
        assert_eq!((kept.accepted, kept.likely_duplicates.len()), (1, 1));
        assert_eq!(stored(&store, "M1").await, 4);

        // In bulk: the repeat inside the upload itself is named too, and each member's
        // findings are their own (M0 sends two tests an hour apart, M2 one test twice).
        let m0 = enrol(&store, "M0").await;
        let m2 = enrol(&store, "M2").await;
        let bulk = store
            .add_readings_many(
                TENANT,
                &[
                    (
                        m0.clone(),
                        vec![
                            typed(3, 7, 0, 6.1, Source::Smbg),
                            typed(3, 8, 0, 6.1, Source::Smbg),
                        ],
                    ),
                    (
                        m2.clone(),
                        vec![
                            typed(3, 7, 0, 6.1, Source::Smbg),
                            typed(3, 7, 9, 6.1, Source::Unspecified),
                        ],
                    ),
                ],
            )
            .await
            .unwrap();
        let named: Vec<&str> = bulk
            .added
            .likely_duplicates
            .iter()
            .map(|(m, _)| m.as_str())
            .collect();
        assert_eq!(
            (bulk.added.accepted, named),
            (3, vec!["M2"]),
            "{}",
            db.label
        );
        assert_eq!(stored(&store, "M0").await, 2);
        assert_eq!(stored(&store, "M2").await, 1);
        store.close().await;
        db.cleanup().await;
    }
}

/// A bulk upload is looked through a few hundred members a read: a member past the first
/// read's has their own repeat found, and the others none.
#[tokio::test]
async fn the_members_of_a_large_upload_are_each_looked_through_past_the_first_read() {
    let db = sqlite_db().await;
    let store = store_with_plan(&db, str::to_owned).await;
    let mut batch = Vec::new();
    for i in 0..300 {
        let member = enrol(&store, &format!("B{i:03}")).await;
        let mut readings = vec![typed(4, 7, 0, 6.1, Source::Smbg)];
        if i == 299 {
            readings.push(typed(4, 7, 5, 6.1, Source::Unspecified));
        }
        batch.push((member, readings));
    }
    let added = store.add_readings_many(TENANT, &batch).await.unwrap();
    let named: Vec<&str> = added
        .added
        .likely_duplicates
        .iter()
        .map(|(m, _)| m.as_str())
        .collect();
    assert_eq!((added.added.accepted, named), (300, vec!["B299"]));
    store.close().await;
    db.cleanup().await;
}
