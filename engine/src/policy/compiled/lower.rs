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

use super::calls::{self, Method, Property};
use super::run::{Code, Function, Program, Stop};
use super::values::{self, Binary};
use crate::policy::explanation;
use rhai::{
    AST, ASTFlags, Array, BinaryExpr, Dynamic, Expr, FnCallExpr, INT, ImmutableString, Map,
    Position, Stmt,
};
use std::collections::{BTreeMap, BTreeSet};

/// Why a script is not compiled: the first construct outside the subset, and where.
#[derive(Debug)]
pub(super) struct Refusal {
    pub(super) what: String,
    pub(super) pos: Position,
}

fn refuse<T>(what: impl Into<String>, pos: Position) -> Result<T, Refusal> {
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
            params: f.params.len(),
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
            // The innermost body holding it: a closure's body lies inside its function's.
            let owner = spans
                .iter()
                .enumerate()
                .filter(|(_, (start, end))| {
                    matches!((start, end, here), (Some(s), Some(e), Some(h)) if *s <= h && h <= *e)
                })
                .max_by_key(|(_, (start, _))| *start)
                .map(|(i, _)| i);
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
struct Scopes {
    names: Vec<(ImmutableString, usize)>,
    marks: Vec<usize>,
    slots: usize,
}

impl Scopes {
    fn declare(&mut self, name: ImmutableString) -> usize {
        let slot = self.slots;
        self.slots += 1;
        self.names.push((name, slot));
        slot
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.names
            .iter()
            .rev()
            .find(|(n, _)| n.as_str() == name)
            .map(|(_, s)| *s)
    }

    fn enter(&mut self) {
        self.marks.push(self.names.len());
    }

    fn leave(&mut self) {
        let mark = self.marks.pop().unwrap_or_default();
        self.names.truncate(mark);
    }
}

struct Lowering<'a> {
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

/// One step of a `.` chain after its first value.
enum Step {
    Property(Property),
    Method(Method, Vec<Code>),
}

fn constant(v: Dynamic) -> Code {
    Box::new(move |_| Ok(v.clone()))
}

fn at(pos: Position) -> Option<(usize, usize)> {
    pos.line().zip(pos.position())
}

/// Expression nodes in `e`, not counting statements inside it (those count themselves): the
/// work a statement stands for.
fn nodes(e: &Expr) -> u64 {
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
fn read_once(e: &Expr) -> BTreeSet<String> {
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

impl Lowering<'_> {
    /// A function's body: its last statement, when an expression, is the value it returns.
    fn function_body(&mut self, stmts: &[Stmt]) -> Result<Code, Refusal> {
        let Some((Stmt::Expr(last), before)) = stmts.split_last() else {
            return self.block(stmts);
        };
        self.scopes.enter();
        let mut codes: Vec<Code> = Vec::with_capacity(stmts.len());
        for s in before {
            match self.stmt(s) {
                Ok(code) => codes.push(code),
                Err(e) => {
                    self.scopes.leave();
                    return Err(e);
                }
            }
        }
        let last = self.returning(last, nodes(last));
        self.scopes.leave();
        codes.push(last?);
        Ok(Box::new(move |f| {
            let mut value = Dynamic::UNIT;
            for code in &codes {
                value = code(f)?;
            }
            Ok(value)
        }))
    }

    /// The value a function returns: its variables read once in it are taken, not copied.
    fn returning(&mut self, e: &Expr, weight: u64) -> Result<Code, Refusal> {
        self.movable = read_once(e);
        let code = self.expr(e);
        self.movable.clear();
        let code = code?;
        Ok(Box::new(move |f| {
            f.tick(weight)?;
            code(f)
        }))
    }

    fn block(&mut self, stmts: &[Stmt]) -> Result<Code, Refusal> {
        self.scopes.enter();
        let codes: Result<Vec<Code>, Refusal> = stmts.iter().map(|s| self.stmt(s)).collect();
        self.scopes.leave();
        let mut codes = codes?;
        Ok(match codes.len() {
            0 => constant(Dynamic::UNIT),
            1 => codes.pop().unwrap_or_else(|| constant(Dynamic::UNIT)),
            _ => Box::new(move |f| {
                let mut last = Dynamic::UNIT;
                for code in &codes {
                    last = code(f)?;
                }
                Ok(last)
            }),
        })
    }

    /// A statement, counting its work before it runs.
    fn stmt(&mut self, s: &Stmt) -> Result<Code, Refusal> {
        let weight = match s {
            Stmt::Var(x, ..) => 1 + nodes(&x.1),
            Stmt::Assignment(x) => 1 + nodes(&x.1.lhs) + nodes(&x.1.rhs),
            Stmt::Expr(e) => nodes(e),
            Stmt::FnCall(call, _) => 1 + call.args.iter().map(nodes).sum::<u64>(),
            Stmt::If(x, _) | Stmt::While(x, _) | Stmt::Do(x, ..) => 1 + nodes(&x.expr),
            Stmt::For(x, _) => 1 + nodes(&x.2.expr),
            Stmt::Return(Some(e), ..) | Stmt::BreakLoop(Some(e), ..) => 1 + nodes(e),
            _ => 1,
        };
        let code = self.stmt_untimed(s)?;
        Ok(Box::new(move |f| {
            f.tick(weight)?;
            code(f)
        }))
    }

    fn stmt_untimed(&mut self, s: &Stmt) -> Result<Code, Refusal> {
        Ok(match s {
            Stmt::Noop(_) => constant(Dynamic::UNIT),
            Stmt::Var(x, flags, pos) => {
                if flags.intersects(ASTFlags::EXPORTED) {
                    return refuse("`export`", *pos);
                }
                let value = self.expr(&x.1)?;
                let slot = self.scopes.declare(x.0.name.clone());
                Box::new(move |f| {
                    let v = value(f)?;
                    *f.slot_mut(slot)? = v;
                    Ok(Dynamic::UNIT)
                })
            }
            Stmt::Assignment(x) => self.assignment(&x.0, &x.1)?,
            Stmt::If(x, _) => {
                let condition = self.expr(&x.expr)?;
                let then = self.block(x.body.statements())?;
                let otherwise = self.block(x.branch.statements())?;
                Box::new(move |f| {
                    if truth(&condition(f)?)? {
                        then(f)
                    } else {
                        otherwise(f)
                    }
                })
            }
            Stmt::While(x, _) => {
                let forever = matches!(x.expr, Expr::Unit(_));
                let condition = self.expr(&x.expr)?;
                let body = self.block(x.body.statements())?;
                Box::new(move |f| {
                    loop {
                        f.tick(1)?;
                        if !forever && !truth(&condition(f)?)? {
                            break;
                        }
                        match body(f) {
                            Ok(_) | Err(Stop::Continue) => {}
                            Err(Stop::Break) => break,
                            Err(e) => return Err(e),
                        }
                    }
                    Ok(Dynamic::UNIT)
                })
            }
            Stmt::Do(x, flags, _) => {
                let until = flags.intersects(ASTFlags::NEGATED);
                let body = self.block(x.body.statements())?;
                let condition = self.expr(&x.expr)?;
                Box::new(move |f| {
                    loop {
                        f.tick(1)?;
                        match body(f) {
                            Ok(_) | Err(Stop::Continue) => {}
                            Err(Stop::Break) => break,
                            Err(e) => return Err(e),
                        }
                        if truth(&condition(f)?)? == until {
                            break;
                        }
                    }
                    Ok(Dynamic::UNIT)
                })
            }
            Stmt::For(x, _) => self.for_loop(&x.0, x.1.as_ref(), &x.2)?,
            Stmt::Expr(e) => self.expr(e)?,
            Stmt::FnCall(call, pos) => self.call(call, *pos)?,
            Stmt::Block(b) => self.block(b.statements())?,
            Stmt::BreakLoop(value, flags, pos) => {
                if value.is_some() {
                    return refuse("`break` with a value", *pos);
                }
                if flags.intersects(ASTFlags::BREAK) {
                    Box::new(|_| Err(Stop::Break))
                } else {
                    Box::new(|_| Err(Stop::Continue))
                }
            }
            Stmt::Return(value, flags, pos) => {
                if flags.intersects(ASTFlags::BREAK) {
                    // `throw`: an error, which the interpreter tells.
                    return Ok(Box::new(|_| Err(Stop::Fallback)));
                }
                let value = match value {
                    Some(e) => self.returning(e, 0)?,
                    None => constant(Dynamic::UNIT),
                };
                let _ = pos;
                Box::new(move |f| Err(Stop::Return(value(f)?)))
            }
            Stmt::Switch(..) => return refuse("`switch`", s.position()),
            Stmt::TryCatch(..) => return refuse("`try`/`catch`", s.position()),
            _ => return refuse("this statement", s.position()),
        })
    }

    fn for_loop(
        &mut self,
        var: &rhai::Ident,
        counter: Option<&rhai::Ident>,
        flow: &rhai::FlowControl,
    ) -> Result<Code, Refusal> {
        let items = self.expr(&flow.expr)?;
        self.scopes.enter();
        let slot = self.scopes.declare(var.name.clone());
        let counter = counter.map(|c| self.scopes.declare(c.name.clone()));
        let body = self.block(flow.body.statements());
        self.scopes.leave();
        let body = body?;
        Ok(Box::new(move |f| {
            let items = items(f)?;
            let each: Box<dyn Iterator<Item = Dynamic>> =
                if let Some(array) = items.read_lock::<Array>() {
                    Box::new(array.clone().into_iter())
                } else if let Some(range) = items.read_lock::<std::ops::Range<INT>>() {
                    Box::new(range.clone().map(Dynamic::from_int))
                } else if let Some(range) = items.read_lock::<std::ops::RangeInclusive<INT>>() {
                    Box::new(range.clone().map(Dynamic::from_int))
                } else {
                    return Err(Stop::Fallback);
                };
            for (i, item) in each.enumerate() {
                f.tick(1)?;
                *f.slot_mut(slot)? = item;
                if let Some(c) = counter {
                    *f.slot_mut(c)? = Dynamic::from_int(INT::try_from(i).unwrap_or(INT::MAX));
                }
                match body(f) {
                    Ok(_) | Err(Stop::Continue) => {}
                    Err(Stop::Break) => break,
                    Err(e) => return Err(e),
                }
            }
            Ok(Dynamic::UNIT)
        }))
    }

    fn assignment(&mut self, op: &rhai::OpAssignment, b: &BinaryExpr) -> Result<Code, Refusal> {
        let operator = match op.get_op_assignment_info() {
            None => None,
            Some((.., syntax)) => match Binary::of(syntax) {
                Some(o) => Some(o),
                None => return refuse(format!("`{syntax}=`"), op.position()),
            },
        };
        let value = self.expr(&b.rhs)?;
        match &b.lhs {
            Expr::Variable(v, _, pos) => {
                let slot = self.variable(&v.1, *pos)?;
                Ok(Box::new(move |f| {
                    let v = value(f)?;
                    let target = f.slot_mut(slot)?;
                    match operator {
                        None => *target = v,
                        Some(Binary::Add) => values::add_assign(target, v)?,
                        Some(o) => *target = values::binary(o, target, &v)?,
                    }
                    Ok(Dynamic::UNIT)
                }))
            }
            Expr::Dot(d, flags, pos) if !flags.intersects(ASTFlags::NEGATED) => {
                let (Expr::Variable(v, _, vpos), Expr::Property(p, _)) = (&d.lhs, &d.rhs) else {
                    return refuse("an assignment to this", *pos);
                };
                let slot = self.variable(&v.1, *vpos)?;
                let name: rhai::Identifier = p.2.as_str().into();
                Ok(Box::new(move |f| {
                    let v = value(f)?;
                    let target = f.slot_mut(slot)?;
                    {
                        let mut map = target.write_lock::<Map>().ok_or(Stop::Fallback)?;
                        let new = match operator {
                            None => v,
                            Some(o) => {
                                let old = map.get(&name).ok_or(Stop::Fallback)?;
                                values::binary(o, old, &v)?
                            }
                        };
                        map.insert(name.clone(), new);
                    }
                    values::within_limits(target)?;
                    Ok(Dynamic::UNIT)
                }))
            }
            other => refuse("an assignment to this", other.position()),
        }
    }

    fn variable(&mut self, name: &str, pos: Position) -> Result<usize, Refusal> {
        match self.scopes.find(name) {
            Some(slot) => {
                self.slots_used.insert(slot);
                Ok(slot)
            }
            None => refuse(format!("`{name}`, not a variable of the function"), pos),
        }
    }

    fn exprs(&mut self, items: &[Expr]) -> Result<Vec<Code>, Refusal> {
        items.iter().map(|e| self.expr(e)).collect()
    }

    fn expr(&mut self, e: &Expr) -> Result<Code, Refusal> {
        Ok(match e {
            Expr::DynamicConstant(d, pos) => {
                if d.is_fnptr() {
                    return refuse("a function pointer", *pos);
                }
                constant((**d).clone())
            }
            Expr::BoolConstant(b, _) => constant(Dynamic::from_bool(*b)),
            Expr::IntegerConstant(i, _) => constant(Dynamic::from_int(*i)),
            Expr::CharConstant(c, _) => constant(Dynamic::from_char(*c)),
            Expr::StringConstant(s, _) => constant(Dynamic::from(s.clone())),
            Expr::Unit(_) => constant(Dynamic::UNIT),
            Expr::InterpolatedString(parts, _) => {
                let parts = self.exprs(parts)?;
                Box::new(move |f| {
                    let mut out = String::new();
                    for part in &parts {
                        let v = part(f)?;
                        interpolate(&mut out, &v)?;
                        if out.len() > crate::policy::host::LIMITS.string_bytes_max {
                            return Err(Stop::Fallback);
                        }
                    }
                    values::text(out)
                })
            }
            Expr::Array(items, _) => {
                let items = self.exprs(items)?;
                Box::new(move |f| {
                    let mut array = Array::with_capacity(items.len());
                    for item in &items {
                        array.push(item(f)?);
                    }
                    values::checked(Dynamic::from_array(array))
                })
            }
            Expr::Map(m, _) => {
                let mut entries = Vec::with_capacity(m.0.len());
                for (name, value) in &m.0 {
                    let key: rhai::Identifier = name.name.as_str().into();
                    entries.push((key, self.expr(value)?));
                }
                Box::new(move |f| {
                    let mut map = Map::new();
                    for (name, value) in &entries {
                        map.insert(name.clone(), value(f)?);
                    }
                    values::checked(Dynamic::from_map(map))
                })
            }
            Expr::Variable(v, _, pos) => {
                let slot = self.variable(&v.1, *pos)?;
                if self.movable.contains(v.1.as_str()) {
                    Box::new(move |f| f.slot_mut(slot).map(std::mem::take))
                } else {
                    Box::new(move |f| f.slot(slot).cloned())
                }
            }
            Expr::Stmt(block) => self.block(block.statements())?,
            Expr::FnCall(call, pos) => self.call(call, *pos)?,
            Expr::And(items, _) | Expr::Or(items, _) => {
                let and = matches!(e, Expr::And(..));
                let items = self.exprs(items)?;
                Box::new(move |f| {
                    for item in &items {
                        if truth(&item(f)?)? != and {
                            return Ok(Dynamic::from_bool(!and));
                        }
                    }
                    Ok(Dynamic::from_bool(and))
                })
            }
            Expr::Coalesce(items, _) => {
                let items = self.exprs(items)?;
                Box::new(move |f| {
                    let mut last = Dynamic::UNIT;
                    for item in &items {
                        last = item(f)?;
                        if !last.is_unit() {
                            break;
                        }
                    }
                    Ok(last)
                })
            }
            Expr::Index(b, flags, pos) => {
                if flags.intersects(ASTFlags::NEGATED) {
                    return refuse("`?[`", *pos);
                }
                let target = self.expr(&b.lhs)?;
                let index = self.expr(&b.rhs)?;
                Box::new(move |f| {
                    let target = target(f)?;
                    let index = index(f)?;
                    element(&target, &index)
                })
            }
            Expr::Dot(b, flags, pos) => {
                if flags.intersects(ASTFlags::NEGATED) {
                    return refuse("`?.`", *pos);
                }
                self.dot(b, *pos)?
            }
            other => return refuse("this expression", other.position()),
        })
    }

    /// `value.step.step…`; `variable.push(item)` changes the variable.
    fn dot(&mut self, b: &BinaryExpr, pos: Position) -> Result<Code, Refusal> {
        if let (Expr::Variable(v, _, vpos), Expr::MethodCall(call, mpos)) = (&b.lhs, &b.rhs)
            && call.name == "push"
        {
            if self.script_functions.contains("push") {
                return refuse(
                    "`.push(…)`, which the script defines as a function too",
                    *mpos,
                );
            }
            let [item] = call.args.as_slice() else {
                return refuse("`push` of other than one item", *mpos);
            };
            let slot = self.variable(&v.1, *vpos)?;
            let item = self.expr(item)?;
            return Ok(Box::new(move |f| {
                let item = item(f)?;
                calls::push(f.slot_mut(slot)?, item)?;
                Ok(Dynamic::UNIT)
            }));
        }
        let first = self.expr(&b.lhs)?;
        let mut steps = Vec::new();
        let mut rest = &b.rhs;
        loop {
            let (step, next) = match rest {
                Expr::Dot(inner, flags, p) => {
                    if flags.intersects(ASTFlags::NEGATED) {
                        return refuse("`?.`", *p);
                    }
                    (&inner.lhs, Some(&inner.rhs))
                }
                other => (other, None),
            };
            steps.push(match step {
                Expr::Property(p, _) => Step::Property(Property::new(&p.2)),
                Expr::MethodCall(call, p) => {
                    let method = self.method_name(call, *p)?;
                    Step::Method(method, self.exprs(&call.args)?)
                }
                other => return refuse("this after `.`", other.position()),
            });
            match next {
                Some(n) => rest = n,
                None => break,
            }
        }
        let _ = pos;
        Ok(Box::new(move |f| {
            let mut value = first(f)?;
            for step in &steps {
                value = match step {
                    Step::Property(p) => p.read(&value)?,
                    Step::Method(m, args) => {
                        let args: Vec<Dynamic> =
                            args.iter().map(|a| a(f)).collect::<Result<_, _>>()?;
                        m.call(&value, &args)?
                    }
                };
            }
            Ok(value)
        }))
    }

    /// A method the compiled path has, and that the script does not define a function of.
    fn method_name(&self, call: &FnCallExpr, pos: Position) -> Result<Method, Refusal> {
        if self.script_functions.contains(call.name.as_str()) {
            return refuse(
                format!(
                    "`.{}(…)`, which the script defines as a function too",
                    call.name
                ),
                pos,
            );
        }
        Method::of(&call.name)
            .map_or_else(|| refuse(format!("the method `{}`", call.name), pos), Ok)
    }

    fn call(&mut self, call: &FnCallExpr, pos: Position) -> Result<Code, Refusal> {
        if call.capture_parent_scope {
            return refuse(format!("`{}!(…)`", call.name), pos);
        }
        let name = call.name.as_str();
        if call.is_operator_call() {
            return self.operator(name, &call.args, pos);
        }
        if let Some(&index) = self.functions.get(&(name.to_owned(), call.args.len())) {
            let args = self.exprs(&call.args)?;
            return Ok(Box::new(move |f| {
                let values: Vec<Dynamic> = args.iter().map(|a| a(f)).collect::<Result<_, _>>()?;
                f.call(index, values)
            }));
        }
        match name {
            "reason" => self.reason(call, pos),
            "lookup" => {
                let args = self.exprs(&call.args)?;
                Ok(Box::new(move |f| {
                    let values: Vec<Dynamic> =
                        args.iter().map(|a| a(f)).collect::<Result<_, _>>()?;
                    calls::lookup(&values)
                }))
            }
            _ => refuse(format!("the function `{name}`"), pos),
        }
    }

    fn operator(&mut self, name: &str, args: &[Expr], pos: Position) -> Result<Code, Refusal> {
        match args {
            [x, y] => {
                let Some(op) = Binary::of(name) else {
                    return refuse(format!("the operator `{name}`"), pos);
                };
                let (x, y) = (self.expr(x)?, self.expr(y)?);
                Ok(Box::new(move |f| {
                    let a = x(f)?;
                    let b = y(f)?;
                    values::binary(op, &a, &b)
                }))
            }
            [x] => {
                let x = self.expr(x)?;
                match name {
                    "-" => Ok(Box::new(move |f| values::negate(&x(f)?))),
                    "!" => Ok(Box::new(move |f| values::not(&x(f)?))),
                    _ => refuse(format!("the operator `{name}`"), pos),
                }
            }
            _ => refuse(format!("the operator `{name}`"), pos),
        }
    }

    /// `reason("id", #{ name: value, … })` with the id and names written out is made straight
    /// from the values, in name order, without a map; any other form through a map.
    fn reason(&mut self, call: &FnCallExpr, pos: Position) -> Result<Code, Refusal> {
        let made_at = at(pos);
        if let [Expr::StringConstant(id, _), Expr::Map(m, _)] = call.args.as_slice()
            && explanation::is_identifier(id)
            && m.0
                .iter()
                .map(|(n, _)| n.name.as_str())
                .collect::<BTreeSet<_>>()
                .len()
                == m.0.len()
            && m.0.len() <= explanation::MESSAGE_ARGS_MAX
            && m.0
                .iter()
                .all(|(name, _)| explanation::is_identifier(&name.name))
        {
            let id = id.to_string();
            // Names in the order a map gives them; each value, evaluated in the order
            // written, goes to its name's place.
            let mut names: Vec<String> = m.0.iter().map(|(n, _)| n.name.to_string()).collect();
            names.sort();
            names.dedup();
            let mut values = Vec::with_capacity(m.0.len());
            for (name, value) in &m.0 {
                let place = names
                    .binary_search(&name.name.to_string())
                    .unwrap_or_default();
                values.push((place, self.expr(value)?));
            }
            return Ok(Box::new(move |f| {
                let mut args: Vec<(String, String)> =
                    names.iter().map(|n| (n.clone(), String::new())).collect();
                for (place, value) in &values {
                    let text = explanation::argument(value(f)?).ok_or(Stop::Fallback)?;
                    if let Some(arg) = args.get_mut(*place) {
                        arg.1 = text;
                    }
                }
                Ok(calls::reason_of(id.clone(), args, made_at))
            }));
        }
        let args = self.exprs(&call.args)?;
        Ok(Box::new(move |f| {
            let values: Vec<Dynamic> = args.iter().map(|a| a(f)).collect::<Result<_, _>>()?;
            calls::reason(&values, made_at)
        }))
    }
}

/// A condition's value: Rhai wants true or false, and says so otherwise.
fn truth(v: &Dynamic) -> Result<bool, Stop> {
    v.as_bool().map_err(|_| Stop::Fallback)
}

/// `${value}` as Rhai writes it into a text.
fn interpolate(out: &mut String, v: &Dynamic) -> Result<(), Stop> {
    use std::fmt::Write;
    if let Some(s) = v.read_lock::<ImmutableString>() {
        out.push_str(s.as_str());
    } else if let Ok(i) = v.as_int() {
        let _ = write!(out, "{i}");
    } else if let Ok(d) = v.as_decimal() {
        let _ = write!(out, "{d}");
    } else if let Ok(b) = v.as_bool() {
        let _ = write!(out, "{b}");
    } else if let Ok(c) = v.as_char() {
        out.push(c);
    } else if v.is_unit() {
        // `()` prints as nothing.
    } else {
        return Err(Stop::Fallback);
    }
    Ok(())
}

/// `target[index]`: an array's item (from the end for a negative index) or a map's entry.
fn element(target: &Dynamic, index: &Dynamic) -> Result<Dynamic, Stop> {
    if let Some(items) = target.read_lock::<Array>() {
        let i = index.as_int().map_err(|_| Stop::Fallback)?;
        let len = INT::try_from(items.len()).unwrap_or(INT::MAX);
        let at = if i < 0 { len.checked_add(i) } else { Some(i) };
        return at
            .and_then(|a| usize::try_from(a).ok())
            .and_then(|a| items.get(a).cloned())
            .ok_or(Stop::Fallback);
    }
    if let Some(map) = target.read_lock::<Map>() {
        let key = index.read_lock::<ImmutableString>().ok_or(Stop::Fallback)?;
        return map.get(key.as_str()).cloned().ok_or(Stop::Fallback);
    }
    Err(Stop::Fallback)
}
