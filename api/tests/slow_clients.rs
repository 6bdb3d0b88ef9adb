//! Clients that open connections and send slowly or never, against a real server on port 0
//! over real TCP: a request's headers and body are read within their limits, connections are
//! capped, and the probes and other tenants are answered throughout. Limits are short (a
//! second or two) so each test takes a few seconds; every wait is bounded.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

#[path = "../../store/tests/common/mod.rs"]
mod common;
mod world;

use common::*;
use incentive_api::Limits;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use world::*;

/// The header and body read timeouts of these tests.
const READ_TIMEOUT_MS: u64 = 2_000;

/// How long past its timeout a stalled connection may take to be closed, on a loaded machine.
const CLOSE_SLACK: Duration = Duration::from_secs(4);

/// How long a probe may take to be answered while the server is flooded: well under the
/// timeouts, so an answer within it cannot have waited for a stalled connection to be cut.
const PROMPT: Duration = Duration::from_millis(1_000);

fn limits() -> Limits {
    Limits {
        header_read_timeout_ms: READ_TIMEOUT_MS,
        body_read_timeout_ms: READ_TIMEOUT_MS,
        ..Limits::default()
    }
}

struct Server {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(w: &World, limits: Limits) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let router = incentive_api::router(w.store.clone(), limits.clone());
        let served = tokio::spawn(async move {
            incentive_api::serve_with(listener, router, &limits, async move {
                let _ = stopped.await;
            })
            .await
        });
        Self { addr, stop, served }
    }

    /// Stops it and waits, at most `bound`, for `serve` to return.
    async fn stop_within(self, bound: Duration) {
        self.stop.send(()).unwrap();
        tokio::time::timeout(bound, self.served)
            .await
            .expect("serve returns after shutdown")
            .unwrap()
            .unwrap();
    }
}

/// A connection that has sent `bytes` and then nothing, and when it did.
async fn stalled(addr: SocketAddr, bytes: &[u8]) -> (TcpStream, Instant) {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    socket.write_all(bytes).await.unwrap();
    (socket, Instant::now())
}

/// Reads until the server closes the connection, for at most `bound`: what it sent and when it
/// closed, or `None` if it was still open.
async fn until_closed(mut socket: TcpStream, bound: Duration) -> Option<(String, Instant)> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(bound, async {
        let mut buf = [0_u8; 4096];
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|()| (String::from_utf8_lossy(&got).into_owned(), Instant::now()))
}

