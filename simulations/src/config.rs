//! What a run is asked for: its size, its seed, its first period, and the part of its
//! replications this process makes (a shard).

use crate::SimError;
use incentive_engine::Period;
use serde::Serialize;

/// The part of the replications a run makes: `index` of `count` (1-based), replication `r`
/// belonging to shard `r mod count + 1`. A replication is never split, so a shard's results
/// are exact and shards merge by concatenation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub const WHOLE: Self = Self { index: 1, count: 1 };

    /// `I/N`, 1 ≤ I ≤ N.
    pub fn parse(text: &str) -> Result<Self, SimError> {
        let bad = || {
            SimError::Config(format!(
                "--shard `{text}`: expected I/N with 1 ≤ I ≤ N, such as 2/8"
            ))
        };
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count): (u64, u64) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }

    pub fn owns(self, replication: u64) -> bool {
        replication % self.count + 1 == self.index
    }
}

/// What to run.
#[derive(Clone, Debug, Serialize)]
pub struct Config {
    pub members: u64,
    pub periods: u32,
    pub replications: u64,
    pub seed: u64,
    /// The first period simulated; the plans must be in effect from it for `periods` periods.
    pub first_period: Period,
    pub shard: Shard,
}

/// Members, periods and replications a run may ask for at most.
pub const MEMBERS_MAX: u64 = 10_000_000;
pub const PERIODS_MAX: u32 = 120;
pub const REPLICATIONS_MAX: u64 = 1_000_000;

impl Config {
    pub fn check(&self) -> Result<(), SimError> {
        let mut problems = Vec::new();
        if !(1..=MEMBERS_MAX).contains(&self.members) {
            problems.push(format!(
                "--members {} is outside 1 to {MEMBERS_MAX}",
                self.members
            ));
        }
        if !(1..=PERIODS_MAX).contains(&self.periods) {
            problems.push(format!(
                "--periods {} is outside 1 to {PERIODS_MAX}",
                self.periods
            ));
        }
        if !(1..=REPLICATIONS_MAX).contains(&self.replications) {
            problems.push(format!(
                "--replications {} is outside 1 to {REPLICATIONS_MAX}",
                self.replications
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(SimError::Config(problems.join("; ")))
        }
    }

    pub fn periods(&self) -> Vec<Period> {
        std::iter::successors(Some(self.first_period), |p| Some(p.next()))
            .take(usize::try_from(self.periods).unwrap_or(0))
            .collect()
    }
}
