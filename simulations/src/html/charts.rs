//! The report's charts, drawn as inline SVG by plotters. Decimals become `f64` here only, as
//! coordinates.

use crate::SimError;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// Width and height of every chart, in SVG pixels.
const SIZE: (u32, u32) = (720, 300);
const FONT: &str = "sans-serif";
const BAR: RGBColor = RGBColor(70, 110, 170);
/// Bins of a histogram at most, and steps an empirical CDF draws at most.
const MAX_BINS: usize = 40;
const MAX_STEPS: usize = 1000;
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

pub(super) fn histogram(values: &[Decimal], x_desc: &str) -> Result<String, SimError> {
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
pub(super) fn ecdf(values: &[Decimal], x_desc: &str) -> Result<String, SimError> {
    let x = value_range(values.iter());
    let points = ecdf_points(values, x);
    let desc = (x_desc, "share of replications");
    chart((x, (0.0, 1.0)), desc, None, false, &|chart| {
        chart
            .draw_series(LineSeries::new(points.iter().copied(), BAR.stroke_width(2)))
            .map_err(chart_error)?;
        Ok(())
    })
}

/// Several empirical CDFs on one chart, with a legend: plan A's total beside plan B's.
pub(super) fn ecdf_overlay(
    series: &[(String, Vec<Decimal>)],
    x_desc: &str,
) -> Result<String, SimError> {
    let x = value_range(series.iter().flat_map(|(_, v)| v));
    let desc = (x_desc, "share of replications");
    chart((x, (0.0, 1.0)), desc, None, true, &|chart| {
        for (i, (name, values)) in series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            chart
                .draw_series(LineSeries::new(
                    ecdf_points(values, x),
                    color.stroke_width(2),
                ))
                .map_err(chart_error)?
                .label(name.as_str())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color));
        }
        Ok(())
    })
}

/// The axis range of some values, with a margin.
fn value_range<'a>(values: impl Iterator<Item = &'a Decimal>) -> (f64, f64) {
    let (lo, hi) = values
        .map(|v| coord(*v))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if lo.is_finite() && hi.is_finite() {
        span(lo, hi)
    } else {
        (0.0, 1.0)
    }
}

/// The steps of an empirical CDF of `values` across `x`, at most [`MAX_STEPS`] of them.
fn ecdf_points(values: &[Decimal], x: (f64, f64)) -> Vec<(f64, f64)> {
    let mut sorted = values.to_vec();
    sorted.sort();
    let xs: Vec<f64> = sorted.iter().map(|v| coord(*v)).collect();
    let n = xs.len();
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
    points
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

pub(super) fn period_bars(
    periods: &[String],
    values: &[Decimal],
    y_desc: &str,
) -> Result<String, SimError> {
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
pub(super) fn period_lines(
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

/// A tornado: for each row (an assumption), a bar from its value at the low end to its value at
/// the high end, about the base's line; rows top to bottom as given.
pub(super) fn tornado(
    rows: &[(String, Decimal, Decimal)],
    base: Decimal,
    x_desc: &str,
) -> Result<String, SimError> {
    let xs = rows
        .iter()
        .flat_map(|(_, lo, hi)| [coord(*lo), coord(*hi)])
        .chain([coord(base)]);
    let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let x = span(lo, hi);
    let n = rows.len().max(1) as f64;
    let mut out = String::new();
    {
        let height = u32::try_from(rows.len()).unwrap_or(40).min(40) * 28 + 70;
        let root = SVGBackend::with_string(&mut out, (SIZE.0, height)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(250)
            .build_cartesian_2d(x.0..x.1, -0.5..n - 0.5)
            .map_err(chart_error)?;
        let name = |y: &f64| {
            let k = y.round();
            if (y - k).abs() > 1e-9 || k < 0.0 {
                return String::new();
            }
            // Row 0 at the top.
            rows.len()
                .checked_sub(1 + k as usize)
                .and_then(|i| rows.get(i))
                .map(|(name, _, _)| name.clone())
                .unwrap_or_default()
        };
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .disable_y_mesh()
            .y_labels(rows.len().max(1))
            .y_label_formatter(&name)
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 13))
            .draw()
            .map_err(chart_error)?;
        let low_colour = RGBColor(90, 140, 200);
        let high_colour = RGBColor(220, 130, 60);
        let b = coord(base);
        chart
            .draw_series(rows.iter().enumerate().flat_map(|(i, (_, lo, hi))| {
                let y = n - 1.0 - i as f64;
                [
                    Rectangle::new([(b, y - 0.35), (coord(*lo), y + 0.35)], low_colour.filled()),
                    Rectangle::new(
                        [(b, y - 0.35), (coord(*hi), y + 0.35)],
                        high_colour.filled(),
                    ),
                ]
            }))
            .map_err(chart_error)?;
        chart
            .draw_series(LineSeries::new(
                [(b, -0.5), (b, n - 0.5)],
                BLACK.stroke_width(1),
            ))
            .map_err(chart_error)?;
        root.present().map_err(chart_error)?;
    }
    Ok(out)
}
