//! Breakdowns of a plan's results: by the tier it decided, and by cohort — age band, region,
//! diabetes type, insulin use. Cohorts are found by drawing each member again from the run's
//! seed and model (the draw is keyed, so it is the member the run paid), which keeps the
//! replications' records, and shards' partial files, small.

use crate::SimError;
use crate::report::RunInfo;
use crate::run::Replication;
use crate::synth::member;
use incentive_engine::Period;
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

/// Plan `p`'s cohorts, by dimension (`age_band`, `region`, `diabetes_type`, `insulin`).
pub fn cohorts(
    info: &RunInfo,
    replications: &[Replication],
    p: usize,
) -> Result<BTreeMap<&'static str, Vec<CohortRow>>, SimError> {
    let mut out = BTreeMap::new();
    let Some(first) = info.periods.first() else {
        return Ok(out);
    };
    let enrolled = Period::parse(first)
        .ok()
        .and_then(Period::first_day)
        .ok_or_else(|| SimError::Config(format!("period `{first}` is not a period")))?;
    let model = &info.assumptions;
    type Sums = BTreeMap<String, (u64, Decimal, u64)>;
    let mut dims: [(&'static str, Sums); 4] = [
        ("age_band", Sums::new()),
        ("region", Sums::new()),
        ("diabetes_type", Sums::new()),
        ("insulin", Sums::new()),
    ];
    for r in replications {
        let Some(t) = r.plans.get(p) else { continue };
        for (m, reward) in t.member_rewards.iter().enumerate() {
            let who = member(model, info.seed, m as u64, r.replication, enrolled)?;
            let age = who.profile.age.unwrap_or(0);
            let band = model
                .members
                .age_bands
                .iter()
                .find(|b| (b.from_years..=b.to_years).contains(&age))
                .map_or_else(
                    || "other".to_owned(),
                    |b| format!("{}–{}", b.from_years, b.to_years),
                );
            let keys = [
                band,
                who.profile.region.clone().unwrap_or_default(),
                who.profile.diabetes_type.clone().unwrap_or_default(),
                if who.profile.insulin == Some(true) {
                    "insulin"
                } else {
                    "no insulin"
                }
                .to_owned(),
            ];
            for ((_, sums), key) in dims.iter_mut().zip(keys) {
                let s = sums.entry(key).or_default();
                s.0 += 1;
                s.1 += *reward;
                s.2 += u64::from(*reward > Decimal::ZERO);
            }
        }
    }
    for (name, sums) in dims {
        let rows = sums
            .into_iter()
            .map(|(cohort, (members, reward, earning))| CohortRow {
                cohort,
                members,
                mean_reward_per_member: mean(reward, members),
                earning_rate: mean(Decimal::from(earning), members),
            })
            .collect();
        out.insert(name, rows);
    }
    Ok(out)
}
