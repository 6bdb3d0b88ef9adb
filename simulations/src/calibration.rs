//! The figures a population reproduces, measured on its own draws, beside the Guizhou pilot's
//! (seed text, 2015–2016). How each pilot figure is read here is written next to it: the
//! sources give the figures, not their definitions.

use crate::SimError;
use crate::population::Population;
use crate::response::Behaviour;
use crate::synth::{Draw, member, period_data};
use incentive_engine::{Context, Period};
use serde::Serialize;

/// Readings a month, on average over the year, that meet "the national frequency standard"
/// as read here: two a week.
pub const FREQUENCY_STANDARD_READINGS_PER_MONTH: f64 = 8.0;
/// Fasting target, mmol/L (Chinese guideline: 4.4–7.0), and post-meal below 10.0.
const FASTING_TARGET: (f64, f64) = (4.4, 7.0);
const POST_MEAL_TARGET: (f64, f64) = (4.4, 10.0);

/// What a population's first year looks like.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Figures {
    /// Mean readings a member a month (pilot, province-wide: 6.5).
    pub readings_per_member_month: f64,
    /// Members with a reading in every month of the year (pilot, Suiyang: 69 % "kept measuring
    /// every month").
    pub measuring_every_month_share: f64,
    /// Members averaging at least [`FREQUENCY_STANDARD_READINGS_PER_MONTH`] (pilot: 28.5 % met
    /// the national frequency standard).
    pub frequency_standard_share: f64,
    /// Readings in target — fasting 4.4–7.0, post-meal 4.4–10.0 mmol/L (pilot: the overall
    /// 达标 rate rose to 56 %).
    pub readings_in_target_share: f64,
    /// Members measuring fasting whose mean fasting glucose that month is 7.0 mmol/L or more,
    /// in the first month (pilot, Suiyang: 82.89 % in November 2015)…
    pub hyperglycaemia_first_month_share: f64,
    /// …and in the twelfth (54.55 % a year later).
    pub hyperglycaemia_last_month_share: f64,
}

/// The pilot's figures, as targets.
pub const PILOT: Figures = Figures {
    readings_per_member_month: 6.5,
    measuring_every_month_share: 0.69,
    frequency_standard_share: 0.285,
    readings_in_target_share: 0.56,
    hyperglycaemia_first_month_share: 0.8289,
    hyperglycaemia_last_month_share: 0.5455,
};

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Members a run's report measures its population's calibration on.
pub const REPORT_MEMBERS: u64 = 1_000;

/// A run's population beside the pilot, as its report shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Calibration {
    /// What the figures are, and what they are not.
    pub caveat: &'static str,
    pub members: u64,
    /// The run's population, its members behaving as under plan A, over twelve months.
    pub model: Figures,
    pub pilot: Figures,
}

/// What a reader should know of the calibration.
pub const CAVEAT: &str = "one uncontrolled before/after pilot (Guizhou, 2015–2016, finger-stick meters): its figures are read as written in the design notes, the reward's part in its fall in hyperglycaemia cannot be told from the meter's, the attention's or regression to the mean, and a sensor programme or another province is outside what it shows";

/// The run's population measured beside the pilot, its members behaving as under plan A (the
/// stake the run measured for it, or the `fixed` model's response).
pub fn for_run(
    info: &crate::info::RunInfo,
    results: &crate::totals::Results,
) -> Result<Calibration, SimError> {
    let model = &info.assumptions;
    let behaviour = results
        .stakes
        .first()
        .and_then(Option::as_ref)
        .map_or_else(|| Behaviour::under_plan(model, 1.0), |s| s.behaviour(model));
    let first = Period::parse("2026-01").map_err(|e| SimError::Model(e.to_string()))?;
    Ok(Calibration {
        caveat: CAVEAT,
        members: REPORT_MEMBERS,
        model: measure(model, &behaviour, REPORT_MEMBERS, info.seed, first)?,
        pilot: PILOT,
    })
}

/// How the pilot's members behaved: as members behave under `plan` (the pilot's plan:
/// `policies/tangdaifu-smbg` models it) with the stake a run of `members` would measure, or as
/// the `fixed` response model says.
pub fn behaviour_under(
    model: &Population,
    plan: &incentive_engine::policy::Policy,
    members: u64,
    seed: u64,
    first: Period,
) -> Result<Behaviour, SimError> {
    let config = crate::config::Config {
        members,
        periods: 12,
        replications: 1,
        seed,
        first_period: first,
        shard: crate::config::Shard::WHOLE,
    };
    let stake = crate::run::plan_stakes(model, &[plan], &config)?
        .into_iter()
        .next()
        .flatten();
    Ok(stake.map_or_else(|| Behaviour::under_plan(model, 1.0), |s| s.behaviour(model)))
}

/// Draws `members` members for twelve months from `first`, behaving as `behaviour` says (the
/// pilot's plan's: see `run::stakes`), and measures the figures.
pub fn measure(
    model: &Population,
    behaviour: &Behaviour,
    members: u64,
    seed: u64,
    first: Period,
) -> Result<Figures, SimError> {
    let zone = chrono_tz::Asia::Shanghai;
    let enrolled = first
        .first_day()
        .ok_or_else(|| SimError::Config("the first period has no first day".into()))?;
    let periods: Vec<Period> = std::iter::successors(Some(first), |p| Some(p.next()))
        .take(12)
        .collect();
    let (mut readings, mut in_target) = (0_usize, 0_usize);
    let (mut every_month, mut standard) = (0_usize, 0_usize);
    let (mut hyper_first, mut fasting_first, mut hyper_last, mut fasting_last) = (0, 0, 0, 0);
    for m in 0..members {
        let who = member(model, seed, m, 0, enrolled)?;
        let (mut months_measured, mut count) = (0, 0_usize);
        for (k, &period) in periods.iter().enumerate() {
            let draw = Draw {
                seed,
                member: m,
                replication: 0,
            };
            let data = period_data(model, &who, behaviour, draw, k as u64, period, zone)?;
            let r = &data.readings;
            count += r.len();
            if !r.is_empty() {
                months_measured += 1;
            }
            let mut fasting = Vec::new();
            for (i, &v) in r.values_mg_dl().iter().enumerate() {
                let mmol = v / incentive_engine::MG_DL_PER_MMOL_L;
                let context = r.contexts().get(i).copied();
                let (lo, hi) = if context == Some(Context::Fasting) {
                    fasting.push(mmol);
                    FASTING_TARGET
                } else {
                    POST_MEAL_TARGET
                };
                if (lo..=hi).contains(&mmol) {
                    in_target += 1;
                }
            }
            if !fasting.is_empty() {
                let mean = fasting.iter().sum::<f64>() / fasting.len() as f64;
                let hyper = usize::from(mean >= FASTING_TARGET.1);
                if k == 0 {
                    fasting_first += 1;
                    hyper_first += hyper;
                } else if k == 11 {
                    fasting_last += 1;
                    hyper_last += hyper;
                }
            }
        }
        readings += count;
        every_month += usize::from(months_measured == 12);
        standard += usize::from(count as f64 / 12.0 >= FREQUENCY_STANDARD_READINGS_PER_MONTH);
    }
    let n = usize::try_from(members).unwrap_or(usize::MAX);
    Ok(Figures {
        readings_per_member_month: readings as f64 / (n as f64 * 12.0),
        measuring_every_month_share: share(every_month, n),
        frequency_standard_share: share(standard, n),
        readings_in_target_share: share(in_target, readings),
        hyperglycaemia_first_month_share: share(hyper_first, fasting_first),
        hyperglycaemia_last_month_share: share(hyper_last, fasting_last),
    })
}
