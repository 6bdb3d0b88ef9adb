//! Compiling `rules.rhai` once per policy version, and the checks Rhai itself does not make.
//!
//! Terms and tables are constants of a version: they are put in the compile scope, and the
//! optimiser folds every `terms.NAME` into its literal value (and every `tables.NAME` into the
//! native table) inside the functions, so evaluation never looks them up. A script may only
//! name them directly — `terms.monthly_premium`, `lookup(tables.rebate, share)` — which the
//! checks below enforce, along with names that do not exist.

use super::diagnostics::{Diagnostics, SourceFile};
use super::host::{ENTRY_PARAMS, ENTRY_POINT, LIMITS, engine, term_dynamic};
use super::manifest::Manifest;
use rhai::{AST, ASTNode, Dynamic, Expr, Map, OptimizationLevel, Position, Scope};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Words the engine understands without a registered function.
const KEYWORDS: [&str; 9] = [
    "type_of",
    "Fn",
    "call",
    "curry",
    "is_def_fn",
    "is_def_var",
    "is_shared",
    "print",
    "debug",
];

fn span_of(file: &SourceFile, pos: Position) -> std::ops::Range<usize> {
    match (pos.line(), pos.position()) {
        (Some(line), col) => {
            let start = file.offset_of(line, col.unwrap_or(1));
            start..start
        }
        _ => 0..0,
    }
}

fn scope_of(manifest: &Manifest) -> Scope<'static> {
    let mut terms = Map::new();
    for t in &manifest.terms {
        terms.insert(t.name.as_str().into(), term_dynamic(&t.value));
    }
    let mut tables = Map::new();
    for t in &manifest.tables {
        tables.insert(t.name.as_str().into(), Dynamic::from(Arc::new(t.clone())));
    }
    let mut scope = Scope::new();
    scope.push_constant("terms", terms);
    scope.push_constant("tables", tables);
    scope
}

/// Compiles a copy of a script that compiled (branches.rs's counting copy) as the script is.
pub(crate) fn compile_copy(text: &str, manifest: &Manifest) -> Option<AST> {
    let scope = scope_of(manifest);
    let ast = engine().compile_with_scope(&scope, text).ok()?;
    Some(engine().optimize_ast(&scope, ast, OptimizationLevel::Full))
}

/// Compiles and checks the script; `None` if it cannot run (the reasons are in `diags`).
pub(crate) fn compile(
    file: &SourceFile,
    manifest: Option<(&Manifest, &SourceFile)>,
    diags: &mut Diagnostics,
) -> Option<(AST, super::sites::Sites)> {
    if file.text.len() > LIMITS.script_bytes_max {
        diags.error(
            "script-size",
            file,
            0..0,
            format!(
                "rules.rhai is {} bytes, more than script_bytes_max ({})",
                file.text.len(),
                LIMITS.script_bytes_max
            ),
        );
        return None;
    }
    let engine = engine();
    let scope = manifest.map(|(m, _)| m).map_or_else(
        || {
            // Without a manifest, still check the script's syntax: declare the names empty.
            let mut s = Scope::new();
            s.push_constant("terms", Map::new());
            s.push_constant("tables", Map::new());
            s
        },
        scope_of,
    );
    let ast = match engine.compile_with_scope(&scope, &file.text) {
        Ok(ast) => ast,
        Err(e) => {
            let message = e.err_type().to_string();
            let d = diags.error(
                "script-syntax",
                file,
                span_of(file, e.position()),
                format!("rules.rhai: {message}"),
            );
            if message.contains("'eval'")
                || message.contains("eval") && message.contains("reserved")
            {
                d.help("`eval` is disabled: policies run only the code they were published with");
            } else if message.contains("import") {
                d.help("policies cannot import modules: everything they may use is built in");
            } else if let rhai::ParseErrorType::ExprTooDeep = e.err_type() {
                d.help(format!(
                    "expressions nest at most {} deep (expr_depth_max); name the parts with `let`",
                    LIMITS.expr_depth_max
                ));
            } else if let rhai::ParseErrorType::TooManyFunctions = e.err_type() {
                d.help(format!(
                    "a script defines at most {} functions (functions_max)",
                    LIMITS.functions_max
                ));
            }
            return None;
        }
    };
    let before = diags.errors().count();
    for stmt in ast.statements() {
        diags
            .error("script-top-level", file, span_of(file, stmt.position()), "rules.rhai has a statement outside any function")
            .help(format!("put the rules inside `fn {ENTRY_POINT}({})`; constants belong in [terms] of policy.toml", ENTRY_PARAMS.join(", ")));
    }
    match ast.iter_functions().find(|f| f.name == ENTRY_POINT) {
        None => {
            diags
                .error(
                    "script-entry",
                    file,
                    0..0,
                    format!(
                        "rules.rhai defines no `fn {ENTRY_POINT}({})`",
                        ENTRY_PARAMS.join(", ")
                    ),
                )
                .help("the engine calls this function once per member and period");
        }
        Some(f) if f.params.len() != ENTRY_PARAMS.len() => {
            diags.error(
                "script-entry",
                file,
                0..0,
                format!(
                    "`fn {ENTRY_POINT}` takes {} parameters; it must take {} ({})",
                    f.params.len(),
                    ENTRY_PARAMS.len(),
                    ENTRY_PARAMS.join(", ")
                ),
            );
        }
        Some(_) => {}
    }
    if let Some((manifest, manifest_file)) = manifest {
        let used = check_names(file, &ast, manifest, diags);
        unused(manifest_file, manifest, &used, diags);
        super::properties::check(file, &ast, manifest, diags);
    }
    let sites = super::sites::read(file, &ast, diags);
    if diags.errors().count() > before {
        return None;
    }
    let ast = engine.optimize_ast(&scope, ast, OptimizationLevel::Full);
    // Whatever the optimiser could not fold would fail at run time: say so now.
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Expr(Expr::Variable(v, _, pos))) = path.last()
            && (v.1 == "terms" || v.1 == "tables")
        {
            not_by_name(file, &v.1, *pos, diags);
        }
        true
    });
    (diags.errors().count() == before).then_some((ast, sites))
}

