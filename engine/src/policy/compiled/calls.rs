//! What a compiled script reads and calls of the engine: a record's metrics and methods, a
//! member's profile and attributes, the history's figures, table lookups, `reason(…)`, and the
//! few decimal and array methods policies use. Each does what the function of the same name
//! registered in `host.rs` does, calling the same code underneath; a receiver or argument of
//! another type is [`Stop::Fallback`], so the interpreter answers it.

use super::run::Stop;
use super::values;
use crate::period::PeriodKind;
use crate::policy::explanation::{self, Args, Message, Reason};
use crate::policy::host::{HistoryView, MemberView, mg_dl_arg, table_key, term_dynamic};
use crate::policy::kept::{self, PeriodView};
use crate::policy::record_view::{Metric, RecordView};
use crate::policy::tables::StepTable;
use crate::reading::Context;
use rhai::{Array, Dynamic, INT, ImmutableString, Map};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::sync::Arc;

/// A property, resolved when the script is compiled for each kind of value it may be read of.
#[derive(Clone, Debug)]
pub(super) struct Property {
    pub(super) name: ImmutableString,
    metric: Option<Metric>,
}

impl Property {
    pub(super) fn new(name: &ImmutableString) -> Self {
        Self {
            name: name.clone(),
            metric: Metric::ALL
                .iter()
                .copied()
                .find(|m| m.name() == name.as_str()),
        }
    }

    /// `value.name`.
    pub(super) fn read(&self, value: &Dynamic) -> Result<Dynamic, Stop> {
        if let Some(map) = value.read_lock::<Map>() {
            // A map's missing property is an error (`set_fail_on_invalid_map_property`).
            return map.get(self.name.as_str()).cloned().ok_or(Stop::Fallback);
        }
        if let Some(record) = value.read_lock::<RecordView>() {
            return self.of_record(&record);
        }
        if let Some(member) = value.read_lock::<MemberView>() {
            return self.of_member(&member);
        }
        if let Some(history) = value.read_lock::<HistoryView>() {
            return self.of_history(&history);
        }
        if let Some(earlier) = value.read_lock::<PeriodView>() {
            return kept::property_of(&earlier, &self.name).ok_or(Stop::Fallback);
        }
        Err(Stop::Fallback)
    }

    fn of_record(&self, r: &RecordView) -> Result<Dynamic, Stop> {
        if let Some(metric) = self.metric {
            return Ok(r.get(metric).to_dynamic());
        }
        match self.name.as_str() {
            "period" => Ok(Dynamic::from(ImmutableString::from(r.period().to_string()))),
            "period_days" => {
                let w = r.window();
                Ok(Dynamic::from_int((w.end - w.start).num_days() as INT))
            }
            _ => Err(Stop::Fallback),
        }
    }

    fn of_member(&self, m: &MemberView) -> Result<Dynamic, Stop> {
        let seen = &m.0;
        let p = &seen.profile;
        let text = |s: &Option<String>| {
            s.as_ref().map_or(Dynamic::UNIT, |s| {
                Dynamic::from(ImmutableString::from(s.as_str()))
            })
        };
        Ok(match self.name.as_str() {
            "id" => Dynamic::from(ImmutableString::from(p.id.as_str())),
            "age" => p
                .age
                .map_or(Dynamic::UNIT, |a| Dynamic::from_int(INT::from(a))),
            "sex" => text(&p.sex),
            "region" => text(&p.region),
            "diabetes_type" => text(&p.diabetes_type),
            "insulin" => p.insulin.map_or(Dynamic::UNIT, Dynamic::from_bool),
            "enrolled_on" => p.enrolled_on.map_or(Dynamic::UNIT, |d| {
                Dynamic::from(ImmutableString::from(d.to_string()))
            }),
            "days_enrolled" => {
                if p.enrolled_on.is_some() {
                    Dynamic::from_int(seen.days_enrolled)
                } else {
                    Dynamic::UNIT
                }
            }
            // An attribute the policy declares; one it does not is the interpreter's error.
            name => seen.attributes.get(name).cloned().ok_or(Stop::Fallback)?,
        })
    }

    fn of_history(&self, h: &HistoryView) -> Result<Dynamic, Stop> {
        let h = &h.0;
        let text = |s: &Option<String>| {
            s.as_ref().map_or(Dynamic::UNIT, |s| {
                Dynamic::from(ImmutableString::from(s.as_str()))
            })
        };
        Ok(match self.name.as_str() {
            "streak" => Dynamic::from(h.streak),
            "previous_tier" => text(&h.previous_tier),
            "qualified_last_period" => Dynamic::from(h.qualified_last_period),
            "periods_before" => Dynamic::from(h.periods_before),
            "payouts_this_year" => Dynamic::from(h.payouts_this_year),
            "points_this_year" => Dynamic::from(h.points_this_year),
            "qualified_periods_this_year" => Dynamic::from(h.qualified_periods_this_year),
            "points_last_year" => Dynamic::from(h.points_last_year),
            "tier_last_year" => text(&h.tier_last_year),
            "premium_loading_percent" => Dynamic::from(h.premium_loading_percent),
            _ => return Err(Stop::Fallback),
        })
    }
}

