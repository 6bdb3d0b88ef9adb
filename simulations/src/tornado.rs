//! One-at-a-time sensitivity — a tornado: the run again with each varied assumption at its low
//! and at its high (`population::RANGES`, or the model's own `ranges`), everything else at its
//! value, on the same members and random numbers. Each bar is what those two runs give; a test
//! holds a bar to a run made by hand with the assumption set.
//!
//! The savings assumptions do not change what is simulated, only what it is worth, so their
//! bars value the base run again rather than running it again: the same figures, at a fraction
//! of the time.

use crate::SimError;
use crate::config::Config;
use crate::effects;
use crate::population::{Population, RANGES};
use crate::run::run_until;
use crate::stats::Distribution;
use crate::synth::months;
use crate::totals::Results;
use incentive_engine::policy::Policy;
use rust_decimal::Decimal;
use serde::Serialize;
use std::sync::atomic::AtomicBool;

/// What a bar shows of each plan: means over the replications.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub total_reward: Decimal,
    pub claims_savings: Decimal,
    pub net_cost: Decimal,
    pub members_into_hba1c_target: Decimal,
    pub hba1c_change: Decimal,
}

/// One assumption at its low and its high.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Bar {
    pub assumption: String,
    pub value: f64,
    pub low: f64,
    pub high: f64,
    /// By plan.
    pub at_low: Vec<Figures>,
    pub at_high: Vec<Figures>,
}

/// The tornado of a run: its base figures and a bar for each varied assumption, the widest
/// swing in plan A's net cost first.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sensitivity {
    pub base: Vec<Figures>,
    pub bars: Vec<Bar>,
}

/// Each plan's figures in `results` of a run of `config` under `model`.
pub fn figures(
    model: &Population,
    config: &Config,
    results: &Results,
) -> Result<Vec<Figures>, SimError> {
    let periods: Vec<String> = config.periods().iter().map(ToString::to_string).collect();
    let months_in = months(config.first_period);
    let replications = results.replications.as_slice();
    (0..results.members.len().max(results.stakes.len()))
        .map(|p| {
            let rewards: Vec<Decimal> = replications
                .iter()
                .filter_map(|r| Some(r.plans.get(p)?.reward))
                .collect();
            let o = effects::plan(
                model,
                &periods,
                months_in,
                replications,
                config.members,
                p,
                results.stakes.get(p).and_then(Option::as_ref),
            )?;
            Ok(Figures {
                total_reward: Distribution::of(&rewards).mean,
                claims_savings: o.claims_savings.mean,
                net_cost: o.net_cost.mean,
                members_into_hba1c_target: o.members_into_hba1c_target.mean,
                hba1c_change: o.hba1c_change.mean,
            })
        })
        .collect()
}

/// Whether an assumption changes what is simulated, or only what it is worth.
fn simulated(key: &str) -> bool {
    !key.starts_with("savings.")
}

/// The tornado of the run `base` of `plans` on `config` under `model`; `progress` hears of each
/// run's member-periods, and `stop` stops it as it stops a run.
pub fn tornado(
    model: &Population,
    plans: &[&Policy],
    config: &Config,
    base: &Results,
    progress: &(dyn Fn(u64) + Sync),
    stop: &AtomicBool,
) -> Result<Sensitivity, SimError> {
    let mut bars = Vec::with_capacity(RANGES.len());
    for (key, _, _) in RANGES {
        let [low, high] = model
            .range(key)
            .ok_or_else(|| SimError::Config(format!("{key} has no range")))?;
        let value = model
            .value(key)
            .ok_or_else(|| SimError::Config(format!("the model has no {key}")))?;
        let at = |v: f64| -> Result<Vec<Figures>, SimError> {
            let varied = model.with(key, v)?;
            if simulated(key) {
                let results = run_until(&varied, plans, config, progress, stop)?;
                figures(&varied, config, &results)
            } else {
                figures(&varied, config, base)
            }
        };
        let (at_low, at_high) = (at(low)?, at(high)?);
        bars.push(Bar {
            assumption: key.to_owned(),
            value,
            low,
            high,
            at_low,
            at_high,
        });
    }
    let swing = |b: &Bar| match (b.at_low.first(), b.at_high.first()) {
        (Some(l), Some(h)) => (l.net_cost - h.net_cost).abs(),
        _ => Decimal::ZERO,
    };
    // Widest first; equal swings in the order of RANGES (the sort is stable).
    bars.sort_by_key(|b| std::cmp::Reverse(swing(b)));
    Ok(Sensitivity {
        base: figures(model, config, base)?,
        bars,
    })
}

/// Runs with the tornado a run needs: how many runs of the whole size it makes besides the base.
pub fn runs_needed() -> usize {
    2 * RANGES.iter().filter(|(k, _, _)| simulated(k)).count()
}
