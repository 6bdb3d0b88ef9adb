//! Where in `rules.rhai` a failure is, when the sandbox cannot say. Rhai reports running out of
//! time or operations, and calls nested too deep, without a position, and a bad decision is a
//! value, not a line; pointing at `rules.rhai:1:1` (a comment, usually) helped nobody. The
//! script is read once when it compiles for the places such failures come from: its loops, a
//! call that closes a cycle of its functions, and the map literals `decide` returns — and
//! those literals are checked there and then, so an unknown field or a negative reward is
//! reported at the literal before any member is decided.

use super::diagnostics::{Diagnostics, SourceFile};
use super::evaluate::DECISION_FIELDS;
use super::host::ENTRY_POINT;
use super::kept::closest;
use rhai::{AST, ASTNode, Expr, Position, Stmt};
use std::collections::{BTreeMap, BTreeSet};

/// A place in rules.rhai: line and column, from 1.
pub type At = (usize, usize);

/// The places a failure without a position of its own is reported at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sites {
    /// `fn decide`.
    pub decide: Option<At>,
    /// The map literal `decide` returns, when there is exactly one.
    pub decision: Option<At>,
    /// The first loop (`loop`, `while`, `do`, `for`).
    pub first_loop: Option<At>,
    /// A call that closes a cycle of the script's functions (a function calling itself).
    pub recursion: Option<At>,
    /// Whether the script calls `period(…)`, reading earlier periods: only then does an
    /// evaluation gather them.
    pub reads_earlier_periods: bool,
    /// Each `reason("id", …)` naming its message by a literal, where it is: the ids checked
    /// against the package's catalogs.
    pub reasons: Vec<(String, At)>,
}

impl Sites {
    /// Where running out of time or operations most likely happened: a loop, else a recursive
    /// call, else `decide`.
    pub fn out_of_budget(&self) -> Option<At> {
        self.first_loop.or(self.recursion).or(self.decide)
    }

    /// Where calls nested too deep: a recursive call, else `decide`.
    pub fn too_deep(&self) -> Option<At> {
        self.recursion.or(self.decide)
    }

    /// Where a bad decision was built: the one literal `decide` returns, else `decide`.
    pub fn bad_decision(&self) -> Option<At> {
        self.decision.or(self.decide)
    }
}

fn at(pos: Position) -> Option<At> {
    Some((pos.line()?, pos.position().unwrap_or(1)))
}

fn span(file: &SourceFile, pos: Position) -> std::ops::Range<usize> {
    match at(pos) {
        Some((line, col)) => {
            let start = file.offset_of(line, col);
            start..start
        }
        None => 0..0,
    }
}

/// Which of a script's functions each place is in, by the span of its body: a walk of the
/// whole AST does not say which function a node belongs to.
pub(crate) struct Functions(Vec<(String, At, At)>);

impl Functions {
    pub(crate) fn of(ast: &AST) -> Self {
        Self(
            ast.iter_fn_def()
                .filter_map(|f| {
                    let start = at(f.body.start_position())?;
                    let end = at(f.body.end_position())?;
                    Some((f.name.to_string(), start, end))
                })
                .collect(),
        )
    }

    /// The function whose body holds `pos`.
    pub(crate) fn owner(&self, pos: Position) -> Option<&str> {
        let here = at(pos)?;
        self.0
            .iter()
            .find(|(_, start, end)| *start <= here && here <= *end)
            .map(|(name, ..)| name.as_str())
    }

    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, ..)| n == name)
    }
}

/// Reads the script for its sites, and checks the decision literals `decide` returns.
pub(crate) fn read(file: &SourceFile, ast: &AST, diags: &mut Diagnostics) -> Sites {
    let functions = Functions::of(ast);
    let mut calls: BTreeMap<String, Vec<(String, Position)>> = BTreeMap::new();
    let mut loops: Vec<At> = Vec::new();
    let mut reads_earlier_periods = false;
    let mut reasons = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Expr(Expr::FnCall(call, pos))) if call.name == "reason" => {
                if let (Some(Expr::StringConstant(id, _)), Some(at)) = (call.args.first(), at(*pos))
                {
                    reasons.push((id.to_string(), at));
                }
            }
            Some(ASTNode::Expr(Expr::MethodCall(call, _) | Expr::FnCall(call, _)))
                if call.name == "period" =>
            {
                reads_earlier_periods = true;
            }
            Some(ASTNode::Stmt(Stmt::While(_, pos) | Stmt::Do(_, _, pos) | Stmt::For(_, pos))) => {
                loops.extend(at(*pos));
            }
            Some(ASTNode::Expr(Expr::FnCall(call, pos))) if functions.has(call.name.as_str()) => {
                if let Some(from) = functions.owner(*pos) {
                    calls
                        .entry(from.to_owned())
                        .or_default()
                        .push((call.name.to_string(), *pos));
                }
            }
            _ => {}
        }
        true
    });
    loops.sort_unstable();
    let decide = file.text.lines().enumerate().find_map(|(i, line)| {
        line.find(&format!("fn {ENTRY_POINT}("))
            .map(|c| (i + 1, c + 1))
    });
    let decision = check_decisions(file, ast, &functions, diags);
    Sites {
        decide,
        decision,
        first_loop: loops.first().copied(),
        recursion: recursive_call(&calls),
        reads_earlier_periods,
        reasons,
    }
}

