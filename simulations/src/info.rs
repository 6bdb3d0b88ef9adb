//! How a run's results name what was run: its plans, its size and seed, its assumptions.

use crate::config::Config;
use crate::population::Population;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A plan as the results name it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanInfo {
    pub policy_id: String,
    pub version: String,
    pub content_hash: String,
    pub currency: String,
    pub pool_budget: Option<Decimal>,
}

impl PlanInfo {
    /// How the results name `policy`.
    pub fn of(policy: &incentive_engine::policy::Policy) -> Self {
        Self {
            policy_id: policy.manifest.id.clone(),
            version: policy.manifest.version.clone(),
            content_hash: policy.content_hash.clone(),
            currency: policy.manifest.currency.clone(),
            pool_budget: policy.manifest.caps.pool_budget,
        }
    }
}

fn confidence_default() -> Decimal {
    crate::budget::CONFIDENCE_DEFAULT
}

/// Everything about a run but its replications: what a shard's partial carries so that merge
/// can check the shards belong together.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub members: u64,
    pub periods: Vec<String>,
    pub replications: u64,
    pub seed: u64,
    pub plans: Vec<PlanInfo>,
    pub assumptions: Population,
    /// The book of members each plan's pool is for (`--book-members`): the pools in `plans` are
    /// their share for the run's members.
    #[serde(default)]
    pub book_members: Option<u64>,
    /// The confidence the budget is read at (`--confidence`).
    #[serde(default = "confidence_default")]
    pub confidence: Decimal,
    /// How plans are priced past their effective dates: `unchanged` (`--renewal unchanged`,
    /// each renewed as it is), or none (a run past them is refused).
    #[serde(default)]
    pub renewal: Option<String>,
}

impl RunInfo {
    pub fn new(config: &Config, plans: Vec<PlanInfo>, model: &Population) -> Self {
        Self {
            members: config.members,
            periods: config.periods().iter().map(ToString::to_string).collect(),
            replications: config.replications,
            seed: config.seed,
            plans,
            assumptions: model.clone(),
            book_members: None,
            confidence: crate::budget::CONFIDENCE_DEFAULT,
            renewal: None,
        }
    }

    /// The run's budget read at `confidence`, its pools for a book of `book_members`.
    #[must_use]
    pub fn with_budget(mut self, book_members: Option<u64>, confidence: Decimal) -> Self {
        self.book_members = book_members;
        self.confidence = confidence;
        self
    }
}
