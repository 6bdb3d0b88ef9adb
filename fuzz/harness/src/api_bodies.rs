//! The API's request bodies through the real router, in process: a store on a SQLite file with
//! tenant `fuzz`, an admin key, `tangdaifu-smbg` published and member M1 enrolled. The first
//! byte of an input picks a route, the rest is its body. Any status but a 5xx is an answer; a
//! 5xx means the server did not handle what a client sent.

use crate::{MANIFEST, SCRIPT};
use axum::Router;
use axum::body::Body;
use axum::http::Request;
use incentive_api::Limits;
use incentive_engine::MemberId;
use incentive_engine::policy::{MemberProfile, PolicySource, SourceFile};
use incentive_store::tenants::Role;
use incentive_store::{Store, StoreOptions};
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use tower::ServiceExt;

const TENANT: &str = "fuzz";

/// The routes that take a body: method, path, content type, whether an Idempotency-Key is sent.
const ROUTES: &[(&str, &str, &str, bool)] = &[
    ("POST", "/v1/payouts", "application/json", true),
    ("PUT", "/v1/members/M1", "application/json", false),
    ("POST", "/v1/members/M1/readings", "application/json", false),
    ("POST", "/v1/members/M1/labs", "application/json", false),
    ("POST", "/v1/readings", "text/csv", false),
    ("POST", "/v1/readings", "application/x-ndjson", false),
    ("POST", "/v1/evaluations", "application/json", false),
    ("POST", "/v1/simulations", "application/json", false),
    ("POST", "/v1/policies/check", "application/json", false),
    ("POST", "/v1/policies/test", "application/json", false),
    ("POST", "/v1/policies", "application/json", false),
    (
        "POST",
        "/v1/decisions/dec_0/reversal",
        "application/json",
        false,
    ),
];

/// A router over a store of its own, built once and sent many inputs.
pub struct Harness {
    runtime: tokio::runtime::Runtime,
    app: Router,
    bearer: String,
    calls: AtomicU64,
}

impl fmt::Debug for Harness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Harness").finish_non_exhaustive()
    }
}

impl Harness {
    /// The store's SQLite file goes in `dir`, which the caller keeps and removes.
    pub fn new(dir: &Path) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let url = format!("sqlite://{}", dir.join("store.db").display());
        let (app, bearer) = runtime.block_on(async {
            let store = Store::open(&url, StoreOptions::default())
                .await
                .expect("the store opens");
            store.create_tenant(TENANT).await.expect("a tenant");
            let source = PolicySource {
                name: "tangdaifu-smbg".into(),
                files: vec![
                    SourceFile::new("policy.toml", MANIFEST),
                    SourceFile::new("rules.rhai", SCRIPT),
                ],
            };
            let v = store.put_policy(TENANT, &source).await.expect("the policy");
            store
                .publish_policy(TENANT, &v.policy_id, &v.version)
                .await
                .expect("published");
            let m1 = MemberId::parse("M1").expect("a member id");
            store
                .upsert_member(TENANT, &MemberProfile::new(m1))
                .await
                .expect("M1 enrolled");
            let key = store.create_key(TENANT, Role::Admin).await.expect("a key");
            let limits = Limits {
                // Bodies are what is fuzzed, not the simulator's throughput: an accepted
                // simulation is kept small so it does not take the machine.
                simulation_member_periods_max: 100,
                ..Limits::default()
            };
            (
                incentive_api::router(store, limits),
                format!("Bearer {}", key.secret),
            )
        });
        Self {
            runtime,
            app,
            bearer,
            calls: AtomicU64::new(0),
        }
    }

    /// Sends one input; panics if the server answers it with a 5xx.
    pub fn run(&self, data: &[u8]) {
        let Some((&selector, body)) = data.split_first() else {
            return;
        };
        let Some(&(method, uri, content_type, keyed)) =
            ROUTES.get(usize::from(selector) % ROUTES.len())
        else {
            return;
        };
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", &self.bearer)
            .header("content-type", content_type);
        if keyed {
            let n = self.calls.fetch_add(1, Ordering::Relaxed);
            req = req.header("idempotency-key", format!("fuzz-{n}"));
        }
        let req = req.body(Body::from(body.to_vec())).expect("a request");
        let (status, text) = self.runtime.block_on(async {
            let res = self.app.clone().oneshot(req).await.expect("infallible");
            let status = res.status();
            let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .unwrap_or_default();
            (status, String::from_utf8_lossy(&bytes).into_owned())
        });
        if std::env::var_os("INCENTIVE_FUZZ_VERBOSE").is_some() {
            eprintln!("{method} {uri} ({content_type}): {status} {text}");
        }
        assert!(
            !status.is_server_error(),
            "{method} {uri} ({content_type}) answered {status}: {text}"
        );
    }
}
