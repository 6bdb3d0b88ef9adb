//! What a plan's health outcomes are worth to the insurer: a **model** from HbA1c to claims,
//! not a forecast (docs/research/behaviour-evidence.md §4; every parameter ranged there).
//!
//! A member-year a point of HbA1c lower costs `cost_per_hba1c_point_year` less in medical care,
//! of which the insurer bears `insurer_share`. Only `first_year_realised_share` of that is seen
//! in the programme's first year (care falls from the year after glucose does) and all of it
//! after. A period's saving is the no-plan arm's HbA1c less the plan's, summed over members, at
//! that rate for the period's months; rewards and savings are discounted to the start of the
//! run at `discount_rate_year`, each as at the end of its period. Net cost is rewards less
//! savings, both discounted. Savings after the run's last period are not counted: the effect
//! fades once rewards stop (P10), and the run does not say how long the plan will run.

use crate::outcomes::PeriodOutcomes;
use crate::population::Population;
use rust_decimal::{Decimal, MathematicalOps};

/// Places the discount factors are kept to: far below a cent on any total a run can reach.
const FACTOR_PLACES: u32 = 12;
/// Places the values are kept to.
const PLACES: u32 = 4;

/// One plan's rewards and savings in one replication, discounted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Valuation {
    pub claims_savings: Decimal,
    pub rewards_present_value: Decimal,
    /// Rewards less savings.
    pub net_cost: Decimal,
    /// The first period (0-based) by whose end discounted savings have paid back discounted
    /// rewards, if any has.
    pub payback_period: Option<usize>,
}

/// The discount factor at the end of period `k` (0-based) of `months_in` months.
pub fn discount_factor(model: &Population, months_in: u32, k: usize) -> Decimal {
    let years = Decimal::from(u64::from(months_in) * (k as u64 + 1)) / Decimal::from(12);
    let growth = (Decimal::ONE + model.savings.discount_rate_year)
        .checked_powd(years)
        .unwrap_or(Decimal::ONE);
    if growth.is_zero() {
        return Decimal::ONE;
    }
    (Decimal::ONE / growth).round_dp(FACTOR_PLACES)
}

/// The share of a saving realised in period `k`: the first year's share while the period
/// ends within the first twelve months.
fn realised(model: &Population, months_in: u32, k: usize) -> Decimal {
    if u64::from(months_in) * (k as u64 + 1) <= 12 {
        model.savings.first_year_realised_share
    } else {
        Decimal::ONE
    }
}

/// The undiscounted claims saving in each period: HbA1c points saved against the no-plan arm,
/// summed over members, at the model's cost a point for the period's months.
pub fn savings_by_period(
    model: &Population,
    months_in: u32,
    plan: &[PeriodOutcomes],
    no_plan: &[PeriodOutcomes],
) -> Vec<Decimal> {
    let s = &model.savings;
    let per_point_period = s.cost_per_hba1c_point_year * Decimal::from(months_in)
        / Decimal::from(12)
        * s.insurer_share;
    plan.iter()
        .zip(no_plan)
        .enumerate()
        .map(|(k, (p, n))| {
            (n.hba1c_sum - p.hba1c_sum) * per_point_period * realised(model, months_in, k)
        })
        .collect()
}

/// Values a plan's `rewards` and outcomes by period against the no-plan arm's.
pub fn value(
    model: &Population,
    months_in: u32,
    rewards: &[Decimal],
    plan: &[PeriodOutcomes],
    no_plan: &[PeriodOutcomes],
) -> Valuation {
    let savings = savings_by_period(model, months_in, plan, no_plan);
    let (mut saved, mut paid) = (Decimal::ZERO, Decimal::ZERO);
    let mut payback_period = None;
    for (k, (reward, saving)) in rewards.iter().zip(&savings).enumerate() {
        let factor = discount_factor(model, months_in, k);
        paid += *reward * factor;
        saved += *saving * factor;
        if payback_period.is_none() && paid > Decimal::ZERO && saved >= paid {
            payback_period = Some(k);
        }
    }
    let r = |d: Decimal| d.round_dp(PLACES).normalize();
    Valuation {
        claims_savings: r(saved),
        rewards_present_value: r(paid),
        net_cost: r(paid - saved),
        payback_period,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period(hba1c_sum: i64) -> PeriodOutcomes {
        PeriodOutcomes {
            hba1c_sum: Decimal::from(hba1c_sum),
            ..PeriodOutcomes::default()
        }
    }

    #[test]
    fn a_year_of_months_discounts_each_month_from_its_end() {
        let model = Population::default();
        // 1.05^(−1) at the end of the twelfth month.
        let year = discount_factor(&model, 1, 11);
        assert_eq!(year.round_dp(9), Decimal::new(952_380_952, 9));
        assert!(discount_factor(&model, 1, 0) > year);
    }

    #[test]
    fn savings_are_points_saved_at_the_cost_a_point_realised_and_discounted() {
        let model = Population::default();
        // Two quarters: 100 members × 0.3 points lower in each.
        let no_plan = [period(900), period(900)];
        let plan = [period(870), period(870)];
        let rewards = [Decimal::from(1000), Decimal::from(1000)];
        let v = value(&model, 3, &rewards, &plan, &no_plan);
        // 30 points × 600 a point-year × 3/12 × 20 % × 25 % in the first year = 225 a quarter.
        let by_period = savings_by_period(&model, 3, &plan, &no_plan);
        assert_eq!(by_period, [Decimal::from(225), Decimal::from(225)]);
        let f = |k| discount_factor(&model, 3, k);
        let expected = (Decimal::from(225) * (f(0) + f(1))).round_dp(4).normalize();
        assert_eq!(v.claims_savings, expected);
        assert_eq!(
            v.net_cost,
            (Decimal::from(1000) * (f(0) + f(1)) - Decimal::from(225) * (f(0) + f(1)))
                .round_dp(4)
                .normalize()
        );
        assert_eq!(v.payback_period, None);
    }

    #[test]
    fn a_plan_whose_savings_pass_its_rewards_pays_back_in_that_period() {
        let model = Population::default();
        let no_plan: [PeriodOutcomes; 5] = std::array::from_fn(|_| period(900));
        let plan: [PeriodOutcomes; 5] = std::array::from_fn(|_| period(800));
        let rewards = [
            Decimal::from(10_000),
            Decimal::ZERO,
            Decimal::ZERO,
            Decimal::ZERO,
            Decimal::ZERO,
        ];
        // 100 points a year-quarter: 750 a quarter in year one, 3,000 after.
        let v = value(&model, 3, &rewards, &plan, &no_plan);
        assert_eq!(v.payback_period, None, "{v:?}");
        let rewards = [
            Decimal::from(4_000),
            Decimal::ZERO,
            Decimal::ZERO,
            Decimal::ZERO,
            Decimal::ZERO,
        ];
        // 4 × 750 = 3,000 by the end of the year, 6,000 by the fifth quarter's end.
        let v = value(&model, 3, &rewards, &plan, &no_plan);
        assert_eq!(v.payback_period, Some(4), "{v:?}");
    }
}
