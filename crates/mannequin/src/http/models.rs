//! The Models API: list models, register ideas, and vote (ours).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use mannequin_domain::ids::{BatchId, ModelId};
use mannequin_domain::request::{Cursor, parse_batch_id, parse_idempotency_key};
use mannequin_domain::{
    Count, Credits, Limit, Preferences, RequestError, StatusFilter, Voting, time,
};
use serde::Serialize;
use serde_json::Value;

use super::auth::Caller;
use super::error::ApiError;
use super::{AppState, CorrelationId};
use crate::batch::Order;
use crate::blob::BlobStore;
use crate::clock::now_ms;
use crate::keys::Scope;
use crate::store::{CancelTarget, ListQuery};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelItem {
    id: ModelId,
    name: String,
    thumbnail: Option<String>,
    status: &'static str,
    voting: &'static str,
    created_at: String,
    batch_id: BatchId,
    image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_reason: Option<String>,
    /// What the generator was asked, once the model has settled.
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    generator: Option<String>,
    /// What the generator could not follow.
    #[serde(skip_serializing_if = "Option::is_none")]
    generator_notes: Option<String>,
}

impl ModelItem {
    /// A list item: the contract's six fields and ours, image URLs made absolute.
    pub(super) fn new(blobs: &dyn BlobStore, r: crate::store::ModelRow) -> ModelItem {
        ModelItem {
            thumbnail: r.thumb_key.as_deref().map(|k| blobs.url(k)),
            image: r.image_key.as_deref().map(|k| blobs.url(k)),
            id: r.id,
            name: r.name,
            status: r.status.as_str(),
            voting: r.voting.as_str(),
            created_at: time::format_millis(r.created_at),
            batch_id: r.batch_id,
            failure_reason: r.failure_reason,
            prompt: r.prompt,
            seed: r.seed,
            generator: r.generator,
            generator_notes: r.generator_notes,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelList {
    models: Vec<ModelItem>,
    count: usize,
    next_cursor: Option<String>,
}

pub async fn list_models(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<ModelList>, ApiError> {
    caller.require(Scope::Read)?;
    let filter = StatusFilter::parse(params.get("statusFilter").map(String::as_str))?;
    let limit = Limit::parse(params.get("limit").map(String::as_str))?.get();
    let cursor = params.get("cursor").map(|c| Cursor::parse(c)).transpose()?;
    let batch_id = params
        .get("batchId")
        .map(|b| parse_batch_id(b))
        .transpose()?;
    let mut rows = state
        .store
        .list_models(
            caller.account_id(),
            &ListQuery {
                status: None,
                voting: None,
                filter,
                batch_id,
                cursor,
                limit: limit + 1,
            },
        )
        .await?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| {
            Cursor {
                created_at_ms: r.created_at,
                id: r.id.clone(),
            }
            .encode()
        })
    } else {
        None
    };
    let models: Vec<ModelItem> = rows
        .into_iter()
        .map(|r| ModelItem::new(state.blobs.as_ref(), r))
        .collect();
    Ok(Json(ModelList {
        count: models.len(),
        models,
        next_cursor,
    }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Registered {
    created_record_ids: Vec<ModelId>,
    batch_id: BatchId,
    order_id: mannequin_domain::ids::OrderId,
    reservation_id: mannequin_domain::ids::ReservationId,
    credits_reserved: Credits,
}

/// Parses a JSON object body after checking its content type.
pub(super) fn json_object(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<serde_json::Map<String, Value>, ApiError> {
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if !json_type {
        return Err(ApiError::UnsupportedContentType);
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::MalformedJson("expected a JSON object".into())),
        Err(e) => Err(ApiError::MalformedJson(e.to_string())),
    }
}

/// Reads `preferences` and `count` with the contract's rules. `count` must be
/// an integer: a JSON number without a fractional part, as JSON Schema counts
/// integers (`3` and `3.0` alike; `2.5` and `"3"` are refused); `null` means
/// the default.
pub fn parse_register(
    body: &serde_json::Map<String, Value>,
) -> Result<(Preferences, Count), RequestError> {
    let preferences = match body.get("preferences") {
        None | Some(Value::Null) => return Err(RequestError::PreferencesMissing),
        Some(Value::String(s)) => Preferences::parse(s)?,
        Some(_) => return Err(RequestError::PreferencesNotString),
    };
    let count = match body.get("count") {
        None | Some(Value::Null) => Count::DEFAULT,
        Some(Value::Number(n)) => {
            let n = n
                .as_i64()
                .map(i128::from)
                .or_else(|| n.as_u64().map(i128::from))
                .or_else(|| {
                    // 1e3 and 3.0: whole, and far inside i128 once in range.
                    n.as_f64()
                        .filter(|f| f.is_finite() && f.fract() == 0.0 && f.abs() < 1e30)
                        .map(|f| f as i128)
                })
                .ok_or(RequestError::CountNotInteger)?;
            Count::try_from(n)?
        }
        Some(_) => return Err(RequestError::CountNotInteger),
    };
    Ok((preferences, count))
}

pub async fn register_ideas(
    State(state): State<AppState>,
    caller: Caller,
    Extension(CorrelationId(correlation_id)): Extension<CorrelationId>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require(Scope::Register)?;
    let idempotency_key = headers
        .get("idempotency-key")
        .map(|v| parse_idempotency_key(v.as_bytes()).map(str::to_string))
        .transpose()?;
    let body = json_object(&headers, &body)?;
    let (preferences, count) = parse_register(&body)?;
    let registration = state
        .register(Order {
            account: caller.account_id(),
            preferences: &preferences,
            count,
            correlation_id: &correlation_id,
            idempotency_key,
        })
        .await?;
    let replayed = registration.replayed;
    let mut res = Json(Registered {
        created_record_ids: registration.model_ids,
        batch_id: registration.batch_id,
        order_id: registration.order_id,
        reservation_id: registration.reservation_id,
        credits_reserved: registration.credits_reserved,
    })
    .into_response();
    if replayed {
        res.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(res)
}

/// `POST /api/external/models/{id}/vote` with `{"voting": "APPROVED"}` (ours).
pub async fn vote_model(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    caller.require(Scope::Register)?;
    // A malformed id names no model: 404 before any query, as for an unknown one.
    let id = ModelId::parse(&id).ok_or(ApiError::NotFound)?;
    let body = json_object(&headers, &body)?;
    let voting = body
        .get("voting")
        .and_then(Value::as_str)
        .and_then(|v| Voting::parse(&v.to_ascii_uppercase()))
        .ok_or(ApiError::Invalid(RequestError::VotingInvalid))?;
    if !state
        .store
        .set_voting(caller.account_id(), &id, voting, now_ms())
        .await?
    {
        return Err(ApiError::NotFound);
    }
    Ok(Json(
        serde_json::json!({"id": id, "voting": voting.as_str()}),
    ))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cancelled {
    cancelled_record_ids: Vec<ModelId>,
    credits_refunded: Credits,
}

async fn cancel(
    state: &AppState,
    caller: &Caller,
    target: CancelTarget,
) -> Result<Cancelled, ApiError> {
    caller.require(Scope::Register)?;
    let (cancelled, credits_refunded) = state
        .cancel(caller.account_id(), target)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Cancelled {
        cancelled_record_ids: cancelled.into_iter().map(|m| m.id).collect(),
        credits_refunded,
    })
}

/// `POST /api/external/models/{id}/cancel` (ours): cancels a model no worker has
/// started, refunding it; 409 when it already started or finished.
pub async fn cancel_model(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Cancelled>, ApiError> {
    let id = ModelId::parse(&id).ok_or(ApiError::NotFound)?;
    let cancelled = cancel(&state, &caller, CancelTarget::Model(id)).await?;
    if cancelled.cancelled_record_ids.is_empty() {
        return Err(ApiError::NotCancellable);
    }
    Ok(Json(cancelled))
}

/// `POST /api/external/batches/{id}/cancel` (ours): cancels every model of the
/// batch that no worker has started; the others go on.
pub async fn cancel_batch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Cancelled>, ApiError> {
    let id = BatchId::parse(&id).ok_or(ApiError::NotFound)?;
    Ok(Json(
        cancel(&state, &caller, CancelTarget::Batch(id)).await?,
    ))
}
