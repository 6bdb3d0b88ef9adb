//! Statements lowered: each counts its work before it runs; a block's value is its last
//! statement's, as in Rhai.

use super::{Lowering, Refusal, constant, nodes, read_once, refuse};
use crate::policy::compiled::run::{Code, Stop};
use crate::policy::compiled::values::{self, Binary};
use rhai::{ASTFlags, Array, BinaryExpr, Dynamic, Expr, INT, Map, Stmt};

impl Lowering<'_> {
    /// A function's body: its last statement, when an expression, is the value it returns.
    pub(super) fn function_body(&mut self, stmts: &[Stmt]) -> Result<Code, Refusal> {
        self.statements(stmts, true)
    }

    pub(super) fn block(&mut self, stmts: &[Stmt]) -> Result<Code, Refusal> {
        self.statements(stmts, false)
    }

    /// Statements in a scope of their own, whose value is the last one's; when `returned`,
    /// that last one's value leaves the function (`returning`).
    fn statements(&mut self, stmts: &[Stmt], returned: bool) -> Result<Code, Refusal> {
        self.scopes.enter();
        let codes: Result<Vec<Code>, Refusal> = stmts
            .iter()
            .enumerate()
            .map(|(i, s)| match s {
                Stmt::Expr(e) if returned && i + 1 == stmts.len() => self.returning(e, nodes(e)),
                _ => self.stmt(s),
            })
            .collect();
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

    /// The value a function returns: its variables read once in it are taken, not copied.
    pub(super) fn returning(&mut self, e: &Expr, weight: u64) -> Result<Code, Refusal> {
        self.movable = read_once(e);
        let code = self.expr(e);
        self.movable.clear();
        let code = code?;
        Ok(Box::new(move |f| {
            f.tick(weight)?;
            code(f)
        }))
    }

    /// A statement, counting its work before it runs.
    pub(super) fn stmt(&mut self, s: &Stmt) -> Result<Code, Refusal> {
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

    pub(super) fn stmt_untimed(&mut self, s: &Stmt) -> Result<Code, Refusal> {
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
            Stmt::Return(value, flags, _) => {
                if flags.intersects(ASTFlags::BREAK) {
                    // `throw`: an error, which the interpreter tells.
                    return Ok(Box::new(|_| Err(Stop::Fallback)));
                }
                let value = match value {
                    Some(e) => self.returning(e, 0)?,
                    None => constant(Dynamic::UNIT),
                };
                Box::new(move |f| Err(Stop::Return(value(f)?)))
            }
            Stmt::Switch(..) => return refuse("`switch`", s.position()),
            Stmt::TryCatch(..) => return refuse("`try`/`catch`", s.position()),
            _ => return refuse("this statement", s.position()),
        })
    }

    pub(super) fn for_loop(
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
            // The value is the loop's own: an array is iterated without a copy.
            let each: Box<dyn Iterator<Item = Dynamic>> = match items(f)?.try_cast_result::<Array>()
            {
                Ok(array) => Box::new(array.into_iter()),
                Err(other) => match other.try_cast_result::<std::ops::Range<INT>>() {
                    Ok(range) => Box::new(range.map(Dynamic::from_int)),
                    Err(other) => match other.try_cast::<std::ops::RangeInclusive<INT>>() {
                        Some(range) => Box::new(range.map(Dynamic::from_int)),
                        None => return Err(Stop::Fallback),
                    },
                },
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

    pub(super) fn assignment(
        &mut self,
        op: &rhai::OpAssignment,
        b: &BinaryExpr,
    ) -> Result<Code, Refusal> {
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
}

/// A condition's value: Rhai wants true or false, and says so otherwise.
pub(super) fn truth(v: &Dynamic) -> Result<bool, Stop> {
    v.as_bool().map_err(|_| Stop::Fallback)
}
