//! What every request passes through: a request id, the limits on concurrent requests and
//! on time, and the Prometheus metrics (`/metrics`): requests and their latency by route and
//! status, and payouts by outcome. Neither the logs nor the metrics carry readings, member
//! attributes or ids: routes are logged as their templates (`/v1/members/{member_id}`).

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

/// The service's metrics, in a registry of its own (no global state, so two services in one
/// process — as in tests — keep separate counts).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RouteLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    pub payouts: Family<PayoutLabels, Counter>,
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
        Self {
            registry,
            requests,
            latency,
            payouts,
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

    let limits = &state.limits;
    let mut response = match state.in_flight.clone().try_acquire_owned() {
        Err(_) => ApiError::Overloaded {
            limit: limits.concurrent_requests_max,
        }
        .into_response(),
        Ok(_permit) => {
            let timeout = Duration::from_millis(limits.request_timeout_ms);
            match tokio::time::timeout(timeout, next.run(req).instrument(span.clone())).await {
                Ok(r) => r,
                Err(_) => ApiError::TimedOut {
                    limit_ms: limits.request_timeout_ms,
                }
                .into_response(),
            }
        }
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
