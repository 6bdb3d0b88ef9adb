//! The canonical hash of everything an evaluation read: a fixed layout (ARCHITECTURE.md),
//! independent of how the inputs were stored or sent.
//!
//! The layout, fed to SHA-256 in this order:
//!
//! ```text
//! incentive-input-v1\n
//! member <JSON bytes>\n<member as JSON>\nperiod <period>\n
//! readings <count>\n<each reading, 22 bytes big-endian: UTC ms i64, offset s i32,
//!                    mg/dL f64 bits, context u8, source u8>
//! labs <JSON bytes>\n<labs as JSON>\nhistory <JSON bytes>\n<history as JSON>\n
//! ```
//!
//! Every evaluation computes it, so it is written to be cheap: the JSON goes into one buffer a
//! thread keeps between evaluations and the headers into another, rather than a string
//! allocated for each part and copied again into a formatted one (a simulation decides
//! millions of member-periods, and those copies and allocations were a quarter of its time).

use super::evaluate::EvaluationInput;
use crate::lab::LabResult;
use crate::readings::Readings;
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::io::Write;

/// Bytes of readings hashed at once: SHA-256 is fastest fed whole blocks.
const READINGS_CHUNK_BYTES: usize = 16 * 1024;
/// One reading's bytes in the layout.
const READING_BYTES: usize = 22;
/// A thread's buffers are kept between evaluations up to this size; a larger one (a member
/// with years of history) is let go after its evaluation rather than held by the thread.
const SCRATCH_BYTES_KEPT_MAX: usize = 256 * 1024;

/// A thread's reusable buffers: the JSON of one part, and the header that precedes it.
#[derive(Default)]
struct Scratch {
    json: Vec<u8>,
    head: Vec<u8>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// `sha256:` and the hex digest of an evaluation's inputs, in the layout above: `input`'s
/// member, period and history, with `readings` and `labs` as the period's record holds them.
pub(crate) fn input_hash(
    input: &EvaluationInput<'_>,
    readings: &Readings,
    labs: &[LabResult],
) -> String {
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut scratch) => {
            let hash = hash_with(&mut scratch, input, readings, labs);
            if scratch.json.capacity() > SCRATCH_BYTES_KEPT_MAX {
                *scratch = Scratch::default();
            }
            hash
        }
        // Not reached (nothing here calls back into an evaluation), but a fresh pair of
        // buffers gives the same bytes if it ever were.
        Err(_) => hash_with(&mut Scratch::default(), input, readings, labs),
    })
}

fn hash_with(
    scratch: &mut Scratch,
    input: &EvaluationInput<'_>,
    readings: &Readings,
    labs: &[LabResult],
) -> String {
    let EvaluationInput {
        member,
        period,
        history,
        ..
    } = *input;
    let Scratch { json, head } = scratch;
    let mut h = Sha256::new();
    h.update(b"incentive-input-v1\n");
    as_json(json, member);
    head.clear();
    // Writing to a Vec cannot fail.
    let _ = writeln!(head, "member {}", json.len());
    h.update(&*head);
    h.update(&*json);
    head.clear();
    let _ = write!(head, "\nperiod {period}\nreadings {}\n", readings.len());
    h.update(&*head);
    hash_readings(&mut h, json, readings);
    as_json(json, labs);
    head.clear();
    let _ = writeln!(head, "labs {}", json.len());
    h.update(&*head);
    h.update(&*json);
    as_json(json, history);
    head.clear();
    let _ = write!(head, "\nhistory {}\n", json.len());
    h.update(&*head);
    h.update(&*json);
    h.update(b"\n");
    format!("sha256:{}", super::evaluate::hex(&h.finalize()))
}

/// `value` as JSON into `buffer`, which is emptied first; nothing if it cannot be written as
/// JSON (as `serde_json::to_string(..).unwrap_or_default()` would give).
fn as_json<T: serde::Serialize + ?Sized>(buffer: &mut Vec<u8>, value: &T) {
    buffer.clear();
    if serde_json::to_writer(&mut *buffer, value).is_err() {
        buffer.clear();
    }
}

