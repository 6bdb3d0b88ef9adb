//! Who is calling and whether they may: a bearer API key, looked up by its hash, gives a
//! tenant and a role, and each route names the access it needs as a type, so the check runs
//! before the body is read (a role outside the route gets 403 whatever it sent). A tenant's
//! objects are found only within that tenant, so another's are 404, never a hint that they
//! exist.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use incentive_store::tenants::{Caller, Role};
use std::marker::PhantomData;

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
    let secret = header
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(ApiError::Unauthenticated)?;
    state
        .store
        .authenticate(secret)
        .await?
        .ok_or(ApiError::Unauthenticated)
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
    ($($(#[$doc:meta])* $name:ident: [$($role:ident),*] => $action:literal;)*) => {$(
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name;
        impl Access for $name {
            const ROLES: &'static [Role] = &[$(Role::$role),*];
            const ACTION: &'static str = $action;
        }
    )*};
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
}

access! {
    /// Write, check and publish policies.
    AuthorPolicies: [Author, Admin] => "write or publish policies";
    /// Read policies (an actuary prices them, an auditor checks them).
    ReadPolicies: [Author, Actuary, Auditor, Admin] => "read policies";
    /// Evaluate a member-period without posting anything.
    DryRun: [Platform, Actuary, Author, Admin] => "evaluate without paying";
    /// Reverse a decision's postings.
    ReverseDecisions: [Auditor, Admin] => "reverse decisions";
    /// Erase a member's readings on the member's request.
    EraseMemberData: [Platform, Admin] => "erase a member's readings";
}
