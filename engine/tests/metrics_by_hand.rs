//! Every metric against values worked out by hand, including the edges: an empty record, one
//! reading, all-equal readings, meter flags, units, period and day boundaries.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use chrono_tz::Asia::Shanghai;
use common::{close, load, member_id, metrics_of_rows, readings_of, window};
use incentive_engine::metrics::daily::{daily_summaries, longest_run_of_days};
use incentive_engine::time::parse_timestamp;
use incentive_engine::{DayBoundary, Hba1c, LabResult, Period, Record, compute_metrics};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// Computes the metrics of `rows` (member M1, mg/dL) and compares the named fields.
fn check(rows: &[(&str, &str)], expected: Value) {
    let metrics = serde_json::to_value(metrics_of_rows(rows)).unwrap_or(Value::Null);
    for (field, want) in expected.as_object().cloned().unwrap_or_default() {
        let got = &metrics[&field];
        let same = match (got.as_f64(), want.as_f64()) {
            (Some(g), Some(w)) => close(g, w, 1e-12),
            _ => *got == want,
        };
        assert!(same, "{field}: got {got}, want {want}");
    }
}

/// Readings every five minutes from 08:00 on 1 March 2026, +08:00.
fn every_five_minutes(values: &[&'static str]) -> Vec<(String, &'static str)> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let minutes = 8 * 60 + 5 * i;
            (
                format!(
                    "2026-03-01T{:02}:{:02}:00+08:00",
                    minutes / 60,
                    minutes % 60
                ),
                *v,
            )
        })
        .collect()
}

