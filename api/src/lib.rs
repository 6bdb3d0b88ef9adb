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
pub mod compute;
pub mod disclosure;
pub mod error;
pub mod observe;
pub mod routes;
pub mod simulations;
pub mod workbench;

pub use error::ApiError;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use incentive_store::Store;
use std::future::Future;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Limits of the service, with units in their names.
#[derive(Clone, Debug)]
pub struct Limits {
    /// The largest request body read; a larger one gets 413.
    pub request_body_bytes_max: usize,
    /// Readings one batch may carry; more gets 413.
    pub readings_per_batch_max: usize,
    /// How long an API key, once looked up, is trusted without asking the database again:
    /// a revoked key keeps working in a running process for at most this long.
    pub key_cache_seconds: u64,
    /// Requests answered at once; one more gets 503 at once rather than waiting.
    pub concurrent_requests_max: usize,
    /// How long a request may take before it gets 503, not counting the wait for its body.
    pub request_timeout_ms: u64,
    /// How long a connection may take to send a request's headers, from when it opens or its
    /// previous answer was sent; past it the connection is closed unanswered (so a kept-alive
    /// connection idle this long is closed too).
    pub header_read_timeout_ms: u64,
    /// How long a request's body may take to arrive whole once its route starts reading it;
    /// past it 408 and the connection is closed. While it arrives the request holds no place
    /// among `concurrent_requests_max` and its `request_timeout_ms` does not run.
    pub body_read_timeout_ms: u64,
    /// Connections open at once; past it new connections wait in the kernel's listen backlog
    /// until one closes.
    pub connections_max: usize,
    /// Threads that run policy code (payout trials, dry runs, policy tests and checks) off the
    /// async runtime, so a slow policy never holds `/healthz` or another tenant's reads.
    pub evaluation_threads: usize,
    /// Evaluations waiting for one of those threads at most; one more gets 503 at once.
    pub evaluations_waiting_max: usize,
    /// Cases one `policies/test` request may run: each may take the sandbox's whole budget
    /// (250 ms), so this bounds the request's work to within its time limit.
    pub policy_cases_max: usize,
    /// The longest a published policy may take to decide one member-period, measured on
    /// probe members when it is published: a slower one is refused, since each of its
    /// decisions holds its tenant's payouts.
    pub policy_decision_ms_max: u64,
    /// Member-periods one backtest over the tenant's history (`…/backtest`) may decide: it runs
    /// within the request, on the evaluation threads, so this bounds it to the request's time.
    pub history_member_periods_max: u64,
    /// The fewest members a backtest's totals may be over: totals over fewer could single a
    /// member out to a role that may see only figures over many.
    pub history_members_min: usize,
    /// Simulations run at once; the rest wait.
    pub simulations_running_max: usize,
    /// Simulations waiting for a runner at most; one more gets 429.
    pub simulations_waiting_max: usize,
    /// Members × periods × replications × plans one simulation may ask for.
    pub simulation_member_periods_max: u64,
    /// Simulations one tenant may have running or waiting at once; one more gets 429, while
    /// other tenants' runs are still taken.
    pub simulations_per_tenant_max: usize,
    /// How long one simulation may run (from when it starts, not while it waits); past it the
    /// run is stopped and recorded failed.
    pub simulation_wall_clock_seconds_max: u64,
    /// The memory one simulation is estimated to need at its peak, at most
    /// (`incentive_simulations::footprint`); a run estimated above it gets 400.
    pub simulation_memory_bytes_max: u64,
    /// Threads each running simulation uses (the rest of the machine keeps answering).
    pub simulation_threads: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            request_body_bytes_max: 8 * 1024 * 1024,
            readings_per_batch_max: 50_000,
            key_cache_seconds: 5,
            concurrent_requests_max: 512,
            request_timeout_ms: 30_000,
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 30_000,
            // Below the 1,024 open files a process is commonly allowed, with room for the
            // database's: a flood meets this limit before the process runs out of descriptors.
            connections_max: 960,
            // One core for async work (the database, other tenants' reads), the rest for
            // policy code; at least one.
            evaluation_threads: std::thread::available_parallelism()
                .map_or(1, |n| n.get().saturating_sub(1).max(1)),
            evaluations_waiting_max: 64,
            // 100 × 250 ms = 25 s, inside the default 30 s request limit.
            policy_cases_max: 100,
            // The reference policies decide in about a millisecond in a release build, a CGM
            // quarter's metrics included; the sandbox stops any decision at 250 ms.
            policy_decision_ms_max: 100,
            // About ten seconds of `tangdaifu-smbg` on one core of the reference machine.
            history_member_periods_max: 200_000,
            // A common small-cell threshold for releasing totals about people.
            history_members_min: 10,
            simulations_running_max: 1,
            simulations_waiting_max: 4,
            // About ten minutes of `tangdaifu-smbg` on one core of the reference machine.
            simulation_member_periods_max: 20_000_000,
            // Two, so one tenant's runs leave the other places of the queue to other tenants.
            simulations_per_tenant_max: 2,
            // An hour: several times the longest run `simulation_member_periods_max` allows.
            simulation_wall_clock_seconds_max: 3_600,
            // 4 GiB a run; with `simulations_running_max` runs at once, what simulations may
            // take of the machine together.
            simulation_memory_bytes_max: 4 * 1024 * 1024 * 1024,
            simulation_threads: 1,
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
    /// Idempotency keys of payouts this process is answering now.
    pub keys_in_flight: Arc<routes::payouts::KeysInFlight>,
    /// API keys looked up lately.
    pub key_cache: Arc<auth::KeyCache>,
    /// Simulations this process runs.
    pub simulations: Arc<simulations::Runner>,
    /// The threads policy code runs on.
    pub compute: Arc<compute::Compute>,
    simulations_started: Arc<std::sync::atomic::AtomicU64>,
}

