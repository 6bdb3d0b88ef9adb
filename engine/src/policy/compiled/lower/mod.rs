//! Lowering a script's tree into closures, once, when the policy loads.
//!
//! Every variable gets a slot, resolved now rather than looked up by name per read; every
//! function call, property and method is resolved now to what it calls; terms and tables are
//! already constants (the optimiser folded them). A construct outside the subset below is a
//! [`Refusal`], and the whole script then runs on the interpreter:
//!
//! - statements: `let`/`const`, `=` and `op=` on a variable or a map's property, `if`/`else`,
//!   `for` over an array or a range of integers, `while`, `loop`, `do`, `break`, `continue`,
//!   `return`, blocks;
//! - expressions: constants, variables, arithmetic and comparisons, `&&`, `||`, `??`, `!`,
//!   unary `-`, text interpolation, array and map literals, indexing, properties, the methods
//!   in [`Method`] and `push`, calls of the script's own functions, `reason(…)` and `lookup(…)`.

mod expressions;
mod statements;

use super::run::{Code, Function, Program};
use rhai::{AST, Dynamic, Expr, ImmutableString, Position, Stmt};
use std::collections::{BTreeMap, BTreeSet};

/// Why a script is not compiled: the first construct outside the subset, and where.
#[derive(Debug)]
pub(super) struct Refusal {
    pub(super) what: String,
    pub(super) pos: Position,
}

pub(super) fn refuse<T>(what: impl Into<String>, pos: Position) -> Result<T, Refusal> {
    Err(Refusal {
        what: what.into(),
        pos,
    })
}

/// Functions of more variables than this stay on the interpreter, whose limit on variables
/// alive at once (`variables_max`) counts every call's together.
const SLOTS_MAX: usize = crate::policy::host::LIMITS.variables_max / 4;

pub(super) fn lower(ast: &AST) -> Result<Program, Refusal> {
    let definitions: Vec<_> = ast.iter_fn_def().collect();
    let mut by_signature = BTreeMap::new();
    for (i, f) in definitions.iter().enumerate() {
        by_signature.insert((f.name.to_string(), f.params.len()), i);
    }
    let names: BTreeSet<String> = definitions.iter().map(|f| f.name.to_string()).collect();
    let Some(&entry) = by_signature.get(&(
        crate::policy::host::ENTRY_POINT.to_owned(),
        crate::policy::host::ENTRY_PARAMS.len(),
    )) else {
        return refuse(
            "the script has no `decide(record, member, history)`",
            Position::NONE,
        );
    };
    // Rhai names a closure's function `anon$…`; a closure is called back by the native
    // functions it is handed (`filter`, `sort`), which only the interpreter can do.
    if let Some(closure) = definitions.iter().find(|f| f.name.starts_with("anon$")) {
        return refuse("a closure (`|x| …`)", closure.body.start_position());
    }
    let bodies = bodies(ast, &definitions)?;
    let mut functions = Vec::with_capacity(definitions.len());
    let mut slots_in_all = 0;
    let mut parameters_read = [true; 3];
    for (i, (f, body)) in definitions.iter().zip(&bodies).enumerate() {
        if f.this_type.is_some() {
            return refuse(
                format!("function `{}` is a method of a type", f.name),
                f.body.start_position(),
            );
        }
        let mut lowering = Lowering {
            functions: &by_signature,
            script_functions: &names,
            scopes: Scopes::default(),
            slots_used: BTreeSet::new(),
            movable: BTreeSet::new(),
        };
        for p in &f.params {
            lowering.scopes.declare(p.clone());
        }
        let body = lowering.function_body(body)?;
        let slots = lowering.scopes.slots;
        if i == entry {
            parameters_read = [0, 1, 2].map(|p| lowering.slots_used.contains(&p));
        }
        slots_in_all += slots;
        if slots_in_all > SLOTS_MAX {
            return refuse(
                format!("the script's functions hold more than {SLOTS_MAX} variables"),
                f.body.start_position(),
            );
        }
        functions.push(Function {
            name: f.name.to_string(),
            slots,
            body,
        });
    }
    Ok(Program {
        functions,
        entry,
        parameters_read,
    })
}