/// One request on a fresh connection, answered within `bound`: the status and the body.
async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: &str,
    bound: Duration,
) -> (u16, String) {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    if let Some(key) = key {
        head.push_str(&format!("authorization: Bearer {key}\r\n"));
    }
    let exchange = async {
        let mut socket = TcpStream::connect(addr).await.unwrap();
        socket
            .write_all(format!("{head}\r\n{body}").as_bytes())
            .await
            .unwrap();
        let mut response = String::new();
        socket.read_to_string(&mut response).await.unwrap();
        response
    };
    let response = tokio::time::timeout(bound, exchange)
        .await
        .unwrap_or_else(|_| panic!("{method} {path} was not answered within {bound:?}"));
    let status = response
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() - 1) * p / 100]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_stall_are_cut_off_and_never_keep_the_probes_or_another_tenant_waiting() {
    let db = sqlite_db().await;
    let w = world(&db).await;
    // Fewer places for requests than bodies stalled: a stalled body that held a place would
    // leave none for anyone.
    let server = Server::start(
        &w,
        Limits {
            concurrent_requests_max: 8,
            ..limits()
        },
    )
    .await;
    let addr = server.addr;

    let half_headers = format!(
        "GET /v1/ledger/verify HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {}\r\nx-requ",
        w.keys["auditor"]
    );
    let half_body = format!(
        "POST /v1/members/M1/readings HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{{\"readings\": [{}",
        w.keys["platform"],
        " ".repeat(400)
    );
    let mut stalls = Vec::new();
    for i in 0..300 {
        let (kind, bytes) = match i % 3 {
            0 => ("nothing", &b""[..]),
            1 => ("half the headers", half_headers.as_bytes()),
            _ => ("half a body", half_body.as_bytes()),
        };
        let (socket, sent) = stalled(addr, bytes).await;
        let bound = Duration::from_millis(READ_TIMEOUT_MS) + CLOSE_SLACK;
        stalls.push((
            kind,
            sent,
            tokio::spawn(async move { until_closed(socket, bound).await }),
        ));
    }
    let opening = stalls[stalls.len() - 1].1 - stalls[0].1;

    // While every stalled connection is still open (the first was opened just before
    // `flooded`; none is cut before its timeout), the probes and another tenant's calls are
    // answered, and promptly.
    let mut probes = 0;
    let probing_until = stalls[0].1 + Duration::from_millis(READ_TIMEOUT_MS * 3 / 4);
    while Instant::now() < probing_until {
        for path in ["/healthz", "/readyz", "/metrics"] {
            let (status, body) = request(addr, "GET", path, None, "", PROMPT).await;
            assert_eq!(status, 200, "{path} during the flood: {body}");
        }
        let (status, body) = request(
            addr,
            "GET",
            "/v1/ledger/verify",
            Some(&w.keys["other-admin"]),
            "",
            PROMPT,
        )
        .await;
        assert_eq!(status, 200, "another tenant's GET during the flood: {body}");
        let (status, body) = request(
            addr,
            "PUT",
            &format!("/v1/members/O{probes}"),
            Some(&w.keys["other-platform"]),
            "{}",
            PROMPT,
        )
        .await;
        assert_eq!(status, 200, "another tenant's PUT during the flood: {body}");
        probes += 1;
    }
    assert!(
        stalls.iter().all(|(_, _, closed)| !closed.is_finished()),
        "every stalled connection was open while the probes ran"
    );
    assert!(probes >= 2, "the probes ran more than once ({probes})");

    // Each stalled connection is then closed by the server, no sooner than its timeout: a
    // stalled body with a 408 in the API's format, the others without an answer.
    let mut after = Vec::new();
    let timeout = Duration::from_millis(READ_TIMEOUT_MS);
    for (kind, sent, closed) in stalls {
        let (got, at) = closed.await.unwrap().unwrap_or_else(|| {
            panic!("a connection sent {kind} was still open {CLOSE_SLACK:?} after its timeout")
        });
        let open_for = at - sent;
        assert!(
            open_for >= timeout * 9 / 10,
            "a connection sent {kind} was closed after {open_for:?}, before its timeout"
        );
        if kind == "half a body" {
            assert!(got.starts_with("HTTP/1.1 408"), "{got}");
            assert!(got.contains("\"code\":\"body_timed_out\""), "{got}");
            assert!(got.contains(&format!("{READ_TIMEOUT_MS} ms")), "{got}");
        } else {
            assert_eq!(got, "", "a connection sent {kind} is closed unanswered");
        }
        after.push(open_for);
    }
    after.sort();
    eprintln!(
        "300 stalled connections opened in {opening:?}; with {READ_TIMEOUT_MS} ms timeouts each was closed after {:?} (first), {:?} (median), {:?} (last); {probes} rounds of probes answered meanwhile",
        after[0],
        percentile(&after, 50),
        after[after.len() - 1],
    );

    let (status, _) = request(addr, "GET", "/healthz", None, "", PROMPT).await;
    assert_eq!(status, 200);
    server.stop_within(Duration::from_secs(10)).await;
    w.store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_connections_max_a_new_connection_waits_until_a_stalled_one_is_cut_off() {
    let db = sqlite_db().await;
    let w = world(&db).await;
    let connections_max = 16;
    let server = Server::start(
        &w,
        Limits {
            connections_max,
            ..limits()
        },
    )
    .await;
    let addr = server.addr;
    let half_headers = format!("GET /healthz HTTP/1.1\r\nhost: {addr}\r\nx-requ");

    // One place short of the cap: a probe is answered at once.
    let mut stalls = Vec::new();
    for _ in 1..connections_max {
        stalls.push(stalled(addr, half_headers.as_bytes()).await);
    }
    let first_opened = stalls[0].1;
    let asked = Instant::now();
    let (status, _) = request(addr, "GET", "/healthz", None, "", PROMPT).await;
    assert_eq!(status, 200);
    assert!(asked.elapsed() < PROMPT);

    // At the cap (the probe's connection is closed; one more stalled one takes its place), the
    // next connection is not served until a stalled one is cut off at its header timeout.
    stalls.push(stalled(addr, half_headers.as_bytes()).await);
    let (status, _) = request(
        addr,
        "GET",
        "/healthz",
        None,
        "",
        Duration::from_millis(READ_TIMEOUT_MS) + CLOSE_SLACK,
    )
    .await;
    let answered = first_opened.elapsed();
    assert_eq!(status, 200);
    assert!(
        answered >= Duration::from_millis(READ_TIMEOUT_MS) * 9 / 10,
        "a connection past the cap of {connections_max} was answered {answered:?} after the first stalled one opened, before any was cut off"
    );
    eprintln!(
        "at the cap of {connections_max}, a probe was answered {answered:?} after the first stalled connection opened ({READ_TIMEOUT_MS} ms header timeout)"
    );
    for (socket, _) in stalls {
        assert!(
            until_closed(socket, Duration::from_millis(READ_TIMEOUT_MS) + CLOSE_SLACK)
                .await
                .is_some(),
            "every stalled connection is cut off"
        );
    }
    server.stop_within(Duration::from_secs(10)).await;
    w.store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_a_request_whose_body_is_arriving_and_cuts_off_the_idle_connections() {
    let db = sqlite_db().await;
    let w = world(&db).await;
    let server = Server::start(&w, limits()).await;
    let addr = server.addr;
    let body = readings_body(3).to_string();
    let (split_at, rest) = (body.len() / 2, body.len());
    let head = format!(
        "POST /v1/members/M1/readings HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: {rest}\r\n\r\n",
        w.keys["platform"],
    );
    let (mut in_flight, _) = stalled(addr, format!("{head}{}", &body[..split_at]).as_bytes()).await;
    let (idle, _) = stalled(addr, b"").await;
    let (half_headers, _) = stalled(addr, b"GET /healthz HTTP/1.1\r\nx-re").await;
    // The request is in its handler (its first half read) before the server is told to stop:
    // a request on another connection has been answered since it was sent.
    let (status, _) = request(addr, "GET", "/healthz", None, "", PROMPT).await;
    assert_eq!(status, 200);

    let stopping = Instant::now();
    let Server { stop, served, .. } = server;
    stop.send(()).unwrap();
    // The connections without a request are closed well before their header timeout.
    for socket in [idle, half_headers] {
        let (got, _) = until_closed(socket, PROMPT)
            .await
            .expect("a connection without a request is closed at shutdown");
        assert_eq!(got, "");
    }
    assert!(
        !served.is_finished(),
        "serve waits for the request in flight"
    );
    in_flight
        .write_all(&body.as_bytes()[split_at..])
        .await
        .unwrap();
    let (answer, _) = until_closed(in_flight, Duration::from_secs(10))
        .await
        .expect("the request in flight is answered and its connection closed");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    tokio::time::timeout(Duration::from_secs(10), served)
        .await
        .expect("serve returns once the request in flight is answered")
        .unwrap()
        .unwrap();
    eprintln!("shut down in {:?}", stopping.elapsed());
    w.store.close().await;
}
