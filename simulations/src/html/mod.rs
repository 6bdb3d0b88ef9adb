//! `report.html`: the run as one self-contained page an actuary can open offline — the run
//! line, each plan's distribution of its total with its histogram, empirical CDF and mean by
//! period, the pool's exhaustion curve, the paired difference A − B, and every assumption.
//!
//! Charts are inline SVG drawn by `plotters`; the page needs no network, no script and no font
//! file. Every figure in a table is the decimal itself: decimals become `f64` only as chart
//! coordinates. The same inputs give the same bytes (no clock, no hash-map order, no ids).

mod breakdown;
mod charts;
mod glance;
mod tables;

pub use glance::{grouped, money, percent};

use crate::SimError;
use crate::derived::Derived;
use crate::info::{PlanInfo, RunInfo};
use crate::stats::Distribution;
use crate::totals::{PlanTotals, Replication, Results};
use charts::{ecdf, histogram, period_bars, period_lines};
use rust_decimal::Decimal;
use std::fmt::Write as _;
use tables::{assumptions, distribution_table};

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;\
max-width:960px;margin:2em auto;padding:0 1em;color:#222;line-height:1.4}\
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ddd;padding:.25em .6em;\
text-align:left;vertical-align:top}td.num{text-align:right;font-variant-numeric:tabular-nums}\
figure{margin:1em 0}figcaption{color:#555;font-size:.9em}svg{max-width:100%;height:auto}\
code{font-size:.85em;word-break:break-all}.run{color:#444}.warn{color:#8a4b00}";

/// The HTML page of a run, from the same inputs as `summary.json`.
pub fn render(info: &RunInfo, results: &Results) -> Result<String, SimError> {
    render_of(info, results, &Derived::of(info, results)?)
}

/// The HTML page of a run, its derived figures found already (shown by `summary.json` too).
pub fn render_of(info: &RunInfo, results: &Results, derived: &Derived) -> Result<String, SimError> {
    let replications = results.replications.as_slice();
    let mut out = String::new();
    let title = info
        .plans
        .iter()
        .map(|p| p.policy_id.as_str())
        .collect::<Vec<_>>()
        .join(" vs ");
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Simulation: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>Simulation report: {}</h1>\n",
        esc(&title),
        esc(&title)
    );
    run_line(&mut out, info);
    let (outcomes, no_plan) = (&derived.outcomes, &derived.no_plan);
    let rewards: Vec<Distribution> = (0..info.plans.len())
        .map(|p| {
            let totals: Vec<Decimal> = replications
                .iter()
                .filter_map(|r| Some(r.plans.get(p)?.reward))
                .collect();
            Distribution::of(&totals)
        })
        .collect();
    let glances: Vec<glance::PlanGlance> = rewards
        .iter()
        .zip(outcomes)
        .zip(&derived.budgets)
        .map(|((total_reward, outcomes), budget)| glance::PlanGlance {
            total_reward,
            outcomes,
            budget,
        })
        .collect();
    glance::section(&mut out, info, &glances, no_plan);
    outcome_charts(&mut out, info, outcomes, no_plan)?;
    for (p, plan) in info.plans.iter().enumerate() {
        let totals: Vec<&PlanTotals> = replications.iter().filter_map(|r| r.plans.get(p)).collect();
        plan_section(&mut out, info, p, plan, &totals)?;
        breakdown::tables(&mut out, replications, p, &plan.currency, esc);
    }
    pool_section(&mut out, info, replications)?;
    if info.plans.len() == 2 {
        let diffs: Vec<Decimal> = replications
            .iter()
            .filter_map(|r| r.plans.first()?.reward.checked_sub(r.plans.get(1)?.reward))
            .collect();
        let currency = info.plans.first().map_or("", |p| p.currency.as_str());
        out.push_str(
            "<h2>Paired difference A − B</h2>\n<p>Plan A's total minus plan B's, per \
             replication, on the same members and readings.</p>\n",
        );
        let totals = |p: usize| -> Vec<Decimal> {
            replications
                .iter()
                .filter_map(|r| Some(r.plans.get(p)?.reward))
                .collect()
        };
        let series: Vec<(String, Vec<Decimal>)> = info
            .plans
            .iter()
            .enumerate()
            .map(|(p, plan)| (format!("{} {}", letter(p), plan.policy_id), totals(p)))
            .collect();
        let svg = charts::ecdf_overlay(&series, &format!("total reward ({currency})"))?;
        figure(
            &mut out,
            "Plan A's and plan B's totals on one chart: the share of replications paying at most x.",
            &svg,
        );
        distribution_table(&mut out, &Distribution::of(&diffs), currency);
        let svg = histogram(&diffs, &format!("A − B per replication ({currency})"))?;
        figure(
            &mut out,
            "Histogram of the difference A − B across replications.",
            &svg,
        );
    }
    if let Some(sensitivity) = &results.sensitivity {
        tornado_section(&mut out, info, sensitivity)?;
    }
    calibration_section(&mut out, &derived.calibration);
    assumptions(&mut out, info)?;
    out.push_str("</body>\n</html>\n");
    Ok(out)
}

fn run_line(out: &mut String, info: &RunInfo) {
    let plans: Vec<String> = info
        .plans
        .iter()
        .enumerate()
        .map(|(p, plan)| {
            format!(
                "{} <b>{}</b> version {}, content hash <code>{}</code>",
                letter(p),
                esc(&plan.policy_id),
                esc(&plan.version),
                esc(&plan.content_hash)
            )
        })
        .collect();
    let periods = match (info.periods.first(), info.periods.last()) {
        (Some(a), Some(b)) => format!(" ({} to {})", esc(a), esc(b)),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "<p class=\"run\">Policies: {}.<br>{} members · {} periods{periods} · \
         {} replications · seed {}</p>",
        plans.join("; "),
        info.members,
        info.periods.len(),
        info.replications,
        info.seed
    );
}

fn plan_section(
    out: &mut String,
    info: &RunInfo,
    p: usize,
    plan: &PlanInfo,
    totals: &[&PlanTotals],
) -> Result<(), SimError> {
    let currency = plan.currency.as_str();
    let _ = writeln!(
        out,
        "<h2>Plan {}: {} <small>version {}</small></h2>",
        letter(p),
        esc(&plan.policy_id),
        esc(&plan.version)
    );
    if let Some(budget) = plan.pool_budget {
        let _ = writeln!(out, "<p>Pool budget: {budget} {}.</p>", esc(currency));
    }
    let rewards: Vec<Decimal> = totals.iter().map(|t| t.reward).collect();
    out.push_str("<h3>Total reward paid per replication</h3>\n");
    distribution_table(out, &Distribution::of(&rewards), currency);
    let desc = format!("total reward ({currency})");
    let svg = histogram(&rewards, &desc)?;
    figure(
        out,
        "Histogram of the total reward across replications.",
        &svg,
    );
    let svg = ecdf(&rewards, &desc)?;
    figure(
        out,
        "Empirical CDF: the share of replications paying at most x.",
        &svg,
    );
    let n = Decimal::from(totals.len().max(1));
    let means: Vec<Decimal> = (0..info.periods.len())
        .map(|k| {
            let sum: Decimal = totals
                .iter()
                .filter_map(|t| t.reward_by_period.get(k))
                .fold(Decimal::ZERO, |a, b| a.saturating_add(*b));
            sum.checked_div(n)
                .unwrap_or_default()
                .round_dp(4)
                .normalize()
        })
        .collect();
    let svg = period_bars(&info.periods, &means, &format!("mean paid ({currency})"))?;
    figure(
        out,
        "Mean reward paid in each period, over replications.",
        &svg,
    );
    unpaid_and_flagged(out, totals);
    Ok(())
}

/// Member-periods a replication paid nothing, by why, and flagged, by flag: the figures of
/// `summary.json`'s `mean_unpaid_member_periods` and `mean_flagged_member_periods`.
fn unpaid_and_flagged(out: &mut String, totals: &[&PlanTotals]) {
    let n = Decimal::from(totals.len().max(1) as u64);
    let mean = |sum: u64| (Decimal::from(sum) / n).round_dp(4).normalize();
    let mut flags: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for (flag, count) in totals.iter().flat_map(|t| &t.flags) {
        *flags.entry(flag.as_str()).or_default() += count;
    }
    let mut amounts: std::collections::BTreeMap<Decimal, u64> = std::collections::BTreeMap::new();
    for (amount, count) in totals.iter().flat_map(|t| &t.by_amount) {
        *amounts.entry(*amount).or_default() += count;
    }
    if !amounts.is_empty() {
        out.push_str(
            "<h3>Cost by amount paid</h3>\n<p>For a plan that pays by steps, its cost by step: \
             member-periods paid each amount, and what they cost, a replication on average.</p>\n\
             <table>\n<tr><th>Amount</th><th>Member-periods</th><th>Cost</th></tr>\n",
        );
        for (amount, count) in &amounts {
            let _ = writeln!(
                out,
                "<tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                glance::grouped(*amount),
                mean(*count),
                glance::grouped((*amount * Decimal::from(*count) / n).round_dp(4))
            );
        }
        out.push_str("</table>\n");
    }
    out.push_str(
        "<h3>Paid nothing, and flagged</h3>\n<table>\n<tr><th>Member-periods a replication</th>\
         <th>Mean</th></tr>\n",
    );
    let rows = [
        (
            "paid nothing: not qualified".to_owned(),
            mean(totals.iter().map(|t| t.unpaid_not_qualified).sum()),
        ),
        (
            "paid nothing: qualified, the reward came to nothing (a step of 0, a cap, the pool)"
                .to_owned(),
            mean(totals.iter().map(|t| t.unpaid_qualified).sum()),
        ),
    ]
    .into_iter()
    .chain(
        flags
            .into_iter()
            .map(|(flag, sum)| (format!("flagged <code>{}</code>", esc(flag)), mean(sum))),
    );
    for (name, value) in rows {
        let _ = writeln!(
            out,
            "<tr><td>{name}</td><td class=\"num\">{value}</td></tr>"
        );
    }
    out.push_str("</table>\n");
}

/// The tornado: each plan's net cost with each varied assumption at its low (blue) and high
/// (orange), one at a time, and a table of every figure.
fn tornado_section(
    out: &mut String,
    info: &RunInfo,
    sensitivity: &crate::tornado::Sensitivity,
) -> Result<(), SimError> {
    out.push_str(
        "<h2>Sensitivity: one assumption at a time</h2>\n<p>Each bar is the run again with one \
         assumption at its low (blue) and at its high (orange), everything else as it is, on the \
         same members and random numbers; the line is the run as it is. Net cost is discounted \
         rewards less discounted claims savings.</p>\n",
    );
    for (p, plan) in info.plans.iter().enumerate() {
        let currency = plan.currency.as_str();
        let rows: Vec<(String, Decimal, Decimal)> = sensitivity
            .bars
            .iter()
            .filter_map(|b| {
                Some((
                    b.assumption.clone(),
                    b.at_low.get(p)?.net_cost,
                    b.at_high.get(p)?.net_cost,
                ))
            })
            .collect();
        let base = sensitivity
            .base
            .get(p)
            .map_or(Decimal::ZERO, |f| f.net_cost);
        let svg = charts::tornado(&rows, base, &format!("net cost ({currency})"))?;
        figure(
            out,
            &format!(
                "Plan {} {}: net cost with each assumption at its low and high.",
                letter(p),
                plan.policy_id
            ),
            &svg,
        );
        let _ = writeln!(
            out,
            "<table>\n<tr><th>Assumption</th><th>Value</th><th>Low</th><th>High</th>\
             <th>Net cost at low</th><th>Net cost at high</th>\
             <th>Below 7.0 % at low</th><th>Below 7.0 % at high</th></tr>"
        );
        for b in &sensitivity.bars {
            let (Some(lo), Some(hi)) = (b.at_low.get(p), b.at_high.get(p)) else {
                continue;
            };
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                esc(&b.assumption),
                b.value,
                b.low,
                b.high,
                glance::money(lo.net_cost, currency),
                glance::money(hi.net_cost, currency),
                lo.members_into_hba1c_target,
                hi.members_into_hba1c_target
            );
        }
        out.push_str("</table>\n");
    }
    Ok(())
}

