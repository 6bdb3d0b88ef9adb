//! The population model: who the members are, how they measure, how their glucose runs, and
//! how a reward changes that — every assumption named, with its default and where the default
//! comes from, so it can be written next to the results (ASOP 56).
//!
//! A model is a TOML file (`--population FILE`); anything it leaves out takes the default,
//! which is calibrated — its members answering to the pilot's plan, `policies/tangdaifu-smbg` —
//! to the Guizhou pilot figures in the design notes (6.5 readings a member a
//! month province-wide, 69 % measuring at least monthly, hyperglycaemia falling from 82.89 % to
//! 54.55 % over a year). `calibration::measure` shows how close the default comes, and a test
//! holds it there; `cargo run --release -p incentive-simulations --example calibrate` prints it.

use incentive_engine::PeriodKind;
use incentive_engine::policy::attributes::AttributeValue;
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

mod problems;
mod sources;

pub use sources::{SOURCES, source};

/// The most finger-stick readings a member takes in a month: one an hour, day and night, for
/// 31 days. A model may not ask for more on average, and a member drawn far above the average
/// (a Gamma tail) takes this many, so one member-period never holds more readings than this.
pub const FINGER_STICK_READINGS_PER_MONTH_MAX: f64 = 744.0;

/// The most readings one member-period may hold: what the policy sandbox hands a script at
/// most (`host::LIMITS.array_items_max`, which a year of 5-minute sensor readings fits), so a
/// script reading a member's readings never fails for want of room; and it bounds one member's
/// share of a run's memory (about 4.4 MB). A sensor reading every minute all year (527,040) is
/// past it; every 3 minutes is not.
pub const READINGS_PER_MEMBER_PERIOD_MAX: u64 = 200_000;

/// Minutes in the longest period of a kind: a 31-day month, a 92-day quarter, a 366-day year,
/// each with the hour a daylight-saving change can add.
fn minutes_in_longest(kind: PeriodKind) -> u64 {
    let days = match kind {
        PeriodKind::Monthly => 31,
        PeriodKind::Quarterly => 92,
        PeriodKind::Annual => 366,
    };
    days * 24 * 60 + 60
}

/// Months in a period of a kind.
fn months_in(kind: PeriodKind) -> u64 {
    match kind {
        PeriodKind::Monthly => 1,
        PeriodKind::Quarterly => 3,
        PeriodKind::Annual => 12,
    }
}

/// The whole model.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Population {
    pub members: Members,
    pub measuring: Measuring,
    pub glycaemia: Glycaemia,
    pub cgm: Cgm,
    pub response: Response,
    pub savings: Savings,
    /// Low and high of an assumption, by `section.field`, where they differ from [`RANGES`]:
    /// what the sensitivity analysis (the tornado) runs at.
    pub ranges: BTreeMap<String, [f64; 2]>,
    pub uncertainty: Uncertainty,
    pub lapse: Lapse,
    pub enrolment: Enrolment,
}

/// Who of the population enrols in a plan. A member who does not is never decided and behaves
/// as with no plan; the outcomes count every member of the population, enrolled or not.
/// Research note P18–P19: healthier people enrol more (Jones, Molitor & Reif 2019).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Enrolment {
    /// Share of the population that enrols (1: everyone, the population is the plan's members,
    /// as the pilot's calibration assumes; P18's base is 0.30 of those eligible).
    pub share: f64,
    /// How much lower the enrolees' HbA1c at the start is than the population's, in points
    /// (P19: 0 to 0.6, base 0.3): the chance to enrol tilts towards better control.
    pub selection_hba1c_points: f64,
}

impl Default for Enrolment {
    fn default() -> Self {
        Self {
            share: 1.0,
            selection_hba1c_points: 0.0,
        }
    }
}

