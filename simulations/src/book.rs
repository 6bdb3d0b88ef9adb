//! One plan run over a population period by period, the way the store pays it: each member's
//! history (streaks, tiers, points, premium loading, what the year has paid) carried forward,
//! the pool's spend shared by every member, and the plan's totals. The simulation keeps one
//! book per plan and replication; the backtest keeps one over a database's real history — so
//! both decide through the engine's one evaluation path in exactly the same way
//! (`Policy::evaluate_unrecorded`: `evaluate` without the hash of a decision nobody records).

use crate::SimError;
use crate::totals::{PlanTotals, TierTotals};
use chrono::Datelike;
use incentive_engine::policy::attributes::AttributeValue;
use incentive_engine::policy::record_view::MetricValue;
use incentive_engine::policy::{
    Decision, EvaluationInput, History, MemberProfile, Policy, PriorOutcome, Unrecorded,
};
use incentive_engine::{LabResult, Period, Readings};
use rayon::prelude::*;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};

/// One member's inputs for a period, for [`Book::decide_many`].
#[derive(Clone, Copy, Debug)]
pub struct MemberInput<'a> {
    pub profile: &'a MemberProfile,
    pub readings: &'a Readings,
    pub labs: &'a [LabResult],
}

/// What booking a decision needs of it: the member's outcome, as their history keeps it, and
/// the decision's flags. Made on the thread that decided, so a decision's explanation is let
/// go there too, not one after the other where members are booked in order.
struct Booked {
    outcome: PriorOutcome,
    flags: Vec<String>,
}

impl Booked {
    fn of(period: Period, decision: &Decision) -> Self {
        Self {
            outcome: PriorOutcome {
                period,
                reward: decision.reward,
                premium_adjustment_percent: decision.premium_adjustment_percent,
                metrics: decision.kept.to_map(),
                tier: decision.tier.clone(),
                points: decision.points,
                qualified: decision.qualified,
            },
            flags: decision.flags.clone(),
        }
    }
}

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
struct Tables {
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

/// A plan's books over `members` members.
#[derive(Debug)]
pub struct Book<'p> {
    policy: &'p Policy,
    /// Each member's history, by member index: their outcomes as records, oldest first.
    records: Vec<Vec<Record>>,
    /// Each member's premium loading now, by member index.
    loading: Vec<Decimal>,
    tables: Tables,
    /// The history `decide` hands the engine, reused from one member to the next.
    scratch: History,
    /// Each member's total paid, by member index.
    paid: Vec<Decimal>,
    /// What the plan has paid every member so far: the pool's spend.
    pool_paid: Decimal,
    /// What each group (`[caps] group`: a family) was paid in each calendar year, as the
    /// store counts it; a member without the attribute is a group of one.
    group_paid: HashMap<(String, i32), Decimal>,
    /// By member index: still in the plan (a member who lapses is decided no more).
    active: Vec<bool>,
    totals: PlanTotals,
}

impl<'p> Book<'p> {
    /// A book of `members` members over about `periods` periods: each member's history has room
    /// for that many outcomes from the start (more grow it).
    pub fn new(policy: &'p Policy, members: usize, periods: usize) -> Self {
        let mut tables = Tables::default();
        // Room for every kept value from the start, so the list never grows by copying itself
        // (a growing list briefly holds its old and new room: three times what it keeps). Where
        // the room cannot be had at once, the list grows as it goes.
        let kept = members
            .saturating_mul(periods)
            .saturating_mul(policy.manifest.history.keep.len());
        let _ = tables.kept_values.try_reserve_exact(kept);
        Self {
            policy,
            records: (0..members).map(|_| Vec::with_capacity(periods)).collect(),
            loading: vec![Decimal::ZERO; members],
            tables,
            scratch: History::default(),
            paid: vec![Decimal::ZERO; members],
            pool_paid: Decimal::ZERO,
            group_paid: HashMap::new(),
            active: vec![true; members],
            totals: PlanTotals {
                reward: Decimal::ZERO,
                premium_points: Decimal::ZERO,
                premium_loading_points: Decimal::ZERO,
                members_earning: 0,
                members_measuring: 0,
                reward_by_period: Vec::new(),
                pool_exhausted_in: None,
                by_tier: BTreeMap::new(),
                by_cohort: BTreeMap::new(),
                outcomes: Vec::new(),
                by_amount: BTreeMap::new(),
                members_enrolled: members as u64,
                members_lapsed: 0,
                flags: BTreeMap::new(),
                unpaid_not_qualified: 0,
                unpaid_qualified: 0,
            },
        }
    }