/// The run's population beside the pilot's figures, and what they cannot say.
fn calibration_section(out: &mut String, c: &crate::calibration::Calibration) {
    let _ = writeln!(
        out,
        "<h2>Calibration</h2>\n<p>The population of this run ({} members, twelve months, behaving \
         as under plan A) beside the pilot it is calibrated to. Caveat: {}.</p>\n<table>\n\
         <tr><th>Figure</th><th>This population</th><th>Pilot</th></tr>",
        c.members,
        esc(c.caveat)
    );
    let (m, p) = (&c.model, &c.pilot);
    let share = |v: f64| format!("{:.1} %", v * 100.0);
    for (name, model, pilot) in [
        (
            "readings a member a month",
            format!("{:.2}", m.readings_per_member_month),
            format!("{:.2}", p.readings_per_member_month),
        ),
        (
            "measuring every month",
            share(m.measuring_every_month_share),
            share(p.measuring_every_month_share),
        ),
        (
            "at the frequency standard",
            share(m.frequency_standard_share),
            share(p.frequency_standard_share),
        ),
        (
            "readings in target",
            share(m.readings_in_target_share),
            share(p.readings_in_target_share),
        ),
        (
            "hyperglycaemic, first month",
            share(m.hyperglycaemia_first_month_share),
            share(p.hyperglycaemia_first_month_share),
        ),
        (
            "hyperglycaemic, twelfth month",
            share(m.hyperglycaemia_last_month_share),
            share(p.hyperglycaemia_last_month_share),
        ),
    ] {
        let _ = writeln!(
            out,
            "<tr><td>{name}</td><td class=\"num\">{model}</td><td class=\"num\">{pilot}</td></tr>"
        );
    }
    out.push_str("</table>\n");
}

