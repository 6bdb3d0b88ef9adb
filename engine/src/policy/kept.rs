//! Earlier periods as a script reads them: `history.period(-1)` is the member's outcome for the
//! period just before (`history.period("2026-Q1")` names one), with the metrics the policy keeps
//! (`[history] keep = ["tir_percent"]` in policy.toml) as they were then. A period the member
//! has no decision for is `()`, never an older one in its place: "better than last quarter"
//! must not quietly compare with the quarter before it.

use super::diagnostics::{Diagnostics, SourceFile};
use super::inputs::{HistorySummary, PriorOutcome};
use super::record_view::{Metric, MetricValue};
use super::toml_reader::{TableReader, kind_of};
use crate::period::Period;
use rhai::{Dynamic, Engine, EvalAltResult, INT, ImmutableString, Position};
use std::ops::Range;
use std::sync::Arc;
use toml::de::{DeTable, DeValue};

/// The metrics a policy keeps with each decision, for later periods to read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HistoryKeep {
    pub keep: Arc<[Metric]>,
}

impl HistoryKeep {
    pub fn is_empty(&self) -> bool {
        self.keep.is_empty()
    }
}

impl serde::Serialize for HistoryKeep {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(1))?;
        let names: Vec<&str> = self.keep.iter().map(|m| m.name()).collect();
        map.serialize_entry("keep", &names)?;
        map.end()
    }
}

/// The closest of `candidates` to `name`, when one is close enough to be a slip of the keys.
pub fn closest<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Reads `[history]`: `keep`, a list of metric names, each named once.
pub(crate) fn read_history(
    file: &SourceFile,
    table: &DeTable<'_>,
    span: Range<usize>,
    diags: &mut Diagnostics,
) -> HistoryKeep {
    let mut t = TableReader::new(file, "[history]", table, span);
    let mut keep: Vec<Metric> = Vec::new();
    if let Some((items, _)) = t.array("keep", diags) {
        for item in items {
            let DeValue::String(name) = item.get_ref() else {
                diags.error(
                    "history-keep",
                    file,
                    item.span(),
                    format!(
                        "history.keep lists metric names as strings, not {}",
                        kind_of(item.get_ref())
                    ),
                );
                continue;
            };
            match Metric::ALL.iter().find(|m| m.name() == name.as_ref()) {
                Some(m) if keep.contains(m) => {
                    diags.error(
                        "history-keep",
                        file,
                        item.span(),
                        format!("history.keep names `{name}` twice"),
                    );
                }
                Some(m) => keep.push(*m),
                None => {
                    let d = diags.error(
                        "history-keep",
                        file,
                        item.span(),
                        format!("history.keep: `{name}` is not a metric of the record"),
                    );
                    match closest(name, Metric::ALL.iter().map(|m| m.name())) {
                        Some(near) => d.help(format!("did you mean `{near}`?")),
                        None => d.help("the metrics are listed in docs/policy-authoring.md"),
                    };
                }
            }
        }
    }
    t.finish(diags);
    HistoryKeep { keep: keep.into() }
}

/// One earlier period of the member's, as a script reads it.
#[derive(Clone, Debug)]
pub struct PeriodView {
    outcome: PriorOutcome,
    keep: Arc<[Metric]>,
}

fn runtime_error(message: String) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        Dynamic::from(message),
        Position::NONE,
    ))
}

/// The member's outcome for the period `offset` periods before `summary`'s (−1: the one just
/// before), or `()` when they have none for it.
fn by_offset(summary: &HistorySummary, offset: INT) -> Result<Dynamic, Box<EvalAltResult>> {
    if offset >= 0 {
        return Err(runtime_error(format!(
            "history.period({offset}): give how many periods back as a negative number, -1 for the period just before; this period's own figures are on `record`"
        )));
    }
    let mut wanted = summary.period;
    for _ in 0..offset.unsigned_abs().min(10_000) {
        wanted = wanted.previous();
    }
    Ok(found(summary, wanted))
}

/// The member's outcome for the period named `name`, or `()` when they have none for it.
fn by_name(summary: &HistorySummary, name: &str) -> Result<Dynamic, Box<EvalAltResult>> {
    let wanted = Period::parse(name)
        .map_err(|e| runtime_error(format!("history.period(\"{name}\"): {e}")))?;
    if wanted.kind() != summary.period.kind() {
        return Err(runtime_error(format!(
            "history.period(\"{name}\"): this policy decides {} periods, such as {}",
            summary.period.kind().as_str(),
            summary.period
        )));
    }
    if wanted >= summary.period {
        return Err(runtime_error(format!(
            "history.period(\"{name}\"): only periods before {} are history",
            summary.period
        )));
    }
    Ok(found(summary, wanted))
}

