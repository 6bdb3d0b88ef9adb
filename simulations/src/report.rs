//! What a run writes: `summary.json` (the distribution of each plan's total, the paired
//! difference A − B, the pool's risk, rates, and every assumption), `replications` and
//! `members` as CSV and Parquet for the actuary's own tools (see [`crate::columnar`]), and `report.html` (the same figures with charts,
//! one self-contained page: see [`crate::html`]) — or, for one shard, `partial.json`, which
//! `merge` joins into the very bytes the unsharded run writes.

use crate::SimError;
use crate::columnar::{Column, Table};
use crate::derived::Derived;
pub use crate::info::{PlanInfo, RunInfo};
use crate::members::MemberTotals;
use crate::stats::{Distribution, share};
use crate::totals::{Replication, Results};
use rayon::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Serialize)]
struct PlanSummary<'a> {
    plan: &'a PlanInfo,
    total_reward: Distribution,
    premium_adjustment_points: Distribution,
    /// Share of members paid anything, over all replications.
    earning_rate: Decimal,
    /// Share of members who measured at least once.
    participation_rate: Decimal,
    /// Share of replications in which the pool ran out, and in which period it did.
    pool_exhausted_probability: Option<Decimal>,
    pool_exhausted_by_period: Option<Vec<Decimal>>,
    /// Mean paid in each period.
    mean_reward_by_period: Vec<Decimal>,
    /// The distribution of one member's total in one replication, over every member of every
    /// replication: its `replications` counts member-replications.
    member_replication_reward: Distribution,
    /// Member-periods, reward and premium adjustment by the tier decided, per replication.
    by_tier: Vec<crate::breakdown::TierRow>,
    /// Members, mean reward and earning rate by age band, region, diabetes type and insulin.
    by_cohort: BTreeMap<String, Vec<crate::breakdown::CohortRow>>,
    /// What the plan buys against the no-plan arm: health, claims saved, net cost.
    outcomes: &'a crate::effects::PlanOutcomes,
    /// What to hold: the total at the run's confidence, a member, for the book; the reserve.
    budget: &'a crate::budget::Budget,
    /// Members who enrolled, a replication on average (`[enrolment]`).
    mean_members_enrolled: Decimal,
    /// Members who left the plan before the run's end, a replication on average (`[lapse]`).
    mean_members_lapsed: Decimal,
    /// Member-periods paid each amount a replication, and what they cost, on average: for a
    /// plan paying by steps, its cost by step.
    by_amount_paid: Vec<AmountRow>,
    /// Member-periods flagged a replication, by flag (`clinician_follow_up`, …), on average.
    mean_flagged_member_periods: BTreeMap<String, Decimal>,
    /// Member-periods paid nothing a replication, on average, by why: not qualified, or
    /// qualified and their reward came to nothing.
    mean_unpaid_member_periods: BTreeMap<&'static str, Decimal>,
}

/// Member-periods paid one amount, a replication on average.
#[derive(Debug, Serialize)]
struct AmountRow {
    amount: Decimal,
    mean_member_periods: Decimal,
    mean_cost: Decimal,
}

#[derive(Debug, Serialize)]
struct Summary<'a> {
    format: &'static str,
    run: &'a RunInfo,
    plans: Vec<PlanSummary<'a>>,
    /// The same members with no plan: the counterfactual each plan's outcomes are against.
    no_plan: &'a crate::effects::NoPlan,
    /// Plan A − plan B per replication, on the same members and readings.
    difference_a_minus_b: Option<Distribution>,
    /// Each varied assumption at its low and high, one at a time (`--tornado`); null when not
    /// asked for.
    sensitivity: Option<&'a crate::tornado::Sensitivity>,
    /// The run's population beside the Guizhou pilot's figures, with its caveat.
    calibration: &'a crate::calibration::Calibration,
    /// Where each assumption's default comes from (`run.assumptions` has the values used).
    assumption_sources: BTreeMap<&'static str, &'static str>,
}

/// A count summed over `n` replications, a replication.
fn mean_count(sum: u64, n: u64) -> Decimal {
    (Decimal::from(sum) / Decimal::from(n.max(1)))
        .round_dp(4)
        .normalize()
}

/// Months in each of a run's periods.
pub(crate) fn months_in(info: &RunInfo) -> Result<u32, SimError> {
    let first = info
        .periods
        .first()
        .ok_or_else(|| SimError::Config("the run has no periods".into()))?;
    let period = incentive_engine::Period::parse(first)
        .map_err(|e| SimError::Config(format!("the run's first period `{first}`: {e}")))?;
    Ok(crate::synth::months(period))
}

