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
use incentive_engine::policy::{
    Decision, EvaluationInput, History, MemberProfile, Policy, PriorOutcome, Unrecorded,
};
use incentive_engine::{LabResult, Period, Readings};
use rayon::prelude::*;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};

mod past;
use past::Past;

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

/// A plan's books over `members` members.
#[derive(Debug)]
pub struct Book<'p> {
    policy: &'p Policy,
    /// What a member's decision reads of their past: read on every core while members are
    /// decided.
    past: Past,
    /// What booking counts, in member order.
    tally: Tally,
}

/// What members' decisions add up to, counted in member order.
#[derive(Debug)]
struct Tally {
    /// The history a decision made one member at a time hands the engine, reused.
    scratch: History,
    /// Each member's total paid, by member index.
    paid: Vec<Decimal>,
    /// What the plan has paid every member so far: the pool's spend.
    pool_paid: Decimal,
    /// What each group (`[caps] group`: a family) was paid in each calendar year, as the
    /// store counts it; a member without the attribute is a group of one.
    group_paid: HashMap<(String, i32), Decimal>,
    totals: PlanTotals,
}

/// A member's decision made on every core before it is booked.
enum Speculated {
    /// Not in the plan any more: nothing to decide.
    Inactive,
    Decided(Booked),
    /// Decided again, one member at a time, when booked.
    Failed,
}

impl<'p> Book<'p> {
    /// A book of `members` members over about `periods` periods: each member's history has room
    /// for that many outcomes from the start (more grow it).
    pub fn new(policy: &'p Policy, members: usize, periods: usize) -> Self {
        Self {
            policy,
            past: Past::new(members, periods, policy.manifest.history.keep.len()),
            tally: Tally {
                scratch: History::default(),
                paid: vec![Decimal::ZERO; members],
                pool_paid: Decimal::ZERO,
                group_paid: HashMap::new(),
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
            },
        }
    }