/// Members leaving a plan. A member who lapses is decided no more and behaves as with no plan
/// from then on. Research note P22: no source for Chinese health insurance; the note's base is
/// 20 % a year, more among members who earn nothing (an assumption).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Lapse {
    /// Share of members paid something the period before who leave in a year (0: nobody
    /// leaves, as the pilot's calibration assumes).
    pub yearly_share: f64,
    /// How many times as likely a member paid nothing the period before is to leave.
    pub unpaid_multiple: f64,
}

impl Default for Lapse {
    fn default() -> Self {
        Self {
            yearly_share: 0.0,
            unpaid_multiple: 2.0,
        }
    }
}

impl Lapse {
    /// The chance a member leaves at the start of a period of `months_in` months, paid
    /// something the period before or not.
    pub fn hazard(&self, months_in: u32, paid: bool) -> f64 {
        let base =
            1.0 - (1.0 - self.yearly_share.clamp(0.0, 1.0)).powf(f64::from(months_in) / 12.0);
        if paid {
            base
        } else {
            (base * self.unpaid_multiple).min(1.0)
        }
    }
}

/// Which uncertainty a run's intervals include.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Uncertainty {
    pub assumptions: AssumptionsAre,
}

/// `held`: every replication runs on the assumptions as they are, so the intervals are process
/// variance alone. `drawn`: each replication draws each varied assumption from a triangular
/// distribution between its low and high with its value as the most likely, so the intervals
/// include what is not known about the assumptions too (parameter uncertainty).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssumptionsAre {
    #[default]
    Held,
    Drawn,
}

/// Every assumption the sensitivity analysis varies, with its low and high from the evidence
/// (docs/research/behaviour-evidence.md §6, by P-number). Low and high are values, not
/// directions: a lower `reward_half_effect_share` is a stronger response.
pub const RANGES: [(&str, f64, f64); 10] = [
    ("response.hba1c_fall_max_points", 0.0, 0.7),
    ("response.reward_half_effect_share", 0.05, 0.25),
    ("response.loss_framing_multiplier", 1.0, 3.0),
    ("response.readings_uplift_max_share", 0.15, 0.5),
    ("response.hba1c_effect_from_percent", 7.0, 8.0),
    ("response.later_years_effect_share", 0.5, 1.0),
    ("savings.cost_per_hba1c_point_year", 200.0, 1500.0),
    ("savings.insurer_share", 0.05, 0.5),
    ("savings.first_year_realised_share", 0.0, 0.75),
    ("savings.discount_rate_year", 0.03, 0.08),
];

/// An age band and its share of members.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgeBand {
    pub from_years: u32,
    pub to_years: u32,
    pub weight: f64,
}

/// A region and its share of members.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub name: String,
    pub weight: f64,
}

/// Member attributes, as the policies read them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Members {
    /// Adults with diabetes in a county programme: mostly 45 and over.
    pub age_bands: Vec<AgeBand>,
    pub female_share: f64,
    /// Suiyang was 1,500 of the pilot's ~10,000 patients.
    pub regions: Vec<Region>,
    /// Type 2 is ~90–95 % of adult diabetes in China.
    pub type2_share: f64,
    /// Share of type 2 members on insulin (type 1 always is).
    pub type2_insulin_share: f64,
    /// The attributes a plan declares (`[attributes]` in its policy.toml), the same for every
    /// member: `attributes = { monthly_premium = "100.00" }`.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub attributes: std::collections::BTreeMap<String, AttributeValue>,
    /// Families for a plan whose cap a group shares (`[caps] group`): consecutive members in
    /// families of `size`, each member's `attribute` naming their family (`G0`, `G1` …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Groups>,
}

/// `[members.groups]`: `attribute = "family_id"`, `size = 3`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Groups {
    pub attribute: String,
    pub size: u32,
}

/// Members a simulated family may have.
pub const GROUP_SIZE_MAX: u32 = 100;

impl Groups {
    /// The family of member `index`.
    pub fn of(&self, index: u64) -> String {
        format!("G{}", index / u64::from(self.size.max(1)))
    }
}

