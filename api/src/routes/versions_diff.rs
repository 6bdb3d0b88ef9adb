//! `GET /v1/policies/{policy_id}/diff?from=VERSION&to=VERSION`: two stored versions of a policy
//! side by side — every file's whole text in each, the terms and tables whose values differ, and
//! the `to` version's cases decided under both, each marked where the decision changes. Nothing
//! is stored; the cases are the package's own example records, no member's.

use crate::AppState;
use crate::auth::{Allowed, ReadPolicies};
use crate::body::ApiQuery;
use crate::disclosure::Shown;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, State};
use incentive_engine::policy::manifest::{Manifest, VERSION_BYTES_MAX};
use incentive_engine::policy::terms::{Term, TermKind};
use incentive_engine::policy::{self, Case, EvaluationInput, Policy, PolicySource};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The two versions to compare.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DiffQuery {
    /// The version compared from, usually the older one.
    #[param(required = true, max_length = 32, example = "1.0.0")]
    pub from: Option<String>,
    /// The version compared to, usually the newer one: its cases are run under both.
    #[param(required = true, max_length = 32, example = "1.0.0")]
    pub to: Option<String>,
}

/// One file of either version, its whole text in each.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FileDiff {
    /// `policy.toml`, `rules.rhai`, `cases/….toml`, `locales/….ftl`.
    pub name: String,
    /// `same`, `changed`, `added` (only in `to`) or `removed` (only in `from`).
    pub status: &'static str,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A `[terms]` entry whose value differs, or that only one version has.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TermDiff {
    pub name: String,
    /// `money`, `percent`, `count`, `days`, `minutes`, `glucose`, `decimal`, `text` or `flag`
    /// (the `to` version's, or the `from` version's where `to` has no such term).
    pub kind: &'static str,
    /// What the values are in: the policy's currency for money, `%`, `days`, `minutes`, `mg/dL`
    /// for glucose (as the engine holds it, whatever unit the author wrote); none otherwise.
    pub unit: Option<String>,
    /// The value in each version; `null` where the version has no such term.
    #[schema(value_type = Object)]
    pub from: Value,
    #[schema(value_type = Object)]
    pub to: Value,
}

/// A step table that differs, or that only one version has.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TableDiff {
    pub name: String,
    /// `changed`, `added` or `removed`.
    pub status: &'static str,
    /// The table in each version — its key and value kinds, and its rows; `null` where the
    /// version has no such table.
    #[schema(value_type = Object)]
    pub from: Value,
    #[schema(value_type = Object)]
    pub to: Value,
}

/// What a version decides on a case: the figures compared, or why it decides nothing.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum CaseDecision {
    Decided {
        #[schema(value_type = String)]
        reward: rust_decimal::Decimal,
        #[schema(value_type = String)]
        premium_adjustment_percent: rust_decimal::Decimal,
        qualified: bool,
        tier: Option<String>,
    },
    Failed {
        error: String,
    },
}

/// One case of the `to` version, decided under both.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaseDiff {
    /// The case's file, such as `cases/below-7-pays-a-month.toml`.
    pub case: String,
    pub description: String,
    pub from: CaseDecision,
    pub to: CaseDecision,
    /// Whether the reward, premium adjustment, tier or qualification differ (or one version
    /// decides and the other fails).
    pub changed: bool,
    /// The case's period is past `from`'s end date and within `to`'s dates, so `from` decided
    /// it renewed unchanged (as a simulation's `renewal: unchanged` prices it): next year's
    /// draft is compared with this year's version on their rules, not refused on their dates.
    pub from_renewed: bool,
}

/// Two versions side by side.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VersionsDiff {
    pub policy_id: String,
    pub from: String,
    pub to: String,
    /// Every file of either version, in name order.
    pub files: Vec<FileDiff>,
    pub terms: Vec<TermDiff>,
    pub tables: Vec<TableDiff>,
    /// The `to` version's cases, in its order.
    pub cases: Vec<CaseDiff>,
    /// How many of them changed.
    pub cases_changed: usize,
    /// Cases past the number one request may run (`policy_cases_max`), not run.
    pub cases_not_run: usize,
}

crate::discloses! {
    // Packages, and decisions on their own example records (what `policies/test` shows an
    // author): no member's data.
    VersionsDiff => [Policies];
}

/// A version named in the query: present, and no longer than a version may be.
fn version_param(name: &str, value: Option<&str>) -> Result<String, ApiError> {
    match value {
        None => Err(ApiError::BadRequest(format!(
            "{name}: give the version to compare, as `?from=1.0.0&to=1.1.0`"
        ))),
        Some("") => Err(ApiError::BadRequest(format!(
            "{name}: empty; give a version"
        ))),
        Some(v) if v.len() > VERSION_BYTES_MAX => Err(ApiError::BadRequest(format!(
            "{name}: {} bytes, longer than a version may be ({VERSION_BYTES_MAX})",
            v.len()
        ))),
        Some(v) => {
            crate::routes::policies::version_named(name, v)?;
            Ok(v.to_owned())
        }
    }
}

