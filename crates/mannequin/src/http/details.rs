//! What clients read one at a time (ours): a model, a batch or its order, the
//! account's balances and ledger. Ids in the path are checked (400 when
//! malformed); another account's record is 404, like an unknown one.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use mannequin_domain::ids::kind;
use mannequin_domain::request::parse_path_id;
use mannequin_domain::{Credits, Limit, RequestError, time};
use serde::Serialize;
use serde_json::{Map, Value};

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::models::ModelItem;
use crate::blob::BlobStore;
use crate::keys::Scope;
use crate::store::{BatchDetail, BatchKey, LedgerEntry, ModelDetail};
use axum::response::{IntoResponse, Response};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelDetailBody<'a> {
    #[serde(flatten)]
    item: ModelItem<'a>,
    order_id: &'a str,
    preferences: &'a str,
    /// The attributes the idea decided (gender, age, build, …).
    idea: Map<String, Value>,
    attempts: u32,
    started_at: Option<String>,
    finished_at: Option<String>,
}

/// `snake_case` to `camelCase`.
fn camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for ch in key.chars() {
        if ch == '_' {
            upper = true;
        } else if upper {
            out.extend(ch.to_uppercase());
            upper = false;
        } else {
            out.push(ch);
        }
    }
    out
}

/// The idea's attributes with camelCase names; the renderer's palette and the
/// seed (a field of the model) are left out.
fn attributes(idea: &mannequin_domain::Idea) -> Map<String, Value> {
    match serde_json::to_value(idea) {
        Ok(Value::Object(map)) => map
            .into_iter()
            .filter(|(k, v)| k != "palette" && k != "seed" && !v.is_null())
            .map(|(k, v)| (camel(&k), v))
            .collect(),
        _ => Map::new(),
    }
}

/// `GET /api/external/models/{id}`.
pub async fn get_model(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Read)?;
    let id = parse_path_id::<kind::Model>(&id)?;
    let d = state
        .store
        .model_detail(caller.account_id(), &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(ModelDetailBody::new(state.blobs.as_ref(), &d)).into_response())
}

impl<'a> ModelDetailBody<'a> {
    /// A model as `GET /models/{id}` and its webhooks show it.
    pub(crate) fn new(blobs: &'a dyn BlobStore, d: &'a ModelDetail) -> ModelDetailBody<'a> {
        ModelDetailBody {
            order_id: d.order_id.as_str(),
            preferences: &d.preferences,
            idea: attributes(&d.idea),
            attempts: d.attempts,
            started_at: d.started_at.map(time::format_millis),
            finished_at: d.finished_at.map(time::format_millis),
            item: ModelItem::new(blobs, d.row.as_ref()),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BatchBody {
    id: String,
    order_id: String,
    reservation_id: String,
    preferences: String,
    count: u32,
    /// Models per status, every status present.
    statuses: HashMap<&'static str, u64>,
    credits_reserved: Credits,
    credits_consumed: Credits,
    credits_refunded: Credits,
    created_at: String,
    finished_at: Option<String>,
    correlation_id: String,
}

impl From<BatchDetail> for BatchBody {
    fn from(b: BatchDetail) -> BatchBody {
        BatchBody {
            id: b.id.as_str().to_string(),
            order_id: b.order_id.as_str().to_string(),
            reservation_id: b.reservation_id.as_str().to_string(),
            preferences: b.preferences,
            count: b.count,
            statuses: b.statuses.into_iter().collect(),
            credits_reserved: b.credits_reserved,
            credits_consumed: b.credits_consumed,
            credits_refunded: b.credits_refunded,
            created_at: time::format_millis(b.created_at),
            finished_at: b.finished_at.map(time::format_millis),
            correlation_id: b.correlation_id,
        }
    }
}

async fn batch(
    state: &AppState,
    caller: &Caller,
    key: BatchKey,
) -> Result<Json<BatchBody>, ApiError> {
    caller.require(Scope::Read)?;
    let batch = state
        .store
        .batch_detail(caller.account_id(), &key)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(batch.into()))
}

/// `GET /api/external/batches/{id}`.
pub async fn get_batch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<BatchBody>, ApiError> {
    let key = BatchKey::Batch(parse_path_id::<kind::Batch>(&id)?);
    batch(&state, &caller, key).await
}

/// `GET /api/external/orders/{id}`: the batch the order placed.
pub async fn get_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<BatchBody>, ApiError> {
    let key = BatchKey::Order(parse_path_id::<kind::Order>(&id)?);
    batch(&state, &caller, key).await
}

#[derive(Serialize)]
pub struct CreditsBody {
    available: Credits,
    reserved: Credits,
    consumed: Credits,
}

/// `GET /api/external/credits`.
pub async fn get_credits(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<CreditsBody>, ApiError> {
    caller.require(Scope::Read)?;
    let b = state
        .store
        .balances(caller.account_id())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(CreditsBody {
        available: b.available,
        reserved: b.reserved,
        consumed: b.consumed,
    }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerItem {
    id: String,
    kind: &'static str,
    amount: Credits,
    // What an entry is not about is left out, not null.
    #[serde(skip_serializing_if = "Option::is_none")]
    model_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reservation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    batch_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    correlation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    created_at: String,
}

impl From<LedgerEntry> for LedgerItem {
    fn from(e: LedgerEntry) -> LedgerItem {
        LedgerItem {
            id: e.id.to_string(),
            kind: e.kind.as_str(),
            amount: e.amount,
            model_id: e.model_id.map(|m| m.as_str().to_string()),
            reservation_id: e.reservation_id.map(|r| r.as_str().to_string()),
            batch_id: e.batch_id.map(|b| b.as_str().to_string()),
            correlation_id: e.correlation_id,
            note: e.note,
            created_at: time::format_millis(e.created_at),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerBody {
    entries: Vec<LedgerItem>,
    count: usize,
    next_cursor: Option<String>,
}

/// A cursor that is the last row's numeric id, as the previous page gave it.
pub(super) fn row_cursor(raw: Option<&String>) -> Result<Option<i64>, RequestError> {
    raw.map(|c| match c.parse::<i64>() {
        Ok(n) if (1..=18).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(RequestError::CursorInvalid),
    })
    .transpose()
}

/// `GET /api/external/credits/ledger`: newest first, paged like the models list.
pub async fn get_ledger(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<LedgerBody>, ApiError> {
    caller.require(Scope::Read)?;
    let limit = Limit::parse(params.get("limit").map(String::as_str))?.get();
    let before = row_cursor(params.get("cursor"))?;
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
    let entries: Vec<LedgerItem> = entries.into_iter().map(LedgerItem::from).collect();
    Ok(Json(LedgerBody {
        count: entries.len(),
        entries,
        next_cursor,
    }))
}