impl Default for Members {
    fn default() -> Self {
        Self {
            age_bands: vec![
                AgeBand {
                    from_years: 18,
                    to_years: 44,
                    weight: 0.12,
                },
                AgeBand {
                    from_years: 45,
                    to_years: 59,
                    weight: 0.36,
                },
                AgeBand {
                    from_years: 60,
                    to_years: 74,
                    weight: 0.40,
                },
                AgeBand {
                    from_years: 75,
                    to_years: 90,
                    weight: 0.12,
                },
            ],
            female_share: 0.48,
            regions: vec![
                Region {
                    name: "Guizhou-Suiyang".into(),
                    weight: 0.15,
                },
                Region {
                    name: "Guizhou-other".into(),
                    weight: 0.85,
                },
            ],
            type2_share: 0.93,
            type2_insulin_share: 0.22,
            attributes: std::collections::BTreeMap::new(),
            groups: None,
        }
    }
}

/// How members measure with a finger-stick meter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Measuring {
    /// Members with the habit: they measure nearly every month. The pilot: 69 % "kept
    /// measuring every month" over a year, which `regular_monthly_probability`^12 of these do.
    pub regular_share: f64,
    /// A regular member's chance of measuring in a given month.
    pub regular_monthly_probability: f64,
    /// Everyone else's chance of measuring in a given month.
    pub irregular_monthly_probability: f64,
    /// Readings in a month a member measures, on average, with no plan (province-wide 6.5 a
    /// member a month with the pilot's plan on, whose reward raises it by its response).
    pub readings_per_measuring_month: f64,
    /// Spread of that between members: the shape of a Gamma distribution (lower: more spread;
    /// sets how many reach the national frequency standard, 28.5 % in the pilot).
    pub readings_rate_shape: f64,
    /// Share of readings taken fasting; the rest after a meal (with the readings-in-target
    /// share of the pilot, 56 %, this sets how much post-meal readings weigh).
    pub fasting_share: f64,
}

impl Default for Measuring {
    fn default() -> Self {
        Self {
            regular_share: 0.735,
            regular_monthly_probability: 0.995,
            irregular_monthly_probability: 0.30,
            readings_per_measuring_month: 7.45,
            readings_rate_shape: 1.5,
            fasting_share: 0.45,
        }
    }
}

impl Measuring {
    /// A member's chance of measuring in a month, over the whole population.
    pub fn monthly_measuring_probability(&self) -> f64 {
        self.regular_share * self.regular_monthly_probability
            + (1.0 - self.regular_share) * self.irregular_monthly_probability
    }
}

/// How members' glucose runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Glycaemia {
    /// Members' mean fasting glucose at the start, mmol/L: log-normal with this median…
    pub fasting_median_mmol_l: f64,
    /// …and this spread (SD of the logarithm).
    pub fasting_log_sd: f64,
    /// Within-member variability of one reading (coefficient of variation).
    pub within_member_cv: f64,
    /// How much higher a post-meal reading runs than a fasting one, mmol/L.
    pub post_meal_rise_mmol_l: f64,
    /// Change in a member's mean glucose over a year, as a share of it, with or without a plan
    /// (the pilot's hyperglycaemia fell from 82.89 % to 54.55 % in a year; its plan's own
    /// response accounts for a small part of that, and this for the rest: the meter, the
    /// attention, regression to the mean — an uncontrolled before/after figure cannot tell).
    pub yearly_drift_share: f64,
}

impl Default for Glycaemia {
    fn default() -> Self {
        Self {
            fasting_median_mmol_l: 8.6,
            fasting_log_sd: 0.20,
            within_member_cv: 0.15,
            post_meal_rise_mmol_l: 0.7,
            yearly_drift_share: -0.185,
        }
    }
}

