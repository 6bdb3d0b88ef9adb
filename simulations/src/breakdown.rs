//! Breakdowns of a plan's results: by the tier it decided, and by cohort — age band, region,
//! diabetes type, insulin use. Each replication keeps its own small sums by tier and cohort
//! (never a record per member), which these add up.

use crate::population::Population;
use crate::totals::{CohortTotals, Replication};
use incentive_engine::policy::MemberProfile;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// One tier of a plan, averaged over replications.
#[derive(Debug, Serialize)]
pub struct TierRow {
    pub tier: String,
    pub mean_member_periods: Decimal,
    pub mean_reward: Decimal,
    pub mean_premium_points: Decimal,
}

/// One cohort of a plan, over every replication.
#[derive(Debug, Serialize)]
pub struct CohortRow {
    pub cohort: String,
    /// Members of the cohort, over all replications.
    pub members: u64,
    pub mean_reward_per_member: Decimal,
    pub earning_rate: Decimal,
}

fn mean(sum: Decimal, n: u64) -> Decimal {
    if n == 0 {
        Decimal::ZERO
    } else {
        (sum / Decimal::from(n)).round_dp(4).normalize()
    }
}

/// Plan `p`'s tiers.
pub fn tiers(replications: &[Replication], p: usize) -> Vec<TierRow> {
    let n = replications.len() as u64;
    let mut sums: BTreeMap<&str, (u64, Decimal, Decimal)> = BTreeMap::new();
    for t in replications.iter().filter_map(|r| r.plans.get(p)) {
        for (tier, v) in &t.by_tier {
            let s = sums.entry(tier).or_default();
            s.0 += v.member_periods;
            s.1 += v.reward;
            s.2 += v.premium_points;
        }
    }
    sums.into_iter()
        .map(|(tier, (periods, reward, premium))| TierRow {
            tier: tier.to_owned(),
            mean_member_periods: mean(Decimal::from(periods), n),
            mean_reward: mean(reward, n),
            mean_premium_points: mean(premium, n),
        })
        .collect()
}

/// The cohorts a member belongs to, by dimension: age band (of the model's bands), region,
/// diabetes type, insulin use.
pub fn cohort_keys(model: &Population, profile: &MemberProfile) -> [(&'static str, String); 4] {
    let age = profile.age.unwrap_or(0);
    let band = model
        .members
        .age_bands
        .iter()
        .find(|b| (b.from_years..=b.to_years).contains(&age))
        .map_or_else(
            || "other".to_owned(),
            |b| format!("{}–{}", b.from_years, b.to_years),
        );
    [
        ("age_band", band),
        ("region", profile.region.clone().unwrap_or_default()),
        (
            "diabetes_type",
            profile.diabetes_type.clone().unwrap_or_default(),
        ),
        (
            "insulin",
            if profile.insulin == Some(true) {
                "insulin"
            } else {
                "no insulin"
            }
            .to_owned(),
        ),
    ]
}

/// Plan `p`'s cohorts, by dimension (`age_band`, `region`, `diabetes_type`, `insulin`), over
/// every replication.
pub fn cohorts(replications: &[Replication], p: usize) -> BTreeMap<String, Vec<CohortRow>> {
    let mut sums: BTreeMap<&str, BTreeMap<&str, CohortTotals>> = BTreeMap::new();
    for t in replications.iter().filter_map(|r| r.plans.get(p)) {
        for (dimension, cohorts) in &t.by_cohort {
            let dim = sums.entry(dimension).or_default();
            for (cohort, c) in cohorts {
                let s = dim.entry(cohort).or_default();
                s.members += c.members;
                s.reward += c.reward;
                s.members_earning += c.members_earning;
            }
        }
    }
    sums.into_iter()
        .map(|(dimension, cohorts)| {
            let rows = cohorts
                .into_iter()
                .map(|(cohort, c)| CohortRow {
                    cohort: cohort.to_owned(),
                    members: c.members,
                    mean_reward_per_member: mean(c.reward, c.members),
                    earning_rate: mean(Decimal::from(c.members_earning), c.members),
                })
                .collect();
            (dimension.to_owned(), rows)
        })
        .collect()
}