/// Each function's statements, in order. Rhai does not hand a function's body out, but its
/// walk visits every function's statements with the place each starts, and each body says
/// where it starts and ends.
fn bodies(
    ast: &AST,
    definitions: &[&rhai::Shared<rhai::ScriptFuncDef>],
) -> Result<Vec<Vec<Stmt>>, Refusal> {
    let spans: Vec<_> = definitions
        .iter()
        .map(|f| (at(f.body.start_position()), at(f.body.end_position())))
        .collect();
    let mut bodies: Vec<Vec<Stmt>> = vec![Vec::new(); definitions.len()];
    let mut lost = None;
    ast.walk(&mut |path: &[rhai::ASTNode]| {
        if let [rhai::ASTNode::Stmt(stmt)] = path {
            let here = at(stmt.position());
            // Bodies do not nest: closures, the one function inside another, are refused first.
            let owner = spans.iter().position(|(start, end)| {
                matches!((start, end, here), (Some(s), Some(e), Some(h)) if *s <= h && h <= *e)
            });
            match (owner, here) {
                (Some(i), _) => {
                    if let Some(body) = bodies.get_mut(i) {
                        body.push((*stmt).clone());
                    }
                }
                // A statement at the top level, outside every function: never run.
                (None, Some(_)) => {}
                (None, None) => lost = Some(stmt.position()),
            }
        }
        true
    });
    match lost {
        Some(pos) => refuse("a statement without a place in the script", pos),
        None => Ok(bodies),
    }
}

/// Names in scope, innermost last, each with its slot; every `let` gets a slot of its own.
#[derive(Default)]
pub(super) struct Scopes {
    names: Vec<(ImmutableString, usize)>,
    marks: Vec<usize>,
    slots: usize,
}

impl Scopes {
    pub(super) fn declare(&mut self, name: ImmutableString) -> usize {
        let slot = self.slots;
        self.slots += 1;
        self.names.push((name, slot));
        slot
    }

    pub(super) fn find(&self, name: &str) -> Option<usize> {
        self.names
            .iter()
            .rev()
            .find(|(n, _)| n.as_str() == name)
            .map(|(_, s)| *s)
    }

    pub(super) fn enter(&mut self) {
        self.marks.push(self.names.len());
    }

    pub(super) fn leave(&mut self) {
        let mark = self.marks.pop().unwrap_or_default();
        self.names.truncate(mark);
    }
}

pub(super) struct Lowering<'a> {
    functions: &'a BTreeMap<(String, usize), usize>,
    script_functions: &'a BTreeSet<String>,
    scopes: Scopes,
    /// Every slot a variable reference resolved to.
    slots_used: BTreeSet<usize>,
    /// Variables read once in the value a function is about to return: that read takes the
    /// value rather than copying it (the function's variables end with it), which spares a
    /// copy of every reason of a decision.
    movable: BTreeSet<String>,
}

pub(super) fn constant(v: Dynamic) -> Code {
    Box::new(move |_| Ok(v.clone()))
}

pub(super) fn at(pos: Position) -> Option<(usize, usize)> {
    pos.line().zip(pos.position())
}

/// Expression nodes in `e`, not counting statements inside it (those count themselves): the
/// work a statement stands for.
pub(super) fn nodes(e: &Expr) -> u64 {
    1 + match e {
        Expr::InterpolatedString(items, _) | Expr::Array(items, _) => items.iter().map(nodes).sum(),
        Expr::Map(m, _) => m.0.iter().map(|(_, v)| nodes(v)).sum(),
        Expr::And(items, _) | Expr::Or(items, _) | Expr::Coalesce(items, _) => {
            items.iter().map(nodes).sum()
        }
        Expr::FnCall(call, _) | Expr::MethodCall(call, _) => {
            1 + call.args.iter().map(nodes).sum::<u64>()
        }
        Expr::Dot(b, ..) | Expr::Index(b, ..) => nodes(&b.lhs) + nodes(&b.rhs),
        _ => 0,
    }
}

/// The variables read exactly once in `e`, which ends its function: none when `e` holds a
/// block, whose own variables could bear the same names.
pub(super) fn read_once(e: &Expr) -> BTreeSet<String> {
    fn count(e: &Expr, reads: &mut BTreeMap<String, usize>) -> bool {
        match e {
            Expr::Variable(v, ..) => {
                *reads.entry(v.1.to_string()).or_default() += 1;
                true
            }
            Expr::Stmt(_) => false,
            Expr::InterpolatedString(items, _) | Expr::Array(items, _) => {
                items.iter().all(|i| count(i, reads))
            }
            Expr::And(items, _) | Expr::Or(items, _) | Expr::Coalesce(items, _) => {
                items.iter().all(|i| count(i, reads))
            }
            Expr::Map(m, _) => m.0.iter().all(|(_, v)| count(v, reads)),
            Expr::FnCall(call, _) | Expr::MethodCall(call, _) => {
                call.args.iter().all(|a| count(a, reads))
            }
            Expr::Dot(b, ..) | Expr::Index(b, ..) => count(&b.lhs, reads) && count(&b.rhs, reads),
            _ => true,
        }
    }
    let mut reads = BTreeMap::new();
    if !count(e, &mut reads) {
        return BTreeSet::new();
    }
    reads
        .into_iter()
        .filter(|(_, n)| *n == 1)
        .map(|(name, _)| name)
        .collect()
}
