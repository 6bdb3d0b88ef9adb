//! A backtest: a policy run over real history — a database's members, readings and labs, or a
//! readings file — period by period as the store would have paid it (history and pool carried
//! through a [`Book`]), beside what was actually posted. No I/O here: the caller reads the
//! history and hands each member-period in; this keeps the decisions and writes the results.
//!
//! Written to `--out`: `summary.json` (totals would-pay and paid, by period, by tier, by the
//! policies that actually paid), `member_periods` and `members` as CSV and Parquet.

use crate::SimError;
use crate::book::Book;
use crate::columnar::{Column, Table};
use crate::info::PlanInfo;
use crate::report::write;
use crate::totals::TierTotals;
use incentive_engine::policy::{MemberProfile, PeriodInputs, Policy};
use incentive_engine::{LabResult, Period, Readings, Window};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Periods a backtest may cover at most (ten years of months).
pub const BACKTEST_PERIODS_MAX: usize = 120;

/// The periods from `from` to `to` inclusive, each of the policy's kind.
pub fn periods(policy: &Policy, from: &str, to: &str) -> Result<Vec<Period>, SimError> {
    let kind = policy.manifest.period;
    let parse = |flag: &str, text: &str| -> Result<Period, SimError> {
        let p = Period::parse(text).map_err(|e| SimError::Config(format!("{flag}: {e}")))?;
        if p.kind() == kind {
            Ok(p)
        } else {
            Err(SimError::Config(format!(
                "{flag} `{text}` is not a {} period, which policy `{}` pays by",
                kind.as_str(),
                policy.manifest.id
            )))
        }
    };
    let (first, last) = (parse("--from", from)?, parse("--to", to)?);
    if last < first {
        return Err(SimError::Config(format!(
            "--to `{to}` is before --from `{from}`"
        )));
    }
    let mut out = vec![first];
    while let Some(&p) = out.last()
        && p < last
    {
        if out.len() >= BACKTEST_PERIODS_MAX {
            return Err(SimError::Config(format!(
                "--from `{from}` to --to `{to}` spans more than {BACKTEST_PERIODS_MAX} periods"
            )));
        }
        out.push(p.next());
    }
    Ok(out)
}

/// One member-period as decided.
#[derive(Clone, Debug)]
struct Row {
    member: usize,
    period: usize,
    readings: usize,
    qualified: bool,
    tier: Option<String>,
    reward: Decimal,
    premium: Decimal,
}

/// What was actually posted to one member for one period, all policies together.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Paid {
    pub reward: Decimal,
    pub premium_adjustment_percent: Decimal,
}

/// What was actually posted, as the store reports it.
#[derive(Clone, Debug, Default)]
pub struct ActuallyPaid {
    /// By (member id, period), every policy's postings added.
    pub by_member_period: BTreeMap<(String, String), Paid>,
    /// Each policy's total reward over the periods.
    pub by_policy: BTreeMap<String, Decimal>,
}

impl ActuallyPaid {
    /// Adds what stands posted to a member for a period under a policy.
    pub fn add(&mut self, member: &str, policy: &str, period: &str, paid: Paid) {
        let e = self
            .by_member_period
            .entry((member.to_owned(), period.to_owned()))
            .or_default();
        e.reward += paid.reward;
        e.premium_adjustment_percent += paid.premium_adjustment_percent;
        *self.by_policy.entry(policy.to_owned()).or_default() += paid.reward;
    }

    fn of(&self, member: &str, period: &str) -> Paid {
        self.by_member_period
            .get(&(member.to_owned(), period.to_owned()))
            .copied()
            .unwrap_or_default()
    }
}

/// A backtest in progress over `members` (ids sorted; a member's index is its place).
#[derive(Debug)]
pub struct Backtest<'p> {
    book: Book<'p>,
    members: Vec<String>,
    periods: Vec<Period>,
    measured: Vec<bool>,
    rows: Vec<Row>,
    current: Option<usize>,
}

impl<'p> Backtest<'p> {
    pub fn new(policy: &'p Policy, members: Vec<String>, periods: Vec<Period>) -> Self {
        let n = members.len();
        Self {
            book: Book::new(policy, n, periods.len()),
            members,
            periods,
            measured: vec![false; n],
            rows: Vec::new(),
            current: None,
        }
    }

    /// The member ids, sorted: decide members by their index here.
    pub fn members(&self) -> &[String] {
        &self.members
    }

    pub fn periods(&self) -> &[Period] {
        &self.periods
    }

