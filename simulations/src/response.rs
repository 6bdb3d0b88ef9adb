//! How members behave under a plan, and without one: the response model turns what a plan puts
//! at stake for a member into how much more they measure and how much their glucose falls.
//!
//! The `reward` model (docs/research/behaviour-evidence.md, §3 and §6): the stake is the reward
//! a plan pays a member a year on average, as a share of the annual premium; the response is
//! `1 − 2^(−stake / reward_half_effect_share)` of its largest size — half of it at the half-effect
//! stake, three quarters at twice that — so money buys less and less response (the trials saw
//! saturation at small amounts). A stake of zero is a response of exactly zero: a plan that pays
//! nothing behaves, draw for draw, as no plan at all.
//!
//! Only the glucose of engaged members with room to improve moves: the fall scales with the
//! member's HbA1c at the start (none below `hba1c_effect_from_percent`, all of it from
//! `hba1c_full_effect_percent`), builds up over `effect_ramp_months`, and keeps
//! `later_years_effect_share` of its size after the first year.

use crate::population::{Population, ResponseModel};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

/// The ADAG relation between mean glucose and HbA1c: HbA1c % = (mean mmol/L + 2.59) / 1.59
/// (Nathan et al. 2008, Diabetes Care).
pub const ADAG_MMOL_L_PER_HBA1C_POINT: f64 = 1.59;
const ADAG_INTERCEPT_MMOL_L: f64 = 2.59;

/// HbA1c, in percent, of a mean glucose in mmol/L.
pub fn hba1c_of_mean_glucose(mean_mmol_l: f64) -> f64 {
    (mean_mmol_l + ADAG_INTERCEPT_MMOL_L) / ADAG_MMOL_L_PER_HBA1C_POINT
}

/// How one arm of a run behaves: the no-plan arm, or the members of one plan.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Behaviour {
    /// Readings in a month a member measures are multiplied by this.
    pub readings_factor: f64,
    /// Mean glucose is multiplied by this (the `fixed` model's shift).
    pub glucose_factor: f64,
    /// HbA1c falls by this many points for a fully responding member, once built up.
    pub hba1c_fall_points: f64,
}

impl Behaviour {
    /// Behaviour with no plan: the population as it is.
    pub const NONE: Self = Self {
        readings_factor: 1.0,
        glucose_factor: 1.0,
        hba1c_fall_points: 0.0,
    };

    /// How members behave under a plan whose stake draws `response_share` of the largest
    /// response (the `reward` model), or under any plan (the `fixed` model).
    pub fn under_plan(model: &Population, response_share: f64) -> Self {
        let r = &model.response;
        match r.model {
            // The same arithmetic as before the reward model, so its figures are unchanged.
            ResponseModel::Fixed => Self {
                readings_factor: 1.0 + r.measuring_uplift_share,
                glucose_factor: 1.0 + r.glucose_shift_share,
                hba1c_fall_points: 0.0,
            },
            ResponseModel::Reward => Self {
                readings_factor: 1.0 + r.readings_uplift_max_share * response_share,
                glucose_factor: 1.0,
                hba1c_fall_points: r.hba1c_fall_max_points * response_share,
            },
        }
    }

    /// The HbA1c fall, in points, of a member whose HbA1c was `baseline_percent` at the start,
    /// `months_elapsed` months into the run (at the period's end).
    pub fn fall_points(&self, model: &Population, baseline_percent: f64, months: f64) -> f64 {
        if self.hba1c_fall_points == 0.0 {
            return 0.0;
        }
        let r = &model.response;
        let (from, full) = (r.hba1c_effect_from_percent, r.hba1c_full_effect_percent);
        let room = if baseline_percent >= full {
            1.0
        } else if baseline_percent < from {
            0.0
        } else {
            (baseline_percent - from) / (full - from)
        };
        let ramp = if r.effect_ramp_months == 0 {
            1.0
        } else {
            (months / f64::from(r.effect_ramp_months)).min(1.0)
        };
        let kept = if months > 12.0 {
            r.later_years_effect_share
        } else {
            1.0
        };
        self.hba1c_fall_points * room * ramp * kept
    }
}

/// What a plan puts at stake for a member, and the response it buys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stake {
    /// What the plan pays a member a year on average when members behave as with no plan:
    /// measured by running the plan over a pilot of the run's own members before it starts.
    pub reward_per_member_year: Decimal,
    /// Points of premium the plan takes off a member's premium a year on average, on that
    /// pilot (discounts, the adjustments below 0, as a positive number)…
    pub premium_discount_points_per_member_year: Decimal,
    /// …and points it adds (loadings, the adjustments above 0).
    pub premium_loading_points_per_member_year: Decimal,
    /// All of it as a share of `response.annual_premium`: the reward, plus a point of premium
    /// as 1 %, a loading counted `loss_framing_multiplier` times.
    pub share_of_premium: Decimal,
    /// The share of the largest response it buys: `1 − 2^(−share / reward_half_effect_share)`.
    pub response_share: Decimal,
}

