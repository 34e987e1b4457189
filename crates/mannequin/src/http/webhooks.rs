//! Webhook endpoints (ours): `POST /api/external/webhooks` adds one and shows
//! its signing secret once, `GET` lists them, `GET`/`DELETE …/{id}` reads or
//! removes one, `POST …/{id}/enable` enables a disabled one again, and
//! `GET …/{id}/deliveries` shows its recent attempts. Per account, under the
//! `webhooks.manage` scope; another account's endpoint is 404.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mannequin_domain::Limit;
use mannequin_domain::ids::{EndpointId, kind};
use mannequin_domain::request::parse_path_id;

use super::auth::Caller;
use super::details::row_cursor;
use super::error::ApiError;
use super::{AppState, Body};
use crate::clock::now_ms;
use crate::keys::Scope;
use crate::store::Endpoint;
use crate::views::credits::PageQuery;
use crate::views::error::Error;
use crate::views::webhooks::{
    CreateWebhook, Webhook, WebhookAttempt, WebhookCreated, WebhookDeleted, WebhookDeliveries,
    WebhookList,
};
use crate::webhooks::{self, MAX_ENDPOINTS};

/// Add an endpoint (ours); the answer shows its signing secret, once. Needs
/// webhooks.manage.
///
/// Deliveries are POSTs of {"type", "timestamp", "data"} signed per the
/// Standard Webhooks specification (webhook-id, webhook-timestamp,
/// webhook-signature). See the webhooks section of this description and
/// docs/api.md.
#[utoipa::path(post, path = "/api/external/webhooks", tag = "Webhooks", operation_id = "createWebhook",
    request_body = CreateWebhook,
    responses(
        (status = 201, description = "The endpoint, with its secret.", body = WebhookCreated),
        (status = 409, description = "The account has 20 endpoints already (code too_many_webhooks).", body = Error),
        (status = 422, description = "The URL is not one webhooks may call: not absolute http(s), with credentials or a fragment, or (unless the operator allows it) a loopback, private, link-local or metadata address (code url_refused).", body = Error),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Body<CreateWebhook>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Webhooks)?;
    let body = body.read()?;
    let url = webhooks::check_url(&body.url, state.settings.webhook_allow_private).map_err(
        |message| ApiError::Unprocessable {
            code: "url_refused",
            message,
        },
    )?;
    let events = body.events.unwrap_or_default();
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
        Json(WebhookCreated {
            webhook: endpoint.into(),
            secret: crate::ExposeSecret::expose_secret(&secret).to_string(),
        }),
    )
        .into_response())
}

/// The account's webhook endpoints (ours), oldest first. Needs
/// webhooks.manage.
#[utoipa::path(get, path = "/api/external/webhooks", tag = "Webhooks", operation_id = "listWebhooks",
    responses((status = 200, description = "Every endpoint, without its secret.", body = WebhookList)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<WebhookList>, ApiError> {
    caller.require(Scope::Webhooks)?;
    let webhooks: Vec<Webhook> = state
        .store
        .endpoints(caller.account_id())
        .await?
        .into_iter()
        .map(Webhook::from)
        .collect();
    Ok(Json(WebhookList {
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

/// One endpoint (ours). Needs webhooks.manage.
#[utoipa::path(get, path = "/api/external/webhooks/{id}", tag = "Webhooks", operation_id = "getWebhook",
    params(("id" = String, Path, pattern = "^wh_[A-Za-z0-9_]{1,61}$")),
    responses(
        (status = 200, description = "The endpoint, without its secret.", body = Webhook),
        (status = 404, description = "No such endpoint in this account.", body = Error),
    ))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Webhook>, ApiError> {
    Ok(Json(owned(&state, &caller, &id).await?.into()))
}

/// Remove an endpoint with its pending deliveries and its attempts (ours).
/// Needs webhooks.manage.
#[utoipa::path(delete, path = "/api/external/webhooks/{id}", tag = "Webhooks", operation_id = "deleteWebhook",
    params(("id" = String, Path, pattern = "^wh_[A-Za-z0-9_]{1,61}$")),
    responses(
        (status = 200, description = "Removed.", body = WebhookDeleted),
        (status = 404, description = "No such endpoint in this account.", body = Error),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<WebhookDeleted>, ApiError> {
    caller.require(Scope::Webhooks)?;
    let id: EndpointId = parse_path_id::<kind::Endpoint>(&id)?;
    if !state
        .store
        .delete_endpoint(caller.account_id(), &id)
        .await?
    {
        return Err(ApiError::NotFound);
    }
    Ok(Json(WebhookDeleted {
        id: id.into_string(),
        deleted: true,
    }))
}

/// Enable a disabled endpoint again (ours): new events reach it; what it
/// missed while disabled is not sent. Needs webhooks.manage.
#[utoipa::path(post, path = "/api/external/webhooks/{id}/enable", tag = "Webhooks", operation_id = "enableWebhook",
    params(("id" = String, Path, pattern = "^wh_[A-Za-z0-9_]{1,61}$")),
    responses(
        (status = 200, description = "The endpoint, enabled.", body = Webhook),
        (status = 404, description = "No such endpoint in this account.", body = Error),
    ))]
pub async fn enable(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Webhook>, ApiError> {
    let endpoint = owned(&state, &caller, &id).await?;
    let enabled = state
        .store
        .enable_endpoint(caller.account_id(), &endpoint.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(enabled.into()))
}

/// The endpoint's delivery attempts (ours), newest first, paged like the
/// ledger (kept 30 days). Needs webhooks.manage.
#[utoipa::path(get, path = "/api/external/webhooks/{id}/deliveries", tag = "Webhooks",
    operation_id = "listWebhookDeliveries",
    params(("id" = String, Path, pattern = "^wh_[A-Za-z0-9_]{1,61}$"), PageQuery),
    responses(
        (status = 200, description = "A page of attempts.", body = WebhookDeliveries),
        (status = 404, description = "No such endpoint in this account.", body = Error),
    ))]
pub async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(page): Query<PageQuery>,
) -> Result<Json<WebhookDeliveries>, ApiError> {
    let endpoint = owned(&state, &caller, &id).await?;
    let limit = Limit::parse(page.limit.as_deref())?.get();
    let before = row_cursor(page.cursor.as_deref())?;
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
    let deliveries: Vec<WebhookAttempt> = attempts.into_iter().map(WebhookAttempt::from).collect();
    Ok(Json(WebhookDeliveries {
        count: deliveries.len(),
        deliveries,
        next_cursor,
    }))
}
