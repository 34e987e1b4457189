//! The one error body every failed request answers with.

use serde::Serialize;
use utoipa::ToSchema;

/// An error: its message, its code and the request's correlation id.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "error": "Insufficient credits. Required: 40, available: 30.",
    "code": "insufficient_credits",
    "correlationId": "01j9zq3k5v8m2c4x6b7n9p0r1d"
}))]
pub struct Error<'a> {
    /// Human-readable.
    pub error: &'a str,
    /// (ours) Stable snake_case identifier.
    pub code: &'a str,
    /// (ours) The request's correlation id, as in the X-Correlation-Id header
    /// and the logs.
    pub correlation_id: &'a str,
}
