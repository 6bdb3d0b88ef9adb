//! The HTTP API of `incentive`: the platform enrols members, sends readings and asks for
//! payouts (safe to retry with an `Idempotency-Key`); auditors read decisions and verify the
//! ledger. Every route goes through `incentive-store`, so a payout here is the same function as
//! everywhere else.
//!
//! Start-up is a function tests call: [`router`] builds the routes over a [`Store`], and
//! [`serve`] runs them on a listener (port 0 in tests) until a shutdown future resolves,
//! finishing the requests in flight.

pub mod auth;
pub mod body;
pub mod error;
pub mod observe;
pub mod routes;

pub use error::ApiError;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use incentive_store::Store;
use std::future::Future;
use std::sync::Arc;

/// Limits of the service, with units in their names.
#[derive(Clone, Debug)]
pub struct Limits {
    /// The largest request body read; a larger one gets 413.
    pub request_body_bytes_max: usize,
    /// Readings one batch may carry; more gets 413.
    pub readings_per_batch_max: usize,
    /// How long a payout may hold its idempotency key before a retry may take it over.
    pub idempotency_lease_seconds: u64,
    /// Requests answered at once; one more gets 503 at once rather than waiting.
    pub concurrent_requests_max: usize,
    /// How long a request may take before it gets 503.
    pub request_timeout_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            request_body_bytes_max: 8 * 1024 * 1024,
            readings_per_batch_max: 50_000,
            idempotency_lease_seconds: 60,
            concurrent_requests_max: 512,
            request_timeout_ms: 30_000,
        }
    }
}

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    pub limits: Arc<Limits>,
    pub metrics: Arc<observe::Metrics>,
    /// Permits for requests in flight: `concurrent_requests_max` of them.
    pub in_flight: Arc<tokio::sync::Semaphore>,
}

/// The routes over a store.
pub fn router(store: Store, limits: Limits) -> Router {
    let state = AppState {
        store,
        in_flight: Arc::new(tokio::sync::Semaphore::new(limits.concurrent_requests_max)),
        limits: Arc::new(limits),
        metrics: Arc::new(observe::Metrics::default()),
    };
    Router::new()
        .route("/healthz", get(routes::health::healthz))
        .route("/readyz", get(routes::health::readyz))
        .route("/metrics", get(observe::metrics))
        .route("/v1/members/{member_id}", put(routes::members::put_member))
        .route(
            "/v1/members/{member_id}/readings",
            post(routes::members::post_readings).delete(routes::members::erase),
        )
        .route(
            "/v1/members/{member_id}/decisions",
            get(routes::payouts::member_decisions),
        )
        .route(
            "/v1/policies",
            get(routes::policies::list).post(routes::policies::create),
        )
        .route("/v1/policies/check", post(routes::policies::check))
        .route("/v1/policies/test", post(routes::policies::test))
        .route(
            "/v1/policies/{policy_id}/versions",
            get(routes::policies::versions),
        )
        .route(
            "/v1/policies/{policy_id}/versions/{version}/publish",
            post(routes::policies::publish),
        )
        .route(
            "/v1/policies/{policy_id}/versions/{version}/retire",
            post(routes::policies::retire),
        )
        .route("/v1/evaluations", post(routes::evaluations::evaluate))
        .route("/v1/payouts", post(routes::payouts::post_payout))
        .route(
            "/v1/decisions/{decision_id}",
            get(routes::payouts::get_decision),
        )
        .route(
            "/v1/decisions/{decision_id}/reversal",
            post(routes::audit::reverse),
        )
        .route(
            "/v1/decisions/{decision_id}/replay",
            post(routes::audit::replay),
        )
        .route("/v1/ledger/verify", get(routes::ledger::verify))
        .route("/v1/ledger/checkpoint", get(routes::audit::checkpoint))
        .route("/v1/ledger/export", get(routes::audit::export))
        // Bodies are read by `body::JsonBody` against `request_body_bytes_max`, which answers
        // in the API's own error format.
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            observe::layer,
        ))
        .with_state(state)
}

/// Serves `router` on `listener` until `shutdown` resolves, then finishes the requests in
/// flight and returns.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
