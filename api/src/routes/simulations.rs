//! Simulations for actuaries over HTTP: `POST /v1/simulations` starts one in the background and
//! answers 202 at once; `GET /v1/simulations/{id}` tells how far it has got; its
//! `summary` (summary.json) and `report` (report.html) are served once it has finished — the
//! very bytes `incentive simulate` writes for the same request; `DELETE /v1/simulations/{id}`
//! cancels one still queued or running.

use crate::AppState;
use crate::auth::{Allowed, RunSimulations};
use crate::body::JsonBody;
use crate::disclosure::{Answered, Shown};
use crate::error::ApiError;
use crate::simulations::{Job, effective_status};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use incentive_engine::Period;
use incentive_simulations::budget::CONFIDENCE_DEFAULT;
use incentive_simulations::footprint::PlanShape;
use incentive_simulations::options::{Options, Renewal};
use incentive_simulations::{Config, Population, Shard};
use incentive_store::ledger::sha256_hex;
use incentive_store::{PolicyStatus, SimulationRecord, SimulationResult, SimulationStatus};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A simulation to run: the policy (and a second to compare) as published in the caller's
/// tenant, the size of the run, the seed, and optionally the population model.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulationBody {
    /// Plan A: a policy of the caller's tenant.
    pub policy_id: String,
    /// Plan A's stored version, a draft too (an author prices a draft before it is
    /// published); by default the published version in effect in `first_period`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64)]
    pub version: Option<String>,
    /// Plan B, run on the same members and readings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare_policy_id: Option<String>,
    /// Plan B's stored version, as `version` is plan A's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64)]
    pub compare_version: Option<String>,
    pub members: u64,
    pub periods: u32,
    pub replications: u64,
    pub seed: u64,
    /// The first period simulated (default: the first period of plan A's latest published
    /// version); the versions in effect then are the ones run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_period: Option<String>,
    /// The population model as TOML (every field optional; default: calibrated to the
    /// Guizhou pilot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population: Option<String>,
    /// The book of members the plans' pool budgets are for: the run gets each pool's share for
    /// its own `members`, and the budget is given for the book too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub book_members: Option<u64>,
    /// The share of replications the budget's total stays within, 0 to 1 exclusive, as a
    /// decimal string (default "0.95").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "0.95")]
    pub confidence: Option<Decimal>,
    /// `unchanged`: price the plans past their effective dates renewed as they are; without
    /// it a run past a plan's dates is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "unchanged")]
    pub renewal: Option<Renewal>,
    /// Also run each sourced assumption at its low and at its high, one at a time (a tornado):
    /// more runs of this size, counted against the server's limits.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tornado: bool,
}

/// A simulation: what was asked, and where the run is.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SimulationView {
    pub id: String,
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    pub status: String,
    pub request: serde_json::Value,
    pub member_periods_done: u64,
    pub member_periods_total: u64,
    pub error: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// Where to fetch the results once the run has succeeded.
    pub summary_url: String,
    pub report_url: String,
}

