//! A request's JSON body, read as the view it declares.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::error::ApiError;
use super::json;
use crate::views::models::{RegisterIdeas, Vote};
use crate::views::webhooks::CreateWebhook;

/// A JSON object body read as the view `T`: the content type checked, a key
/// named twice refused, then `T`'s own rules, each with its error code. The
/// handler takes it with [`Body::read`] once it has checked the caller's
/// scope, so a caller without it hears 403 whatever the body holds.
pub struct Body<T>(Result<T, ApiError>);

impl<T> Body<T> {
    pub fn read(self) -> Result<T, ApiError> {
        self.0
    }
}

/// A view read from a request's JSON object.
pub trait FromBody: Sized {
    fn from_body(body: &Map<String, Value>) -> Result<Self, ApiError>;
}

impl<S: Send + Sync, T: FromBody> FromRequest<S> for Body<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
        // An oversized body is 413 whatever it claims to be.
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if !json_type {
            return Ok(Body(Err(ApiError::UnsupportedContentType)));
        }
        Ok(Body(match json::parse_unique(&bytes) {
            Ok(Value::Object(map)) => T::from_body(&map),
            Ok(_) => Err(ApiError::MalformedJson("expected a JSON object".into())),
            Err(e) => Err(ApiError::MalformedJson(e.to_string())),
        }))
    }
}

impl FromBody for RegisterIdeas {
    fn from_body(body: &Map<String, Value>) -> Result<Self, ApiError> {
        Ok(RegisterIdeas::from_json(body)?)
    }
}

impl FromBody for crate::views::pictures::RegisterImageIdeas {
    fn from_body(body: &Map<String, Value>) -> Result<Self, ApiError> {
        let b = crate::views::pictures::RegisterPictures::from_json(body)?;
        Ok(Self {
            config: b.config,
            count: b.count,
        })
    }
}

impl FromBody for crate::views::pictures::RegisterPackshotIdeas {
    fn from_body(body: &Map<String, Value>) -> Result<Self, ApiError> {
        let b = crate::views::pictures::RegisterPictures::from_json(body)?;
        Ok(Self {
            config: b.config,
            count: b.count,
        })
    }
}

impl FromBody for Vote {
    fn from_body(body: &Map<String, Value>) -> Result<Self, ApiError> {
        Ok(Vote::from_json(body)?)
    }
}

impl FromBody for CreateWebhook {
    fn from_body(body: &Map<String, Value>) -> Result<Self, ApiError> {
        CreateWebhook::from_json(body).map_err(|r| ApiError::BadRequest {
            code: r.code,
            message: r.message,
        })
    }
}