/// Members who wear a continuous glucose monitor instead of finger-sticking, and what their
/// sensor traces look like.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Cgm {
    /// Share of members wearing a sensor (0 for a finger-stick programme such as the pilot's;
    /// 1 to price a CGM programme).
    pub wearing_share: f64,
    /// Share of a period a wearer's sensor is on and reading.
    pub wear_share: f64,
    /// Mean length of a gap in the trace (a sensor change, its warm-up, lost signal), hours.
    pub gap_hours_mean: f64,
    /// Minutes between sensor readings.
    pub interval_minutes: u32,
    /// Variability of a wearer's glucose around their own mean: SD of its logarithm (about
    /// the coefficient of variation).
    pub log_sd: f64,
    /// Correlation of a wearer's glucose with itself an hour later.
    pub autocorrelation_1h: f64,
}

impl Default for Cgm {
    fn default() -> Self {
        Self {
            wearing_share: 0.0,
            wear_share: 0.85,
            gap_hours_mean: 8.0,
            interval_minutes: 5,
            log_sd: 0.25,
            autocorrelation_1h: 0.30,
        }
    }
}

/// How members answer to a plan: the `reward` model (the default) scales their response with
/// what the plan puts at stake for them; the `fixed` model gives every plan the same response,
/// whatever it pays — the model before the reward response, kept so earlier figures can be
/// reproduced byte for byte (and a plan that pays nothing still "buys" that response there).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseModel {
    #[default]
    Reward,
    Fixed,
}

/// How a plan changes behaviour. Sources and ranges: docs/research/behaviour-evidence.md (the
/// P-numbers below are its table's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Response {
    pub model: ResponseModel,
    /// `fixed` model: readings go up by this share under every plan.
    pub measuring_uplift_share: f64,
    /// `fixed` model: members' mean glucose moves by this share under every plan.
    pub glucose_shift_share: f64,
    /// `reward` model: the premium a member pays a year, against which the reward at stake is
    /// measured (the stake is a share of it).
    pub annual_premium: Decimal,
    /// `reward` model: the reward at stake, as a share of the annual premium, that buys half
    /// the largest response (P3); the response is `1 − 2^(−stake / this)`, rising steeply at
    /// first and then flattening (diminishing returns: P3, P4).
    pub reward_half_effect_share: f64,
    /// `reward` model: the most readings go up by, as a share, at a large stake (P7).
    pub readings_uplift_max_share: f64,
    /// `reward` model: the most an engaged member's HbA1c falls, in percentage points, at a
    /// large stake, against what it would have been with no plan (P1).
    pub hba1c_fall_max_points: f64,
    /// `reward` model: members whose HbA1c at the start is below this respond in measuring but
    /// not in glucose (P2)…
    pub hba1c_effect_from_percent: f64,
    /// …and members at or above this respond in full; in between, in proportion (P2).
    pub hba1c_full_effect_percent: f64,
    /// `reward` model: months for the glucose response to build up to its full size (P1 reads
    /// it at months 6–12).
    pub effect_ramp_months: u32,
    /// `reward` model: the share of the glucose response kept after the first year while the
    /// plan still runs (P9: relapse).
    pub later_years_effect_share: f64,
    /// `reward` model: how many times a premium loading counts in the stake against a discount
    /// or a reward of the same money (P5: loss framing moved behaviour where an equal gain did
    /// not). A point of premium a plan changes is valued as a year of 1 % of `annual_premium`.
    pub loss_framing_multiplier: f64,
}

impl Response {
    /// The most readings go up by under any plan: the model's uplift, at the largest stake.
    pub fn readings_uplift_most(&self) -> f64 {
        match self.model {
            ResponseModel::Fixed => self.measuring_uplift_share,
            ResponseModel::Reward => self.readings_uplift_max_share,
        }
        .max(0.0)
    }
}

