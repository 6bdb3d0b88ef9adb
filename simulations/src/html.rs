//! `report.html`: the run as one self-contained page an actuary can open offline — the run
//! line, each plan's distribution of its total with its histogram, empirical CDF and mean by
//! period, the pool's exhaustion curve, the paired difference A − B, and every assumption.
//!
//! Charts are inline SVG drawn by `plotters`; the page needs no network, no script and no font
//! file. Every figure in a table is the decimal itself: decimals become `f64` only as chart
//! coordinates. The same inputs give the same bytes (no clock, no hash-map order, no ids).

use crate::SimError;
use crate::report::{PlanInfo, RunInfo};
use crate::run::{PlanTotals, Replication};
use crate::stats::Distribution;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::Value;
use std::fmt::Write as _;

/// Width and height of every chart, in SVG pixels.
const SIZE: (u32, u32) = (720, 300);
const FONT: &str = "sans-serif";
const BAR: RGBColor = RGBColor(70, 110, 170);
/// Bins of a histogram at most, and steps an empirical CDF draws at most.
const MAX_BINS: usize = 40;
const MAX_STEPS: usize = 1000;

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;\
max-width:960px;margin:2em auto;padding:0 1em;color:#222;line-height:1.4}\
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ddd;padding:.25em .6em;\
text-align:left;vertical-align:top}td.num{text-align:right;font-variant-numeric:tabular-nums}\
figure{margin:1em 0}figcaption{color:#555;font-size:.9em}svg{max-width:100%;height:auto}\
code{font-size:.85em;word-break:break-all}.run{color:#444}";

/// The HTML page of a run, from the same inputs as `summary.json`.
pub fn render(info: &RunInfo, replications: &[Replication]) -> Result<String, SimError> {
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
    for (p, plan) in info.plans.iter().enumerate() {
        let totals: Vec<&PlanTotals> = replications.iter().filter_map(|r| r.plans.get(p)).collect();
        plan_section(&mut out, info, p, plan, &totals)?;
        crate::html_breakdown::tables(&mut out, info, replications, p, &plan.currency, esc)?;
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
        distribution_table(&mut out, &Distribution::of(&diffs), currency);
        let svg = histogram(&diffs, &format!("A − B per replication ({currency})"))?;
        figure(
            &mut out,
            "Histogram of the difference A − B across replications.",
            &svg,
        );
    }
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

fn distribution_table(out: &mut String, d: &Distribution, currency: &str) {
    let [ci_lo, ci_hi] = d.mean_ci95;
    let rows: [(&str, String); 15] = [
        ("Replications", d.replications.to_string()),
        ("Mean", d.mean.to_string()),
        ("Standard deviation", d.sd.to_string()),
        ("Standard error of the mean", d.standard_error.to_string()),
        ("95 % CI of the mean", format!("{ci_lo} to {ci_hi}")),
        ("Minimum", d.min.to_string()),
        ("P50 (median)", d.p50.to_string()),
        ("P90", d.p90.to_string()),
        ("P95", d.p95.to_string()),
        ("P99", d.p99.to_string()),
        ("Maximum", d.max.to_string()),
        ("VaR 95 %", d.var95.to_string()),
        ("VaR 99 %", d.var99.to_string()),
        ("TVaR 95 %", d.tvar95.to_string()),
        ("TVaR 99 %", d.tvar99.to_string()),
    ];
    let _ = writeln!(
        out,
        "<table>\n<tr><th>Statistic</th><th>Value ({})</th></tr>",
        esc(currency)
    );
    for (name, value) in rows {
        let _ = writeln!(
            out,
            "<tr><td>{name}</td><td class=\"num\">{value}</td></tr>"
        );
    }
    out.push_str("</table>\n");
}

/// Every assumption of the population model, as `section.field` → value.
fn assumptions(out: &mut String, info: &RunInfo) -> Result<(), SimError> {
    let value = serde_json::to_value(&info.assumptions).map_err(|e| SimError::Io {
        path: "report.html".into(),
        message: format!("the assumptions cannot be written: {e}"),
    })?;
    let mut rows = Vec::new();
    flatten("", &value, &mut rows);
    out.push_str(
        "<h2>Assumptions</h2>\n<p>The population model as run. Defaults are calibrated to the \
         Guizhou pilot figures (see the design notes).</p>\n\
         <table>\n<tr><th>Assumption</th><th>Value</th><th>Source of the default</th></tr>\n",
    );
    for (key, lines) in rows {
        let lines: Vec<String> = lines.iter().map(|l| esc(l)).collect();
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(&key),
            lines.join("<br>"),
            esc(crate::population::source(&key))
        );
    }
    out.push_str("</table>\n");
    Ok(())
}

/// Objects become dotted keys; a list is one row with one line per element.
fn flatten(prefix: &str, value: &Value, rows: &mut Vec<(String, Vec<String>)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, rows);
            }
        }
        Value::Array(items) => rows.push((prefix.to_owned(), items.iter().map(inline).collect())),
        other => rows.push((prefix.to_owned(), vec![inline(other)])),
    }
}