    /// Opens period `k` (0-based) and returns its bounds in the policy's time zone: the
    /// readings to hand in. Periods are decided in order, every member of one before the next,
    /// as the pool is spent.
    pub fn start_period(&mut self, k: usize) -> Result<Window, SimError> {
        let expected = self.current.map_or(0, |c| c + 1);
        let period = self
            .periods
            .get(k)
            .copied()
            .filter(|_| k == expected)
            .ok_or_else(|| {
                SimError::Config(format!(
                    "period {k} opened out of order (expected {expected} of {})",
                    self.periods.len()
                ))
            })?;
        let window = period
            .window(self.book.policy().manifest.timezone)
            .map_err(|e| SimError::Config(format!("period {period}: {e}")))?;
        if let Some(c) = self.current {
            self.book.end_period(c);
        }
        self.current = Some(k);
        self.book.start_period();
        Ok(window)
    }

    /// Decides the member `profile.id` for the open period.
    pub fn decide(
        &mut self,
        profile: &MemberProfile,
        readings: &Readings,
        labs: &[LabResult],
    ) -> Result<(), SimError> {
        let (Some(k), Some(&period)) =
            (self.current, self.current.and_then(|k| self.periods.get(k)))
        else {
            return Err(SimError::Config("no period is open".into()));
        };
        let id = profile.id.as_str();
        let m = self
            .members
            .binary_search_by(|x| x.as_str().cmp(id))
            .map_err(|_| SimError::Config(format!("member `{id}` is not in the backtest")))?;
        let decision = self.book.decide(m, profile, period, readings, labs)?;
        if !readings.is_empty()
            && let Some(x) = self.measured.get_mut(m)
        {
            *x = true;
        }
        self.rows.push(Row {
            member: m,
            period: k,
            readings: readings.len(),
            qualified: decision.qualified,
            tier: decision.tier.clone(),
            reward: decision.reward,
            premium: decision.premium_adjustment_percent,
        });
        Ok(())
    }

    /// Decides every member for every period in order: each period's inputs are read through
    /// `read`, `members_per_read` members at a time, and `decided` is told how many more
    /// member-periods are done. What reads the history (a database, a file) is the caller's.
    pub fn decide_all<E: From<SimError>>(
        &mut self,
        members_per_read: usize,
        mut read: impl FnMut(&[&str], &Window) -> Result<Vec<PeriodInputs>, E>,
        mut decided: impl FnMut(u64),
    ) -> Result<(), E> {
        let ids = self.members.clone();
        for k in 0..self.periods.len() {
            let window = self.start_period(k)?;
            for chunk in ids.chunks(members_per_read.max(1)) {
                let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
                let inputs = read(&refs, &window)?;
                let count = inputs.len() as u64;
                for input in inputs {
                    self.decide(&input.profile, &input.readings, &input.labs)?;
                }
                decided(count);
            }
        }
        Ok(())
    }

    /// Closes the last period and gives the totals alone: what a caller that may see only
    /// figures over many members is shown (the workbench's impact over real history).
    pub fn summary(self, source: Source, actual: Option<&ActuallyPaid>) -> BacktestSummary {
        self.close(source, actual).summary
    }

    /// Closes the last period and writes the results to `out`, with what was actually paid
    /// (`None` for a readings file, which cannot say). Returns the summary it wrote.
    ///
    /// With `pseudonym`, the member-level tables name each member by it (column
    /// `member_pseudonym`, rows in pseudonym order) and never by the platform's id: a
    /// database's backtest goes to actuaries, who may not see members' data.
    pub fn finish(
        self,
        source: Source,
        actual: Option<&ActuallyPaid>,
        pseudonym: Option<&dyn Fn(&str) -> String>,
        out: &Path,
    ) -> Result<BacktestSummary, SimError> {
        let Closed {
            summary,
            members,
            period_names,
            rows,
            member_rewards,
        } = self.close(source, actual);
        std::fs::create_dir_all(out).map_err(|e| SimError::Io {
            path: out.display().to_string(),
            message: e.to_string(),
        })?;
        let json = serde_json::to_string_pretty(&summary).map_err(|e| SimError::Io {
            path: "summary.json".into(),
            message: e.to_string(),
        })?;
        write(&out.join("summary.json"), format!("{json}\n").as_bytes())?;
        let names = MemberNames::new(&members, pseudonym);
        let tables = [
            (
                "member_periods",
                member_periods_table(&names, &period_names, &rows, actual),
            ),
            (
                "members",
                members_table(&names, &period_names, &member_rewards, actual),
            ),
        ];
        for (name, table) in &tables {
            write(&out.join(format!("{name}.csv")), table.to_csv().as_bytes())?;
            table.write_parquet(&out.join(format!("{name}.parquet")))?;
        }
        Ok(summary)
    }

