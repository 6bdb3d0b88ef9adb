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
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_pool_refuses_at_once_and_never_runs_more_than_its_threads() {
        let pool = Arc::new(Compute::new(1, 1));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let job = |running: Arc<AtomicUsize>, most: Arc<AtomicUsize>| {
            move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(300));
                running.fetch_sub(1, Ordering::SeqCst);
            }
        };
        // One runs, one waits: both admitted.
        let (a, b) = (Arc::clone(&pool), Arc::clone(&pool));
        let first = tokio::spawn({
            let work = job(Arc::clone(&running), Arc::clone(&most));
            async move { a.run(work).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let second = tokio::spawn({
            let work = job(Arc::clone(&running), Arc::clone(&most));
            async move { b.run(work).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        // A third finds the pool and its queue full: refused at once, naming both.
        let started = std::time::Instant::now();
        let refused = pool.run(|| ()).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_millis(100));
        assert_eq!(
            refused.to_string(),
            "this server runs 1 policy evaluation(s) or upload reading(s) at once and queues 1, and has as many as that; retry shortly"
        );
        first.await.unwrap().unwrap();
        second.await.unwrap().unwrap();
        assert_eq!(most.load(Ordering::SeqCst), 1, "never two at once");
        // With the queue empty again, work is taken.
        assert_eq!(pool.run(|| 7).await.unwrap(), 7);
    }
}
