//! What clients read one at a time (ours): a batch or its order, the
//! account's balances and ledger. Ids in the path are checked (400 when
//! malformed); another account's record is 404, like an unknown one.

use axum::Json;
use axum::extract::{Path, Query, State};
use mannequin_domain::ids::kind;
use mannequin_domain::request::parse_path_id;
use mannequin_domain::{Limit, RequestError};

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use crate::keys::Scope;
use crate::store::BatchKey;
use crate::views::batches::Batch;
use crate::views::credits::{Balances, LedgerEntry, LedgerPage, PageQuery};
use crate::views::error::Error;

async fn batch(state: &AppState, caller: &Caller, key: BatchKey) -> Result<Json<Batch>, ApiError> {
    caller.require(Scope::Read)?;
    let batch = state
        .store
        .batch_detail(caller.account_id(), &key)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(batch.into()))
}

/// A batch (ours): its status, its models per status and its credits.
/// Needs content.read.
#[utoipa::path(get, path = "/api/external/batches/{id}", tag = "Batches", operation_id = "getBatch",
    params(("id" = String, Path, pattern = "^batch_[A-Za-z0-9_]{1,58}$")),
    responses(
        (status = 200, description = "The batch.", body = Batch),
        (status = 404, description = "No such batch in this account.", body = Error),
    ))]
pub async fn get_batch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Batch>, ApiError> {
    let key = BatchKey::Batch(parse_path_id::<kind::Batch>(&id)?);
    batch(&state, &caller, key).await
}

/// The batch an order placed (ours). Needs content.read.
#[utoipa::path(get, path = "/api/external/orders/{id}", tag = "Batches", operation_id = "getOrder",
    params(("id" = String, Path, pattern = "^order_[A-Za-z0-9_]{1,58}$")),
    responses(
        (status = 200, description = "The order's batch.", body = Batch),
        (status = 404, description = "No such order in this account.", body = Error),
    ))]
pub async fn get_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Batch>, ApiError> {
    let key = BatchKey::Order(parse_path_id::<kind::Order>(&id)?);
    batch(&state, &caller, key).await
}

/// The account's balances (ours). Needs content.read.
#[utoipa::path(get, path = "/api/external/credits", tag = "Credits", operation_id = "getCredits",
    responses((status = 200, description = "Balances.", body = Balances)))]
pub async fn get_credits(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Balances>, ApiError> {
    caller.require(Scope::Read)?;
    let b = state
        .store
        .balances(caller.account_id())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(b.into()))
}

/// A cursor that is the last row's numeric id, as the previous page gave it.
pub(super) fn row_cursor(raw: Option<&str>) -> Result<Option<i64>, RequestError> {
    raw.map(|c| match c.parse::<i64>() {
        Ok(n) if (1..=18).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(RequestError::CursorInvalid),
    })
    .transpose()
}

/// The account's ledger entries (ours), newest first, paged like the models
/// list. Needs content.read.
#[utoipa::path(get, path = "/api/external/credits/ledger", tag = "Credits", operation_id = "getLedger",
    params(PageQuery),
    responses((status = 200, description = "A page of entries.", body = LedgerPage)))]
pub async fn get_ledger(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> Result<Json<LedgerPage>, ApiError> {
    caller.require(Scope::Read)?;
    let limit = Limit::parse(page.limit.as_deref())?.get();
    let before = row_cursor(page.cursor.as_deref())?;
    let mut entries = state
        .store
        .ledger_page(caller.account_id(), before, limit + 1)
        .await?;
    let next_cursor = if entries.len() > limit as usize {
        entries.truncate(limit as usize);
        entries.last().map(|e| e.id.to_string())
    } else {
        None
    };
    let entries: Vec<LedgerEntry> = entries.into_iter().map(LedgerEntry::from).collect();
    Ok(Json(LedgerPage {
        count: entries.len(),
        entries,
        next_cursor,
    }))
}
