//! The report's tables: a distribution, and the assumptions with their sources.

use super::esc;
use crate::SimError;
use crate::info::RunInfo;
use crate::stats::Distribution;
use serde_json::Value;
use std::fmt::Write as _;

pub(super) fn distribution_table(out: &mut String, d: &Distribution, currency: &str) {
    let [ci_lo, ci_hi] = d.mean_ci95;
    let rows: [(&str, String); 15] = [
        ("Replications", d.replications.to_string()),
        ("Mean", d.mean.to_string()),
        ("Standard deviation", d.sd.to_string()),
        ("Standard error of the mean", d.standard_error.to_string()),
        (
            "95 % CI of the mean (Student's t)",
            format!("{ci_lo} to {ci_hi}"),
        ),
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
    for warning in &d.warnings {
        let _ = writeln!(out, "<p class=\"warn\">⚠ {}</p>", esc(warning));
    }
}

/// Every assumption of the population model, as `section.field` → value.
pub(super) fn assumptions(out: &mut String, info: &RunInfo) -> Result<(), SimError> {
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