    pub fn policy(&self) -> &'p Policy {
        self.policy
    }

    /// What member `m` has been paid so far.
    pub fn paid(&self, m: usize) -> Decimal {
        self.paid.get(m).copied().unwrap_or_default()
    }

    /// Whether member `m` is still in the plan.
    pub fn is_active(&self, m: usize) -> bool {
        self.active.get(m).copied().unwrap_or(false)
    }

    /// Member `m` leaves the plan: from now on they are decided no more.
    pub fn lapse(&mut self, m: usize) {
        if let Some(a) = self.active.get_mut(m) {
            *a = false;
        }
    }

    /// Opens the next period's column of the totals; call before its first decision.
    pub fn start_period(&mut self) {
        self.totals.reward_by_period.push(Decimal::ZERO);
    }

    /// Decides member `m`'s `period` on its readings and labs and books the outcome.
    pub fn decide(
        &mut self,
        m: usize,
        member: &MemberProfile,
        period: Period,
        readings: &Readings,
        labs: &[LabResult],
    ) -> Result<Unrecorded, SimError> {
        let group = self.group_key(m, member, period);
        let (Some(records), Some(loading)) = (self.records.get(m), self.loading.get(m)) else {
            return Err(self.outside(m));
        };
        let history = &mut self.scratch;
        self.tables.history_into(records, *loading, history);
        history.pool_paid = self
            .policy
            .manifest
            .caps
            .pool_budget
            .map(|_| self.pool_paid);
        history.group_paid_this_year = group
            .as_ref()
            .map(|k| self.group_paid.get(k).copied().unwrap_or_default());
        let decision = self
            .policy
            .evaluate_unrecorded(&EvaluationInput {
                member,
                period,
                readings,
                labs,
                history,
            })
            .map_err(|e| self.evaluation_error(period, &e))?;
        self.book(m, Booked::of(period, &decision))?;
        if let Some(k) = group {
            *self.group_paid.entry(k).or_default() += decision.reward;
        }
        Ok(decision)
    }

    /// The group whose yearly cap member `m`'s `period` counts against, where the plan has one.
    fn group_key(&self, m: usize, member: &MemberProfile, period: Period) -> Option<(String, i32)> {
        let g = self.policy.manifest.caps.group.as_ref()?;
        let year = period.first_day().map_or(0, |d| d.year());
        let group = match member.attributes.get(&g.attribute) {
            Some(AttributeValue::Text(v)) => format!("={v}"),
            _ => format!("#{m}"),
        };
        Some((group, year))
    }

    fn outside(&self, m: usize) -> SimError {
        SimError::Config(format!(
            "member index {m} is outside the book's {} members",
            self.paid.len()
        ))
    }

    fn evaluation_error(&self, period: Period, e: &dyn std::fmt::Display) -> SimError {
        SimError::Evaluation {
            policy: self.policy.manifest.id.clone(),
            period: period.to_string(),
            message: e.to_string(),
        }
    }

    /// Decides, for the open period, the members `first`, `first + 1`, … in order, as
    /// [`Book::decide`] would one after the other — on every core.
    ///
    /// Only the pool and a family's cap link members: each member's own history is theirs
    /// alone, and a script cannot see what the pool or the family has paid (the engine
    /// applies those caps after it). So every
    /// member is first decided in parallel with no pool cap; then, in member order, a decision
    /// whose reward fits in what is left of the pool is exactly what the sequential decision
    /// would have been (the cap does not bind), and any other is decided again with the pool
    /// as it stands. The totals are the sequential run's, byte for byte.
    pub fn decide_many(
        &mut self,
        first: usize,
        period: Period,
        members: &[MemberInput<'_>],
    ) -> Result<(), SimError> {
        self.decide_many_until(first, period, members, &AtomicBool::new(false))
    }

    /// [`Book::decide_many`], stopping with [`SimError::Stopped`] once `stop` is set: it is
    /// read before each member's decision, so a slow policy over a large chunk still lets go
    /// within one decision. When it is not set, the books are [`Book::decide_many`]'s.
    pub fn decide_many_until(
        &mut self,
        first: usize,
        period: Period,
        members: &[MemberInput<'_>],
        stop: &AtomicBool,
    ) -> Result<(), SimError> {
        let stopped = || stop.load(Ordering::Relaxed);
        let policy = self.policy;
        let count = self.paid.len();
        let range = first..first + members.len();
        let (Some(records), Some(loading), Some(active)) = (
            self.records.get(range.clone()),
            self.loading.get(range.clone()),
            self.active.get(range),
        ) else {
            return Err(SimError::Config(format!(
                "members {first}–{} are outside the book's {count}",
                first + members.len()
            )));
        };
        let tables = &self.tables;
        // Collected in place (an indexed collect), not through rayon's list of pieces that one
        // thread then copies together.
        let mut speculative: Vec<Result<_, SimError>> = Vec::with_capacity(members.len());
        records
            .par_iter()
            .zip(loading.par_iter())
            .zip(members.par_iter())
            .zip(active.par_iter())
            .map_init(
                History::default,
                |history, (((records, loading), input), active)| {
                    if stopped() {
                        return Err(SimError::Stopped);
                    }
                    if !active {
                        return Ok(None);
                    }
                    tables.history_into(records, *loading, history);
                    let decision = policy.evaluate_unrecorded(&EvaluationInput {
                        member: input.profile,
                        period,
                        readings: input.readings,
                        labs: input.labs,
                        history,
                    });
                    Ok(Some(decision.map(|d| Booked::of(period, &d))))
                },
            )
            .collect_into_vec(&mut speculative);
        let budget = policy.manifest.caps.pool_budget;
        for (i, (spec, input)) in speculative.into_iter().zip(members).enumerate() {
            let spec = spec?;
            let m = first + i;
            let left = budget.map(|b| (b - self.pool_paid).max(Decimal::ZERO));
            let Some(spec) = spec else {
                continue;
            };
            // A family's cap, like the pool, links its members: a reward within what the
            // family has left is what the sequential decision would have been.
            let group = self.group_key(m, input.profile, period);
            let group_left =
                policy
                    .manifest
                    .caps
                    .group
                    .as_ref()
                    .zip(group.as_ref())
                    .map(|(g, k)| {
                        (g.per_year.amount - self.group_paid.get(k).copied().unwrap_or_default())
                            .max(Decimal::ZERO)
                    });
            match spec {
                Ok(booked)
                    if left.is_none_or(|l| booked.outcome.reward <= l)
                        && group_left.is_none_or(|l| booked.outcome.reward <= l) =>
                {
                    let reward = booked.outcome.reward;
                    self.book(m, booked)?;
                    if let Some(k) = group {
                        *self.group_paid.entry(k).or_default() += reward;
                    }
                }
                // The pool may cut it (or it failed): decide it as the sequential run would.
                _ => {
                    if stopped() {
                        return Err(SimError::Stopped);
                    }
                    self.decide(m, input.profile, period, input.readings, input.labs)?;
                }
            }
        }
        Ok(())
    }

    /// Books member `m`'s outcome: their history, what they and the pool have paid, the
    /// plan's totals.
    fn book(&mut self, m: usize, booked: Booked) -> Result<(), SimError> {
        let Booked { outcome, flags } = booked;
        let (reward, premium) = (outcome.reward, outcome.premium_adjustment_percent);
        let qualified = outcome.qualified;
        let record = self.tables.record(outcome)?;
        let (Some(records), Some(loading), Some(paid)) = (
            self.records.get_mut(m),
            self.loading.get_mut(m),
            self.paid.get_mut(m),
        ) else {
            return Err(self.outside(m));
        };
        records.push(record);
        *loading += premium;
        *paid += reward;
        self.pool_paid += reward;
        let t = &mut self.totals;
        t.reward += reward;
        t.premium_points += premium;
        t.premium_loading_points += premium.max(Decimal::ZERO);
        let tier_name =
            place(&self.tables.tiers, record.tier.wrapping_sub(1)).map_or("none", String::as_str);
        // Looked up before it is inserted: a tier's name is copied once a run, not once a
        // member-period.
        let tier = match t.by_tier.get_mut(tier_name) {
            Some(tier) => tier,
            None => t.by_tier.entry(tier_name.to_owned()).or_default(),
        };
        tier.member_periods += 1;
        tier.reward += reward;
        tier.premium_points += premium;
        if let Some(last) = t.reward_by_period.last_mut() {
            *last += reward;
        }
        for flag in flags {
            *t.flags.entry(flag).or_default() += 1;
        }
        if reward > Decimal::ZERO {
            *t.by_amount.entry(reward.normalize()).or_default() += 1;
        }
        if reward.is_zero() {
            if qualified {
                t.unpaid_qualified += 1;
            } else {
                t.unpaid_not_qualified += 1;
            }
        }
        Ok(())
    }

    /// Closes period `k` (0-based): notes it if the pool has run out by its end.
    pub fn end_period(&mut self, k: usize) {
        if let Some(budget) = self.policy.manifest.caps.pool_budget
            && self.totals.pool_exhausted_in.is_none()
            && self.pool_paid >= budget
        {
            self.totals.pool_exhausted_in = Some(u32::try_from(k).unwrap_or(u32::MAX));
        }
    }

    /// The plan's totals, and what each member was paid in all (by member index);
    /// `measuring` counts the members who measured at least once.
    pub fn finish(self, measuring: u64) -> (PlanTotals, Vec<Decimal>) {
        let mut t = self.totals;
        t.members_earning = self.paid.iter().filter(|p| **p > Decimal::ZERO).count() as u64;
        t.members_lapsed = self.active.iter().filter(|a| !**a).count() as u64;
        t.members_measuring = measuring;
        t.reward = t.reward.normalize();
        t.premium_points = t.premium_points.normalize();
        t.premium_loading_points = t.premium_loading_points.normalize();
        for v in &mut t.reward_by_period {
            *v = v.normalize();
        }
        for tier in t.by_tier.values_mut() {
            normalize_tier(tier);
        }
        (t, self.paid.iter().map(|p| p.normalize()).collect())
    }
}

fn normalize_tier(tier: &mut TierTotals) {
    tier.reward = tier.reward.normalize();
    tier.premium_points = tier.premium_points.normalize();
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
