//! Webhook endpoints, their delivery attempts, and what a delivery carries.

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::{Time, examples};
use crate::store::{Attempt, Endpoint, EventType};

/// An endpoint to add: where to post, and which events.
#[derive(Debug, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://shop.example/hooks/mannequin", "events": ["model.completed", "batch.completed"]}))]
pub struct CreateWebhook {
    /// Absolute http or https URL without credentials or fragment; an
    /// internationalised host in its punycode (xn--) form.
    #[schema(format = "uri", pattern = "^https?://", max_length = 2048)]
    pub url: String,
    /// The events to receive; absent or null: every event.
    #[schema(min_items = 1, nullable)]
    pub events: Option<Vec<EventType>>,
}

/// Why an endpoint was refused: its code and message.
pub struct Refused {
    pub code: &'static str,
    pub message: String,
}

fn refused(code: &'static str, message: impl Into<String>) -> Refused {
    Refused {
        code,
        message: message.into(),
    }
}

impl CreateWebhook {
    /// Reads `{"url", "events"?}`: `url` a string; `events` absent or `null`
    /// for every event, else a non-empty list of known event types (repeats
    /// ignored, sorted). The URL itself is checked where it is used.
    pub fn from_json(body: &Map<String, Value>) -> Result<CreateWebhook, Refused> {
        if let Some(unknown) = body.keys().find(|k| *k != "url" && *k != "events") {
            return Err(refused(
                "unknown_field",
                format!("Unknown field '{unknown}': an endpoint has 'url' and 'events'."),
            ));
        }
        let url = match body.get("url") {
            Some(Value::String(url)) => url.clone(),
            None | Some(Value::Null) => return Err(refused("url_missing", "'url' is required.")),
            Some(_) => return Err(refused("url_invalid", "'url' must be a string.")),
        };
        let events = parse_events(body.get("events"))?;
        Ok(CreateWebhook { url, events })
    }
}

fn parse_events(value: Option<&Value>) -> Result<Option<Vec<EventType>>, Refused> {
    let known = || {
        EventType::all()
            .iter()
            .map(|t| format!("'{}'", t.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let list = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(list)) if !list.is_empty() => list,
        _ => {
            return Err(refused(
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
            refused(
                "events_invalid",
                format!("'events' may hold only {}.", known()),
            )
        })?;
        if !events.contains(&event) {
            events.push(event);
        }
    }
    events.sort();
    Ok(Some(events))
}

/// Whether an endpoint receives events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WebhookStatus {
    Enabled,
    Disabled,
}

/// A webhook endpoint (ours), never with its secret after it was created.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!(examples::webhook()))]
pub struct Webhook {
    pub id: String,
    pub url: String,
    /// The events it receives; null: every event.
    #[schema(required)]
    pub events: Option<Vec<EventType>>,
    pub status: WebhookStatus,
    /// Why it was disabled: every delivery failed for days (5 by default).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub disabled_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub disabled_at: Option<Time>,
    /// Since when every attempt has failed, while they do.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub failing_since: Option<Time>,
    pub created_at: Time,
}

impl From<Endpoint> for Webhook {
    fn from(e: Endpoint) -> Webhook {
        Webhook {
            id: e.id.into_string(),
            url: e.url,
            events: (!e.events.is_empty()).then_some(e.events),
            status: if e.disabled_at.is_some() {
                WebhookStatus::Disabled
            } else {
                WebhookStatus::Enabled
            },
            disabled_reason: e.disabled_reason,
            disabled_at: e.disabled_at.map(Time),
            failing_since: e.failing_since.map(Time),
            created_at: Time(e.created_at),
        }
    }
}

/// A webhook endpoint as created: with its signing secret, shown only here.
#[derive(Serialize, ToSchema)]
#[schema(example = json!(examples::webhook_created()))]
pub struct WebhookCreated {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The signing secret, shown only here: verify each delivery's
    /// webhook-signature with it.
    #[schema(pattern = "^whsec_[A-Za-z0-9+/=]+$")]
    pub secret: String,
}

/// Every endpoint of the account, oldest first.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"webhooks": [examples::webhook()], "count": 1}))]
#[serde(deny_unknown_fields)]
pub struct WebhookList {
    pub webhooks: Vec<Webhook>,
    pub count: usize,
}

/// A removed endpoint.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"id": "wh_01j9zq3k5v8m2c4x6b7n9p0r1e", "deleted": true}))]
pub struct WebhookDeleted {
    pub id: String,
    /// Always true.
    pub deleted: bool,
}

/// One attempt to deliver an event to an endpoint.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!(examples::attempt()))]
pub struct WebhookAttempt {
    pub id: String,
    /// The webhook-id header: the same on every attempt of one event.
    pub event_id: String,
    #[schema(value_type = EventType)]
    pub event_type: String,
    /// 1 for the event's first attempt at this endpoint.
    #[schema(minimum = 1)]
    pub attempt: u32,
    /// The endpoint answered 2xx.
    pub delivered: bool,
    /// The endpoint's answer, when it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub status_code: Option<u16>,
    /// Why it did not count as delivered: the status and the start of the
    /// answer, a timeout, a refused address, a redirect (never followed).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub error: Option<String>,
    pub duration_ms: i64,
    pub attempted_at: Time,
}

impl From<Attempt> for WebhookAttempt {
    fn from(a: Attempt) -> WebhookAttempt {
        WebhookAttempt {
            id: a.id.to_string(),
            event_id: a.event_id.into_string(),
            event_type: a.event_type,
            attempt: a.attempt,
            delivered: a.error.is_none(),
            status_code: a.status_code,
            error: a.error,
            duration_ms: a.duration_ms,
            attempted_at: Time(a.attempted_at),
        }
    }
}

/// A page of an endpoint's delivery attempts, newest first.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"deliveries": [examples::attempt()], "count": 1, "nextCursor": null}))]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDeliveries {
    pub deliveries: Vec<WebhookAttempt>,
    pub count: usize,
    /// The cursor of the next page; null on the last.
    #[schema(required)]
    pub next_cursor: Option<String>,
}

/// What a delivery posts: the event's type, when it happened, and the model
/// or batch as the API shows it when the event is first sent.
#[derive(Serialize)]
pub struct Delivery<T> {
    #[serde(rename = "type")]
    pub event: EventType,
    pub timestamp: Time,
    pub data: T,
}
