//! What can go wrong in the store, in the words of an insurer's operator.

use incentive_engine::policy::{Diagnostics, EvaluationError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL `{url}` is not usable: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("cannot reach the database at `{url}`: {reason}")]
    Connect { url: String, reason: String },
    #[error("cannot bring the database schema up to date: {0}")]
    Migration(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),

    #[error("tenant `{0}` does not exist")]
    UnknownTenant(String),
    #[error("tenant `{0}` already exists")]
    TenantExists(String),
    #[error("tenant name `{0}` is not allowed: use 1 to 64 of a-z, 0-9, `-` and `_`")]
    BadTenantName(String),

    #[error("member `{member}` is not enrolled with `{tenant}`")]
    UnknownMember { tenant: String, member: String },
    #[error("{field}: {reason}")]
    BadInput { field: String, reason: String },

    #[error("policy `{policy}` has {} error(s); the first: {}", .diagnostics.errors().count(), first_error(.diagnostics))]
    PolicyInvalid {
        policy: String,
        diagnostics: Diagnostics,
    },
    #[error("policy `{policy}` version {version} does not exist")]
    UnknownPolicyVersion { policy: String, version: String },
    #[error("policy `{policy}` version {version} already exists and is {status}")]
    PolicyVersionExists {
        policy: String,
        version: String,
        status: String,
    },
    #[error(
        "policy `{policy}` version {version} is {status}; only a {expected} version can be {action}"
    )]
    PolicyWrongStatus {
        policy: String,
        version: String,
        status: String,
        expected: &'static str,
        action: &'static str,
    },
    #[error(
        "policy `{policy}` version {version} would be in effect {from} to {to}, overlapping published version {other}"
    )]
    PolicyOverlap {
        policy: String,
        version: String,
        other: String,
        from: String,
        to: String,
    },
    #[error("no published version of policy `{policy}` is in effect in {period}")]
    NoVersionInEffect { policy: String, period: String },
    #[error(transparent)]
    Evaluation(#[from] EvaluationError),

    #[error("decision `{0}` does not exist")]
    UnknownDecision(String),
    #[error("simulation `{0}` does not exist")]
    UnknownSimulation(String),
    #[error("decision `{decision}` was already reversed, by entry {seq}")]
    AlreadyReversed { decision: String, seq: i64 },
    #[error("the store is shutting down; the payout was not made")]
    ShuttingDown,
}

impl StoreError {
    /// A connection failure, with any password in the URL left out of the message.
    pub(crate) fn connect(url: &str, e: sqlx::Error) -> Self {
        Self::Connect {
            url: redact(url),
            reason: e.to_string(),
        }
    }
}

fn first_error(d: &Diagnostics) -> String {
    d.errors()
        .next()
        .map(|e| e.to_string())
        .unwrap_or_else(|| "none".into())
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn a_password_in_a_database_url_never_reaches_a_message() {
        assert_eq!(
            redact("postgres://app:s3cret@db.internal:5432/incentive"),
            "postgres://app:***@db.internal:5432/incentive"
        );
        assert_eq!(redact("postgres://app@db/x"), "postgres://app@db/x");
        assert_eq!(redact("sqlite://demo.db"), "sqlite://demo.db");
    }
}
