//! The report's opening: each plan against the no-plan arm — what it costs, what it buys, its
//! net cost — with intervals, in the figures an actuary reads first: money with two decimals,
//! thousands separators and the currency; rates as percentages; cost per member per month and
//! as a share of premium. Every cell names the `summary.json` figure it shows (`data-key`) and
//! holds it exactly (`data-value`), so a test can hold the page to the file.

use super::{esc, letter};
use crate::effects::{NoPlan, PlanOutcomes};
use crate::info::RunInfo;
use crate::stats::{Distribution, Ratio};
use rust_decimal::{Decimal, RoundingStrategy};
use std::fmt::Write as _;

/// What the opening shows of one plan.
pub(super) struct PlanGlance<'a> {
    pub total_reward: &'a Distribution,
    pub outcomes: &'a PlanOutcomes,
    pub budget: &'a crate::budget::Budget,
}

/// `1234567.891` → `1,234,567.89`: two decimals, half away from zero, thousands separated.
pub fn grouped(d: Decimal) -> String {
    let rounded = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    let text = format!("{:.2}", rounded.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((text.as_str(), "00"));
    let mut out = String::with_capacity(text.len() + whole.len() / 3 + 1);
    if rounded.is_sign_negative() && !rounded.is_zero() {
        out.push('−');
    }
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    let _ = write!(out, ".{fraction}");
    out
}

/// Money as the report shows it: `1,234.50 CNY`.
pub fn money(d: Decimal, currency: &str) -> String {
    format!("{} {}", grouped(d), esc(currency))
}

/// A share as a percentage with one decimal: `0.1234` → `12.3 %`.
pub fn percent(share: Decimal) -> String {
    let p = (share * Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero);
    let sign = if p.is_sign_negative() && !p.is_zero() {
        "−"
    } else {
        ""
    };
    format!("{sign}{:.1} %", p.abs())
}

/// How a cell shows its figure.
#[derive(Clone, Copy)]
enum Shown<'a> {
    Money(&'a str),
    Percent,
    Points,
    Count,
}

fn show(d: Decimal, how: Shown<'_>) -> String {
    match how {
        Shown::Money(currency) => money(d, currency),
        Shown::Percent => percent(d),
        Shown::Points => {
            let p = d.round_dp_with_strategy(3, RoundingStrategy::MidpointAwayFromZero);
            if p.is_sign_negative() && !p.is_zero() {
                format!("−{:.3}", p.abs())
            } else {
                format!("{p:.3}")
            }
        }
        Shown::Count => grouped(d).trim_end_matches(".00").to_owned(),
    }
}

/// A cell showing a mean with its interval, naming the summary figure it is.
fn mean_cell(key: &str, mean: Decimal, ci: [Decimal; 2], how: Shown<'_>) -> String {
    format!(
        "<td class=\"num\" data-key=\"{key}.mean\" data-value=\"{mean}\">{}<br><small>{} to {}</small></td>",
        show(mean, how),
        show(ci[0], how),
        show(ci[1], how)
    )
}

fn distribution_cell(key: &str, d: &Distribution, how: Shown<'_>) -> String {
    mean_cell(key, d.mean, d.mean_ci95, how)
}

fn ratio_cell(key: &str, r: Option<&Ratio>, how: Shown<'_>) -> String {
    match r {
        Some(r) => mean_cell(key, r.mean, r.mean_ci95, how),
        None => format!("<td class=\"num\" data-key=\"{key}\" data-value=\"null\">—</td>"),
    }
}

fn value_cell(key: &str, d: Decimal, how: Shown<'_>) -> String {
    format!(
        "<td class=\"num\" data-key=\"{key}\" data-value=\"{d}\">{}</td>",
        show(d, how)
    )
}

const BLANK: &str = "<td></td>";

/// The opening section.
pub(super) fn section(
    out: &mut String,
    info: &RunInfo,
    plans: &[PlanGlance<'_>],
    no_plan: &NoPlan,
) {
    let currency = info.plans.first().map_or("", |p| p.currency.as_str());
    let months = Decimal::from(info.periods.len().max(1) as u64)
        * Decimal::from(crate::report::months_in(info).unwrap_or(1));
    let member_months = Decimal::from(info.members.max(1)) * months;
    let monthly_premium = info.assumptions.response.annual_premium / Decimal::from(12);
    out.push_str(
        "<h2>At a glance</h2>\n<p>Each plan against the same members with no plan (the same \
         random numbers, no rewards). Each figure is the mean over replications with its 95 % \
         interval below it. Outcomes and savings are a <b>model</b>: the response to a reward, \
         the value of an HbA1c point and its timing are assumptions, sourced and ranged in the \
         assumptions below; the intervals are ",
    );
    out.push_str(&esc(crate::effects::intervals_include(&info.assumptions)));
    out.push_str(
        ". The population is calibrated to one uncontrolled before/after pilot (Guizhou, \
         2015–2016).</p>\n<table>\n<tr><th></th><th>No plan</th>",
    );
    for (p, plan) in info.plans.iter().enumerate() {
        let _ = write!(out, "<th>Plan {}: {}</th>", letter(p), esc(&plan.policy_id));
    }
    out.push_str("</tr>\n");
    let mut row = |name: &str, none: String, cells: &dyn Fn(usize, &PlanGlance<'_>) -> String| {
        let _ = write!(out, "<tr><th>{name}</th>{none}");
        for (p, plan) in plans.iter().enumerate() {
            out.push_str(&cells(p, plan));
        }
        out.push_str("</tr>\n");
    };
    let money = Shown::Money(currency);
    let key = |p: usize, rest: &str| format!("plans[{p}].{rest}");
    row("Rewards paid", BLANK.into(), &|p, g| {
        distribution_cell(&key(p, "total_reward"), g.total_reward, money)
    });
    row("Per member per month", BLANK.into(), &|p, g| {
        let pmpm = (g.total_reward.mean / member_months).round_dp(4);
        format!(
            "<td class=\"num\" title=\"{} ÷ member-months\">{}</td>",
            key(p, "total_reward.mean"),
            show(pmpm, money)
        )
    });
    row("Share of premium", BLANK.into(), &|p, g| {
        let pmpm = g.total_reward.mean / member_months;
        let share = if monthly_premium.is_zero() {
            Decimal::ZERO
        } else {
            (pmpm / monthly_premium).round_dp(4)
        };
        format!(
            "<td class=\"num\" title=\"{} ÷ member-months ÷ response.annual_premium × 12\">{}</td>",
            key(p, "total_reward.mean"),
            percent(share)
        )
    });
    let level = percent(info.confidence);
    row(
        &format!("Budget at {level} confidence"),
        BLANK.into(),
        &|p, g| value_cell(&key(p, "budget.total"), g.budget.total, money),
    );
    row(
        &format!("Reserve at a period's end, {level}"),
        BLANK.into(),
        &|p, g| value_cell(&key(p, "budget.reserve"), g.budget.reserve, money),
    );
    if let Some(book) = info.book_members {
        let name = format!(
            "Budget for the book of {} members, {level}",
            show(Decimal::from(book), Shown::Count)
        );
        row(&name, BLANK.into(), &|p, g| match &g.budget.for_book {
            Some(b) => value_cell(&key(p, "budget.for_book.total"), b.total, money),
            None => BLANK.into(),
        });
    }
    row(
        "Reward at stake a member-year",
        BLANK.into(),
        &|p, g| match &g.outcomes.stake {
            Some(s) => value_cell(
                &key(p, "outcomes.stake.reward_per_member_year"),
                s.reward_per_member_year,
                money,
            ),
            None => "<td>fixed response</td>".into(),
        },
    );
    row(
        "Stake as a share of premium (premium changes valued)",
        BLANK.into(),
        &|p, g| match &g.outcomes.stake {
            Some(s) => value_cell(
                &key(p, "outcomes.stake.share_of_premium"),
                s.share_of_premium,
                Shown::Percent,
            ),
            None => BLANK.into(),
        },
    );
    row(
        "Response bought",
        BLANK.into(),
        &|p, g| match &g.outcomes.stake {
            Some(s) => value_cell(
                &key(p, "outcomes.stake.response_share"),
                s.response_share,
                Shown::Percent,
            ),
            None => BLANK.into(),
        },
    );
    row(
        "In the fasting target at the horizon",
        distribution_cell(
            "no_plan.in_control_share",
            &no_plan.in_control_share,
            Shown::Percent,
        ),
        &|p, g| {
            distribution_cell(
                &key(p, "outcomes.in_control_share"),
                &g.outcomes.in_control_share,
                Shown::Percent,
            )
        },
    );
    row(
        "Members brought into the fasting target",
        BLANK.into(),
        &|p, g| {
            distribution_cell(
                &key(p, "outcomes.members_into_control"),
                &g.outcomes.members_into_control,
                Shown::Count,
            )
        },
    );
    row(
        "Cost a member brought into control",
        BLANK.into(),
        &|p, g| {
            ratio_cell(
                &key(p, "outcomes.cost_per_member_into_control"),
                g.outcomes.cost_per_member_into_control.as_ref(),
                money,
            )
        },
    );
    row(
        "HbA1c below 7.0 % at the horizon",
        distribution_cell(
            "no_plan.hba1c_target_share",
            &no_plan.hba1c_target_share,
            Shown::Percent,
        ),
        &|p, g| {
            distribution_cell(
                &key(p, "outcomes.hba1c_target_share"),
                &g.outcomes.hba1c_target_share,
                Shown::Percent,
            )
        },
    );
    row("Members brought below 7.0 %", BLANK.into(), &|p, g| {
        distribution_cell(
            &key(p, "outcomes.members_into_hba1c_target"),
            &g.outcomes.members_into_hba1c_target,
            Shown::Count,
        )
    });
    row(
        "Cost a member brought below 7.0 %",
        BLANK.into(),
        &|p, g| {
            ratio_cell(
                &key(p, "outcomes.cost_per_member_into_hba1c_target"),
                g.outcomes.cost_per_member_into_hba1c_target.as_ref(),
                money,
            )
        },
    );
    row(
        "HbA1c at the horizon: the mean with no plan (%), each plan's change from it (points)",
        distribution_cell(
            "no_plan.mean_hba1c_percent",
            &no_plan.mean_hba1c_percent,
            Shown::Points,
        ),
        &|p, g| {
            distribution_cell(
                &key(p, "outcomes.hba1c_change"),
                &g.outcomes.hba1c_change,
                Shown::Points,
            )
        },
    );
    row("HbA1c points saved per 10,000", BLANK.into(), &|p, g| {
        ratio_cell(
            &key(p, "outcomes.hba1c_points_per_10000"),
            g.outcomes.hba1c_points_per_10000.as_ref(),
            Shown::Points,
        )
    });
    row("Claims saved (discounted)", BLANK.into(), &|p, g| {
        distribution_cell(
            &key(p, "outcomes.claims_savings"),
            &g.outcomes.claims_savings,
            money,
        )
    });
    row("Net cost (discounted)", BLANK.into(), &|p, g| {
        distribution_cell(&key(p, "outcomes.net_cost"), &g.outcomes.net_cost, money)
    });
    row("Return on rewards", BLANK.into(), &|p, g| {
        ratio_cell(
            &key(p, "outcomes.return_on_rewards"),
            g.outcomes.return_on_rewards.as_ref(),
            Shown::Percent,
        )
    });
    row(
        "Replications paid back by the horizon",
        BLANK.into(),
        &|p, g| {
            let when = g
                .outcomes
                .payback_period
                .as_deref()
                .map_or_else(String::new, |k| {
                    format!("<br><small>half by {}</small>", esc(k))
                });
            format!(
                "<td class=\"num\" data-key=\"{}\" data-value=\"{}\">{}{when}</td>",
                key(p, "outcomes.paid_back_share"),
                g.outcomes.paid_back_share,
                percent(g.outcomes.paid_back_share)
            )
        },
    );
    out.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_has_two_decimals_and_thousands_separators() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(grouped(d("1234567.891")), "1,234,567.89");
        assert_eq!(grouped(d("999.995")), "1,000.00");
        assert_eq!(grouped(d("-1234.5")), "−1,234.50");
        assert_eq!(grouped(d("0")), "0.00");
        assert_eq!(grouped(d("-0.001")), "0.00");
        assert_eq!(money(d("12"), "CNY"), "12.00 CNY");
        assert_eq!(percent(d("0.1234")), "12.3 %");
        assert_eq!(percent(d("-0.0005")), "−0.1 %");
        assert_eq!(show(d("-12"), Shown::Count), "−12");
    }
}
