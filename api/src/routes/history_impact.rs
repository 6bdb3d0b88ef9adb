//! `POST /v1/policies/{policy_id}/versions/{version}/backtest`: a stored version, a draft too,
//! run over the tenant's real history for a span of periods — every member, period by period,
//! as the store would have paid it — beside what was actually paid: the workbench's impact of a
//! draft on the tenant's own members before it ships. Totals only (`incentive backtest` writes
//! the member-level tables, for an operator to hand on), and only over enough members that a
//! total cannot single one out: an author and an actuary may see figures over many members,
//! never one member's.

use crate::AppState;
use crate::auth::{Allowed, BacktestHistory};
use crate::body::JsonBody;
use crate::disclosure::Shown;
use crate::error::ApiError;
use crate::routes::policies::version_named;
use axum::Json;
use axum::extract::{Path, State};
use incentive_simulations::backtest::{
    self, ActuallyPaid, Backtest, BacktestSummary, Paid, Source,
};
use incentive_simulations::options::Renewal;
use incentive_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

/// Members whose history is read at once.
const MEMBERS_PER_READ: usize = 1_000;

/// The span of periods to run the version over.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryBody {
    /// The first period, of the policy's kind.
    #[schema(example = "2026-01", max_length = 16)]
    pub from: String,
    /// The last period, inclusive.
    #[schema(example = "2026-12", max_length = 16)]
    pub to: String,
    /// `unchanged`: run the version past its end date renewed as it is (this year's version
    /// over next year's history, beside next year's draft); without it a period past its
    /// dates fails to decide.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "unchanged")]
    pub renewal: Option<Renewal>,
}

/// What the version would have paid over the history and what was paid, in totals: the
/// `summary.json` of `incentive backtest`.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct HistoryImpact(pub BacktestSummary);

crate::discloses! {
    HistoryImpact => [Aggregates];
}

/// What was actually posted to the tenant's members in `periods`, every policy's postings.
pub async fn actually_paid(
    store: &Store,
    tenant: &str,
    periods: &[String],
) -> Result<ActuallyPaid, StoreError> {
    let mut paid = ActuallyPaid::default();
    for p in store.posted(tenant, periods).await? {
        paid.add(
            &p.member_id,
            &p.policy_id,
            &p.period,
            Paid {
                reward: p.reward,
                premium_adjustment_percent: p.premium_adjustment_percent,
            },
        );
    }
    Ok(paid)
}

#[utoipa::path(post, path = "/v1/policies/{policy_id}/versions/{version}/backtest", tag = "policies", params(("policy_id" = String, Path), ("version" = String, Path)), request_body = HistoryBody, security(("api_key" = [])), responses((status = 200, description = "What the version would have paid over the tenant's history and what was paid: totals only", body = serde_json::Value), (status = 400, description = "A period, or more member-periods than history_member_periods_max", body = crate::error::ErrorBody), (status = 422, description = "Fewer members than history_members_min, or the version could not decide", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn backtest(
    State(state): State<AppState>,
    caller: Allowed<BacktestHistory>,
    Path((policy_id, version)): Path<(String, String)>,
    JsonBody(body): JsonBody<HistoryBody>,
) -> Result<Shown<BacktestHistory, Json<HistoryImpact>>, ApiError> {
    version_named("version", &version)?;
    let tenant = caller.tenant().to_owned();
    let policy = state
        .store
        .policy_version_compiled(&tenant, &policy_id, &version)
        .await?;
    let policy = match body.renewal {
        Some(Renewal::Unchanged) => {
            std::sync::Arc::new(incentive_simulations::run::renewed_unchanged(&policy))
        }
        None => policy,
    };
    let periods = backtest::periods(&policy, &body.from, &body.to)?;
    let mut members = state.store.member_ids(&tenant).await?;
    // Sorted here, not by the database, whose collation may differ between backends.
    members.sort();
    let fewest = state.limits.history_members_min;
    if members.len() < fewest {
        return Err(ApiError::Unprocessable(format!(
            "the tenant's history has {} members: totals over fewer than {fewest} (history_members_min) could single a member out, so none are given",
            members.len()
        )));
    }
    let member_periods = members.len() as u64 * periods.len() as u64;
    let most = state.limits.history_member_periods_max;
    if member_periods > most {
        return Err(ApiError::BadRequest(format!(
            "{} members × {} periods = {member_periods} member-periods, more than one request decides ({most}, history_member_periods_max): ask for fewer periods, or run `incentive backtest` on the database",
            members.len(),
            periods.len()
        )));
    }
    let names: Vec<String> = periods.iter().map(ToString::to_string).collect();
    let paid = actually_paid(&state.store, &tenant, &names).await?;
    let source = Source::Database {
        backend: state.store.backend().name().to_owned(),
        tenant: tenant.clone(),
    };
    let store = state.store.clone();
    // Policy code, so on the evaluation threads; each chunk's history is read on the runtime
    // from there.
    let runtime = tokio::runtime::Handle::current();
    let summary = state
        .compute
        .run(move || -> Result<BacktestSummary, ApiError> {
            let mut run = Backtest::new(&policy, members, periods);
            run.decide_all(
                MEMBERS_PER_READ,
                |chunk, window| {
                    runtime
                        .block_on(store.period_inputs(&tenant, chunk, window))
                        .map_err(ApiError::from)
                },
                |_| {},
            )?;
            Ok(run.summary(source, Some(&paid)))
        })
        .await??;
    Ok(caller.show(Json(HistoryImpact(summary))))
}
