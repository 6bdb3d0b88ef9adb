//! One evaluation: a member's record for a period, through the policy's script, then the
//! engine's caps and rounding. This is the only evaluation path: the CLI and the API call
//! [`Policy::evaluate`], and every simulated member-period [`Policy::evaluate_unrecorded`] —
//! the same function, which leaves out the input hash of a decision nobody records.

use super::compiled::{Path, Stop};
use super::decision::{Decision, ENGINE_VERSION, MetricsUsed, Unrecorded};
use super::explanation::{Line, Reason};
use super::host::{
    ENTRY_POINT, HistoryView, LIMITS, MemberSeen, MemberView, engine, with_deadline,
};
use super::inputs::{History, MemberProfile, YearStart};
use super::manifest::{CapYear, Manifest};
use super::record_view::RecordView;
use crate::lab::LabResult;
use crate::period::{Period, PeriodError, Window};
use crate::readings::Readings;
use crate::record::{DayBoundary, Record};
use chrono::Datelike;
use chrono_tz::Tz;
use rhai::{CallFnOptions, Dynamic, EvalAltResult, Map, Scope};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// A loaded, compiled policy version, ready to evaluate many members on any thread.
#[derive(Clone, Debug)]
pub struct Policy {
    pub manifest: Manifest,
    /// rules.rhai as parsed (the reference) and as compiled (what runs).
    pub(crate) script: Arc<super::compiled::Script>,
    /// Where failures without a position of their own are reported.
    pub(crate) sites: super::sites::Sites,
    /// `sha256:` of policy.toml and rules.rhai.
    pub content_hash: String,
    /// The package's catalogs (`locales/*.ftl`): the words its decisions are shown in, never
    /// part of its content hash.
    pub catalogs: Arc<crate::locale::Catalogs>,
}

/// What one evaluation reads.
#[derive(Clone, Copy, Debug)]
pub struct EvaluationInput<'a> {
    pub member: &'a MemberProfile,
    pub period: Period,
    /// The member's readings; those outside the period are left out.
    pub readings: &'a Readings,
    /// HbA1c results; those after the period are left out.
    pub labs: &'a [LabResult],
    pub history: &'a History,
}

thread_local! {
    /// The window of the period this thread last evaluated, and in which zone.
    static LAST_WINDOW: std::cell::Cell<Option<(Period, Tz, Window)>> =
        const { std::cell::Cell::new(None) };
}

/// `period.window(zone)`, remembered for the next evaluation on this thread: a simulation or a
/// batch decides member after member in one period, and finding a period's midnights in a
/// zone was 3 % of a simulation's time. The same value (a pure function of both); an error is
/// not remembered.
fn window_of(period: Period, zone: Tz) -> Result<Window, PeriodError> {
    if let Some((p, z, window)) = LAST_WINDOW.get()
        && p == period
        && z == zone
    {
        return Ok(window);
    }
    let window = period.window(zone)?;
    LAST_WINDOW.set(Some((period, zone, window)));
    Ok(window)
}

/// Whether an evaluation hashes what it read: always, but for a decision that is never
/// recorded ([`Policy::evaluate_unrecorded`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InputHash {
    Computed,
    Skipped,
}

/// Why an evaluation produced no decision. Messages name the policy, the file and line, and
/// the limit hit.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EvaluationError {
    #[error("policy `{policy}` is {kind}; period {period} is not one")]
    WrongPeriodKind {
        policy: String,
        kind: String,
        period: String,
    },
    #[error(
        "policy `{policy}` version {version} is not in effect in {period} (effective {from} to {to})"
    )]
    NotInEffect {
        policy: String,
        version: String,
        period: String,
        from: String,
        to: String,
    },
    #[error("policy `{policy}`, rules.rhai{at}: {message}")]
    Script {
        policy: String,
        at: String,
        message: String,
        line: Option<usize>,
        column: Option<usize>,
        /// Stopped by the sandbox's time or operations budget, not by something the script
        /// got wrong on this record.
        out_of_budget: bool,
    },
    #[error("policy `{policy}`: the decision {problem}")]
    BadDecision {
        policy: String,
        problem: String,
        /// Where the decision was most likely built: the one map literal `decide` returns, or
        /// `fn decide` (a value has no line of its own).
        line: Option<usize>,
        column: Option<usize>,
    },
    #[error("policy `{policy}`: {problem}")]
    Arithmetic { policy: String, problem: String },
    /// The member lacks an attribute the policy declares, or has one that is not its kind.
    #[error("policy `{policy}`: member `{member}` {problem}")]
    MemberAttribute {
        policy: String,
        member: String,
        problem: String,
    },
}

