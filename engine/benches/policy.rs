//! Whole policy evaluations per second, against the same plan written by hand in native Rust.
//!
//! `cargo bench -p incentive-engine --bench policy`
//!
//! Every benchmark runs over the same 1,000 synthetic SMBG member-months (March 2026, 30–90
//! finger-stick readings each, see `common::smbg_member_months`) and counts items = member
//! evaluations, so divan's items/s is evaluations per second on one core.
//!
//! - `tangdaifu_smbg::rhai_whole`: `Policy::evaluate` of policies/tangdaifu-smbg: record for the
//!   period, SHA-256 input hash, the Rhai `decide`, metrics computed natively on first read,
//!   caps, rounding, the `Decision`.
//! - `tangdaifu_smbg::rhai_whole_interpreted`: the same on Rhai's tree-walking interpreter
//!   rather than the bytecode the policy is compiled to at load (`policy::compiled`).
//! - `tangdaifu_smbg::native_whole`: the same plan by hand over the same metrics code:
//!   `Record::for_period`, the metrics the rule reads (each on first use, as the script reads
//!   them), the rule, the same caps and rounding, the same `Decision` without an input hash.
//! - `tangdaifu_smbg::native_whole_hashed`: `native_whole` plus the input hash in the engine's
//!   layout: byte for byte the `Decision` `Policy::evaluate` returns (checked at start-up).
//! - `tangdaifu_smbg::native_whole_all_metrics`: `native_whole_hashed` computing every metric
//!   with `compute_metrics` first, as `incentive metrics` does, instead of only what is read.
//! - `rule_only::*`: the rule alone over precomputed metrics, native and Rhai (rules.rhai with
//!   `record` a map of the precomputed values), with and without building the explanation.
//!   `rule_only::compiled*` run the same script compiled (`policy::compiled`).
//! - `pieces::*`: parts of a Rhai evaluation, to show where the time goes.
//! - `cgm_consensus::*`: a CGM quarter (a reading every 5 minutes, about 26,000) through
//!   policies/cgm-consensus, when that package exists and loads; skipped otherwise.

#![allow(
    clippy::panic,
    clippy::expect_used,
    reason = "a bench whose setup is wrong must stop, not measure something else"
)]

mod common;

use common::{
    Lcg, MemberMonth, NativePlan, RuleInputs, RuleMetrics, apply_caps, compile_rule, compiled_rule,
    decide, load_policy, native_evaluate, package, policies_dir, premium_zero, rhai_record,
    rhai_rule, rule_inputs, rule_only_script, smbg_member_months, without_reasons,
};
use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use incentive_engine::policy::compiled::CompiledScript;
use incentive_engine::policy::decision::MetricsUsed;
use incentive_engine::policy::host::engine;
use incentive_engine::policy::{
    ENGINE_VERSION, EvaluationInput, Path, Policy, PolicySource, SourceFile,
};
use incentive_engine::{
    Context, DayBoundary, Glucose, GlucoseValue, LabResult, Period, Reading, ReadingsBuilder,
    Record, Source, compute_metrics,
};
use rhai::{AST, CallFnOptions, Dynamic, Map, Scope};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

fn main() {
    // Build (and check) the data before divan starts printing its table.
    LazyLock::force(&SMBG);
    LazyLock::force(&cgm_consensus::CGM);
    divan::main();
}

const MEMBERS: usize = 1_000;