pub(crate) fn write(path: &Path, bytes: &[u8]) -> Result<(), SimError> {
    std::fs::write(path, bytes).map_err(|e| SimError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// Makes and writes one of a run's files.
type MakeFile<'a> = Box<dyn Fn() -> Result<(), SimError> + Sync + 'a>;

/// Writes the results of every replication of a run (sorted by replication) into `out`.
pub fn write_results(out: &Path, info: &RunInfo, results: &Results) -> Result<(), SimError> {
    std::fs::create_dir_all(out).map_err(|e| SimError::Io {
        path: out.display().to_string(),
        message: e.to_string(),
    })?;
    let derived = Derived::of(info, results)?;
    // Each file is made from the results alone, so they are made side by side, on every core:
    // at a million members the members' table, as CSV and as Parquet, is most of the writing.
    let (replications, members) = rayon::join(
        || replications_table(info, &results.replications),
        || member_slots_table(info, &results.members),
    );
    let tables = [("replications", &replications), ("member_slots", &members)];
    let files: Vec<MakeFile<'_>> = vec![
        Box::new(|| {
            write(
                &out.join("summary.json"),
                summary_json_of(info, results, &derived)?.as_bytes(),
            )
        }),
        Box::new(|| {
            write(
                &out.join("report.html"),
                crate::html::render_of(info, results, &derived)?.as_bytes(),
            )
        }),
    ];
    let tables = tables.iter().flat_map(|(name, table)| {
        let csv: MakeFile<'_> =
            Box::new(move || write(&out.join(format!("{name}.csv")), table.to_csv().as_bytes()));
        let parquet: MakeFile<'_> =
            Box::new(move || table.write_parquet(&out.join(format!("{name}.parquet"))));
        [csv, parquet]
    });
    let files: Vec<_> = files.into_iter().chain(tables).collect();
    // Every file is tried; the first failure in this order is the one told, whatever the
    // threads did first.
    let written: Vec<Result<(), SimError>> = files.par_iter().map(|make| make()).collect();
    written.into_iter().collect()
}

/// `summary.json`'s text: the figures of every plan, the difference A − B, and the
/// assumptions with their sources.
pub fn summary_json(info: &RunInfo, results: &Results) -> Result<String, SimError> {
    summary_json_of(info, results, &Derived::of(info, results)?)
}

/// `summary.json`'s text, its derived figures found already (shown by the report too).
pub fn summary_json_of(
    info: &RunInfo,
    results: &Results,
    derived: &Derived,
) -> Result<String, SimError> {
    let replications = results.replications.as_slice();
    let n = replications.len() as u64;
    let mut plans = Vec::new();
    for (p, plan) in info.plans.iter().enumerate() {
        let of = |f: &dyn Fn(&crate::totals::PlanTotals) -> Decimal| -> Vec<Decimal> {
            replications
                .iter()
                .filter_map(|r| r.plans.get(p))
                .map(f)
                .collect()
        };
        let totals: Vec<&crate::totals::PlanTotals> =
            replications.iter().filter_map(|r| r.plans.get(p)).collect();
        let earning: u64 = totals.iter().map(|t| t.members_earning).sum();
        let measuring: u64 = totals.iter().map(|t| t.members_measuring).sum();
        let periods = info.periods.len();
        let exhausted_by_period = plan.pool_budget.map(|_| {
            (0..periods)
                .map(|k| {
                    let by_then = totals
                        .iter()
                        .filter(|t| t.pool_exhausted_in.is_some_and(|e| (e as usize) <= k))
                        .count() as u64;
                    share(by_then, n)
                })
                .collect::<Vec<_>>()
        });
        let mean_by_period = (0..periods)
            .map(|k| {
                let sum: Decimal = totals
                    .iter()
                    .filter_map(|t| t.reward_by_period.get(k))
                    .sum();
                (sum / Decimal::from(n.max(1))).round_dp(4).normalize()
            })
            .collect();
        plans.push(PlanSummary {
            plan,
            total_reward: Distribution::of(&of(&|t| t.reward)),
            premium_adjustment_points: Distribution::of(&of(&|t| t.premium_points)),
            earning_rate: share(earning, info.members * n),
            participation_rate: share(measuring, info.members * n),
            pool_exhausted_probability: exhausted_by_period
                .as_ref()
                .and_then(|v| v.last().copied()),
            pool_exhausted_by_period: exhausted_by_period,
            mean_reward_by_period: mean_by_period,
            member_replication_reward: results.members.get(p).map_or_else(
                || Distribution::of(&[]),
                |m| Distribution::of_counts(&m.counts),
            ),
            by_tier: crate::breakdown::tiers(replications, p),
            by_cohort: crate::breakdown::cohorts(replications, p),
            budget: derived.budgets.get(p).ok_or_else(|| missing("budget", p))?,
            mean_members_enrolled: mean_count(totals.iter().map(|t| t.members_enrolled).sum(), n),
            mean_members_lapsed: mean_count(totals.iter().map(|t| t.members_lapsed).sum(), n),
            by_amount_paid: {
                let mut sums: BTreeMap<Decimal, u64> = BTreeMap::new();
                for (amount, count) in totals.iter().flat_map(|t| &t.by_amount) {
                    *sums.entry(*amount).or_default() += count;
                }
                sums.into_iter()
                    .map(|(amount, count)| AmountRow {
                        amount,
                        mean_member_periods: mean_count(count, n),
                        mean_cost: (amount * Decimal::from(count) / Decimal::from(n.max(1)))
                            .round_dp(4)
                            .normalize(),
                    })
                    .collect()
            },
            mean_flagged_member_periods: {
                let mut sums: BTreeMap<String, u64> = BTreeMap::new();
                for (flag, count) in totals.iter().flat_map(|t| &t.flags) {
                    *sums.entry(flag.clone()).or_default() += count;
                }
                sums.into_iter()
                    .map(|(flag, sum)| (flag, mean_count(sum, n)))
                    .collect()
            },
            mean_unpaid_member_periods: [
                (
                    "not_qualified",
                    mean_count(totals.iter().map(|t| t.unpaid_not_qualified).sum(), n),
                ),
                (
                    "qualified_but_nothing",
                    mean_count(totals.iter().map(|t| t.unpaid_qualified).sum(), n),
                ),
            ]
            .into_iter()
            .collect(),
            outcomes: derived
                .outcomes
                .get(p)
                .ok_or_else(|| missing("outcomes", p))?,
        });
    }
    let difference = (info.plans.len() == 2).then(|| {
        let diffs: Vec<Decimal> = replications
            .iter()
            .filter_map(|r| Some(r.plans.first()?.reward - r.plans.get(1)?.reward))
            .collect();
        Distribution::of(&diffs)
    });
    let summary = Summary {
        format: "incentive-simulation-v1",
        run: info,
        plans,
        no_plan: &derived.no_plan,
        difference_a_minus_b: difference,
        sensitivity: results.sensitivity.as_ref(),
        calibration: &derived.calibration,
        assumption_sources: crate::population::SOURCES.into_iter().collect(),
    };
    let json = serde_json::to_string_pretty(&summary).map_err(|e| SimError::Io {
        path: "summary.json".into(),
        message: e.to_string(),
    })?;
    Ok(format!("{json}\n"))
}

/// The error of figures derived for fewer plans than the run has.
fn missing(what: &str, plan: usize) -> SimError {
    SimError::Model(format!(
        "the report's {what} were found for fewer plans than the run has (plan {})",
        plan + 1
    ))
}

/// One row per replication and plan: what the plan paid in total.
fn replications_table(info: &RunInfo, replications: &[Replication]) -> Table {
    let rows = replications.len() * info.plans.len();
    let mut replication = Vec::with_capacity(rows);
    let mut policy = Vec::with_capacity(rows);
    let mut reward = Vec::with_capacity(rows);
    let mut points = Vec::with_capacity(rows);
    let mut earning = Vec::with_capacity(rows);
    let mut measuring = Vec::with_capacity(rows);
    let mut exhausted = Vec::with_capacity(rows);
    for r in replications {
        for (plan, t) in info.plans.iter().zip(&r.plans) {
            replication.push(count(r.replication));
            policy.push(plan.policy_id.clone());
            reward.push(t.reward);
            points.push(t.premium_points);
            earning.push(count(t.members_earning));
            measuring.push(count(t.members_measuring));
            exhausted.push(
                t.pool_exhausted_in
                    .and_then(|k| info.periods.get(k as usize))
                    .cloned(),
            );
        }
    }
    Table {
        columns: vec![
            Column::Integer("replication", replication),
            Column::Text("policy_id", policy),
            Column::Money("total_reward", reward),
            Column::Money("premium_adjustment_points", points),
            Column::Integer("members_earning", earning),
            Column::Integer("members_measuring", measuring),
            Column::OptionalText("pool_exhausted_in", exhausted),
        ],
    }
}

/// One row per member slot and plan: the mean and largest total over the replications of the
/// member drawn `member_slot`-th — a different synthetic person in each replication, so a row
/// is a slot of the run, not one person.
fn member_slots_table(info: &RunInfo, members: &[MemberTotals]) -> Table {
    let mut index = Vec::new();
    let mut policy = Vec::new();
    let mut means = Vec::new();
    let mut maxima = Vec::new();
    for (plan, totals) in info.plans.iter().zip(members) {
        for (m, max) in totals.max.iter().enumerate() {
            index.push(i64::try_from(m).unwrap_or(i64::MAX));
            policy.push(plan.policy_id.clone());
            means.push(totals.mean(m));
            maxima.push(max.normalize());
        }
    }
    Table {
        columns: vec![
            Column::Integer("member_slot", index),
            Column::Text("policy_id", policy),
            Column::Money("mean_reward", means),
            Column::Money("max_reward", maxima),
        ],
    }
}

/// A count as Parquet's INT64 holds it (no count here comes near 2^63).
fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A shard's results, for `merge`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Partial {
    pub format: String,
    pub run: RunInfo,
    pub shard: [u64; 2],
    pub replications: Vec<Replication>,
    /// Each plan's per-member results over the shard's replications.
    pub members: Vec<MemberTotals>,
    /// Each plan's stake: the same in every shard (measured on the same pilot).
    pub stakes: Vec<Option<crate::response::Stake>>,
}

