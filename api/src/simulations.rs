//! Simulations run in the background of the server: accepted at once, run one or a few at a
//! time on a thread pool of their own (so payouts keep their cores), polled, and their results
//! kept in the database for any process to serve.
//!
//! Bounded everywhere: at most `simulations_running_max` run at once and
//! `simulations_waiting_max` wait, and at most `simulations_per_tenant_max` of those are one
//! tenant's, so one tenant's runs never keep every other tenant out; one more is refused with
//! 429. A run may not ask for more than `simulation_member_periods_max` member-periods nor be
//! estimated to need more than `simulation_memory_bytes_max` of memory, and is stopped once it
//! has run for `simulation_wall_clock_seconds_max`. While a run waits or works, its process
//! writes a heartbeat (and the progress) every [`HEARTBEAT_INTERVAL_MS`]; a run whose heartbeat
//! is older than [`HEARTBEAT_STALE_MS`] was lost with its process and is reported as failed.
//!
//! A run stops — cancelled by its tenant, past its time, or because the server is shutting
//! down — within one decision on each of its threads (the run reads its stop flag before each
//! member), and is recorded `cancelled` or `failed` with the reason.

use crate::Limits;
use crate::error::ApiError;
use incentive_engine::policy::Policy;
use incentive_simulations::options::Options;
use incentive_simulations::{Config, Population, SimError};
use incentive_store::{NewSimulation, SimulationRecord, SimulationStatus, Store};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::watch;

/// How often a process writes the heartbeat and progress of each of its runs.
pub const HEARTBEAT_INTERVAL_MS: u64 = 1_000;
/// A run whose heartbeat is older than this was lost with its process.
pub const HEARTBEAT_STALE_MS: i64 = 30_000;
/// How long a cancel, or the server's shutdown, waits for its runs to let go of their threads
/// before answering anyway: a run lets go within a decision (the sandbox allows 250 ms), so
/// this is only reached if something else holds it.
pub const LET_GO_WAIT_MS: u64 = 5_000;

/// What a run needs, checked and resolved.
#[derive(Debug)]
pub struct Job {
    pub id: String,
    pub tenant: String,
    pub request_json: String,
    pub model: Population,
    pub plans: Vec<Arc<Policy>>,
    pub config: Config,
    /// The book, the budget's confidence, a renewal, the tornado: the command's meaning.
    pub options: Options,
}

impl Job {
    pub fn member_periods(&self) -> u64 {
        self.config
            .members
            .saturating_mul(u64::from(self.config.periods))
            .saturating_mul(self.config.replications)
            .saturating_mul(self.plans.len() as u64)
            .saturating_mul(self.options.runs())
    }
}

/// Why a run was told to stop; the first reason given stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StopReason {
    /// Its tenant cancelled it.
    Cancelled,
    /// It ran past `simulation_wall_clock_seconds_max`.
    WallClock,
    /// The server is shutting down.
    Shutdown,
}

/// The message a run stopped by the server's shutdown is recorded with.
const SHUT_DOWN: &str = "the server shut down before it finished; start it again";
/// The message a cancelled run is recorded with.
const CANCELLED: &str = "cancelled by the tenant before it finished";

/// A run this process holds: whose it is, how far it has got, and whether it should stop.
#[derive(Debug)]
struct Progress {
    tenant: String,
    done: AtomicU64,
    /// Read by the run before each member: set once it should stop.
    stop: AtomicBool,
    /// Why it should stop, for the task that records the outcome, and to wake a run still
    /// waiting for a runner.
    reason: watch::Sender<Option<StopReason>>,
}

impl Progress {
    fn new(tenant: &str) -> Self {
        Self {
            tenant: tenant.to_owned(),
            done: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            reason: watch::Sender::new(None),
        }
    }

    /// Tells the run to stop, for `why` unless it has been told already.
    fn stop(&self, why: StopReason) {
        self.reason.send_if_modified(|reason| {
            if reason.is_some() {
                return false;
            }
            *reason = Some(why);
            true
        });
        self.stop.store(true, Ordering::Relaxed);
    }

