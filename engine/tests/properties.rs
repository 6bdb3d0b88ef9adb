//! Properties every metric must have on any record, checked on random ones (proptest).

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

use chrono::{FixedOffset, TimeZone};
use incentive_engine::metrics::distribution::{percent_above, percent_below, percent_in_range};
use incentive_engine::{
    BuiltReadings, Context, Glucose, GlucoseValue, MemberId, Metrics, Reading, Record, Source,
    compute_metrics,
};
use proptest::prelude::*;
use serde_json::Value;

/// A reading: minutes after 1 March 2026 00:00 +08:00, and the value in tenths of mg/dL
/// (0 = `LO`, 1 = `HI`).
type Raw = (u32, u32);

fn raw_readings() -> impl Strategy<Value = Vec<Raw>> {
    let value = prop_oneof![
        20 => 200_u32..=6000,
        1 => Just(0_u32),
        1 => Just(1_u32),
    ];
    prop::collection::btree_map(0_u32..40_000, value, 0..300).prop_map(|m| m.into_iter().collect())
}

fn reading(minutes: u32, value: GlucoseValue) -> Reading {
    let Some(offset) = FixedOffset::east_opt(8 * 3600) else {
        unreachable!()
    };
    let Some(time) = offset.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).single() else {
        unreachable!()
    };
    Reading {
        time: time + chrono::Duration::minutes(i64::from(minutes)),
        value,
        context: if minutes.is_multiple_of(3) {
            Context::Fasting
        } else {
            Context::PostMeal
        },
        source: Source::Cgm,
    }
}

fn value_mg_dl(tenths: u32, scale: f64) -> GlucoseValue {
    match tenths {
        0 => GlucoseValue::Low,
        1 => GlucoseValue::High,
        t => match Glucose::from_mg_dl(f64::from(t) / 10.0 * scale) {
            Ok(g) => GlucoseValue::Measured(g),
            Err(e) => panic!("{e}"),
        },
    }
}

fn metrics_of(readings: impl IntoIterator<Item = Reading>) -> Metrics {
    let built: BuiltReadings = readings.into_iter().collect();
    let Ok(member) = MemberId::parse("M1") else {
        unreachable!()
    };
    compute_metrics(&Record::new(member, built.readings, vec![]))
}

fn from_raw(raw: &[Raw], scale: f64) -> Metrics {
    metrics_of(raw.iter().map(|&(m, v)| reading(m, value_mg_dl(v, scale))))
}

