//! The tangdaifu-smbg rule over precomputed metrics: native Rust, Rhai on the engine's sandbox,
//! and GoRules zen-engine, in the same run, evaluations per second on one core.
//!
//! ```sh
//! CARGO_TARGET_DIR=target/zen-compare cargo run --release --manifest-path bench/zen-compare/Cargo.toml
//! ```
//!
//! The members, the native rule and the Rhai rule are those of `engine/benches/policy.rs`
//! (`engine/benches/common/mod.rs`, included below). The zen decision is
//! `tangdaifu-smbg.json` (numbers and flag only) or `tangdaifu-smbg-reasons.json` (with the
//! explanation lines): an expression node for the measuring gate and the flag, a decision table
//! for the rebate steps, an expression node for the reward.
//!
//! Timing: every variant runs over all members in turn, each round measuring each variant for
//! about 0.2 s (variants interleaved, so machine noise hits them alike); the median and the
//! best of the rounds are reported, in evaluations per second.

#![allow(
    clippy::panic,
    clippy::expect_used,
    reason = "a bench whose setup is wrong must stop"
)]

#[path = "../../../engine/benches/common/mod.rs"]
mod common;

use common::{
    NativePlan, RuleInputs, RuleOutcome, compile_rule, compiled_rule, decide, load_policy, package, policies_dir,
    rhai_record, rhai_rule, rule_inputs, rule_only_script, smbg_member_months, without_reasons,
};
use incentive_engine::policy::Line;
use incentive_engine::policy::compiled::CompiledScript;
use incentive_engine::{Period, Record};
use rust_decimal::Decimal;
use std::hint::black_box;
use std::time::{Duration, Instant};
use zen_engine::Decision;
use zen_engine::Variable;
use zen_engine::model::DecisionContent;

const MEMBERS: usize = 1_000;
const ROUNDS: usize = 9;
const ROUND_TIME: Duration = Duration::from_millis(200);

fn zen_decision(json: &str) -> Decision {
    let content: DecisionContent = serde_json::from_str(json).expect("a JDM graph");
    let engine = zen_engine::DecisionEngine::default();
    let mut decision = engine
        .create_decision(content.into())
        .expect("a graph decision");
    decision.compile();
    decision
}

/// Precomputed metrics as the JSON the zen decision reads.
fn zen_json(i: &RuleInputs) -> serde_json::Value {
    let share = i
        .fasting_in_target_percent
        .map_or(serde_json::Value::Null, |d| {
            serde_json::from_str(&d.to_string()).expect("a JSON number")
        });
    serde_json::json!({
        "run_above_hyper_alert": i.run_above_hyper_alert,
        "readings_spaced": i.readings_spaced,
        "days_with_readings": i.days_with_readings,
        "fasting_n": i.fasting_n,
        "fasting_in_target_percent": share,
    })
}

