//! Running a compiled script: the closures each statement and expression became, the frame
//! of a function call, and the budget that keeps the sandbox's promises on this path.

use crate::policy::host::LIMITS;
use rhai::Dynamic;

/// Why a compiled evaluation stopped before its value.
#[derive(Debug)]
pub(crate) enum Stop {
    /// `return value`: ends the function being run.
    Return(Dynamic),
    Break,
    Continue,
    /// Something the compiled path does not decide itself — a failure, a value of a type it
    /// does not handle, a limit near: the interpreter runs the record and says what it says.
    Fallback,
    /// The evaluation's wall-clock budget is spent.
    OutOfTime,
}

/// A statement or expression, compiled: run on a frame, it gives its value.
pub(super) type Code = Box<dyn Fn(&mut Frame<'_, '_>) -> Result<Dynamic, Stop> + Send + Sync>;

/// A compiled function: its body and how many variables it holds (its parameters first, so
/// never fewer than its parameters).
pub(super) struct Function {
    pub(super) name: String,
    pub(super) slots: usize,
    pub(super) body: Code,
}

/// Every function of a script, compiled; `decide` among them.
pub(crate) struct Program {
    pub(super) functions: Vec<Function>,
    pub(super) entry: usize,
    /// Which of `decide`'s parameters its body reads or assigns.
    pub(super) parameters_read: [bool; 3],
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.functions.iter().map(|f| f.name.as_str()).collect();
        f.debug_struct("Program")
            .field("functions", &names)
            .finish()
    }
}

/// Work counted on the compiled path, in units that are never fewer than a quarter of the
/// operations Rhai would count for the same work (each statement counts the expression nodes
/// in it; each call and each turn of a loop one more). Past a quarter of the operation limit
/// the interpreter takes over, and reaches the limit itself or not, as the reference does.
pub(super) const WORK_MAX: u64 = LIMITS.eval_operations_max / 4;

/// Calls nested deeper than this go to the interpreter, well inside `call_levels_max`.
pub(super) const CALL_DEPTH_MAX: usize = LIMITS.call_levels_max / 2;

/// How often, in units of work, the wall clock is read.
const CLOCK_EVERY_WORK: u64 = 1_024;

pub(super) struct Run<'p> {
    pub(super) program: &'p Program,
    work: u64,
    next_clock_read: u64,
    pub(super) depth: usize,
}

/// One function call being run: its variables, by the slot each was given when compiled.
pub(crate) struct Frame<'r, 'p> {
    pub(super) slots: Vec<Dynamic>,
    pub(super) run: &'r mut Run<'p>,
}

impl Frame<'_, '_> {
    /// Counts `units` of work; stops the evaluation when the budget says so.
    #[inline]
    pub(super) fn tick(&mut self, units: u64) -> Result<(), Stop> {
        let run = &mut *self.run;
        run.work += units;
        if run.work > WORK_MAX {
            return Err(Stop::Fallback);
        }
        if run.work >= run.next_clock_read {
            run.next_clock_read = run.work + CLOCK_EVERY_WORK;
            if crate::policy::host::past_deadline() {
                return Err(Stop::OutOfTime);
            }
        }
        Ok(())
    }

    /// Calls function `index` of the program with `args`.
    pub(super) fn call(
        &mut self,
        index: usize,
        args: impl IntoIterator<Item = Dynamic>,
    ) -> Result<Dynamic, Stop> {
        let program = self.run.program;
        let function = program.functions.get(index).ok_or(Stop::Fallback)?;
        if self.run.depth >= CALL_DEPTH_MAX {
            return Err(Stop::Fallback);
        }
        self.tick(1)?;
        let mut slots = Vec::with_capacity(function.slots);
        slots.extend(args);
        slots.resize(function.slots, Dynamic::UNIT);
        self.run.depth += 1;
        let mut frame = Frame {
            slots,
            run: &mut *self.run,
        };
        let out = (function.body)(&mut frame);
        self.run.depth -= 1;
        match out {
            Ok(v) | Err(Stop::Return(v)) => Ok(v),
            // `break` or `continue` outside a loop does not parse.
            Err(Stop::Break | Stop::Continue) => Err(Stop::Fallback),
            Err(e) => Err(e),
        }
    }

    pub(super) fn slot(&self, index: usize) -> Result<&Dynamic, Stop> {
        self.slots.get(index).ok_or(Stop::Fallback)
    }

    pub(super) fn slot_mut(&mut self, index: usize) -> Result<&mut Dynamic, Stop> {
        self.slots.get_mut(index).ok_or(Stop::Fallback)
    }
}

impl Program {
    /// Whether `decide` reads parameter `index`: one it does not is given `()`.
    pub(crate) fn reads_parameter(&self, index: usize) -> bool {
        self.parameters_read.get(index).copied().unwrap_or(true)
    }

    /// Runs `decide` with its three arguments.
    pub(crate) fn decide(&self, args: [Dynamic; 3]) -> Result<Dynamic, Stop> {
        let mut run = Run {
            program: self,
            work: 0,
            next_clock_read: CLOCK_EVERY_WORK,
            depth: 0,
        };
        let mut frame = Frame {
            slots: Vec::new(),
            run: &mut run,
        };
        frame.call(self.entry, args)
    }
}
