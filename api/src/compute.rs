//! Where policy code runs: a bounded pool of blocking threads, off the async runtime. A
//! policy's script may run for its whole sandbox budget (250 ms a decision, a case or a probe);
//! on the runtime's worker threads two such requests froze `/healthz` and every other
//! tenant's reads for seconds, and the request time limit, itself a task on those threads,
//! never fired. Here at most `evaluation_threads` run at once and `evaluations_waiting_max`
//! more wait; past that a request is refused at once with 503. A request that times out stops
//! waiting at once; the work it started finishes within its own sandbox budget, and keeps its
//! thread's place until it has, so the pool never runs more than its threads.

use crate::error::ApiError;
use std::sync::Arc;
use tokio::sync::Semaphore;

#[derive(Debug)]
pub struct Compute {
    threads: usize,
    waiting_max: usize,
    /// One permit a thread: held by the work itself, until it ends.
    running: Arc<Semaphore>,
    /// Every evaluation admitted, running or waiting.
    admitted: Arc<Semaphore>,
}

impl Compute {
    pub fn new(threads: usize, waiting_max: usize) -> Self {
        let threads = threads.max(1);
        Self {
            threads,
            waiting_max,
            running: Arc::new(Semaphore::new(threads)),
            admitted: Arc::new(Semaphore::new(threads.saturating_add(waiting_max))),
        }
    }

    /// Runs `work` on the pool and returns what it returns.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let busy = || ApiError::EvaluationsBusy {
            running: self.threads,
            waiting: self.waiting_max,
        };
        let admitted = Arc::clone(&self.admitted)
            .try_acquire_owned()
            .map_err(|_| busy())?;
        let thread = Arc::clone(&self.running)
            .acquire_owned()
            .await
            .map_err(|_| ApiError::Unavailable)?;
        let handle = tokio::task::spawn_blocking(move || {
            // INVARIANT: the places are let go when the work ends, not when the request does.
            let _places = (admitted, thread);
            work()
        });
        handle.await.map_err(|e| {
            tracing::error!(error = %e, "a policy evaluation panicked");
            ApiError::Internal
        })
    }

    /// Evaluations running now (for tests and metrics).
    pub fn running(&self) -> usize {
        self.threads - self.running.available_permits()
    }
}