    fn reason(&self) -> Option<StopReason> {
        *self.reason.borrow()
    }

    /// Resolves once the run has been told to stop.
    async fn stopped(&self) -> StopReason {
        let mut told = self.reason.subscribe();
        match told.wait_for(Option::is_some).await {
            Ok(reason) => reason.unwrap_or(StopReason::Shutdown),
            // The sender lives as long as `self`: not reached.
            Err(_) => StopReason::Shutdown,
        }
    }
}

/// Tells a run to stop when the task that owns it is dropped (the runtime shutting down).
struct StopOnDrop(Arc<Progress>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop(StopReason::Shutdown);
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
    per_tenant_max: usize,
    wall_clock: Duration,
    threads: usize,
    held: Mutex<HashMap<String, Arc<Progress>>>,
}

impl Runner {
    pub fn new(limits: &Limits) -> Self {
        let started = chrono::Utc::now().timestamp_micros();
        let running_max = limits.simulations_running_max.max(1);
        Self {
            id: format!("{}-{started}", std::process::id()),
            running: Arc::new(tokio::sync::Semaphore::new(running_max)),
            waiting_max: limits.simulations_waiting_max,
            running_max,
            per_tenant_max: limits.simulations_per_tenant_max.max(1),
            wall_clock: Duration::from_secs(limits.simulation_wall_clock_seconds_max),
            threads: limits.simulation_threads.max(1),
            held: Mutex::new(HashMap::new()),
        }
    }

    /// Stops every run this process holds and records each as failed: the server is shutting
    /// down and will not finish them. Returns once they have let go of their threads (within a
    /// decision), or after [`LET_GO_WAIT_MS`].
    pub async fn stop_all(&self, store: &Store) {
        let held: Vec<(String, Arc<Progress>)> = self
            .held()
            .iter()
            .map(|(id, p)| (id.clone(), Arc::clone(p)))
            .collect();
        for (id, progress) in &held {
            progress.stop(StopReason::Shutdown);
            if let Err(e) = store.simulation_finished(id, Err(SHUT_DOWN)).await {
                tracing::warn!(simulation = %id, error = %e, "cannot record a stopped simulation");
            }
        }
        for (id, _) in &held {
            self.let_go(id).await;
        }
    }