impl AppState {
    /// A number no other simulation this process started has had.
    pub fn next_simulation(&self) -> u64 {
        self.simulations_started
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}

/// The routes over a store.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "incentive",
        description = "Health-insurance incentive rules engine: members, readings, payouts with idempotency keys, decisions with explanations, policies, and a tamper-evident ledger. Every route but /healthz, /readyz, /metrics and this document takes `Authorization: Bearer ik_…`; a key belongs to one tenant and one role."
    ),
    modifiers(&BearerKeys)
)]
struct ApiDoc;

struct BearerKeys;

impl utoipa::Modify for BearerKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The routes over a store, and the OpenAPI document that describes exactly them (both are
/// built from the same handler list, so neither can have a route the other lacks).
pub fn router(store: Store, limits: Limits) -> Router {
    service(store, limits).0
}

/// [`router`], and the runner of the simulations it starts, for the server to stop when it
/// shuts down ([`simulations::Runner::stop_all`]).
pub fn service(store: Store, limits: Limits) -> (Router, Arc<simulations::Runner>) {
    let state = AppState {
        store,
        in_flight: Arc::new(tokio::sync::Semaphore::new(limits.concurrent_requests_max)),
        keys_in_flight: Arc::default(),
        key_cache: Arc::new(auth::KeyCache::new(std::time::Duration::from_secs(
            limits.key_cache_seconds,
        ))),
        simulations: Arc::new(simulations::Runner::new(&limits)),
        simulations_started: Arc::default(),
        compute: Arc::new(compute::Compute::new(
            limits.evaluation_threads,
            limits.evaluations_waiting_max,
        )),
        limits: Arc::new(limits),
        metrics: Arc::new(observe::Metrics::default()),
    };
    let runner = Arc::clone(&state.simulations);
    let (router, doc) = openapi_router().split_for_parts();
    let doc = Arc::new(doc);
    let router = router
        .route(
            "/v1/openapi.json",
            get(move || {
                let doc = Arc::clone(&doc);
                async move { axum::Json((*doc).clone()) }
            }),
        )
        .merge(workbench::routes())
        // Bodies are read by `body::JsonBody` against `request_body_bytes_max`, which answers
        // in the API's own error format.
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            observe::layer,
        ))
        .with_state(state);
    (router, runner)
}

/// The OpenAPI document alone.
pub fn openapi() -> utoipa::openapi::OpenApi {
    openapi_router().split_for_parts().1
}

/// A keyed route: `routes!` with the handler's roles and data classes in its document
/// ([`disclosure::described`]). One handler each, so each operation gets its own.
macro_rules! keyed {
    ($handler:path) => {
        disclosure::described(routes!($handler), $handler)
    };
}