    /// Closes the last period: the summary, and what the member-level tables are made of.
    fn close(self, source: Source, actual: Option<&ActuallyPaid>) -> Closed {
        let Self {
            mut book,
            members,
            periods,
            measured,
            mut rows,
            current,
        } = self;
        if let Some(c) = current {
            book.end_period(c);
        }
        let plan = PlanInfo::of(book.policy());
        let measuring = measured.iter().filter(|x| **x).count() as u64;
        let (totals, member_rewards) = book.finish(measuring);
        let period_names: Vec<String> = periods.iter().map(ToString::to_string).collect();
        // Member-periods in (member, period) order whatever order they were decided in.
        rows.sort_by_key(|r| (r.member, r.period));

        let paid_summary = actual.map(|a| {
            let mut by_period = vec![Decimal::ZERO; period_names.len()];
            let mut members_paid = 0u64;
            let mut total = Paid::default();
            for id in &members {
                let mut any = false;
                for (k, p) in period_names.iter().enumerate() {
                    let x = a.of(id, p);
                    total.reward += x.reward;
                    total.premium_adjustment_percent += x.premium_adjustment_percent;
                    if let Some(v) = by_period.get_mut(k) {
                        *v += x.reward;
                    }
                    any |= x.reward > Decimal::ZERO;
                }
                members_paid += u64::from(any);
            }
            PaidSummary {
                total_reward: total.reward.normalize(),
                premium_adjustment_points: total.premium_adjustment_percent.normalize(),
                members_paid,
                reward_by_period: by_period.into_iter().map(|d| d.normalize()).collect(),
                by_policy: a
                    .by_policy
                    .iter()
                    .map(|(k, v)| (k.clone(), v.normalize()))
                    .collect(),
            }
        });
        let summary = BacktestSummary {
            format: "incentive-backtest-v1",
            plan,
            source,
            periods: period_names.clone(),
            members: members.len() as u64,
            would_pay: WouldPay {
                total_reward: totals.reward,
                premium_adjustment_points: totals.premium_points,
                members_earning: totals.members_earning,
                members_measuring: totals.members_measuring,
                reward_by_period: totals.reward_by_period.clone(),
                pool_exhausted_in: totals
                    .pool_exhausted_in
                    .and_then(|k| period_names.get(k as usize).cloned()),
                by_tier: totals.by_tier.clone(),
            },
            difference_reward: paid_summary
                .as_ref()
                .map(|p| (totals.reward - p.total_reward).normalize()),
            actually_paid: paid_summary,
        };
        Closed {
            summary,
            members,
            period_names,
            rows,
            member_rewards,
        }
    }
}

/// A backtest closed: its summary and the rows behind it.
struct Closed {
    summary: BacktestSummary,
    members: Vec<String>,
    period_names: Vec<String>,
    rows: Vec<Row>,
    member_rewards: Vec<Decimal>,
}

/// How the member-level tables name members: by id, or by pseudonym, in the order of the
/// names shown (so the rows' order does not give away the ids' order either).
struct MemberNames<'a> {
    ids: &'a [String],
    shown: Vec<String>,
    /// Member indices in the order their rows are written.
    order: Vec<usize>,
    column: &'static str,
}

impl<'a> MemberNames<'a> {
    fn new(ids: &'a [String], pseudonym: Option<&dyn Fn(&str) -> String>) -> Self {
        let (shown, column): (Vec<String>, _) = match pseudonym {
            Some(f) => (ids.iter().map(|id| f(id)).collect(), "member_pseudonym"),
            None => (ids.to_vec(), "member_id"),
        };
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by(|a, b| shown.get(*a).cmp(&shown.get(*b)));
        Self {
            ids,
            shown,
            order,
            column,
        }
    }

    fn id(&self, member: usize) -> &str {
        self.ids.get(member).map_or("", String::as_str)
    }

    fn shown(&self, member: usize) -> String {
        self.shown.get(member).cloned().unwrap_or_default()
    }

    /// Each member's place in the written order.
    fn rank(&self) -> Vec<usize> {
        let mut rank = vec![0; self.order.len()];
        for (place, member) in self.order.iter().enumerate() {
            if let Some(r) = rank.get_mut(*member) {
                *r = place;
            }
        }
        rank
    }
}