/// The first call, in name order, that leads back to the function it is in.
fn recursive_call(calls: &BTreeMap<String, Vec<(String, Position)>>) -> Option<At> {
    for (from, out) in calls {
        for (to, pos) in out {
            // Does `to` reach `from`?
            let mut seen = BTreeSet::new();
            let mut stack = vec![to.as_str()];
            while let Some(f) = stack.pop() {
                if f == from {
                    return at(*pos);
                }
                if seen.insert(f) {
                    stack.extend(calls.get(f).into_iter().flatten().map(|(t, _)| t.as_str()));
                }
            }
        }
    }
    None
}

/// Checks each map literal `decide` returns (in a `return`, or as its last expression) or
/// that names `reward`: fields the engine knows, a `reward` that could be one. Gives the
/// position of the literal when there is exactly one.
fn check_decisions(
    file: &SourceFile,
    ast: &AST,
    functions: &Functions,
    diags: &mut Diagnostics,
) -> Option<At> {
    let mut literals: Vec<Position> = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        let Some(ASTNode::Expr(Expr::Map(map, pos))) = path.last() else {
            return true;
        };
        if functions.owner(*pos) != Some(ENTRY_POINT) {
            return true;
        }
        let returned = matches!(
            path.len().checked_sub(2).and_then(|i| path.get(i)),
            Some(ASTNode::Stmt(Stmt::Return(..)))
        ) || path.len() == 2
            && matches!(path.first(), Some(ASTNode::Stmt(Stmt::Expr(_))));
        // A map passed to a call (`reason("paid", #{ reward: … })`) is an argument, not a
        // decision, whatever its keys.
        let an_argument = matches!(
            path.len().checked_sub(2).and_then(|i| path.get(i)),
            Some(ASTNode::Expr(Expr::FnCall(..) | Expr::MethodCall(..)))
        );
        let fields = &map.0;
        let names_reward = !an_argument && fields.iter().any(|(k, _)| k.name == "reward");
        if !(returned || names_reward) {
            return true;
        }
        literals.push(*pos);
        for (key, value) in fields {
            if !DECISION_FIELDS.contains(&key.name.as_str()) {
                let d = diags.error(
                    "decision-field",
                    file,
                    span(file, key.pos),
                    format!(
                        "the decision has an unknown field `{}` (fields: {})",
                        key.name,
                        DECISION_FIELDS.join(", ")
                    ),
                );
                if let Some(near) = closest(&key.name, DECISION_FIELDS) {
                    d.help(format!("did you mean `{near}`?"));
                }
            }
            if key.name == "reward" {
                let problem = match value {
                    Expr::IntegerConstant(i, _) if *i < 0 => Some(format!(
                        "a negative reward ({i}); rewards are paid to members, never taken"
                    )),
                    Expr::StringConstant(..)
                    | Expr::BoolConstant(..)
                    | Expr::Array(..)
                    | Expr::Map(..) => Some("a `reward` that is not a number".to_owned()),
                    _ => None,
                };
                if let Some(problem) = problem {
                    diags.error(
                        "decision-field",
                        file,
                        span(file, value.position()),
                        format!("the decision has {problem}"),
                    );
                }
            }
        }
        if returned && !names_reward {
            diags
                .error(
                    "decision-field",
                    file,
                    span(file, *pos),
                    "the decision has no `reward`",
                )
                .help("write `reward: 0` when nothing is paid");
        }
        true
    });
    match literals.as_slice() {
        [one] => at(*one),
        _ => None,
    }
}