#[expect(clippy::indexing_slicing, reason = "a nibble is always below 16")]
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0xf)]])
        .map(char::from)
        .collect()
}

/// The content hash of a policy version: its manifest and script, each length-prefixed.
pub fn content_hash(manifest: &str, script: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"incentive-policy-v1\n");
    for (name, text) in [("policy.toml", manifest), ("rules.rhai", script)] {
        h.update(format!("{name}\n{}\n", text.len()).as_bytes());
        h.update(text.as_bytes());
    }
    format!("sha256:{}", hex(&h.finalize()))
}

/// Where in the script an error happened: the innermost position Rhai knows, since an error
/// inside a helper function is wrapped in one for each call that led to it.
fn innermost_position(e: &EvalAltResult) -> rhai::Position {
    let mut best = e.position();
    let mut current = e;
    while let EvalAltResult::ErrorInFunctionCall(_, _, inner, pos) = current {
        if !pos.is_none() {
            best = *pos;
        }
        current = inner;
    }
    if !current.position().is_none() {
        best = current.position();
    }
    best
}

/// Stopped by the sandbox's time or operations budget rather than by the script.
fn out_of_budget(e: &EvalAltResult) -> bool {
    matches!(
        e.unwrap_inner(),
        EvalAltResult::ErrorTooManyOperations(_) | EvalAltResult::ErrorTerminated(..)
    )
}

/// What the script returned, before caps and rounding.
struct ScriptDecision {
    reward: Decimal,
    premium_adjustment_percent: Decimal,
    tier: Option<String>,
    points: i64,
    qualified: bool,
    reasons: Vec<Line>,
    flags: Vec<String>,
}

pub const DECISION_FIELDS: [&str; 7] = [
    "reward",
    "premium_adjustment_percent",
    "tier",
    "points",
    "qualified",
    "reasons",
    "flags",
];

impl Policy {
    pub fn id(&self) -> &str {
        &self.manifest.id
    }

    /// Why the script runs on the interpreter rather than compiled, if it does: the construct
    /// the compiler does not take, and where (`incentive policy check` says so).
    pub fn interpreted(&self) -> Option<&super::compiled::Interpreted> {
        self.script.interpreted.as_ref()
    }

    fn script_error(&self, e: &EvalAltResult) -> EvaluationError {
        let pos = innermost_position(e);
        let (line, column) = if pos.is_none() {
            // Rhai gives no position for these: the script's likeliest place instead.
            let guess = match e.unwrap_inner() {
                EvalAltResult::ErrorStackOverflow(_) => self.sites.too_deep(),
                EvalAltResult::ErrorTooManyOperations(_) | EvalAltResult::ErrorTerminated(..) => {
                    self.sites.out_of_budget()
                }
                _ => self.sites.decide,
            };
            (guess.map(|g| g.0), guess.map(|g| g.1))
        } else {
            (pos.line(), pos.position())
        };
        let at = line.map_or_else(String::new, |l| format!(":{l}:{}", column.unwrap_or(1)));
        let message = match e.unwrap_inner() {
            EvalAltResult::ErrorTooManyOperations(_) => format!(
                "stopped after {} operations (eval_operations_max); is there a loop that never ends?",
                LIMITS.eval_operations_max
            ),
            EvalAltResult::ErrorTerminated(..) => format!(
                "stopped after {} ms (eval_wall_clock_ms_max)",
                LIMITS.eval_wall_clock_ms_max
            ),
            EvalAltResult::ErrorStackOverflow(_) => format!(
                "calls nested deeper than {} levels (call_levels_max); is a function calling itself forever?",
                LIMITS.call_levels_max
            ),
            EvalAltResult::ErrorDataTooLarge(what, _) => format!(
                "{what} grew past its limit (string_bytes_max {}, array_items_max {}, map_entries_max {})",
                LIMITS.string_bytes_max, LIMITS.array_items_max, LIMITS.map_entries_max
            ),
            EvalAltResult::ErrorTooManyVariables(_) => format!(
                "more than {} variables alive at once (variables_max)",
                LIMITS.variables_max
            ),
            EvalAltResult::ErrorFunctionNotFound(sig, _) => format!(
                "no function `{}` for these values (a metric may be `()` for this record: check with `== ()`)",
                sig.replace("rust_decimal::decimal::Decimal", "decimal")
                    .replace("i64", "integer")
            ),
            EvalAltResult::ErrorDotExpr(m, _) if m.ends_with("type '()'") => format!(
                "{m}: the value before the dot is `()` (history.period(…) for a period the member has no decision for, or a metric without the readings for it); check it with `== ()` first"
            ),
            EvalAltResult::ErrorArithmetic(m, _) => format!("arithmetic error: {m}"),
            EvalAltResult::ErrorRuntime(v, _) => v.to_string(),
            other => other.to_string(),
        };
        let out_of_budget = out_of_budget(e);
        EvaluationError::Script {
            policy: self.manifest.id.clone(),
            at,
            message,
            line,
            column,
            out_of_budget,
        }
    }

