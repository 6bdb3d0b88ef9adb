//! What Rhai's operators do to the values policies use, written out for the compiled path:
//! integers and decimals (checked, mixed as Rhai mixes them), true/false, text, `()`, arrays
//! and maps. Anything else — or any failure, an overflow, a division by zero — is
//! [`Stop::Fallback`]: the interpreter runs the record instead and says what it says.
//!
//! Sources: Rhai 1.27 `func/builtin.rs` (`get_builtin_binary_op_fn`), `packages/arithmetic.rs`
//! and `packages/{array,map}_basic.rs`; the differential tests hold this file to them.

use super::run::Stop;
use crate::policy::host::LIMITS;
use rhai::{Array, Dynamic, INT, ImmutableString, Map};
use rust_decimal::Decimal;

/// The binary operators the compiled path evaluates itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Binary {
    Add,
    Subtract,
    Multiply,
    Divide,
    Modulo,
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    RangeExclusive,
    RangeInclusive,
}

impl Binary {
    pub(super) fn of(name: &str) -> Option<Self> {
        Some(match name {
            "+" => Self::Add,
            "-" => Self::Subtract,
            "*" => Self::Multiply,
            "/" => Self::Divide,
            "%" => Self::Modulo,
            "==" => Self::Equal,
            "!=" => Self::NotEqual,
            "<" => Self::Less,
            "<=" => Self::LessOrEqual,
            ">" => Self::Greater,
            ">=" => Self::GreaterOrEqual,
            ".." => Self::RangeExclusive,
            "..=" => Self::RangeInclusive,
            _ => return None,
        })
    }

    fn compares(self) -> Option<fn(std::cmp::Ordering) -> bool> {
        use std::cmp::Ordering;
        Some(match self {
            Self::Equal => |o| o == Ordering::Equal,
            Self::NotEqual => |o| o != Ordering::Equal,
            Self::Less => |o| o == Ordering::Less,
            Self::LessOrEqual => |o| o != Ordering::Greater,
            Self::Greater => |o| o == Ordering::Greater,
            Self::GreaterOrEqual => |o| o != Ordering::Less,
            _ => return None,
        })
    }
}

/// The kinds of value the operators tell apart.
enum Kind {
    Int(INT),
    Decimal(Decimal),
    Bool(bool),
    Text(ImmutableString),
    Unit,
    /// Arrays, maps and the engine's own types (a record, a reason, a table).
    Other,
}

fn kind(d: &Dynamic) -> Kind {
    if let Ok(i) = d.as_int() {
        Kind::Int(i)
    } else if let Ok(x) = d.as_decimal() {
        Kind::Decimal(x)
    } else if let Ok(b) = d.as_bool() {
        Kind::Bool(b)
    } else if d.is_unit() {
        Kind::Unit
    } else if let Some(s) = d.read_lock::<ImmutableString>() {
        Kind::Text(s.clone())
    } else {
        Kind::Other
    }
}

/// `x op y`, as Rhai computes it.
pub(super) fn binary(op: Binary, x: &Dynamic, y: &Dynamic) -> Result<Dynamic, Stop> {
    match (kind(x), kind(y)) {
        (Kind::Int(a), Kind::Int(b)) => int(op, a, b),
        (Kind::Decimal(a), Kind::Decimal(b)) => decimal(op, a, b),
        (Kind::Decimal(a), Kind::Int(b)) => decimal(op, a, Decimal::from(b)),
        (Kind::Int(a), Kind::Decimal(b)) => decimal(op, Decimal::from(a), b),
        (Kind::Bool(a), Kind::Bool(b)) => match op {
            Binary::Equal => Ok(Dynamic::from_bool(a == b)),
            Binary::NotEqual => Ok(Dynamic::from_bool(a != b)),
            _ => Err(Stop::Fallback),
        },
        (Kind::Text(a), Kind::Text(b)) => match op {
            Binary::Add => {
                let mut joined = String::with_capacity(a.len() + b.len());
                joined.push_str(&a);
                joined.push_str(&b);
                text(joined)
            }
            _ => op
                .compares()
                .map(|f| Dynamic::from_bool(f(a.as_str().cmp(b.as_str()))))
                .ok_or(Stop::Fallback),
        },
        (Kind::Unit, Kind::Unit) => match op {
            Binary::Equal => Ok(Dynamic::TRUE),
            _ if op.compares().is_some() => Ok(Dynamic::FALSE),
            _ => Err(Stop::Fallback),
        },
        // `()` and text: `+` gives the text; comparisons are false, `!=` true.
        (Kind::Unit, Kind::Text(_)) | (Kind::Text(_), Kind::Unit) => match op {
            Binary::Add => Ok(if x.is_unit() { y.clone() } else { x.clone() }),
            Binary::NotEqual => Ok(Dynamic::TRUE),
            _ if op.compares().is_some() => Ok(Dynamic::FALSE),
            _ => Err(Stop::Fallback),
        },
        // `()` against a number, true/false or anything else: values of different types, one
        // of them not a number, are never equal and never ordered.
        (Kind::Unit, _) | (_, Kind::Unit) => match op {
            Binary::NotEqual => Ok(Dynamic::TRUE),
            _ if op.compares().is_some() => Ok(Dynamic::FALSE),
            _ => Err(Stop::Fallback),
        },
        (Kind::Other, Kind::Other) if op == Binary::Add => {
            if let (Some(a), Some(b)) = (x.read_lock::<Map>(), y.read_lock::<Map>()) {
                let mut merged = (*a).clone();
                merged.extend(b.iter().map(|(k, v)| (k.clone(), v.clone())));
                return checked(Dynamic::from_map(merged));
            }
            if let (Some(a), Some(b)) = (x.read_lock::<Array>(), y.read_lock::<Array>()) {
                let mut joined = (*a).clone();
                joined.extend(b.iter().cloned());
                return checked(Dynamic::from_array(joined));
            }
            Err(Stop::Fallback)
        }
        _ => Err(Stop::Fallback),
    }
}

