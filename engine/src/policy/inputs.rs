//! What a policy reads besides readings: the member's attributes and their earlier outcomes.

use super::attributes::AttributeValue;
use super::record_view::{Metric, MetricValue};
use crate::member::MemberId;
use crate::period::Period;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Attributes of an enrolled member that eligibility and cohort rules read. Each is optional:
/// a platform may not know them all, and a script sees `()` for what is missing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberProfile {
    pub id: MemberId,
    /// Age in whole years at the start of the period.
    pub age: Option<u32>,
    /// `female`, `male` or `other`.
    pub sex: Option<String>,
    pub region: Option<String>,
    /// `type1`, `type2`, `gestational` or `other`.
    pub diabetes_type: Option<String>,
    /// Whether the member uses insulin.
    pub insulin: Option<bool>,
    pub enrolled_on: Option<NaiveDate>,
    /// Attributes the tenant's policies declare (`[attributes]`), by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, AttributeValue>,
}

impl MemberProfile {
    /// A member known by id alone.
    pub fn new(id: MemberId) -> Self {
        Self {
            id,
            age: None,
            sex: None,
            region: None,
            diabetes_type: None,
            insulin: None,
            enrolled_on: None,
            attributes: BTreeMap::new(),
        }
    }

    /// The language the member reads, where a policy declares a `locale` attribute and the
    /// member has one (`zh-CN`).
    pub fn locale(&self) -> Option<&str> {
        match self.attributes.get("locale") {
            Some(AttributeValue::Text(t)) => Some(t.as_str()),
            _ => None,
        }
    }
}

pub const SEXES: [&str; 3] = ["female", "male", "other"];
pub const DIABETES_TYPES: [&str; 4] = ["type1", "type2", "gestational", "other"];
/// Ages a policy is asked about; anything outside is a data error, not a member.
pub const AGE_YEARS_MAX: u32 = 130;
/// Characters of a member's region: a province and city in any script fit; the profile is
/// copied into every decision's stored inputs, so it is no place for a document.
pub const REGION_CHARS_MAX: usize = 64;

/// The decision a member got for an earlier period of the same policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorOutcome {
    pub period: Period,
    pub reward: Decimal,
    pub premium_adjustment_percent: Decimal,
    pub tier: Option<String>,
    pub points: i64,
    /// Whether the member met the plan's target that period: what streaks count.
    pub qualified: bool,
    /// The metrics the policy keeps (`[history] keep`), as the period's decision saw them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, MetricValue>,
}

/// Everything a policy may know about a member's past under it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// Outcomes of other periods, any order. Those before the period evaluated make streaks,
    /// tiers and points; any of the same year count towards what was paid this year.
    pub outcomes: Vec<PriorOutcome>,
    /// The member's premium loading now, in percent (AIA-style status plans move it).
    pub premium_loading_percent: Decimal,
    /// What the whole pool has paid so far, when the caller knows (the store does); the pool
    /// budget cap applies only then.
    pub pool_paid: Option<Decimal>,
    /// What the member's group (`[caps] group`: their family, say) was paid under the policy
    /// in the period's calendar year, this member's own other periods included, when the
    /// caller knows (the store does); `[caps] per_group_per_year` applies only then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_paid_this_year: Option<Decimal>,
}

/// Where a member's year starts, for yearly caps and sums.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum YearStart {
    /// The first of January.
    Calendar,
    /// Each year on this month and day: a member's enrolment anniversary (29 February counts
    /// from the first of March in other years).
    Anniversary { month: u32, day: u32 },
}

impl YearStart {
    /// The year `period` belongs to: the one its first day is in, named by the calendar year
    /// in which it starts.
    pub fn year_of(self, period: Period) -> i32 {
        let Self::Anniversary { month, day } = self else {
            return period.year();
        };
        match period.first_day() {
            Some(first) => {
                use chrono::Datelike;
                if (first.month(), first.day()) < (month, day) {
                    first.year() - 1
                } else {
                    first.year()
                }
            }
            None => period.year(),
        }
    }
}

/// The history as of one period, summarised the way rules ask about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HistorySummary {
    /// Consecutive periods immediately before this one in which the member qualified.
    pub streak: i64,
    /// The tier of the most recent earlier period, if any.
    pub previous_tier: Option<String>,
    /// Whether the member qualified in the period just before this one.
    pub qualified_last_period: bool,
    pub periods_before: i64,
    /// Paid for the other periods of the same calendar year: the earlier ones, and later ones
    /// too when a period is decided again after them (a true-up), so a yearly cap holds.
    pub payouts_this_year: Decimal,
    pub points_this_year: i64,
    pub qualified_periods_this_year: i64,
    /// Sums over the previous calendar year, for annual resets with carry-over.
    pub points_last_year: i64,
    pub tier_last_year: Option<String>,
    pub premium_loading_percent: Decimal,
    pub pool_paid: Option<Decimal>,
    pub group_paid_this_year: Option<Decimal>,
    /// The period evaluated.
    #[serde(skip)]
    pub period: Period,
    /// The outcomes of the periods before it of its kind, oldest first: what
    /// `history.period(-1)` reads; gathered only for a script that reads earlier periods.
    #[serde(skip)]
    pub earlier: Option<Arc<[PriorOutcome]>>,
    /// The metrics the policy keeps (set by the policy evaluating).
    #[serde(skip)]
    pub keep: Option<Arc<[Metric]>>,
}

