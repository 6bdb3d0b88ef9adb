//! Array functions whose built-in versions swallow the error that stops a script: Rhai's
//! `dedup` and `sort` with a comparer treat a failed comparison as "not equal" or "unordered"
//! and carry on, so a script out of time (or operations) was only stopped once the whole pass
//! over up to 200,000 items had run — seconds past its budget. These versions compare exactly
//! as the built-ins do, and end at the first comparison the sandbox stopped. Functions
//! registered on the engine itself are found before a package's, so these replace them.

use rhai::{Array, Dynamic, Engine, EvalAltResult, FnPtr, NativeCallContext, Position};
use std::cell::Cell;
use std::cmp::Ordering;

thread_local! {
    /// Set while this thread sorts with a script's comparer: see [`panic_is_expected`].
    static SORTING_WITH_A_SCRIPTS_COMPARER: Cell<bool> = const { Cell::new(false) };
}

/// Whether a panic on this thread now is one the engine expects and catches: Rust's sort
/// panics when a script's comparer is not a total order, and the sandbox turns that into the
/// script's error ("error in comparer for sorting"). A program's panic hook, which reports
/// panics as bugs, stays quiet for it.
pub fn panic_is_expected() -> bool {
    SORTING_WITH_A_SCRIPTS_COMPARER.get()
}

type Stopped = Box<EvalAltResult>;

/// The errors that end an evaluation whatever a built-in function does with other errors.
fn ends_evaluation(e: &EvalAltResult) -> bool {
    matches!(
        e.unwrap_inner(),
        EvalAltResult::ErrorTerminated(..)
            | EvalAltResult::ErrorTooManyOperations(..)
            | EvalAltResult::ErrorStackOverflow(..)
            | EvalAltResult::ErrorDataTooLarge(..)
    )
}

pub(super) fn register(engine: &mut Engine) {
    engine.register_fn(
        "dedup",
        |ctx: NativeCallContext, array: &mut Array| -> Result<(), Stopped> {
            dedup_by(array, |x, y| {
                ctx.call_native_fn_raw("==", true, &mut [y, x])
            })
        },
    );
    engine.register_fn(
        "dedup",
        |ctx: NativeCallContext, array: &mut Array, comparer: FnPtr| -> Result<(), Stopped> {
            dedup_by(array, |x, y| {
                comparer.call_raw(&ctx, None, [y.clone(), x.clone()])
            })
        },
    );
    for name in ["sort", "sort_by"] {
        engine.register_fn(
            name,
            |ctx: NativeCallContext, array: &mut Array, comparer: FnPtr| -> Result<(), Stopped> {
                sort_by(&ctx, array, &comparer)
            },
        );
    }
}

/// Consecutive items `same` calls equal are removed; a failed comparison is "not equal", as
/// in Rhai, unless it ended the evaluation.
fn dedup_by(
    array: &mut Array,
    mut same: impl FnMut(&mut Dynamic, &mut Dynamic) -> Result<Dynamic, Stopped>,
) -> Result<(), Stopped> {
    let mut stopped = None;
    array.dedup_by(|x, y| {
        if stopped.is_some() {
            return false;
        }
        match same(x, y) {
            Ok(v) => v.as_bool().unwrap_or(false),
            Err(e) if ends_evaluation(&e) => {
                stopped = Some(e);
                false
            }
            Err(_) => false,
        }
    });
    stopped.map_or(Ok(()), Err)
}

/// Rhai's order: the comparer's integer (or `true` for "before"), and items of different
/// types by type where the comparer gives nothing usable.
fn sort_by(ctx: &NativeCallContext, array: &mut Array, comparer: &FnPtr) -> Result<(), Stopped> {
    if array.len() <= 1 {
        return Ok(());
    }
    let mut stopped: Option<Stopped> = None;
    // `sort_by` may panic when a comparer is not a total order (and once stopped, every
    // comparison is "equal"); Rhai catches that too. A comparer may sort in turn: the flag is
    // put back as it was, not cleared.
    let was_sorting = SORTING_WITH_A_SCRIPTS_COMPARER.replace(true);
    let sorted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        array.sort_by(|x, y| {
            if stopped.is_some() {
                return Ordering::Equal;
            }
            match comparer.call_raw(ctx, None, [x.clone(), y.clone()]) {
                Ok(v) => v
                    .as_int()
                    .or_else(|_| v.as_bool().map(|before| if before { -1 } else { 1 }))
                    .map_or_else(|_| x.type_id().cmp(&y.type_id()), |n| n.cmp(&0)),
                Err(e) if ends_evaluation(&e) => {
                    stopped = Some(e);
                    Ordering::Equal
                }
                Err(_) => x.type_id().cmp(&y.type_id()),
            }
        });
    }));
    SORTING_WITH_A_SCRIPTS_COMPARER.set(was_sorting);
    if let Some(e) = stopped {
        return Err(e);
    }
    sorted.map_err(|_| {
        Box::new(EvalAltResult::ErrorRuntime(
            "error in comparer for sorting".into(),
            Position::NONE,
        ))
    })
}