impl From<SimulationRecord> for SimulationView {
    fn from(r: SimulationRecord) -> Self {
        let (status, error) = effective_status(&r);
        Self {
            summary_url: format!("/v1/simulations/{}/summary", r.id),
            report_url: format!("/v1/simulations/{}/report", r.id),
            id: r.id,
            status: status.as_str().to_owned(),
            request: serde_json::from_str(&r.request).unwrap_or_default(),
            member_periods_done: r.member_periods_done,
            member_periods_total: r.member_periods_total,
            error,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SimulationList {
    /// The latest simulations of the caller's tenant, newest first (100 at most).
    pub simulations: Vec<SimulationView>,
}

/// `POST /v1/simulations`
#[utoipa::path(post, path = "/v1/simulations", tag = "simulations", request_body = SimulationBody, security(("api_key" = [])), responses((status = 202, description = "Accepted: the run has started or is queued", body = SimulationView), (status = 400, description = "Bad request: a field, the population model or a limit", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody), (status = 422, description = "No published version in effect", body = crate::error::ErrorBody), (status = 429, description = "As many simulations as the server takes, or as the caller's tenant may have, are running or waiting", body = crate::error::ErrorBody)))]
pub async fn start(
    State(state): State<AppState>,
    caller: Allowed<RunSimulations>,
    JsonBody(body): JsonBody<SimulationBody>,
) -> Result<Shown<RunSimulations, (StatusCode, Json<SimulationView>)>, ApiError> {
    let tenant = caller.tenant().to_owned();
    // Before any lookup: a 404 repeats the version it did not find.
    for (field, version) in [
        ("version", &body.version),
        ("compare_version", &body.compare_version),
    ] {
        if let Some(v) = version {
            crate::routes::policies::version_named(field, v)?;
        }
    }
    let first_period = match &body.first_period {
        Some(text) => {
            Period::parse(text).map_err(|e| ApiError::BadRequest(format!("first_period: {e}")))?
        }
        None => first_period_of(&state, &tenant, &body.policy_id, body.version.as_deref()).await?,
    };
    let config = Config {
        members: body.members,
        periods: body.periods,
        replications: body.replications,
        seed: body.seed,
        first_period,
        shard: Shard::WHOLE,
    };
    config
        .check()
        .map_err(|e| ApiError::BadRequest(e.to_string().replace("--", "")))?;
    let options = Options {
        book_members: body.book_members,
        confidence: body.confidence.unwrap_or(CONFIDENCE_DEFAULT),
        renewal: body.renewal,
        tornado: body.tornado,
    };
    options
        .check(&|field| field.to_owned())
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let model = match &body.population {
        Some(text) => Population::from_toml(text, "population")
            .map_err(|e| ApiError::BadRequest(e.to_string()))?,
        None => Population::default(),
    };
    // What the model gives in periods of this length: a sensor reading every minute fits a
    // month, not a year.
    model
        .check_for(first_period.kind(), "population")
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if body.compare_version.is_some() && body.compare_policy_id.is_none() {
        return Err(ApiError::BadRequest(
            "compare_version: name the policy it is a version of in compare_policy_id".into(),
        ));
    }
    let mut plans = vec![
        plan(
            &state,
            &tenant,
            &body.policy_id,
            body.version.as_deref(),
            first_period,
        )
        .await?,
    ];
    if let Some(b) = &body.compare_policy_id {
        plans.push(
            plan(
                &state,
                &tenant,
                b,
                body.compare_version.as_deref(),
                first_period,
            )
            .await?,
        );
    }
    let given: Vec<&incentive_engine::policy::Policy> = plans.iter().map(|p| p.as_ref()).collect();
    let plans: Vec<Arc<incentive_engine::policy::Policy>> = options
        .plans_for(&given, config.members)
        .into_iter()
        .map(Arc::new)
        .collect();
    let refs: Vec<&incentive_engine::policy::Policy> = plans.iter().map(|p| p.as_ref()).collect();
    incentive_simulations::run::check_horizon(&refs, &config)
        .map_err(|e| ApiError::BadRequest(e.to_string().replace("--", "")))?;
    let request_json = serde_json::to_string(&body).map_err(|_| ApiError::Internal)?;
    let digest = sha256_hex(
        format!(
            "{tenant}\n{request_json}\n{}\n{}",
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default(),
            state.next_simulation()
        )
        .as_bytes(),
    );
    // `sim_` and 24 hex digits, as decisions are `dec_` and 24: the digest without its
    // `sha256:` label.
    let hex = digest.strip_prefix("sha256:").unwrap_or(&digest);
    let id = format!("sim_{}", hex.get(..24).unwrap_or(hex));
    let job = Job {
        id,
        tenant,
        request_json,
        model,
        plans,
        config,
        options,
    };
    let limit = state.limits.simulation_member_periods_max;
    if job.member_periods() > limit {
        return Err(ApiError::BadRequest(format!(
            "members × periods × replications × plans (× runs, with the tornado) = {} member-periods, more than this server's limit of {limit} (simulation_member_periods_max); run it with `incentive simulate`, sharded if need be",
            job.member_periods()
        )));
    }
    let shapes: Vec<PlanShape> = job.plans.iter().map(|p| PlanShape::of(p)).collect();
    incentive_simulations::footprint::estimate(
        &job.model,
        &shapes,
        &job.config,
        state.limits.simulation_threads,
    )
    .check(
        state.limits.simulation_memory_bytes_max,
        "simulation_memory_bytes_max",
    )
    .map_err(|e| {
        ApiError::BadRequest(format!(
            "{e}; ask for fewer members or periods, or run it with `incentive simulate`"
        ))
    })?;
    let record = state.simulations.start(&state.store, job).await?;
    Ok(caller.show((StatusCode::ACCEPTED, Json(SimulationView::from(record)))))
}

/// A plan to run: the stored `version` named, else the published version in effect in
/// `first_period`.
async fn plan(
    state: &AppState,
    tenant: &str,
    policy_id: &str,
    version: Option<&str>,
    first_period: Period,
) -> Result<Arc<incentive_engine::policy::Policy>, ApiError> {
    Ok(match version {
        Some(v) => {
            state
                .store
                .policy_version_compiled(tenant, policy_id, v)
                .await?
        }
        None => {
            state
                .store
                .policy_in_effect(tenant, policy_id, first_period)
                .await?
        }
    })
}

/// The first period of `version` of `policy_id`, or of its latest published version.
async fn first_period_of(
    state: &AppState,
    tenant: &str,
    policy_id: &str,
    version: Option<&str>,
) -> Result<Period, ApiError> {
    let versions = state.store.policy_versions(tenant, policy_id).await?;
    let latest = match version {
        Some(v) => versions.iter().find(|s| s.version == v).ok_or_else(|| {
            ApiError::NotFound(format!("policy `{policy_id}` has no version `{v}`"))
        })?,
        None => versions
            .iter()
            .rev()
            .find(|v| v.status == PolicyStatus::Published)
            .ok_or_else(|| {
                ApiError::Unprocessable(format!(
                    "policy `{policy_id}` has no published version to simulate"
                ))
            })?,
    };
    let from = latest
        .effective_from
        .parse::<chrono::NaiveDate>()
        .map_err(|_| ApiError::Internal)?;
    let kind = match latest.period_kind.as_str() {
        "quarterly" => incentive_engine::PeriodKind::Quarterly,
        "annual" => incentive_engine::PeriodKind::Annual,
        _ => incentive_engine::PeriodKind::Monthly,
    };
    Ok(Period::containing_day(kind, from))
}

/// `GET /v1/simulations`
#[utoipa::path(get, path = "/v1/simulations", tag = "simulations", security(("api_key" = [])), responses((status = 200, description = "The tenant's latest simulations", body = SimulationList), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Allowed<RunSimulations>,
) -> Result<Shown<RunSimulations, Json<SimulationList>>, ApiError> {
    let records = state.store.simulations(caller.tenant()).await?;
    Ok(caller.show(Json(SimulationList {
        simulations: records.into_iter().map(SimulationView::from).collect(),
    })))
}

/// `GET /v1/simulations/{simulation_id}`
#[utoipa::path(get, path = "/v1/simulations/{simulation_id}", tag = "simulations", params(("simulation_id" = String, Path, description = "`sim_…`")), security(("api_key" = [])), responses((status = 200, description = "Where the run is", body = SimulationView), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Allowed<RunSimulations>,
    Path(simulation_id): Path<String>,
) -> Result<Shown<RunSimulations, Json<SimulationView>>, ApiError> {
    let record = state
        .store
        .simulation(caller.tenant(), &simulation_id)
        .await?;
    Ok(caller.show(Json(record.into())))
}

/// `DELETE /v1/simulations/{simulation_id}`
#[utoipa::path(delete, path = "/v1/simulations/{simulation_id}", tag = "simulations", params(("simulation_id" = String, Path, description = "`sim_…`")), security(("api_key" = [])), responses((status = 200, description = "Cancelled: the run has stopped and is recorded `cancelled`", body = SimulationView), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody), (status = 409, description = "The run has already finished (succeeded, failed or cancelled)", body = crate::error::ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    caller: Allowed<RunSimulations>,
    Path(simulation_id): Path<String>,
) -> Result<Shown<RunSimulations, Json<SimulationView>>, ApiError> {
    let record = state
        .simulations
        .cancel(&state.store, caller.tenant(), &simulation_id)
        .await?;
    Ok(caller.show(Json(record.into())))
}