/// `GET /v1/policies/{policy_id}/diff`.
#[utoipa::path(get, path = "/v1/policies/{policy_id}/diff", tag = "policies", params(("policy_id" = String, Path), DiffQuery), security(("api_key" = [])), responses((status = 200, description = "Files, terms and tables side by side, and the decisions that change on the cases", body = VersionsDiff), (status = 422, description = "A version no longer loads", body = crate::error::ErrorBody), (status = 400, description = "`from` or `to` missing or not a version", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn diff(
    State(state): State<AppState>,
    caller: Allowed<ReadPolicies>,
    Path(policy_id): Path<String>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> Result<Shown<ReadPolicies, Json<VersionsDiff>>, ApiError> {
    // Each named where it is wrong: lengths first, so a long one is not reported as the other
    // missing.
    for (name, value) in [("from", &q.from), ("to", &q.to)] {
        if let Some(v) = value {
            version_param(name, Some(v))?;
        }
    }
    let from = version_param("from", q.from.as_deref())?;
    let to = version_param("to", q.to.as_deref())?;
    let tenant = caller.tenant();
    let from_source = state
        .store
        .policy_version_source(tenant, &policy_id, &from)
        .await?;
    let to_source = state
        .store
        .policy_version_source(tenant, &policy_id, &to)
        .await?;
    let from_policy = state
        .store
        .policy_version_compiled(tenant, &policy_id, &from)
        .await?;
    let to_policy = state
        .store
        .policy_version_compiled(tenant, &policy_id, &to)
        .await?;
    let files = files(&from_source, &to_source);
    let terms = terms(&from_policy.manifest, &to_policy.manifest);
    let tables = tables(&from_policy.manifest, &to_policy.manifest);
    // The cases are read from the `to` package (loading it runs policy code on the probes) and
    // decided twice: policy code, so on the evaluation threads.
    let cases_max = state.limits.policy_cases_max;
    let (cases, cases_not_run) = state
        .compute
        .run(move || {
            let package = policy::load(&to_source).map_err(|d| ApiError::PolicyInvalid {
                count: d.errors().count(),
                diagnostics: serde_json::to_value(&d).unwrap_or(Value::Null),
            })?;
            let not_run = package.cases.len().saturating_sub(cases_max);
            let cases = package
                .cases
                .iter()
                .take(cases_max)
                .map(|case| case_diff(case, &from_policy, &to_policy))
                .collect::<Vec<_>>();
            Ok::<_, ApiError>((cases, not_run))
        })
        .await??;
    let cases_changed = cases.iter().filter(|c| c.changed).count();
    Ok(caller.show(Json(VersionsDiff {
        policy_id,
        from,
        to,
        files,
        terms,
        tables,
        cases,
        cases_changed,
        cases_not_run,
    })))
}

fn files(from: &PolicySource, to: &PolicySource) -> Vec<FileDiff> {
    let texts = |s: &PolicySource| -> BTreeMap<String, String> {
        s.files
            .iter()
            .map(|f| (f.name.clone(), f.text.clone()))
            .collect()
    };
    let (mut from, mut to) = (texts(from), texts(to));
    let names: BTreeSet<String> = from.keys().chain(to.keys()).cloned().collect();
    names
        .into_iter()
        .map(|name| {
            let (f, t) = (from.remove(&name), to.remove(&name));
            let status = match (&f, &t) {
                (Some(a), Some(b)) if a == b => "same",
                (Some(_), Some(_)) => "changed",
                (None, _) => "added",
                (Some(_), None) => "removed",
            };
            FileDiff {
                name,
                status,
                from: f,
                to: t,
            }
        })
        .collect()
}

/// What a term's values are in, as the manifest gives them.
fn unit(term: &Term, manifest: &Manifest) -> Option<String> {
    match term.kind {
        TermKind::Money => Some(manifest.currency.clone()),
        TermKind::Percent => Some("%".into()),
        TermKind::Days => Some("days".into()),
        TermKind::Minutes => Some("minutes".into()),
        TermKind::Glucose => Some("mg/dL".into()),
        TermKind::Count | TermKind::Decimal | TermKind::Text | TermKind::Flag => None,
    }
}