fn openapi_router() -> OpenApiRouter<AppState> {
    use routes::{
        approvals, audit, caller, device_exports, evaluations, health, history_impact, ledger,
        members, payouts, policies, settings, simulations, uploads, versions_diff,
    };
    OpenApiRouter::with_openapi(<ApiDoc as utoipa::OpenApi>::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(observe::metrics))
        .routes(keyed!(members::put_member))
        .routes(keyed!(uploads::upload))
        .routes(keyed!(members::post_labs))
        .routes(keyed!(members::post_readings))
        .routes(keyed!(device_exports::post_export))
        .routes(keyed!(members::erase))
        .routes(keyed!(payouts::member_decisions))
        .routes(keyed!(policies::list))
        .routes(keyed!(policies::create))
        .routes(keyed!(policies::check))
        .routes(keyed!(policies::test))
        .routes(keyed!(policies::versions))
        .routes(keyed!(policies::version_files))
        .routes(keyed!(versions_diff::diff))
        .routes(keyed!(history_impact::backtest))
        .routes(keyed!(approvals::approve))
        .routes(keyed!(policies::publish))
        .routes(keyed!(policies::retire))
        .routes(keyed!(evaluations::evaluate))
        .routes(keyed!(evaluations::trial))
        .routes(keyed!(payouts::post_payout))
        .routes(keyed!(payouts::get_decision))
        .routes(keyed!(audit::reverse))
        .routes(keyed!(audit::replay))
        .routes(keyed!(ledger::verify))
        .routes(keyed!(ledger::entries))
        .routes(keyed!(ledger::balances))
        .routes(keyed!(audit::checkpoint))
        .routes(keyed!(audit::export))
        .routes(keyed!(simulations::start))
        .routes(keyed!(simulations::list))
        .routes(keyed!(simulations::get))
        .routes(keyed!(simulations::cancel))
        .routes(keyed!(simulations::summary))
        .routes(keyed!(simulations::report))
        .routes(keyed!(settings::get_settings))
        .routes(keyed!(settings::put_settings))
        .routes(keyed!(caller::caller))
}

/// Serves `router` on `listener` under the default [`Limits`] on connections until `shutdown`
/// resolves, then finishes the requests in flight and returns. [`serve_with`] takes the limits.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, router, &Limits::default(), shutdown).await
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting, finishes the
/// requests in flight and returns once every connection has closed. At most `connections_max`
/// connections are open at once, and each must send its request headers within
/// `header_read_timeout_ms` (`router` applies the other limits).
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use tokio::sync::{Semaphore, watch};
    // axum::serve cannot time out a request's headers (hyper can, given a timer) nor cap
    // connections, so connections are served with hyper's own builder.
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(std::time::Duration::from_millis(
            limits.header_read_timeout_ms,
        ));
    let connections = Arc::new(Semaphore::new(limits.connections_max));
    // `stopping` tells each connection to finish; every connection holds a receiver of `open`,
    // so `open.closed()` resolves once the last one has closed.
    let (stopping, stop) = watch::channel(false);
    let (open, connection_open) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A place first, then a connection: past `connections_max` new connections wait in
        // the kernel's backlog (a client sees a slow connect, and is answered once a stalled
        // connection is cut off) rather than being accepted only to be dropped.
        let place = tokio::select! {
            place = Arc::clone(&connections).acquire_owned() => match place {
                Ok(place) => place,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of file descriptors, most likely: waiting lets connections close
                    // rather than spinning on an accept that cannot succeed.
                    tracing::error!(error = %e, "cannot accept a connection");
                    tokio::select! {
                        () = tokio::time::sleep(std::time::Duration::from_secs(1)) => continue,
                        () = &mut shutdown => break,
                    }
                }
            },
            () = &mut shutdown => break,
        };
        // Answers are small and often the whole exchange: no waiting to fill a packet.
        let _ = stream.set_nodelay(true);
        let http = http.clone();
        let router = router.clone();
        let mut stop = stop.clone();
        let connection_open = connection_open.clone();
        tokio::spawn(async move {
            use hyper::service::Service as _;
            // Whether a request has come on this connection yet: hyper counts a connection
            // that has sent nothing as busy, and would keep shutdown waiting for it until its
            // header timeout.
            let asked = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let router = hyper_util::service::TowerToHyperService::new(router);
            let service = hyper::service::service_fn({
                let asked = Arc::clone(&asked);
                move |req| {
                    asked.store(true, std::sync::atomic::Ordering::Relaxed);
                    router.call(req)
                }
            });
            let connection = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            let mut stopping = false;
            loop {
                tokio::select! {
                    served = connection.as_mut() => {
                        if let Err(e) = served {
                            tracing::debug!(error = %e, "connection ended");
                        }
                        break;
                    }
                    _ = stop.wait_for(|stop| *stop), if !stopping => {
                        stopping = true;
                        if !asked.load(std::sync::atomic::Ordering::Relaxed) {
                            // Nothing asked, nothing to finish: close it now.
                            break;
                        }
                        // Finish the request in flight, then close; an idle kept-alive
                        // connection closes now.
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
            drop((place, connection_open));
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    drop(connection_open);
    open.closed().await;
    Ok(())
}

/// An accept that failed for that one connection (the client gave up before it was accepted).
fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed when this is called, not when
/// the future is first polled: call it before saying the server is up, so that a signal sent
/// on reading that line stops it gracefully rather than killing it.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let terminate = signal(SignalKind::terminate());
        let interrupt = signal(SignalKind::interrupt());
        async move {
            let wait = |s: std::io::Result<tokio::signal::unix::Signal>| async move {
                match s {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(_) => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(terminate) => {},
                () = wait(interrupt) => {},
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