fn strings(v: Option<Variable>) -> Vec<String> {
    v.and_then(|v| v.as_array())
        .map(|a| {
            a.borrow()
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The zen result read into the same outcome the other two give.
fn zen_outcome(result: &Variable) -> RuleOutcome {
    RuleOutcome {
        reward: result
            .dot("reward")
            .and_then(|v| v.as_number())
            .expect("a reward"),
        qualified: result
            .dot("qualified")
            .and_then(|v| v.as_bool())
            .unwrap_or(false),
        // Zen writes its lines as English text; the engine's are message ids with arguments,
        // worded when shown. The lines are compared by number, not by words.
        reasons: strings(result.dot("reasons"))
            .into_iter()
            .map(Line::Text)
            .collect(),
        flags: strings(result.dot("flags")),
        used: Vec::new(),
    }
}

async fn zen_eval(decision: &Decision, input: Variable) -> RuleOutcome {
    match decision.evaluate(input).await {
        Ok(r) => zen_outcome(&r.result),
        Err(e) => panic!("zen evaluation failed: {e:?}"),
    }
}

struct Variant<'a> {
    name: &'static str,
    /// Evaluates every member once.
    run: Box<dyn FnMut() + 'a>,
    per_eval_ns: Vec<f64>,
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() {
    let dir = policies_dir(env!("CARGO_MANIFEST_DIR")).join("tangdaifu-smbg");
    let source = package(&dir);
    let policy = load_policy(&source);
    let plan = NativePlan::of(&policy.manifest);
    let period = Period::parse("2026-03").expect("a month");
    let rules_rhai = source
        .file("rules.rhai")
        .map(|f| f.text.clone())
        .expect("rules.rhai");
    let rule_text = rule_only_script(&rules_rhai);
    let rhai_rule_ast = compile_rule(&policy.manifest, &rule_text);
    let rhai_bare_ast = compile_rule(&policy.manifest, &without_reasons(&rule_text));
    // The same scripts compiled, as `Policy::evaluate` runs a policy's rules.
    let compiled_rule_script = CompiledScript::compile(&rhai_rule_ast).expect("the rule compiles");
    let compiled_bare_script =
        CompiledScript::compile(&rhai_bare_ast).expect("the rule compiles");
    let zen = zen_decision(include_str!("../tangdaifu-smbg.json"));
    let zen_reasons = zen_decision(include_str!("../tangdaifu-smbg-reasons.json"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");

    let members = smbg_member_months(MEMBERS);
    let inputs: Vec<RuleInputs> = members
        .iter()
        .map(|m| {
            let record = Record::for_period(
                m.member.id.clone(),
                &m.readings,
                m.labs.clone(),
                period,
                policy.manifest.timezone,
            )
            .expect("a record");
            rule_inputs(&plan, &record)
        })
        .collect();
    let rhai_maps: Vec<rhai::Map> = inputs.iter().map(rhai_record).collect();
    let jsons: Vec<serde_json::Value> = inputs.iter().map(zen_json).collect();
    let variables: Vec<Variable> = jsons.iter().map(|j| Variable::from(j.clone())).collect();

    // All three decide the same for every member.
    let mut reason_mismatches = 0;
    for (k, i) in inputs.iter().enumerate() {
        let native = decide(&plan, &mut &*i, true, false);
        let rhai = rhai_rule(&rhai_rule_ast, &rhai_maps[k]);
        assert_eq!(native, rhai, "native and Rhai differ for member {k}");
        let compiled = compiled_rule(&compiled_rule_script, &rhai_maps[k]);
        assert_eq!(compiled, rhai, "compiled and interpreted Rhai differ for member {k}");
        let z = rt.block_on(zen_eval(&zen_reasons, variables[k].deep_clone()));
        let zb = rt.block_on(zen_eval(&zen, variables[k].deep_clone()));
        for (what, z) in [("with reasons", &z), ("numbers only", &zb)] {
            assert!(
                z.reward == native.reward
                    && z.qualified == native.qualified
                    && z.flags == native.flags,
                "zen ({what}) differs for member {k}: {z:?} vs {native:?}"
            );
        }
        if z.reasons.len() != native.reasons.len() {
            if reason_mismatches == 0 {
                eprintln!(
                    "first explanation mismatch (member {k}):\n  zen:    {:?}\n  native: {:?}",
                    z.reasons, native.reasons
                );
            }
            reason_mismatches += 1;
        }
    }
    let paying = inputs
        .iter()
        .filter(|i| decide(&plan, &mut &**i, false, false).reward > Decimal::ZERO)
        .count();
    eprintln!(
        "{} members ({paying} paid); all three agree on reward, qualified and flags; zen gives a different number of explanation lines from the engine's for {reason_mismatches} members",
        inputs.len()
    );

    let mut variants: Vec<Variant<'_>> = vec![
        Variant {
            name: "native rule, with reasons",
            run: Box::new(|| {
                for i in &inputs {
                    black_box(decide(&plan, &mut black_box(i), true, false));
                }
            }),
            per_eval_ns: Vec::new(),
        },
        Variant {
            name: "native rule, numbers only",
            run: Box::new(|| {
                for i in &inputs {
                    black_box(decide(&plan, &mut black_box(i), false, false));
                }
            }),
            per_eval_ns: Vec::new(),
        },
        Variant {
            name: "Rhai rule, with reasons",
            run: Box::new(|| {
                for m in &rhai_maps {
                    black_box(rhai_rule(&rhai_rule_ast, m));
                }
            }),
            per_eval_ns: Vec::new(),
        },
        Variant {
            name: "Rhai rule, numbers only",
            run: Box::new(|| {
                for m in &rhai_maps {
                    black_box(rhai_rule(&rhai_bare_ast, m));
                }
            }),
            per_eval_ns: Vec::new(),
        },
        Variant {
            name: "Rhai rule compiled, with reasons",
            run: Box::new(|| {
                for m in &rhai_maps {
                    black_box(compiled_rule(&compiled_rule_script, m));
                }
            }),
            per_eval_ns: Vec::new(),
        },
        Variant {
            name: "Rhai rule compiled, numbers only",
            run: Box::new(|| {
                for m in &rhai_maps {
                    black_box(compiled_rule(&compiled_bare_script, m));
                }
            }),
            per_eval_ns: Vec::new(),
        },
        Variant {
            name: "zen, with reasons",
            run: Box::new(|| {
                rt.block_on(async {
                    for v in &variables {
                        black_box(zen_eval(&zen_reasons, v.deep_clone()).await);
                    }
                });
            }),
            per_eval_ns: Vec::new(),
        },
        Variant {
            name: "zen, numbers only",
            run: Box::new(|| {
                rt.block_on(async {
                    for v in &variables {
                        black_box(zen_eval(&zen, v.deep_clone()).await);
                    }
                });
            }),
            per_eval_ns: Vec::new(),
        },
        Variant {
            name: "zen, numbers only, input from serde_json",
            run: Box::new(|| {
                rt.block_on(async {
                    for j in &jsons {
                        black_box(zen_eval(&zen, Variable::from(j)).await);
                    }
                });
            }),
            per_eval_ns: Vec::new(),
        },
    ];

    // Passes per round: enough for about ROUND_TIME each, from one warm-up pass.
    let passes: Vec<u32> = variants
        .iter_mut()
        .map(|v| {
            (v.run)();
            let t = Instant::now();
            (v.run)();
            let one = t.elapsed().as_secs_f64().max(1e-6);
            ((ROUND_TIME.as_secs_f64() / one).ceil() as u32).max(1)
        })
        .collect();
    for _ in 0..ROUNDS {
        for (v, &n) in variants.iter_mut().zip(&passes) {
            let t = Instant::now();
            for _ in 0..n {
                (v.run)();
            }
            let ns = t.elapsed().as_nanos() as f64 / f64::from(n) / inputs.len() as f64;
            v.per_eval_ns.push(ns);
        }
    }

    let zen_numbers = variants
        .iter()
        .find(|v| v.name == "zen, numbers only")
        .map_or(f64::NAN, |v| median(&v.per_eval_ns));
    let zen_with_reasons = variants
        .iter()
        .find(|v| v.name == "zen, with reasons")
        .map_or(f64::NAN, |v| median(&v.per_eval_ns));
    println!(
        "{} members, {ROUNDS} rounds of about {} ms per variant, median (best) per round\n",
        inputs.len(),
        ROUND_TIME.as_millis()
    );
    println!(
        "| variant | ns/evaluation, median | best | evaluations/s, median | zen time ÷ this (like for like) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: |");
    for v in &variants {
        let med = median(&v.per_eval_ns);
        let best = v.per_eval_ns.iter().copied().fold(f64::INFINITY, f64::min);
        let zen_like = if v.name.contains("with reasons") {
            zen_with_reasons
        } else {
            zen_numbers
        };
        println!(
            "| {} | {med:.0} | {best:.0} | {:.0} | {:.2}x |",
            v.name,
            1e9 / med,
            zen_like / med
        );
    }
}