/// Reports `terms`/`tables` used other than as `terms.NAME` or `lookup(tables.NAME, key)`.
fn not_by_name(file: &SourceFile, which: &str, pos: Position, diags: &mut Diagnostics) {
    diags
        .error(
            "script-constants",
            file,
            span_of(file, pos),
            format!("`{which}` can only be read one name at a time"),
        )
        .help(if which == "terms" {
            "write `terms.NAME`, or bind `let x = terms.NAME;` first"
        } else {
            "write `lookup(tables.NAME, key)`"
        });
}

/// Every function a script may call, by name.
fn known_functions() -> &'static BTreeSet<String> {
    static NAMES: std::sync::OnceLock<BTreeSet<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        engine()
            .gen_fn_signatures(true)
            .into_iter()
            .filter_map(|s| {
                s.split('(')
                    .next()
                    .map(|n| n.trim().rsplit(' ').next().unwrap_or_default().to_owned())
            })
            .chain(KEYWORDS.iter().map(|k| (*k).to_owned()))
            .collect()
    })
}

/// Checks the names a script reads; gives the `terms` and `tables` names it reads.
fn check_names(
    file: &SourceFile,
    ast: &AST,
    manifest: &Manifest,
    diags: &mut Diagnostics,
) -> BTreeSet<(String, String)> {
    let script_fns: BTreeSet<String> = ast.iter_functions().map(|f| f.name.to_owned()).collect();
    let known = known_functions();
    let mut used: BTreeSet<(String, String)> = BTreeSet::new();
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Expr(Expr::Dot(x, _, pos))) => {
                if let Expr::Variable(v, ..) = &x.lhs
                    && (v.1 == "terms" || v.1 == "tables")
                {
                    match &x.rhs {
                        Expr::Property(p, ppos) => {
                            let name = p.2.as_str();
                            used.insert((v.1.to_string(), name.to_owned()));
                            let exists = if v.1 == "terms" {
                                manifest.term(name).is_some()
                            } else {
                                manifest.table(name).is_some()
                            };
                            if !exists {
                                let list: Vec<&str> = if v.1 == "terms" {
                                    manifest.terms.iter().map(|t| t.name.as_str()).collect()
                                } else {
                                    manifest.tables.iter().map(|t| t.name.as_str()).collect()
                                };
                                diags
                                    .error(
                                        "unknown-term",
                                        file,
                                        span_of(file, *ppos),
                                        format!("`{}.{name}` is not declared in policy.toml", v.1),
                                    )
                                    .help(if list.is_empty() {
                                        format!("policy.toml declares no {}", v.1)
                                    } else if let Some(near) =
                                        super::kept::closest(name, list.iter().copied())
                                    {
                                        format!(
                                            "did you mean `{near}`? declared: {}",
                                            list.join(", ")
                                        )
                                    } else {
                                        format!("declared: {}", list.join(", "))
                                    });
                            }
                        }
                        _ => {
                            not_by_name(file, &v.1, *pos, diags);
                        }
                    }
                }
            }
            Some(ASTNode::Expr(Expr::FnCall(call, pos))) if call.op_token.is_none() => {
                let name = call.name.as_str();
                let is_word = name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphabetic() || c == '_');
                if is_word && !known.contains(name) && !script_fns.contains(name) {
                    diags.error(
                        "unknown-function",
                        file,
                        span_of(file, *pos),
                        format!("there is no function `{name}`"),
                    );
                }
            }
            Some(ASTNode::Expr(Expr::MethodCall(call, pos))) => {
                let name = call.name.as_str();
                if !known.contains(name) && !script_fns.contains(name) {
                    diags.error(
                        "unknown-function",
                        file,
                        span_of(file, *pos),
                        format!("there is no method `{name}`"),
                    );
                }
            }
            _ => {}
        }
        true
    });
    used
}

/// Warns of terms and tables nothing reads: a rule that was meant to use one, or a leftover
/// that confuses the next reader. A term a cap names is read by the engine.
fn unused(
    file: &SourceFile,
    manifest: &Manifest,
    used: &BTreeSet<(String, String)>,
    diags: &mut Diagnostics,
) {
    let by_caps: BTreeSet<&str> = [&manifest.caps.per_period, &manifest.caps.per_year]
        .into_iter()
        .flatten()
        .flat_map(|cap| cap.limits.iter())
        .filter_map(|l| match l {
            super::manifest::CapLimit::PercentOf { term, .. } => Some(term.as_str()),
            super::manifest::CapLimit::Amount(_) => None,
        })
        .collect();
    for t in &manifest.terms {
        if !used.contains(&("terms".to_owned(), t.name.clone()))
            && !by_caps.contains(t.name.as_str())
        {
            diags.warning(
                "unused",
                file,
                t.span.clone(),
                format!("term `{}` is declared but no rule reads it", t.name),
            );
        }
    }
    for t in &manifest.tables {
        if !used.contains(&("tables".to_owned(), t.name.clone())) {
            diags.warning(
                "unused",
                file,
                t.span.clone(),
                format!("table `{}` is declared but no rule looks it up", t.name),
            );
        }
    }
}
