//! Routes, the request envelope (correlation id, logging, metrics, JSON errors)
//! and the shared state handlers see.

mod assets;
pub mod auth;
pub mod console;
mod details;
pub mod error;
mod events;
mod extract;
mod json;
mod models;
mod multipart;
mod openapi;
mod ops;
mod pictures;
mod presets;
mod products;
mod sceneries;
pub mod server;
mod webhooks;

use extract::Body;
pub use openapi::{DEFAULT_PUBLIC_URL, document as openapi_document};

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tracing::{Instrument, info, info_span, warn};

use crate::blob::BlobStore;
use crate::metrics::Metrics;
use crate::store::Store;
use error::{ErrorBody, framework_error};

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The routes that take uploads (`POST`, multipart) and their own limits.
const UPLOADS: [(&str, u64); 4] = [
    (products::UPLOAD_PATH, products::UPLOAD_LIMIT),
    (console::PRODUCTS_PATH, products::UPLOAD_LIMIT),
    (presets::CREATE_PATH, presets::CREATE_LIMIT),
    (console::PRESETS_PATH, presets::CREATE_LIMIT),
];

/// Settings the handlers need.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Jobs go to NATS through the outbox (`--queue nats`).
    pub nats_outbox: bool,
    /// Browser origins allowed by CORS (`*`: any); none when empty.
    pub cors_origins: Vec<String>,
    /// Webhook endpoints may name loopback, private or link-local addresses.
    pub webhook_allow_private: bool,
    /// The base URL clients reach this service at (`--public-url`).
    pub public_url: String,
    /// The bearer token `/metrics` asks for; with it, the API serves
    /// `/metrics` too.
    pub metrics_token: Option<crate::SecretString>,
    /// Products an account may keep listed (`--max-products`).
    pub max_products: u32,
    /// Where an account gets more credits (`--credits-url`, `--credits-text`).
    pub credits: Option<crate::config::CreditsHint>,
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub blobs: Arc<dyn BlobStore>,
    pub metrics: Arc<Metrics>,
    pub limiter: Arc<auth::RateLimiter>,
    /// The API description served, with this instance's public URL.
    pub openapi: Arc<str>,
    /// `RateLimit-Policy`, when limiting is on.
    pub rate_policy: Option<Arc<str>>,
    pub settings: Arc<ApiSettings>,
    /// Registering, cancelling and voting.
    pub orders: Arc<crate::operations::Orders>,
    /// Whether `/media/` serves images from the blob store.
    pub serve_media: bool,
    /// With `--media-signing-key`: `/media/` asks for a URL's signature.
    pub media_signer: Option<crate::blob::signing::MediaSigner>,
    /// Why this process's worker is paused, when it runs one.
    pub worker_paused: Option<tokio::sync::watch::Receiver<Option<String>>>,
    /// The queue this process's worker pulls from, when it is NATS (the API
    /// hands jobs over through the outbox and does not need it to be up).
    pub worker_queue: Option<Arc<crate::queue::nats::NatsQueue>>,
}

/// The request's correlation id, as a request extension.
#[derive(Debug, Clone)]
pub struct CorrelationId(pub String);

/// A client's id is kept when it is 1–128 characters of `A-Z a-z 0-9 . _ -`.
pub fn valid_correlation_id(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// `path` with whatever follows an API key's prefix (`mk_live_`), up to the
/// next `/`, replaced: a key sent by mistake in a URL never reaches the logs.
fn redact_keys(path: &str) -> std::borrow::Cow<'_, str> {
    use mannequin_domain::ids::KEY_PREFIX;
    if !path.contains(KEY_PREFIX) {
        return path.into();
    }
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(at) = rest.find(KEY_PREFIX) {
        let after = &rest[at + KEY_PREFIX.len()..];
        out.push_str(&rest[..at + KEY_PREFIX.len()]);
        out.push_str("[redacted]");
        rest = &after[after.find('/').unwrap_or(after.len())..];
    }
    out.push_str(rest);
    out.into()
}

