//! Webhook endpoints (ours): `POST /api/external/webhooks` adds one and shows
//! its signing secret once, `GET` lists them, `GET`/`DELETE …/{id}` reads or
//! removes one, `POST …/{id}/enable` enables a disabled one again, and
//! `GET …/{id}/deliveries` shows its recent attempts. Per account, under the
//! `webhooks.manage` scope; another account's endpoint is 404.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mannequin_domain::ids::{EndpointId, kind};
use mannequin_domain::request::parse_path_id;
use mannequin_domain::{Limit, time};
use serde::Serialize;
use serde_json::Value;

use super::AppState;
use super::auth::Caller;
use super::details::row_cursor;
use super::error::ApiError;
use super::models::json_object;
use crate::clock::now_ms;
use crate::keys::Scope;
use crate::store::{Attempt, Endpoint, EventType};
use crate::webhooks::{self, MAX_ENDPOINTS};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointBody {
    id: String,
    url: String,
    /// The events it receives; `null`: every event.
    events: Option<Vec<&'static str>>,
    /// `enabled` or `disabled`.
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    disabled_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disabled_at: Option<String>,
    /// Since when every attempt has failed, while they do.
    #[serde(skip_serializing_if = "Option::is_none")]
    failing_since: Option<String>,
    created_at: String,
    /// Only in the answer that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

impl EndpointBody {
    fn new(e: Endpoint, secret: Option<String>) -> EndpointBody {
        EndpointBody {
            id: e.id.into_string(),
            url: e.url,
            events: (!e.events.is_empty()).then(|| e.events.iter().map(|t| t.as_str()).collect()),
            status: if e.disabled_at.is_some() {
                "disabled"
            } else {
                "enabled"
            },
            disabled_reason: e.disabled_reason,
            disabled_at: e.disabled_at.map(time::format_millis),
            failing_since: e.failing_since.map(time::format_millis),
            created_at: time::format_millis(e.created_at),
            secret,
        }
    }
}

fn invalid(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::BadRequest {
        code,
        message: message.into(),
    }
}

/// Reads `events`: absent or `null` for every event, else a non-empty list
/// of known event types (repeats ignored).
fn parse_events(value: Option<&Value>) -> Result<Vec<EventType>, ApiError> {
    let known = || {
        EventType::ALL
            .iter()
            .map(|t| format!("'{}'", t.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let list = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) if !list.is_empty() => list,
        _ => {
            return Err(invalid(
                "events_invalid",
                format!(
                    "'events' must be a non-empty list of event types ({}); leave it out for every event.",
                    known()
                ),
            ));
        }
    };
    let mut events = Vec::new();
    for item in list {
        let event = item.as_str().and_then(EventType::parse).ok_or_else(|| {
            invalid(
                "events_invalid",
                format!("'events' may hold only {}.", known()),
            )
        })?;
        if !events.contains(&event) {
            events.push(event);
        }
    }
    events.sort();
    Ok(events)
}

/// `POST /api/external/webhooks`: `{"url", "events"?}` → 201 with the secret.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require(Scope::Webhooks)?;
    let body = json_object(&headers, &body)?;
    if let Some(unknown) = body.keys().find(|k| *k != "url" && *k != "events") {
        return Err(invalid(
            "unknown_field",
            format!("Unknown field '{unknown}': an endpoint has 'url' and 'events'."),
        ));
    }
    let url = match body.get("url") {
        Some(Value::String(url)) => url,
        None | Some(Value::Null) => return Err(invalid("url_missing", "'url' is required.")),
        Some(_) => return Err(invalid("url_invalid", "'url' must be a string.")),
    };
    let url =
        webhooks::check_url(url, state.settings.webhook_allow_private).map_err(|message| {
            ApiError::Unprocessable {
                code: "url_refused",
                message,
            }
        })?;
    let events = parse_events(body.get("events"))?;
    let secret = webhooks::new_secret();
    let endpoint = state
        .store
        .create_endpoint(
            caller.account_id(),
            &url,
            &events,
            &secret,
            MAX_ENDPOINTS,
            now_ms(),
        )
        .await?
        .ok_or_else(|| ApiError::Conflict {
            code: "too_many_webhooks",
            message: format!(
                "An account may have at most {MAX_ENDPOINTS} webhook endpoints; delete one first."
            ),
        })?;
    Ok((
        StatusCode::CREATED,
        // Shown once, here.
        Json(EndpointBody::new(
            endpoint,
            Some(crate::ExposeSecret::expose_secret(&secret).to_string()),
        )),
    )
        .into_response())
}

#[derive(Serialize)]
pub struct EndpointList {
    webhooks: Vec<EndpointBody>,
    count: usize,
}

/// `GET /api/external/webhooks`: every endpoint of the account, oldest first.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<EndpointList>, ApiError> {
    caller.require(Scope::Webhooks)?;
    let webhooks: Vec<EndpointBody> = state
        .store
        .endpoints(caller.account_id())
        .await?
        .into_iter()
        .map(|e| EndpointBody::new(e, None))
        .collect();
    Ok(Json(EndpointList {
        count: webhooks.len(),
        webhooks,
    }))
}

