//! What a run is asked for beside its size, as `incentive simulate` and `POST /v1/simulations`
//! both take it: the book the plans' pools are for, the confidence the budget is read at, a
//! renewal that prices plans past their effective dates, and the one-at-a-time sensitivity.
//! One meaning for both, so a run asked for over HTTP gives the command's very bytes.

use crate::config::Config;
use crate::info::{PlanInfo, RunInfo};
use crate::population::Population;
use crate::totals::Results;
use crate::{SimError, budget, run, tornado};
use incentive_engine::policy::Policy;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::sync::atomic::AtomicBool;

/// How plans are priced past their effective dates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Renewal {
    /// Each plan renewed as it is: its terms, tables and caps carry on, yearly caps start
    /// again each year.
    Unchanged,
}

impl Renewal {
    /// The name a run records it by.
    pub fn name(self) -> &'static str {
        match self {
            Self::Unchanged => "unchanged",
        }
    }
}

/// A run's options beside its size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The book of members the plans' pools are for: the run gets each pool's share for its
    /// own members, and the budget is given for the book too.
    pub book_members: Option<u64>,
    /// The share of replications the budget's total stays within (0 to 1, exclusive).
    pub confidence: Decimal,
    pub renewal: Option<Renewal>,
    /// Run each sourced assumption at its low and at its high too.
    pub tornado: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            book_members: None,
            confidence: budget::CONFIDENCE_DEFAULT,
            renewal: None,
            tornado: false,
        }
    }
}

impl Options {
    /// Every problem with the options at once, each naming its field as `name` spells it
    /// (`--book-members` for the command, `book_members` over HTTP).
    pub fn check(&self, name: &dyn Fn(&str) -> String) -> Result<(), SimError> {
        let mut problems = Vec::new();
        if !(Decimal::ZERO < self.confidence && self.confidence < Decimal::ONE) {
            problems.push(format!(
                "{} {} is not a share between 0 and 1 (exclusive), such as 0.95",
                name("confidence"),
                self.confidence
            ));
        }
        if self.book_members == Some(0) {
            problems.push(format!(
                "{} 0: the book needs at least one member",
                name("book_members")
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(SimError::Config(problems.join("; ")))
        }
    }

    /// The plans as the run prices them: renewed as asked, each pool cut to the run's share of
    /// the book.
    pub fn plans_for(&self, plans: &[&Policy], members: u64) -> Vec<Policy> {
        plans
            .iter()
            .map(|p| {
                let renewed = match self.renewal {
                    Some(Renewal::Unchanged) => run::renewed_unchanged(p),
                    None => (*p).clone(),
                };
                match self.book_members {
                    Some(book) => budget::scaled_to_run(&renewed, members, book),
                    None => renewed,
                }
            })
            .collect()
    }

    /// How the results name the run: `plans` as [`Options::plans_for`] gave them.
    pub fn info(&self, config: &Config, plans: &[&Policy], model: &Population) -> RunInfo {
        let info = RunInfo::new(
            config,
            plans.iter().map(|p| PlanInfo::of(p)).collect(),
            model,
        )
        .with_budget(self.book_members, self.confidence);
        RunInfo {
            renewal: self.renewal.map(|r| r.name().to_owned()),
            ..info
        }
    }

    /// How many runs of the asked size the options take: one, and the tornado's.
    pub fn runs(&self) -> u64 {
        if self.tornado {
            1 + tornado::runs_needed() as u64
        } else {
            1
        }
    }

    /// The run, and the tornado if asked, stopping soon after `stop` is set.
    pub fn run(
        &self,
        model: &Population,
        plans: &[&Policy],
        config: &Config,
        progress: &(dyn Fn(u64) + Sync),
        stop: &AtomicBool,
    ) -> Result<Results, SimError> {
        if self.tornado && config.shard != crate::config::Shard::WHOLE {
            return Err(SimError::Config(
                "the tornado runs the whole run again with each assumption at its low and its high; run it without a shard".into(),
            ));
        }
        let mut results = run::run_until(model, plans, config, progress, stop)?;
        if self.tornado {
            results.sensitivity = Some(tornado::tornado(
                model, plans, config, &results, progress, stop,
            )?);
        }
        Ok(results)
    }
}