/// What a plan paid and changed, a member-year on average, on the stake's pilot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Paid {
    pub reward: Decimal,
    /// Points of premium taken off (a positive number).
    pub discount_points: Decimal,
    /// Points of premium added.
    pub loading_points: Decimal,
}

impl Stake {
    /// The stake of a plan that paid and changed `paid` a member-year, under `model`.
    ///
    /// A point of premium changed is valued as a year of 1 % of the premium: an adjustment
    /// holds until the plan changes it again, at the next renewal for the plans that adjust
    /// premium (an assumption; a plan adjusting every month is counted at a year a change too).
    /// The framing multiplier weighs the stake, not the largest effect as the research note's
    /// P5 reads: in the steep part of the response curve the two agree, and a plan that both
    /// pays and loads keeps a single stake and a response of at most its largest.
    pub fn of(model: &Population, paid: Paid) -> Self {
        // Rounded first, so the stake a result records gives the same response again.
        let reward = paid.reward.round_dp(4);
        let discount = paid.discount_points.max(Decimal::ZERO).round_dp(4);
        let loading = paid.loading_points.max(Decimal::ZERO).round_dp(4);
        let r = &model.response;
        let framing = Decimal::from_f64_retain(r.loss_framing_multiplier)
            .unwrap_or(Decimal::ONE)
            .round_dp(6);
        let share = if r.annual_premium > Decimal::ZERO {
            (reward / r.annual_premium).max(Decimal::ZERO)
                + (discount + framing * loading) / Decimal::ONE_HUNDRED
        } else {
            Decimal::ZERO
        };
        Self {
            reward_per_member_year: reward.normalize(),
            premium_discount_points_per_member_year: discount.normalize(),
            premium_loading_points_per_member_year: loading.normalize(),
            share_of_premium: share.round_dp(4).normalize(),
            response_share: Decimal::from_f64_retain(response_share(model, share))
                .unwrap_or_default()
                .round_dp(6)
                .normalize(),
        }
    }

    /// What the plan paid and changed a member-year, as this stake recorded it.
    pub fn paid(&self) -> Paid {
        Paid {
            reward: self.reward_per_member_year,
            discount_points: self.premium_discount_points_per_member_year,
            loading_points: self.premium_loading_points_per_member_year,
        }
    }

    /// How members behave under the plan.
    pub fn behaviour(&self, model: &Population) -> Behaviour {
        Behaviour::under_plan(model, self.response_share.to_f64().unwrap_or(0.0))
    }
}

/// The share of the largest response a stake (a share of premium) buys: 0 at 0, a half at
/// `reward_half_effect_share`, approaching 1.
pub fn response_share(model: &Population, stake_share: Decimal) -> f64 {
    let stake = stake_share.to_f64().unwrap_or(0.0).max(0.0);
    if stake == 0.0 {
        return 0.0;
    }
    let half = model
        .response
        .reward_half_effect_share
        .max(f64::MIN_POSITIVE);
    1.0 - (-stake / half).exp2()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stake_of_nothing_buys_no_response_and_the_half_effect_stake_buys_half() {
        let model = Population::default();
        assert_eq!(response_share(&model, Decimal::ZERO), 0.0);
        assert_eq!(
            Behaviour::under_plan(&model, 0.0),
            Behaviour::NONE,
            "a plan paying nothing behaves as no plan"
        );
        let half = response_share(&model, Decimal::new(10, 2));
        assert!((half - 0.5).abs() < 1e-12, "{half}");
        let double = response_share(&model, Decimal::new(20, 2));
        assert!((double - 0.75).abs() < 1e-12, "{double}");
    }

    #[test]
    fn a_stake_adds_the_reward_a_point_of_premium_as_one_percent_and_a_loading_framed() {
        let model = Population::default();
        // 60 CNY of a 1,200 premium is 5 %; a point off is 1 %; two points on are 2 × 1.5 %.
        let stake = Stake::of(
            &model,
            Paid {
                reward: Decimal::new(60, 0),
                discount_points: Decimal::ONE,
                loading_points: Decimal::TWO,
            },
        );
        assert_eq!(stake.share_of_premium, Decimal::new(9, 2));
        assert_eq!(stake.paid().loading_points, Decimal::TWO);
        assert_eq!(
            Stake::of(&model, stake.paid()),
            stake,
            "recorded, it gives itself"
        );
    }

    #[test]
    fn the_fall_needs_room_to_improve_builds_up_and_relapses_after_a_year() {
        let model = Population::default();
        let b = Behaviour::under_plan(&model, 1.0);
        let fall = |baseline, months| b.fall_points(&model, baseline, months);
        // 0.3 points at most; none below 7.5 %, half at 7.75 %, all from 8 %.
        assert_eq!(fall(7.4, 12.0), 0.0);
        assert!((fall(7.75, 12.0) - 0.15).abs() < 1e-12);
        assert!((fall(9.0, 12.0) - 0.3).abs() < 1e-12);
        // A third of the way up the six-month ramp after two months; three quarters in year 2.
        assert!((fall(9.0, 2.0) - 0.1).abs() < 1e-12);
        assert!((fall(9.0, 13.0) - 0.225).abs() < 1e-12);
    }
}
