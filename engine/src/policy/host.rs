//! The Rhai sandbox policies run in: one engine, built once, with only what policies need.
//!
//! Built from `Engine::new_raw` (no packages at all), then given arithmetic, logic, strings,
//! arrays, maps, ranges and decimal maths — and nothing that reads a clock, draws random
//! numbers, sleeps, prints, touches files or the network, evaluates text as code (`eval` is
//! disabled), curries function pointers (`curry` is disabled: curried arguments escape the size
//! limits) or imports modules (the `no_module` feature removes `import`). Numbers are
//! decimals and integers only (`decimal` + `no_float`). Every limit is set explicitly below;
//! Rhai's defaults are unlimited. A wall-clock budget per evaluation backs up the operation
//! count, so even a limit we forgot cannot hang a payout.

use super::inputs::{HistorySummary, MemberProfile};
use super::record_view::{Metric, MetricValue, RecordView};
use super::tables::{Key, StepTable};
use super::terms::TermValue;
use crate::period::PeriodKind;
use crate::reading::Context;
use rhai::packages::{
    ArithmeticPackage, BasicArrayPackage, BasicFnPackage, BasicIteratorPackage, BasicMapPackage,
    BasicMathPackage, BasicStringPackage, LogicPackage, MoreStringPackage, Package,
};
use rhai::{Dynamic, Engine, EvalAltResult, INT, ImmutableString, Position};
use rust_decimal::Decimal;
use std::cell::Cell;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// The sandbox's limits, each with its unit in its name. Policies hitting one fail with a
/// message that names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Rhai operations per evaluation (a loop iteration, a call, an expression step).
    pub eval_operations_max: u64,
    /// Nested function calls.
    pub call_levels_max: usize,
    /// Nesting of expressions at top level and inside functions.
    pub expr_depth_max: usize,
    pub function_expr_depth_max: usize,
    /// Bytes in any one string.
    pub string_bytes_max: usize,
    /// Items in any one array: a year of 5-minute CGM readings fits (105,120).
    pub array_items_max: usize,
    pub map_entries_max: usize,
    /// Variables alive at once in a function.
    pub variables_max: usize,
    /// Functions a script may define.
    pub functions_max: usize,
    /// Wall-clock time per evaluation.
    pub eval_wall_clock_ms_max: u64,
    /// Bytes of `rules.rhai`.
    pub script_bytes_max: usize,
    /// Reasons, and flags, one decision may carry: each is stored with the decision and shown
    /// to members and staff, so a script must not be able to fill a row with 200,000 of them.
    pub decision_texts_max: usize,
    /// Bytes of any one reason, flag or tier a decision carries.
    pub decision_text_bytes_max: usize,
}

pub const LIMITS: Limits = Limits {
    eval_operations_max: 2_000_000,
    call_levels_max: 32,
    expr_depth_max: 64,
    function_expr_depth_max: 64,
    string_bytes_max: 4_096,
    array_items_max: 200_000,
    map_entries_max: 256,
    variables_max: 256,
    functions_max: 128,
    eval_wall_clock_ms_max: 250,
    script_bytes_max: 256 * 1024,
    decision_texts_max: 64,
    decision_text_bytes_max: 1_024,
};

/// Names the script entry point must have, and its parameters.
pub const ENTRY_POINT: &str = "decide";
pub const ENTRY_PARAMS: [&str; 3] = ["record", "member", "history"];

thread_local! {
    /// When the evaluation running on this thread must stop. The engine is shared by every
    /// thread; each evaluation runs on one thread, so its deadline lives there.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    /// How fast the evaluation on this thread is going, as of the last clock read.
    static PACE: Cell<Option<Pace>> = const { Cell::new(None) };
    /// Operations left before the clock is read again.
    static UNTIL_CLOCK_READ: Cell<u64> = const { Cell::new(u64::MAX) };
}

/// Reading the clock every operation would cost as much as the cheapest operations (~30 ns),
/// and reading it every 256 let a script of costly operations (copying the largest arrays, ~1
/// ms each) run well past its budget. So the interval follows the script's own pace: as many
/// operations as took about `CLOCK_READ_EVERY_US` last time, between 1 and 256.
///
/// Operations are counted here, once a call of the engine's progress callback, rather than
/// read from the count the engine passes: a closure called from a built-in function (`filter`,
/// `map`, `sort` with a comparer) runs on a copy of the engine's counter, which starts again
/// from the caller's count each call, so that count alone can stay below any check forever.
#[derive(Clone, Copy, Debug)]
struct Pace {
    /// Operations between the last two clock reads.
    interval_ops: u64,
    last_at: Instant,
}