fn inline(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "none".to_owned(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}: {}", inline(v)))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Array(items) => items.iter().map(inline).collect::<Vec<_>>().join("; "),
        other => other.to_string(),
    }
}

fn figure(out: &mut String, caption: &str, svg: &str) {
    let _ = writeln!(
        out,
        "<figure>\n{svg}\n<figcaption>{}</figcaption>\n</figure>",
        esc(caption)
    );
}

/// "A", "B", … for the plans, in the order they were given.
fn letter(p: usize) -> String {
    u8::try_from(p).ok().filter(|p| *p < 26).map_or_else(
        || format!("#{}", p + 1),
        |p| char::from(b'A' + p).to_string(),
    )
}

fn esc(text: &str) -> String {
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

// ---- charts ---------------------------------------------------------------------------------

fn chart_error(e: impl std::fmt::Display) -> SimError {
    SimError::Io {
        path: "report.html".into(),
        message: format!("a chart could not be drawn: {e}"),
    }
}

/// A chart coordinate: the only place a decimal becomes a float.
fn coord(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// One SVG chart in the house style: its frame, axes described by `desc` (x, y), and mesh; x
/// labelled with `periods` (period k at x = k) when given; a legend of the named series if
/// `legend`; then what `draw` puts on it.
fn chart(
    (x, y): ((f64, f64), (f64, f64)),
    desc: (&str, &str),
    periods: Option<&[String]>,
    legend: bool,
    draw: &dyn Fn(&mut Chart<'_, '_>) -> Result<(), SimError>,
) -> Result<String, SimError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(64)
            .build_cartesian_2d(x.0..x.1, y.0..y.1)
            .map_err(chart_error)?;
        let period_label = |x: &f64| period_name(periods.unwrap_or_default(), *x);
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(desc.0)
            .y_desc(desc.1)
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 13));
        if let Some(periods) = periods {
            // The labels fall on whole periods, 13 at most.
            mesh.disable_x_mesh()
                .x_labels(periods.len().clamp(1, 12) + 1)
                .x_label_formatter(&period_label);
        }
        mesh.draw().map_err(chart_error)?;
        draw(&mut chart)?;
        if legend {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .label_font((FONT, 12))
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK)
                .draw()
                .map_err(chart_error)?;
        }
        root.present().map_err(chart_error)?;
    }
    Ok(out)
}

/// An axis range around `lo..hi` with a margin, widened when it has no width.
fn span(lo: f64, hi: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) || lo > hi {
        return (0.0, 1.0);
    }
    let width = hi - lo;
    if width <= f64::EPSILON * lo.abs().max(hi.abs()).max(1.0) {
        let pad = (lo.abs() * 0.1).max(1.0);
        (lo - pad, hi + pad)
    } else {
        (lo - width * 0.05, hi + width * 0.05)
    }
}