/// The operator listener's routes: `/metrics`, `/healthz` and `/readyz`, with
/// the API's error bodies (and its token for `/metrics`, if one is set).
pub fn operator_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(ops::metrics))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .fallback(|| async { error::ApiError::NotFound })
        .layer(middleware::from_fn_with_state(state.clone(), envelope))
        .with_state(state)
}

pub fn router(state: AppState) -> Router {
    let (api, _) = openapi::api_routes().split_for_parts();
    let mut api = api
        .route("/api/external/openapi.json", get(ops::openapi))
        .route("/docs", get(ops::docs))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz));
    // Without a token, `/metrics` is only on the operator listener.
    if state.settings.metrics_token.is_some() {
        api = api.route("/metrics", get(ops::metrics));
    }
    if state.serve_media {
        api = api.route("/media/{*key}", get(ops::media));
    }
    let cors = cors(&state.settings.cors_origins);
    let router = api
        .merge(console::routes().layer(middleware::from_fn_with_state(
            state.clone(),
            console::framed,
        )))
        .fallback(|| async { error::ApiError::NotFound })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), envelope))
        .with_state(state);
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// CORS for browser clients of `origins` (`*`: any); `None` when none is
/// allowed. Preflights are answered before any key is asked for; answers
/// expose the headers a client paces and correlates with.
fn cors(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{HeaderName, Method};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    let names = |list: &[&'static str]| -> Vec<HeaderName> {
        list.iter().map(|n| HeaderName::from_static(n)).collect()
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::DELETE])
            .allow_headers(names(&[
                "authorization",
                "content-type",
                "x-api-key",
                "idempotency-key",
                "x-correlation-id",
                "last-event-id",
            ]))
            .expose_headers(names(&[
                "x-correlation-id",
                "ratelimit",
                "ratelimit-policy",
                "retry-after",
                "idempotent-replayed",
            ]))
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// Runs around every request: assigns the correlation id, opens the span that
/// every log line of the request carries, records metrics, and renders every
/// error (the handlers' and the framework's) as the contract's JSON.
async fn envelope(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let correlation_id = req
        .headers()
        .get("x-correlation-id")
        .and_then(|v| v.to_str().ok())
        .filter(|s| valid_correlation_id(s))
        .map(str::to_string)
        .unwrap_or_else(crate::clock::new_ulid);
    req.extensions_mut()
        .insert(CorrelationId(correlation_id.clone()));
    let rate = auth::RateSlot::default();
    req.extensions_mut().insert(rate.clone());
    // Metric labels stay a small set: any method outside the standard ones is "other".
    let method = match req.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m.to_string(),
        _ => "other".to_string(),
    };
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let span = info_span!("request", correlation_id = %correlation_id, method = %method, path = %redact_keys(req.uri().path()));
    let body_clock = req.extensions().get::<server::BodyClock>().cloned();
    let mut res = match refuse_early(&req) {
        Some(refused) => {
            // What was refused from its head alone may still be sending a
            // body or more: the connection closes (after a lingering read,
            // so the client reads this answer rather than a reset).
            let mut res = refused.status.into_response();
            if let Some(message) = refused.message {
                res.extensions_mut().insert(ErrorBody {
                    message: message.into(),
                    code: "bad_request",
                });
            }
            res.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            res
        }
        None => next.run(req).instrument(span.clone()).await,
    };
    if body_clock.is_some_and(|c| c.ran_out()) {
        // The body did not arrive in time: whatever the handler made of the
        // broken body, the answer is 408, and the connection closes.
        res = StatusCode::REQUEST_TIMEOUT.into_response();
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }

    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    // The console's pages explain their errors in words, as HTML.
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let body = match res.extensions_mut().remove::<ErrorBody>() {
        // Not enough credits: where to get them, when the operator said.
        Some(mut body) if body.code == "insufficient_credits" => {
            if let Some(hint) = &state.settings.credits {
                body.message = format!("{} {}", body.message, hint.sentence());
            }
            Some(body)
        }
        Some(body) => Some(body),
        None if (status.is_client_error() || status.is_server_error()) && !is_json && !is_html => {
            Some(framework_error(status))
        }
        None => None,
    };
    if let Some(body) = body {
        let mut headers = std::mem::take(res.headers_mut());
        headers.remove(header::CONTENT_LENGTH);
        let json = axum::Json(crate::views::error::Error {
            error: &body.message,
            code: body.code,
            correlation_id: &correlation_id,
        });
        res = (status, json).into_response();
        for (name, value) in headers.iter() {
            if name != header::CONTENT_TYPE {
                res.headers_mut().insert(name.clone(), value.clone());
            }
        }
    }
    if let Ok(v) = HeaderValue::from_str(&correlation_id) {
        res.headers_mut().insert("x-correlation-id", v);
    }
    // The limit as the IETF draft's fields: the policy on every answer, what
    // is left once the caller's account is known.
    if let Some(policy) = &state.rate_policy
        && let Ok(v) = HeaderValue::from_str(policy)
    {
        res.headers_mut().insert("ratelimit-policy", v);
    }
    if let Some(seen) = rate.seen()
        && let Ok(v) = HeaderValue::from_str(&auth::RateLimiter::header(seen))
    {
        res.headers_mut().insert("ratelimit", v);
    }
    let elapsed = started.elapsed();
    state
        .metrics
        .observe_request(&method, &route, status.as_u16(), elapsed);
    span.in_scope(|| {
        let ms = elapsed.as_secs_f64() * 1000.0;
        if status.is_server_error() {
            warn!(status = status.as_u16(), latency_ms = ms, "request failed");
        } else {
            info!(status = status.as_u16(), latency_ms = ms, "request");
        }
    });
    res
}