/// The caller's endpoint named by the path, or 404.
async fn owned(state: &AppState, caller: &Caller, id: &str) -> Result<Endpoint, ApiError> {
    caller.require(Scope::Webhooks)?;
    let id = parse_path_id::<kind::Endpoint>(id)?;
    state
        .store
        .endpoint(caller.account_id(), &id)
        .await?
        .ok_or(ApiError::NotFound)
}

/// `GET /api/external/webhooks/{id}`.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<EndpointBody>, ApiError> {
    Ok(Json(EndpointBody::new(
        owned(&state, &caller, &id).await?,
        None,
    )))
}

#[derive(Serialize)]
pub struct Deleted {
    id: String,
    deleted: bool,
}

/// `DELETE /api/external/webhooks/{id}`: the endpoint, its pending
/// deliveries and its attempts go.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Deleted>, ApiError> {
    caller.require(Scope::Webhooks)?;
    let id: EndpointId = parse_path_id::<kind::Endpoint>(&id)?;
    if !state
        .store
        .delete_endpoint(caller.account_id(), &id)
        .await?
    {
        return Err(ApiError::NotFound);
    }
    Ok(Json(Deleted {
        id: id.into_string(),
        deleted: true,
    }))
}

/// `POST /api/external/webhooks/{id}/enable`: a disabled endpoint receives
/// new events again (what it missed while disabled is not sent).
pub async fn enable(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<EndpointBody>, ApiError> {
    let endpoint = owned(&state, &caller, &id).await?;
    let enabled = state
        .store
        .enable_endpoint(caller.account_id(), &endpoint.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(EndpointBody::new(enabled, None)))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptBody {
    id: String,
    event_id: String,
    event_type: String,
    /// 1 for the event's first attempt at this endpoint.
    attempt: u32,
    delivered: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_code: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    duration_ms: i64,
    attempted_at: String,
}

impl From<Attempt> for AttemptBody {
    fn from(a: Attempt) -> AttemptBody {
        AttemptBody {
            id: a.id.to_string(),
            event_id: a.event_id.into_string(),
            event_type: a.event_type,
            attempt: a.attempt,
            delivered: a.error.is_none(),
            status_code: a.status_code,
            error: a.error,
            duration_ms: a.duration_ms,
            attempted_at: time::format_millis(a.attempted_at),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptList {
    deliveries: Vec<AttemptBody>,
    count: usize,
    next_cursor: Option<String>,
}

/// `GET /api/external/webhooks/{id}/deliveries`: attempts newest first,
/// paged with `limit` and `cursor` like the ledger.
pub async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<AttemptList>, ApiError> {
    let endpoint = owned(&state, &caller, &id).await?;
    let limit = Limit::parse(params.get("limit").map(String::as_str))?.get();
    let before = row_cursor(params.get("cursor"))?;
    let mut attempts = state
        .store
        .attempts(&endpoint.id, before, limit + 1)
        .await?;
    let next_cursor = if attempts.len() > limit as usize {
        attempts.truncate(limit as usize);
        attempts.last().map(|a| a.id.to_string())
    } else {
        None
    };
    let deliveries: Vec<AttemptBody> = attempts.into_iter().map(AttemptBody::from).collect();
    Ok(Json(AttemptList {
        count: deliveries.len(),
        deliveries,
        next_cursor,
    }))
}
