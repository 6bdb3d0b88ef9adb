//! The Monte Carlo run: each replication draws a population and runs every plan over it
//! period by period, through the engine's own `Policy::evaluate` — the function the API pays
//! with — carrying each member's history (streaks, tiers, points, yearly caps) and each plan's
//! pool forward. Plans see the same members and the same readings (common random numbers).
//! Replications run in parallel; their results are kept in replication order, so the output
//! does not depend on how many threads made it.

use crate::SimError;
use crate::book::{Book, MemberInput};
use crate::breakdown::cohort_keys;
pub use crate::config::{Config, MEMBERS_MAX, PERIODS_MAX, REPLICATIONS_MAX, Shard};
use crate::footprint;
use crate::members::MemberTotals;
use crate::outcomes::{PeriodOutcomes, judge};
use crate::population::{Population, ResponseModel};
use crate::response::{Behaviour, Paid, Stake};
use crate::synth::{Draw, Member, PeriodData, measured, member, months, period_data};
pub use crate::totals::{CohortTotals, PlanTotals, Replication, Results, TierTotals};
use incentive_engine::policy::Policy;
use incentive_engine::{LabResult, Period};
use rayon::prelude::*;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

/// `policy` renewed as it is at its end date for as long as a run asks: the explicit assumption
/// (`--renewal unchanged`) under which a plan is priced past its effective dates. Its terms,
/// tables and caps carry on, its yearly caps start again each year as the engine's always do,
/// and its content hash is the version's own (the renewal is the run's assumption, recorded in
/// its results, not a new version).
pub fn renewed_unchanged(policy: &Policy) -> Policy {
    let mut renewed = policy.clone();
    renewed.manifest.effective_to = None;
    renewed
}

/// Refuses, before any work, a run whose periods reach past a plan's effective dates: every
/// member-period outside them would fail to decide, and the run would stop there after pricing
/// the periods before (`--periods 24` of a plan for 2026 used to fail at 2027-01 after the
/// whole first year). A renewal is priced by running the renewed version's own dates.
pub fn check_horizon(plans: &[&Policy], config: &Config) -> Result<(), SimError> {
    let periods = config.periods();
    let (Some(first), Some(last)) = (periods.first(), periods.last()) else {
        return Ok(());
    };
    for plan in plans {
        let m = &plan.manifest;
        if m.period != first.kind() {
            return Err(SimError::Config(format!(
                "policy `{}` decides {} periods, but the run's periods are {} (from {first}); plans compared in one run must decide periods of one kind",
                m.id,
                m.period.as_str(),
                first.kind().as_str()
            )));
        }
        let covered = periods
            .iter()
            .take_while(|p| plan.check_period(**p).is_ok())
            .count();
        if let Some(outside) = periods.get(covered) {
            let to = m
                .effective_to
                .map_or_else(|| "open-ended".to_owned(), |d| d.to_string());
            let ask = if covered == 0 {
                format!(
                    "start the run (--first-period) within {} to {to}",
                    m.effective_from
                )
            } else {
                format!("ask for at most {covered} period(s) from {first}")
            };
            return Err(SimError::Config(format!(
                "policy `{}` version {} is in effect {} to {to}, but the run's {} periods from {first} to {last} reach {outside}, outside it; {ask}, simulate a renewal with a version whose dates cover the periods, or price the plan renewed as it is (--renewal unchanged)",
                m.id,
                m.version,
                m.effective_from,
                periods.len()
            )));
        }
    }
    Ok(())
}

/// Members a plan's stake is measured over at most: the first of the run's own members.
pub const STAKE_PILOT_MEMBERS_MAX: u64 = 1_000;

/// How the arms of a run behave: the no-plan arm's first, then each different behaviour of a
/// plan; plans that behave alike share an arm, so their members' readings are drawn once.
#[derive(Clone, Debug)]
struct Arms {
    behaviours: Vec<Behaviour>,
    /// By plan: its arm.
    of_plan: Vec<usize>,
}

