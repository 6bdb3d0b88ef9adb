//! Who is calling and whether they may: a bearer API key, looked up by its hash, gives a
//! tenant and a role, and each route names the access it needs as a type, so the check runs
//! before the body is read (a role outside the route gets 403 whatever it sent). A tenant's
//! objects are found only within that tenant, so another's are 404, never a hint that they
//! exist.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use incentive_store::ledger::sha256_hex;
use incentive_store::tenants::{Caller, Role};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// An access a route needs: the roles that have it, and the words for a refusal.
pub trait Access {
    const ROLES: &'static [Role];
    /// Completes "this key's role (…) may not …".
    const ACTION: &'static str;
}

/// The authenticated caller of a request, allowed `A`.
#[derive(Debug)]
pub struct Allowed<A>(pub Caller, PhantomData<A>);

impl<A> Allowed<A> {
    pub fn tenant(&self) -> &str {
        &self.0.tenant
    }
}

async fn caller(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::Unauthenticated)?;
    // The scheme's name is case-insensitive (RFC 9110 §11.1): `bearer ik_…` is the same key.
    let secret = header
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, secret)| secret.trim())
        .filter(|s| !s.is_empty())
        .ok_or(ApiError::Unauthenticated)?;
    if let Some(caller) = state.key_cache.get(secret) {
        return Ok(caller);
    }
    let caller = state
        .store
        .authenticate(secret)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    state.key_cache.put(secret, &caller);
    Ok(caller)
}

/// API keys looked up lately, by the hash of the secret (the secret itself is never kept), so
/// a busy client's every request does not ask the database who it is. Only live keys are kept;
/// an unknown key is looked up each time. The price: a key revoked in the database keeps
/// working in a running process for up to the cache's time to live.
#[derive(Debug)]
pub struct KeyCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Caller, Instant)>>,
}

/// Keys the cache holds at most; past it, it starts again empty.
const KEY_CACHE_ENTRIES_MAX: usize = 10_000;

impl KeyCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, secret: &str) -> Option<Caller> {
        if self.ttl.is_zero() {
            return None;
        }
        let hash = sha256_hex(secret.as_bytes());
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(&hash)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(caller, _)| caller.clone())
    }

    fn put(&self, secret: &str, caller: &Caller) {
        if self.ttl.is_zero() {
            return;
        }
        let hash = sha256_hex(secret.as_bytes());
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= KEY_CACHE_ENTRIES_MAX {
            entries.clear();
        }
        entries.insert(hash, (caller.clone(), Instant::now()));
    }
}

impl<A: Access + Send + Sync> FromRequestParts<AppState> for Allowed<A> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = caller(parts, state).await?;
        if A::ROLES.contains(&caller.role) {
            Ok(Self(caller, PhantomData))
        } else {
            Err(ApiError::Forbidden {
                role: caller.role.as_str(),
                action: A::ACTION,
            })
        }
    }
}

macro_rules! access {
    ($($(#[$doc:meta])* $name:ident: [$($role:ident),*] => $action:literal;)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug)]
            pub struct $name;
            impl Access for $name {
                const ROLES: &'static [Role] = &[$(Role::$role),*];
                const ACTION: &'static str = $action;
            }
        )*
        /// Every access by name, with its roles: what `GET /v1/caller` tells a key it may do,
        /// so a client offers only that.
        pub const ACCESSES: &[(&str, &[Role])] = &[$((stringify!($name), $name::ROLES)),*];
    };
}

access! {
    /// Enrol members and send their readings.
    SendMemberData: [Platform, Admin] => "enrol members or send readings";
    /// Ask for payouts.
    RequestPayouts: [Platform, Admin] => "ask for payouts";
    /// Read decisions and their explanations.
    ReadDecisions: [Platform, Auditor, Admin] => "read decisions";
    /// Verify, replay and export the ledger.
    AuditLedger: [Auditor, Admin] => "verify the ledger";
    /// Write, check and publish policies.
    AuthorPolicies: [Author, Admin] => "write or publish policies";
    /// Read policies (an actuary prices them, an auditor checks them).
    ReadPolicies: [Author, Actuary, Auditor, Admin] => "read policies";
    /// Evaluate a real member's period without posting anything: reads the member's stored
    /// readings, labs and attributes, so only the roles that may see them.
    DryRunOnMember: [Platform, Admin] => "evaluate a member's stored data";
    /// Try a policy on a record the caller supplies (no member's stored data is read).
    TryPolicies: [Platform, Author, Actuary, Admin] => "try policies";
    /// Reverse a decision's postings.
    ReverseDecisions: [Auditor, Admin] => "reverse decisions";
    /// Erase a member's readings on the member's request.
    EraseMemberData: [Platform, Admin] => "erase a member's readings";
    /// Run simulations of stored policies (an author prices a draft against the version in
    /// effect) and read their results: figures over synthetic members.
    RunSimulations: [Author, Actuary, Admin] => "run simulations";
    /// Run a stored version over the tenant's real history, for totals only (the workbench's
    /// impact of a draft on the tenant's own members).
    BacktestHistory: [Author, Actuary, Admin] => "run a policy over the tenant's history";
    /// Approve another holder's draft for publication (four eyes).
    ApprovePolicies: [Author, Admin] => "approve policies";
    /// Read and change the tenant's settings.
    ManageSettings: [Admin] => "read or change the tenant's settings";
    /// Say who is calling: the key's tenant, role and holder, and what it may do.
    IdentifyCaller: [Author, Actuary, Platform, Auditor, Admin] => "say who is calling";
}