    /// Whether this version can decide `period`: of its kind, and within its effective dates
    /// (its first day on or after `effective_from`, on or before `effective_to`). What
    /// [`Policy::evaluate`] checks first, for callers that must know before any work — a
    /// simulation's horizon.
    pub fn check_period(&self, period: Period) -> Result<(), EvaluationError> {
        let m = &self.manifest;
        if period.kind() != m.period {
            return Err(EvaluationError::WrongPeriodKind {
                policy: m.id.clone(),
                kind: format!("{:?}", m.period).to_lowercase(),
                period: period.to_string(),
            });
        }
        let first = period.first_day();
        let in_effect =
            first.is_some_and(|d| d >= m.effective_from && m.effective_to.is_none_or(|to| d <= to));
        if !in_effect {
            return Err(EvaluationError::NotInEffect {
                policy: m.id.clone(),
                version: m.version.clone(),
                period: period.to_string(),
                from: m.effective_from.to_string(),
                to: m
                    .effective_to
                    .map_or_else(|| "open-ended".to_owned(), |d| d.to_string()),
            });
        }
        Ok(())
    }

    /// Decides one member-period.
    pub fn evaluate(&self, input: &EvaluationInput<'_>) -> Result<Decision, EvaluationError> {
        self.evaluate_on(input, Path::Compiled)
    }

    /// [`Policy::evaluate`] on the path given: the differential tests run both and require the
    /// same bytes.
    pub fn evaluate_on(
        &self,
        input: &EvaluationInput<'_>,
        path: Path,
    ) -> Result<Decision, EvaluationError> {
        self.decide(input, path, InputHash::Computed)
    }

    /// Decides one member-period as [`Policy::evaluate`] does, without the hash of its inputs:
    /// for a caller that counts decisions and records none (a simulation). The same path, byte
    /// for byte but the hash (`engine/tests/compiled_policies.rs` holds it to `evaluate`).
    pub fn evaluate_unrecorded(
        &self,
        input: &EvaluationInput<'_>,
    ) -> Result<Unrecorded, EvaluationError> {
        self.decide(input, Path::Compiled, InputHash::Skipped)
            .map(Unrecorded)
    }

