//! What a member's decision reads of their past under a plan: their history as fixed-size
//! records, their premium loading, whether they are still in the plan. Read on every core while
//! a chunk's members are decided; written only between decisions.

use crate::SimError;
use incentive_engine::Period;
use incentive_engine::policy::record_view::MetricValue;
use incentive_engine::policy::{History, PriorOutcome};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};

/// One outcome in a member's history as the book keeps it: a fixed-size record, its period,
/// tier and kept metrics by their place in the book's tables (a run has a handful of periods
/// and tiers, and a plan keeps the same metrics every period). 56 bytes, where the engine's
/// `PriorOutcome` is 104, a tier's name a heap string of its own and kept metrics a map of
/// their own; a million members' histories are most of a run's memory.
#[derive(Clone, Copy, Debug)]
struct Record {
    reward: Decimal,
    premium_adjustment_percent: Decimal,
    points: i64,
    /// The place of its period in [`Tables::periods`].
    period: u32,
    /// 0: no tier; else one more than its place in [`Tables::tiers`].
    tier: u32,
    /// 0: no metrics kept; else one more than the place of the first of its values in
    /// [`Tables::kept_values`], named by [`Tables::kept_names`] at `kept_names`.
    kept: u32,
    kept_names: u16,
    qualified: bool,
}

/// What a book's records point into.
#[derive(Debug, Default)]
pub(super) struct Tables {
    periods: Vec<Period>,
    tiers: Vec<String>,
    tier_places: HashMap<String, u32>,
    /// Each list of kept metrics' names seen, in the engine's order (a plan has one).
    kept_names: Vec<Vec<String>>,
    /// Every record's kept values, one after another, each record's in its names' order.
    kept_values: Vec<MetricValue>,
}

impl Tables {
    /// `outcome` as a record, its period, tier and metrics added to the tables where new.
    fn record(&mut self, outcome: PriorOutcome) -> Result<Record, SimError> {
        let full = || SimError::Config("a book holds at most 4,294,967,295 outcomes".into());
        // Members are booked period by period: the period is nearly always the last one seen.
        let period = match self.periods.iter().rposition(|p| *p == outcome.period) {
            Some(i) => i,
            None => {
                self.periods.push(outcome.period);
                self.periods.len() - 1
            }
        };
        let tier = match outcome.tier {
            None => 0,
            Some(name) => match self.tier_places.get(&name) {
                Some(place) => *place,
                None => {
                    self.tiers.push(name.clone());
                    let place = u32::try_from(self.tiers.len()).map_err(|_| full())?;
                    self.tier_places.insert(name, place);
                    place
                }
            },
        };
        let (kept, kept_names) = if outcome.metrics.is_empty() {
            (0, 0)
        } else {
            let names = match self
                .kept_names
                .iter()
                .position(|names| names.iter().eq(outcome.metrics.keys()))
            {
                Some(i) => i,
                None => {
                    self.kept_names
                        .push(outcome.metrics.keys().cloned().collect());
                    self.kept_names.len() - 1
                }
            };
            let first = u32::try_from(self.kept_values.len() + 1).map_err(|_| full())?;
            self.kept_values.extend(outcome.metrics.into_values());
            (first, u16::try_from(names).map_err(|_| full())?)
        };
        Ok(Record {
            reward: outcome.reward,
            premium_adjustment_percent: outcome.premium_adjustment_percent,
            points: outcome.points,
            period: u32::try_from(period).map_err(|_| full())?,
            tier,
            kept,
            kept_names,
            qualified: outcome.qualified,
        })
    }

    /// Writes `record` into `outcome` as the engine reads it, reusing `outcome`'s tier string.
    fn write(&self, record: &Record, outcome: &mut PriorOutcome) {
        outcome.period = place(&self.periods, record.period)
            .copied()
            .unwrap_or(outcome.period);
        outcome.reward = record.reward;
        outcome.premium_adjustment_percent = record.premium_adjustment_percent;
        outcome.points = record.points;
        outcome.qualified = record.qualified;
        match (
            place(&self.tiers, record.tier.wrapping_sub(1)),
            &mut outcome.tier,
        ) {
            (None, tier) => *tier = None,
            (Some(name), Some(tier)) => name.clone_into(tier),
            (Some(name), tier @ None) => *tier = Some(name.clone()),
        }
        let names = match record.kept {
            0 => None,
            _ => self.kept_names.get(usize::from(record.kept_names)),
        };
        let Some(names) = names else {
            outcome.metrics.clear();
            return;
        };
        let first = usize::try_from(record.kept - 1).unwrap_or(usize::MAX);
        let values = self
            .kept_values
            .get(first..first.saturating_add(names.len()))
            .unwrap_or_default();
        if outcome.metrics.keys().eq(names.iter()) {
            // The same names as the outcome this buffer held: only the values change.
            for (held, value) in outcome.metrics.values_mut().zip(values) {
                *held = *value;
            }
        } else {
            outcome.metrics = names.iter().cloned().zip(values.iter().copied()).collect();
        }
    }

    /// A member's `records`, their premium loading and the pool as the engine reads them, in
    /// `history` (a thread's own, reused: its outcomes' tier strings are written over, not
    /// made anew).
    fn history_into(&self, records: &[Record], loading: Decimal, history: &mut History) {
        history.outcomes.truncate(records.len());
        for (i, record) in records.iter().enumerate() {
            match history.outcomes.get_mut(i) {
                Some(outcome) => self.write(record, outcome),
                None => {
                    let mut outcome = PriorOutcome {
                        period: Period::Year { year: 0 },
                        reward: Decimal::ZERO,
                        premium_adjustment_percent: Decimal::ZERO,
                        tier: None,
                        points: 0,
                        qualified: false,
                        metrics: BTreeMap::new(),
                    };
                    self.write(record, &mut outcome);
                    history.outcomes.push(outcome);
                }
            }
        }
        history.premium_loading_percent = loading;
        history.pool_paid = None;
        history.group_paid_this_year = None;
    }
}