fn terms(from: &Manifest, to: &Manifest) -> Vec<TermDiff> {
    let value = |t: Option<&Term>| {
        t.map_or(Value::Null, |t| {
            serde_json::to_value(&t.value).unwrap_or(Value::Null)
        })
    };
    let names: BTreeSet<&str> = from
        .terms
        .iter()
        .chain(&to.terms)
        .map(|t| t.name.as_str())
        .collect();
    names
        .into_iter()
        .filter_map(|name| {
            let (f, t) = (from.term(name), to.term(name));
            let differs = match (f, t) {
                (Some(a), Some(b)) => {
                    a.kind != b.kind || a.value != b.value || unit(a, from) != unit(b, to)
                }
                _ => true,
            };
            let (shown, manifest) = match (t, f) {
                (Some(t), _) => (t, to),
                (None, Some(f)) => (f, from),
                (None, None) => return None,
            };
            differs.then(|| TermDiff {
                name: name.to_owned(),
                kind: shown.kind.name(),
                unit: unit(shown, manifest),
                from: value(f),
                to: value(t),
            })
        })
        .collect()
}

fn tables(from: &Manifest, to: &Manifest) -> Vec<TableDiff> {
    // Compared as written out (kinds and rows), not by where policy.toml declares them.
    let shown = |m: &Manifest, name: &str| {
        m.table(name).map_or(Value::Null, |t| {
            let mut v = serde_json::to_value(t).unwrap_or(Value::Null);
            if let Some(o) = v.as_object_mut() {
                o.remove("name");
            }
            v
        })
    };
    let names: BTreeSet<&str> = from
        .tables
        .iter()
        .chain(&to.tables)
        .map(|t| t.name.as_str())
        .collect();
    names
        .into_iter()
        .filter_map(|name| {
            let (f, t) = (shown(from, name), shown(to, name));
            let status = match (&f, &t) {
                (a, b) if a == b => return None,
                (Value::Null, _) => "added",
                (_, Value::Null) => "removed",
                _ => "changed",
            };
            Some(TableDiff {
                name: name.to_owned(),
                status,
                from: f,
                to: t,
            })
        })
        .collect()
}

fn decide(case: &Case, policy: &Policy) -> CaseDecision {
    let input = EvaluationInput {
        member: &case.member,
        period: case.period,
        readings: &case.readings,
        labs: &case.labs,
        history: &case.history,
    };
    match policy.evaluate(&input) {
        Ok(d) => CaseDecision::Decided {
            reward: d.reward,
            premium_adjustment_percent: d.premium_adjustment_percent,
            qualified: d.qualified,
            tier: d.tier,
        },
        Err(e) => CaseDecision::Failed {
            error: e.to_string(),
        },
    }
}

fn case_diff(case: &Case, from: &Arc<Policy>, to: &Arc<Policy>) -> CaseDiff {
    // Renewed only for a period `to` is in effect in: a case past both versions' dates (one
    // that tests the dates themselves) is decided by both as they are.
    let first = case.period.first_day();
    let past_from = first.is_some_and(|first| {
        from.manifest.effective_to.is_some_and(|end| first > end)
            && to.manifest.effective_from <= first
            && to.manifest.effective_to.is_none_or(|end| first <= end)
    });
    let f = if past_from {
        decide(case, &incentive_simulations::run::renewed_unchanged(from))
    } else {
        decide(case, from)
    };
    let t = decide(case, to);
    // Two failures are alike whatever they say: their messages name each version.
    let changed = match (&f, &t) {
        (CaseDecision::Failed { .. }, CaseDecision::Failed { .. }) => false,
        (a, b) => a != b,
    };
    CaseDiff {
        case: case.name.clone(),
        description: case.description.clone(),
        from: f,
        to: t,
        changed,
        from_renewed: past_from,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
    use super::*;
    use incentive_engine::policy::SourceFile;

    fn source(files: &[(&str, &str)]) -> PolicySource {
        PolicySource {
            name: "p".into(),
            files: files.iter().map(|(n, t)| SourceFile::new(*n, *t)).collect(),
        }
    }

    #[test]
    fn files_are_same_changed_added_or_removed_in_name_order() {
        let a = source(&[
            ("policy.toml", "a"),
            ("rules.rhai", "r"),
            ("cases/x.toml", "x"),
        ]);
        let b = source(&[
            ("policy.toml", "b"),
            ("rules.rhai", "r"),
            ("cases/y.toml", "y"),
        ]);
        let got: Vec<(String, &str)> = files(&a, &b)
            .into_iter()
            .map(|f| (f.name, f.status))
            .collect();
        assert_eq!(
            got,
            [
                ("cases/x.toml".to_owned(), "removed"),
                ("cases/y.toml".to_owned(), "added"),
                ("policy.toml".to_owned(), "changed"),
                ("rules.rhai".to_owned(), "same"),
            ]
        );
    }
}
