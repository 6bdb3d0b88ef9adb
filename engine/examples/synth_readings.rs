//! Writes a synthetic CGM readings CSV to standard output, for benchmarks.
//!
//! ```sh
//! cargo run --release -p incentive-engine --example synth_readings -- \
//!     --rows 10000000 --members 10000 > bench-data/readings-10000000.csv
//! ```
//!
//! Columns `member_id,time,glucose_mg_dl`. Each member's rows are consecutive, one every
//! 5 minutes from `2026-03-01T00:00:00+08:00`; values are a mean-reverting random walk around
//! a per-member level, one decimal, within 40–400 mg/dL. The output depends only on the
//! arguments (and `--seed`): the same command writes the same bytes.

use std::error::Error;
use std::io::{self, Write};

const USAGE: &str = "usage: synth_readings --rows N --members M [--seed S]";

/// The first reading: 2026-03-01T00:00:00 local time, offset +08:00.
const START: (i64, i64, i64) = (2026, 3, 1);
const STEP_MINUTES: i64 = 5;

struct Args {
    rows: u64,
    members: u64,
    seed: u64,
}

fn parse_args() -> Result<Args, Box<dyn Error>> {
    let mut rows = None;
    let mut members = None;
    let mut seed = 1;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value; {USAGE}"))?;
        let number: u64 = value
            .replace('_', "")
            .parse()
            .map_err(|_| format!("{flag}: `{value}` is not a whole number; {USAGE}"))?;
        match flag.as_str() {
            "--rows" => rows = Some(number),
            "--members" => members = Some(number),
            "--seed" => seed = number,
            _ => return Err(format!("unknown argument `{flag}`; {USAGE}").into()),
        }
    }
    let rows = rows.ok_or(USAGE)?;
    let members = members.ok_or(USAGE)?;
    if members == 0 || members > rows {
        return Err(format!("--members must be between 1 and --rows; {USAGE}").into());
    }
    Ok(Args {
        rows,
        members,
        seed,
    })
}

/// Knuth's MMIX LCG; `unit` gives a value in [0, 1) from the top bits.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 11
    }

    fn unit(&mut self) -> f64 {
        self.next() as f64 / (1_u64 << 53) as f64
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Appends `v` in decimal, zero-padded to `width` digits.
fn push_digits(line: &mut Vec<u8>, v: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut v = v;
    let mut used = 0;
    for slot in digits.iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
        used += 1;
        if v == 0 && used >= width {
            break;
        }
    }
    line.extend_from_slice(digits.get(digits.len() - used..).unwrap_or_default());
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = parse_args()?;
    let mut rng = Lcg(args.seed ^ 0x9e37_79b9_7f4a_7c15);
    let per_member = args.rows / args.members;
    let extra = args.rows % args.members;
    let id_width = args.members.to_string().len().max(6);
    let start_day = days_from_civil(START.0, START.1, START.2);

    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 20, stdout.lock());
    out.write_all(b"member_id,time,glucose_mg_dl\n")?;
    let mut line = Vec::with_capacity(64);
    for member in 0..args.members {
        let rows = per_member + u64::from(member < extra);
        // A member's usual level, 100–220 mg/dL, and how far a step wanders.
        let level = 100.0 + 120.0 * rng.unit();
        let wander = 4.0 + 8.0 * rng.unit();
        let mut g = level;
        for i in 0..rows {
            g += 0.05 * (level - g) + wander * (2.0 * rng.unit() - 1.0);
            g = g.clamp(40.0, 400.0);
            let tenths = (g * 10.0).round() as u64;

            let minutes = i as i64 * STEP_MINUTES;
            let (y, mo, d) = civil_from_days(start_day + minutes.div_euclid(1440));
            let minute_of_day = minutes.rem_euclid(1440);

            line.clear();
            line.push(b'M');
            push_digits(&mut line, member + 1, id_width);
            line.push(b',');
            push_digits(&mut line, y as u64, 4);
            line.push(b'-');
            push_digits(&mut line, mo as u64, 2);
            line.push(b'-');
            push_digits(&mut line, d as u64, 2);
            line.push(b'T');
            push_digits(&mut line, (minute_of_day / 60) as u64, 2);
            line.push(b':');
            push_digits(&mut line, (minute_of_day % 60) as u64, 2);
            line.extend_from_slice(b":00+08:00,");
            push_digits(&mut line, tenths / 10, 1);
            line.push(b'.');
            push_digits(&mut line, tenths % 10, 1);
            line.push(b'\n');
            out.write_all(&line)?;
        }
    }
    out.flush()?;
    Ok(())
}