/// The longest request URI (path and query) served: beyond it, 414.
pub const MAX_URI: usize = 8 * 1024;

/// A request refused from its head alone.
struct Refused {
    status: StatusCode,
    /// The message, when the status's own does not say it.
    message: Option<&'static str>,
}

/// What is refused from the request's head alone, before its route runs: an
/// HTTP/1.1 request without `Host` (RFC 9112, section 3.2), a URI over
/// `MAX_URI`, a body announced larger than `BODY_LIMIT` (answered at once,
/// not after reading it).
fn refuse_early(req: &Request) -> Option<Refused> {
    let refused = |status| {
        Some(Refused {
            status,
            message: None,
        })
    };
    if req.version() == axum::http::Version::HTTP_11 && !req.headers().contains_key(header::HOST) {
        return Some(Refused {
            status: StatusCode::BAD_REQUEST,
            message: Some("An HTTP/1.1 request needs a Host header."),
        });
    }
    let uri = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if uri > MAX_URI {
        return refused(StatusCode::URI_TOO_LONG);
    }
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // Uploads have their own limit; everything else takes JSON.
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let limit = UPLOADS
        .iter()
        .find(|(p, _)| req.method() == axum::http::Method::POST && Some(*p) == path)
        .map_or(BODY_LIMIT as u64, |(_, limit)| *limit);
    if announced.is_some_and(|n| n > limit) {
        return refused(StatusCode::PAYLOAD_TOO_LARGE);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::redact_keys;

    #[test]
    fn keys_in_a_path_are_redacted_and_the_rest_kept() {
        let key = "mk_live_0123456789abcdef.S3cretS3cretS3cretS3cretS3cretS3cret0000";
        assert_eq!(
            redact_keys(&format!("/api/external/models/{key}")),
            "/api/external/models/mk_live_[redacted]"
        );
        assert_eq!(
            redact_keys(&format!("/a/{key}/b/{key}")),
            "/a/mk_live_[redacted]/b/mk_live_[redacted]"
        );
        assert_eq!(redact_keys("/x/mk_live_"), "/x/mk_live_[redacted]");
        let plain = "/api/external/models/model_01m8kxj8qxr5147s0c8ahfvh2m";
        assert_eq!(redact_keys(plain), plain);
        assert!(matches!(redact_keys(plain), std::borrow::Cow::Borrowed(_)));
    }
}
