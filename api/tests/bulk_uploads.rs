//! A bulk upload is stored while it is read when the body keeps each member's readings
//! together, and once read whole when it does not; either way the answer and every row stored
//! are the same — on every backend, in CSV and in NDJSON, across batches, with members not
//! enrolled, readings twice, likely duplicates and bad rows among them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

#[path = "../../store/tests/common/mod.rs"]
mod common;
mod world;

use axum::http::StatusCode;
use common::*;
use serde_json::Value;
use world::*;

/// Members enrolled, and members not.
const ENROLLED: usize = 45;
const NOT_ENROLLED: usize = 5;
/// Distinct readings a member: with 50 members, more than one batch of the store's while the
/// upload is read (20,000 readings).
const READINGS: usize = 500;

fn member_ids() -> Vec<String> {
    (0..ENROLLED)
        .map(|i| format!("E{i:02}"))
        .chain((0..NOT_ENROLLED).map(|i| format!("N{i}")))
        .collect()
}

/// One member's rows, each as (CSV line, NDJSON line), or `None` for the unreadable one: 500
/// finger-sticks 20 minutes apart from 1 March, then the first again (a duplicate), the same
/// value as the eleventh typed 3 minutes before it without a source (a likely duplicate), and
/// a row without a time.
fn rows_of(member: &str) -> Vec<(String, String)> {
    let time = |minutes: usize| {
        let t = chrono::DateTime::parse_from_rfc3339("2026-03-01T00:00:00+08:00").unwrap()
            + chrono::Duration::minutes(i64::try_from(minutes).unwrap());
        t.to_rfc3339()
    };
    let value = |i: usize| 80 + (i * 7) % 120;
    let row = |t: String, v: usize, source: &str| {
        let json_source = if source.is_empty() {
            String::new()
        } else {
            format!(r#","source":"{source}""#)
        };
        (
            format!("{member},{t},{v},{source}"),
            format!(r#"{{"member_id":"{member}","time":"{t}","glucose_mg_dl":{v}{json_source}}}"#),
        )
    };
    let mut rows: Vec<_> = (0..READINGS)
        .map(|i| row(time(i * 20), value(i), "smbg"))
        .collect();
    rows.push(row(time(0), value(0), "smbg"));
    rows.push(row(time(10 * 20 - 3), value(10), ""));
    rows.push((
        format!("{member},,100,smbg"),
        format!(r#"{{"member_id":"{member}","glucose_mg_dl":100}}"#),
    ));
    rows
}

/// The body of `rows`, in CSV or NDJSON.
fn body(rows: &[(String, String)], csv: bool) -> String {
    let lines = rows.iter().map(|(c, j)| if csv { c } else { j });
    let mut out = if csv {
        "member_id,time,glucose_mg_dl,source\n".to_owned()
    } else {
        String::new()
    };
    for line in lines {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Each member's rows together, members in reverse order of their ids (the store sees them in
/// the body's order, not sorted).
fn grouped() -> Vec<(String, String)> {
    member_ids().iter().rev().flat_map(|m| rows_of(m)).collect()
}

/// The same rows, the members' taken in turn: no member's rows together.
fn interleaved() -> Vec<(String, String)> {
    let each: Vec<Vec<_>> = member_ids().iter().map(|m| rows_of(m)).collect();
    let longest = each.iter().map(Vec::len).max().unwrap_or(0);
    (0..longest)
        .flat_map(|i| each.iter().filter_map(move |rows| rows.get(i).cloned()))
        .collect()
}

async fn upload_to_a_fresh_world(db: &TestDb, body: String, csv: bool) -> (Value, Vec<String>) {
    let w = world(db).await;
    for id in member_ids().iter().take(ENROLLED) {
        enrol(&w.store, id).await;
    }
    let content_type = if csv {
        "text/csv"
    } else {
        "application/x-ndjson"
    };
    let (status, answer) = w
        .call_raw("POST", "/v1/readings", "platform", content_type, body)
        .await;
    assert_eq!(status, StatusCode::OK, "{}: {answer}", db.label);
    let (_, metrics) = w.call("GET", "/metrics", None, &[], None).await;
    let counted: Vec<String> = metrics
        .as_str()
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("incentive_uploads_total"))
        .map(str::to_owned)
        .collect();
    let stored = query_texts(
        db,
        "SELECT member_id || ' ' || time_ms || ' ' || source || ' ' || offset_s || ' ' \
         || COALESCE(CAST(mg_dl AS TEXT), '-') || ' ' || context \
         FROM readings WHERE tenant = $1 ORDER BY member_id, time_ms, source",
        &[TENANT],
    )
    .await;
    w.store.close().await;
    let mut answer = answer;
    answer["counted"] = Value::from(counted);
    (answer, stored)
}

/// The answer with the bad rows' line numbers left out and those rows sorted by reason: the
/// two bodies put them on other lines, in another order.
fn without_lines(answer: &Value) -> Value {
    let mut a = answer.clone();
    let rejections = a["rejections"].as_array_mut().unwrap();
    for r in rejections.iter_mut() {
        if r["index"] != 0 {
            r["index"] = Value::from("a line");
            let reason = r["reason"].as_str().unwrap();
            r["reason"] = Value::from(reason.split_once(": ").map_or(reason, |(_, why)| why));
        }
    }
    let lines = rejections.iter().take_while(|r| r["index"] != 0).count();
    rejections[..lines].sort_by_key(|r| r["reason"].to_string());
    a["counted"] = Value::Null;
    a
}

#[tokio::test]
async fn an_upload_is_stored_while_read_when_each_members_rows_are_together_and_the_same_when_not()
{
    for csv in [true, false] {
        let format = if csv { "CSV" } else { "NDJSON" };
        for (db_grouped, db_interleaved) in databases().await.into_iter().zip(databases().await) {
            let (a, stored_a) =
                upload_to_a_fresh_world(&db_grouped, body(&grouped(), csv), csv).await;
            let (b, stored_b) =
                upload_to_a_fresh_world(&db_interleaved, body(&interleaved(), csv), csv).await;
            let label = format!("{format}, {}", db_grouped.label);

            assert_eq!(
                a["counted"],
                serde_json::json!(["incentive_uploads_total{stored=\"while_read\"} 1"]),
                "{label}"
            );
            assert_eq!(
                b["counted"],
                serde_json::json!(["incentive_uploads_total{stored=\"once_read\"} 1"]),
                "{label}"
            );
            assert_eq!(without_lines(&a), without_lines(&b), "{label}");
            assert_eq!(stored_a, stored_b, "{label}");

            let members = ENROLLED + NOT_ENROLLED;
            assert_eq!(a["rows"], members * (READINGS + 3), "{label}: {a}");
            // Every enrolled member's 500 distinct readings; the likely duplicate set apart.
            assert_eq!(a["accepted"], ENROLLED * READINGS, "{label}");
            assert_eq!(stored_a.len(), ENROLLED * READINGS, "{label}");
            assert_eq!(
                a["likely_duplicates"].as_array().unwrap().len(),
                ENROLLED,
                "{label}"
            );
            // The first reading again, each member: the CSV reader drops it, the database
            // refuses it for NDJSON; not enrolled members' readings are rejected instead.
            let again = if csv { members } else { ENROLLED };
            assert_eq!(a["duplicate"], again, "{label}");
            let not_enrolled = a["rejections"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["index"] == 0)
                .map(|r| {
                    r["reason"]
                        .as_str()
                        .unwrap()
                        .split('`')
                        .nth(1)
                        .unwrap()
                        .to_owned()
                })
                .collect::<Vec<_>>();
            assert_eq!(
                not_enrolled,
                ["N0", "N1", "N2", "N3", "N4"],
                "{label}: in member order"
            );

            db_grouped.cleanup().await;
            db_interleaved.cleanup().await;
        }
    }
}

#[tokio::test]
async fn a_member_whose_rows_resume_after_batches_were_written_leaves_none_of_them_stored_twice() {
    // Grouped for more than a batch, then the first member's first row again at the end.
    let mut late = grouped();
    late.push(late[0].clone());
    let mut mixed = interleaved();
    mixed.push(late[0].clone());
    for (db_late, db_mixed) in databases().await.into_iter().zip(databases().await) {
        let (a, stored_a) = upload_to_a_fresh_world(&db_late, body(&late, true), true).await;
        let (b, stored_b) = upload_to_a_fresh_world(&db_mixed, body(&mixed, true), true).await;
        assert_eq!(
            a["counted"],
            serde_json::json!(["incentive_uploads_total{stored=\"once_read\"} 1"]),
            "{}: the late row is seen after batches were written, so they are rolled back",
            db_late.label
        );
        assert_eq!(without_lines(&a), without_lines(&b), "{}", db_late.label);
        assert_eq!(stored_a, stored_b, "{}", db_late.label);
        db_late.cleanup().await;
        db_mixed.cleanup().await;
    }
}