fn found(summary: &HistorySummary, wanted: Period) -> Dynamic {
    summary
        .earlier
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|o| o.period == wanted)
        .map_or(Dynamic::UNIT, |o| {
            Dynamic::from(PeriodView {
                outcome: o.clone(),
                keep: summary.keep.clone().unwrap_or_else(|| Arc::from([])),
            })
        })
}

/// A kept metric of an earlier period, by name: its value then (`()` if it had none), or an
/// error saying why the name cannot be read.
fn metric(view: &PeriodView, name: &str) -> Result<Dynamic, Box<EvalAltResult>> {
    if let Some(m) = view.keep.iter().find(|m| m.name() == name) {
        return Ok(view
            .outcome
            .metrics
            .get(m.name())
            .copied()
            .unwrap_or(MetricValue::Missing)
            .to_dynamic());
    }
    let fields = [
        "period",
        "reward",
        "premium_adjustment_percent",
        "tier",
        "points",
        "qualified",
    ];
    if Metric::ALL.iter().any(|m| m.name() == name) {
        return Err(runtime_error(format!(
            "an earlier period's `{name}` is not kept: add \"{name}\" to [history] keep in policy.toml"
        )));
    }
    let kept = view.keep.iter().map(|m| m.name());
    let hint = match closest(name, fields.into_iter().chain(kept)) {
        Some(near) => format!("; did you mean `{near}`?"),
        None => String::new(),
    };
    Err(runtime_error(format!(
        "an earlier period has no `{name}`: it has {} and the metrics [history] keep lists{hint}",
        fields.join(", ")
    )))
}

/// `history.period(x)` as the compiled path calls it: what the function registered below
/// gives, `None` where that fails (the interpreter then says why).
pub(crate) fn period_of(summary: &HistorySummary, x: &Dynamic) -> Option<Dynamic> {
    if let Ok(offset) = x.as_int() {
        return by_offset(summary, offset).ok();
    }
    let name = x.read_lock::<ImmutableString>()?;
    by_name(summary, &name).ok()
}

/// `earlier.name` as the compiled path reads it: what the getters and the indexer registered
/// below give, `None` where they fail.
pub(crate) fn property_of(p: &PeriodView, name: &str) -> Option<Dynamic> {
    let o = &p.outcome;
    Some(match name {
        "period" => Dynamic::from(ImmutableString::from(o.period.to_string())),
        "reward" => Dynamic::from(o.reward),
        "premium_adjustment_percent" => Dynamic::from(o.premium_adjustment_percent),
        "tier" => o.tier.as_ref().map_or(Dynamic::UNIT, |t| {
            Dynamic::from(ImmutableString::from(t.as_str()))
        }),
        "points" => Dynamic::from(o.points),
        "qualified" => Dynamic::from(o.qualified),
        _ => return metric(p, name).ok(),
    })
}

pub(crate) fn register(engine: &mut Engine) {
    use super::host::HistoryView;
    engine.register_fn("period", |h: &mut HistoryView, offset: INT| {
        by_offset(&h.0, offset)
    });
    engine.register_fn("period", |h: &mut HistoryView, name: ImmutableString| {
        by_name(&h.0, &name)
    });
    engine.register_type_with_name::<PeriodView>("Period");
    engine.register_get("period", |p: &mut PeriodView| {
        ImmutableString::from(p.outcome.period.to_string())
    });
    engine.register_get("reward", |p: &mut PeriodView| p.outcome.reward);
    engine.register_get("premium_adjustment_percent", |p: &mut PeriodView| {
        p.outcome.premium_adjustment_percent
    });
    engine.register_get("tier", |p: &mut PeriodView| {
        p.outcome.tier.as_ref().map_or(Dynamic::UNIT, |t| {
            Dynamic::from(ImmutableString::from(t.as_str()))
        })
    });
    engine.register_get("points", |p: &mut PeriodView| p.outcome.points);
    engine.register_get("qualified", |p: &mut PeriodView| p.outcome.qualified);
    // A property no getter above has falls back to this: `history.period(-1).tir_percent`.
    engine.register_indexer_get(|p: &mut PeriodView, name: ImmutableString| metric(p, &name));
}