/// A method that reads its receiver and gives a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Method {
    ReadingsSpaced,
    DaysWithContext,
    LongestRunAbove,
    LongestRunBelow,
    PercentInRange,
    PercentBelow,
    PercentAbove,
    Hba1cMax,
    Hba1cEarliest,
    Hba1cCount,
    Months,
    Quarters,
    Round,
    Floor,
    Ceiling,
    Abs,
    ToInt,
    Len,
    /// `history.period(-1)` or `history.period("2026-02")`.
    Period,
}

impl Method {
    pub(super) fn of(name: &str) -> Option<Self> {
        Some(match name {
            "readings_spaced" => Self::ReadingsSpaced,
            "days_with_context" => Self::DaysWithContext,
            "longest_run_of_days_above" => Self::LongestRunAbove,
            "longest_run_of_days_below" => Self::LongestRunBelow,
            "percent_in_range" => Self::PercentInRange,
            "percent_below" => Self::PercentBelow,
            "percent_above" => Self::PercentAbove,
            "hba1c_max_percent" => Self::Hba1cMax,
            "hba1c_earliest_percent" => Self::Hba1cEarliest,
            "hba1c_count" => Self::Hba1cCount,
            "months" => Self::Months,
            "quarters" => Self::Quarters,
            "round" => Self::Round,
            "floor" => Self::Floor,
            "ceiling" => Self::Ceiling,
            "abs" => Self::Abs,
            "to_int" => Self::ToInt,
            "len" => Self::Len,
            "period" => Self::Period,
            _ => return None,
        })
    }

    /// `receiver.method(args…)`.
    pub(super) fn call(self, receiver: &Dynamic, args: &[Dynamic]) -> Result<Dynamic, Stop> {
        if let Some(record) = receiver.read_lock::<RecordView>() {
            return self.of_record(&record, args);
        }
        if let (Self::Period, [x], Some(history)) =
            (self, args, receiver.read_lock::<HistoryView>())
        {
            return kept::period_of(&history.0, x).ok_or(Stop::Fallback);
        }
        if let Ok(x) = receiver.as_decimal() {
            return self.of_decimal(x, args);
        }
        if let Ok(i) = receiver.as_int() {
            return match (self, args) {
                (Self::Abs, []) => i.checked_abs().map(Dynamic::from_int).ok_or(Stop::Fallback),
                _ => Err(Stop::Fallback),
            };
        }
        if let (Self::Len, []) = (self, args) {
            if let Some(items) = receiver.read_lock::<Array>() {
                return Ok(Dynamic::from_int(items.len() as INT));
            }
            if let Some(map) = receiver.read_lock::<Map>() {
                return Ok(Dynamic::from_int(map.len() as INT));
            }
        }
        Err(Stop::Fallback)
    }

    fn of_decimal(self, x: Decimal, args: &[Dynamic]) -> Result<Dynamic, Stop> {
        let out = match (self, args) {
            (Self::Round, []) => x.round(),
            (Self::Round, [digits]) => {
                let digits = digits.as_int().map_err(|_| Stop::Fallback)?;
                if digits < 0 {
                    return Err(Stop::Fallback);
                }
                match u32::try_from(digits) {
                    Ok(d) => x.round_dp(d),
                    Err(_) => x,
                }
            }
            (Self::Floor, []) => x.floor(),
            (Self::Ceiling, []) => x.ceil(),
            (Self::Abs, []) => x.abs(),
            (Self::ToInt, []) => {
                return x.to_i64().map(Dynamic::from_int).ok_or(Stop::Fallback);
            }
            _ => return Err(Stop::Fallback),
        };
        Ok(Dynamic::from_decimal(out))
    }

