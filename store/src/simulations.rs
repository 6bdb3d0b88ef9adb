//! Simulations started over the API, kept so that a client can poll one and fetch its results
//! from any process on the database: the request, the run's progress and heartbeat, and the
//! results (`summary.json`, `report.html`) once it has finished. The run itself is the API's.

use crate::Store;
use crate::db::{Instant, on_pool};
use crate::error::StoreError;
use crate::policies::compiled_policy;
use incentive_engine::Period;
use incentive_engine::policy::Policy;
use serde::Serialize;
use sqlx::Row;
use std::sync::Arc;

/// Where a simulation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SimulationStatus {
    /// Waiting for a free runner in the process that accepted it.
    Queued,
    Running,
    Succeeded,
    Failed,
    /// Stopped at the tenant's request (`DELETE /v1/simulations/{id}`).
    Cancelled,
}

impl SimulationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            other => {
                return Err(StoreError::Corrupt(format!(
                    "a simulation has status `{other}`"
                )));
            }
        })
    }
}

/// A simulation as stored, without its results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimulationRecord {
    pub id: String,
    pub tenant: String,
    /// The request as accepted, JSON.
    pub request: String,
    pub status: SimulationStatus,
    pub member_periods_done: u64,
    pub member_periods_total: u64,
    pub error: Option<String>,
    /// The process that runs it.
    pub runner: String,
    /// Wall-clock milliseconds of its runner's last sign of life.
    pub heartbeat_ms: i64,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

/// What a new simulation is.
#[derive(Clone, Debug)]
pub struct NewSimulation<'a> {
    pub id: &'a str,
    pub tenant: &'a str,
    pub request: &'a str,
    pub member_periods_total: u64,
    pub runner: &'a str,
}

/// Simulations a tenant's list shows at most, newest first.
pub const SIMULATIONS_LISTED_MAX: i64 = 100;

const COLUMNS: &str = "id, tenant, request, status, member_periods_done, member_periods_total, error, runner, \
                       heartbeat_ms, created_at, started_at, finished_at";

fn wall_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

macro_rules! record_from_row {
    ($r:expr) => {{
        let r = $r;
        (|| -> Result<SimulationRecord, StoreError> {
            let status: String = r.try_get(3)?;
            let done: i64 = r.try_get(4)?;
            let total: i64 = r.try_get(5)?;
            let created: Instant = r.try_get(9)?;
            let started: Option<Instant> = r.try_get(10)?;
            let finished: Option<Instant> = r.try_get(11)?;
            Ok(SimulationRecord {
                id: r.try_get(0)?,
                tenant: r.try_get(1)?,
                request: r.try_get(2)?,
                status: SimulationStatus::parse(&status)?,
                member_periods_done: u64::try_from(done).unwrap_or(0),
                member_periods_total: u64::try_from(total).unwrap_or(0),
                error: r.try_get(6)?,
                runner: r.try_get(7)?,
                heartbeat_ms: r.try_get(8)?,
                created_at: created.to_rfc3339(),
                started_at: started.map(Instant::to_rfc3339),
                finished_at: finished.map(Instant::to_rfc3339),
            })
        })()
    }};
}

impl Store {
    /// The published version of `policy_id` in effect in `period`, compiled.
    pub async fn policy_in_effect(
        &self,
        tenant: &str,
        policy_id: &str,
        period: Period,
    ) -> Result<Arc<Policy>, StoreError> {
        let mut tx = self.shared.pool.begin_read().await?;
        let (_, policy) =
            crate::policies::policy_in_effect(&self.shared, &mut tx, tenant, policy_id, period)
                .await?;
        tx.commit().await?;
        Ok(policy)
    }

    /// A stored version of a policy, whatever its status, compiled.
    pub async fn policy_version_compiled(
        &self,
        tenant: &str,
        policy_id: &str,
        version: &str,
    ) -> Result<Arc<Policy>, StoreError> {
        let mut tx = self.shared.pool.begin_read().await?;
        let policy = compiled_policy(&self.shared, &mut tx, tenant, policy_id, version).await?;
        tx.commit().await?;
        Ok(policy)
    }

    /// Records a simulation accepted, queued.
    pub async fn create_simulation(
        &self,
        new: &NewSimulation<'_>,
    ) -> Result<SimulationRecord, StoreError> {
        let at = self.shared.now();
        on_pool!(&self.shared.pool, p => {
            sqlx::query(
                "INSERT INTO simulations (id, tenant, request, status, member_periods_total, runner, heartbeat_ms, created_at) \
                 VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7)",
            )
            .bind(new.id)
            .bind(new.tenant)
            .bind(new.request)
            .bind(count(new.member_periods_total))
            .bind(new.runner)
            .bind(wall_ms())
            .bind(at)
            .execute(p)
            .await?;
        });
        self.simulation(new.tenant, new.id).await
    }