    pub fn policy(&self) -> &'p Policy {
        self.policy
    }

    /// What member `m` has been paid so far.
    pub fn paid(&self, m: usize) -> Decimal {
        self.tally.paid.get(m).copied().unwrap_or_default()
    }

    /// Whether member `m` is still in the plan.
    pub fn is_active(&self, m: usize) -> bool {
        self.past.is_active(m)
    }

    /// Member `m` leaves the plan: from now on they are decided no more.
    pub fn lapse(&mut self, m: usize) {
        self.past.lapse(m);
    }

    /// Opens the next period's column of the totals; call before its first decision.
    pub fn start_period(&mut self) {
        self.tally.totals.reward_by_period.push(Decimal::ZERO);
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
        let input = MemberInput {
            profile: member,
            readings,
            labs,
        };
        let group = group_key(self.policy, m, member, period);
        let decision =
            self.tally
                .decide(self.policy, &self.past, m, &input, period, group.as_ref())?;
        let outcome = self.tally.count(m, group, Booked::of(period, &decision))?;
        self.past.add(m, outcome)?;
        Ok(decision)
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
    ///
    /// Every decision of the call reads the histories as they stood before it (each member is
    /// decided once a period), so the call's outcomes join the histories at its end.
    pub fn decide_many_until(
        &mut self,
        first: usize,
        period: Period,
        members: &[MemberInput<'_>],
        stop: &AtomicBool,
    ) -> Result<(), SimError> {
        let (count, end) = (self.past.members(), first.saturating_add(members.len()));
        if end > count {
            return Err(SimError::Config(format!(
                "members {first}–{end} are outside the book's {count}"
            )));
        }
        let policy = self.policy;
        let decided = speculate(policy, &self.past, first, period, members, stop);
        let mut outcomes: Vec<(usize, PriorOutcome)> = Vec::with_capacity(members.len());
        let booked = self.tally.book_all(
            policy,
            &self.past,
            first,
            period,
            members,
            decided,
            stop,
            &mut outcomes,
        );
        for (m, outcome) in outcomes {
            self.past.add(m, outcome)?;
        }
        booked
    }

    /// Closes period `k` (0-based): notes it if the pool has run out by its end.
    pub fn end_period(&mut self, k: usize) {
        let t = &mut self.tally;
        if let Some(budget) = self.policy.manifest.caps.pool_budget
            && t.totals.pool_exhausted_in.is_none()
            && t.pool_paid >= budget
        {
            t.totals.pool_exhausted_in = Some(u32::try_from(k).unwrap_or(u32::MAX));
        }
    }

    /// The plan's totals, and what each member was paid in all (by member index);
    /// `measuring` counts the members who measured at least once.
    pub fn finish(self, measuring: u64) -> (PlanTotals, Vec<Decimal>) {
        let Tally {
            paid,
            totals: mut t,
            ..
        } = self.tally;
        t.members_earning = paid.iter().filter(|p| **p > Decimal::ZERO).count() as u64;
        t.members_lapsed = self.past.lapsed();
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
        (t, paid.iter().map(|p| p.normalize()).collect())
    }
}

/// Decides `members` (the first of them member `first`) on every core with no pool or family
/// cap, as they would be decided if neither binds.
fn speculate(
    policy: &Policy,
    past: &Past,
    first: usize,
    period: Period,
    members: &[MemberInput<'_>],
    stop: &AtomicBool,
) -> Vec<Result<Speculated, SimError>> {
    // Collected in place (an indexed collect), not through rayon's list of pieces that one
    // thread then copies together.
    let mut decided = Vec::with_capacity(members.len());
    members
        .par_iter()
        .enumerate()
        .map_init(History::default, |history, (i, input)| {
            if stop.load(Ordering::Relaxed) {
                return Err(SimError::Stopped);
            }
            let m = first + i;
            if !past.is_active(m) {
                return Ok(Speculated::Inactive);
            }
            if !past.history_into(m, history) {
                return Err(outside(m, past.members()));
            }
            let decision = policy.evaluate_unrecorded(&EvaluationInput {
                member: input.profile,
                period,
                readings: input.readings,
                labs: input.labs,
                history,
            });
            Ok(match decision {
                Ok(d) => Speculated::Decided(Booked::of(period, &d)),
                Err(_) => Speculated::Failed,
            })
        })
        .collect_into_vec(&mut decided);
    decided
}

impl Tally {
    /// Decides member `m` one at a time, the pool and their family's cap as they stand.
    fn decide(
        &mut self,
        policy: &Policy,
        past: &Past,
        m: usize,
        input: &MemberInput<'_>,
        period: Period,
        group: Option<&(String, i32)>,
    ) -> Result<Unrecorded, SimError> {
        let history = &mut self.scratch;
        if !past.history_into(m, history) {
            return Err(outside(m, past.members()));
        }
        history.pool_paid = policy.manifest.caps.pool_budget.map(|_| self.pool_paid);
        history.group_paid_this_year =
            group.map(|k| self.group_paid.get(k).copied().unwrap_or_default());
        policy
            .evaluate_unrecorded(&EvaluationInput {
                member: input.profile,
                period,
                readings: input.readings,
                labs: input.labs,
                history,
            })
            .map_err(|e| SimError::Evaluation {
                policy: policy.manifest.id.clone(),
                period: period.to_string(),
                message: e.to_string(),
            })
    }

    /// Books `members` (the first of them member `first`) in member order from their decisions
    /// made on every core: one whose reward fits in what the pool and the family have left is
    /// what the sequential decision would have been; any other is decided again. Each
    /// member's outcome is added to `outcomes`, for their history.
    #[expect(
        clippy::too_many_arguments,
        reason = "a slice's booking: the plan, what it read, which members, their decisions, where to put the outcomes"
    )]
    fn book_all(
        &mut self,
        policy: &Policy,
        past: &Past,
        first: usize,
        period: Period,
        members: &[MemberInput<'_>],
        decided: Vec<Result<Speculated, SimError>>,
        stop: &AtomicBool,
        outcomes: &mut Vec<(usize, PriorOutcome)>,
    ) -> Result<(), SimError> {
        let budget = policy.manifest.caps.pool_budget;
        for (i, (decided, input)) in decided.into_iter().zip(members).enumerate() {
            let m = first + i;
            let booked = match decided? {
                Speculated::Inactive => continue,
                Speculated::Decided(booked) => Some(booked),
                Speculated::Failed => None,
            };
            let left = budget.map(|b| (b - self.pool_paid).max(Decimal::ZERO));
            // A family's cap, like the pool, links its members: a reward within what the
            // family has left is what the sequential decision would have been.
            let group = group_key(policy, m, input.profile, period);
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
            let booked = match booked {
                Some(booked)
                    if left.is_none_or(|l| booked.outcome.reward <= l)
                        && group_left.is_none_or(|l| booked.outcome.reward <= l) =>
                {
                    booked
                }
                // The pool may cut it (or it failed): decide it as the sequential run would.
                _ => {
                    if stop.load(Ordering::Relaxed) {
                        return Err(SimError::Stopped);
                    }
                    let decision = self.decide(policy, past, m, input, period, group.as_ref())?;
                    Booked::of(period, &decision)
                }
            };
            outcomes.push((m, self.count(m, group, booked)?));
        }
        Ok(())
    }

    /// Counts member `m`'s outcome: what they, their family and the pool have paid, the plan's
    /// totals. Gives back the outcome, for their history.
    fn count(
        &mut self,
        m: usize,
        group: Option<(String, i32)>,
        booked: Booked,
    ) -> Result<PriorOutcome, SimError> {
        let Booked { outcome, flags } = booked;
        let (reward, premium) = (outcome.reward, outcome.premium_adjustment_percent);
        let members = self.paid.len();
        let paid = self.paid.get_mut(m).ok_or_else(|| outside(m, members))?;
        *paid += reward;
        self.pool_paid += reward;
        if let Some(k) = group {
            *self.group_paid.entry(k).or_default() += reward;
        }
        let t = &mut self.totals;
        t.reward += reward;
        t.premium_points += premium;
        t.premium_loading_points += premium.max(Decimal::ZERO);
        let tier_name = outcome.tier.as_deref().unwrap_or("none");
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
            if outcome.qualified {
                t.unpaid_qualified += 1;
            } else {
                t.unpaid_not_qualified += 1;
            }
        }
        Ok(outcome)
    }
}

/// The group whose yearly cap member `m`'s `period` counts against, where the plan has one.
fn group_key(
    policy: &Policy,
    m: usize,
    member: &MemberProfile,
    period: Period,
) -> Option<(String, i32)> {
    let g = policy.manifest.caps.group.as_ref()?;
    let year = period.first_day().map_or(0, |d| d.year());
    let group = match member.attributes.get(&g.attribute) {
        Some(AttributeValue::Text(v)) => format!("={v}"),
        _ => format!("#{m}"),
    };
    Some((group, year))
}

fn outside(m: usize, members: usize) -> SimError {
    SimError::Config(format!(
        "member index {m} is outside the book's {members} members"
    ))
}

fn normalize_tier(tier: &mut TierTotals) {
    tier.reward = tier.reward.normalize();
    tier.premium_points = tier.premium_points.normalize();
}