const CLOCK_READ_EVERY_US: u64 = 1_000;
const CLOCK_READ_INTERVAL_OPS_MAX: u64 = 256;

/// Runs `f` with the wall-clock budget armed.
pub(crate) fn with_deadline<T>(f: impl FnOnce() -> T) -> T {
    let now = Instant::now();
    let deadline = now + Duration::from_millis(LIMITS.eval_wall_clock_ms_max);
    DEADLINE.with(|d| d.set(Some(deadline)));
    PACE.with(|p| {
        p.set(Some(Pace {
            interval_ops: 1,
            last_at: now,
        }))
    });
    UNTIL_CLOCK_READ.with(|c| c.set(1));
    let out = f();
    DEADLINE.with(|d| d.set(None));
    PACE.with(|p| p.set(None));
    UNTIL_CLOCK_READ.with(|c| c.set(u64::MAX));
    out
}

/// Called by the engine after each operation: whether the evaluation is out of time, reading
/// the clock only when the pace says so.
fn out_of_time() -> bool {
    // The common case, every operation: one thread-local counter counted down.
    let left = UNTIL_CLOCK_READ.with(|c| {
        let left = c.get().saturating_sub(1);
        c.set(left);
        left
    });
    if left > 0 {
        return false;
    }
    let Some(pace) = PACE.with(|p| p.get()) else {
        UNTIL_CLOCK_READ.with(|c| c.set(u64::MAX));
        return false;
    };
    let now = Instant::now();
    let per_op_ns = (now.saturating_duration_since(pace.last_at).as_nanos()
        / u128::from(pace.interval_ops.max(1)))
    .max(1);
    let interval_ops = u64::try_from(
        (u128::from(CLOCK_READ_EVERY_US) * 1_000 / per_op_ns)
            .clamp(1, u128::from(CLOCK_READ_INTERVAL_OPS_MAX)),
    )
    .unwrap_or(1);
    PACE.with(|p| {
        p.set(Some(Pace {
            interval_ops,
            last_at: now,
        }))
    });
    UNTIL_CLOCK_READ.with(|c| c.set(interval_ops));
    DEADLINE
        .with(|d| d.get())
        .is_some_and(|deadline| now > deadline)
}

pub(crate) fn past_deadline() -> bool {
    DEADLINE
        .with(|d| d.get())
        .is_some_and(|deadline| Instant::now() > deadline)
}

/// Stops a native function that costs as much as the whole record when the evaluation is out
/// of time: one such call can take longer than thousands of operations, so the operation
/// count alone would check the clock too late.
fn within_budget() -> Result<(), Box<EvalAltResult>> {
    if past_deadline() {
        return Err(Box::new(EvalAltResult::ErrorTerminated(
            Dynamic::from(ImmutableString::from("wall-clock")),
            Position::NONE,
        )));
    }
    Ok(())
}

/// The one engine every policy runs on.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(build_engine)
}

/// Member attributes as a script sees them.
#[derive(Clone, Debug)]
pub struct MemberView(pub Arc<MemberSeen>);

/// What a script reads of a member: the profile, the days since enrolment, and the attributes
/// the policy declares, read as their kinds (`()` for an optional one missing).
#[derive(Debug)]
pub struct MemberSeen {
    pub profile: MemberProfile,
    pub days_enrolled: i64,
    pub attributes: std::collections::BTreeMap<String, Dynamic>,
    pub declared: super::attributes::Declared,
}

/// Earlier outcomes as a script sees them.
#[derive(Clone, Debug)]
pub struct HistoryView(pub Arc<HistorySummary>);

/// One reading, for scripts that need more than the metrics.
#[derive(Clone, Debug)]
pub struct ReadingView {
    time: ImmutableString,
    date: ImmutableString,
    mg_dl: f64,
    context: Context,
    source: &'static str,
}

fn opt_string(s: &Option<String>) -> Dynamic {
    s.as_ref().map_or(Dynamic::UNIT, |s| {
        Dynamic::from(ImmutableString::from(s.as_str()))
    })
}

