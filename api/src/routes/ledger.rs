//! The auditor's view of the ledger, always the caller's own tenant.

use crate::AppState;
use crate::auth::{Allowed, AuditLedger};
use crate::body::ApiQuery;
use crate::disclosure::Shown;
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use incentive_store::{Balance, StoredEntry, VerifyReport};
use serde::{Deserialize, Serialize};

/// `GET /v1/ledger/verify`: recomputes the caller's whole chain and balances.
#[utoipa::path(get, path = "/v1/ledger/verify", tag = "ledger", security(("api_key" = [])), responses((status = 200, description = "The whole chain and every balance, recomputed"), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody), (status = 404, description = "Not found in the caller's tenant", body = crate::error::ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    caller: Allowed<AuditLedger>,
) -> Result<Shown<AuditLedger, Json<VerifyReport>>, ApiError> {
    let report = state.store.verify(Some(caller.tenant()), &[]).await?;
    Ok(caller.show(Json(report)))
}

const PAGE_DEFAULT: i64 = 100;

// Without `parameter_in`, utoipa declares each field `in: path, required: true`: the handler
// reads them from the query string, and each may be left out.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EntriesQuery {
    /// Entries after this sequence number (0, the default, is the start of the chain).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// Entries in the page: 1 to 1,000; 100 by default.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// A page of the chain.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EntriesPage {
    /// Each entry with its postings, the hash before it and its own: enough to recompute the
    /// chain (`sha256` of the canonical JSON, layout `incentive-ledger-entry-v1`).
    #[schema(value_type = Vec<Object>)]
    pub entries: Vec<StoredEntry>,
    /// Ask with `after` set to this for the next page; absent on the last.
    pub next_after: Option<i64>,
}

/// The page size asked for; the store refuses one outside 1 to `LEDGER_PAGE_ROWS_MAX`.
fn limit(asked: Option<i64>) -> i64 {
    asked.unwrap_or(PAGE_DEFAULT)
}

/// `GET /v1/ledger/entries`: the caller's ledger, a page at a time, in chain order.
#[utoipa::path(get, path = "/v1/ledger/entries", tag = "ledger", params(EntriesQuery), security(("api_key" = [])), responses((status = 200, description = "A page of entries", body = EntriesPage), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody)))]
pub async fn entries(
    State(state): State<AppState>,
    caller: Allowed<AuditLedger>,
    ApiQuery(q): ApiQuery<EntriesQuery>,
) -> Result<Shown<AuditLedger, Json<EntriesPage>>, ApiError> {
    let limit = limit(q.limit);
    let after = q.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::BadRequest(format!(
            "after: must be 0 or more, not {after}"
        )));
    }
    let entries = state
        .store
        .ledger_entries(caller.tenant(), after, limit)
        .await?;
    let full = i64::try_from(entries.len()).is_ok_and(|n| n == limit);
    let next_after = entries.last().filter(|_| full).map(|e| e.entry.seq);
    Ok(caller.show(Json(EntriesPage {
        entries,
        next_after,
    })))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BalancesQuery {
    /// Only accounts whose names start with this, e.g. `pool:` or `member:M102:`.
    pub prefix: Option<String>,
    /// Accounts after this one (for the next page).
    pub after: Option<String>,
    /// Balances in the page: 1 to 1,000; 100 by default.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BalancesPage {
    #[schema(value_type = Vec<Object>)]
    pub balances: Vec<Balance>,
    /// Ask with `after` set to this for the next page; absent on the last.
    pub next_after: Option<String>,
}

/// `GET /v1/ledger/balances`: account balances (pools, budgets, what each member is owed), in
/// account order.
#[utoipa::path(get, path = "/v1/ledger/balances", tag = "ledger", params(BalancesQuery), security(("api_key" = [])), responses((status = 200, description = "A page of balances", body = BalancesPage), (status = 400, description = "Bad request", body = crate::error::ErrorBody), (status = 401, description = "No live key", body = crate::error::ErrorBody), (status = 403, description = "Not this role", body = crate::error::ErrorBody)))]
pub async fn balances(
    State(state): State<AppState>,
    caller: Allowed<AuditLedger>,
    ApiQuery(q): ApiQuery<BalancesQuery>,
) -> Result<Shown<AuditLedger, Json<BalancesPage>>, ApiError> {
    let limit = limit(q.limit);
    let balances = state
        .store
        .ledger_balances(
            caller.tenant(),
            q.prefix.as_deref().unwrap_or(""),
            q.after.as_deref().unwrap_or(""),
            limit,
        )
        .await?;
    let full = i64::try_from(balances.len()).is_ok_and(|n| n == limit);
    let next_after = balances.last().filter(|_| full).map(|b| b.account.clone());
    Ok(caller.show(Json(BalancesPage {
        balances,
        next_after,
    })))
}

crate::discloses! {
    // Balances by account, members' accounts included.
    VerifyReport => [LedgerPostings];
    EntriesPage => [LedgerPostings];
    BalancesPage => [LedgerPostings];
}