    /// Whether this process is running `id` or holding it waiting.
    pub fn holds(&self, id: &str) -> bool {
        self.held().contains_key(id)
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Progress>>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until this process no longer holds run `id`, for [`LET_GO_WAIT_MS`] at most.
    async fn let_go(&self, id: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(LET_GO_WAIT_MS);
        while self.holds(id) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Records the job and starts it in the background; refused if its tenant has as many
    /// runs as it may, or the queue is full.
    pub async fn start(
        self: &Arc<Self>,
        store: &Store,
        job: Job,
    ) -> Result<SimulationRecord, ApiError> {
        let progress = Arc::new(Progress::new(&job.tenant));
        {
            let mut held = self.held();
            let theirs = held.values().filter(|p| p.tenant == job.tenant).count();
            if theirs >= self.per_tenant_max {
                return Err(ApiError::TenantSimulationsMax {
                    limit: self.per_tenant_max,
                });
            }
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

    /// Cancels one of `tenant`'s runs that is waiting or running: recorded `cancelled` at
    /// once, and answered once its threads have let go, so the tenant's quota has room again.
    /// A run that has finished is a conflict; another tenant's, or none, is not found.
    pub async fn cancel(
        &self,
        store: &Store,
        tenant: &str,
        id: &str,
    ) -> Result<SimulationRecord, ApiError> {
        let record = store.simulation(tenant, id).await?;
        let (status, _) = effective_status(&record);
        let finished = |status: SimulationStatus| {
            ApiError::Conflict(format!(
                "simulation `{id}` has already {}; only a queued or running simulation can be cancelled",
                match status {
                    SimulationStatus::Succeeded => "succeeded",
                    SimulationStatus::Cancelled => "been cancelled",
                    _ => "failed",
                }
            ))
        };
        if !matches!(status, SimulationStatus::Queued | SimulationStatus::Running) {
            return Err(finished(status));
        }
        if !store.simulation_cancelled(tenant, id, CANCELLED).await? {
            // It finished between the read and the write.
            let now = store.simulation(tenant, id).await?;
            return Err(finished(now.status));
        }
        let progress = self.held().get(id).map(Arc::clone);
        if let Some(progress) = progress {
            progress.stop(StopReason::Cancelled);
            self.let_go(id).await;
        }
        // Held by another process, it stops there at its next heartbeat.
        Ok(store.simulation(tenant, id).await?)
    }

    async fn run(&self, store: &Store, job: Job, progress: Arc<Progress>) {
        let _stop_on_drop = StopOnDrop(Arc::clone(&progress));
        let heartbeat = {
            let (store, id, progress) = (store.clone(), job.id.clone(), Arc::clone(&progress));
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(HEARTBEAT_INTERVAL_MS));
                loop {
                    tick.tick().await;
                    let done = progress.done.load(Ordering::Relaxed);
                    match store.simulation_heartbeat(&id, done).await {
                        Ok(true) => {}
                        // Cancelled from another process (or recorded finished): stop.
                        Ok(false) => progress.stop(StopReason::Cancelled),
                        Err(e) => {
                            tracing::warn!(simulation = %id, error = %e, "cannot record a simulation's progress");
                        }
                    }
                }
            })
        };
        let id = job.id.clone();
        let permit = tokio::select! {
            permit = Arc::clone(&self.running).acquire_owned() => permit,
            why = progress.stopped() => {
                heartbeat.abort();
                self.record_stop(store, &job, why).await;
                return;
            }
        };
        let Ok(_permit) = permit else {
            heartbeat.abort();
            return;
        };
        if let Err(e) = store.simulation_started(&id).await {
            tracing::warn!(simulation = %id, error = %e, "cannot record that a simulation started");
        }
        let threads = self.threads;
        let work = Arc::clone(&progress);
        let job = Arc::new(job);
        let computing = Arc::clone(&job);
        let mut handle = tokio::task::spawn_blocking(move || compute(&computing, threads, &work));
        // The run's time counts from when it starts, not while it waits for a runner.
        let outcome = tokio::select! {
            outcome = &mut handle => outcome,
            () = tokio::time::sleep(self.wall_clock) => {
                progress.stop(StopReason::WallClock);
                handle.await
            }
        };
        heartbeat.abort();
        let outcome = match outcome {
            Ok(Ok(files)) => Ok(files),
            Ok(Err(SimError::Stopped)) => {
                let why = progress.reason().unwrap_or(StopReason::Shutdown);
                self.record_stop(store, &job, why).await;
                return;
            }
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

    /// Records why a run stopped before it finished (the first word on a run stands, so a
    /// cancel or shutdown already recorded is kept).
    async fn record_stop(&self, store: &Store, job: &Job, why: StopReason) {
        let id = job.id.as_str();
        let recorded = match why {
            StopReason::Cancelled => store
                .simulation_cancelled(&job.tenant, id, CANCELLED)
                .await
                .map(|_| ()),
            StopReason::Shutdown => store.simulation_finished(id, Err(SHUT_DOWN)).await,
            StopReason::WallClock => {
                let message = format!(
                    "the run took longer than this server's limit of {} s (simulation_wall_clock_seconds_max) and was stopped; run fewer members, periods or replications, or run it with `incentive simulate`",
                    self.wall_clock.as_secs()
                );
                tracing::warn!(simulation = %id, "a simulation ran past its time");
                store.simulation_finished(id, Err(&message)).await
            }
        };
        if let Err(e) = recorded {
            tracing::warn!(simulation = %id, error = %e, "cannot record a stopped simulation");
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
        job.options
            .run(&job.model, &plans, &job.config, &count, &progress.stop)
    })?;
    let info = job.options.info(&job.config, &plans, &job.model);
    let derived = incentive_simulations::derived::Derived::of(&info, &results)?;
    let summary = incentive_simulations::report::summary_json_of(&info, &results, &derived)?;
    let report = incentive_simulations::html::render_of(&info, &results, &derived)?;
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