pub(crate) fn term_dynamic(v: &TermValue) -> Dynamic {
    match v {
        TermValue::Decimal(d) => Dynamic::from_decimal(*d),
        TermValue::Integer(i) => Dynamic::from_int(*i),
        TermValue::Text(s) => Dynamic::from(ImmutableString::from(s.as_str())),
        TermValue::Flag(b) => Dynamic::from_bool(*b),
    }
}

fn runtime_error(message: String) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        Dynamic::from(message),
        Position::NONE,
    ))
}

/// A glucose threshold passed by a script (decimal or integer mg/dL).
pub(crate) fn mg_dl_arg(d: Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    d.to_f64().unwrap_or(f64::NAN)
}

fn build_engine() -> Engine {
    let mut engine = Engine::new_raw();
    for module in [
        ArithmeticPackage::new().as_shared_module(),
        LogicPackage::new().as_shared_module(),
        BasicStringPackage::new().as_shared_module(),
        MoreStringPackage::new().as_shared_module(),
        BasicIteratorPackage::new().as_shared_module(),
        BasicArrayPackage::new().as_shared_module(),
        BasicMapPackage::new().as_shared_module(),
        BasicMathPackage::new().as_shared_module(),
        BasicFnPackage::new().as_shared_module(),
    ] {
        engine.register_global_module(module);
    }
    engine
        .set_max_operations(LIMITS.eval_operations_max)
        .set_max_call_levels(LIMITS.call_levels_max)
        .set_max_expr_depths(LIMITS.expr_depth_max, LIMITS.function_expr_depth_max)
        .set_max_string_size(LIMITS.string_bytes_max)
        .set_max_array_size(LIMITS.array_items_max)
        .set_max_map_size(LIMITS.map_entries_max)
        .set_max_variables(LIMITS.variables_max)
        .set_max_functions(LIMITS.functions_max)
        .set_strict_variables(true)
        .set_fail_on_invalid_map_property(true)
        .set_optimization_level(rhai::OptimizationLevel::None);
    engine.disable_symbol("eval");
    // `curry` copies every argument curried before into the new function pointer, and a
    // function pointer's arguments escape the size limits: a loop of `f = f.curry(array)`
    // copied ever more arrays each operation, minutes of work and gigabytes before the
    // wall-clock check. Closures capture variables without it.
    engine.disable_symbol("curry");
    engine
        .on_progress(|_| out_of_time().then(|| Dynamic::from(ImmutableString::from("wall-clock"))));

    register_checked_trigonometry(&mut engine);
    super::sandbox_arrays::register(&mut engine);
    register_record(&mut engine);
    register_member_and_history(&mut engine);
    super::kept::register(&mut engine);
    register_tables(&mut engine);
    register_reasons(&mut engine);
    super::branches::register(&mut engine);
    engine
}

/// `sin`, `cos` and `tan` of a decimal that fail with an arithmetic error where the result
/// cannot be had, e.g. `tan(PI() / 2)`. Rhai's math package calls rust_decimal's unchecked
/// versions, which panic there; functions registered on the engine itself are found before a
/// package's, so these replace them.
fn register_checked_trigonometry(engine: &mut Engine) {
    use rust_decimal::MathematicalOps;
    type Checked = fn(&Decimal) -> Option<Decimal>;
    let functions: [(&str, Checked); 3] = [
        ("sin", Decimal::checked_sin),
        ("cos", Decimal::checked_cos),
        ("tan", Decimal::checked_tan),
    ];
    for (name, checked) in functions {
        engine.register_fn(
            name,
            move |x: Decimal| -> Result<Decimal, Box<EvalAltResult>> {
                checked(&x).ok_or_else(|| {
                    Box::new(EvalAltResult::ErrorArithmetic(
                        format!("{name}({x}) is undefined or too large for a decimal"),
                        Position::NONE,
                    ))
                })
            },
        );
    }
}