// What the record's comment promises, and what the footprint's figure counts on.
const _: () = assert!(size_of::<Record>() == 56);

fn place<T>(table: &[T], at: u32) -> Option<&T> {
    table.get(usize::try_from(at).ok()?)
}

/// Every member's past under one plan, by member index.
#[derive(Debug)]
pub(super) struct Past {
    /// Each member's outcomes as records, oldest first.
    records: Vec<Vec<Record>>,
    /// Each member's premium loading now.
    loading: Vec<Decimal>,
    /// Still in the plan (a member who lapses is decided no more).
    active: Vec<bool>,
    tables: Tables,
}

impl Past {
    /// `members` members, each with room for `periods` outcomes and, in one list, for `kept`
    /// metrics an outcome.
    pub(super) fn new(members: usize, periods: usize, kept: usize) -> Self {
        let mut tables = Tables::default();
        // Room for every kept value from the start, so the list never grows by copying itself
        // (a growing list briefly holds its old and new room: three times what it keeps). Where
        // the room cannot be had at once, the list grows as it goes.
        let values = members.saturating_mul(periods).saturating_mul(kept);
        let _ = tables.kept_values.try_reserve_exact(values);
        Self {
            records: (0..members).map(|_| Vec::with_capacity(periods)).collect(),
            loading: vec![Decimal::ZERO; members],
            active: vec![true; members],
            tables,
        }
    }

    pub(super) fn members(&self) -> usize {
        self.records.len()
    }

    pub(super) fn is_active(&self, m: usize) -> bool {
        self.active.get(m).copied().unwrap_or(false)
    }

    pub(super) fn lapse(&mut self, m: usize) {
        if let Some(a) = self.active.get_mut(m) {
            *a = false;
        }
    }

    pub(super) fn lapsed(&self) -> u64 {
        self.active.iter().filter(|a| !**a).count() as u64
    }

    /// Member `m`'s history as the engine reads it, written into `history` (a thread's own,
    /// reused); `false` if there is no member `m`.
    pub(super) fn history_into(&self, m: usize, history: &mut History) -> bool {
        let (Some(records), Some(loading)) = (self.records.get(m), self.loading.get(m)) else {
            return false;
        };
        self.tables.history_into(records, *loading, history);
        true
    }

    /// Adds `outcome` to member `m`'s history and its premium adjustment to their loading.
    pub(super) fn add(&mut self, m: usize, outcome: PriorOutcome) -> Result<(), SimError> {
        let premium = outcome.premium_adjustment_percent;
        let record = self.tables.record(outcome)?;
        let (Some(records), Some(loading)) = (self.records.get_mut(m), self.loading.get_mut(m))
        else {
            return Err(SimError::Config(format!(
                "member index {m} is outside the book's {} members",
                self.records.len()
            )));
        };
        records.push(record);
        *loading += premium;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(
        period: &str,
        tier: Option<&str>,
        kept: &[(&str, i64)],
        points: i64,
    ) -> PriorOutcome {
        PriorOutcome {
            period: Period::parse(period).unwrap(),
            reward: Decimal::new(points * 125, 2),
            premium_adjustment_percent: Decimal::new(-points, 1),
            tier: tier.map(str::to_owned),
            points,
            qualified: points % 2 == 0,
            metrics: kept
                .iter()
                .map(|(k, v)| ((*k).to_owned(), MetricValue::Integer(*v)))
                .collect(),
        }
    }

    #[test]
    fn a_history_read_back_from_records_is_the_history_booked_even_in_a_reused_buffer() {
        let mut tables = Tables::default();
        let long = vec![
            outcome("2026-01", Some("gold"), &[("tir", 70)], 4),
            outcome("2026-02", None, &[], 3),
            outcome("2026-03", Some("silver"), &[("tir", 55), ("cv", 30)], 2),
            outcome("2026-04", Some("gold"), &[], 1),
        ];
        let short = vec![
            outcome("2026-02", None, &[("tir", 1)], 8),
            outcome(
                "2026-01",
                Some("a tier with a name longer than the one it replaces"),
                &[],
                6,
            ),
        ];
        let records = |tables: &mut Tables, outcomes: &[PriorOutcome]| -> Vec<Record> {
            outcomes
                .iter()
                .map(|o| tables.record(o.clone()).unwrap())
                .collect()
        };
        let (long_records, short_records) =
            (records(&mut tables, &long), records(&mut tables, &short));
        assert_eq!(
            tables.tiers.len(),
            3,
            "each tier's name is kept once: {:?}",
            tables.tiers
        );
        assert_eq!(tables.periods.len(), 4);
        assert_eq!(tables.kept_names, [vec!["tir"], vec!["cv", "tir"]]);
        assert_eq!(tables.kept_values.len(), 4);
        let mut scratch = History::default();
        for (records, outcomes, loading) in [
            (&long_records, &long, Decimal::new(15, 1)),
            (&short_records, &short, Decimal::ZERO),
            (&long_records, &long, Decimal::new(-3, 0)),
            (&Vec::new(), &Vec::new(), Decimal::ONE),
        ] {
            scratch.pool_paid = Some(Decimal::TEN);
            tables.history_into(records, loading, &mut scratch);
            let expected = History {
                outcomes: outcomes.clone(),
                premium_loading_percent: loading,
                pool_paid: None,
                group_paid_this_year: None,
            };
            assert_eq!(scratch, expected);
        }
    }
}