/// Each arm's share in control, below 7.0 % HbA1c and measuring by period: the no-plan arm and
/// each plan.
fn outcome_charts(
    out: &mut String,
    info: &RunInfo,
    plans: &[crate::effects::PlanOutcomes],
    no_plan: &crate::effects::NoPlan,
) -> Result<(), SimError> {
    if info.periods.is_empty() {
        return Ok(());
    }
    for (title, of) in [
        (
            "in control",
            (|r: &crate::effects::PeriodRow| r.in_control_share)
                as fn(&crate::effects::PeriodRow) -> Decimal,
        ),
        ("with HbA1c below 7.0 %", |r: &crate::effects::PeriodRow| {
            r.hba1c_target_share
        }),
        ("measuring", |r: &crate::effects::PeriodRow| {
            r.measuring_share
        }),
    ] {
        let mut series = vec![(
            "no plan".to_owned(),
            no_plan.by_period.iter().map(of).collect::<Vec<_>>(),
        )];
        for (p, (plan, o)) in info.plans.iter().zip(plans).enumerate() {
            series.push((
                format!("{} {}", letter(p), plan.policy_id),
                o.by_period.iter().map(of).collect(),
            ));
        }
        let svg = period_lines(&info.periods, &series, &format!("share {title}"))?;
        figure(
            out,
            &format!(
                "Share of members {title} in each period, mean over replications, with no plan and under each plan."
            ),
            &svg,
        );
    }
    Ok(())
}