impl History {
    /// Summarises the outcomes before `period`. The history is data a caller sends (a case
    /// file, a platform), so its sums saturate rather than overflow: a total too large for its
    /// type is held at the largest value, which every yearly cap reads as spent.
    /// The outcomes of the periods before `period` of its kind, oldest first.
    pub fn earlier_than(&self, period: Period) -> Arc<[PriorOutcome]> {
        let mut before: Vec<PriorOutcome> = self
            .outcomes
            .iter()
            .filter(|o| o.period.kind() == period.kind() && o.period < period)
            .cloned()
            .collect();
        before.sort_by_key(|o| o.period);
        before.into()
    }

    pub fn as_of(&self, period: Period) -> HistorySummary {
        self.as_of_in(period, YearStart::Calendar)
    }

    /// [`History::as_of`], "this year" and "last year" counted from `start`: the calendar's
    /// first of January, or a member's enrolment anniversary.
    pub fn as_of_in(&self, period: Period, start: YearStart) -> HistorySummary {
        let mut before: Vec<&PriorOutcome> = self
            .outcomes
            .iter()
            .filter(|o| o.period.kind() == period.kind() && o.period < period)
            .collect();
        before.sort_by_key(|o| o.period);
        let mut streak = 0;
        let mut expected = period.previous();
        for o in before.iter().rev() {
            if o.period != expected || !o.qualified {
                break;
            }
            streak += 1;
            expected = expected.previous();
        }
        let year = start.year_of(period);
        let this_year = || before.iter().filter(|o| start.year_of(o.period) == year);
        let last_year = || {
            before
                .iter()
                .filter(|o| start.year_of(o.period) == year - 1)
        };
        HistorySummary {
            streak,
            previous_tier: before.last().and_then(|o| o.tier.clone()),
            qualified_last_period: before
                .last()
                .is_some_and(|o| o.period == period.previous() && o.qualified),
            periods_before: before.len() as i64,
            payouts_this_year: self
                .outcomes
                .iter()
                .filter(|o| {
                    o.period.kind() == period.kind()
                        && start.year_of(o.period) == year
                        && o.period != period
                })
                .map(|o| o.reward)
                .fold(Decimal::ZERO, Decimal::saturating_add),
            points_this_year: this_year().map(|o| o.points).fold(0, i64::saturating_add),
            qualified_periods_this_year: this_year().filter(|o| o.qualified).count() as i64,
            points_last_year: last_year().map(|o| o.points).fold(0, i64::saturating_add),
            tier_last_year: last_year().next_back().and_then(|o| o.tier.clone()),
            premium_loading_percent: self.premium_loading_percent,
            pool_paid: self.pool_paid,
            group_paid_this_year: self.group_paid_this_year,
            period,
            earlier: None,
            keep: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(period: &str, qualified: bool, points: i64) -> PriorOutcome {
        PriorOutcome {
            period: Period::parse(period).unwrap(),
            reward: Decimal::new(1000, 2),
            premium_adjustment_percent: Decimal::ZERO,
            tier: Some(format!("t{points}")),
            points,
            qualified,
            metrics: BTreeMap::new(),
        }
    }

    #[test]
    fn a_streak_counts_back_from_the_period_before_and_stops_at_a_gap_or_a_miss() {
        let history = History {
            outcomes: vec![
                outcome("2026-01", true, 1),
                outcome("2026-02", false, 2),
                outcome("2026-03", true, 3),
                outcome("2026-04", true, 4),
                outcome("2026-06", true, 6),
            ],
            ..History::default()
        };
        assert_eq!(history.as_of(Period::parse("2026-05").unwrap()).streak, 2);
        assert_eq!(history.as_of(Period::parse("2026-07").unwrap()).streak, 1);
        // May is missing: June's streak starts again.
        assert_eq!(history.as_of(Period::parse("2026-06").unwrap()).streak, 0);
        let may = history.as_of(Period::parse("2026-05").unwrap());
        assert_eq!(may.points_this_year, 10);
        // Paid for the year's other periods: June's too, should May be decided after it.
        assert_eq!(may.payouts_this_year, Decimal::new(5000, 2));
        assert_eq!(may.previous_tier.as_deref(), Some("t4"));
    }

    #[test]
    fn last_years_points_are_summed_for_carry_over() {
        let history = History {
            outcomes: vec![
                outcome("2025-11", true, 100),
                outcome("2025-12", true, 50),
                outcome("2026-01", true, 7),
            ],
            ..History::default()
        };
        let feb = history.as_of(Period::parse("2026-02").unwrap());
        assert_eq!(feb.points_last_year, 150);
        assert_eq!(feb.points_this_year, 7);
        assert_eq!(feb.tier_last_year.as_deref(), Some("t50"));
    }
}

/// One member's record for one period as history holds it — the member as on record, the
/// period's readings, the lab results before its end — exactly what a payout reads: what the
/// store reads out for a backtest and a backtest decides.
#[derive(Clone, Debug)]
pub struct PeriodInputs {
    pub profile: MemberProfile,
    pub readings: crate::readings::Readings,
    pub labs: Vec<crate::lab::LabResult>,
}