fn int(op: Binary, a: INT, b: INT) -> Result<Dynamic, Stop> {
    let value = match op {
        Binary::Add => a.checked_add(b),
        Binary::Subtract => a.checked_sub(b),
        Binary::Multiply => a.checked_mul(b),
        Binary::Divide if b == 0 => None,
        Binary::Divide => a.checked_div(b),
        Binary::Modulo => a.checked_rem(b),
        Binary::RangeExclusive => return Ok(Dynamic::from(a..b)),
        Binary::RangeInclusive => return Ok(Dynamic::from(a..=b)),
        _ => {
            let compare = op.compares().ok_or(Stop::Fallback)?;
            return Ok(Dynamic::from_bool(compare(a.cmp(&b))));
        }
    };
    value.map(Dynamic::from_int).ok_or(Stop::Fallback)
}

fn decimal(op: Binary, a: Decimal, b: Decimal) -> Result<Dynamic, Stop> {
    let value = match op {
        Binary::Add => a.checked_add(b),
        Binary::Subtract => a.checked_sub(b),
        Binary::Multiply => a.checked_mul(b),
        Binary::Divide if b.is_zero() => None,
        Binary::Divide => a.checked_div(b),
        Binary::Modulo => a.checked_rem(b),
        Binary::RangeExclusive | Binary::RangeInclusive => None,
        _ => {
            let compare = op.compares().ok_or(Stop::Fallback)?;
            return Ok(Dynamic::from_bool(compare(a.cmp(&b))));
        }
    };
    value.map(Dynamic::from_decimal).ok_or(Stop::Fallback)
}

/// `-x`.
pub(super) fn negate(x: &Dynamic) -> Result<Dynamic, Stop> {
    match kind(x) {
        Kind::Int(i) => i.checked_neg().map(Dynamic::from_int).ok_or(Stop::Fallback),
        Kind::Decimal(d) => Ok(Dynamic::from_decimal(-d)),
        _ => Err(Stop::Fallback),
    }
}

/// `!x`.
pub(super) fn not(x: &Dynamic) -> Result<Dynamic, Stop> {
    x.as_bool()
        .map(|b| Dynamic::from_bool(!b))
        .map_err(|_| Stop::Fallback)
}

/// `x += y` on a variable, in place where Rhai works in place (maps mix in, arrays append).
pub(super) fn add_assign(target: &mut Dynamic, y: Dynamic) -> Result<(), Stop> {
    if let Some(mut map) = target.write_lock::<Map>() {
        let Some(more) = y.read_lock::<Map>() else {
            return Err(Stop::Fallback);
        };
        map.extend(more.iter().map(|(k, v)| (k.clone(), v.clone())));
    } else if let Some(mut items) = target.write_lock::<Array>() {
        let Some(more) = y.read_lock::<Array>() else {
            return Err(Stop::Fallback);
        };
        items.extend(more.iter().cloned());
    } else {
        *target = binary(Binary::Add, target, &y)?;
        return Ok(());
    }
    within_limits(target)
}

/// A text the script made, if it is within the sandbox's limit.
pub(super) fn text(s: String) -> Result<Dynamic, Stop> {
    if s.len() > LIMITS.string_bytes_max {
        return Err(Stop::Fallback);
    }
    Ok(Dynamic::from(ImmutableString::from(s)))
}

/// A value the script made, if it is within the sandbox's limits.
pub(super) fn checked(d: Dynamic) -> Result<Dynamic, Stop> {
    within_limits(&d)?;
    Ok(d)
}

/// Whether a value is within the sandbox's size limits, counted as Rhai counts them
/// (`eval/data_check.rs`): items of nested arrays, entries of nested maps and bytes of every
/// text inside, each summed. The interpreter says what happens past one.
pub(super) fn within_limits(d: &Dynamic) -> Result<(), Stop> {
    let (items, entries, bytes) = sizes(d);
    if items > LIMITS.array_items_max
        || entries > LIMITS.map_entries_max
        || bytes > LIMITS.string_bytes_max
    {
        return Err(Stop::Fallback);
    }
    Ok(())
}

fn sizes(d: &Dynamic) -> (usize, usize, usize) {
    if let Some(items) = d.read_lock::<Array>() {
        items.iter().fold((0, 0, 0), |(a, m, s), item| {
            let (ia, im, is) = sizes(item);
            (a + 1 + ia, m + im, s + is)
        })
    } else if let Some(map) = d.read_lock::<Map>() {
        map.values().fold((0, 0, 0), |(a, m, s), v| {
            let (va, vm, vs) = sizes(v);
            (a + va, m + 1 + vm, s + vs)
        })
    } else if let Some(t) = d.read_lock::<ImmutableString>() {
        (0, 0, t.len())
    } else {
        (0, 0, 0)
    }
}
