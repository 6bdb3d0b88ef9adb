//! What each member was paid, gathered over replications as they finish, so a run's memory
//! does not grow with its replications: by member, the sum and the largest total (for
//! `member_slots.csv`); over all member-replications, how many totals had each value (for the
//! distribution of one member's total — exact quantiles from counts, since totals are few
//! distinct amounts). Sums of decimals are exact, so the order replications are added in,
//! and how a run was sharded, change nothing.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One plan's per-member results over the replications added so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberTotals {
    pub replications: u64,
    /// By member index: the sum of the member's totals over replications.
    pub sum: Vec<Decimal>,
    /// By member index: the member's largest total.
    pub max: Vec<Decimal>,
    /// Each total a member had in a replication, and how many times, in ascending order.
    pub counts: Vec<(Decimal, u64)>,
}

impl MemberTotals {
    pub fn new(members: usize) -> Self {
        Self {
            replications: 0,
            sum: vec![Decimal::ZERO; members],
            max: vec![Decimal::ZERO; members],
            counts: Vec::new(),
        }
    }

    /// Adds one replication's totals, by member index.
    pub fn add(&mut self, totals: &[Decimal]) {
        let mut counts = self.count_map();
        for ((s, m), t) in self.sum.iter_mut().zip(self.max.iter_mut()).zip(totals) {
            *s += *t;
            if *t > *m {
                *m = *t;
            }
            *counts.entry(t.normalize()).or_default() += 1;
        }
        self.replications += 1;
        self.counts = counts.into_iter().collect();
    }

    /// Adds another part of the same run (another shard's replications).
    pub fn merge(&mut self, other: &Self) {
        let mut counts = self.count_map();
        for (v, c) in &other.counts {
            *counts.entry(*v).or_default() += c;
        }
        for (s, o) in self.sum.iter_mut().zip(&other.sum) {
            *s += *o;
        }
        for (m, o) in self.max.iter_mut().zip(&other.max) {
            if *o > *m {
                *m = *o;
            }
        }
        self.replications += other.replications;
        self.counts = counts.into_iter().collect();
    }

    pub fn count_map(&self) -> BTreeMap<Decimal, u64> {
        self.counts.iter().copied().collect()
    }

    /// Member `m`'s mean total, to four places.
    pub fn mean(&self, m: usize) -> Decimal {
        let sum = self.sum.get(m).copied().unwrap_or_default();
        (sum / Decimal::from(self.replications.max(1)))
            .round_dp(4)
            .normalize()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(v: i64) -> Decimal {
        Decimal::from(v)
    }

    #[test]
    fn merging_two_halves_gives_what_adding_every_replication_gives() {
        let reps = [
            [d(10), d(0), d(30)],
            [d(20), d(0), d(30)],
            [d(0), d(40), d(10)],
        ];
        let mut whole = MemberTotals::new(3);
        reps.iter().for_each(|r| whole.add(r));
        let (mut a, mut b) = (MemberTotals::new(3), MemberTotals::new(3));
        a.add(&reps[2]);
        b.add(&reps[0]);
        b.add(&reps[1]);
        a.merge(&b);
        assert_eq!(a, whole);
        assert_eq!(whole.sum, vec![d(30), d(40), d(70)]);
        assert_eq!(whole.max, vec![d(20), d(40), d(30)]);
        assert_eq!(
            whole.counts,
            vec![(d(0), 3), (d(10), 2), (d(20), 1), (d(30), 2), (d(40), 1)]
        );
        assert_eq!(whole.mean(2), Decimal::new(233333, 4));
    }
}
