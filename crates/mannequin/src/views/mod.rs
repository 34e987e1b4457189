//! The API's contract as types. Every request body, query, answer and error
//! body of the API, each live event and each webhook payload is one serde
//! type here, its OpenAPI schema derived beside it (utoipa): handlers take
//! and return these, the console and the webhooks show them, and
//! `http::openapi` gathers them into the description the server serves.
//!
//! Nothing here knows HTTP: a view is built from what the store read.

pub mod batches;
pub mod credits;
pub mod error;
mod examples;
pub mod models;
pub mod pictures;
pub mod presets;
pub mod products;
pub mod webhooks;

use serde::Serialize;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};

use crate::blob::BlobStore;

/// A time, as the contract writes it: RFC 3339 in UTC with milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Time(pub i64);

impl Serialize for Time {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let millis = mannequin_domain::time::Millis(self.0);
        match millis.rfc3339() {
            // Digits and punctuation: ASCII.
            Some(bytes) => s.serialize_str(std::str::from_utf8(&bytes).unwrap_or_default()),
            None => s.collect_str(&millis),
        }
    }
}

impl utoipa::PartialSchema for Time {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .examples([serde_json::json!("2026-03-20T14:00:00.000Z")])
            .into()
    }
}

impl utoipa::ToSchema for Time {}

/// An image's absolute URL, written where it is serialized.
#[derive(Clone, Copy)]
pub struct Url<'a>(&'a dyn BlobStore, &'a str);

impl<'a> Url<'a> {
    /// The URL of the image under `key`, or none without one.
    pub fn of(blobs: &'a dyn BlobStore, key: Option<&'a str>) -> Option<Url<'a>> {
        key.map(|k| Url(blobs, k))
    }
}

impl std::fmt::Display for Url<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.write_url(self.1, f)
    }
}

impl Serialize for Url<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl utoipa::PartialSchema for Url<'_> {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::Custom("uri".into())))
            .into()
    }
}

impl utoipa::ToSchema for Url<'_> {}
