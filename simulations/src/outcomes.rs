//! Health outcomes of one arm of a run — the no-plan arm, or a plan's members — period by
//! period: who measured, who is in control, who is hyperglycaemic, and their mean HbA1c.
//!
//! Control is judged on the member's own glucose level in the period (what the model draws
//! their readings around), not on the readings they happened to take: a member who stops
//! measuring is no less in control for it, and a plan that buys more measuring does not buy
//! control by that alone. Finger-stick members are in control when their mean fasting glucose is
//! in the Chinese guideline's fasting target, 4.4–7.0 mmol/L, and hyperglycaemic above it (the
//! pilot's reading of hyperglycaemia, see `calibration`); sensor wearers are in control when
//! their time in range (3.9–10.0 mmol/L) is at least 70 %, and hyperglycaemic when more than
//! 25 % of their time is above 10.0 (the international consensus targets), both read from the
//! log-normal level of their glucose without the meals' rises. Every member is also judged by
//! HbA1c against the general target of 7.0 %: a fasting mean of 7.0 mmol/L goes with an HbA1c
//! near 6.3 %, so the fasting target is the stricter, and few members cross it for a plan's
//! sake alone.

use crate::four_places::to_four_places;
use crate::population::Population;
use crate::response::{Behaviour, hba1c_of_mean_glucose};
use crate::synth::{Member, day_mean, fasting_mean};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

/// The fasting target, mmol/L.
pub const FASTING_TARGET_MMOL_L: (f64, f64) = (4.4, 7.0);
/// The sensor range, mmol/L, and the time in it that counts as control…
pub const SENSOR_RANGE_MMOL_L: (f64, f64) = (3.9, 10.0);
pub const TIME_IN_RANGE_IN_CONTROL: f64 = 0.70;
/// …and the time above it past which a wearer is hyperglycaemic.
pub const TIME_ABOVE_RANGE_HYPERGLYCAEMIC: f64 = 0.25;
/// The HbA1c target, percent: below it a member is at target (the Chinese and ADA guidelines'
/// general target for adults).
pub const HBA1C_TARGET_PERCENT: Decimal = Decimal::from_parts(70, 0, 0, false, 1);

/// One member in one period, as the outcomes count them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MemberOutcome {
    pub measured: bool,
    pub in_control: bool,
    pub hyperglycaemic: bool,
    /// HbA1c, percent, to four places.
    pub hba1c_percent: Decimal,
}

impl MemberOutcome {
    /// HbA1c below the target.
    pub fn at_hba1c_target(&self) -> bool {
        self.hba1c_percent < HBA1C_TARGET_PERCENT
    }
}

/// Judges member `who` in the period `period_index` periods after the first (of `months_in`
/// months) under `behaviour`; `measured` is whether their draw had a reading.
pub fn judge(
    model: &Population,
    who: &Member,
    behaviour: &Behaviour,
    period_index: u64,
    months_in: u32,
    measured: bool,
) -> MemberOutcome {
    let fasting = fasting_mean(model, who, behaviour, period_index, months_in);
    let (in_control, hyperglycaemic) = if who.cgm {
        // A wearer's 24-hour level, as their trace is drawn around it.
        let level = fasting + model.glycaemia.post_meal_rise_mmol_l * 0.5;
        let (below, above) = sensor_shares(level, model.cgm.log_sd);
        (
            1.0 - below - above >= TIME_IN_RANGE_IN_CONTROL,
            above > TIME_ABOVE_RANGE_HYPERGLYCAEMIC,
        )
    } else {
        let (lo, hi) = FASTING_TARGET_MMOL_L;
        ((lo..=hi).contains(&fasting), fasting > hi)
    };
    MemberOutcome {
        measured,
        in_control,
        hyperglycaemic,
        hba1c_percent: to_four_places(hba1c_of_mean_glucose(day_mean(model, fasting))),
    }
}

/// The shares of time below and above the sensor range of glucose log-normal around `level`
/// (its median) with log-scale spread `log_sd`.
fn sensor_shares(level: f64, log_sd: f64) -> (f64, f64) {
    let Ok(normal) = Normal::new(level.max(0.1).ln(), log_sd.max(1e-6)) else {
        return (0.0, 0.0);
    };
    let (lo, hi) = SENSOR_RANGE_MMOL_L;
    (normal.cdf(lo.ln()), 1.0 - normal.cdf(hi.ln()))
}

/// One arm's members in one period of a replication, counted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodOutcomes {
    /// Members with a reading in the period.
    pub measuring: u64,
    pub in_control: u64,
    pub hyperglycaemic: u64,
    /// Members with HbA1c below the target (7.0 %).
    pub at_hba1c_target: u64,
    /// The members' HbA1c, percent, summed (exactly: each is to four places).
    pub hba1c_sum: Decimal,
}

impl PeriodOutcomes {
    pub fn add(&mut self, m: &MemberOutcome) {
        self.measuring += u64::from(m.measured);
        self.in_control += u64::from(m.in_control);
        self.hyperglycaemic += u64::from(m.hyperglycaemic);
        self.at_hba1c_target += u64::from(m.at_hba1c_target());
        self.hba1c_sum += m.hba1c_percent;
    }

    /// Adds another part of the same arm and period (another chunk of its members).
    pub fn absorb(&mut self, other: &Self) {
        self.measuring += other.measuring;
        self.in_control += other.in_control;
        self.hyperglycaemic += other.hyperglycaemic;
        self.at_hba1c_target += other.at_hba1c_target;
        self.hba1c_sum += other.hba1c_sum;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wearer_at_the_middle_of_the_range_with_little_spread_is_in_control() {
        let (below, above) = sensor_shares(6.0, 0.1);
        assert!(below < 0.01 && above < 0.01, "{below} {above}");
        // Half the time above 10 mmol/L when that is the level itself.
        let (_, above) = sensor_shares(10.0, 0.25);
        assert!((above - 0.5).abs() < 1e-9, "{above}");
    }
}