fn register_record(engine: &mut Engine) {
    engine.register_type_with_name::<RecordView>("Record");
    for &metric in Metric::ALL {
        engine.register_get(metric.name(), move |r: &mut RecordView| {
            r.get(metric).to_dynamic()
        });
    }
    engine.register_get("period", |r: &mut RecordView| {
        ImmutableString::from(r.period().to_string())
    });
    engine.register_get("period_days", |r: &mut RecordView| {
        let w = r.window();
        (w.end - w.start).num_days() as INT
    });
    for (name, kind) in [
        ("months", PeriodKind::Monthly),
        ("quarters", PeriodKind::Quarterly),
    ] {
        engine.register_fn(
            name,
            move |r: &mut RecordView| -> Result<rhai::Array, Box<EvalAltResult>> {
                r.sub_periods(kind)
                    .map(|parts| parts.into_iter().map(Dynamic::from).collect())
                    .map_err(runtime_error)
            },
        );
    }
    engine.register_fn("readings_spaced", |r: &mut RecordView, gap_minutes: INT| {
        r.readings_spaced(gap_minutes)
    });
    engine.register_fn(
        "days_with_context",
        |r: &mut RecordView, context: &str| -> Result<INT, Box<EvalAltResult>> {
            let c = Context::parse(context).map_err(|e| runtime_error(e.to_string()))?;
            Ok(r.days_with_context(c))
        },
    );
    engine.register_fn(
        "longest_run_of_days_above",
        |r: &mut RecordView, mg_dl: Decimal| r.longest_run_of_days_above(mg_dl_arg(mg_dl)),
    );
    engine.register_fn(
        "longest_run_of_days_above",
        |r: &mut RecordView, mg_dl: INT| r.longest_run_of_days_above(mg_dl as f64),
    );
    engine.register_fn(
        "longest_run_of_days_below",
        |r: &mut RecordView, mg_dl: Decimal| r.longest_run_of_days_below(mg_dl_arg(mg_dl)),
    );
    engine.register_fn(
        "longest_run_of_days_below",
        |r: &mut RecordView, mg_dl: INT| r.longest_run_of_days_below(mg_dl as f64),
    );
    engine.register_fn(
        "percent_in_range",
        |r: &mut RecordView, lo: Decimal, hi: Decimal| {
            r.percent_in_range(mg_dl_arg(lo), mg_dl_arg(hi))
                .to_dynamic()
        },
    );
    engine.register_fn(
        "percent_in_range",
        |r: &mut RecordView, lo: INT, hi: INT| {
            r.percent_in_range(lo as f64, hi as f64).to_dynamic()
        },
    );
    engine.register_fn(
        "percent_in_range",
        |r: &mut RecordView,
         context: &str,
         lo: Decimal,
         hi: Decimal|
         -> Result<Dynamic, Box<EvalAltResult>> {
            let c = Context::parse(context).map_err(|e| runtime_error(e.to_string()))?;
            Ok(r.percent_in_range_for(c, mg_dl_arg(lo), mg_dl_arg(hi))
                .to_dynamic())
        },
    );
    engine.register_fn(
        "percent_in_range",
        |r: &mut RecordView,
         context: &str,
         lo: INT,
         hi: INT|
         -> Result<Dynamic, Box<EvalAltResult>> {
            let c = Context::parse(context).map_err(|e| runtime_error(e.to_string()))?;
            Ok(r.percent_in_range_for(c, lo as f64, hi as f64).to_dynamic())
        },
    );
    engine.register_fn("percent_below", |r: &mut RecordView, t: Decimal| {
        r.percent_below(mg_dl_arg(t)).to_dynamic()
    });
    engine.register_fn("percent_below", |r: &mut RecordView, t: INT| {
        r.percent_below(t as f64).to_dynamic()
    });
    engine.register_fn("percent_above", |r: &mut RecordView, t: Decimal| {
        r.percent_above(mg_dl_arg(t)).to_dynamic()
    });
    engine.register_fn("percent_above", |r: &mut RecordView, t: INT| {
        r.percent_above(t as f64).to_dynamic()
    });
    engine.register_fn("hba1c_max_percent", |r: &mut RecordView, days: INT| {
        r.labs_within_days(days)
            .iter()
            .map(|l| l.hba1c.percent())
            .max()
            .map_or(Dynamic::UNIT, Dynamic::from_decimal)
    });
    engine.register_fn("hba1c_earliest_percent", |r: &mut RecordView, days: INT| {
        r.labs_within_days(days)
            .first()
            .map_or(Dynamic::UNIT, |l| Dynamic::from_decimal(l.hba1c.percent()))
    });
    engine.register_fn("hba1c_count", |r: &mut RecordView, days: INT| {
        r.labs_within_days(days).len() as INT
    });

    engine.register_type_with_name::<ReadingView>("Reading");
    engine.register_fn(
        "readings",
        |r: &mut RecordView| -> Result<rhai::Array, Box<EvalAltResult>> {
            within_budget()?;
            let record = r.record();
            let readings = record.readings();
            if readings.len() > LIMITS.array_items_max {
                return Err(runtime_error(format!(
                    "the record has {} readings, more than array_items_max ({})",
                    readings.len(),
                    LIMITS.array_items_max
                )));
            }
            Ok((0..readings.len())
                .filter_map(|i| {
                    Some(Dynamic::from(ReadingView {
                        time: readings.time(i)?.to_rfc3339().into(),
                        date: record
                            .day_boundary()
                            .day_of(*readings.times_ms().get(i)?, *readings.offsets_s().get(i)?)
                            .to_string()
                            .into(),
                        mg_dl: *readings.values_mg_dl().get(i)?,
                        context: *readings.contexts().get(i)?,
                        source: readings.sources().get(i)?.as_str(),
                    }))
                })
                .collect())
        },
    );
    engine.register_get("time", |r: &mut ReadingView| r.time.clone());
    engine.register_get("date", |r: &mut ReadingView| r.date.clone());
    engine.register_get("mg_dl", |r: &mut ReadingView| {
        if r.mg_dl.is_finite() {
            MetricValue::Decimal(
                Decimal::from_f64_retain(r.mg_dl)
                    .unwrap_or_default()
                    .round_dp(4)
                    .normalize(),
            )
            .to_dynamic()
        } else {
            Dynamic::UNIT
        }
    });
    engine.register_get("flag", |r: &mut ReadingView| {
        ImmutableString::from(if r.mg_dl == f64::NEG_INFINITY {
            "LO"
        } else if r.mg_dl == f64::INFINITY {
            "HI"
        } else {
            ""
        })
    });
    engine.register_get("context", |r: &mut ReadingView| {
        ImmutableString::from(r.context.as_str())
    });
    engine.register_get("source", |r: &mut ReadingView| {
        ImmutableString::from(r.source)
    });
}

