//! Simulations run in the background of the server: accepted at once, run one or a few at a
//! time on a thread pool of their own (so payouts keep their cores), polled, and their results
//! kept in the database for any process to serve.
//!
//! Bounded everywhere: at most `simulations_running_max` run at once and
//! `simulations_waiting_max` wait; one more is refused with 429. A run may not ask for more than
//! `simulation_member_periods_max` member-periods. While a run waits or works, its process
//! writes a heartbeat (and the progress) every [`HEARTBEAT_INTERVAL_MS`]; a run whose heartbeat
//! is older than [`HEARTBEAT_STALE_MS`] was lost with its process and is reported as failed.
//! When the server stops, its runs are told to stop (a guard dropped with the task) and the
//! process does not wait for them.

use crate::error::ApiError;
use incentive_engine::policy::Policy;
use incentive_simulations::report::{PlanInfo, RunInfo};
use incentive_simulations::{Config, Population, SimError};
use incentive_store::{NewSimulation, SimulationRecord, SimulationStatus, Store};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// How often a process writes the heartbeat and progress of each of its runs.
pub const HEARTBEAT_INTERVAL_MS: u64 = 1_000;
/// A run whose heartbeat is older than this was lost with its process.
pub const HEARTBEAT_STALE_MS: i64 = 30_000;

/// What a run needs, checked and resolved.
#[derive(Debug)]
pub struct Job {
    pub id: String,
    pub tenant: String,
    pub request_json: String,
    pub model: Population,
    pub plans: Vec<Arc<Policy>>,
    pub config: Config,
}

impl Job {
    pub fn member_periods(&self) -> u64 {
        self.config
            .members
            .saturating_mul(u64::from(self.config.periods))
            .saturating_mul(self.config.replications)
            .saturating_mul(self.plans.len() as u64)
    }
}

/// A run this process holds: how far it has got, and whether it should stop.
#[derive(Debug, Default)]
struct Progress {
    done: AtomicU64,
    stop: AtomicBool,
}

/// Tells a run to stop when the task that owns it is dropped (the server shutting down).
struct StopOnDrop(Arc<Progress>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop.store(true, Ordering::Relaxed);
    }
}

/// This process's runs.
#[derive(Debug)]
pub struct Runner {
    /// Names this process in the rows of its runs.
    id: String,
    running: Arc<tokio::sync::Semaphore>,
    waiting_max: usize,
    running_max: usize,
    threads: usize,
    held: Mutex<HashMap<String, Arc<Progress>>>,
}

impl Runner {
    pub fn new(running_max: usize, waiting_max: usize, threads: usize) -> Self {
        let started = chrono::Utc::now().timestamp_micros();
        Self {
            id: format!("{}-{started}", std::process::id()),
            running: Arc::new(tokio::sync::Semaphore::new(running_max.max(1))),
            waiting_max,
            running_max: running_max.max(1),
            threads: threads.max(1),
            held: Mutex::new(HashMap::new()),
        }
    }

    /// Stops every run this process holds and records each as failed: the server is shutting
    /// down and will not finish them.
    pub async fn stop_all(&self, store: &Store) {
        let held: Vec<(String, Arc<Progress>)> = self
            .held()
            .iter()
            .map(|(id, p)| (id.clone(), Arc::clone(p)))
            .collect();
        for (id, progress) in held {
            progress.stop.store(true, Ordering::Relaxed);
            let why = "the server shut down before it finished; start it again";
            if let Err(e) = store.simulation_finished(&id, Err(why)).await {
                tracing::warn!(simulation = %id, error = %e, "cannot record a stopped simulation");
            }
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Progress>>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records the job and starts it in the background; refused if the queue is full.
    pub async fn start(
        self: &Arc<Self>,
        store: &Store,
        job: Job,
    ) -> Result<SimulationRecord, ApiError> {
        let progress = Arc::new(Progress::default());
        {
            let mut held = self.held();
            let limit = self.running_max + self.waiting_max;
            if held.len() >= limit {
                return Err(ApiError::TooManySimulations {
                    running: self.running_max,
                    waiting: self.waiting_max,
                });
            }
            held.insert(job.id.clone(), Arc::clone(&progress));
        }
        let record = store
            .create_simulation(&NewSimulation {
                id: &job.id,
                tenant: &job.tenant,
                request: &job.request_json,
                member_periods_total: job.member_periods(),
                runner: &self.id,
            })
            .await;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                self.held().remove(&job.id);
                return Err(e.into());
            }
        };
        let runner = Arc::clone(self);
        let store = store.clone();
        tokio::spawn(async move {
            let id = job.id.clone();
            runner.run(&store, job, progress).await;
            runner.held().remove(&id);
        });
        Ok(record)
    }