/// `GET /v1/simulations/{simulation_id}/summary`
#[utoipa::path(get, path = "/v1/simulations/{simulation_id}/summary", tag = "simulations", params(("simulation_id" = String, Path, description = "`sim_…`")), security(("api_key" = [])), responses((status = 200, description = "summary.json, as `incentive simulate` writes it", body = serde_json::Value), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody), (status = 409, description = "The run has not succeeded (yet)", body = crate::error::ErrorBody)))]
pub async fn summary(
    State(state): State<AppState>,
    caller: Allowed<RunSimulations>,
    Path(simulation_id): Path<String>,
) -> Result<Shown<RunSimulations, Answered<SimulationResults>>, ApiError> {
    let text = result(
        &state,
        caller.tenant(),
        &simulation_id,
        SimulationResult::Summary,
    )
    .await?;
    Ok(caller.show(Answered::new(
        ([(header::CONTENT_TYPE, "application/json")], text).into_response(),
    )))
}

/// `GET /v1/simulations/{simulation_id}/report`
#[utoipa::path(get, path = "/v1/simulations/{simulation_id}/report", tag = "simulations", params(("simulation_id" = String, Path, description = "`sim_…`")), security(("api_key" = [])), responses((status = 200, description = "report.html: one self-contained page", body = String, content_type = "text/html"), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody), (status = 409, description = "The run has not succeeded (yet)", body = crate::error::ErrorBody)))]
pub async fn report(
    State(state): State<AppState>,
    caller: Allowed<RunSimulations>,
    Path(simulation_id): Path<String>,
) -> Result<Shown<RunSimulations, Answered<SimulationResults>>, ApiError> {
    let text = result(
        &state,
        caller.tenant(),
        &simulation_id,
        SimulationResult::Report,
    )
    .await?;
    Ok(caller.show(Answered::new(
        ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], text).into_response(),
    )))
}

async fn result(
    state: &AppState,
    tenant: &str,
    id: &str,
    what: SimulationResult,
) -> Result<String, ApiError> {
    if let Some(text) = state.store.simulation_result(tenant, id, what).await? {
        return Ok(text);
    }
    let record = state.store.simulation(tenant, id).await?;
    let (status, error) = effective_status(&record);
    Err(ApiError::Conflict(match status {
        SimulationStatus::Failed => format!(
            "simulation `{id}` failed: {}",
            error.unwrap_or_else(|| "no reason was recorded".into())
        ),
        SimulationStatus::Cancelled => {
            format!("simulation `{id}` was cancelled before it finished; it has no results")
        }
        _ => format!(
            "simulation `{id}` is {}: {} of {} member-periods done; poll /v1/simulations/{id}",
            status.as_str(),
            record.member_periods_done,
            record.member_periods_total
        ),
    }))
}

/// A run's summary or report: totals and distributions over a synthetic population, and its
/// members' rows under synthetic ids.
#[derive(Debug)]
pub struct SimulationResults;

crate::discloses! {
    // Synthetic members only: an author prices a draft from them, as an actuary prices a plan.
    SimulationView => [Simulated];
    SimulationList => [Simulated];
    SimulationResults => [Simulated];
}
