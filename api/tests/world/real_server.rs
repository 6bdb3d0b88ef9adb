//! A real server's clients over TCP, and a slow tenant's policy, for the tests of one tenant
//! against another.

use crate::common::*;
use incentive_engine::policy::{PolicySource, SourceFile};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const SLOW: &str = "slow-tenant";

/// A legal policy that, for members of region `slow-lane`, counts until the sandbox stops it.
/// (Probe members have no such region, so `check` passes it.)
pub fn slow_policy() -> PolicySource {
    let dir = policies_dir().join(PLAN);
    let manifest = std::fs::read_to_string(dir.join("policy.toml")).unwrap();
    PolicySource {
        name: PLAN.into(),
        files: vec![
            SourceFile::new("policy.toml", manifest),
            SourceFile::new(
                "rules.rhai",
                "fn decide(record, member, history) {\n    let x = 0;\n    if member.region == \"slow-lane\" {\n        for i in 0..100000000 { x += 1; }\n    }\n    #{ reward: 0, reasons: [`counted ${x}`] }\n}\n",
            ),
        ],
    }
}

pub async fn post(
    addr: SocketAddr,
    key: &str,
    path: &str,
    idempotency: &str,
    body: &str,
) -> String {
    let request = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {key}\r\nidempotency-key: {idempotency}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    socket.read_to_string(&mut response).await.unwrap();
    response
}

pub async fn healthz(addr: SocketAddr) -> String {
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket
        .write_all(
            format!("GET /healthz HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let mut response = String::new();
    socket.read_to_string(&mut response).await.unwrap();
    response
}