fn register_member_and_history(engine: &mut Engine) {
    engine.register_type_with_name::<MemberView>("Member");
    engine.register_get("id", |m: &mut MemberView| {
        ImmutableString::from(m.0.profile.id.as_str())
    });
    engine.register_get("age", |m: &mut MemberView| {
        m.0.profile
            .age
            .map_or(Dynamic::UNIT, |a| Dynamic::from_int(INT::from(a)))
    });
    engine.register_get("sex", |m: &mut MemberView| opt_string(&m.0.profile.sex));
    engine.register_get("region", |m: &mut MemberView| {
        opt_string(&m.0.profile.region)
    });
    engine.register_get("diabetes_type", |m: &mut MemberView| {
        opt_string(&m.0.profile.diabetes_type)
    });
    engine.register_get("insulin", |m: &mut MemberView| {
        m.0.profile
            .insulin
            .map_or(Dynamic::UNIT, Dynamic::from_bool)
    });
    engine.register_get("enrolled_on", |m: &mut MemberView| {
        m.0.profile.enrolled_on.map_or(Dynamic::UNIT, |d| {
            Dynamic::from(ImmutableString::from(d.to_string()))
        })
    });
    engine.register_get("days_enrolled", |m: &mut MemberView| {
        if m.0.profile.enrolled_on.is_some() {
            Dynamic::from_int(m.0.days_enrolled)
        } else {
            Dynamic::UNIT
        }
    });
    // A property no getter above has falls back to this: `member.monthly_premium`, one the
    // policy declares in [attributes].
    engine.register_indexer_get(
        |m: &mut MemberView, name: ImmutableString| -> Result<Dynamic, Box<EvalAltResult>> {
            m.0.attributes
                .get(name.as_str())
                .cloned()
                .ok_or_else(|| runtime_error(super::attributes::undeclared(&m.0.declared, &name)))
        },
    );

    engine.register_type_with_name::<HistoryView>("History");
    engine.register_get("streak", |h: &mut HistoryView| h.0.streak);
    engine.register_get("previous_tier", |h: &mut HistoryView| {
        opt_string(&h.0.previous_tier)
    });
    engine.register_get("qualified_last_period", |h: &mut HistoryView| {
        h.0.qualified_last_period
    });
    engine.register_get("periods_before", |h: &mut HistoryView| h.0.periods_before);
    engine.register_get("payouts_this_year", |h: &mut HistoryView| {
        h.0.payouts_this_year
    });
    engine.register_get("points_this_year", |h: &mut HistoryView| {
        h.0.points_this_year
    });
    engine.register_get("qualified_periods_this_year", |h: &mut HistoryView| {
        h.0.qualified_periods_this_year
    });
    engine.register_get("points_last_year", |h: &mut HistoryView| {
        h.0.points_last_year
    });
    engine.register_get("tier_last_year", |h: &mut HistoryView| {
        opt_string(&h.0.tier_last_year)
    });
    engine.register_get("premium_loading_percent", |h: &mut HistoryView| {
        h.0.premium_loading_percent
    });
}

