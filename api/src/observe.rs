//! What every request passes through: a request id, the limits on concurrent requests and
//! on time (outside which `/healthz`, `/readyz` and `/metrics` answer, and which a request
//! lends back while its body arrives), and the Prometheus metrics (`/metrics`): requests and
//! their latency by route and status, and payouts by outcome. Neither the logs nor the metrics
//! carry readings, member attributes or ids: routes are logged as their templates
//! (`/v1/members/{member_id}`).

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tracing::Instrument;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PayoutLabels {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UploadLabels {
    /// `while_read` (the body kept each member's readings together) or `once_read`.
    pub stored: &'static str,
}

/// The service's metrics, in a registry of its own (no global state, so two services in one
/// process — as in tests — keep separate counts).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RouteLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    pub payouts: Family<PayoutLabels, Counter>,
    /// CSV and NDJSON uploads stored, by whether they were stored while read.
    pub uploads: Family<UploadLabels, Counter>,
    /// Entries this process appended to a ledger: payouts, true-ups, reversals, publications.
    pub ledger_appends: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("incentive");
        let requests = Family::<RouteLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            // 1 ms to about 8 s.
            Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
                0.001, 2.0, 14,
            ))
        });
        let payouts = Family::<PayoutLabels, Counter>::default();
        let uploads = Family::<UploadLabels, Counter>::default();
        let ledger_appends = Counter::default();
        registry.register(
            "ledger_appends",
            "Ledger entries appended by this process",
            ledger_appends.clone(),
        );
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            latency.clone(),
        );
        registry.register(
            "payouts",
            "Payout requests answered, by outcome (paid, true_up, already_decided, replayed)",
            payouts.clone(),
        );
        registry.register(
            "uploads",
            "CSV and NDJSON uploads of readings stored: while_read (each member's rows together in the body) or once_read (the body read whole first)",
            uploads.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            payouts,
            uploads,
            ledger_appends,
        }
    }
}

impl Metrics {
    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

static NEXT_REQUEST: AtomicU64 = AtomicU64::new(1);

/// Request id, limits, metrics and the request's log line.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().to_string();
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(
            || format!("req-{}", NEXT_REQUEST.fetch_add(1, Ordering::Relaxed)),
            str::to_owned,
        );
    let span = tracing::info_span!("request", id = %id, method = %method, route = %route);

    let mut response = if OUTSIDE_THE_LIMITS.contains(&route.as_str()) {
        // Probes and scrapes must answer while the server is full: a load balancer that saw
        // 503 from /healthz would restart a process that is only busy.
        next.run(req).instrument(span.clone()).await
    } else {
        within_the_limits(&state, req, next, &span).await
    };
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", v);
    }
    let status = response.status().as_u16();
    let labels = RouteLabels {
        method,
        route,
        status,
    };
    let seconds = started.elapsed().as_secs_f64();
    state.metrics.requests.get_or_create(&labels).inc();
    state
        .metrics
        .latency
        .get_or_create(&labels)
        .observe(seconds);
    tracing::info!(parent: &span, status, ms = seconds * 1000.0, "answered");
    response
}

/// Routes answered outside `concurrent_requests_max` and `request_timeout_ms`: each answers
/// from memory, or within a bound of its own (`/readyz` waits 2 s for the database at most).
const OUTSIDE_THE_LIMITS: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// A request under `concurrent_requests_max` and `request_timeout_ms`: 503 `overloaded` at once
/// if every place is taken, 503 `timed_out` once its time is spent. Its place and its clock are
/// a [`Claim`] the body reader holds back while the body arrives.
async fn within_the_limits(
    state: &AppState,
    mut req: Request,
    next: Next,
    span: &tracing::Span,
) -> Response {
    let limits = &state.limits;
    let Ok(place) = Arc::clone(&state.in_flight).try_acquire_owned() else {
        return ApiError::Overloaded {
            limit: limits.concurrent_requests_max,
        }
        .into_response();
    };
    let (claim, mut clock) = Claim::new(place, state);
    let claim = Arc::new(claim);
    req.extensions_mut().insert(Arc::clone(&claim));
    let answer = next.run(req).instrument(span.clone());
    let mut answer = std::pin::pin!(answer);
    let response = loop {
        let until = match &*clock.borrow_and_update() {
            Share::Held { until, .. } => Some(*until),
            Share::Lent { .. } | Share::Done => None,
        };
        let time_up = async move {
            match until {
                Some(until) => tokio::time::sleep_until(until).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            response = answer.as_mut() => break response,
            () = time_up => break ApiError::TimedOut { limit_ms: limits.request_timeout_ms }.into_response(),
            changed = clock.changed() => {
                // The claim is alive (it is held here), so its clock cannot have gone.
                if changed.is_err() {
                    break answer.as_mut().await;
                }
            }
        }
    };
    claim.finish();
    response
}

/// What a request holds of the limits: a place among `concurrent_requests_max` and the time left
/// of `request_timeout_ms`. [`lend`](Self::lend) gives both up while the request waits for its
/// body and [`take_back`](Self::take_back) claims them again, so a client sending its body
/// slowly holds a connection, never a place another tenant's request could use.
#[derive(Debug)]
pub struct Claim {
    places: Arc<tokio::sync::Semaphore>,
    places_max: usize,
    clock: tokio::sync::watch::Sender<Share>,
}

/// The state of a [`Claim`], watched by the layer that times the request.
#[derive(Debug)]
enum Share {
    /// A place is held and the clock runs until `until`.
    Held {
        _place: tokio::sync::OwnedSemaphorePermit,
        until: tokio::time::Instant,
    },
    /// The place is given back and the clock stopped with `left` to run.
    Lent { left: Duration },
    /// The request has been answered.
    Done,
}

impl Claim {
    fn new(
        place: tokio::sync::OwnedSemaphorePermit,
        state: &AppState,
    ) -> (Self, tokio::sync::watch::Receiver<Share>) {
        let until =
            tokio::time::Instant::now() + Duration::from_millis(state.limits.request_timeout_ms);
        let (clock, watching) = tokio::sync::watch::channel(Share::Held {
            _place: place,
            until,
        });
        let claim = Self {
            places: Arc::clone(&state.in_flight),
            places_max: state.limits.concurrent_requests_max,
            clock,
        };
        (claim, watching)
    }

    /// Gives the place back and stops the clock.
    pub fn lend(&self) {
        self.clock.send_modify(|share| {
            if let Share::Held { until, .. } = share {
                let left = until.saturating_duration_since(tokio::time::Instant::now());
                *share = Share::Lent { left };
            }
        });
    }

    /// Takes a place again and restarts the clock with the time that was left; 503
    /// `overloaded` if every place has been taken meanwhile.
    pub fn take_back(&self) -> Result<(), ApiError> {
        let Share::Lent { left } = *self.clock.borrow() else {
            return Ok(());
        };
        let place =
            Arc::clone(&self.places)
                .try_acquire_owned()
                .map_err(|_| ApiError::Overloaded {
                    limit: self.places_max,
                })?;
        self.clock.send_replace(Share::Held {
            _place: place,
            until: tokio::time::Instant::now() + left,
        });
        Ok(())
    }

    fn finish(&self) {
        self.clock.send_replace(Share::Done);
    }
}

/// `GET /metrics`.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus metrics", body = String, content_type = "application/openmetrics-text")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}
