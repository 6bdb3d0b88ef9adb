//! `report.html`: one file, its charts inline, nothing fetched from the network, the very
//! figures of `summary.json`, the same bytes for the same inputs — and no panic on the edge
//! cases (one replication, nothing paid, no replications at all, two plans).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::tangdaifu;
use incentive_engine::policy::Policy;
use incentive_simulations::report::{self, PlanInfo, RunInfo};
use incentive_simulations::run::PlanTotals;
use incentive_simulations::{Config, Population, Replication, Results, Shard, html, run};
use rust_decimal::Decimal;
use std::path::Path;

fn config(members: u64, periods: u32, replications: u64) -> Config {
    common::config(members, periods, replications, Shard::WHOLE)
}

/// Runs the plans and writes the results into `dir`; returns what the report was made from.
fn simulate(plans: &[&Policy], config: &Config, dir: &Path) -> (RunInfo, Results) {
    let model = Population::default();
    let results = run(&model, plans, config, &|_| {}).unwrap();
    let info = RunInfo::new(
        config,
        plans.iter().map(|p| PlanInfo::of(p)).collect(),
        &model,
    );
    report::write_results(dir, &info, &results).unwrap();
    (info, results)
}

fn read(dir: &Path) -> (String, serde_json::Value) {
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let summary =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    (html, summary)
}

fn assert_offline(html: &str) {
    for forbidden in ["<script", "<link", "url(http", "@import", "<img", "<iframe"] {
        assert!(
            !html.contains(forbidden),
            "the report contains `{forbidden}`"
        );
    }
    // The only address is the SVG namespace, which names and does not fetch.
    let stripped = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!stripped.contains("http://") && !stripped.contains("https://"));
}

#[test]
fn the_report_is_one_file_with_its_charts_and_no_network() {
    let a = tangdaifu();
    let dir = tempfile::tempdir().unwrap();
    simulate(&[&a], &config(30, 4, 8), dir.path());
    let (html, summary) = read(dir.path());
    assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
    assert!(html.matches("<svg").count() >= 3, "{html}");
    assert_offline(&html);
    assert!(html.contains(&a.manifest.id));
    let mean = summary["plans"][0]["total_reward"]["mean"]
        .as_str()
        .unwrap();
    assert!(
        html.contains(&format!("<td class=\"num\">{mean}</td>")),
        "mean {mean} is not in the report"
    );
    assert!(html.contains("Guizhou pilot"));
    // The run's population beside the pilot, the same figures in both files.
    let calibration = &summary["calibration"];
    assert_eq!(calibration["pilot"]["readings_per_member_month"], 6.5);
    let readings = calibration["model"]["readings_per_member_month"]
        .as_f64()
        .unwrap();
    assert!(
        html.contains(&format!(
            "<tr><td>readings a member a month</td><td class=\"num\">{readings:.2}</td>"
        )),
        "{readings}"
    );
    assert!(
        calibration["caveat"]
            .as_str()
            .unwrap()
            .contains("uncontrolled")
    );
    assert!(html.contains("members.age_bands") && html.contains("Guizhou-Suiyang"));
}

#[test]
fn the_same_inputs_render_the_same_bytes() {
    let a = tangdaifu();
    let dir = tempfile::tempdir().unwrap();
    let (info, results) = simulate(&[&a], &config(20, 3, 6), dir.path());
    let first = html::render(&info, &results).unwrap();
    let second = html::render(&info, &results).unwrap();
    assert_eq!(first, second);
    assert_eq!(
        first,
        std::fs::read_to_string(dir.path().join("report.html")).unwrap()
    );
}

#[test]
fn one_replication_renders_with_its_single_bar() {
    let a = tangdaifu();
    let dir = tempfile::tempdir().unwrap();
    simulate(&[&a], &config(10, 1, 1), dir.path());
    let (html, _) = read(dir.path());
    assert!(html.matches("<svg").count() >= 3);
    assert!(!html.contains("NaN"));
}

#[test]
fn two_plans_add_the_paired_difference() {
    let a = tangdaifu();
    let b = tangdaifu();
    let dir = tempfile::tempdir().unwrap();
    simulate(&[&a, &b], &config(15, 3, 5), dir.path());
    let (html, summary) = read(dir.path());
    assert!(html.matches("<svg").count() >= 4);
    assert!(html.contains("Paired difference A − B"));
    assert!(html.contains("Plan A&#39;s and plan B&#39;s totals on one chart"));
    // A plan against itself: the difference is zero throughout, and still drawn.
    assert_eq!(summary["difference_a_minus_b"]["mean"], "0");
    assert_offline(&html);
}