pub const PARTIAL_FORMAT: &str = "incentive-simulation-partial-v4";

/// Writes one shard's `partial.json`.
pub fn write_partial(out: &Path, partial: &Partial) -> Result<(), SimError> {
    std::fs::create_dir_all(out).map_err(|e| SimError::Io {
        path: out.display().to_string(),
        message: e.to_string(),
    })?;
    let json = serde_json::to_string(partial).map_err(|e| SimError::Io {
        path: "partial.json".into(),
        message: e.to_string(),
    })?;
    write(&out.join("partial.json"), json.as_bytes())
}

/// Joins shards' partials into the unsharded run's results: every shard of one run, each
/// replication once.
pub fn merge(dirs: &[&Path], out: &Path) -> Result<(), SimError> {
    let mut run: Option<RunInfo> = None;
    let mut all: Vec<Replication> = Vec::new();
    let mut members: Option<Vec<MemberTotals>> = None;
    let mut stakes: Option<Vec<Option<crate::response::Stake>>> = None;
    for dir in dirs {
        let path = dir.join("partial.json");
        let text = std::fs::read_to_string(&path).map_err(|e| SimError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let partial: Partial = serde_json::from_str(&text).map_err(|e| SimError::Io {
            path: path.display().to_string(),
            message: format!("not a shard's partial results: {e}"),
        })?;
        if partial.format != PARTIAL_FORMAT {
            return Err(SimError::Merge(format!(
                "{}: format `{}`, expected `{PARTIAL_FORMAT}`",
                path.display(),
                partial.format
            )));
        }
        match &run {
            None => run = Some(partial.run.clone()),
            Some(first) if *first != partial.run => {
                return Err(SimError::Merge(format!(
                    "{} is from another run (members, periods, replications, seed, policies or assumptions differ)",
                    path.display()
                )));
            }
            Some(_) => {}
        }
        match &stakes {
            None => stakes = Some(partial.stakes),
            Some(first) if *first != partial.stakes => {
                return Err(SimError::Merge(format!(
                    "{} measured another stake for a plan than the first shard: it is from another build or run",
                    path.display()
                )));
            }
            Some(_) => {}
        }
        all.extend(partial.replications);
        match &mut members {
            None => members = Some(partial.members),
            Some(m) if m.len() == partial.members.len() => {
                for (a, b) in m.iter_mut().zip(&partial.members) {
                    a.merge(b);
                }
            }
            Some(_) => {
                return Err(SimError::Merge(format!(
                    "{} has results for another number of plans",
                    path.display()
                )));
            }
        }
    }
    let run = run.ok_or_else(|| SimError::Merge("no shard directories given".into()))?;
    all.sort_by_key(|r| r.replication);
    let expected: Vec<u64> = (0..run.replications).collect();
    let found: Vec<u64> = all.iter().map(|r| r.replication).collect();
    if found != expected {
        let missing: Vec<String> = expected
            .iter()
            .filter(|r| !found.contains(r))
            .take(10)
            .map(ToString::to_string)
            .collect();
        return Err(SimError::Merge(format!(
            "the shards hold {} replications of {}: {}",
            found.len(),
            run.replications,
            if missing.is_empty() {
                "some twice".to_owned()
            } else {
                format!("missing {}", missing.join(", "))
            }
        )));
    }
    write_results(
        out,
        &run,
        &Results {
            replications: all,
            members: members.unwrap_or_default(),
            stakes: stakes.unwrap_or_default(),
            sensitivity: None,
        },
    )
}