impl Default for Response {
    fn default() -> Self {
        Self {
            model: ResponseModel::Reward,
            measuring_uplift_share: 0.10,
            glucose_shift_share: -0.03,
            annual_premium: Decimal::new(1200, 0),
            reward_half_effect_share: 0.10,
            readings_uplift_max_share: 0.35,
            hba1c_fall_max_points: 0.3,
            hba1c_effect_from_percent: 7.5,
            hba1c_full_effect_percent: 8.0,
            effect_ramp_months: 6,
            later_years_effect_share: 0.75,
            loss_framing_multiplier: 1.5,
        }
    }
}

/// What a point of HbA1c saved is worth to the insurer, and when: a model, not a forecast.
/// Sources and ranges: docs/research/behaviour-evidence.md (P13–P15, P17).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Savings {
    /// Medical cost a member-year per percentage point of HbA1c, in the plan's currency (P13:
    /// +4.4 % of diabetes cost a point, on ~14,600 CNY a year).
    pub cost_per_hba1c_point_year: Decimal,
    /// Share of that medical cost the insurer bears (P15).
    pub insurer_share: Decimal,
    /// Share of the saving seen in the programme's first year; all of it from the second (P14:
    /// utilisation falls from the year after the improvement).
    pub first_year_realised_share: Decimal,
    /// Yearly rate rewards and savings are discounted at to the start of the run (P17).
    pub discount_rate_year: Decimal,
}

impl Default for Savings {
    fn default() -> Self {
        Self {
            cost_per_hba1c_point_year: Decimal::new(600, 0),
            insurer_share: Decimal::new(20, 2),
            first_year_realised_share: Decimal::new(25, 2),
            discount_rate_year: Decimal::new(5, 2),
        }
    }
}

/// Sets assumption `key` (`section.field`) of a model written as JSON to `value`, in the
/// field's own type.
fn set(model: &mut Value, key: &str, value: f64) -> Result<(), String> {
    let (section, field) = key
        .split_once('.')
        .ok_or_else(|| format!("`{key}` is not section.field"))?;
    let slot = model
        .get_mut(section)
        .and_then(|s| s.get_mut(field))
        .ok_or_else(|| format!("the model has no assumption `{key}`"))?;
    *slot = match slot {
        // Money and shares kept as decimals: the value to ten places.
        Value::String(_) => Value::String(
            Decimal::from_f64(value)
                .map(|d| d.round_dp(10).normalize().to_string())
                .ok_or_else(|| format!("{key} = {value} is not a number"))?,
        ),
        Value::Number(n) if n.is_u64() => Value::from(value.round().max(0.0) as u64),
        _ => Value::from(value),
    };
    Ok(())
}

/// A model that cannot be used, naming the file and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum PopulationError {
    #[error("{file}: {message}")]
    Syntax { file: String, message: String },
    #[error("{file}: {} problem(s): {}", .problems.len(), .problems.join("; "))]
    Invalid { file: String, problems: Vec<String> },
}

