//! Reading a readings CSV while handing each member over as soon as all its rows are read: what
//! is handed over is what the finished result holds, member by member, as long as the file keeps
//! each member's rows together; when it does not, the reader says so once and hands over
//! nothing more. The finished result is always the plain reader's.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

use incentive_engine::ingest::{
    BadRows, CsvOptions, Handover, ReadingsByMember, read_readings_csv,
    read_readings_csv_handing_over,
};
use incentive_engine::{MemberId, Readings, Window};
use proptest::prelude::*;

/// What the reader handed over, in order: a member's id and readings, or `None` for
/// [`Handover::NotGrouped`].
type Heard = Vec<Option<(MemberId, Readings)>>;

fn options(window: Option<Window>) -> CsvOptions {
    CsvOptions {
        source_name: "upload.csv".into(),
        unit: None,
        window,
        bad_rows: BadRows::Skip,
    }
}

fn read_both(csv: &str, window: Option<Window>) -> (ReadingsByMember, Heard) {
    let plain = read_readings_csv(csv.as_bytes(), &options(window), &mut |_| {}).unwrap();
    let mut heard = Heard::new();
    let handing =
        read_readings_csv_handing_over(csv.as_bytes(), &options(window), &mut |_| {}, &mut |h| {
            heard.push(match h {
                Handover::Member(id, readings) => Some((id.clone(), readings)),
                Handover::NotGrouped => None,
            });
        })
        .unwrap();
    assert_eq!(handing, plain, "the finished result is the plain reader's");
    (plain, heard)
}

fn ids(heard: &Heard) -> Vec<Option<String>> {
    heard
        .iter()
        .map(|h| h.as_ref().map(|(id, _)| id.to_string()))
        .collect()
}

const HEADER: &str = "member_id,time,glucose_mg_dl,source\n";

#[test]
fn a_file_grouped_by_member_hands_each_over_once_in_file_order_with_its_finished_readings() {
    // B's rows out of time order and one given twice: handed over sorted and once, as the
    // result holds them. A bad row between members changes nothing.
    let csv = format!(
        "{HEADER}\
         B,2026-03-02T08:00:00+08:00,120,smbg\n\
         B,2026-03-01T08:00:00+08:00,110,smbg\n\
         B,2026-03-01T08:00:00+08:00,111,smbg\n\
         B,not a time,100,smbg\n\
         A,2026-03-01T09:00:00+08:00,95,smbg\n\
         C,2026-03-01T10:00:00+08:00,99,cgm\n"
    );
    let (result, heard) = read_both(&csv, None);
    assert_eq!(
        ids(&heard),
        [Some("B".into()), Some("A".into()), Some("C".into())]
    );
    for (id, readings) in heard.into_iter().flatten() {
        assert_eq!(Some(&readings), result.members.get(&id), "{id}");
    }
    assert_eq!(result.members.len(), 3);
}

#[test]
fn a_member_whose_rows_resume_after_another_members_stops_the_handover_once() {
    let csv = format!(
        "{HEADER}\
         A,2026-03-01T08:00:00+08:00,100,smbg\n\
         B,2026-03-01T08:00:00+08:00,110,smbg\n\
         C,2026-03-01T08:00:00+08:00,120,smbg\n\
         A,2026-03-02T08:00:00+08:00,130,smbg\n\
         D,2026-03-01T08:00:00+08:00,140,smbg\n\
         B,2026-03-02T08:00:00+08:00,150,smbg\n"
    );
    let (result, heard) = read_both(&csv, None);
    // A and B were handed over when the file moved on from them; A's second row ends that.
    assert_eq!(ids(&heard), [Some("A".into()), Some("B".into()), None]);
    assert_eq!(result.members.len(), 4);
    assert_eq!(result.report.accepted, 6);
}

#[test]
fn a_member_every_row_of_which_falls_outside_the_window_is_not_handed_over() {
    let window = Window::new(
        "2026-03-01T00:00:00+08:00".parse().unwrap(),
        "2026-04-01T00:00:00+08:00".parse().unwrap(),
    )
    .unwrap();
    let csv = format!(
        "{HEADER}\
         A,2026-02-01T08:00:00+08:00,100,smbg\n\
         B,2026-03-01T08:00:00+08:00,110,smbg\n\
         C,2026-04-01T08:00:00+08:00,120,smbg\n"
    );
    let (result, heard) = read_both(&csv, Some(window));
    assert_eq!(ids(&heard), [Some("B".into())]);
    assert_eq!(result.report.outside_window, 2);
}

#[test]
fn an_empty_file_and_a_file_of_bad_rows_hand_over_nothing() {
    for csv in [
        HEADER.to_owned(),
        format!("{HEADER}A,never,100,smbg\nB,2026-03-01T08:00:00+08:00,x,smbg\n"),
    ] {
        let (result, heard) = read_both(&csv, None);
        assert!(heard.is_empty(), "{csv}: {heard:?}");
        assert!(result.members.is_empty());
    }
}

/// A row: member, day, hour, source, and whether it is unreadable.
fn row() -> impl Strategy<Value = (u8, u8, u8, bool, bool)> {
    (
        0_u8..4,
        1_u8..4,
        0_u8..3,
        any::<bool>(),
        prop::bool::weighted(0.1),
    )
}

fn csv_of(rows: &[(u8, u8, u8, bool, bool)]) -> String {
    let mut csv = HEADER.to_owned();
    for (i, (m, day, hour, cgm, bad)) in rows.iter().enumerate() {
        let value = if *bad {
            "high".to_owned()
        } else {
            (70 + i % 100).to_string()
        };
        let source = if *cgm { "cgm" } else { "smbg" };
        csv.push_str(&format!(
            "M{m},2026-03-0{day}T{:02}:00:00+08:00,{value},{source}\n",
            8 + hour
        ));
    }
    csv
}

/// Whether each member's readable rows are together in `rows`.
fn grouped(rows: &[(u8, u8, u8, bool, bool)]) -> bool {
    let order: Vec<u8> = rows.iter().filter(|r| !r.4).map(|r| r.0).collect();
    let mut runs: Vec<u8> = order.clone();
    runs.dedup();
    let mut distinct = runs.clone();
    distinct.sort_unstable();
    distinct.dedup();
    runs.len() == distinct.len()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn whatever_the_rows_order_the_result_is_the_plain_readers_and_what_is_handed_over_is_it(
        rows in prop::collection::vec(row(), 0..40),
        sort_by_member in any::<bool>(),
    ) {
        let mut rows = rows;
        if sort_by_member {
            rows.sort_by_key(|r| r.0);
        }
        let (result, heard) = read_both(&csv_of(&rows), None);
        let stopped = heard.iter().filter(|h| h.is_none()).count();
        prop_assert_eq!(stopped, usize::from(!grouped(&rows)));
        if stopped == 0 {
            // Every member once, each exactly as the result holds it.
            prop_assert_eq!(heard.len(), result.members.len());
            for (id, readings) in heard.into_iter().flatten() {
                prop_assert_eq!(Some(&readings), result.members.get(&id));
            }
        } else {
            prop_assert!(heard.last().is_some_and(Option::is_none), "nothing after NotGrouped");
        }
    }
}