    /// The one evaluation path, with or without the input hash.
    fn decide(
        &self,
        input: &EvaluationInput<'_>,
        path: Path,
        hash: InputHash,
    ) -> Result<Decision, EvaluationError> {
        let m = &self.manifest;
        let period = input.period;
        self.check_period(period)?;
        let first = period.first_day();
        let window = window_of(period, m.timezone).map_err(|e| EvaluationError::Arithmetic {
            policy: m.id.clone(),
            problem: e.to_string(),
        })?;
        // The window once (each computation asks the zone twice); labs after the period are
        // in its future and never part of it.
        let end_ms = window.end.timestamp_millis();
        let labs_before_end: Vec<LabResult> = input
            .labs
            .iter()
            .filter(|l| l.time.timestamp_millis() < end_ms)
            .copied()
            .collect();
        let record = Record::new(
            input.member.id.clone(),
            input.readings.within(&window),
            labs_before_end,
        )
        .within(window)
        .with_day_boundary(DayBoundary::Zone(m.timezone));
        let attributes = m
            .attributes
            .resolve(&input.member.attributes)
            .map_err(|problem| EvaluationError::MemberAttribute {
                policy: m.id.clone(),
                member: input.member.id.as_str().to_owned(),
                problem,
            })?;
        let labs = record.labs();
        let input_hash = match hash {
            InputHash::Computed => super::input_hash::input_hash(input, record.readings(), labs),
            InputHash::Skipped => String::new(),
        };
        let days_enrolled = match (input.member.enrolled_on, first) {
            (Some(e), Some(f)) => (f - e).num_days(),
            _ => 0,
        };
        let view = RecordView::new(record, period, window);
        // Made only when the script reads the member: most rules never do.
        let member = || {
            MemberView(Arc::new(MemberSeen {
                profile: input.member.clone(),
                days_enrolled,
                attributes: attributes.clone(),
                declared: m.attributes.clone(),
            }))
        };
        let start = match (m.caps.year, input.member.enrolled_on) {
            (CapYear::Calendar, _) => YearStart::Calendar,
            (CapYear::Enrolment, Some(on)) => YearStart::Anniversary {
                month: on.month(),
                day: on.day(),
            },
            (CapYear::Enrolment, None) => {
                return Err(EvaluationError::MemberAttribute {
                    policy: m.id.clone(),
                    member: input.member.id.as_str().to_owned(),
                    problem: "has no enrolment date, which the plan's year starts from ([caps] year = \"enrolment\"); send enrolled_on with the member".into(),
                });
            }
        };
        let mut history_summary = input.history.as_of_in(period, start);
        // Only a script that reads earlier periods pays for gathering them.
        if self.sites.reads_earlier_periods {
            history_summary.earlier = Some(input.history.earlier_than(period));
            history_summary.keep = Some(Arc::clone(&m.history.keep));
        }
        let history = HistoryView(Arc::new(history_summary));
        let history_summary = &*history.0;
        let (returned, view) = self.run_decide(path, view, member, &history);
        let returned = returned.map_err(|e| self.script_error(&e))?;
        let mut raw = self.read_decision(returned)?;

        let mut explanation = std::mem::take(&mut raw.reasons);
        let reward = self.apply_caps(raw.reward, history_summary, &mut explanation)?;
        let premium = self.apply_premium_limits(
            raw.premium_adjustment_percent,
            history_summary.premium_loading_percent,
            &mut explanation,
        );
        // Read before the kept metrics are computed, so it lists what the rules read.
        let metrics_used = MetricsUsed(view.used());
        let metrics_used_by_period = view
            .used_by_period()
            .into_iter()
            .map(|(p, used)| (p, MetricsUsed(used)))
            .collect();
        let kept = MetricsUsed(
            m.history
                .keep
                .iter()
                .map(|k| (k.name(), view.get(*k)))
                .collect(),
        );
        Ok(Decision {
            member_id: input.member.id.as_str().to_owned(),
            policy_id: m.id.clone(),
            policy_version: m.version.clone(),
            policy_hash: self.content_hash.clone(),
            engine_version: ENGINE_VERSION.to_owned(),
            period: period.to_string(),
            input_hash,
            currency: m.currency.clone(),
            reward,
            premium_adjustment_percent: premium,
            tier: raw.tier,
            points: raw.points,
            qualified: raw.qualified,
            flags: raw.flags,
            metrics_used,
            metrics_used_by_period,
            kept,
            explanation,
        })
    }