struct Smbg {
    period: Period,
    policy: Policy,
    plan: NativePlan,
    members: Vec<MemberMonth>,
    inputs: Vec<RuleInputs>,
    rhai_records: Vec<Map>,
    rule: AST,
    rule_no_reasons: AST,
    /// `rule` and `rule_no_reasons` compiled, as `Policy::evaluate` runs a policy's script.
    rule_compiled: CompiledScript,
    rule_no_reasons_compiled: CompiledScript,
    /// The same package with `decide` returning `#{ reward: 0 }`.
    trivial: Policy,
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The engine's input hash (`evaluate::input_hash`, layout in ARCHITECTURE.md), over the
/// record for the period. Checked against `Policy::evaluate` at start-up.
fn input_hash(input: &EvaluationInput<'_>, record: &Record) -> String {
    let end_ms = record
        .window()
        .map_or(i64::MAX, |w| w.end.timestamp_millis());
    let labs: Vec<LabResult> = record
        .labs()
        .iter()
        .filter(|l| l.time.timestamp_millis() < end_ms)
        .copied()
        .collect();
    let readings = record.readings();
    let mut h = Sha256::new();
    h.update(b"incentive-input-v1\n");
    let member = serde_json::to_string(input.member).unwrap_or_default();
    h.update(
        format!(
            "member {}\n{member}\nperiod {}\n",
            member.len(),
            input.period
        )
        .as_bytes(),
    );
    h.update(format!("readings {}\n", readings.len()).as_bytes());
    for ((((t, o), v), c), s) in readings
        .times_ms()
        .iter()
        .zip(readings.offsets_s())
        .zip(readings.values_mg_dl())
        .zip(readings.contexts())
        .zip(readings.sources())
    {
        h.update(t.to_be_bytes());
        h.update(o.to_be_bytes());
        h.update(v.to_bits().to_be_bytes());
        h.update([*c as u8, *s as u8]);
    }
    let labs = serde_json::to_string(&labs).unwrap_or_default();
    let history = serde_json::to_string(input.history).unwrap_or_default();
    h.update(
        format!(
            "labs {}\n{labs}\nhistory {}\n{history}\n",
            labs.len(),
            history.len()
        )
        .as_bytes(),
    );
    format!("sha256:{}", hex(&h.finalize()))
}

fn records(s: &Smbg) -> Vec<Record> {
    s.members
        .iter()
        .map(|m| {
            Record::for_period(
                m.member.id.clone(),
                &m.readings,
                m.labs.clone(),
                s.period,
                s.policy.manifest.timezone,
            )
            .expect("a record")
        })
        .collect()
}

/// [`input_hash`] with the readings written into one buffer first and a table-driven hex.
fn input_hash_buffered(input: &EvaluationInput<'_>, record: &Record) -> String {
    let end_ms = record
        .window()
        .map_or(i64::MAX, |w| w.end.timestamp_millis());
    let labs: Vec<LabResult> = record
        .labs()
        .iter()
        .filter(|l| l.time.timestamp_millis() < end_ms)
        .copied()
        .collect();
    let readings = record.readings();
    let mut h = Sha256::new();
    h.update(b"incentive-input-v1\n");
    let member = serde_json::to_string(input.member).unwrap_or_default();
    h.update(
        format!(
            "member {}\n{member}\nperiod {}\n",
            member.len(),
            input.period
        )
        .as_bytes(),
    );
    h.update(format!("readings {}\n", readings.len()).as_bytes());
    let mut buf = Vec::with_capacity(readings.len() * 22);
    for ((((t, o), v), c), s) in readings
        .times_ms()
        .iter()
        .zip(readings.offsets_s())
        .zip(readings.values_mg_dl())
        .zip(readings.contexts())
        .zip(readings.sources())
    {
        buf.extend_from_slice(&t.to_be_bytes());
        buf.extend_from_slice(&o.to_be_bytes());
        buf.extend_from_slice(&v.to_bits().to_be_bytes());
        buf.extend_from_slice(&[*c as u8, *s as u8]);
    }
    h.update(&buf);
    let labs = serde_json::to_string(&labs).unwrap_or_default();
    let history = serde_json::to_string(input.history).unwrap_or_default();
    h.update(
        format!(
            "labs {}\n{labs}\nhistory {}\n{history}\n",
            labs.len(),
            history.len()
        )
        .as_bytes(),
    );
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = h.finalize();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in digest.iter() {
        for nibble in [b >> 4, b & 0xf] {
            out.push(char::from(
                HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    out
}

fn no_hash(_: &EvaluationInput<'_>, _: &Record) -> String {
    String::new()
}

static SMBG: LazyLock<Smbg> = LazyLock::new(|| {
    let dir = policies_dir(env!("CARGO_MANIFEST_DIR")).join("tangdaifu-smbg");
    let source = package(&dir);
    let policy = load_policy(&source);
    let plan = NativePlan::of(&policy.manifest);
    let period = Period::parse("2026-03").expect("a month");
    let members = smbg_member_months(MEMBERS);
    let rules_rhai = source
        .file("rules.rhai")
        .map(|f| f.text.clone())
        .expect("rules.rhai");
    let rule_text = rule_only_script(&rules_rhai);
    let rule = compile_rule(&policy.manifest, &rule_text);
    let rule_no_reasons = compile_rule(&policy.manifest, &without_reasons(&rule_text));
    let rule_compiled = CompiledScript::compile(&rule).expect("the rule compiles");
    let rule_no_reasons_compiled =
        CompiledScript::compile(&rule_no_reasons).expect("the rule compiles");
    let trivial_source = PolicySource {
        name: "trivial".to_owned(),
        files: vec![
            source.file("policy.toml").expect("policy.toml").clone(),
            SourceFile::new(
                "rules.rhai",
                "fn decide(record, member, history) { #{ reward: 0 } }",
            ),
        ],
    };
    let trivial = load_policy(&trivial_source);

    let mut inputs = Vec::with_capacity(members.len());
    let mut rhai_records = Vec::with_capacity(members.len());
    let (mut paid, mut flagged, mut readings) = (std::collections::BTreeMap::new(), 0, 0);
    for m in &members {
        let input = m.input(period);
        // The hand-written plan decides exactly what the package decides, byte for byte.
        let by_rhai = policy.evaluate(&input).expect("tangdaifu-smbg decides");
        let by_hand = native_evaluate(&policy, &plan, &input, input_hash);
        assert_eq!(by_rhai, by_hand, "native and Rhai decisions differ");
        let record = Record::for_period(
            m.member.id.clone(),
            &m.readings,
            m.labs.clone(),
            period,
            policy.manifest.timezone,
        )
        .expect("a record");
        let pre = rule_inputs(&plan, &record);
        let record_map = rhai_record(&pre);
        // The rule-only variants agree with it too.
        let native = decide(&plan, &mut &pre, true, false);
        let rhai = rhai_rule(&rule, &record_map);
        assert_eq!(native, rhai, "native and Rhai rules differ");
        let compiled = compiled_rule(&rule_compiled, &record_map);
        assert_eq!(compiled, rhai, "the compiled and interpreted rules differ");
        let mut native_bare = decide(&plan, &mut &pre, false, false);
        let rhai_bare = rhai_rule(&rule_no_reasons, &record_map);
        native_bare.reasons.clear();
        assert_eq!(native_bare, rhai_bare, "rules without reasons differ");
        let compiled_bare = compiled_rule(&rule_no_reasons_compiled, &record_map);
        assert_eq!(
            compiled_bare, rhai_bare,
            "compiled rules without reasons differ"
        );
        assert!(rhai.reward == native.reward && rhai.reward >= Decimal::ZERO);
        *paid.entry(by_rhai.reward.to_string()).or_insert(0_usize) += 1;
        flagged += usize::from(!by_rhai.flags.is_empty());
        readings += record.readings().len();
        inputs.push(pre);
        rhai_records.push(record_map);
    }
    eprintln!(
        "tangdaifu-smbg: {} member-months, {:.1} readings each on average; members by reward (CNY): {:?}; clinician flags: {flagged}",
        members.len(),
        readings as f64 / members.len() as f64,
        paid
    );
    Smbg {
        period,
        policy,
        plan,
        members,
        inputs,
        rhai_records,
        rule,
        rule_no_reasons,
        rule_compiled,
        rule_no_reasons_compiled,
        trivial,
    }
});

mod tangdaifu_smbg {
    use super::*;

    #[divan::bench]
    fn rhai_whole(bencher: Bencher) {
        let s = &*SMBG;
        bencher.counter(ItemsCount::new(s.members.len())).bench(|| {
            for m in &s.members {
                black_box(s.policy.evaluate(&m.input(s.period)).ok());
            }
        });
    }

    /// `rhai_whole` on Rhai's tree-walking interpreter, the reference the bytecode is held to.
    #[divan::bench]
    fn rhai_whole_interpreted(bencher: Bencher) {
        let s = &*SMBG;
        bencher.counter(ItemsCount::new(s.members.len())).bench(|| {
            for m in &s.members {
                black_box(
                    s.policy
                        .evaluate_on(&m.input(s.period), Path::Interpreted)
                        .ok(),
                );
            }
        });
    }

    #[divan::bench]
    fn native_whole(bencher: Bencher) {
        let s = &*SMBG;
        bencher.counter(ItemsCount::new(s.members.len())).bench(|| {
            for m in &s.members {
                black_box(native_evaluate(
                    &s.policy,
                    &s.plan,
                    &m.input(s.period),
                    no_hash,
                ));
            }
        });
    }

    #[divan::bench]
    fn native_whole_hashed(bencher: Bencher) {
        let s = &*SMBG;
        bencher.counter(ItemsCount::new(s.members.len())).bench(|| {
            for m in &s.members {
                black_box(native_evaluate(
                    &s.policy,
                    &s.plan,
                    &m.input(s.period),
                    input_hash,
                ));
            }
        });
    }

    /// Every metric through `compute_metrics`, then the two day-based figures the rule needs
    /// that `Metrics` does not hold, the rule, caps and the hashed `Decision`.
    #[divan::bench]
    fn native_whole_all_metrics(bencher: Bencher) {
        let s = &*SMBG;
        let m = &s.policy.manifest;
        bencher.counter(ItemsCount::new(s.members.len())).bench(|| {
            for member in &s.members {
                let input = member.input(s.period);
                let record = Record::for_period(
                    input.member.id.clone(),
                    input.readings,
                    input.labs.to_vec(),
                    s.period,
                    m.timezone,
                )
                .expect("a record");
                let hash = input_hash(&input, &record);
                let metrics = compute_metrics(&record);
                let mut lazy = common::LazyMetrics::new(&record);
                let pre = RuleInputs {
                    run_above_hyper_alert: lazy.run_above_hyper_alert(&s.plan),
                    readings_spaced: lazy.readings_spaced(&s.plan),
                    days_with_readings: metrics.days_with_readings as i64,
                    fasting_n: metrics.fasting_n as i64,
                    fasting_in_target_percent: common::decimal_metric(
                        metrics.fasting_in_target_percent,
                    ),
                };
                let history = input.history.as_of(s.period);
                let raw = decide(&s.plan, &mut &pre, true, true);
                let mut explanation = raw.reasons;
                let reward = apply_caps(m, raw.reward, &history, &mut explanation);
                black_box(incentive_engine::policy::Decision {
                    member_id: input.member.id.as_str().to_owned(),
                    policy_id: m.id.clone(),
                    policy_version: m.version.clone(),
                    policy_hash: s.policy.content_hash.clone(),
                    engine_version: ENGINE_VERSION.to_owned(),
                    period: s.period.to_string(),
                    input_hash: hash,
                    currency: m.currency.clone(),
                    reward,
                    premium_adjustment_percent: premium_zero(m),
                    tier: None,
                    points: 0,
                    qualified: raw.qualified,
                    flags: raw.flags,
                    metrics_used: MetricsUsed(raw.used),
                    metrics_used_by_period: Default::default(),
                    kept: MetricsUsed::default(),
                    explanation,
                });
            }
        });
    }
}

mod rule_only {
    use super::*;

    #[divan::bench]
    fn native(bencher: Bencher) {
        let s = &*SMBG;
        bencher.counter(ItemsCount::new(s.inputs.len())).bench(|| {
            for i in &s.inputs {
                black_box(decide(&s.plan, &mut black_box(i), true, false));
            }
        });
    }

    #[divan::bench]
    fn native_no_reasons(bencher: Bencher) {
        let s = &*SMBG;
        bencher.counter(ItemsCount::new(s.inputs.len())).bench(|| {
            for i in &s.inputs {
                black_box(decide(&s.plan, &mut black_box(i), false, false));
            }
        });
    }

    #[divan::bench]
    fn rhai(bencher: Bencher) {
        let s = &*SMBG;
        bencher
            .counter(ItemsCount::new(s.rhai_records.len()))
            .bench(|| {
                for r in &s.rhai_records {
                    black_box(rhai_rule(&s.rule, r));
                }
            });
    }

    /// `rhai` on the script compiled, as `Policy::evaluate` runs it.
    #[divan::bench]
    fn compiled(bencher: Bencher) {
        let s = &*SMBG;
        bencher
            .counter(ItemsCount::new(s.rhai_records.len()))
            .bench(|| {
                for r in &s.rhai_records {
                    black_box(compiled_rule(&s.rule_compiled, r));
                }
            });
    }

    #[divan::bench]
    fn compiled_no_reasons(bencher: Bencher) {
        let s = &*SMBG;
        bencher
            .counter(ItemsCount::new(s.rhai_records.len()))
            .bench(|| {
                for r in &s.rhai_records {
                    black_box(compiled_rule(&s.rule_no_reasons_compiled, r));
                }
            });
    }

    #[divan::bench]
    fn rhai_no_reasons(bencher: Bencher) {
        let s = &*SMBG;
        bencher
            .counter(ItemsCount::new(s.rhai_records.len()))
            .bench(|| {
                for r in &s.rhai_records {
                    black_box(rhai_rule(&s.rule_no_reasons, r));
                }
            });
    }
}

mod pieces {
    use super::*;

    /// `Record::for_period`: the month's readings copied out of the member's, labs cloned.
    #[divan::bench]
    fn record_for_period(bencher: Bencher) {
        let s = &*SMBG;
        let zone = s.policy.manifest.timezone;
        bencher.counter(ItemsCount::new(s.members.len())).bench(|| {
            for m in &s.members {
                black_box(Record::for_period(
                    m.member.id.clone(),
                    &m.readings,
                    m.labs.clone(),
                    s.period,
                    zone,
                ))
                .ok();
            }
        });
    }

    /// The SHA-256 input hash alone (member, labs and history as JSON, every reading).
    #[divan::bench]
    fn input_hash(bencher: Bencher) {
        let s = &*SMBG;
        let records = records(s);
        bencher.counter(ItemsCount::new(s.members.len())).bench(|| {
            for (m, r) in s.members.iter().zip(&records) {
                black_box(super::input_hash(&m.input(s.period), r));
            }
        });
    }

    /// The metrics the rule reads, computed natively from a record already built.
    #[divan::bench]
    fn rule_metrics(bencher: Bencher) {
        let s = &*SMBG;
        let records = records(s);
        bencher.counter(ItemsCount::new(s.members.len())).bench(|| {
            for r in &records {
                black_box(rule_inputs(&s.plan, black_box(r)));
            }
        });
    }

    /// The local day of every reading in the policy's zone (`DayBoundary::Zone`, a chrono-tz
    /// offset look-up per reading), as `days_with_readings` and `daily_summaries` each do.
    #[divan::bench]
    fn zone_day_numbers(bencher: Bencher) {
        let s = &*SMBG;
        let records = records(s);
        bencher.counter(ItemsCount::new(s.members.len())).bench(|| {
            for r in &records {
                let mut sum = 0_i64;
                for i in 0..r.readings().len() {
                    sum = sum.wrapping_add(r.day_number_of(i).unwrap_or(0));
                }
                black_box(sum);
            }
        });
    }

    /// `rule_metrics` with days counted at each reading's own offset (`DayBoundary::
    /// ReadingOffset`; the same days here, every reading being +08:00): what resolving the zone
    /// to a fixed offset for the window, when it has no transition there, would cost.
    #[divan::bench]
    fn rule_metrics_fixed_offset(bencher: Bencher) {
        let s = &*SMBG;
        let records: Vec<Record> = records(s)
            .into_iter()
            .map(|r| r.with_day_boundary(DayBoundary::ReadingOffset))
            .collect();
        for (r, pre) in records.iter().zip(&s.inputs) {
            assert_eq!(&rule_inputs(&s.plan, r), pre, "same days at a fixed offset");
        }
        bencher.counter(ItemsCount::new(s.members.len())).bench(|| {
            for r in &records {
                black_box(rule_inputs(&s.plan, black_box(r)));
            }
        });
    }

    /// The same input hash (checked equal) with the readings' 22 bytes each written into one
    /// buffer and hashed in one `update`, and the digest written in hex from a table.
    #[divan::bench]
    fn input_hash_one_update(bencher: Bencher) {
        let s = &*SMBG;
        let records = records(s);
        for (m, r) in s.members.iter().zip(&records) {
            assert_eq!(
                input_hash_buffered(&m.input(s.period), r),
                super::input_hash(&m.input(s.period), r)
            );
        }
        bencher.counter(ItemsCount::new(s.members.len())).bench(|| {
            for (m, r) in s.members.iter().zip(&records) {
                black_box(input_hash_buffered(&m.input(s.period), r));
            }
        });
    }

    /// `Policy::evaluate` of the same package with `decide` returning `#{ reward: 0 }`: the
    /// record, the hash, the views, one Rhai call, reading the map, caps and the `Decision`.
    #[divan::bench]
    fn rhai_trivial_evaluate(bencher: Bencher) {
        let s = &*SMBG;
        bencher.counter(ItemsCount::new(s.members.len())).bench(|| {
            for m in &s.members {
                black_box(s.trivial.evaluate(&m.input(s.period)).ok());
            }
        });
    }

    /// One call of a script function returning `#{ reward: 0 }`, nothing else.
    #[divan::bench]
    fn rhai_call_only(bencher: Bencher) {
        let s = &*SMBG;
        let ast = compile_rule(
            &s.policy.manifest,
            "fn decide(record, member, history) { #{ reward: 0 } }",
        );
        bencher.counter(ItemsCount::new(s.members.len())).bench(|| {
            for _ in &s.members {
                let mut scope = Scope::new();
                let options = CallFnOptions::new().eval_ast(false).rewind_scope(true);
                let out: Result<Dynamic, _> = engine().call_fn_with_options(
                    options,
                    &mut scope,
                    &ast,
                    "decide",
                    (Dynamic::UNIT, Dynamic::UNIT, Dynamic::UNIT),
                );
                black_box(out.ok());
            }
        });
    }

    /// `History::as_of`: the summary the caps read.
    #[divan::bench]
    fn history_as_of(bencher: Bencher) {
        let s = &*SMBG;
        bencher.counter(ItemsCount::new(s.members.len())).bench(|| {
            for m in &s.members {
                black_box(m.history.as_of(s.period));
            }
        });
    }
}

/// A CGM quarter through policies/cgm-consensus, if the package is there and loads.
mod cgm_consensus {
    use super::*;

    const CGM_MEMBERS: usize = 8;

    pub(super) struct Cgm {
        policy: Policy,
        period: Period,
        members: Vec<MemberMonth>,
    }

    pub(super) static CGM: LazyLock<Option<Cgm>> = LazyLock::new(|| {
        let dir = policies_dir(env!("CARGO_MANIFEST_DIR")).join("cgm-consensus");
        if !dir.join("policy.toml").is_file() || !dir.join("rules.rhai").is_file() {
            eprintln!("cgm-consensus: no package at policies/cgm-consensus: skipped");
            return None;
        }
        let policy = match incentive_engine::policy::load(&package(&dir)) {
            Ok(p) => p.policy,
            Err(d) => {
                eprintln!("cgm-consensus: the package does not load ({d:?}): skipped");
                return None;
            }
        };
        let m = &policy.manifest;
        let first = m.effective_from;
        let period = Period::containing_day(m.period, first);
        let window = period.window(m.timezone).ok()?;
        let template = smbg_member_months(CGM_MEMBERS);
        let members = template
            .into_iter()
            .enumerate()
            .map(|(k, mut mm)| {
                mm.readings = cgm_readings(k as u64, window.start, window.end);
                mm.history = incentive_engine::policy::History::default();
                mm
            })
            .collect::<Vec<_>>();
        for mm in &members {
            if let Err(e) = policy.evaluate(&mm.input(period)) {
                eprintln!("cgm-consensus: evaluation fails ({e}): skipped");
                return None;
            }
        }
        eprintln!(
            "cgm-consensus: {} members, period {period}, {} readings each",
            members.len(),
            members.first().map_or(0, |m| m.readings.len())
        );
        Some(Cgm {
            policy,
            period,
            members,
        })
    });

    /// A reading every 5 minutes over the window: a slow random walk around a member's mean
    /// (120–200 mg/dL) with meal peaks, a few sensor gaps of an hour or two.
    fn cgm_readings(
        seed: u64,
        start: chrono::DateTime<chrono::Utc>,
        end: chrono::DateTime<chrono::Utc>,
    ) -> incentive_engine::Readings {
        let mut rng = Lcg::new(1000 + seed);
        let mean = 120.0 + 80.0 * rng.uniform();
        let offset = common::shanghai();
        let n = ((end - start).num_minutes() / 5).max(0) as usize;
        let mut builder = ReadingsBuilder::with_capacity(n);
        let mut g = mean;
        let mut gap = 0;
        for i in 0..n {
            let t = start + chrono::TimeDelta::minutes(5 * i as i64);
            let minute_of_day = (i * 5 + 8 * 60) % 1440;
            let meal = [(7 * 60, 60.0), (12 * 60, 70.0), (18 * 60 + 30, 80.0)]
                .iter()
                .map(|&(at, peak)| {
                    let d = minute_of_day as f64 - f64::from(at) - 60.0;
                    peak * (-(d * d) / (2.0 * 45.0 * 45.0)).exp()
                })
                .sum::<f64>();
            g += 0.05 * (mean - g) + 4.0 * rng.normal();
            if gap > 0 {
                gap -= 1;
                continue;
            }
            if rng.uniform() < 0.001 {
                gap = rng.between(12, 24);
            }
            let value = ((g + meal).clamp(40.0, 400.0) * 10.0).round() / 10.0;
            builder.push(Reading {
                time: t.with_timezone(&offset),
                value: GlucoseValue::Measured(Glucose::from_mg_dl(value).expect("plausible")),
                context: Context::Unknown,
                source: Source::Cgm,
            });
        }
        builder.finish().readings
    }

    #[divan::bench(sample_count = 20)]
    fn rhai_whole(bencher: Bencher) {
        let Some(c) = &*CGM else { return };
        bencher.counter(ItemsCount::new(c.members.len())).bench(|| {
            for m in &c.members {
                black_box(c.policy.evaluate(&m.input(c.period)).ok());
            }
        });
    }

    /// `rhai_whole` on the tree-walking interpreter.
    #[divan::bench(sample_count = 20)]
    fn rhai_whole_interpreted(bencher: Bencher) {
        let Some(c) = &*CGM else { return };
        bencher.counter(ItemsCount::new(c.members.len())).bench(|| {
            for m in &c.members {
                black_box(
                    c.policy
                        .evaluate_on(&m.input(c.period), Path::Interpreted)
                        .ok(),
                );
            }
        });
    }

    /// The native floor: the record for the quarter and every metric of it.
    #[divan::bench(sample_count = 20)]
    fn native_record_and_all_metrics(bencher: Bencher) {
        let Some(c) = &*CGM else { return };
        let zone = c.policy.manifest.timezone;
        bencher.counter(ItemsCount::new(c.members.len())).bench(|| {
            for m in &c.members {
                let record = Record::for_period(
                    m.member.id.clone(),
                    &m.readings,
                    m.labs.clone(),
                    c.period,
                    zone,
                )
                .expect("a record");
                black_box(compute_metrics(&record));
            }
        });
    }
}