fn in_0_100(v: Option<f64>) -> bool {
    v.is_none_or(|v| (0.0..=100.0).contains(&v))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn metrics_do_not_depend_on_the_order_readings_arrive_in(raw in raw_readings(), seed in any::<u64>()) {
        let mut shuffled = raw.clone();
        // A deterministic Fisher–Yates driven by the seed.
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let a = serde_json::to_string(&from_raw(&raw, 1.0)).unwrap_or_default();
        let b = serde_json::to_string(&from_raw(&shuffled, 1.0)).unwrap_or_default();
        prop_assert_eq!(a, b);
    }

    #[test]
    fn below_in_range_and_above_adjacent_thresholds_add_up_to_one_hundred(
        raw in raw_readings(), lo in 20.0_f64..300.0, width in 0.0_f64..300.0,
    ) {
        let values: Vec<f64> = raw.iter().map(|&(_, v)| match value_mg_dl(v, 1.0) {
            GlucoseValue::Measured(g) => g.mg_dl(),
            GlucoseValue::Low => f64::NEG_INFINITY,
            GlucoseValue::High => f64::INFINITY,
        }).collect();
        let hi = lo + width;
        let parts = [percent_below(&values, lo), percent_in_range(&values, lo, hi), percent_above(&values, hi)];
        if values.is_empty() {
            prop_assert!(parts.iter().all(Option::is_none));
        } else {
            let total: f64 = parts.iter().map(|p| p.unwrap_or(f64::NAN)).sum();
            prop_assert!((total - 100.0).abs() < 1e-9, "{parts:?}");
        }
        let m = from_raw(&raw, 1.0);
        if let (Some(b), Some(i), Some(a)) = (m.tbr_percent, m.tir_percent, m.tar_percent) {
            prop_assert!((b + i + a - 100.0).abs() < 1e-9);
        }
    }

    #[test]
    fn percentages_and_gri_stay_between_zero_and_one_hundred(raw in raw_readings()) {
        let m = from_raw(&raw, 1.0);
        for p in [m.tir_percent, m.tbr_percent, m.tbr_level2_percent, m.tar_percent,
                  m.tar_level2_percent, m.gri, m.active_percent, m.fasting_in_target_percent,
                  m.post_meal_in_target_percent] {
            prop_assert!(in_0_100(p), "{p:?}");
        }
        prop_assert!(m.tbr_level2_percent <= m.tbr_percent);
        prop_assert!(m.tar_level2_percent <= m.tar_percent);
    }

    #[test]
    fn cv_does_not_change_when_every_value_is_scaled(raw in raw_readings(), scale in 1.0_f64..2.0) {
        // Values up to 300 mg/dL so that scaling stays in the plausible range.
        let raw: Vec<Raw> = raw.into_iter().map(|(m, v)| (m, if v > 1 { v.min(3000) } else { v })).collect();
        let (a, b) = (from_raw(&raw, 1.0), from_raw(&raw, scale));
        match (a.cv_percent, b.cv_percent) {
            (Some(x), Some(y)) => prop_assert!((x - y).abs() <= 1e-9 * x.max(1.0), "{x} vs {y}"),
            (x, y) => prop_assert_eq!(x, y),
        }
    }

    #[test]
    fn the_same_readings_in_mg_per_dl_and_mmol_per_litre_give_the_same_metrics(
        raw in prop::collection::btree_map(0_u32..40_000, 12_u32..=333, 0..200),
    ) {
        // A meter in mmol/L shows one decimal; the same reading in mg/dL is 18 times that,
        // written exactly (tenths × 18 / 10 has at most one decimal).
        let mut mmol = String::from("member_id,time,glucose_mmol_l\n");
        let mut mg = String::from("member_id,time,glucose_mg_dl\n");
        for (&minutes, &tenths) in &raw {
            let t = reading(minutes, GlucoseValue::Low).time.to_rfc3339();
            mmol.push_str(&format!("M1,{t},{}.{}\n", tenths / 10, tenths % 10));
            let mg_tenths = tenths * 18;
            mg.push_str(&format!("M1,{t},{}.{}\n", mg_tenths / 10, mg_tenths % 10));
        }
        let load = |csv: &str| {
            let opts = incentive_engine::ingest::CsvOptions::default();
            let loaded = incentive_engine::ingest::read_readings_csv(csv.as_bytes(), &opts, &mut |_| {});
            let readings = loaded.map(|l| l.members.into_values().next().unwrap_or_default()).unwrap_or_default();
            let Ok(member) = MemberId::parse("M1") else { unreachable!() };
            serde_json::to_value(compute_metrics(&Record::new(member, readings, vec![]))).unwrap_or(Value::Null)
        };
        let (a, b) = (load(&mmol), load(&mg));
        for (field, x) in a.as_object().cloned().unwrap_or_default() {
            let y = &b[&field];
            match (x.as_f64(), y.as_f64()) {
                // One ulp apart at most: 18 × the nearest double to 5.5 and the nearest
                // double to 99.0 can differ in the last bit, never across a threshold.
                (Some(x), Some(y)) => prop_assert!((x - y).abs() <= 1e-9 * x.abs().max(1.0), "{field}: {x} vs {y}"),
                _ => prop_assert_eq!(&x, y, "{}", field),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn timestamps_parse_to_the_same_instant_and_offset_as_chrono(
        year in 0_i32..10_000, month in 1_u32..=12, day in 1_u32..=31,
        hour in 0_u32..24, minute in 0_u32..60, second in 0_u32..60,
        fraction in prop_oneof![Just(String::new()), "\\.[0-9]{1,9}"],
        offset in prop_oneof![Just("Z".to_owned()), (any::<bool>(), 0_u32..24, 0_u32..60)
            .prop_map(|(neg, h, m)| format!("{}{h:02}:{m:02}", if neg { '-' } else { '+' }))],
    ) {
        let text = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}{offset}");
        // Chrono is the reference for every year a period can hold; outside 1900–9999 both
        // paths refuse the reading.
        let chrono = chrono::DateTime::parse_from_rfc3339(&text)
            .ok()
            .filter(|t| (1900..=9999).contains(&chrono::Datelike::year(t)))
            .map(|t| (t.timestamp_millis(), t.offset().local_minus_utc()));
        let ours = incentive_engine::time::parse_timestamp_parts(&text).ok();
        prop_assert_eq!(ours, chrono, "{}", text);
    }
}