    /// Runs the script's `decide` on `path`, and gives what it returned with the view of the
    /// record that was read. What the compiled path does not decide — it hands the record over
    /// — the interpreter decides, on a view of the record with nothing read yet, so a failure
    /// is told as the reference tells it, at the place it names.
    fn run_decide(
        &self,
        path: Path,
        view: RecordView,
        member: impl Fn() -> MemberView,
        history: &HistoryView,
    ) -> (Result<Dynamic, Box<EvalAltResult>>, RecordView) {
        let interpret = |view: &RecordView| {
            with_deadline(|| {
                engine().call_fn_with_options(
                    CallFnOptions::new().eval_ast(false).rewind_scope(true),
                    &mut Scope::new(),
                    &self.script.ast,
                    ENTRY_POINT,
                    (view.clone(), member(), history.clone()),
                )
            })
        };
        let Some(program) = self
            .script
            .program
            .as_ref()
            .filter(|_| path == Path::Compiled)
        else {
            let returned = interpret(&view);
            return (returned, view);
        };
        // A parameter the script never reads is not made for it.
        let argument = |i: usize, make: &dyn Fn() -> Dynamic| {
            if program.reads_parameter(i) {
                make()
            } else {
                Dynamic::UNIT
            }
        };
        let arguments = [
            argument(0, &|| Dynamic::from(view.clone())),
            argument(1, &|| Dynamic::from(member())),
            argument(2, &|| Dynamic::from(history.clone())),
        ];
        match with_deadline(|| program.decide(arguments)) {
            Ok(value) => (Ok(value), view),
            Err(Stop::OutOfTime) => (
                Err(Box::new(EvalAltResult::ErrorTerminated(
                    Dynamic::from(rhai::ImmutableString::from("wall-clock")),
                    rhai::Position::NONE,
                ))),
                view,
            ),
            Err(_) => {
                super::compiled::count_fallback();
                let fresh = view.afresh();
                (interpret(&fresh), fresh)
            }
        }
    }

    pub(super) fn bad(&self, problem: String) -> EvaluationError {
        let at = self.sites.bad_decision();
        EvaluationError::BadDecision {
            policy: self.manifest.id.clone(),
            problem,
            line: at.map(|a| a.0),
            column: at.map(|a| a.1),
        }
    }

    fn read_decision(&self, returned: Dynamic) -> Result<ScriptDecision, EvaluationError> {
        let type_name = returned.type_name();
        let Some(mut map) = returned.try_cast::<Map>() else {
            return Err(self.bad(format!(
                "must be a map such as `#{{ reward: 10.00, reasons: [\"…\"] }}`, but `{ENTRY_POINT}` returned {type_name}"
            )));
        };
        for key in map.keys() {
            if !DECISION_FIELDS.contains(&key.as_str()) {
                return Err(self.bad(format!(
                    "has an unknown field `{key}` (fields: {})",
                    DECISION_FIELDS.join(", ")
                )));
            }
        }
        let number = |name: &str, v: &Dynamic| -> Result<Decimal, EvaluationError> {
            if let Some(d) = v.clone().try_cast::<Decimal>() {
                Ok(d)
            } else if let Ok(i) = v.as_int() {
                Ok(Decimal::from(i))
            } else {
                Err(self.bad(format!(
                    "field `{name}` must be a number, not {}",
                    v.type_name()
                )))
            }
        };
        let text = |name: &str, s: String| -> Result<String, EvaluationError> {
            let limit = super::host::LIMITS.decision_text_bytes_max;
            if s.len() > limit {
                return Err(self.bad(format!(
                    "gave a `{name}` text of {} bytes; each is at most {limit} (decision_text_bytes_max)",
                    s.len()
                )));
            }
            Ok(s)
        };
        let strings = |name: &str, v: Option<Dynamic>| -> Result<Vec<String>, EvaluationError> {
            let Some(v) = v else { return Ok(Vec::new()) };
            let type_name = v.type_name();
            let Some(items) = v.try_cast::<rhai::Array>() else {
                return Err(self.bad(format!(
                    "field `{name}` must be an array of strings, not {type_name}"
                )));
            };
            let limit = super::host::LIMITS.decision_texts_max;
            if items.len() > limit {
                return Err(self.bad(format!(
                    "gave {} {name}; a decision carries at most {limit} (decision_texts_max)",
                    items.len()
                )));
            }
            items
                .into_iter()
                .map(|item| {
                    item.into_immutable_string()
                        .map_err(|t| self.bad(format!("field `{name}` must hold strings, not {t}")))
                        .and_then(|s| text(name, s.to_string()))
                })
                .collect()
        };
        let reward = match map.get("reward") {
            None => {
                return Err(
                    self.bad("has no `reward` (write `reward: 0` when nothing is paid)".to_owned())
                );
            }
            Some(v) => number("reward", v)?,
        };
        if reward.is_sign_negative() && !reward.is_zero() {
            return Err(self.bad(format!(
                "has a negative reward ({reward}); rewards are paid to members, never taken"
            )));
        }
        let premium_adjustment_percent = map
            .get("premium_adjustment_percent")
            .map(|v| number("premium_adjustment_percent", v))
            .transpose()?
            .unwrap_or_default();
        let tier = match map.get("tier") {
            None => None,
            Some(v) if v.is_unit() => None,
            Some(v) => Some(
                v.clone()
                    .into_immutable_string()
                    .map_err(|t| self.bad(format!("field `tier` must be a string, not {t}")))
                    .and_then(|s| text("tier", s.to_string()))?,
            ),
        };
        let points = match map.get("points") {
            None => 0,
            Some(v) => v
                .as_int()
                .map_err(|t| self.bad(format!("field `points` must be an integer, not {t}")))?,
        };
        if points < 0 {
            return Err(self.bad(format!("has negative points ({points})")));
        }
        let qualified = match map.get("qualified") {
            None => false,
            Some(v) => v.as_bool().map_err(|t| {
                self.bad(format!("field `qualified` must be true or false, not {t}"))
            })?,
        };
        Ok(ScriptDecision {
            reward,
            premium_adjustment_percent,
            tier,
            points,
            qualified,
            reasons: self.reasons(map.remove("reasons"))?,
            flags: strings("flags", map.remove("flags"))?,
        })
    }