/// A script's key for a table lookup: a number or text; `()` (an undefined metric) is an error
/// that says so.
pub(crate) fn table_key(t: &StepTable, key: Dynamic) -> Result<Key, Box<EvalAltResult>> {
    if key.is_unit() {
        return Err(runtime_error(format!(
            "looked up `()` in table `{}`: the metric is undefined for this record; check it with `== ()` first",
            t.name
        )));
    }
    if let Ok(d) = key.as_decimal() {
        return Ok(Key::Number(d));
    }
    if let Ok(i) = key.as_int() {
        return Ok(Key::Number(Decimal::from(i)));
    }
    if let Some(s) = key.clone().try_cast::<ImmutableString>() {
        return Ok(Key::Text(s.to_string()));
    }
    Err(runtime_error(format!(
        "table `{}` is looked up by numbers or text, not {}",
        t.name,
        key.type_name()
    )))
}

/// `reason("id")` and `reason("id", #{ name: value, … })`: an explanation line as a message
/// of the package's catalogs (locales/*.ftl), shown in the member's language.
fn register_reasons(engine: &mut Engine) {
    engine.register_type_with_name::<super::explanation::Reason>("Reason");
    // Volatile: the optimizer would otherwise make a reason of constant arguments before the
    // script runs, and the message would not know where in rules.rhai it was made.
    rhai::FuncRegistration::new("reason")
        .with_volatility(true)
        .register_into_engine(engine, super::explanation::reason);
    rhai::FuncRegistration::new("reason")
        .with_volatility(true)
        .register_into_engine(engine, super::explanation::reason_with);
    engine.register_fn("to_string", |r: &mut super::explanation::Reason| {
        super::explanation::Line::Message(r.message.clone()).plain()
    });
    engine.register_fn("to_debug", |r: &mut super::explanation::Reason| {
        super::explanation::Line::Message(r.message.clone()).plain()
    });
}

fn register_tables(engine: &mut Engine) {
    engine.register_type_with_name::<Arc<StepTable>>("Table");
    engine.register_fn(
        "lookup",
        |t: Arc<StepTable>, key: Decimal| -> Result<Dynamic, Box<EvalAltResult>> {
            t.lookup_number(key)
                .map(term_dynamic)
                .map_err(|e| runtime_error(e.to_string()))
        },
    );
    engine.register_fn(
        "lookup",
        |t: Arc<StepTable>, key: INT| -> Result<Dynamic, Box<EvalAltResult>> {
            t.lookup_number(Decimal::from(key))
                .map(term_dynamic)
                .map_err(|e| runtime_error(e.to_string()))
        },
    );
    engine.register_fn(
        "lookup",
        |t: Arc<StepTable>, key: ImmutableString| -> Result<Dynamic, Box<EvalAltResult>> {
            t.lookup_text(&key)
                .map(term_dynamic)
                .map_err(|e| runtime_error(e.to_string()))
        },
    );
    engine.register_fn(
        "lookup",
        |t: Arc<StepTable>, key: Dynamic, second: Dynamic| -> Result<Dynamic, Box<EvalAltResult>> {
            let keys = [table_key(&t, key)?, table_key(&t, second)?];
            t.lookup(&keys)
                .map(term_dynamic)
                .map_err(|e| runtime_error(e.to_string()))
        },
    );
    engine.register_fn("lookup", |t: Arc<StepTable>, _key: ()| -> Result<Dynamic, Box<EvalAltResult>> {
        Err(runtime_error(format!(
            "looked up `()` in table `{}`: the metric is undefined for this record; check it with `== ()` first",
            t.name
        )))
    });
}