/// A run nobody was paid in, a pool that ran out, names that are HTML, and no replications.
#[test]
fn edge_cases_render_without_panicking_and_input_text_is_escaped() {
    let mut info = RunInfo {
        members: 2,
        periods: vec!["2026-01".into(), "2026-02".into()],
        replications: 2,
        seed: 1,
        plans: vec![PlanInfo {
            policy_id: "<b>pay&go</b>".into(),
            version: "1".into(),
            content_hash: "abc".into(),
            currency: "CNY".into(),
            pool_budget: Some(Decimal::from(100)),
        }],
        assumptions: Population::default(),
        book_members: None,
        confidence: Decimal::new(95, 2),
        renewal: None,
    };
    info.assumptions.members.regions[0].name = "<script>x</script>".into();
    let totals = |exhausted| PlanTotals {
        reward: Decimal::ZERO,
        premium_points: Decimal::ZERO,
        premium_loading_points: Decimal::ZERO,
        members_earning: 0,
        members_measuring: 0,
        reward_by_period: vec![Decimal::ZERO; 2],
        pool_exhausted_in: exhausted,
        by_tier: Default::default(),
        by_cohort: Default::default(),
        outcomes: Vec::new(),
        by_amount: Default::default(),
        members_enrolled: 2,
        members_lapsed: 0,
        flags: Default::default(),
        unpaid_not_qualified: 0,
        unpaid_qualified: 0,
    };
    let replications = vec![
        Replication {
            replication: 0,
            plans: vec![totals(Some(1))],
            no_plan: Vec::new(),
            assumptions: Vec::new(),
        },
        Replication {
            replication: 1,
            plans: vec![totals(None)],
            no_plan: Vec::new(),
            assumptions: Vec::new(),
        },
    ];
    let results = Results {
        replications,
        members: vec![incentive_simulations::members::MemberTotals::new(2)],
        stakes: vec![None],
        sensitivity: None,
    };
    let page = html::render(&info, &results).unwrap();
    assert!(page.contains("&lt;b&gt;pay&amp;go&lt;/b&gt;") && !page.contains("<b>pay"));
    assert!(page.contains("&lt;script&gt;") && !page.contains("<script"));
    assert!(page.contains("Pool budget exhaustion"));
    // Shares in control, below 7.0 % and measuring by period; the total's histogram and CDF;
    // its mean by period; the pool.
    assert_eq!(page.matches("<svg").count(), 7);

    let none = Results {
        replications: Vec::new(),
        members: Vec::new(),
        stakes: Vec::new(),
        sensitivity: None,
    };
    assert!(html::render(&info, &none).unwrap().contains("<svg"));
    info.periods.clear();
    info.plans.clear();
    assert!(html::render(&info, &none).is_ok());
}

#[test]
fn the_report_breaks_each_plan_down_by_tier_and_cohort_as_the_summary_does() {
    let a = tangdaifu();
    let dir = tempfile::tempdir().unwrap();
    simulate(&[&a], &config(15, 2, 3), dir.path());
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    for heading in [
        "By tier",
        "By age band",
        "By region",
        "By diabetes type",
        "By insulin",
    ] {
        assert!(html.contains(&format!("<h3>{heading}</h3>")), "{heading}");
    }
    for row in summary["plans"][0]["by_cohort"]["region"]
        .as_array()
        .unwrap()
    {
        let cohort = row["cohort"].as_str().unwrap();
        let mean = row["mean_reward_per_member"].as_str().unwrap();
        assert!(
            html.contains(&format!(
                "<td>{cohort}</td><td class=\"num\">{}</td><td class=\"num\">{mean}</td>",
                row["members"]
            )),
            "{cohort} {mean}"
        );
    }
}

/// The value at a path such as `plans[1].outcomes.net_cost.mean` of a JSON document.
fn at<'a>(value: &'a serde_json::Value, path: &str) -> &'a serde_json::Value {
    path.split('.')
        .fold(value, |v, part| match part.split_once('[') {
            Some((name, index)) => &v[name][index.trim_end_matches(']').parse::<usize>().unwrap()],
            None => &v[part],
        })
}

/// Every figure of the report's opening names the `summary.json` figure it shows and holds it
/// exactly; and shows it formatted as money, a percentage or points.
#[test]
fn the_opening_figures_of_the_report_are_those_of_summary_json() {
    let generous = common::package_with(&common::repo().join("policies/tangdaifu-smbg"), |m| {
        m.replace("value = 30 }", "value = 60 }")
            .replace("per_period = 30.00", "per_period = 60.00")
            .replace(
                "per_year = [300.00, \"25% of annual_premium_for_caps\"]",
                "per_year = 600.00",
            )
    });
    let dir = tempfile::tempdir().unwrap();
    simulate(&[&tangdaifu(), &generous], &config(200, 6, 4), dir.path());
    let (page, summary) = read(dir.path());
    let opening = page
        .split("<h2>At a glance</h2>")
        .nth(1)
        .and_then(|rest| rest.split("</table>").next())
        .expect("the report opens with the glance");
    let mut checked = Vec::new();
    for cell in opening.split("<td").skip(1) {
        let Some(rest) = cell.split("data-key=\"").nth(1) else {
            continue;
        };
        let key = rest.split('"').next().unwrap();
        let value = rest
            .split("data-value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let shown = cell.split('>').nth(1).unwrap().split('<').next().unwrap();
        let want = at(&summary, key);
        if value == "null" {
            assert!(
                want.is_null(),
                "{key}: the report shows none, summary.json {want}"
            );
            continue;
        }
        assert_eq!(want.as_str(), Some(value), "{key}");
        let d: Decimal = value.parse().unwrap();
        let formatted = [
            html::money(d, "CNY"),
            html::percent(d),
            format!("{:.3}", d.round_dp(3)).replace('-', "−"),
            html::grouped(d).trim_end_matches(".00").replace('-', "−"),
        ];
        assert!(
            formatted.contains(&shown.to_owned()),
            "{key}: {value} shown as `{shown}`"
        );
        checked.push(key.to_owned());
    }
    for key in [
        "plans[0].total_reward.mean",
        "plans[1].total_reward.mean",
        "no_plan.in_control_share.mean",
        "plans[1].outcomes.in_control_share.mean",
        "plans[1].outcomes.members_into_control.mean",
        "plans[1].outcomes.hba1c_change.mean",
        "plans[1].outcomes.claims_savings.mean",
        "plans[1].outcomes.net_cost.mean",
        "plans[1].outcomes.stake.response_share",
        "plans[1].outcomes.paid_back_share",
        "plans[0].budget.total",
        "plans[1].budget.reserve",
    ] {
        assert!(
            checked.iter().any(|k| k == key),
            "{key} is not in the opening: {checked:?}"
        );
    }
    assert!(page.contains("Share of members in control in each period"));
}
