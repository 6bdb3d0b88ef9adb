//! Properties checked where they are written: `record.tir_percnt` in a branch no case or probe
//! reaches would otherwise pass `policy check` and `policy test` and fail only when a real
//! member reaches it. Inside `decide`, every property read of its `record`, `member` and
//! `history` parameters — and of an earlier period, `history.period(-1).NAME` — is checked
//! against what the engine gives them and what the policy declares (member attributes, kept
//! metrics), with the closest name as a suggestion.

use super::diagnostics::{Diagnostics, SourceFile};
use super::host::{ENTRY_POINT, engine};
use super::kept::closest;
use super::manifest::Manifest;
use super::record_view::Metric;
use rhai::{AST, ASTNode, Expr, Position};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// The property getters the engine registers, by the type a script sees (`Record`, `Member`,
/// `History`, `Period`).
fn getters() -> &'static BTreeMap<String, BTreeSet<String>> {
    static GETTERS: OnceLock<BTreeMap<String, BTreeSet<String>>> = OnceLock::new();
    GETTERS.get_or_init(|| {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for sig in engine().gen_fn_signatures(true) {
            let Some(rest) = sig.strip_prefix("get$") else {
                continue;
            };
            let Some((name, params)) = rest.split_once('(') else {
                continue;
            };
            let first = params
                .split([',', ')'])
                .next()
                .unwrap_or_default()
                .rsplit(": ")
                .next()
                .unwrap_or_default()
                .trim()
                .trim_start_matches("&mut ");
            let ty = first.rsplit("::").next().unwrap_or(first);
            let ty = match ty {
                "RecordView" => "Record",
                "MemberView" => "Member",
                "HistoryView" => "History",
                "PeriodView" => "Period",
                other => other,
            };
            out.entry(ty.to_owned())
                .or_default()
                .insert(name.to_owned());
        }
        out
    })
}

fn has(ty: &str, name: &str) -> bool {
    getters().get(ty).is_some_and(|g| g.contains(name))
}

/// The properties of `ty`, for a suggestion.
fn names_of(ty: &str) -> impl Iterator<Item = &'static str> {
    getters().get(ty).into_iter().flatten().map(String::as_str)
}

fn span(file: &SourceFile, pos: Position) -> std::ops::Range<usize> {
    match (pos.line(), pos.position()) {
        (Some(line), col) => {
            let start = file.offset_of(line, col.unwrap_or(1));
            start..start
        }
        _ => 0..0,
    }
}

/// The name of a property expression, and where it is.
fn property(e: &Expr) -> Option<(&str, Position)> {
    match e {
        Expr::Property(p, pos) => Some((p.2.as_str(), *pos)),
        Expr::Dot(x, ..) => property(&x.lhs),
        _ => None,
    }
}

/// Checks every property read of `decide`'s parameters, and of an earlier period.
pub(crate) fn check(file: &SourceFile, ast: &AST, manifest: &Manifest, diags: &mut Diagnostics) {
    let Some(decide) = ast.iter_functions().find(|f| f.name == ENTRY_POINT) else {
        return;
    };
    let [record, member, history] = match decide.params.as_slice() {
        [r, m, h] => [*r, *m, *h],
        _ => return,
    };
    // Only `decide` knows its parameters for what they are: a helper's `record` may be
    // anything its caller passed.
    let functions = super::sites::Functions::of(ast);
    ast.walk(&mut |nodes: &[ASTNode]| {
        if let Some(ASTNode::Expr(Expr::Dot(x, _, pos))) = nodes.last()
            && functions.owner(*pos) == Some(ENTRY_POINT)
            && let Expr::Variable(v, ..) = &x.lhs
        {
            let var = v.1.as_str();
            if var == record {
                if let Some((name, pos)) = property(&x.rhs) {
                    check_record(file, record, name, pos, diags);
                }
            } else if var == member {
                if let Some((name, pos)) = property(&x.rhs) {
                    check_member(file, member, name, pos, manifest, diags);
                }
            } else if var == history {
                check_history(file, history, &x.rhs, manifest, diags);
            }
        }
        true
    });
}

fn unknown(
    file: &SourceFile,
    pos: Position,
    message: String,
    near: Option<&str>,
    diags: &mut Diagnostics,
) {
    let d = diags.error("unknown-property", file, span(file, pos), message);
    if let Some(near) = near {
        d.help(format!("did you mean `{near}`?"));
    }
}

fn check_record(file: &SourceFile, var: &str, name: &str, pos: Position, diags: &mut Diagnostics) {
    if has("Record", name) {
        return;
    }
    let names = names_of("Record");
    unknown(
        file,
        pos,
        format!("`{var}.{name}` is not a metric or property of the record"),
        closest(name, names),
        diags,
    );
}

fn check_member(
    file: &SourceFile,
    var: &str,
    name: &str,
    pos: Position,
    manifest: &Manifest,
    diags: &mut Diagnostics,
) {
    if has("Member", name) || manifest.attributes.get(name).is_some() {
        return;
    }
    let mut names: Vec<&str> = names_of("Member").collect();
    names.extend(manifest.attributes.0.iter().map(|d| d.name.as_str()));
    unknown(
        file,
        pos,
        format!(
            "`{var}.{name}` is not an attribute of the member: declare it in policy.toml [attributes] to read it"
        ),
        closest(name, names),
        diags,
    );
}

fn check_history(
    file: &SourceFile,
    var: &str,
    rhs: &Expr,
    manifest: &Manifest,
    diags: &mut Diagnostics,
) {
    match rhs {
        // `history.period(-1).NAME`
        Expr::Dot(x, ..) if matches!(&x.lhs, Expr::MethodCall(call, _) if call.name == "period") => {
            if let Some((name, pos)) = property(&x.rhs) {
                check_period(file, var, name, pos, manifest, diags);
            }
        }
        _ => {
            if let Some((name, pos)) = property(rhs)
                && !has("History", name)
            {
                let names = names_of("History");
                unknown(
                    file,
                    pos,
                    format!("`{var}.{name}` is not a property of the member's history"),
                    closest(name, names),
                    diags,
                );
            }
        }
    }
}

fn check_period(
    file: &SourceFile,
    var: &str,
    name: &str,
    pos: Position,
    manifest: &Manifest,
    diags: &mut Diagnostics,
) {
    let kept = &manifest.history.keep;
    if has("Period", name) || kept.iter().any(|m| m.name() == name) {
        return;
    }
    if Metric::ALL.iter().any(|m| m.name() == name) {
        diags
            .error(
                "unknown-property",
                file,
                span(file, pos),
                format!("an earlier period's `{name}` is not kept"),
            )
            .help(format!("add \"{name}\" to [history] keep in policy.toml"));
        return;
    }
    let fields = names_of("Period");
    let kept_names = kept.iter().map(|m| m.name());
    unknown(
        file,
        pos,
        format!("`{var}.period(…).{name}` is not a property of an earlier period"),
        closest(name, fields.chain(kept_names)),
        diags,
    );
}
