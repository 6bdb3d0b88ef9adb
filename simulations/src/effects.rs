//! What a plan buys, over the replications of a run: its members' health against the no-plan
//! arm (the same members and random numbers with no rewards), what that saves in claims, and
//! its net cost — the figures `summary.json` carries under each plan's `outcomes`, and the
//! report shows first.

use crate::outcomes::PeriodOutcomes;
use crate::population::Population;
use crate::response::Stake;
use crate::savings::value;
use crate::stats::{Distribution, Ratio, share};
use crate::totals::{PlanTotals, Replication};
use rust_decimal::Decimal;
use serde::Serialize;

/// What the intervals of the outcome figures include, when the assumptions are held…
pub const INTERVALS_INCLUDE_HELD: &str = "process variance only: each replication draws the members and their readings anew; every assumption is held at its value in run.assumptions, so the intervals leave out what is not known about the assumptions themselves";
/// …and when each replication draws them.
pub const INTERVALS_INCLUDE_DRAWN: &str = "process and parameter variance: each replication draws the members and their readings anew, and each varied assumption from a triangular distribution between its low and high with its value in run.assumptions the most likely";

/// What the intervals of a run under `model` include.
pub fn intervals_include(model: &Population) -> &'static str {
    match model.uncertainty.assumptions {
        crate::population::AssumptionsAre::Held => INTERVALS_INCLUDE_HELD,
        crate::population::AssumptionsAre::Drawn => INTERVALS_INCLUDE_DRAWN,
    }
}

/// One period of an arm, averaged over replications.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PeriodRow {
    pub period: String,
    /// Share of members with a reading in the period.
    pub measuring_share: Decimal,
    pub in_control_share: Decimal,
    pub hyperglycaemic_share: Decimal,
    /// Share with HbA1c below 7.0 %.
    pub hba1c_target_share: Decimal,
    pub mean_hba1c_percent: Decimal,
}

/// The no-plan arm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NoPlan {
    /// Share of members in control at the horizon (the last period).
    pub in_control_share: Distribution,
    /// Share with HbA1c below 7.0 % at the horizon.
    pub hba1c_target_share: Distribution,
    pub mean_hba1c_percent: Distribution,
    pub by_period: Vec<PeriodRow>,
}

/// What one plan buys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlanOutcomes {
    /// What the intervals include: process variance alone, or parameter variance too.
    pub intervals_include: &'static str,
    /// What the plan puts at stake for a member and the response that buys (`reward` response
    /// model); null under the `fixed` model, where every plan buys the same response.
    pub stake: Option<Stake>,
    /// Share of the plan's members in control at the horizon (the last period).
    pub in_control_share: Distribution,
    /// Members in control at the horizon under the plan, less those with no plan.
    pub members_into_control: Distribution,
    /// Total reward over members brought into control (ratio of the means, interval by the
    /// delta method); null when no replication brought anyone into control.
    pub cost_per_member_into_control: Option<Ratio>,
    /// Share with HbA1c below 7.0 % at the horizon…
    pub hba1c_target_share: Distribution,
    /// …members brought below it against the no-plan arm…
    pub members_into_hba1c_target: Distribution,
    /// …and the total reward over them.
    pub cost_per_member_into_hba1c_target: Option<Ratio>,
    /// Mean HbA1c at the horizon under the plan less with no plan, percentage points (below 0 is
    /// better).
    pub hba1c_change: Distribution,
    /// HbA1c points saved at the horizon, summed over members, per 10,000 of rewards.
    pub hba1c_points_per_10000: Option<Ratio>,
    /// Claims saved over the run, discounted to its start (a model: see `savings`).
    pub claims_savings: Distribution,
    /// Rewards over the run, discounted to its start.
    pub rewards_present_value: Distribution,
    /// Discounted rewards less discounted savings.
    pub net_cost: Distribution,
    /// Discounted savings over discounted rewards.
    pub return_on_rewards: Option<Ratio>,
    /// Share of replications in which savings had paid back rewards by the horizon…
    pub paid_back_share: Decimal,
    /// …and the first period by which half of them had, if any.
    pub payback_period: Option<String>,
    pub by_period: Vec<PeriodRow>,
}

fn mean_hba1c(o: &PeriodOutcomes, members: u64) -> Decimal {
    (o.hba1c_sum / Decimal::from(members.max(1)))
        .round_dp(4)
        .normalize()
}

/// An arm's periods, averaged over replications.
fn by_period(periods: &[String], arms: &[&[PeriodOutcomes]], members: u64) -> Vec<PeriodRow> {
    let n = arms.len() as u64;
    periods
        .iter()
        .enumerate()
        .map(|(k, period)| {
            let mut sum = PeriodOutcomes::default();
            for o in arms.iter().filter_map(|a| a.get(k)) {
                sum.absorb(o);
            }
            PeriodRow {
                period: period.clone(),
                measuring_share: share(sum.measuring, members * n),
                in_control_share: share(sum.in_control, members * n),
                hyperglycaemic_share: share(sum.hyperglycaemic, members * n),
                hba1c_target_share: share(sum.at_hba1c_target, members * n),
                mean_hba1c_percent: mean_hba1c(&sum, members * n),
            }
        })
        .collect()
}