impl Population {
    /// Reads a model from TOML text, checking every value; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<Self, PopulationError> {
        let model: Self = toml::from_str(text).map_err(|e| PopulationError::Syntax {
            file: file.to_owned(),
            message: e.to_string(),
        })?;
        let problems = model.problems();
        if problems.is_empty() {
            Ok(model)
        } else {
            Err(PopulationError::Invalid {
                file: file.to_owned(),
                problems,
            })
        }
    }

    /// The low and high of a varied assumption: this model's own, or [`RANGES`]'s.
    pub fn range(&self, key: &str) -> Option<[f64; 2]> {
        self.ranges.get(key).copied().or_else(|| {
            RANGES
                .iter()
                .find(|(k, _, _)| *k == key)
                .map(|(_, low, high)| [*low, *high])
        })
    }

    /// The value of an assumption by `section.field`, as a number.
    pub fn value(&self, key: &str) -> Option<f64> {
        let (section, field) = key.split_once('.')?;
        let v = serde_json::to_value(self).ok()?;
        let slot = v.get(section)?.get(field)?;
        match slot {
            Value::String(text) => text.parse::<Decimal>().ok()?.to_f64(),
            other => other.as_f64(),
        }
    }

    /// The assumptions replication `replication` of a run seeded `seed` runs on: none when
    /// they are held; each varied assumption drawn from its triangular distribution when they
    /// are drawn, in the order of [`RANGES`].
    pub fn draws(&self, seed: u64, replication: u64) -> Vec<(String, f64)> {
        if self.uncertainty.assumptions == AssumptionsAre::Held {
            return Vec::new();
        }
        let mut rng =
            crate::stream::stream(seed, 0, replication, 0, crate::stream::Purpose::Assumptions);
        RANGES
            .iter()
            .filter_map(|(key, _, _)| {
                let [low, high] = self.range(key)?;
                let mode = self.value(key)?;
                let drawn = rand_distr::Triangular::new(low, high, mode)
                    .map_or(mode, |t| rand_distr::Distribution::sample(&t, &mut rng));
                Some(((*key).to_owned(), drawn))
            })
            .collect()
    }

    /// This model with each of `values` set, checked once, as a file would be, with all of
    /// them set: a draw may move two assumptions that bound each other.
    pub fn with_all(&self, values: &[(String, f64)]) -> Result<Self, PopulationError> {
        let file = values
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        let invalid = |message: String| PopulationError::Invalid {
            file: file.clone(),
            problems: vec![message],
        };
        let mut v = serde_json::to_value(self).map_err(|e| invalid(e.to_string()))?;
        for (key, value) in values {
            set(&mut v, key, *value).map_err(invalid)?;
        }
        let model: Self = serde_json::from_value(v).map_err(|e| invalid(e.to_string()))?;
        let problems = model.problems();
        if problems.is_empty() {
            Ok(model)
        } else {
            Err(PopulationError::Invalid { file, problems })
        }
    }

    /// This model with one assumption set to `value`, checked as a file would be.
    pub fn with(&self, key: &str, value: f64) -> Result<Self, PopulationError> {
        self.with_all(&[(key.to_owned(), value)])
    }

    /// The most readings one member can have in a period of `kind`: a sensor wearer's trace
    /// with the sensor on throughout (a reading every `cgm.interval_minutes`), or a finger-stick
    /// member at the cap every month — whichever the model can give.
    pub fn readings_per_member_period_max(&self, kind: PeriodKind) -> u64 {
        let sensor = if self.cgm.wearing_share > 0.0 {
            minutes_in_longest(kind) / u64::from(self.cgm.interval_minutes.max(1))
        } else {
            0
        };
        let finger_stick = if self.cgm.wearing_share < 1.0 {
            // 744 a month: a whole number, so the conversion is exact.
            FINGER_STICK_READINGS_PER_MONTH_MAX as u64 * months_in(kind)
        } else {
            0
        };
        sensor.max(finger_stick)
    }

    /// The readings a member has in a period of `kind` on average: wearers on `wear_share` of
    /// the time, finger-stick members measuring as the model says, with the reward's uplift
    /// (and the cap a month).
    pub fn readings_per_member_period_mean(&self, kind: PeriodKind) -> f64 {
        let wearers = self.cgm.wearing_share.clamp(0.0, 1.0);
        let sensor = minutes_in_longest(kind) as f64 / f64::from(self.cgm.interval_minutes.max(1))
            * self.cgm.wear_share.clamp(0.0, 1.0);
        let m = &self.measuring;
        let per_month = (m.readings_per_measuring_month
            * (1.0 + self.response.readings_uplift_most()))
        .min(FINGER_STICK_READINGS_PER_MONTH_MAX)
            * m.monthly_measuring_probability();
        let finger_stick = per_month * months_in(kind) as f64;
        wearers * sensor + (1.0 - wearers) * finger_stick
    }

    /// [`Population::problems`], and what the model cannot give in periods of `kind`: more
    /// readings in a member-period than [`READINGS_PER_MEMBER_PERIOD_MAX`].
    pub fn problems_for(&self, kind: PeriodKind) -> Vec<String> {
        let mut out = self.problems();
        let most = self.readings_per_member_period_max(kind);
        if most > READINGS_PER_MEMBER_PERIOD_MAX {
            // The shortest interval that fits, in whole minutes (rounded up).
            let fits = minutes_in_longest(kind).div_ceil(READINGS_PER_MEMBER_PERIOD_MAX);
            out.push(format!(
                "cgm.interval_minutes = {} gives a sensor wearer up to {most} readings in a{} {} period, more than {READINGS_PER_MEMBER_PERIOD_MAX}, the most one member-period may hold (readings_per_member_period_max); set cgm.interval_minutes to {fits} or more, or simulate a shorter period",
                self.cgm.interval_minutes,
                if kind == PeriodKind::Annual { "n" } else { "" },
                kind.as_str(),
            ));
        }
        out
    }

    /// Checks the model for a run of periods of `kind`; `file` names it in the error.
    pub fn check_for(&self, kind: PeriodKind, file: &str) -> Result<(), PopulationError> {
        let problems = self.problems_for(kind);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(PopulationError::Invalid {
                file: file.to_owned(),
                problems,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_assumption_has_its_source_written_down() {
        let value = serde_json::to_value(Population::default()).unwrap();
        for (section, fields) in value.as_object().unwrap() {
            for field in fields.as_object().unwrap().keys() {
                let key = format!("{section}.{field}");
                assert!(!source(&key).is_empty(), "{key} has no source");
            }
        }
    }

    #[test]
    fn an_empty_file_is_the_default_model() {
        assert_eq!(
            Population::from_toml("", "p.toml").ok(),
            Some(Population::default())
        );
    }

    #[test]
    fn every_bad_value_is_named_at_once() {
        let text = "[members]\nfemale_share = 1.5\n[measuring]\nreadings_rate_shape = 0\n";
        let Err(PopulationError::Invalid { problems, .. }) = Population::from_toml(text, "p.toml")
        else {
            panic!("accepted")
        };
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("members.female_share = 1.5"));
        assert!(problems[1].starts_with("measuring.readings_rate_shape = 0"));
    }

    #[test]
    fn each_response_and_savings_problem_is_named_with_its_value_and_bound() {
        let cases = [
            (
                "[response]\nhba1c_effect_from_percent = 8.5\n",
                "response.hba1c_full_effect_percent = 8 is below response.hba1c_effect_from_percent = 8.5",
            ),
            (
                "[response]\nannual_premium = 0\n",
                "response.annual_premium = 0 must be above 0",
            ),
            (
                "[response]\nloss_framing_multiplier = 0.5\n",
                "response.loss_framing_multiplier = 0.5 is outside 1 to 10",
            ),
            (
                "[savings]\ninsurer_share = 1.5\n",
                "savings.insurer_share = 1.5 is outside 0 to 1",
            ),
        ];
        for (text, expected) in cases {
            let Err(PopulationError::Invalid { problems, .. }) =
                Population::from_toml(text, "p.toml")
            else {
                panic!("accepted: {text}")
            };
            assert!(
                problems.iter().any(|p| p == expected),
                "{text}: {problems:?}"
            );
        }
    }

    #[test]
    fn assumptions_set_together_are_checked_once_all_are_set() {
        let model =
            Population::from_toml("[response]\nhba1c_full_effect_percent = 7.6\n", "p.toml")
                .unwrap();
        // From 7.9 % is above the full effect's 7.6 % until the full effect moves too.
        let both = [
            ("response.hba1c_effect_from_percent".to_owned(), 7.9),
            ("response.hba1c_full_effect_percent".to_owned(), 8.5),
        ];
        let set = model.with_all(&both).unwrap();
        assert_eq!(set.response.hba1c_effect_from_percent, 7.9);
        assert_eq!(set.response.hba1c_full_effect_percent, 8.5);
        let Err(PopulationError::Invalid { file, problems }) = model.with_all(&both[..1]) else {
            panic!("accepted")
        };
        assert_eq!(file, "response.hba1c_effect_from_percent = 7.9");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(model.with("response.colour", 1.0).is_err());
    }

    /// Found by `fuzz/fuzz_targets/population_toml.rs` (`fuzz/corpus/population_toml/
    /// regression-readings-per-month`): 2e12 readings a month were accepted, and drawing one
    /// member's month asked for 44 TB.
    #[test]
    fn a_model_asking_more_readings_a_month_than_hours_in_it_is_refused_by_name() {
        let text = "[measuring]\nreadings_per_measuring_month=2e12\n";
        let Err(PopulationError::Invalid { problems, .. }) = Population::from_toml(text, "p.toml")
        else {
            panic!("accepted")
        };
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with(
                "measuring.readings_per_measuring_month = 2000000000000 is more than 744"
            ),
            "{problems:?}"
        );
    }

    /// The security review's model: it passed `from_toml` (which cannot know the period) and
    /// asked ~20 GB a year for a chunk of members. A period's length is known once the run
    /// is: then it is refused by field and limit, with the interval that would fit.
    #[test]
    fn a_sensor_reading_every_minute_fits_a_month_but_not_a_year() {
        let text = "[cgm]\nwearing_share = 1\nwear_share = 1\ninterval_minutes = 1\n";
        let model = Population::from_toml(text, "p.toml").unwrap();
        assert_eq!(
            model.readings_per_member_period_max(PeriodKind::Monthly),
            44_700
        );
        assert!(model.check_for(PeriodKind::Monthly, "p.toml").is_ok());
        assert!(model.check_for(PeriodKind::Quarterly, "p.toml").is_ok());
        let Err(PopulationError::Invalid { file, problems }) =
            model.check_for(PeriodKind::Annual, "p.toml")
        else {
            panic!("accepted")
        };
        assert_eq!(file, "p.toml");
        assert_eq!(
            problems,
            [
                "cgm.interval_minutes = 1 gives a sensor wearer up to 527100 readings in an annual period, more than 200000, the most one member-period may hold (readings_per_member_period_max); set cgm.interval_minutes to 3 or more, or simulate a shorter period"
            ]
        );
        let every_three = Population::from_toml(
            "[cgm]\nwearing_share = 1\nwear_share = 1\ninterval_minutes = 3\n",
            "p.toml",
        )
        .unwrap();
        assert!(every_three.check_for(PeriodKind::Annual, "p.toml").is_ok());
        // With nobody wearing a sensor, the interval gives no reading at all.
        let nobody = Population::from_toml("[cgm]\ninterval_minutes = 1\n", "p.toml").unwrap();
        assert!(nobody.check_for(PeriodKind::Annual, "p.toml").is_ok());
    }

    #[test]
    fn a_members_mean_readings_are_the_sensor_share_of_a_trace_and_the_rest_finger_sticks() {
        let mut model = Population::default();
        let smbg = model.readings_per_member_period_mean(PeriodKind::Monthly);
        // 7.45 a measuring month, at most 35 % more with a reward, measuring in ~81 % of months.
        assert!((7.5..8.5).contains(&smbg), "{smbg}");
        model.cgm.wearing_share = 0.5;
        let half = model.readings_per_member_period_mean(PeriodKind::Monthly);
        // Half the members on a 5-minute sensor 85 % of a 31-day month.
        let expected = 0.5 * 8_940.0 * 0.85 + 0.5 * smbg;
        assert!((half - expected).abs() < 1e-6, "{half} {expected}");
    }

    #[test]
    fn an_unknown_field_is_a_syntax_error_naming_the_file() {
        let err = Population::from_toml("[members]\ncolour = 1\n", "p.toml").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("p.toml:") && text.contains("colour"),
            "{text}"
        );
    }
}
