//! Case coverage of the script's branches: which `if` bodies and `else`s (written or not) no
//! case reaches. A branch no case reaches is a rule nothing shows the plan applies as the
//! contract says, as much as a table step is.
//!
//! The script is read for its `if`s, and a copy of its text gets a call `__branch(N)` at the
//! start of each branch (an `if` without an `else` gets `else { __branch(N); }`). The cases run
//! once more through that copy, on this thread, noting each branch reached. The copy only
//! counts: the cases' outcomes are the ones the package's own script gave.

use super::diagnostics::SourceFile;
use rhai::{AST, ASTNode, Engine, INT, Position, Stmt};
use std::cell::RefCell;
use std::collections::BTreeSet;

/// The function the copy calls; a script calling it itself only notes a branch.
pub(crate) const MARK: &str = "__branch";

thread_local! {
    /// While the copy runs: the branches reached.
    static REACHED: RefCell<Option<BTreeSet<INT>>> = const { RefCell::new(None) };
}

pub(crate) fn register(engine: &mut Engine) {
    // Volatile: the optimiser must leave every call in place, not run it while compiling.
    rhai::FuncRegistration::new(MARK)
        .with_volatility(true)
        .register_into_engine(engine, |n: INT| {
            REACHED.with(|r| {
                if let Some(reached) = r.borrow_mut().as_mut() {
                    reached.insert(n);
                }
            });
        });
}

/// Runs `f` noting the branches the copy's calls reach on this thread.
pub(crate) fn recording<R>(f: impl FnOnce() -> R) -> (R, BTreeSet<INT>) {
    REACHED.with(|r| *r.borrow_mut() = Some(BTreeSet::new()));
    let out = f();
    let reached = REACHED.with(|r| r.borrow_mut().take()).unwrap_or_default();
    (out, reached)
}

/// A branch of the script, in words: `rules.rhai:12:5: the body of this if`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Branch {
    pub line: usize,
    pub column: usize,
    pub what: &'static str,
}

impl std::fmt::Display for Branch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rules.rhai:{}:{}: {}", self.line, self.column, self.what)
    }
}

/// The script with a mark at the start of each branch, and the branches by mark.
pub(crate) fn instrument(file: &SourceFile, ast: &AST) -> (String, Vec<Branch>) {
    // (byte offset, text to insert there, branch)
    let mut edits: Vec<(usize, String, Branch)> = Vec::new();
    let text = &file.text;
    let at = |pos: Position| -> Option<(usize, usize, usize)> {
        let (line, col) = (pos.line()?, pos.position()?);
        Some((file.offset_of(line, col), line, col))
    };
    let char_at = |offset: usize| text.get(offset..).and_then(|s| s.chars().next());
    ast.walk(&mut |path: &[ASTNode]| {
        let Some(ASTNode::Stmt(Stmt::If(flow, pos))) = path.last() else {
            return true;
        };
        let Some((_, line, column)) = at(*pos) else {
            return true;
        };
        let mut add = |offset: usize, insert: String, what: &'static str| {
            edits.push((offset, insert, Branch { line, column, what }));
        };
        // The body: after its `{`.
        if let Some((open, ..)) = at(flow.body.span().start())
            && char_at(open) == Some('{')
        {
            add(
                open + 1,
                String::new(),
                "the body of this `if` (its condition true)",
            );
        }
        let branch = flow.branch.span().start();
        match at(branch) {
            // `else { … }`: after its `{`. An `else if` is read as the `if` it is.
            Some((open, ..)) if char_at(open) == Some('{') => {
                add(open + 1, String::new(), "the `else` of this `if`");
            }
            Some(_) => {}
            // No `else`: one after the body's `}`, for the condition false.
            None => {
                if let Some((close, ..)) = at(flow.body.span().end())
                    && char_at(close) == Some('}')
                {
                    add(
                        close + 1,
                        " else {".to_owned(),
                        "this `if` with its condition false (it has no `else`)",
                    );
                }
            }
        }
        true
    });
    edits.sort_by_key(|(offset, ..)| *offset);
    let mut out = String::with_capacity(text.len() + edits.len() * 24);
    let mut branches = Vec::with_capacity(edits.len());
    let mut from = 0;
    for (i, (offset, opening, branch)) in edits.into_iter().enumerate() {
        out.push_str(text.get(from..offset).unwrap_or_default());
        let call = format!("{MARK}({i});");
        if opening.is_empty() {
            out.push_str(&format!(" {call} "));
        } else {
            out.push_str(&format!("{opening} {call} }}"));
        }
        from = offset;
        branches.push(branch);
    }
    out.push_str(text.get(from..).unwrap_or_default());
    (out, branches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_branch_gets_a_mark_and_an_if_without_else_gets_one() {
        let script = "fn decide(record, member, history) {\n    let r = 0;\n    if record > 1 {\n        r = 1;\n    } else if record > 0 {\n        r = 2;\n    } else {\n        r = 3;\n    }\n    if r == 1 { r = 4; }\n    #{ reward: r }\n}\n";
        let file = SourceFile::new("rules.rhai", script);
        let ast = super::super::host::engine()
            .compile(script)
            .unwrap_or_default();
        let (copy, branches) = instrument(&file, &ast);
        assert_eq!(copy.matches("__branch(").count(), 5, "{copy}");
        assert!(
            copy.contains("if r == 1 { __branch(3);  r = 4; } else { __branch(4); }"),
            "{copy}"
        );
        let said: Vec<String> = branches.iter().map(ToString::to_string).collect();
        assert_eq!(
            said[0],
            "rules.rhai:3:5: the body of this `if` (its condition true)"
        );
        assert!(
            said.contains(
                &"rules.rhai:10:5: this `if` with its condition false (it has no `else`)"
                    .to_owned()
            ),
            "{said:?}"
        );
        assert!(
            super::super::host::engine().compile(&copy).is_ok(),
            "{copy}"
        );
    }
}
