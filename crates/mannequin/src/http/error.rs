//! The one error type of the HTTP layer and its mapping to the contract's JSON
//! errors. 5xx bodies are opaque; their cause is logged under the request's
//! correlation id.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mannequin_domain::{Credits, RequestError};
use tracing::error;

use crate::error::Report;
use crate::keys::Scope;
use crate::store::{RegisterError, StoreError};

#[derive(Debug)]
pub enum ApiError {
    Invalid(RequestError),
    /// Any other refused input: 400 with this code and message.
    BadRequest {
        code: &'static str,
        message: String,
    },
    /// Well-formed input this service will not act on: 422.
    Unprocessable {
        code: &'static str,
        message: String,
    },
    /// The request conflicts with what exists: 409.
    Conflict {
        code: &'static str,
        message: String,
    },
    MalformedJson(String),
    UnsupportedContentType,
    Unauthorized,
    /// `/metrics` without its bearer token: 401.
    MetricsToken,
    MissingScope(Scope),
    /// A signed image URL without its signature, or past its expiry: 403.
    MediaLink(crate::blob::signing::Refused),
    NotFound,
    /// A record the request names is not the account's: 404 with the
    /// sentence saying which ("Product not found.").
    Missing(String),
    InsufficientCredits {
        required: Credits,
        available: Credits,
    },
    IdempotencyKeyReused,
    NotCancellable,
    /// An upload over its limit, refused before the rest is read: 413, and
    /// the connection closes.
    PayloadTooLarge(String),
    RateLimited {
        retry_after_secs: u64,
    },
    Unavailable,
    Internal,
}

/// What the envelope middleware renders as the JSON body (with the correlation id).
#[derive(Debug, Clone)]
pub struct ErrorBody {
    pub message: String,
    pub code: &'static str,
}

impl From<RequestError> for ApiError {
    fn from(e: RequestError) -> Self {
        ApiError::Invalid(e)
    }
}

/// The edge where a store failure is logged, once, with its causes; the
/// client hears only 503 or 500.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        error!(error = %Report(&e), "store failure");
        match e {
            StoreError::Unavailable(_) => ApiError::Unavailable,
            StoreError::Internal(_) => ApiError::Internal,
        }
    }
}

impl From<RegisterError> for ApiError {
    fn from(e: RegisterError) -> Self {
        match e {
            RegisterError::InsufficientCredits {
                required,
                available,
            } => ApiError::InsufficientCredits {
                required,
                available,
            },
            // The key's account vanished: as good as an invalid key.
            RegisterError::UnknownAccount => ApiError::Unauthorized,
            RegisterError::IdempotencyKeyReused => ApiError::IdempotencyKeyReused,
            RegisterError::Store(e) => e.into(),
        }
    }
}

impl ApiError {
    /// The status, code and message a client is told.
    pub(crate) fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            ApiError::Invalid(e) => (StatusCode::BAD_REQUEST, e.code(), e.to_string()),
            ApiError::BadRequest { code, message } => {
                (StatusCode::BAD_REQUEST, code, message.clone())
            }
            ApiError::Unprocessable { code, message } => {
                (StatusCode::UNPROCESSABLE_ENTITY, code, message.clone())
            }
            ApiError::Conflict { code, message } => (StatusCode::CONFLICT, code, message.clone()),
            ApiError::MalformedJson(detail) => (
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("The body is not valid JSON: {detail}"),
            ),
            ApiError::UnsupportedContentType => (
                StatusCode::BAD_REQUEST,
                "unsupported_content_type",
                "Content-Type must be application/json.".into(),
            ),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Missing or invalid API key.".into(),
            ),
            ApiError::MetricsToken => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Missing or invalid metrics token (Authorization: Bearer …).".into(),
            ),
            ApiError::MissingScope(s) => (
                StatusCode::FORBIDDEN,
                "missing_scope",
                format!("Missing required scope: '{}'.", s.as_str()),
            ),
            ApiError::MediaLink(crate::blob::signing::Refused::BadSignature) => (
                StatusCode::FORBIDDEN,
                "invalid_signature",
                "This image URL is not signed, or its signature does not match.".into(),
            ),
            ApiError::MediaLink(crate::blob::signing::Refused::Expired) => (
                StatusCode::FORBIDDEN,
                "link_expired",
                "This image URL has expired; read the model again for a fresh one.".into(),
            ),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found", "Not found.".into()),
            ApiError::Missing(what) => (StatusCode::NOT_FOUND, "not_found", what.clone()),
            ApiError::InsufficientCredits {
                required,
                available,
            } => (
                StatusCode::PAYMENT_REQUIRED,
                "insufficient_credits",
                format!("Insufficient credits. Required: {required}, available: {available}."),
            ),
            ApiError::IdempotencyKeyReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "This Idempotency-Key was used with a different request.".into(),
            ),
            ApiError::NotCancellable => (
                StatusCode::CONFLICT,
                "not_cancellable",
                "The model has already started or finished; only PENDING models can be cancelled."
                    .into(),
            ),
            ApiError::PayloadTooLarge(message) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                message.clone(),
            ),
            ApiError::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Rate limit exceeded. Retry later.".into(),
            ),
            ApiError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "The service is temporarily unavailable. Retry later.".into(),
            ),
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal server error.".into(),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = self.parts();
        let mut res = status.into_response();
        let retry_after = match self {
            ApiError::RateLimited { retry_after_secs } => Some(retry_after_secs.max(1)),
            ApiError::Unavailable => Some(2),
            _ => None,
        };
        if let Some(secs) = retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            // The client may still be sending what was refused.
            res.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        res.extensions_mut().insert(ErrorBody { message, code });
        res
    }
}

/// The body for an error response the framework made itself (no route, wrong
/// method, body too large, bad path): its status says what happened.
pub fn framework_error(status: StatusCode) -> ErrorBody {
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "Not found."),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "Method not allowed."),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "Request body too large (limit 64 KiB).",
        ),
        StatusCode::REQUEST_TIMEOUT => (
            "request_timeout",
            "The request's body did not arrive in time.",
        ),
        StatusCode::URI_TOO_LONG => (
            "uri_too_long",
            "The request's URI is too long (at most 8 KiB).",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_content_type",
            "Content-Type must be application/json.",
        ),
        s if s.is_server_error() => ("internal", "Internal server error."),
        _ => ("bad_request", "Bad request."),
    };
    ErrorBody {
        message: message.into(),
        code,
    }
}
