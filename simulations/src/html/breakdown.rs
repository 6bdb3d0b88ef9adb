//! The report's tables of a plan broken down by the tier it decided and by cohort, the same
//! figures summary.json gives (`crate::breakdown`).

use crate::breakdown::{cohorts, tiers};
use crate::totals::Replication;
use std::fmt::Write as _;

/// Writes plan `p`'s tier and cohort tables; `esc` escapes text for HTML.
pub(crate) fn tables(
    out: &mut String,
    replications: &[Replication],
    p: usize,
    currency: &str,
    esc: fn(&str) -> String,
) {
    let rows = tiers(replications, p);
    if !rows.is_empty() {
        let _ = writeln!(
            out,
            "<h3>By tier</h3>\n<p>Per replication, on average.</p>\n<table>\n<tr><th>Tier</th>\
             <th>Member-periods</th><th>Reward ({})</th><th>Premium adjustment (points)</th></tr>",
            esc(currency)
        );
        for r in rows {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                esc(&r.tier),
                r.mean_member_periods,
                r.mean_reward,
                r.mean_premium_points
            );
        }
        out.push_str("</table>\n");
    }
    for (dimension, rows) in cohorts(replications, p) {
        let _ = writeln!(
            out,
            "<h3>By {}</h3>\n<table>\n<tr><th>Cohort</th><th>Members (all replications)</th>\
             <th>Mean reward a member ({})</th><th>Earning rate</th></tr>",
            esc(&dimension.replace('_', " ")),
            esc(currency)
        );
        for r in rows {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                esc(&r.cohort),
                r.members,
                r.mean_reward_per_member,
                r.earning_rate
            );
        }
        out.push_str("</table>\n");
    }
}