    /// The run has started.
    pub async fn simulation_started(&self, id: &str) -> Result<(), StoreError> {
        let at = self.shared.now();
        on_pool!(&self.shared.pool, p => {
            sqlx::query("UPDATE simulations SET status = 'running', started_at = $2, heartbeat_ms = $3 WHERE id = $1 AND status = 'queued'")
                .bind(id)
                .bind(at)
                .bind(wall_ms())
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// The runner is alive, and this far through the run. False when the run is no longer
    /// open (cancelled from this process or another, or recorded failed): its runner should
    /// stop.
    pub async fn simulation_heartbeat(&self, id: &str, done: u64) -> Result<bool, StoreError> {
        let changed = on_pool!(&self.shared.pool, p => {
            sqlx::query("UPDATE simulations SET member_periods_done = $2, heartbeat_ms = $3 WHERE id = $1 AND status IN ('queued', 'running')")
                .bind(id)
                .bind(count(done))
                .bind(wall_ms())
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(changed > 0)
    }

    /// Records one of `tenant`'s runs cancelled, if it is still queued or running; false if
    /// it is not (it has finished, or is not the tenant's). Whichever process runs it stops on
    /// its next heartbeat if it has not been told already.
    pub async fn simulation_cancelled(
        &self,
        tenant: &str,
        id: &str,
        why: &str,
    ) -> Result<bool, StoreError> {
        let at = self.shared.now();
        let changed = on_pool!(&self.shared.pool, p => {
            sqlx::query(
                "UPDATE simulations SET status = 'cancelled', error = $3, finished_at = $4, heartbeat_ms = $5 \
                 WHERE tenant = $1 AND id = $2 AND status IN ('queued', 'running')",
            )
            .bind(tenant)
            .bind(id)
            .bind(why)
            .bind(at)
            .bind(wall_ms())
            .execute(p)
            .await?
            .rows_affected()
        });
        Ok(changed > 0)
    }

    /// The run finished: its results, or why it failed. The first word on a run stands.
    pub async fn simulation_finished(
        &self,
        id: &str,
        outcome: Result<(&str, &str), &str>,
    ) -> Result<(), StoreError> {
        let at = self.shared.now();
        let (status, summary, report, error) = match outcome {
            Ok((summary, report)) => ("succeeded", Some(summary), Some(report), None),
            Err(e) => ("failed", None, None, Some(e)),
        };
        on_pool!(&self.shared.pool, p => {
            sqlx::query(
                "UPDATE simulations SET status = $2, summary = $3, report = $4, error = $5, finished_at = $6, \
                 heartbeat_ms = $7, member_periods_done = CASE WHEN $2 = 'succeeded' THEN member_periods_total ELSE member_periods_done END \
                 WHERE id = $1 AND status IN ('queued', 'running')",
            )
            .bind(id)
            .bind(status)
            .bind(summary)
            .bind(report)
            .bind(error)
            .bind(at)
            .bind(wall_ms())
            .execute(p)
            .await?;
        });
        Ok(())
    }

    /// One of a tenant's simulations.
    pub async fn simulation(&self, tenant: &str, id: &str) -> Result<SimulationRecord, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM simulations WHERE tenant = $1 AND id = $2");
        let record = on_pool!(&self.shared.pool, p => {
            match sqlx::query(&sql).bind(tenant).bind(id).fetch_optional(p).await? {
                Some(r) => Some(record_from_row!(&r)?),
                None => None,
            }
        });
        record.ok_or_else(|| StoreError::UnknownSimulation(id.to_owned()))
    }

    /// A tenant's latest simulations, newest first.
    pub async fn simulations(&self, tenant: &str) -> Result<Vec<SimulationRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM simulations WHERE tenant = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        let records = on_pool!(&self.shared.pool, p => {
            let rows = sqlx::query(&sql)
                .bind(tenant)
                .bind(SIMULATIONS_LISTED_MAX)
                .fetch_all(p)
                .await?;
            rows.iter().map(|r| record_from_row!(r)).collect::<Result<Vec<_>, _>>()?
        });
        Ok(records)
    }

    /// A finished simulation's `summary.json` or `report.html` (`what`), if it has them.
    pub async fn simulation_result(
        &self,
        tenant: &str,
        id: &str,
        what: SimulationResult,
    ) -> Result<Option<String>, StoreError> {
        let column = match what {
            SimulationResult::Summary => "summary",
            SimulationResult::Report => "report",
        };
        let sql = format!("SELECT {column} FROM simulations WHERE tenant = $1 AND id = $2");
        let row: Option<Option<String>> = on_pool!(&self.shared.pool, p => {
            sqlx::query_scalar(&sql).bind(tenant).bind(id).fetch_optional(p).await?
        });
        row.ok_or_else(|| StoreError::UnknownSimulation(id.to_owned()))
    }
}

/// A simulation's result files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimulationResult {
    Summary,
    Report,
}