    async fn run(&self, store: &Store, job: Job, progress: Arc<Progress>) {
        let _stop_on_drop = StopOnDrop(Arc::clone(&progress));
        let heartbeat = {
            let (store, id, progress) = (store.clone(), job.id.clone(), Arc::clone(&progress));
            tokio::spawn(async move {
                let mut tick =
                    tokio::time::interval(std::time::Duration::from_millis(HEARTBEAT_INTERVAL_MS));
                loop {
                    tick.tick().await;
                    let done = progress.done.load(Ordering::Relaxed);
                    if let Err(e) = store.simulation_heartbeat(&id, done).await {
                        tracing::warn!(simulation = %id, error = %e, "cannot record a simulation's progress");
                    }
                }
            })
        };
        let Ok(_permit) = Arc::clone(&self.running).acquire_owned().await else {
            heartbeat.abort();
            return;
        };
        let id = job.id.clone();
        if let Err(e) = store.simulation_started(&id).await {
            tracing::warn!(simulation = %id, error = %e, "cannot record that a simulation started");
        }
        let threads = self.threads;
        let work = Arc::clone(&progress);
        let outcome = tokio::task::spawn_blocking(move || compute(&job, threads, &work)).await;
        heartbeat.abort();
        let outcome = match outcome {
            Ok(Ok(files)) => Ok(files),
            Ok(Err(SimError::Stopped)) => return,
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("the run failed inside the server; it has been logged".to_owned()),
        };
        let result = match &outcome {
            Ok((summary, report)) => {
                store
                    .simulation_finished(&id, Ok((summary.as_str(), report.as_str())))
                    .await
            }
            Err(message) => {
                tracing::warn!(simulation = %id, error = %message, "a simulation failed");
                store.simulation_finished(&id, Err(message.as_str())).await
            }
        };
        if let Err(e) = result {
            tracing::error!(simulation = %id, error = %e, "cannot record a simulation's results");
        }
    }
}

/// Runs the job on a pool of `threads` threads and renders `summary.json` and `report.html`.
fn compute(job: &Job, threads: usize, progress: &Progress) -> Result<(String, String), SimError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("simulation-{i}"))
        .build()
        .map_err(|e| SimError::Config(format!("cannot start the simulation's threads: {e}")))?;
    let plans: Vec<&Policy> = job.plans.iter().map(AsRef::as_ref).collect();
    let count = |n: u64| {
        progress.done.fetch_add(n, Ordering::Relaxed);
    };
    let results = pool.install(|| {
        incentive_simulations::run_until(&job.model, &plans, &job.config, &count, &progress.stop)
    })?;
    let info = RunInfo::new(
        &job.config,
        plans.iter().map(|p| PlanInfo::of(p)).collect(),
        &job.model,
    );
    let summary = incentive_simulations::report::summary_json(&info, &results)?;
    let report = incentive_simulations::html::render(&info, &results)?;
    Ok((summary, report))
}

/// What a client is told of a run's status: a run still queued or running whose heartbeat has
/// gone quiet was lost with its process.
pub fn effective_status(record: &SimulationRecord) -> (SimulationStatus, Option<String>) {
    let now = chrono::Utc::now().timestamp_millis();
    let open = matches!(
        record.status,
        SimulationStatus::Queued | SimulationStatus::Running
    );
    if open && now - record.heartbeat_ms > HEARTBEAT_STALE_MS {
        (
            SimulationStatus::Failed,
            Some(format!(
                "the server running it stopped before it finished (no sign of it for over {} s); start it again",
                HEARTBEAT_STALE_MS / 1000
            )),
        )
    } else {
        (record.status, record.error.clone())
    }
}
