//! Throughput of the metrics over readings held in memory, against a memory-bandwidth floor.
//!
//! `cargo bench -p incentive-engine --bench metrics`
//!
//! Every benchmark runs at 10^6 and 10^7 readings and counts items = readings, so divan prints
//! readings per second. Values are synthetic and deterministic (an LCG, uniform in
//! 40–400 mg/dL, one decimal), so every run scans the same bytes.
//!
//! - `floor_sum`: sums the values with 8 independent accumulators (the lane count of
//!   `Tally::of`): the least any one pass over the column can cost.
//! - `tally`: `Tally::of`, then mean, SD, the range percentages and GRI (`Tally::ranges`).
//! - `risk_indices`: Kovatchev's LBGI and HBGI (a logarithm and a power per reading).
//! - `compute_metrics`: every metric of a record with a reading every 5 minutes.

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use incentive_engine::metrics::distribution::Tally;
use incentive_engine::metrics::risk::lbgi_hbgi;
use incentive_engine::{
    Context, Glucose, GlucoseValue, MemberId, Reading, ReadingsBuilder, Record, Source,
    compute_metrics,
};

fn main() {
    divan::main();
}

const SIZES: [usize; 2] = [1_000_000, 10_000_000];

/// Lanes of the floor's sum; the same as `Tally::of` uses.
const LANES: usize = 8;

/// Knuth's MMIX LCG: deterministic values uniform in [40, 400) mg/dL, one decimal.
fn values(n: usize) -> Vec<f64> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            // The top 32 bits are the LCG's good ones; 3,600 tenths of a mg/dL.
            let tenths = (state >> 32) % 3_600;
            40.0 + tenths as f64 / 10.0
        })
        .collect()
}

#[divan::bench(args = SIZES)]
fn floor_sum(bencher: Bencher, n: usize) {
    let values = values(n);
    bencher.counter(ItemsCount::new(n)).bench(|| {
        let values: &[f64] = black_box(&values);
        let mut s = [0.0_f64; LANES];
        let (chunks, rest) = values.as_chunks::<LANES>();
        for chunk in chunks {
            for (acc, v) in s.iter_mut().zip(chunk) {
                *acc += v;
            }
        }
        for (acc, v) in s.iter_mut().zip(rest) {
            *acc += v;
        }
        black_box(s.iter().sum::<f64>())
    });
}

#[divan::bench(args = SIZES)]
fn tally(bencher: Bencher, n: usize) {
    let values = values(n);
    bencher.counter(ItemsCount::new(n)).bench(|| {
        let t = Tally::of(black_box(&values));
        black_box((t.mean(), t.sd(), t.ranges()))
    });
}

#[divan::bench(args = SIZES)]
fn risk_indices(bencher: Bencher, n: usize) {
    let values = values(n);
    bencher
        .counter(ItemsCount::new(n))
        .bench(|| lbgi_hbgi(black_box(&values)));
}

/// A record of `n` CGM readings, one every 5 minutes from 2026-03-01T00:00:00+08:00.
fn record(n: usize) -> Record {
    let Some(offset) = chrono::FixedOffset::east_opt(8 * 3600) else {
        unreachable!("+08:00 is a valid offset")
    };
    let Some(start) = chrono::NaiveDate::from_ymd_opt(2026, 3, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| t.and_local_timezone(offset).single())
    else {
        unreachable!("2026-03-01T00:00:00+08:00 is a valid time")
    };
    let mut builder = ReadingsBuilder::with_capacity(n);
    for (i, v) in values(n).into_iter().enumerate() {
        let Ok(g) = Glucose::from_mg_dl(v) else {
            unreachable!("synthetic values are in 40–400 mg/dL")
        };
        builder.push(Reading {
            time: start + chrono::TimeDelta::minutes(5 * i as i64),
            value: GlucoseValue::Measured(g),
            context: Context::Unknown,
            source: Source::Cgm,
        });
    }
    let Ok(member) = MemberId::parse("M0000001") else {
        unreachable!("a valid member id")
    };
    Record::new(member, builder.finish().readings, Vec::new())
}

#[divan::bench(name = "compute_metrics", args = SIZES, sample_count = 20)]
fn whole_record(bencher: Bencher, n: usize) {
    let record = record(n);
    bencher
        .counter(ItemsCount::new(n))
        .bench(|| compute_metrics(black_box(&record)));
}