impl Arms {
    fn new(plans: &[Behaviour]) -> Self {
        let mut behaviours = vec![Behaviour::NONE];
        let of_plan = plans
            .iter()
            .map(|b| {
                behaviours.iter().position(|x| x == b).unwrap_or_else(|| {
                    behaviours.push(*b);
                    behaviours.len() - 1
                })
            })
            .collect();
        Self {
            behaviours,
            of_plan,
        }
    }

    /// An arm for each plan, shared with none: when members leave a plan (`[lapse]`), who is
    /// still in it is the plan's own, so its arm is too.
    fn apart(plans: &[Behaviour]) -> Self {
        Self {
            behaviours: std::iter::once(Behaviour::NONE)
                .chain(plans.iter().copied())
                .collect(),
            of_plan: (1..=plans.len()).collect(),
        }
    }
}

/// Runs the replications of `config.shard`, calling `progress` with each member-period done.
pub fn run(
    model: &Population,
    plans: &[&Policy],
    config: &Config,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Results, SimError> {
    run_until(model, plans, config, progress, &AtomicBool::new(false))
}

/// [`run`], stopping with [`SimError::Stopped`] soon after `stop` is set: how a server lets go
/// of a run it cancels, that has run past its time, or that it will not finish because it is
/// shutting down. The flag is read before each member is drawn and before each decision, so a
/// stop takes effect within one decision (a quarter of a second at most, the sandbox's budget)
/// on each thread, whatever the size of the run; read or not, it changes no result.
pub fn run_until(
    model: &Population,
    plans: &[&Policy],
    config: &Config,
    progress: &(dyn Fn(u64) + Sync),
    stop: &AtomicBool,
) -> Result<Results, SimError> {
    let kind = config.first_period.kind();
    run_chunked(
        model,
        plans,
        config,
        &Watch { progress, stop },
        footprint::members_per_chunk(model, kind),
    )
}

/// [`run_until`] with `members_per_chunk` members drawn and decided together: how many changes
/// the memory a run takes and never its results (a test holds a chunk of 7 to the default's
/// bytes).
fn run_chunked(
    model: &Population,
    plans: &[&Policy],
    config: &Config,
    watch: &Watch<'_>,
    members_per_chunk: usize,
) -> Result<Results, SimError> {
    config.check()?;
    check_horizon(plans, config)?;
    model.check_for(config.first_period.kind(), "the population model")?;
    let periods = config.periods();
    let enrolled = config
        .first_period
        .first_day()
        .ok_or_else(|| SimError::Config("the first period has no first day".into()))?;
    let stakes = stakes(model, plans, config, watch)?;
    let arms = arms_of(model, &stakes);
    let mine: Vec<u64> = (0..config.replications)
        .filter(|r| config.shard.owns(*r))
        .collect();
    let n = usize::try_from(config.members).unwrap_or(0);
    // Each replication's per-member totals are added here as it finishes and then let go, so
    // memory does not grow with the replications.
    let members = Mutex::new(
        plans
            .iter()
            .map(|_| MemberTotals::new(n))
            .collect::<Vec<_>>(),
    );
    // As many replications at a time as there are threads, so no more than that many hold
    // their members and readings at once: a thread waiting inside one replication's parallel
    // work may otherwise start another (rayon steals while it waits), and the memory of a run
    // would not be known before it starts (`footprint`). Results are kept in replication
    // order either way.
    let at_once = rayon::current_num_threads().max(1);
    let mut replications = Vec::with_capacity(mine.len());
    for batch in mine.chunks(at_once) {
        let done = batch
            .par_iter()
            .map(|&r| {
                // Drawn assumptions change how members answer to a plan: the arms are this
                // replication's own, from each plan's stake under its assumptions.
                let draws = model.draws(config.seed, r);
                let (model, arms) = if draws.is_empty() {
                    (
                        std::borrow::Cow::Borrowed(model),
                        std::borrow::Cow::Borrowed(&arms),
                    )
                } else {
                    let drawn = model.with_all(&draws)?;
                    let arms = arms_of(&drawn, &stakes);
                    (
                        std::borrow::Cow::Owned(drawn),
                        std::borrow::Cow::Owned(arms),
                    )
                };
                let (mut replication, totals) = replicate(
                    &model,
                    plans,
                    &arms,
                    config,
                    &periods,
                    enrolled,
                    r,
                    watch,
                    members_per_chunk,
                )?;
                replication.assumptions = draws;
                let mut all = members.lock().unwrap_or_else(PoisonError::into_inner);
                for (m, t) in all.iter_mut().zip(&totals) {
                    m.add(t);
                }
                Ok(replication)
            })
            .collect::<Result<Vec<_>, SimError>>()?;
        replications.extend(done);
    }
    Ok(Results {
        replications,
        members: members.into_inner().unwrap_or_else(PoisonError::into_inner),
        stakes,
        sensitivity: None,
    })
}

/// The arms of a run under `model`: each plan's behaviour at its stake, or the `fixed` model's.
fn arms_of(model: &Population, stakes: &[Option<Stake>]) -> Arms {
    let behaviours: Vec<Behaviour> = stakes
        .iter()
        .map(|s| match s {
            Some(s) => Stake::of(model, s.paid()).behaviour(model),
            None => Behaviour::under_plan(model, 1.0),
        })
        .collect();
    if lapsing(model) {
        Arms::apart(&behaviours)
    } else {
        Arms::new(&behaviours)
    }
}

/// Whether some members are not in the plans in a run under `model`: some never enrol, or
/// some leave.
fn lapsing(model: &Population) -> bool {
    model.lapse.yearly_share > 0.0 || model.enrolment.share < 1.0
}

/// Who enrols, before the first period: each member with the chance `enrolment.share`, tilted
/// towards members with a lower HbA1c at the start so that enrolees' mean is about
/// `selection_hba1c_points` below the population's (an exponential tilt of the standardised
/// HbA1c: for a normal population it moves the mean by exactly that; the chance is capped at 1).
/// One draw a member, the same for every plan.
pub fn enrolled(model: &Population, members: &[Member], seed: u64, r: u64) -> Vec<bool> {
    let e = &model.enrolment;
    if e.share >= 1.0 {
        return vec![true; members.len()];
    }
    let h: Vec<f64> = members
        .iter()
        .map(|w| w.baseline_hba1c_percent(model))
        .collect();
    let n = h.len().max(1) as f64;
    let mean = h.iter().sum::<f64>() / n;
    let sd = (h.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    let theta = if sd > 0.0 {
        e.selection_hba1c_points / sd
    } else {
        0.0
    };
    h.iter()
        .enumerate()
        .map(|(m, x)| {
            let z = if sd > 0.0 { (x - mean) / sd } else { 0.0 };
            let chance = (e.share * (-theta * z - theta * theta / 2.0).exp()).min(1.0);
            let u: f64 = rand::Rng::random(&mut crate::stream::stream(
                seed,
                m as u64,
                r,
                0,
                crate::stream::Purpose::Enrolment,
            ));
            u < chance
        })
        .collect()
}

/// Takes the members who do not enrol out of every plan; returns how many they are.
fn enrol(model: &Population, books: &mut [Book<'_>], members: &[Member], seed: u64, r: u64) -> u64 {
    let mut declined = 0;
    for (m, _) in enrolled(model, members, seed, r)
        .iter()
        .enumerate()
        .filter(|(_, e)| !**e)
    {
        declined += 1;
        for book in books.iter_mut() {
            book.lapse(m);
        }
    }
    declined
}

/// At the start of period `k` (after the first), each member still in a plan leaves it with
/// the model's chance — greater if the plan paid them nothing the period before. One draw a
/// member and period, the same for every plan (common random numbers).
fn lapse_members(
    model: &Population,
    books: &mut [Book<'_>],
    paid_before: &mut [Vec<Decimal>],
    seed: u64,
    r: u64,
    k: u64,
    months_in: u32,
) {
    if !lapsing(model) || k == 0 {
        return;
    }
    for (book, before) in books.iter_mut().zip(paid_before.iter_mut()) {
        for (m, last) in before.iter_mut().enumerate() {
            let paid = book.paid(m);
            let was_paid = paid > *last;
            *last = paid;
            if !book.is_active(m) {
                continue;
            }
            let u: f64 = rand::Rng::random(&mut crate::stream::stream(
                seed,
                m as u64,
                r,
                k,
                crate::stream::Purpose::Lapse,
            ));
            if u < model.lapse.hazard(months_in, was_paid) {
                book.lapse(m);
            }
        }
    }
}

/// What each plan puts at stake for a member under `model` (see [`stakes`]), for a run of
/// `config`: how a caller draws members as the run would (a test paying them through a
/// store, the calibration).
pub fn plan_stakes(
    model: &Population,
    plans: &[&Policy],
    config: &Config,
) -> Result<Vec<Option<Stake>>, SimError> {
    let stop = AtomicBool::new(false);
    stakes(
        model,
        plans,
        config,
        &Watch {
            progress: &|_| {},
            stop: &stop,
        },
    )
}

/// What each plan puts at stake for a member, under the `reward` response model: the plan run
/// over a pilot — the run's first [`STAKE_PILOT_MEMBERS_MAX`] members of replication 0, for up
/// to a year, behaving as with no plan — and what it paid them a year on average. A plan that
/// pays nothing there has a stake of nothing, and its members behave as with no plan.
fn stakes(
    model: &Population,
    plans: &[&Policy],
    config: &Config,
    watch: &Watch<'_>,
) -> Result<Vec<Option<Stake>>, SimError> {
    if model.response.model == ResponseModel::Fixed {
        return Ok(vec![None; plans.len()]);
    }
    let months_in = months(config.first_period);
    let periods_a_year = (12 / months_in.max(1)).max(1);
    let pilot = Config {
        members: config.members.min(STAKE_PILOT_MEMBERS_MAX),
        periods: config.periods.min(periods_a_year),
        replications: 1,
        shard: Shard::WHOLE,
        ..config.clone()
    };
    let periods = pilot.periods();
    let enrolled = pilot
        .first_period
        .first_day()
        .ok_or_else(|| SimError::Config("the first period has no first day".into()))?;
    let quiet = Watch {
        progress: &|_| {},
        stop: watch.stop,
    };
    let arms = Arms::new(&[Behaviour::NONE]);
    let mut out = Vec::with_capacity(plans.len());
    for plan in plans {
        let (replication, _) = replicate(
            model,
            &[*plan],
            &arms,
            &pilot,
            &periods,
            enrolled,
            0,
            &quiet,
            footprint::members_per_chunk(model, config.first_period.kind()),
        )?;
        let member_years = Decimal::from(pilot.members) * Decimal::from(pilot.periods)
            / Decimal::from(periods_a_year);
        let per_member_year = |x: Decimal| x.checked_div(member_years).unwrap_or_default();
        let paid = replication.plans.first().map_or(Paid::default(), |t| Paid {
            reward: per_member_year(t.reward),
            discount_points: per_member_year(t.premium_loading_points - t.premium_points),
            loading_points: per_member_year(t.premium_loading_points),
        });
        out.push(Some(Stake::of(model, paid)));
    }
    Ok(out)
}

/// Who hears of a run's progress, and the flag that stops it.
struct Watch<'a> {
    progress: &'a (dyn Fn(u64) + Sync),
    stop: &'a AtomicBool,
}

impl Watch<'_> {
    /// [`SimError::Stopped`] once the run has been told to stop.
    fn check(&self) -> Result<(), SimError> {
        if self.stop.load(Ordering::Relaxed) {
            Err(SimError::Stopped)
        } else {
            Ok(())
        }
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "one replication's inputs, each used; a struct would only rename them"
)]
fn replicate(
    model: &Population,
    plans: &[&Policy],
    arms: &Arms,
    config: &Config,
    periods: &[Period],
    enrolled: chrono::NaiveDate,
    r: u64,
    watch: &Watch<'_>,
    members_per_chunk: usize,
) -> Result<(Replication, Vec<Vec<Decimal>>), SimError> {
    let n = usize::try_from(config.members).unwrap_or(0);
    let per_chunk = members_per_chunk.max(1);
    let mut books: Vec<Book> = plans
        .iter()
        .map(|p| Book::new(p, n, periods.len()))
        .collect();
    // Drawn on every core (each member from their own stream), in place; the first failure in
    // member order is the one told.
    let mut drawn = Vec::with_capacity(n);
    (0..n)
        .into_par_iter()
        .map(|m| {
            watch.check()?;
            member(model, config.seed, m as u64, r, enrolled)
        })
        .collect_into_vec(&mut drawn);
    let members: Vec<_> = drawn.into_iter().collect::<Result<_, _>>()?;
    // By arm: each member's labs so far, whether they ever measured, and the arm's outcomes.
    let mut arm = vec![ArmState::new(n); arms.behaviours.len()];
    // Readings are drawn in the first plan's time zone, so plans compare on the same ones.
    let zone = plans
        .first()
        .map(|p| p.manifest.timezone)
        .ok_or_else(|| SimError::Config("no policy to simulate".into()))?;

    let declined = enrol(model, &mut books, &members, config.seed, r);
    let mut paid_before = vec![vec![Decimal::ZERO; n]; books.len()];
    for (k, &period) in periods.iter().enumerate() {
        lapse_members(
            model,
            &mut books,
            &mut paid_before,
            config.seed,
            r,
            k as u64,
            months(period),
        );
        for book in &mut books {
            book.start_period();
        }
        for state in &mut arm {
            state.outcomes.push(PeriodOutcomes::default());
        }
        // Members a chunk at a time: their readings drawn on every core, arm by arm, then each
        // plan of the arm decided (also on every core; see `Book::decide_many`). Chunks keep the
        // memory of a period's readings small whatever the population
        // (`footprint::members_per_chunk`); one arm's readings are held at a time.
        for (c, chunk) in members.chunks(per_chunk).enumerate() {
            let first = c * per_chunk;
            for (a, (behaviour, state)) in arms.behaviours.iter().zip(&mut arm).enumerate() {
                let at = Chunk {
                    first,
                    k: k as u64,
                    period,
                    zone,
                    replication: r,
                };
                // An arm no plan decides needs only who measured, not their readings.
                let whole = arms.of_plan.contains(&a);
                // A member who has left the arm's plan behaves as with no plan.
                let left: Vec<bool> = match arms.of_plan.iter().position(|of| *of == a) {
                    Some(p) if lapsing(model) => (first..first + chunk.len())
                        .map(|m| books.get(p).is_some_and(|b| !b.is_active(m)))
                        .collect(),
                    _ => Vec::new(),
                };
                let data = state.draw(
                    model,
                    config.seed,
                    chunk,
                    (behaviour, &left),
                    &at,
                    whole,
                    watch,
                )?;
                let inputs: Vec<MemberInput> = chunk
                    .iter()
                    .zip(&data)
                    .zip(
                        state
                            .labs
                            .get(first..first + chunk.len())
                            .unwrap_or_default(),
                    )
                    .map(|((who, d), l)| MemberInput {
                        profile: &who.profile,
                        readings: &d.readings,
                        labs: l,
                    })
                    .collect();
                for (book, _) in books
                    .iter_mut()
                    .zip(&arms.of_plan)
                    .filter(|(_, of)| **of == a)
                {
                    book.decide_many_until(first, period, &inputs, watch.stop)?;
                }
                // The chunk's readings let go on every core: freed one member after another
                // they were 2 % of a run's samples, all on one thread.
                drop(inputs);
                data.into_par_iter().for_each(drop);
            }
            (watch.progress)(chunk.len() as u64);
        }
        for book in &mut books {
            book.end_period(k);
        }
    }
    let cohorts: Vec<[(&str, String); 4]> = members
        .iter()
        .map(|who| cohort_keys(model, &who.profile))
        .collect();
    let mut plans_totals = Vec::with_capacity(books.len());
    let mut member_totals = Vec::with_capacity(books.len());
    for (book, a) in books.into_iter().zip(&arms.of_plan) {
        let state = arm.get(*a);
        let measuring = state.map_or(0, |s| s.measured.iter().filter(|x| **x).count() as u64);
        let (mut totals, paid) = book.finish(measuring);
        // Members who never enrolled did not leave.
        totals.members_lapsed = totals.members_lapsed.saturating_sub(declined);
        totals.members_enrolled = config.members.saturating_sub(declined);
        totals.outcomes = state.map(|s| s.outcomes.clone()).unwrap_or_default();
        for (keys, reward) in cohorts.iter().zip(&paid) {
            for (dimension, cohort) in keys {
                let c = totals
                    .by_cohort
                    .entry((*dimension).to_owned())
                    .or_default()
                    .entry(cohort.clone())
                    .or_default();
                c.members += 1;
                c.reward += *reward;
                c.members_earning += u64::from(*reward > Decimal::ZERO);
            }
        }
        for c in totals.by_cohort.values_mut().flat_map(BTreeMap::values_mut) {
            c.reward = c.reward.normalize();
        }
        plans_totals.push(totals);
        member_totals.push(paid);
    }
    let no_plan = arm
        .into_iter()
        .next()
        .map(|s| s.outcomes)
        .unwrap_or_default();
    Ok((
        Replication {
            replication: r,
            plans: plans_totals,
            no_plan,
            assumptions: Vec::new(),
        },
        member_totals,
    ))
}

/// Where a chunk of members is in a replication.
struct Chunk {
    /// The index of its first member.
    first: usize,
    /// The period's index and the period.
    k: u64,
    period: Period,
    zone: chrono_tz::Tz,
    replication: u64,
}

/// One arm of a replication as it goes: each member's labs so far, whether they have measured,
/// and the arm's outcomes by period.
#[derive(Clone, Debug)]
struct ArmState {
    labs: Vec<Vec<LabResult>>,
    measured: Vec<bool>,
    outcomes: Vec<PeriodOutcomes>,
}

impl ArmState {
    fn new(members: usize) -> Self {
        Self {
            labs: vec![Vec::new(); members],
            measured: vec![false; members],
            outcomes: Vec::new(),
        }
    }

    /// Draws a chunk's period on every core as the arm behaves — its readings when `whole`, who
    /// measured only otherwise — and counts it in: labs, who measured, the period's outcomes
    /// (added in member order, so the sums never depend on the threads).
    #[expect(
        clippy::too_many_arguments,
        reason = "a chunk's draw: the arm, its members, where they are, what to draw"
    )]
    fn draw(
        &mut self,
        model: &Population,
        seed: u64,
        chunk: &[Member],
        (behaviour, left): (&Behaviour, &[bool]),
        at: &Chunk,
        whole: bool,
        watch: &Watch<'_>,
    ) -> Result<Vec<PeriodData>, SimError> {
        let months_in = months(at.period);
        // Collected in place (an indexed collect), not through rayon's list of pieces that one
        // thread then copies together.
        let mut drawn: Vec<Result<_, SimError>> = Vec::with_capacity(chunk.len());
        chunk
            .par_iter()
            .enumerate()
            .map(|(i, who)| {
                watch.check()?;
                let draw = Draw {
                    seed,
                    member: (at.first + i) as u64,
                    replication: at.replication,
                };
                let behaviour = if left.get(i).copied().unwrap_or(false) {
                    &Behaviour::NONE
                } else {
                    behaviour
                };
                let data = if whole {
                    period_data(model, who, behaviour, draw, at.k, at.period, at.zone)?
                } else {
                    PeriodData::measured_only(measured(
                        model, who, behaviour, draw, at.k, at.period, at.zone,
                    )?)
                };
                let outcome = judge(model, who, behaviour, at.k, months_in, data.measured);
                Ok((data, outcome))
            })
            .collect_into_vec(&mut drawn);
        let range = at.first..at.first + chunk.len();
        let labs = self.labs.get_mut(range.clone()).unwrap_or_default();
        let measured = self.measured.get_mut(range).unwrap_or_default();
        let outcomes = self.outcomes.last_mut();
        let mut sums = PeriodOutcomes::default();
        let mut data = Vec::with_capacity(drawn.len());
        for ((drawn, l), x) in drawn.into_iter().zip(labs).zip(measured) {
            let (d, o) = drawn?;
            if let Some(lab) = d.lab {
                l.push(lab);
            }
            *x |= d.measured;
            sums.add(&o);
            data.push(d);
        }
        if let Some(period) = outcomes {
            period.absorb(&sums);
        }
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::footprint::MEMBERS_PER_CHUNK_MAX;
    use incentive_engine::policy::{PolicySource, SourceFile, load};

    fn package(name: &str, edit: impl Fn(&str) -> String) -> Policy {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../policies")
            .join(name);
        let file = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
        load(&PolicySource {
            name: name.to_owned(),
            files: vec![
                SourceFile::new("policy.toml", edit(&file("policy.toml"))),
                SourceFile::new("rules.rhai", file("rules.rhai")),
            ],
        })
        .unwrap()
        .policy
    }

    fn chunked(model: &Population, plan: &Policy, config: &Config, chunk: usize) -> Results {
        let stop = AtomicBool::new(false);
        let watch = Watch {
            progress: &|_| {},
            stop: &stop,
        };
        run_chunked(model, &[plan], config, &watch, chunk).unwrap()
    }

    /// Chunks shrink when members have many readings (a sensor programme); members are still
    /// decided in member order, and the pool's cap still binds on the same member.
    #[test]
    fn the_size_of_a_chunk_changes_no_result_even_when_the_pool_runs_out_mid_chunk() {
        let mut cgm = Population::default();
        cgm.cgm.wearing_share = 1.0;
        let quarters = Config {
            members: 23,
            periods: 2,
            replications: 2,
            seed: 5,
            first_period: Period::parse("2026-Q1").unwrap(),
            shard: Shard::WHOLE,
        };
        let consensus = package("cgm-consensus", str::to_owned);
        assert_eq!(
            chunked(&cgm, &consensus, &quarters, 7),
            chunked(&cgm, &consensus, &quarters, MEMBERS_PER_CHUNK_MAX)
        );

        let small_pool = package("tangdaifu-smbg", |m| {
            m.replace("pool_budget = 200000000.00", "pool_budget = 50.00")
        });
        let months = Config {
            members: 60,
            periods: 3,
            first_period: Period::parse("2026-01").unwrap(),
            ..quarters
        };
        let one_by_one = chunked(&Population::default(), &small_pool, &months, 1);
        assert_eq!(
            one_by_one,
            chunked(&Population::default(), &small_pool, &months, 7)
        );
        let plan = &one_by_one.replications[0].plans[0];
        assert_eq!(
            plan.pool_exhausted_in,
            Some(0),
            "the pool ran out in the first month, so its cap bound mid-chunk: {plan:?}"
        );
    }
}