/// The no-plan arm of a run.
pub fn no_plan(periods: &[String], replications: &[Replication], members: u64) -> NoPlan {
    let arms: Vec<&[PeriodOutcomes]> = replications.iter().map(|r| r.no_plan.as_slice()).collect();
    let last: Vec<&PeriodOutcomes> = arms.iter().filter_map(|a| a.last()).collect();
    NoPlan {
        in_control_share: Distribution::of(
            &last
                .iter()
                .map(|o| share(o.in_control, members))
                .collect::<Vec<_>>(),
        ),
        hba1c_target_share: Distribution::of(
            &last
                .iter()
                .map(|o| share(o.at_hba1c_target, members))
                .collect::<Vec<_>>(),
        ),
        mean_hba1c_percent: Distribution::of(
            &last
                .iter()
                .map(|o| mean_hba1c(o, members))
                .collect::<Vec<_>>(),
        ),
        by_period: by_period(periods, &arms, members),
    }
}

/// What plan `p` of the run `info` gave `results` buys: [`plan`] with the run's own figures.
pub fn of_run(
    info: &crate::info::RunInfo,
    results: &crate::totals::Results,
    p: usize,
) -> Result<PlanOutcomes, crate::SimError> {
    plan(
        &info.assumptions,
        &info.periods,
        crate::report::months_in(info)?,
        &results.replications,
        info.members,
        p,
        results.stakes.get(p).and_then(Option::as_ref),
    )
}

/// What plan `p` of a run buys; each replication's savings valued under the assumptions it ran
/// on.
pub fn plan(
    model: &Population,
    periods: &[String],
    months_in: u32,
    replications: &[Replication],
    members: u64,
    p: usize,
    stake: Option<&Stake>,
) -> Result<PlanOutcomes, crate::SimError> {
    let pairs: Vec<(&PlanTotals, &[PeriodOutcomes], &Replication)> = replications
        .iter()
        .filter_map(|r| Some((r.plans.get(p)?, r.no_plan.as_slice(), r)))
        .collect();
    let (mut in_control, mut into, mut change) = (Vec::new(), Vec::new(), Vec::new());
    let (mut target, mut into_target) = (Vec::new(), Vec::new());
    let (mut rewards, mut points) = (Vec::new(), Vec::new());
    let (mut saved, mut paid, mut net) = (Vec::new(), Vec::new(), Vec::new());
    let mut payback: Vec<Option<usize>> = Vec::new();
    for (totals, none, replication) in &pairs {
        let (Some(at), Some(without)) = (totals.outcomes.last(), none.last()) else {
            continue;
        };
        in_control.push(share(at.in_control, members));
        let gained = i64::try_from(at.in_control).unwrap_or(i64::MAX)
            - i64::try_from(without.in_control).unwrap_or(i64::MAX);
        into.push(Decimal::from(gained));
        target.push(share(at.at_hba1c_target, members));
        into_target
            .push(Decimal::from(at.at_hba1c_target) - Decimal::from(without.at_hba1c_target));
        change.push(mean_hba1c(at, members) - mean_hba1c(without, members));
        rewards.push(totals.reward);
        points.push(without.hba1c_sum - at.hba1c_sum);
        let drawn;
        let model = if replication.assumptions.is_empty() {
            model
        } else {
            drawn = model.with_all(&replication.assumptions)?;
            &drawn
        };
        let v = value(
            model,
            months_in,
            &totals.reward_by_period,
            &totals.outcomes,
            none,
        );
        saved.push(v.claims_savings);
        paid.push(v.rewards_present_value);
        net.push(v.net_cost);
        payback.push(v.payback_period);
    }
    let n = payback.len() as u64;
    let paid_back = payback.iter().filter(|p| p.is_some()).count() as u64;
    // The first period by whose end at least half the replications had paid back.
    let payback_period = (0..periods.len())
        .find(|k| {
            2 * payback
                .iter()
                .filter(|p| p.is_some_and(|e| e <= *k))
                .count() as u64
                >= n.max(1)
        })
        .and_then(|k| periods.get(k).cloned());
    let per_10000: Vec<Decimal> = points.iter().map(|p| *p * Decimal::from(10_000)).collect();
    let arms: Vec<&[PeriodOutcomes]> = pairs
        .iter()
        .map(|(t, _, _)| t.outcomes.as_slice())
        .collect();
    Ok(PlanOutcomes {
        intervals_include: intervals_include(model),
        stake: stake.cloned(),
        in_control_share: Distribution::of(&in_control),
        members_into_control: Distribution::of(&into),
        cost_per_member_into_control: Ratio::of(&rewards, &into),
        hba1c_target_share: Distribution::of(&target),
        members_into_hba1c_target: Distribution::of(&into_target),
        cost_per_member_into_hba1c_target: Ratio::of(&rewards, &into_target),
        hba1c_change: Distribution::of(&change),
        hba1c_points_per_10000: Ratio::of(&per_10000, &rewards),
        claims_savings: Distribution::of(&saved),
        rewards_present_value: Distribution::of(&paid),
        net_cost: Distribution::of(&net),
        return_on_rewards: Ratio::of(&saved, &paid),
        paid_back_share: share(paid_back, n),
        payback_period,
        by_period: by_period(periods, &arms, members),
    })
}