/// A value axis that includes zero, with headroom above.
fn from_zero(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((0.0_f64, 0.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if hi - lo <= f64::EPSILON {
        (0.0, 1.0)
    } else {
        let pad = (hi - lo) * 0.08;
        (if lo < 0.0 { lo - pad } else { 0.0 }, hi + pad)
    }
}

/// Equal-width bins, exact in decimals: (lower edge, upper edge, count). Values all equal make
/// one bin of no width.
fn bins(values: &[Decimal]) -> Vec<(Decimal, Decimal, u64)> {
    let (Some(lo), Some(hi)) = (values.iter().min().copied(), values.iter().max().copied()) else {
        return Vec::new();
    };
    let n = values.len();
    let k = (n.isqrt() + usize::from(n.isqrt() * n.isqrt() < n)).clamp(1, MAX_BINS);
    let step = hi
        .checked_sub(lo)
        .and_then(|w| w.checked_div(Decimal::from(k)))
        .filter(|s| *s > Decimal::ZERO);
    let Some(step) = step else {
        return vec![(lo, hi, n as u64)];
    };
    let mut counts = vec![0_u64; k];
    for v in values {
        let i = v
            .checked_sub(lo)
            .and_then(|d| d.checked_div(step))
            .and_then(|x| x.floor().to_usize())
            .unwrap_or(0)
            .min(k - 1);
        if let Some(c) = counts.get_mut(i) {
            *c += 1;
        }
    }
    let edge = |i: usize| {
        if i >= k {
            hi
        } else {
            lo.saturating_add(step.saturating_mul(Decimal::from(i)))
        }
    };
    counts
        .into_iter()
        .enumerate()
        .map(|(i, c)| (edge(i), edge(i + 1), c))
        .collect()
}

fn histogram(values: &[Decimal], x_desc: &str) -> Result<String, SimError> {
    let bins = bins(values);
    let x = match (bins.first(), bins.last()) {
        (Some(a), Some(b)) => span(coord(a.0), coord(b.1)),
        _ => (0.0, 1.0),
    };
    let bars: Vec<[(f64, f64); 2]> = bins
        .iter()
        .map(|(a, b, c)| {
            let (mut a, mut b) = (coord(*a), coord(*b));
            if b <= a {
                // All values equal: one bar a tenth of the axis wide, centred on them.
                let half = (x.1 - x.0) / 20.0;
                (a, b) = (a - half, b + half);
            }
            [(a, 0.0), (b, *c as f64)]
        })
        .collect();
    let y = from_zero(bins.iter().map(|b| b.2 as f64));
    chart((x, y), (x_desc, "replications"), None, false, &|chart| {
        chart
            .draw_series(bars.iter().map(|r| Rectangle::new(*r, BAR.filled())))
            .map_err(chart_error)?;
        chart
            .draw_series(
                bars.iter()
                    .map(|r| Rectangle::new(*r, WHITE.stroke_width(1))),
            )
            .map_err(chart_error)?;
        Ok(())
    })
}

/// The empirical CDF as a step line, at most `MAX_STEPS` steps (evenly spaced ranks beyond).
fn ecdf(values: &[Decimal], x_desc: &str) -> Result<String, SimError> {
    let mut sorted = values.to_vec();
    sorted.sort();
    let xs: Vec<f64> = sorted.iter().map(|v| coord(*v)).collect();
    let n = xs.len();
    let x = match (xs.first(), xs.last()) {
        (Some(a), Some(b)) => span(*a, *b),
        _ => (0.0, 1.0),
    };
    let ranks: Vec<usize> = if n <= MAX_STEPS {
        (0..n).collect()
    } else {
        (0..MAX_STEPS)
            .map(|j| j * (n - 1) / (MAX_STEPS - 1))
            .collect()
    };
    let mut points = vec![(x.0, 0.0)];
    for i in ranks {
        let at = xs.get(i).copied().unwrap_or(x.0);
        let before = points.last().map_or(0.0, |p| p.1);
        points.push((at, before));
        points.push((at, (i + 1) as f64 / n as f64));
    }
    if n > 0 {
        points.push((x.1, 1.0));
    }
    let desc = (x_desc, "share of replications");
    chart((x, (0.0, 1.0)), desc, None, false, &|chart| {
        chart
            .draw_series(LineSeries::new(points.iter().copied(), BAR.stroke_width(2)))
            .map_err(chart_error)?;
        Ok(())
    })
}

/// Period index `k` sits at x = k.
fn period_range(periods: &[String]) -> (f64, f64) {
    (-0.5, periods.len().max(1) as f64 - 0.5)
}

fn period_name(periods: &[String], x: f64) -> String {
    let k = x.round();
    if (x - k).abs() > 1e-9 || k < 0.0 {
        return String::new();
    }
    periods.get(k as usize).cloned().unwrap_or_default()
}

fn period_bars(periods: &[String], values: &[Decimal], y_desc: &str) -> Result<String, SimError> {
    let y = from_zero(values.iter().map(|v| coord(*v)));
    let x = period_range(periods);
    chart((x, y), ("period", y_desc), Some(periods), false, &|chart| {
        chart
            .draw_series(values.iter().enumerate().map(|(k, v)| {
                let x = k as f64;
                Rectangle::new([(x - 0.35, 0.0), (x + 0.35, coord(*v))], BAR.filled())
            }))
            .map_err(chart_error)?;
        Ok(())
    })
}

/// One line a series over the periods, y from 0 to 1, with a legend.
fn period_lines(
    periods: &[String],
    series: &[(String, Vec<Decimal>)],
    y_desc: &str,
) -> Result<String, SimError> {
    let axes = (period_range(periods), (0.0, 1.0));
    chart(axes, ("period", y_desc), Some(periods), true, &|chart| {
        for (i, (name, shares)) in series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let points: Vec<(f64, f64)> = shares
                .iter()
                .enumerate()
                .map(|(k, s)| (k as f64, coord(*s)))
                .collect();
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    color.stroke_width(2),
                ))
                .map_err(chart_error)?
                .label(name.as_str())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color));
            chart
                .draw_series(points.iter().map(|p| Circle::new(*p, 3, color.filled())))
                .map_err(chart_error)?;
        }
        Ok(())
    })
}