    /// `reasons`: texts and `reason(…)` messages, as many and as long as a decision carries.
    fn reasons(&self, v: Option<Dynamic>) -> Result<Vec<Line>, EvaluationError> {
        let Some(v) = v else { return Ok(Vec::new()) };
        let type_name = v.type_name();
        let Some(items) = v.try_cast::<rhai::Array>() else {
            return Err(self.bad(format!(
                "field `reasons` must be an array of texts and reason(…) messages, not {type_name}"
            )));
        };
        let limits = &super::host::LIMITS;
        if items.len() > limits.decision_texts_max {
            return Err(self.bad(format!(
                "gave {} reasons; a decision carries at most {} (decision_texts_max)",
                items.len(),
                limits.decision_texts_max
            )));
        }
        items
            .into_iter()
            .map(|item| {
                let type_name = item.type_name();
                let (line, bytes, made_at) = match item.try_cast_result::<Reason>() {
                    Ok(r) => {
                        let bytes = r.message.bytes();
                        (Line::Message(r.message), bytes, r.made_at)
                    }
                    Err(item) => match item.into_immutable_string() {
                        Ok(t) => (Line::Text(t.to_string()), t.len(), None),
                        Err(_) => {
                            return Err(self.bad(format!(
                                "field `reasons` must hold texts and reason(…) messages, not {type_name}"
                            )));
                        }
                    },
                };
                if bytes > limits.decision_text_bytes_max {
                    let problem = format!(
                        "gave a reason of {bytes} bytes; each is at most {} (decision_text_bytes_max)",
                        limits.decision_text_bytes_max
                    );
                    // A message too long is named where the script made it.
                    return Err(match made_at {
                        Some((line, column)) => EvaluationError::BadDecision {
                            policy: self.manifest.id.clone(),
                            problem,
                            line: Some(line),
                            column: Some(column),
                        },
                        None => self.bad(problem),
                    });
                }
                Ok(line)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_remembered_is_the_periods_own_whatever_came_before_in_which_zone() {
        let zones = [
            chrono_tz::Asia::Shanghai,
            chrono_tz::America::New_York,
            chrono_tz::Europe::London,
        ];
        let periods = ["2026-03", "2026-03", "2026-Q1", "2026-11", "2026"]
            .map(|p| Period::parse(p).expect("a period"));
        // Every order of (period, zone) pairs twice over: a remembered window is reused only
        // for its own period and zone.
        for _ in 0..2 {
            for zone in zones {
                for period in periods {
                    assert_eq!(
                        window_of(period, zone),
                        period.window(zone),
                        "{period} {zone}"
                    );
                    assert_eq!(
                        window_of(period, zone),
                        period.window(zone),
                        "{period} {zone}"
                    );
                }
            }
        }
    }
}