fn as_rows<'a>(owned: &'a [(String, &'static str)]) -> Vec<(&'a str, &'static str)> {
    owned.iter().map(|(t, v)| (t.as_str(), *v)).collect()
}

#[test]
fn an_empty_record_has_counts_of_zero_and_no_made_up_figures() {
    check(
        &[],
        json!({
            "n_readings": 0, "days_with_readings": 0, "mean_mg_dl": null, "sd_mg_dl": null,
            "cv_percent": null, "gmi_percent": null, "tir_percent": null, "gri": null,
            "lbgi": null, "active_percent": null, "readings_per_week": null,
            "hypo_episodes": null, "first_time": null, "hba1c_latest_percent": null
        }),
    );
}

#[test]
fn a_single_reading_has_a_mean_but_no_spread() {
    check(
        &[("2026-03-01T08:00:00+08:00", "100")],
        json!({
            "n_readings": 1, "mean_mg_dl": 100.0, "mean_mmol_l": 100.0 / 18.0,
            "sd_mg_dl": null, "cv_percent": null, "j_index": null,
            "gmi_percent": 3.31 + 0.02392 * 100.0,
            "tir_percent": 100.0, "tbr_percent": 0.0, "tar_percent": 0.0, "gri": 0.0,
            "active_percent": null, "days_with_readings": 1, "readings_per_week": 7.0,
            "first_time": "2026-03-01T08:00:00+08:00", "last_time": "2026-03-01T08:00:00+08:00"
        }),
    );
}

#[test]
fn all_equal_readings_have_a_standard_deviation_of_exactly_zero() {
    let rows = every_five_minutes(&["120"; 6]);
    check(
        &as_rows(&rows),
        json!({ "sd_mg_dl": 0.0, "cv_percent": 0.0, "j_index": 0.001 * 120.0 * 120.0,
                "active_percent": 100.0, "sampling_interval_minutes": 5.0 }),
    );
}

#[test]
fn mean_and_sample_sd_of_four_values_match_the_textbook() {
    // 80, 100, 120, 140: mean 110, squared deviations 900+100+100+900 = 2000, /3.
    let rows = every_five_minutes(&["80", "100", "120", "140"]);
    let sd = (2000.0_f64 / 3.0).sqrt();
    check(
        &as_rows(&rows),
        json!({ "mean_mg_dl": 110.0, "sd_mg_dl": sd, "cv_percent": 100.0 * sd / 110.0,
                "j_index": 0.001 * (110.0 + sd) * (110.0 + sd), "gmi_percent": 3.31 + 0.02392 * 110.0 }),
    );
}

#[test]
fn range_percentages_are_inclusive_inside_and_strict_outside() {
    // 54 and 70 are not below their thresholds; 180 and 250 are not above theirs.
    let rows = every_five_minutes(&[
        "53.9", "54", "69.9", "70", "180", "180.1", "250", "250.1", //
        "100", "100", "100", "100", "100", "100", "100", "100",
    ]);
    check(
        &as_rows(&rows),
        json!({ "tbr_level2_percent": 6.25, "tbr_percent": 18.75, "tir_percent": 62.5,
                "tar_percent": 18.75, "tar_level2_percent": 6.25,
                // VLow 6.25, Low 12.5, VHigh 6.25, High 12.5
                "gri": 3.0 * 6.25 + 2.4 * 12.5 + 1.6 * 6.25 + 0.8 * 12.5 }),
    );
}

#[test]
fn gri_is_capped_at_one_hundred() {
    let rows = every_five_minutes(&["40", "40", "40", "40"]);
    check(
        &as_rows(&rows),
        json!({ "tbr_level2_percent": 100.0, "gri": 100.0 }),
    );
}

#[test]
fn lo_and_hi_count_below_and_above_every_threshold_but_stay_out_of_the_mean() {
    let rows = every_five_minutes(&[
        "LO", "100", "100", "100", "100", "100", "100", "100", "100", "HI",
    ]);
    check(
        &as_rows(&rows),
        json!({ "n_readings": 10, "n_measured": 8, "n_low_flags": 1, "n_high_flags": 1,
                "mean_mg_dl": 100.0, "sd_mg_dl": 0.0, "tbr_percent": 10.0, "tbr_level2_percent": 10.0,
                "tar_percent": 10.0, "tar_level2_percent": 10.0, "tir_percent": 80.0,
                "gri": 3.0 * 10.0 + 1.6 * 10.0 }),
    );
}

#[test]
fn risk_indices_follow_kovatchev_with_n_all_measured_readings() {
    let f = |g: f64| 1.509 * (g.ln().powf(1.084) - 5.381);
    let rows = every_five_minutes(&["60", "100", "200", "300"]);
    let lbgi = 10.0 * (f(60.0).powi(2) + f(100.0).powi(2)) / 4.0;
    let hbgi = 10.0 * (f(200.0).powi(2) + f(300.0).powi(2)) / 4.0;
    check(&as_rows(&rows), json!({ "lbgi": lbgi, "hbgi": hbgi }));
}

#[test]
fn the_same_readings_in_mmol_per_litre_give_the_same_metrics() {
    let mg = "member_id,time,glucose_mg_dl\nM1,2026-03-01T08:00:00+08:00,99\nM1,2026-03-01T08:05:00+08:00,126\nM1,2026-03-01T08:10:00+08:00,180\nM1,2026-03-01T08:15:00+08:00,54\n";
    let mmol = "member_id,time,glucose_mmol_l\nM1,2026-03-01T08:00:00+08:00,5.5\nM1,2026-03-01T08:05:00+08:00,7.0\nM1,2026-03-01T08:10:00+08:00,10.0\nM1,2026-03-01T08:15:00+08:00,3.0\n";
    let of = |csv: &str| {
        compute_metrics(&Record::new(
            member_id("M1"),
            readings_of(csv, "M1"),
            vec![],
        ))
    };
    assert_eq!(of(mg), of(mmol));
}

#[test]
fn a_reading_at_the_last_second_of_a_month_belongs_to_it_and_midnight_to_the_next() {
    let csv = "member_id,time,glucose_mg_dl\nM1,2026-03-31T23:59:59+08:00,100\nM1,2026-04-01T00:00:00+08:00,110\nM1,2026-03-31T16:00:01Z,120\n";
    let readings = readings_of(csv, "M1");
    let for_period = |p: &str| {
        let period = Period::parse(p).unwrap_or_else(|e| panic!("{e}"));
        Record::for_period(member_id("M1"), &readings, vec![], period, Shanghai)
            .map(|r| r.readings().values_mg_dl().to_vec())
            .unwrap_or_default()
    };
    assert_eq!(for_period("2026-03"), vec![100.0]);
    // 16:00:01Z on 31 March is a second past midnight on 1 April in Shanghai.
    assert_eq!(for_period("2026-04"), vec![110.0, 120.0]);
}

#[test]
fn days_are_counted_in_the_policy_zone_when_a_record_has_one() {
    let csv =
        "member_id,time,glucose_mg_dl\nM1,2026-03-01T23:30:00Z,100\nM1,2026-03-02T01:00:00Z,110\n";
    let record = Record::new(member_id("M1"), readings_of(csv, "M1"), vec![]);
    assert_eq!(compute_metrics(&record).days_with_readings, 2);
    let shanghai = record.with_day_boundary(DayBoundary::Zone(Shanghai));
    assert_eq!(compute_metrics(&shanghai).days_with_readings, 1);
}

#[test]
fn fasting_and_post_meal_shares_use_the_chinese_guideline_targets() {
    let csv = "member_id,time,glucose_mmol_l,context\n\
        M1,2026-03-01T07:00:00+08:00,4.4,fasting\n\
        M1,2026-03-02T07:00:00+08:00,7.0,fasting\n\
        M1,2026-03-03T07:00:00+08:00,7.1,fasting\n\
        M1,2026-03-04T07:00:00+08:00,4.3,fasting\n\
        M1,2026-03-04T14:00:00+08:00,9.9,post_meal\n\
        M1,2026-03-05T14:00:00+08:00,10.0,post_meal\n\
        M1,2026-03-05T22:00:00+08:00,12.0,bedtime\n";
    let m = compute_metrics(&Record::new(
        member_id("M1"),
        readings_of(csv, "M1"),
        vec![],
    ));
    assert_eq!((m.fasting_n, m.fasting_in_target_percent), (4, Some(50.0)));
    assert_eq!(
        (m.post_meal_n, m.post_meal_in_target_percent),
        (2, Some(50.0))
    );
    assert_eq!(m.days_with_readings, 5);
    // Finger-stick data: no episodes, and five days inclusive give 7 readings in 5 days.
    assert_eq!(m.hypo_episodes, None);
    assert_eq!(m.readings_per_week, Some(7.0 * 7.0 / 5.0));
}

#[test]
fn readings_per_week_is_per_week_of_the_window_not_of_the_data() {
    let csv = "member_id,time,glucose_mg_dl\nM1,2026-02-02T08:00:00+08:00,100\nM1,2026-02-03T08:00:00+08:00,100\n";
    let period = Period::parse("2026-02").unwrap_or_else(|e| panic!("{e}"));
    let record = Record::for_period(
        member_id("M1"),
        &readings_of(csv, "M1"),
        vec![],
        period,
        Shanghai,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // February 2026 has 28 days = 4 weeks: 2 readings are 0.5 a week.
    assert_eq!(compute_metrics(&record).readings_per_week, Some(0.5));
}

#[test]
fn active_percent_counts_a_cut_out_gap_as_missing_readings() {
    // Twelve 5-minute slots, 08:00–08:55, with 08:20 and 08:25 missing.
    let all = every_five_minutes(&["100"; 12]);
    let kept: Vec<(String, &str)> = all
        .into_iter()
        .filter(|(t, _)| !t.contains("08:20") && !t.contains("08:25"))
        .collect();
    check(
        &as_rows(&kept),
        json!({ "active_percent": 100.0 * 10.0 / 12.0 }),
    );
}

#[test]
fn cgm_episodes_need_fifteen_minutes_out_of_range() {
    let rows = every_five_minutes(&[
        "100", "65", "65", "65", "100", "100", "100", // a 15-minute hypo
        "50", "50", "100", "100", "100", // 10 minutes below 54 (and 70): too short
        "260", "260", "260", "260", "100", "100", "100", // above 250 for 20 minutes
    ]);
    check(
        &as_rows(&rows),
        json!({ "hypo_episodes": 1, "hypo_level2_episodes": 0,
                "hyper_episodes": 1, "hyper_level2_episodes": 1 }),
    );
}

#[test]
fn the_longest_run_of_days_breaks_on_a_day_without_readings() {
    let csv = "member_id,time,glucose_mmol_l\n\
        M1,2026-03-01T08:00:00+08:00,15.0\nM1,2026-03-01T20:00:00+08:00,HI\n\
        M1,2026-03-02T08:00:00+08:00,14.5\n\
        M1,2026-03-03T08:00:00+08:00,14.2\n\
        M1,2026-03-05T08:00:00+08:00,15.0\nM1,2026-03-06T08:00:00+08:00,16.0\n\
        M1,2026-03-07T08:00:00+08:00,15.0\nM1,2026-03-07T12:00:00+08:00,6.0\n";
    let record = Record::new(member_id("M1"), readings_of(csv, "M1"), vec![])
        .with_day_boundary(DayBoundary::Zone(Shanghai));
    let days = daily_summaries(&record);
    assert_eq!(days.len(), 6);
    assert_eq!(days[0].n_readings, 2);
    // Above 13.9 mmol/L (250.2 mg/dL) all day: 1–3 March, then 5–6 March (7 March has a 6.0).
    let above = longest_run_of_days(&days, |d| d.all_above(13.9 * 18.0));
    assert_eq!(above, 3);
    assert_eq!(longest_run_of_days(&days, |d| d.any_below(7.0 * 18.0)), 1);
    assert_eq!(longest_run_of_days(&days, |_| false), 0);
}

#[test]
fn hba1c_latest_and_change_are_exact_decimals() {
    let lab = |time: &str, percent: i64| LabResult {
        time: parse_timestamp(time).unwrap_or_else(|e| panic!("{e}")),
        hba1c: Hba1c::from_percent(Decimal::new(percent, 1)).unwrap_or_else(|e| panic!("{e}")),
    };
    let labs = vec![
        lab("2026-06-01T09:00:00+08:00", 68),
        lab("2026-01-01T09:00:00+08:00", 75),
    ];
    let record = Record::new(member_id("M1"), Default::default(), labs);
    let m = compute_metrics(&record);
    assert_eq!(m.hba1c_latest_percent, Some(Decimal::new(68, 1)));
    assert_eq!(m.hba1c_change_points, Some(Decimal::new(-7, 1)));
    let json = serde_json::to_value(&m).unwrap_or(Value::Null);
    assert_eq!(json["hba1c_latest_percent"], json!(6.8));
}

#[test]
fn a_window_keeps_only_readings_inside_it() {
    let csv = "member_id,time,glucose_mg_dl\nM1,2026-03-01T08:00:00+08:00,100\nM1,2026-03-02T08:00:00+08:00,200\n";
    let loaded = load(csv);
    let readings = loaded.members.values().next().cloned().unwrap_or_default();
    let window = window("2026-03-02T00:00:00+08:00", "2026-03-03T00:00:00+08:00");
    let record = Record::new(member_id("M1"), readings, vec![]).within(window);
    assert_eq!(compute_metrics(&record).mean_mg_dl, Some(200.0));
}

#[test]
fn hba1c_taken_after_the_period_is_not_part_of_its_metrics() {
    let lab = |time: &str, tenths: i64| LabResult {
        time: parse_timestamp(time).unwrap(),
        hba1c: Hba1c::from_percent(Decimal::new(tenths, 1)).unwrap(),
    };
    let labs = vec![
        lab("2026-01-10T09:00:00+08:00", 80),
        lab("2026-06-10T09:00:00+08:00", 75),
        lab("2027-02-10T09:00:00+08:00", 65),
    ];
    let readings = readings_of(
        "member_id,time,glucose_mg_dl\nM1,2026-03-01T07:00:00+08:00,120\n",
        "M1",
    );
    let year = Period::parse("2026").unwrap();
    let metrics = compute_metrics(
        &Record::for_period(member_id("M1"), &readings, labs, year, Shanghai).unwrap(),
    );
    assert_eq!(metrics.hba1c_latest_percent, Some(Decimal::new(75, 1)));
    assert_eq!(metrics.hba1c_change_points, Some(Decimal::new(-5, 1)));
}
