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
        }
    }
}
