//! What a run gives: each plan's totals in each replication — paid, by period, tier and cohort,
//! and its members' health — the no-plan arm's health, and each plan's per-member results and
//! stake.

use crate::members::MemberTotals;
use crate::outcomes::PeriodOutcomes;
use crate::response::Stake;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One plan's outcome in one replication.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanTotals {
    /// Every reward paid, in the policy's currency.
    pub reward: Decimal,
    /// Premium adjustments summed over member-periods, in percentage points.
    pub premium_points: Decimal,
    /// The loadings among them (the adjustments above 0), summed: a member's premium going up
    /// weighs more in the stake than one going down by as much (`loss_framing_multiplier`).
    #[serde(default)]
    pub premium_loading_points: Decimal,
    /// Members paid anything.
    pub members_earning: u64,
    /// Members who measured at least once.
    pub members_measuring: u64,
    /// Paid in each period.
    pub reward_by_period: Vec<Decimal>,
    /// The first period (0-based) in which the pool had nothing left, if it ran out.
    pub pool_exhausted_in: Option<u32>,
    /// Member-periods, rewards and premium adjustments by the tier decided (`none` for a
    /// decision without one).
    pub by_tier: BTreeMap<String, TierTotals>,
    /// Members, rewards and members earning by cohort, for each dimension (`age_band`,
    /// `region`, `diabetes_type`, `insulin`).
    pub by_cohort: BTreeMap<String, BTreeMap<String, CohortTotals>>,
    /// The plan's members' health, period by period.
    pub outcomes: Vec<PeriodOutcomes>,
    /// Members who enrolled in the plan (`[enrolment]`; every member by default).
    #[serde(default)]
    pub members_enrolled: u64,
    /// Members who left the plan before the run's end (`[lapse]`).
    #[serde(default)]
    pub members_lapsed: u64,
    /// Member-periods paid, by the amount paid: for a plan paying by steps, its cost by step.
    #[serde(default)]
    pub by_amount: BTreeMap<Decimal, u64>,
    /// Member-periods flagged, by flag (`clinician_follow_up`, …).
    #[serde(default)]
    pub flags: BTreeMap<String, u64>,
    /// Member-periods paid nothing because the plan did not qualify them…
    #[serde(default)]
    pub unpaid_not_qualified: u64,
    /// …and because, qualified, their reward came to nothing (a step paying 0, or a cap or the
    /// pool spent).
    #[serde(default)]
    pub unpaid_qualified: u64,
}

/// What one cohort of a plan came to in a replication.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CohortTotals {
    pub members: u64,
    pub reward: Decimal,
    pub members_earning: u64,
}

/// What one tier of a plan came to in a replication.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierTotals {
    pub member_periods: u64,
    pub reward: Decimal,
    pub premium_points: Decimal,
}

/// One replication: each plan's totals, in the order the plans were given, and the health of
/// the same members with no plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Replication {
    pub replication: u64,
    pub plans: Vec<PlanTotals>,
    /// The no-plan arm, period by period: the same members and random numbers, no rewards.
    pub no_plan: Vec<PeriodOutcomes>,
    /// The assumptions this replication drew, by `section.field`, when they are drawn
    /// (`[uncertainty] assumptions = "drawn"`); empty when they are held.
    #[serde(default)]
    pub assumptions: Vec<(String, f64)>,
}

/// A run's results: each replication's totals, in replication order, and each plan's
/// per-member results gathered over them.
#[derive(Clone, Debug, PartialEq)]
pub struct Results {
    pub replications: Vec<Replication>,
    /// By plan.
    pub members: Vec<MemberTotals>,
    /// By plan: what it puts at stake for a member and the response that buys (the `reward`
    /// response model; none under the `fixed` one).
    pub stakes: Vec<Option<Stake>>,
    /// The one-at-a-time sensitivity of the run, when it was asked for.
    pub sensitivity: Option<crate::tornado::Sensitivity>,
}