/// The readings, column by column, through `buffer` a chunk at a time.
fn hash_readings(h: &mut Sha256, buffer: &mut Vec<u8>, readings: &Readings) {
    buffer.clear();
    let columns = readings
        .times_ms()
        .iter()
        .zip(readings.offsets_s())
        .zip(readings.values_mg_dl())
        .zip(readings.contexts().iter().zip(readings.sources()));
    for (((t, o), v), (c, s)) in columns {
        if buffer.len() + READING_BYTES > READINGS_CHUNK_BYTES {
            h.update(&*buffer);
            buffer.clear();
        }
        buffer.extend_from_slice(&t.to_be_bytes());
        buffer.extend_from_slice(&o.to_be_bytes());
        buffer.extend_from_slice(&v.to_bits().to_be_bytes());
        buffer.extend_from_slice(&[*c as u8, *s as u8]);
    }
    h.update(&*buffer);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glucose::{Glucose, GlucoseValue};
    use crate::lab::Hba1c;
    use crate::member::MemberId;
    use crate::period::Period;
    use crate::policy::attributes::AttributeValue;
    use crate::policy::inputs::PriorOutcome;
    use crate::policy::inputs::{History, MemberProfile};
    use crate::policy::record_view::MetricValue;
    use crate::reading::{Context, Source};
    use crate::readings::ReadingsBuilder;
    use chrono::{FixedOffset, TimeZone};
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    /// The layout written out the plainest way — each part a string, formatted together — as
    /// the hash was first computed: the reference the buffered version is held to.
    fn reference(
        member: &MemberProfile,
        period: Period,
        readings: &Readings,
        labs: &[LabResult],
        history: &History,
    ) -> String {
        let mut h = Sha256::new();
        h.update(b"incentive-input-v1\n");
        let member = serde_json::to_string(member).unwrap_or_default();
        h.update(format!("member {}\n{member}\nperiod {period}\n", member.len()).as_bytes());
        h.update(format!("readings {}\n", readings.len()).as_bytes());
        for i in 0..readings.len() {
            let (t, o, v) = (
                readings.times_ms()[i],
                readings.offsets_s()[i],
                readings.values_mg_dl()[i],
            );
            h.update(t.to_be_bytes());
            h.update(o.to_be_bytes());
            h.update(v.to_bits().to_be_bytes());
            h.update([readings.contexts()[i] as u8, readings.sources()[i] as u8]);
        }
        let labs = serde_json::to_string(labs).unwrap_or_default();
        let history = serde_json::to_string(history).unwrap_or_default();
        h.update(
            format!(
                "labs {}\n{labs}\nhistory {}\n{history}\n",
                labs.len(),
                history.len()
            )
            .as_bytes(),
        );
        format!("sha256:{}", crate::policy::evaluate::hex(&h.finalize()))
    }

    const CONTEXTS: [Context; 6] = [
        Context::Fasting,
        Context::PreMeal,
        Context::PostMeal,
        Context::Bedtime,
        Context::Random,
        Context::Unknown,
    ];
    const SOURCES: [Source; 3] = [Source::Smbg, Source::Cgm, Source::Unspecified];

    fn readings(count: usize, seed: u64) -> Readings {
        let mut b = ReadingsBuilder::new();
        for i in 0..count as u64 {
            let x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i);
            let value = match x % 17 {
                0 => GlucoseValue::Low,
                1 => GlucoseValue::High,
                _ => GlucoseValue::Measured(
                    Glucose::from_mg_dl(20.0 + (x % 5_700) as f64 / 10.0 + 1.0 / 3.0)
                        .unwrap_or_else(|_| unreachable!("20–600 mg/dL")),
                ),
            };
            b.push_parts(
                1_767_225_600_000 + i as i64 * 300_000,
                ((x % 49) as i32 - 24) * 1_800,
                value,
                CONTEXTS[(x % 6) as usize],
                SOURCES[(x % 3) as usize],
            );
        }
        b.finish().readings
    }

    fn text() -> impl Strategy<Value = String> {
        // Quotes, backslashes, controls and CJK: everything JSON escapes or passes through.
        proptest::string::string_regex("[a-z\"\\\\\u{1}\n糖 ]{0,12}")
            .unwrap_or_else(|_| unreachable!())
    }

    fn decimal() -> impl Strategy<Value = Decimal> {
        (any::<i64>(), 0u32..8).prop_map(|(m, s)| Decimal::new(m, s))
    }

    fn outcome() -> impl Strategy<Value = PriorOutcome> {
        (
            (2000i32..2100, 1u32..13),
            decimal(),
            decimal(),
            proptest::option::of(text()),
            any::<i64>(),
            any::<bool>(),
            proptest::collection::btree_map(
                text(),
                prop_oneof![
                    any::<i64>().prop_map(MetricValue::Integer),
                    decimal().prop_map(MetricValue::Decimal),
                    Just(MetricValue::Missing),
                ],
                0..3,
            ),
        )
            .prop_map(
                |((year, month), reward, premium, tier, points, qualified, metrics)| PriorOutcome {
                    period: Period::Month { year, month },
                    reward,
                    premium_adjustment_percent: premium,
                    tier,
                    points,
                    qualified,
                    metrics,
                },
            )
    }

    fn member() -> impl Strategy<Value = MemberProfile> {
        (
            "[A-Za-z0-9_-]{1,20}",
            proptest::option::of(0u32..130),
            proptest::option::of(text()),
            proptest::collection::btree_map(
                "[a-z_]{1,8}",
                prop_oneof![
                    any::<bool>().prop_map(AttributeValue::Flag),
                    any::<i64>().prop_map(AttributeValue::Integer),
                    text().prop_map(AttributeValue::Text),
                ],
                0..3,
            ),
        )
            .prop_map(|(id, age, region, attributes)| {
                let mut m = MemberProfile::new(
                    MemberId::parse(&id).unwrap_or_else(|_| unreachable!("a plain id")),
                );
                m.age = age;
                m.region = region;
                m.insulin = age.map(|a| a % 2 == 0);
                m.attributes = attributes;
                m
            })
    }

    fn labs() -> impl Strategy<Value = Vec<LabResult>> {
        proptest::collection::vec((0i64..2_000_000_000, 40i64..150, -12i32..14), 0..4).prop_map(
            |labs| {
                labs.into_iter()
                    .filter_map(|(t, tenths, hours)| {
                        let zone = FixedOffset::east_opt(hours * 3_600)?;
                        Some(LabResult {
                            time: zone.timestamp_opt(t, 0).single()?,
                            hba1c: Hba1c::from_percent(Decimal::new(tenths, 1)).ok()?,
                        })
                    })
                    .collect()
            },
        )
    }

    proptest! {
        #[test]
        fn the_buffered_hash_is_the_layout_written_out_plainly(
            member in member(),
            (year, month) in (2000i32..2100, 1u32..13),
            (count, seed) in (0usize..1_200, any::<u64>()),
            labs in labs(),
            outcomes in proptest::collection::vec(outcome(), 0..14),
            premium_loading_percent in decimal(),
            pool_paid in proptest::option::of(decimal()),
            group_paid_this_year in proptest::option::of(decimal()),
        ) {
            let period = Period::Month { year, month };
            let readings = readings(count, seed);
            let history = History { outcomes, premium_loading_percent, pool_paid, group_paid_this_year };
            let expected = reference(&member, period, &readings, &labs, &history);
            let input = EvaluationInput { member: &member, period, readings: &readings, labs: &labs, history: &history };
            prop_assert_eq!(input_hash(&input, &readings, &labs), expected.clone());
            // A second time on the same thread, through the buffers the first one left.
            prop_assert_eq!(input_hash(&input, &readings, &labs), expected);
        }
    }

    #[test]
    fn a_history_too_large_to_keep_gives_the_same_hash_and_its_buffer_is_let_go() {
        let member = MemberProfile::new(MemberId::parse("m-1").unwrap_or_else(|_| unreachable!()));
        let period = Period::Month {
            year: 2026,
            month: 3,
        };
        let outcome = PriorOutcome {
            period,
            reward: Decimal::new(1234, 2),
            premium_adjustment_percent: Decimal::ZERO,
            tier: Some("gold".repeat(100)),
            points: 7,
            qualified: true,
            metrics: Default::default(),
        };
        let history = History {
            outcomes: vec![outcome; 1_000],
            ..History::default()
        };
        let readings = readings(10, 1);
        let expected = reference(&member, period, &readings, &[], &history);
        let input = EvaluationInput {
            member: &member,
            period,
            readings: &readings,
            labs: &[],
            history: &history,
        };
        assert_eq!(input_hash(&input, &readings, &[]), expected);
        SCRATCH.with_borrow(|s| assert!(s.json.capacity() <= SCRATCH_BYTES_KEPT_MAX));
    }
}