/// Share of replications whose pool ran out by each period, for the plans with a pool.
fn pool_section(
    out: &mut String,
    info: &RunInfo,
    replications: &[Replication],
) -> Result<(), SimError> {
    let n = replications.len();
    let series: Vec<(String, Vec<Decimal>)> = info
        .plans
        .iter()
        .enumerate()
        .filter(|(_, plan)| plan.pool_budget.is_some())
        .map(|(p, plan)| {
            let shares = (0..info.periods.len())
                .map(|k| {
                    let by_then = replications
                        .iter()
                        .filter_map(|r| r.plans.get(p)?.pool_exhausted_in)
                        .filter(|e| usize::try_from(*e).is_ok_and(|e| e <= k))
                        .count();
                    Decimal::from(by_then)
                        .checked_div(Decimal::from(n))
                        .unwrap_or_default()
                        .round_dp(4)
                        .normalize()
                })
                .collect();
            (format!("{} {}", letter(p), plan.policy_id), shares)
        })
        .collect();
    if series.is_empty() {
        return Ok(());
    }
    out.push_str("<h2>Pool budget exhaustion</h2>\n");
    let svg = period_lines(&info.periods, &series, "share of replications")?;
    figure(
        out,
        "Share of replications whose pool had run out by each period.",
        &svg,
    );
    Ok(())
}

pub(crate) fn figure(out: &mut String, caption: &str, svg: &str) {
    let _ = writeln!(
        out,
        "<figure>\n{svg}\n<figcaption>{}</figcaption>\n</figure>",
        esc(caption)
    );
}

/// "A", "B", … for the plans, in the order they were given.
pub(crate) fn letter(p: usize) -> String {
    u8::try_from(p).ok().filter(|p| *p < 26).map_or_else(
        || format!("#{}", p + 1),
        |p| char::from(b'A' + p).to_string(),
    )
}

pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
