//! What a payout is asked and answers: the request, the kind of answer, and a decision as
//! stored with what it posted — and how a decision is read back from its row. The payout
//! writer (`payout`), its groups (`group`), idempotency keys, reversals and audits all read
//! these; this module reads none of them, so their imports run one way.

use incentive_engine::{MemberId, Period};
use rust_decimal::Decimal;
use serde::Serialize;

/// Pay a member for a period under a policy: whatever version is in effect then.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutRequest {
    pub tenant: String,
    pub member: MemberId,
    pub policy_id: String,
    pub period: Period,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutKind {
    /// The period's first decision, posted now.
    Paid,
    /// The data changed after the period was paid: a new decision, posting the difference.
    TrueUp,
    /// Nothing changed since the period was decided: the decision on record.
    AlreadyDecided,
}

impl PayoutKind {
    /// The name it is written with, in JSON and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Paid => "paid",
            Self::TrueUp => "true_up",
            Self::AlreadyDecided => "already_decided",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PayoutOutcome {
    pub kind: PayoutKind,
    pub decision: StoredDecision,
}

/// A decision as stored, with what it posted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredDecision {
    pub id: String,
    pub tenant: String,
    pub member_id: String,
    pub policy_id: String,
    pub policy_version: String,
    pub period: String,
    /// 0 for the period's first decision, then 1, 2 … for each true-up.
    pub ordinal: i64,
    pub supersedes: Option<String>,
    pub input_hash: String,
    pub data_hash: String,
    pub decision_hash: String,
    /// The engine's decision, canonical JSON: what replay must reproduce byte for byte.
    pub body: String,
    pub reward: Decimal,
    pub premium_adjustment_percent: Decimal,
    /// What this decision posted: the reward, or for a true-up the difference.
    pub reward_posted: Decimal,
    pub premium_posted: Decimal,
    pub qualified: bool,
    pub tier: Option<String>,
    pub points: i64,
    pub ledger_seq: i64,
    pub created_at: String,
    /// The ledger entry that reversed this decision's postings, if an auditor reversed it.
    /// A reversed decision stays on record: asking for its period again with the same data
    /// answers with it (a payment reversed as erroneous is not simply paid again); different
    /// data decides again and posts the new amount in full.
    pub reversed_by: Option<i64>,
}

pub(crate) const DECISION_COLUMNS: &str = "id, tenant, member_id, policy_id, policy_version, period, ordinal, supersedes, \
     input_hash, data_hash, decision_hash, body, reward, premium_adjustment_percent, reward_posted, \
     premium_posted, qualified, tier, points, ledger_seq, created_at, \
     (SELECT r.ledger_seq FROM reversals r WHERE r.decision_id = decisions.id) AS reversed_by";

macro_rules! decision_from_row {
    ($r:expr) => {{
        let r = $r;
        Ok::<_, sqlx::Error>($crate::decisions::StoredDecision {
            id: sqlx::Row::try_get(r, 0)?,
            tenant: sqlx::Row::try_get(r, 1)?,
            member_id: sqlx::Row::try_get(r, 2)?,
            policy_id: sqlx::Row::try_get(r, 3)?,
            policy_version: sqlx::Row::try_get(r, 4)?,
            period: sqlx::Row::try_get(r, 5)?,
            ordinal: sqlx::Row::try_get(r, 6)?,
            supersedes: sqlx::Row::try_get(r, 7)?,
            input_hash: sqlx::Row::try_get(r, 8)?,
            data_hash: sqlx::Row::try_get(r, 9)?,
            decision_hash: sqlx::Row::try_get(r, 10)?,
            body: sqlx::Row::try_get(r, 11)?,
            reward: sqlx::Row::try_get::<$crate::db::Money, _>(r, 12)?.0,
            premium_adjustment_percent: sqlx::Row::try_get::<$crate::db::Money, _>(r, 13)?.0,
            reward_posted: sqlx::Row::try_get::<$crate::db::Money, _>(r, 14)?.0,
            premium_posted: sqlx::Row::try_get::<$crate::db::Money, _>(r, 15)?.0,
            qualified: sqlx::Row::try_get(r, 16)?,
            tier: sqlx::Row::try_get(r, 17)?,
            points: sqlx::Row::try_get(r, 18)?,
            ledger_seq: sqlx::Row::try_get(r, 19)?,
            created_at: sqlx::Row::try_get::<$crate::db::Instant, _>(r, 20)?.to_rfc3339(),
            reversed_by: sqlx::Row::try_get(r, 21)?,
        })
    }};
}
pub(crate) use decision_from_row;
