//! Health, readiness, metrics and media.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use crate::blob;

pub async fn openapi(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi.to_string(),
    )
        .into_response()
}

/// A page that reads the API description and shows it to people. Everything
/// it needs is in the binary: it works offline and loads nothing from
/// elsewhere (its content security policy says so).
pub async fn docs() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'",
            ),
        ],
        include_str!("docs.html"),
    )
        .into_response()
}

/// The process is alive.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// The database answers and, when this process runs a worker, its generator
/// works as configured (a paused worker answers 503 with the reason) and,
/// with NATS, the worker's queue is connected.
pub async fn readyz(State(state): State<AppState>) -> Result<Response, ApiError> {
    state.store.ping().await?;
    if state.worker_queue.as_ref().is_some_and(|q| !q.connected()) {
        return Ok((
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "not ready",
                "queue": {"status": "unreachable", "reason": "NATS does not answer"},
            })),
        )
            .into_response());
    }
    let paused = state
        .worker_paused
        .as_ref()
        .and_then(|p| p.borrow().clone());
    Ok(match paused {
        None => Json(json!({"status": "ready"})).into_response(),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "not ready",
                "generator": {"status": "misconfigured", "reason": reason},
            })),
        )
            .into_response(),
    })
}

pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.settings.metrics_token
        && !bearer_matches(&headers, crate::ExposeSecret::expose_secret(token))
    {
        return ApiError::MetricsToken.into_response();
    }
    let stats = state.store.queue_stats().await.ok();
    let outbox = state.settings.nats_outbox;
    let mut res = state.metrics.render(stats, outbox).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    res
}

/// Whether the request's `Authorization: Bearer …` is `token` (compared in
/// constant time).
fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    use subtle::ConstantTimeEq;
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    sent.len() == token.len() && bool::from(sent.as_bytes().ct_eq(token.as_bytes()))
}

/// A signed image URL's query.
#[derive(serde::Deserialize)]
pub struct MediaQuery {
    expires: Option<String>,
    signature: Option<String>,
}

/// Images by key. Keys hold the model id, so the bytes under a key never change:
/// clients and CDNs may cache them for good.
///
/// With `--media-signing-key`, a URL works only with its `expires` and
/// `signature` and until then, and may be cached only that long.
pub async fn media(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(query): Query<MediaQuery>,
) -> Result<Response, ApiError> {
    if !blob::valid_key(&key) {
        return Err(ApiError::NotFound);
    }
    let cache = match &state.media_signer {
        None => "public, max-age=31536000, immutable".to_string(),
        Some(signer) => {
            let left = signer
                .check(
                    &key,
                    query.expires.as_deref(),
                    query.signature.as_deref(),
                    crate::clock::now_ms() / 1000,
                )
                .map_err(ApiError::MediaLink)?;
            format!("private, max-age={left}")
        }
    };
    let bytes = state
        .blobs
        .get(&key)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "media read failed");
            ApiError::Internal
        })?
        .ok_or(ApiError::NotFound)?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, blob::content_type(&key)),
            (header::CACHE_CONTROL, cache.as_str()),
        ],
        bytes,
    )
        .into_response())
}
