//! A policy's script in the two forms it runs in: Rhai's syntax tree, the reference that every
//! check, report and branch count reads, and the same tree compiled once at load into closures
//! (`lower/`), which [`Policy::evaluate`](super::Policy::evaluate) runs for every member.
//!
//! The compiled form resolves at load what the interpreter resolves on every call — each
//! variable's slot, each function, property and method — and calls the engine's own code for
//! metrics, tables and messages (`calls.rs`); operators follow Rhai's (`values.rs`). It keeps
//! the sandbox's promises itself (`run.rs`): work is counted and a script nearing the
//! operation limit, nesting calls deeply or growing a value near its size limit is handed to
//! the interpreter, the wall clock is read as it runs, and nothing it can call does I/O.
//!
//! Anything the compiled form does not decide itself — a construct outside its subset when
//! the script loads (`incentive policy check` names it), or, on one record, a failure or a
//! value of a type it does not handle — is decided by the interpreter, so every decision and
//! every error is the reference's. Differential tests (engine/tests/compiled_policies.rs) run
//! every package's cases and probes and random records on both paths and require the same
//! bytes.
//!
//! Rhai's own bytecode VM (the `grain` feature of Rhai 1.27) was measured first: slower than
//! the interpreter here (a VM and an empty resolution cache per call), and it differs from the
//! interpreter where these scripts go (constants pooled by how they print, so a decimal `1`
//! term and an integer `1` become one; closures called back from native functions fail).

mod calls;
mod lower;
mod run;
mod values;

pub(crate) use run::{Program, Stop};

use rhai::AST;
use std::sync::Arc;

thread_local! {
    static FALLBACKS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Evaluations on this thread the compiled path handed to the interpreter: what the
/// differential tests read to know which path decided.
pub fn fallbacks_on_this_thread() -> u64 {
    FALLBACKS.with(std::cell::Cell::get)
}

pub(crate) fn count_fallback() {
    FALLBACKS.with(|f| f.set(f.get() + 1));
}

/// Which form of the script an evaluation runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// The script compiled into closures: what every evaluation runs.
    Compiled,
    /// Rhai's tree-walking interpreter: the reference the compiled path is held to.
    Interpreted,
}

/// The script as written (its tree) and as compiled.
#[derive(Debug)]
pub(crate) struct Script {
    pub(crate) ast: AST,
    /// `None` when the script runs on the interpreter, for the reason in `interpreted`.
    pub(crate) program: Option<Program>,
    pub(crate) interpreted: Option<Interpreted>,
}

/// Why a script runs on the interpreter rather than compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interpreted {
    pub why: String,
    /// rules.rhai line and column.
    pub at: Option<(usize, usize)>,
}

/// A script compiled on its own, outside a policy: what the rule-only benchmarks run against
/// the same script on the interpreter and against other rules engines.
#[derive(Debug)]
pub struct CompiledScript(Program);

impl CompiledScript {
    /// Compiles `ast`'s functions, or says why they stay on the interpreter.
    pub fn compile(ast: &AST) -> Result<Self, Interpreted> {
        lower::lower(ast).map(Self).map_err(|refusal| Interpreted {
            why: format!("{} is not compiled", refusal.what),
            at: refusal.pos.line().zip(refusal.pos.position()),
        })
    }

    /// `decide(record, member, history)` within the sandbox's budget; `None` when the
    /// compiled path would hand the call to the interpreter.
    pub fn decide(&self, arguments: [rhai::Dynamic; 3]) -> Option<rhai::Dynamic> {
        super::host::with_deadline(|| self.0.decide(arguments)).ok()
    }
}

impl Script {
    pub(crate) fn compile(ast: AST) -> Arc<Self> {
        let (program, interpreted) = match CompiledScript::compile(&ast) {
            Ok(CompiledScript(program)) => (Some(program), None),
            Err(why) => (None, Some(why)),
        };
        Arc::new(Self {
            ast,
            program,
            interpreted,
        })
    }
}