    fn of_record(self, r: &RecordView, args: &[Dynamic]) -> Result<Dynamic, Stop> {
        let int = |d: &Dynamic| d.as_int().map_err(|_| Stop::Fallback);
        let context = |d: &Dynamic| {
            let text = d.read_lock::<ImmutableString>().ok_or(Stop::Fallback)?;
            Context::parse(text.as_str()).map_err(|_| Stop::Fallback)
        };
        Ok(match (self, args) {
            (Self::ReadingsSpaced, [gap]) => Dynamic::from(r.readings_spaced(int(gap)?)),
            (Self::DaysWithContext, [c]) => Dynamic::from(r.days_with_context(context(c)?)),
            (Self::LongestRunAbove, [t]) => Dynamic::from(r.longest_run_of_days_above(mg_dl(t)?)),
            (Self::LongestRunBelow, [t]) => Dynamic::from(r.longest_run_of_days_below(mg_dl(t)?)),
            (Self::PercentInRange, [lo, hi]) => {
                let (lo, hi) = mg_dl_pair(lo, hi)?;
                r.percent_in_range(lo, hi).to_dynamic()
            }
            (Self::PercentInRange, [c, lo, hi]) => {
                let c = context(c)?;
                let (lo, hi) = mg_dl_pair(lo, hi)?;
                r.percent_in_range_for(c, lo, hi).to_dynamic()
            }
            (Self::PercentBelow, [t]) => r.percent_below(mg_dl(t)?).to_dynamic(),
            (Self::PercentAbove, [t]) => r.percent_above(mg_dl(t)?).to_dynamic(),
            (Self::Hba1cMax, [days]) => r
                .labs_within_days(int(days)?)
                .iter()
                .map(|l| l.hba1c.percent())
                .max()
                .map_or(Dynamic::UNIT, Dynamic::from_decimal),
            (Self::Hba1cEarliest, [days]) => r
                .labs_within_days(int(days)?)
                .first()
                .map_or(Dynamic::UNIT, |l| Dynamic::from_decimal(l.hba1c.percent())),
            (Self::Hba1cCount, [days]) => {
                Dynamic::from_int(r.labs_within_days(int(days)?).len() as INT)
            }
            (Self::Months, []) => parts(r, PeriodKind::Monthly)?,
            (Self::Quarters, []) => parts(r, PeriodKind::Quarterly)?,
            _ => return Err(Stop::Fallback),
        })
    }
}

/// A glucose threshold as the host reads one: a decimal or an integer of mg/dL.
fn mg_dl(d: &Dynamic) -> Result<f64, Stop> {
    if let Ok(x) = d.as_decimal() {
        Ok(mg_dl_arg(x))
    } else if let Ok(i) = d.as_int() {
        Ok(i as f64)
    } else {
        Err(Stop::Fallback)
    }
}

/// Two thresholds of one kind: the host has no `percent_in_range` of a decimal and an integer.
fn mg_dl_pair(lo: &Dynamic, hi: &Dynamic) -> Result<(f64, f64), Stop> {
    let both_decimal = lo.as_decimal().is_ok() && hi.as_decimal().is_ok();
    let both_int = lo.as_int().is_ok() && hi.as_int().is_ok();
    if !(both_decimal || both_int) {
        return Err(Stop::Fallback);
    }
    Ok((mg_dl(lo)?, mg_dl(hi)?))
}

fn parts(r: &RecordView, kind: PeriodKind) -> Result<Dynamic, Stop> {
    let parts = r.sub_periods(kind).map_err(|_| Stop::Fallback)?;
    Ok(Dynamic::from_array(
        parts.into_iter().map(Dynamic::from).collect(),
    ))
}

/// `lookup(table, key)` and `lookup(table, first, second)`: the keys read as the registered
/// `lookup` reads them (`host::table_key`).
pub(super) fn lookup(args: Vec<Dynamic>) -> Result<Dynamic, Stop> {
    let mut args = args.into_iter();
    let table = args
        .next()
        .and_then(|t| t.try_cast::<Arc<StepTable>>())
        .ok_or(Stop::Fallback)?;
    let key = |k: Dynamic| table_key(&table, k).map_err(|_| Stop::Fallback);
    let found = match (args.next(), args.next(), args.next()) {
        (Some(only), None, None) => table.lookup(&[key(only)?]),
        (Some(first), Some(second), None) => table.lookup(&[key(first)?, key(second)?]),
        _ => return Err(Stop::Fallback),
    };
    found.map(term_dynamic).map_err(|_| Stop::Fallback)
}

/// `reason(id)` or `reason(id, #{ … })` with a map value, made at `made_at`.
pub(super) fn reason(args: Vec<Dynamic>, made_at: Option<(usize, usize)>) -> Result<Dynamic, Stop> {
    let mut args = args.into_iter();
    let id = args
        .next()
        .and_then(|id| id.try_cast::<ImmutableString>())
        .ok_or(Stop::Fallback)?;
    let map = match (args.next(), args.next()) {
        (None, _) => Map::new(),
        (Some(map), None) => map.try_cast::<Map>().ok_or(Stop::Fallback)?,
        (Some(_), Some(_)) => return Err(Stop::Fallback),
    };
    explanation::reason_of(&id, map, made_at)
        .map(Dynamic::from)
        .map_err(|_| Stop::Fallback)
}

/// A reason of parts checked when the script was compiled: an id and arguments, in name
/// order, each a message's.
pub(super) fn reason_from_parts(
    id: String,
    args: Vec<(String, String)>,
    made_at: Option<(usize, usize)>,
) -> Dynamic {
    Dynamic::from(Reason {
        message: Message {
            id,
            args: Args::sorted(args),
        },
        made_at,
    })
}

/// `array.push(item)` on a variable.
pub(super) fn push(target: &mut Dynamic, item: Dynamic) -> Result<(), Stop> {
    {
        let mut items = target.write_lock::<Array>().ok_or(Stop::Fallback)?;
        items.push(item);
    }
    values::within_limits(target)
}
