//! The real history, read for a backtest: what a policy would have read for each member in
//! each period (exactly what a payout reads: the member's record, the period's readings, lab
//! results before its end), and what was actually posted. Read only.

use crate::Store;
use crate::db::{Money, on_pool};
use crate::error::StoreError;
use crate::inputs::to_engine;
use crate::member_records::load_member_records;
use incentive_engine::ReadingsBuilder;
use incentive_engine::period::Window;
use rust_decimal::Decimal;
use sqlx::Row;

pub use incentive_engine::policy::PeriodInputs;

/// What stands posted to a member for a period under a policy: the decisions' postings but
/// those reversed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Posted {
    pub member_id: String,
    pub policy_id: String,
    pub period: String,
    pub reward: Decimal,
    pub premium_adjustment_percent: Decimal,
}

impl Store {
    /// Every member of a tenant, in id order.
    pub async fn member_ids(&self, tenant: &str) -> Result<Vec<String>, StoreError> {
        let ids = on_pool!(&self.shared.pool, p => {
            sqlx::query_scalar::<_, String>(
                "SELECT member_id FROM members WHERE tenant = $1 ORDER BY member_id",
            )
            .bind(tenant)
            .fetch_all(p)
            .await?
        });
        Ok(ids)
    }

    /// For each of `members` (in that order; members not on record are left out), what a
    /// payout for the period `window` would read.
    pub async fn period_inputs(
        &self,
        tenant: &str,
        members: &[&str],
        window: &Window,
    ) -> Result<Vec<PeriodInputs>, StoreError> {
        let (start, end) = (
            window.start.timestamp_millis(),
            window.end.timestamp_millis(),
        );
        let mut tx = self.shared.pool.begin_read().await?;
        let mut records = load_member_records(&mut tx, tenant, members, (start, end)).await?;
        tx.commit().await?;
        let (profiles, readings, labs) = (
            &mut records.profiles,
            &mut records.readings,
            &mut records.labs,
        );
        let mut out = Vec::with_capacity(members.len());
        for id in members {
            let Some(profile) = profiles.remove(*id) else {
                continue;
            };
            let stored = readings.remove(*id).unwrap_or_default();
            let mut b = ReadingsBuilder::with_capacity(stored.len());
            for r in &stored {
                b.push(to_engine(r)?);
            }
            out.push(PeriodInputs {
                profile,
                readings: b.finish().readings,
                labs: labs.remove(*id).unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// What stands posted in each of `periods`, by member, policy and period (sorted so).
    pub async fn posted(
        &self,
        tenant: &str,
        periods: &[String],
    ) -> Result<Vec<Posted>, StoreError> {
        let rows: Vec<(String, String, String, Money, Money, bool)> = on_pool!(&self.shared.pool, p => {
            sqlx::query(
                "SELECT member_id, policy_id, period, reward_posted, premium_posted, \
                 EXISTS (SELECT 1 FROM reversals r WHERE r.decision_id = d.id) \
                 FROM decisions d WHERE tenant = $1 ORDER BY member_id, policy_id, period, ordinal",
            )
            .bind(tenant)
            .fetch_all(p)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?, r.try_get(5)?)))
            .collect::<sqlx::Result<Vec<_>>>()?
        });
        let mut out: Vec<Posted> = Vec::new();
        for (member_id, policy_id, period, reward, premium, reversed) in rows {
            if reversed || !periods.contains(&period) {
                continue;
            }
            match out.last_mut() {
                Some(last)
                    if last.member_id == member_id
                        && last.policy_id == policy_id
                        && last.period == period =>
                {
                    last.reward += reward.0;
                    last.premium_adjustment_percent += premium.0;
                }
                _ => out.push(Posted {
                    member_id,
                    policy_id,
                    period,
                    reward: reward.0,
                    premium_adjustment_percent: premium.0,
                }),
            }
        }
        for p in &mut out {
            p.reward = p.reward.normalize();
            p.premium_adjustment_percent = p.premium_adjustment_percent.normalize();
        }
        Ok(out)
    }
}
