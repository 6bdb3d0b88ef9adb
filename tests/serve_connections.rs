//! `incentive serve`'s limits on connections, set by its flags, on the real binary: headers and
//! bodies that stall are cut off at the times given, connections past the cap wait, and the
//! server still stops cleanly on SIGTERM. (The limits themselves are tested at length on the
//! library's server, `api/tests/slow_clients.rs`.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

#[path = "../store/tests/common/mod.rs"]
mod common;
mod serve;

use common::*;
use incentive_store::tenants::Role;
use serve::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

const TIMEOUT_MS: u64 = 700;

/// How long past its timeout a stalled connection may take to be closed, on a loaded machine.
const SLACK: Duration = Duration::from_secs(4);

/// A connection that has sent `bytes`, and when.
fn stalled(addr: &str, bytes: &[u8]) -> (TcpStream, Instant) {
    let mut socket = TcpStream::connect(addr).unwrap();
    socket.write_all(bytes).unwrap();
    (socket, Instant::now())
}

/// What the server sent before closing the connection, and when it closed; `None` if it was
/// still open after `bound`.
fn until_closed(mut socket: TcpStream, bound: Duration) -> Option<(String, Instant)> {
    let deadline = Instant::now() + bound;
    let mut got = Vec::new();
    let mut buf = [0_u8; 4096];
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        socket
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        match socket.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return None;
            }
            Err(_) => break,
        }
    }
    Some((String::from_utf8_lossy(&got).into_owned(), Instant::now()))
}

#[test]
fn serve_refuses_zero_for_its_connection_limits_naming_the_flag() {
    for flag in [
        "--header-read-timeout-ms",
        "--body-read-timeout-ms",
        "--connections-max",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_incentive"))
            .args(["serve", "--db", "sqlite://unused.db", &format!("{flag}=0")])
            .env_remove("INCENTIVE_DB")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}=0: {stderr}");
        assert!(
            stderr.contains(flag) && stderr.contains("invalid value '0'"),
            "{flag}=0: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_cuts_off_stalled_connections_at_the_times_its_flags_give_and_caps_them() {
    let db = sqlite_db().await;
    let store = store_with_plan(&db, str::to_owned).await;
    enrol(&store, "M1").await;
    let key = store
        .create_key(TENANT, Role::Platform)
        .await
        .unwrap()
        .secret;
    store.close().await;
    let timeout = TIMEOUT_MS.to_string();
    let (mut child, addr) = spawn_serve_with(
        &db,
        &[
            "--header-read-timeout-ms",
            &timeout,
            "--body-read-timeout-ms",
            &timeout,
            "--connections-max",
            "3",
        ],
    );
    let half_headers = b"GET /healthz HTTP/1.1\r\nx-req";
    let half_body = format!(
        "POST /v1/members/M1/readings HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {key}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"readings\": ["
    );
    // The cap: two stalled connections and a third, answered at once, then three stalled.
    let (headers_1, first) = stalled(&addr, half_headers);
    let (headers_2, _) = stalled(&addr, half_headers);
    let asked = Instant::now();
    let (status, _) = http(&addr, "GET", "/healthz", &[], "");
    assert_eq!(status, 200);
    assert!(asked.elapsed() < Duration::from_millis(TIMEOUT_MS / 2));
    let (body, body_sent) = stalled(&addr, half_body.as_bytes());
    let asked = Instant::now();
    let (status, _) = http(&addr, "GET", "/healthz", &[], "");
    assert_eq!(status, 200);
    let waited = asked.elapsed();
    assert!(
        first.elapsed() >= Duration::from_millis(TIMEOUT_MS) * 9 / 10,
        "past --connections-max 3 a connection was answered in {waited:?}, before a stalled one was cut off"
    );

    let bound = Duration::from_millis(TIMEOUT_MS) + SLACK;
    for socket in [headers_1, headers_2] {
        let (got, _) = until_closed(socket, bound).expect("half headers: closed");
        assert_eq!(got, "", "closed unanswered");
    }
    let (got, closed) = until_closed(body, bound).expect("half a body: closed");
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(got.contains(&format!("limit of {TIMEOUT_MS} ms")), "{got}");
    assert!(closed - body_sent >= Duration::from_millis(TIMEOUT_MS) * 9 / 10);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve did not stop within 10 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
    db.cleanup().await;
}
