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
    /// Four-eyes publishing: this key may not approve this draft (it names no holder, or its
    /// holder stored the draft).
    #[error("{0}")]
    NotApprover(String),
    /// Four-eyes publishing: the draft has no approval that stands.
    #[error("{0}")]
    NeedsApproval(String),
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
    #[error(
        "this tenant already has {queued} payouts waiting to be decided (payout_queue_max); the payout was not made, retry shortly"
    )]
    TenantBusy { queued: usize },
}

impl StoreError {
    /// Whether the same request may well succeed if sent again in a moment: the database is
    /// unreachable or restarting, out of room or connections, busy, or chose this transaction
    /// to abort. The API answers these 503 ("retry"), and other database errors 500. An
    /// Idempotency-Key makes the retry safe even when a COMMIT's outcome was lost with its
    /// connection.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::ShuttingDown | Self::TenantBusy { .. } => true,
            Self::Database(e) => transient_sqlx(e),
            _ => false,
        }
    }

    /// A connection failure, with any password in the URL left out of the message.
    pub(crate) fn connect(url: &str, e: sqlx::Error) -> Self {
        Self::Connect {
            url: redact(url),
            reason: e.to_string(),
        }
    }
}

fn transient_sqlx(e: &sqlx::Error) -> bool {
    use sqlx::Error as E;
    match e {
        E::Io(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed | E::Protocol(_) => true,
        E::Database(db) => {
            let Some(code) = db.code() else {
                return false;
            };
            if db
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some()
            {
                transient_sqlstate(&code)
            } else {
                transient_sqlite_code(&code)
            }
        }
        _ => false,
    }
}

/// SQLite result codes that say "not now" rather than "never". sqlx gives the extended code,
/// whose low byte is the primary one: SQLITE_BUSY 5, SQLITE_LOCKED 6, SQLITE_NOMEM 7,
/// SQLITE_IOERR 10 (a write the disk refused), SQLITE_FULL 13, SQLITE_PROTOCOL 15.
fn transient_sqlite_code(code: &str) -> bool {
    code.parse::<u32>()
        .is_ok_and(|c| matches!(c & 0xff, 5 | 6 | 7 | 10 | 13 | 15))
}

/// PostgreSQL SQLSTATEs that say "not now": 08 connection exception; 53 insufficient
/// resources (disk full, out of memory, too many connections); 57P01–57P03 the server shutting
/// down, crashed, or still starting; 40001, 40P01 serialisation failure, deadlock; 55P03 lock
/// not available; 58030 I/O error.
fn transient_sqlstate(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || matches!(
            code,
            "57P01" | "57P02" | "57P03" | "40001" | "40P01" | "55P03" | "58030"
        )
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
    use super::{redact, transient_sqlite_code, transient_sqlstate};

    #[test]
    fn database_codes_that_say_not_now_are_transient_and_the_rest_are_not() {
        for code in [
            "08006", "08001", "53100", "53300", "57P01", "57P03", "40001", "40P01",
        ] {
            assert!(transient_sqlstate(code), "{code}");
        }
        // Unique and check violations, a syntax error, an undefined table.
        for code in ["23505", "23514", "42601", "42P01"] {
            assert!(!transient_sqlstate(code), "{code}");
        }
        // Busy, locked, I/O error (and its extended write code), disk full.
        for code in ["5", "517", "6", "10", "778", "13"] {
            assert!(transient_sqlite_code(code), "{code}");
        }
        // Constraint (and the extended unique code), corrupt, a plain error, not a number.
        for code in ["19", "2067", "11", "1", "busy"] {
            assert!(!transient_sqlite_code(code), "{code}");
        }
    }

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
