//! Expressions lowered: constants, variables, operators, literals, `.` chains and calls.

use super::statements::truth;
use super::{Lowering, Refusal, at, constant, refuse};
use crate::policy::compiled::calls::{self, Method, Property};
use crate::policy::compiled::run::{Code, Frame, Stop};
use crate::policy::compiled::values::{self, Binary};
use crate::policy::explanation;
use rhai::{
    ASTFlags, Array, BinaryExpr, Dynamic, Expr, FnCallExpr, INT, ImmutableString, Map, Position,
};

/// One step of a `.` chain after its first value.
enum Step {
    Property(Property),
    Method(Method, Vec<Code>),
}

impl Lowering<'_> {
    pub(super) fn variable(&mut self, name: &str, pos: Position) -> Result<usize, Refusal> {
        match self.scopes.find(name) {
            Some(slot) => {
                self.slots_used.insert(slot);
                Ok(slot)
            }
            None => refuse(format!("`{name}`, not a variable of the function"), pos),
        }
    }

    pub(super) fn exprs(&mut self, items: &[Expr]) -> Result<Vec<Code>, Refusal> {
        items.iter().map(|e| self.expr(e)).collect()
    }

    pub(super) fn expr(&mut self, e: &Expr) -> Result<Code, Refusal> {
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
                self.dot(b)?
            }
            other => return refuse("this expression", other.position()),
        })
    }

    /// `value.step.step…`; `variable.push(item)` changes the variable.
    pub(super) fn dot(&mut self, b: &BinaryExpr) -> Result<Code, Refusal> {
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
        let mut first = self.receiver(&b.lhs)?;
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
        if let Receiver::Constant(value) = &mut first {
            // `terms.x` and `tables.t` are read now, once, as the optimiser would have.
            let mut folded = 0;
            for step in &steps {
                let Step::Property(p) = step else { break };
                let Ok(next) = p.read(value) else { break };
                *value = next;
                folded += 1;
            }
            steps.drain(..folded);
            if steps.is_empty() {
                return Ok(constant(std::mem::take(value)));
            }
        }
        // As Rhai does, every method's arguments are evaluated before the chain's first value
        // is read, so an argument that assigns the variable it starts from is seen.
        Ok(Box::new(move |f| {
            let mut args = Vec::new();
            for step in &steps {
                if let Step::Method(_, codes) = step {
                    for code in codes {
                        args.push(code(f)?);
                    }
                }
            }
            let mut args = args.as_slice();
            let mut steps = steps.iter();
            // The first step reads the value where it lies: `record.x` copies no record.
            let evaluated = first.evaluate(f)?;
            let first = first.value(&evaluated, f)?;
            let mut value = match steps.next() {
                Some(step) => step.of(first, &mut args)?,
                None => first.clone(),
            };
            for step in steps {
                value = step.of(&value, &mut args)?;
            }
            Ok(value)
        }))
    }

    /// What a `.` chain starts from: a constant and a variable not about to be moved are read
    /// without a copy of their own.
    fn receiver(&mut self, e: &Expr) -> Result<Receiver, Refusal> {
        Ok(match e {
            Expr::DynamicConstant(d, _) if !d.is_fnptr() => Receiver::Constant((**d).clone()),
            Expr::Variable(v, _, pos) if !self.movable.contains(v.1.as_str()) => {
                Receiver::Slot(self.variable(&v.1, *pos)?)
            }
            other => Receiver::Code(self.expr(other)?),
        })
    }

    /// A method the compiled path has, and that the script does not define a function of.
    pub(super) fn method_name(&self, call: &FnCallExpr, pos: Position) -> Result<Method, Refusal> {
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

    pub(super) fn call(&mut self, call: &FnCallExpr, pos: Position) -> Result<Code, Refusal> {
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
                let values = all(&args, f)?;
                f.call(index, values)
            }));
        }
        match name {
            "reason" => self.reason(call, pos),
            "lookup" => {
                let args = self.exprs(&call.args)?;
                Ok(Box::new(move |f| calls::lookup(all(&args, f)?)))
            }
            _ => refuse(format!("the function `{name}`"), pos),
        }
    }

    pub(super) fn operator(
        &mut self,
        name: &str,
        args: &[Expr],
        pos: Position,
    ) -> Result<Code, Refusal> {
        match args {
            [x, y] => {
                let Some(op) = Binary::of(name) else {
                    return refuse(format!("the operator `{name}`"), pos);
                };
                // A constant or a variable operand is read where it lies, not copied. The left
                // one is read after the right is evaluated, so only when the right holds no
                // block that could assign it.
                let x = match self.receiver(x)? {
                    Receiver::Slot(slot) if holds_block(y) => {
                        Receiver::Code(Box::new(move |f| f.slot(slot).cloned()))
                    }
                    other => other,
                };
                let y = self.receiver(y)?;
                Ok(Box::new(move |f| {
                    let a = x.evaluate(f)?;
                    let b = y.evaluate(f)?;
                    values::binary(op, x.value(&a, f)?, y.value(&b, f)?)
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
    pub(super) fn reason(&mut self, call: &FnCallExpr, pos: Position) -> Result<Code, Refusal> {
        let made_at = at(pos);
        if let [Expr::StringConstant(id, _), Expr::Map(m, _)] = call.args.as_slice() {
            // Names in the order a map gives them; each value, evaluated in the order
            // written, goes to its name's place.
            let mut names: Vec<String> = m.0.iter().map(|(n, _)| n.name.to_string()).collect();
            names.sort();
            let checked = explanation::is_identifier(id)
                && names.len() <= explanation::MESSAGE_ARGS_MAX
                && names.windows(2).all(|w| w.first() != w.get(1))
                && names.iter().all(|n| explanation::is_identifier(n));
            if checked {
                let id = id.to_string();
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
                    Ok(calls::reason_from_parts(id.clone(), args, made_at))
                }));
            }
        }
        let args = self.exprs(&call.args)?;
        Ok(Box::new(move |f| calls::reason(all(&args, f)?, made_at)))
    }
}

/// Where a `.` chain's first value, or an operator's operand, comes from.
enum Receiver {
    Constant(Dynamic),
    Slot(usize),
    Code(Code),
}

impl Receiver {
    /// Runs the code this value needs, if any; a constant or a variable needs none, and is read
    /// by `value` where it lies, without a copy.
    fn evaluate(&self, f: &mut Frame<'_, '_>) -> Result<Option<Dynamic>, Stop> {
        match self {
            Receiver::Code(code) => code(f).map(Some),
            Receiver::Constant(_) | Receiver::Slot(_) => Ok(None),
        }
    }

    /// The value: what `evaluate` returned for code, else the constant or the variable itself.
    fn value<'v>(
        &'v self,
        evaluated: &'v Option<Dynamic>,
        f: &'v Frame<'_, '_>,
    ) -> Result<&'v Dynamic, Stop> {
        match (self, evaluated) {
            (_, Some(value)) => Ok(value),
            (Receiver::Constant(value), None) => Ok(value),
            (Receiver::Slot(slot), None) => f.slot(*slot),
            (Receiver::Code(_), None) => Err(Stop::Fallback),
        }
    }
}

