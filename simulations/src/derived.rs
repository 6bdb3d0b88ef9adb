//! What `summary.json` and `report.html` both show that takes work to find: each plan's outcomes
//! and budget, the no-plan arm, and the calibration (which runs a twelve-month population of its
//! own). Found once and handed to both, so the two never differ and the work is not done twice.

use crate::SimError;
use crate::budget::{Budget, budget};
use crate::calibration::{self, Calibration};
use crate::effects::{self, NoPlan, PlanOutcomes};
use crate::info::RunInfo;
use crate::totals::{PlanTotals, Results};

/// A run's figures both pages show, by plan where they are a plan's.
#[derive(Clone, Debug)]
pub struct Derived {
    pub outcomes: Vec<PlanOutcomes>,
    pub budgets: Vec<Budget>,
    pub no_plan: NoPlan,
    pub calibration: Calibration,
}

impl Derived {
    /// The figures of `results`, a run `info` describes.
    pub fn of(info: &RunInfo, results: &Results) -> Result<Self, SimError> {
        let replications = results.replications.as_slice();
        let mut outcomes = Vec::with_capacity(info.plans.len());
        let mut budgets = Vec::with_capacity(info.plans.len());
        for p in 0..info.plans.len() {
            let totals: Vec<&PlanTotals> =
                replications.iter().filter_map(|r| r.plans.get(p)).collect();
            budgets.push(budget(
                &totals,
                info.members,
                info.confidence,
                info.book_members,
            ));
            outcomes.push(effects::of_run(info, results, p)?);
        }
        Ok(Self {
            outcomes,
            budgets,
            no_plan: effects::no_plan(&info.periods, replications, info.members),
            calibration: calibration::for_run(info, results)?,
        })
    }
}