/// One row per member and period: what the policy decided, and what was actually posted.
fn member_periods_table(
    names: &MemberNames<'_>,
    periods: &[String],
    rows: &[Row],
    actual: Option<&ActuallyPaid>,
) -> Table {
    let rank = names.rank();
    let mut sorted: Vec<&Row> = rows.iter().collect();
    sorted.sort_by_key(|r| (rank.get(r.member).copied(), r.period));
    let rows = sorted;
    let n = rows.len();
    let (mut ids, mut period_column, mut readings, mut qualified, mut tiers) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut rewards, mut premiums, mut paid, mut paid_premium, mut difference) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for r in rows {
        let id = names.id(r.member);
        let period = periods.get(r.period).cloned().unwrap_or_default();
        if let Some(a) = actual {
            let x = a.of(id, &period);
            paid.push(x.reward.normalize());
            paid_premium.push(x.premium_adjustment_percent.normalize());
            difference.push((r.reward - x.reward).normalize());
        }
        ids.push(names.shown(r.member));
        period_column.push(period);
        readings.push(i64::try_from(r.readings).unwrap_or(i64::MAX));
        qualified.push(if r.qualified { "true" } else { "false" }.to_owned());
        tiers.push(r.tier.clone());
        rewards.push(r.reward.normalize());
        premiums.push(r.premium.normalize());
    }
    let mut columns = vec![
        Column::Text(names.column, ids),
        Column::Text("period", period_column),
        Column::Integer("readings", readings),
        Column::Text("qualified", qualified),
        Column::OptionalText("tier", tiers),
        Column::Money("reward", rewards),
        Column::Money("premium_adjustment_percent", premiums),
    ];
    if actual.is_some() {
        columns.push(Column::Money("paid_reward", paid));
        columns.push(Column::Money(
            "paid_premium_adjustment_percent",
            paid_premium,
        ));
        columns.push(Column::Money("reward_difference", difference));
    }
    Table { columns }
}

/// One row per member: the policy's total over the periods, and what was actually posted.
fn members_table(
    names: &MemberNames<'_>,
    periods: &[String],
    would: &[Decimal],
    actual: Option<&ActuallyPaid>,
) -> Table {
    let mut paid = Vec::new();
    let mut difference = Vec::new();
    let mut shown = Vec::new();
    let mut rewards = Vec::new();
    for &m in &names.order {
        let w = would.get(m).copied().unwrap_or_default();
        shown.push(names.shown(m));
        rewards.push(w);
        if let Some(a) = actual {
            let total: Decimal = periods.iter().map(|p| a.of(names.id(m), p).reward).sum();
            paid.push(total.normalize());
            difference.push((w - total).normalize());
        }
    }
    let mut columns = vec![
        Column::Text(names.column, shown),
        Column::Money("reward", rewards),
    ];
    if actual.is_some() {
        columns.push(Column::Money("paid_reward", paid));
        columns.push(Column::Money("reward_difference", difference));
    }
    Table { columns }
}

/// Where the history came from.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// A database: the tenant read (the URL is not written: it may hold a password).
    Database { backend: String, tenant: String },
    /// A readings file, by the name it was given.
    ReadingsFile { name: String },
}

/// What the policy would have paid.
#[derive(Clone, Debug, Serialize)]
pub struct WouldPay {
    pub total_reward: Decimal,
    pub premium_adjustment_points: Decimal,
    pub members_earning: u64,
    pub members_measuring: u64,
    pub reward_by_period: Vec<Decimal>,
    pub pool_exhausted_in: Option<String>,
    pub by_tier: BTreeMap<String, TierTotals>,
}

/// What was actually posted over the same members and periods.
#[derive(Clone, Debug, Serialize)]
pub struct PaidSummary {
    pub total_reward: Decimal,
    pub premium_adjustment_points: Decimal,
    pub members_paid: u64,
    pub reward_by_period: Vec<Decimal>,
    /// Each policy that paid, and its total.
    pub by_policy: BTreeMap<String, Decimal>,
}

/// `summary.json` of a backtest.
#[derive(Clone, Debug, Serialize)]
pub struct BacktestSummary {
    pub format: &'static str,
    pub plan: PlanInfo,
    pub source: Source,
    pub periods: Vec<String>,
    pub members: u64,
    pub would_pay: WouldPay,
    pub actually_paid: Option<PaidSummary>,
    /// Would pay − actually paid.
    pub difference_reward: Option<Decimal>,
}