impl Step {
    /// This step taken from `value`, its arguments (if a method) the first of `args`.
    fn of(&self, value: &Dynamic, args: &mut &[Dynamic]) -> Result<Dynamic, Stop> {
        match self {
            Step::Property(p) => p.read(value),
            Step::Method(m, codes) => {
                let (these, rest) = args.split_at_checked(codes.len()).ok_or(Stop::Fallback)?;
                *args = rest;
                m.call(value, these)
            }
        }
    }
}

/// Whether `e` holds a block (`{ … }` as a value), inside which statements run.
fn holds_block(e: &Expr) -> bool {
    match e {
        Expr::Stmt(_) => true,
        Expr::InterpolatedString(items, _) | Expr::Array(items, _) => items.iter().any(holds_block),
        Expr::And(items, _) | Expr::Or(items, _) | Expr::Coalesce(items, _) => {
            items.iter().any(holds_block)
        }
        Expr::Map(m, _) => m.0.iter().any(|(_, v)| holds_block(v)),
        Expr::FnCall(call, _) | Expr::MethodCall(call, _) => call.args.iter().any(holds_block),
        Expr::Dot(b, ..) | Expr::Index(b, ..) => holds_block(&b.lhs) || holds_block(&b.rhs),
        _ => false,
    }
}

/// Every code's value, in order.
fn all(codes: &[Code], f: &mut Frame<'_, '_>) -> Result<Vec<Dynamic>, Stop> {
    codes.iter().map(|code| code(f)).collect()
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
