//! The Parquet files hold exactly what the CSV files hold, typed: counts as INT64, policy ids
//! and periods as UTF-8 strings (absent where the CSV is empty), money as exact DECIMAL(38, s).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use incentive_simulations::report::{self, PlanInfo, RunInfo};
use incentive_simulations::{Population, Shard, run};
use parquet::basic::{LogicalType, Type as PhysicalType};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use rust_decimal::Decimal;
use std::path::Path;

/// Every row of a Parquet file as the strings the CSV writes.
fn parquet_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let schema = reader.metadata().file_metadata().schema_descr();
    let names = schema
        .columns()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    let rows = reader
        .get_row_iter(None)
        .unwrap()
        .map(|row| {
            row.unwrap()
                .get_column_iter()
                .map(|(_, field)| match field {
                    Field::Long(n) => n.to_string(),
                    Field::Str(s) => s.clone(),
                    Field::Null => String::new(),
                    Field::Decimal(d) => {
                        let bytes: [u8; 16] = d.data().try_into().unwrap();
                        let exact = Decimal::from_i128_with_scale(
                            i128::from_be_bytes(bytes),
                            u32::try_from(d.scale()).unwrap(),
                        );
                        exact.normalize().to_string()
                    }
                    other => panic!("unexpected field {other:?}"),
                })
                .collect()
        })
        .collect();
    (names, rows)
}

fn csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let names = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    let rows = lines
        .map(|l| {
            l.split(',')
                .map(|cell| match cell.parse::<Decimal>() {
                    // The CSV writes money at its own scale; compare values.
                    Ok(d) if cell.contains('.') => d.normalize().to_string(),
                    _ => cell.to_owned(),
                })
                .collect()
        })
        .collect();
    (names, rows)
}

#[test]
fn the_parquet_tables_hold_the_csv_tables_values_exactly() {
    // A pool that runs out in some replications and not in others, so the optional column
    // has both values and nulls.
    let a = package_with(&repo().join("policies/tangdaifu-smbg"), |m| {
        m.replace("pool_budget = 200000000.00", "pool_budget = 850.00")
    });
    let b = package(&repo().join("simulations/tests/fixtures/any-reading"));
    let model = Population::default();
    let c = config(60, 6, 6, Shard::WHOLE);
    let results = run(&model, &[&a, &b], &c, &|_| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let info = RunInfo::new(&c, vec![PlanInfo::of(&a), PlanInfo::of(&b)], &model);
    report::write_results(dir.path(), &info, &results).unwrap();
    for table in ["replications", "member_slots"] {
        let (p_names, p_rows) = parquet_rows(&dir.path().join(format!("{table}.parquet")));
        let (c_names, c_rows) = csv_rows(&dir.path().join(format!("{table}.csv")));
        assert_eq!(p_names, c_names, "{table}: columns");
        assert_eq!(p_rows.len(), c_rows.len(), "{table}: rows");
        assert!(!p_rows.is_empty());
        assert_eq!(p_rows, c_rows, "{table}: values");
    }
    let exhausted = std::fs::read_to_string(dir.path().join("replications.csv")).unwrap();
    let last: Vec<&str> = exhausted
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap())
        .collect();
    assert!(
        last.iter().any(|p| p.is_empty()) && last.iter().any(|p| !p.is_empty()),
        "{last:?}"
    );
}

#[test]
fn money_columns_are_exact_decimals_and_counts_are_integers() {
    let a = tangdaifu();
    let model = Population::default();
    let c = config(20, 3, 3, Shard::WHOLE);
    let results = run(&model, &[&a], &c, &|_| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let info = RunInfo::new(&c, vec![PlanInfo::of(&a)], &model);
    report::write_results(dir.path(), &info, &results).unwrap();
    let reader = SerializedFileReader::new(
        std::fs::File::open(dir.path().join("replications.parquet")).unwrap(),
    )
    .unwrap();
    let schema = reader.metadata().file_metadata().schema_descr();
    let kinds: Vec<(String, PhysicalType, Option<LogicalType>)> = schema
        .columns()
        .iter()
        .map(|c| {
            (
                c.name().to_owned(),
                c.physical_type(),
                c.logical_type_ref().cloned(),
            )
        })
        .collect();
    let of = |name: &str| kinds.iter().find(|k| k.0 == name).unwrap().clone();
    assert_eq!(of("replication").1, PhysicalType::INT64);
    assert_eq!(of("members_earning").1, PhysicalType::INT64);
    assert_eq!(of("policy_id").2, Some(LogicalType::String));
    let money = of("total_reward");
    assert_eq!(money.1, PhysicalType::FIXED_LEN_BYTE_ARRAY);
    assert!(
        matches!(money.2, Some(LogicalType::Decimal(ref d)) if d.precision == 38 && d.scale == 4),
        "{money:?}"
    );
}

#[test]
fn a_file_that_cannot_be_written_is_named_and_the_first_in_order_is_told_whatever_the_threads_did()
{
    let a = tangdaifu();
    let model = Population::default();
    let c = config(20, 3, 2, Shard::WHOLE);
    let results = run(&model, &[&a], &c, &|_| {}).unwrap();
    let info = RunInfo::new(&c, vec![PlanInfo::of(&a)], &model);
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        // A directory where a file should go: neither can be written.
        for blocked in ["report.html", "member_slots.parquet"] {
            std::fs::create_dir(dir.path().join(blocked)).unwrap();
        }
        let err = report::write_results(dir.path(), &info, &results)
            .unwrap_err()
            .to_string();
        assert!(err.contains("report.html"), "{err}");
        // The files that could be written were.
        for written in ["summary.json", "replications.csv", "member_slots.csv"] {
            let bytes = std::fs::read(dir.path().join(written)).unwrap();
            assert!(!bytes.is_empty(), "{written}");
        }
    }
}
