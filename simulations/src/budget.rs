//! What to hold for a plan: its pool scaled to the book it is for, the budget its rewards need
//! at a chosen confidence, and the reserve for rewards earned but not yet paid.
//!
//! A policy's `pool_budget` is an amount for the whole book of members the insurer will enrol.
//! A run of fewer members would never reach it; `--book-members N` says the pool is for N
//! members, and the run's plan gets the pool's share for its own members, so the pool binds in
//! the run as it would in the book. Rewards for a period are decided after it closes and paid
//! after that: at each period's end they are owed and not yet paid, so the reserve to hold is the
//! largest period's rewards.

use crate::stats::quantile;
use crate::totals::PlanTotals;
use incentive_engine::policy::Policy;
use rust_decimal::Decimal;
use serde::Serialize;

/// The confidence the budget is read at unless the run says otherwise.
pub const CONFIDENCE_DEFAULT: Decimal = Decimal::from_parts(95, 0, 0, false, 2);

/// `policy` with its pool scaled from a book of `book_members` to a run of `members`: the
/// pool's share, rounded down to the minor unit (a pool is never made larger by rounding).
pub fn scaled_to_run(policy: &Policy, members: u64, book_members: u64) -> Policy {
    let mut scaled = policy.clone();
    let caps = &mut scaled.manifest.caps;
    if let Some(pool) = caps.pool_budget
        && book_members > 0
    {
        let share = pool * Decimal::from(members) / Decimal::from(book_members);
        caps.pool_budget = Some(policy.manifest.rounding.money_down(share));
    }
    scaled
}

/// A plan's budget over the run's replications.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Budget {
    pub confidence: Decimal,
    /// The total the rewards stay within at that confidence (the quantile of the total, R's
    /// type 7)…
    pub total: Decimal,
    /// …a member…
    pub per_member: Decimal,
    /// …and for the book (`--book-members`), when the run names one.
    pub for_book: Option<BookBudget>,
    /// Rewards earned but not yet paid at a period's end: the largest period's rewards, at the
    /// confidence (over replications, each its own largest period).
    pub reserve: Decimal,
    /// The mean of each replication's largest period.
    pub reserve_mean: Decimal,
}

/// A budget for the book the pool is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BookBudget {
    pub members: u64,
    pub total: Decimal,
    pub reserve: Decimal,
}

/// The budget of a plan whose replications came to `totals`, for `members` members a run.
pub fn budget(
    totals: &[&PlanTotals],
    members: u64,
    confidence: Decimal,
    book_members: Option<u64>,
) -> Budget {
    let rewards: Vec<Decimal> = totals.iter().map(|t| t.reward).collect();
    let largest: Vec<Decimal> = totals
        .iter()
        .map(|t| t.reward_by_period.iter().copied().max().unwrap_or_default())
        .collect();
    let total = quantile(&rewards, confidence);
    let reserve = quantile(&largest, confidence);
    let each = |d: Decimal| (d / Decimal::from(members.max(1))).round_dp(4).normalize();
    let per_member = each(total);
    let book = |d: Decimal, n: u64| (each(d) * Decimal::from(n)).round_dp(2).normalize();
    Budget {
        confidence,
        total,
        per_member,
        for_book: book_members.map(|n| BookBudget {
            members: n,
            total: book(total, n),
            reserve: book(reserve, n),
        }),
        reserve,
        reserve_mean: if largest.is_empty() {
            Decimal::ZERO
        } else {
            (largest.iter().sum::<Decimal>() / Decimal::from(largest.len() as u64))
                .round_dp(4)
                .normalize()
        },
    }
}
