//! The API description, generated. Each route is declared once, by its
//! handler's `#[utoipa::path]`: [`api_routes`] mounts the handlers from those
//! declarations and collects their operations, and each schema comes from
//! its view (`crate::views`). [`finish`] then adds what every operation
//! shares, declared here once: the error answers and their headers, the
//! correlation id, the rate-limit headers, 405, the security schemes, the
//! examples and the webhooks.

use serde_json::{Map, Value, json};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{
    AppState, assets, details, events, models, pictures, presets, products, sceneries, webhooks,
};
use crate::store::{Ending, EventType};
use crate::views;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "mannequin Models API",
        description = "The Qamera Models API as mannequin implements it. Operations and fields marked (ours) are additions that clients written for the public API can ignore. Decisions where the contract is silent: docs/api.md.",
    ),
    tags(
        (name = "Models", description = "Register ideas, list and read models, vote, cancel."),
        (name = "Sceneries", description = "The empty sets models are photographed in: register ideas, list and read sceneries, vote, cancel; as models."),
        (name = "Photo shoots", description = "Pictures of the shop's product on an approved model, in a scenery, following a preset (Qamera's image picker): register, list, read, vote, cancel."),
        (name = "Packshots", description = "The shop's product alone, framed the same way every time: register, list, read, vote, cancel."),
        (name = "Products", description = "A shop's own product photos: Qamera's list; ours: upload (multipart/form-data), one product, delete. No credits."),
        (name = "Presets", description = "Photography guidelines photo shoots and packshots follow: the system's and the account's own."),
        (name = "Batches", description = "(ours) One register-ideas call: its status, its models' progress and credits."),
        (name = "Credits", description = "(ours) The account's balances and ledger."),
        (name = "Webhooks", description = "(ours) Signed callbacks (Standard Webhooks) when models and batches finish. Needs webhooks.manage."),
    ),
    components(schemas(
        views::error::Error,
        views::batches::ModelEvent,
        EventType,
        mannequin_domain::StatusFilter
    )),
)]
struct Description;

/// The API's routes, each mounted from its handler's declaration, and the
/// operations they make.
pub(super) fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(Description::openapi())
        .routes(routes!(models::list_models))
        .routes(routes!(models::register_ideas))
        .routes(routes!(models::get_model))
        .routes(routes!(models::vote_model))
        .routes(routes!(models::cancel_model))
        .routes(routes!(sceneries::list_sceneries))
        .routes(routes!(sceneries::register_scenery_ideas))
        .routes(routes!(sceneries::get_scenery))
        .routes(routes!(sceneries::vote_scenery))
        .routes(routes!(sceneries::cancel_scenery))
        .routes(routes!(pictures::list_images))
        .routes(routes!(pictures::register_image_ideas))
        .routes(routes!(pictures::get_image))
        .routes(routes!(pictures::vote_image))
        .routes(routes!(pictures::cancel_image))
        .routes(routes!(pictures::list_packshots))
        .routes(routes!(pictures::register_packshot_ideas))
        .routes(routes!(pictures::get_packshot))
        .routes(routes!(pictures::vote_packshot))
        .routes(routes!(pictures::cancel_packshot))
        .routes(routes!(products::list_products, products::upload_product))
        .routes(routes!(products::get_product, products::delete_product))
        .routes(routes!(presets::list_presets, presets::create_preset))
        .routes(routes!(presets::get_preset, presets::delete_preset))
        .routes(routes!(details::get_batch))
        .routes(routes!(events::batch_events))
        .routes(routes!(assets::cancel_batch))
        .routes(routes!(details::get_order))
        .routes(routes!(details::get_credits))
        .routes(routes!(details::get_ledger))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::get, webhooks::delete))
        .routes(routes!(webhooks::enable))
        .routes(routes!(webhooks::deliveries))
}

/// The server `docs/openapi.json` names (`mannequin openapi`'s default):
/// the default `--listen`.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// The description as served, with `public_url` as its server.
pub fn document(public_url: &str) -> String {
    let doc = api_routes().into_openapi();
    let mut doc = serde_json::to_value(&doc).expect("an OpenAPI description serializes");
    finish(&mut doc, public_url);
    serde_json::to_string_pretty(&doc).expect("JSON serializes")
}

/// Statuses every operation may answer with the error body: a request
/// without Host (400), no or a bad key (401), a key without the scope (403),
/// another method (405), a URI too long (414), the rate limit (429), and a
/// failure or an outage (500, 503).
const EVERY_OPERATION: [(&str, &str); 8] = [
    (
        "400",
        "The request is malformed: its parameters, or its head.",
    ),
    ("401", "Missing or invalid API key (code unauthorized)."),
    (
        "403",
        "The key lacks the operation's scope (code missing_scope).",
    ),
    (
        "405",
        "Another method than this path's (code method_not_allowed); the Allow header names this path's methods.",
    ),
    ("414", "The URI is longer than 8 KiB (code uri_too_long)."),
    (
        "429",
        "The account's rate limit (code rate_limited); Retry-After says when to come back.",
    ),
    (
        "500",
        "An internal failure (code internal); the body says nothing more, the logs say why under the correlation id.",
    ),
    (
        "503",
        "The database or the queue is unreachable for now (code unavailable); Retry-After says when to retry.",
    ),
];

/// Statuses an operation with a body may also answer: the body arrived too
/// slowly (408) or is larger than 64 KiB (413).
const WITH_A_BODY: [(&str, &str); 2] = [
    (
        "408",
        "The body did not arrive in time (code request_timeout).",
    ),
    (
        "413",
        "The body is larger than 64 KiB (code payload_too_large).",
    ),
];

fn headers() -> Value {
    json!({
        "X-Correlation-Id": {"$ref": "#/components/headers/X-Correlation-Id"},
        "RateLimit-Policy": {"$ref": "#/components/headers/RateLimit-Policy"},
        "RateLimit": {"$ref": "#/components/headers/RateLimit"},
    })
}

/// Adds what every operation shares to the generated description.
fn finish(doc: &mut Value, public_url: &str) {
    doc["servers"] = json!([{"url": public_url}]);
    doc["security"] = json!([{"ApiKey": []}, {"Bearer": []}]);
    let mut error_headers = headers();
    error_headers["Retry-After"] = json!({
        "description": "On 429 and 503: seconds to wait.",
        "schema": {"type": "integer"},
    });
    let components = doc["components"].as_object_mut().expect("components");
    components.insert(
        "securitySchemes".into(),
        json!({
            "ApiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            "Bearer": {"type": "http", "scheme": "bearer"},
        }),
    );
    components.insert(
        "parameters".into(),
        json!({"CorrelationId": {
            "name": "X-Correlation-Id",
            "in": "header",
            "schema": {"type": "string"},
            "description": "Any value is accepted: kept when it is 1-128 characters of A-Z a-z 0-9 . _ -, else replaced by one of ours; always echoed in the response header.",
        }}),
    );
    components.insert(
        "responses".into(),
        json!({"Error": {
            "description": "An error: its message, code and correlation id.",
            "headers": error_headers,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }}),
    );
    components.insert(
        "headers".into(),
        json!({
            "X-Correlation-Id": {
                "description": "The request's correlation id: the client's when it sent a valid one, else ours. Also in every error body and in the logs.",
                "schema": {"type": "string"},
            },
            "RateLimit-Policy": {
                "description": "(ours) The account's limit, per the IETF RateLimit header fields draft: \"account\";q=<burst>;w=<seconds to refill>. On every answer while limiting is on.",
                "schema": {"type": "string"},
                "example": "\"account\";q=100;w=2",
            },
            "RateLimit": {
                "description": "(ours) What is left: \"account\";r=<requests left in the burst>;t=<seconds until whole>. On every answer for a known key.",
                "schema": {"type": "string"},
                "example": "\"account\";r=57;t=1",
            },
        }),
    );
    add_event_schemas(components);
    close_compositions(doc);
    let schemas = doc["components"]["schemas"].clone();
    for item in doc["paths"].as_object_mut().expect("paths").values_mut() {
        for op in item.as_object_mut().expect("a path item").values_mut() {
            conventions(op, &schemas);
        }
    }
    doc["webhooks"] = webhooks_section();
}

/// One operation's shared parts: the correlation id, the answers' headers,
/// the error answers as the one Error response, and examples.
fn conventions(op: &mut Value, schemas: &Value) {
    let params = op["parameters"].as_array_mut().map(std::mem::take);
    let mut params = params.unwrap_or_default();
    params.push(json!({"$ref": "#/components/parameters/CorrelationId"}));
    op["parameters"] = Value::Array(params);
    if let Some(content) = op.get_mut("requestBody").and_then(|b| b.get_mut("content")) {
        example_from_schema(content, schemas);
    }
    let has_body = op.get("requestBody").is_some();
    let responses = op["responses"].as_object_mut().expect("responses");
    for (status, res) in responses.iter_mut() {
        if status.starts_with('4') || status.starts_with('5') {
            *res = json!({
                "$ref": "#/components/responses/Error",
                "description": res["description"],
            });
        } else {
            // The shared headers, then the operation's own.
            let mut all = headers();
            if let (Value::Object(all), Some(own)) =
                (&mut all, res.get("headers").and_then(Value::as_object))
            {
                all.extend(own.clone());
            }
            res["headers"] = all;
            if let Some(content) = res.get_mut("content") {
                example_from_schema(content, schemas);
                if let Some(stream) = content.get_mut("text/event-stream") {
                    stream["schema"] = event_stream();
                }
            }
        }
    }
    let shared = EVERY_OPERATION
        .iter()
        .chain(if has_body { &WITH_A_BODY[..] } else { &[] });
    for (status, description) in shared {
        responses.entry(*status).or_insert_with(
            || json!({"$ref": "#/components/responses/Error", "description": description}),
        );
    }
    // Statuses in order, as people read them.
    let mut sorted: Vec<(String, Value)> = std::mem::take(responses).into_iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    responses.extend(sorted);
}

/// An event stream's schema: the stream's text as a whole (what a client
/// reads in one piece), or one event of it (what a client reading event by
/// event sees), its `data` the JSON of a ModelEvent or, last, the Batch.
fn event_stream() -> Value {
    // Each kind's five, then the batch's end.
    let names: Vec<String> = mannequin_domain::AssetKind::ALL
        .iter()
        .flat_map(|kind| {
            ["pending", "processing", "completed", "failed", "cancelled"]
                .map(|what| format!("{kind}.{what}"))
        })
        .chain(["batch.completed".to_string()])
        .collect();
    json!({"oneOf": [
        {"type": "string", "description": "The stream's text."},
        {
            "type": "object",
            "description": "One event of the stream.",
            "required": ["event", "data"],
            "properties": {
                "id": {"type": "string", "description": "The change's time in ms; send it back as Last-Event-ID to resume."},
                "event": {"type": "string", "enum": names},
                "data": {
                    "type": "string",
                    "contentMediaType": "application/json",
                    "contentSchema": {"oneOf": [
                        {"$ref": "#/components/schemas/ModelEvent"},
                        {"$ref": "#/components/schemas/Batch"},
                    ]},
                },
            },
        },
    ]})
}

/// Gives each JSON media type without an example its schema's.
fn example_from_schema(content: &mut Value, schemas: &Value) {
    let Some(content) = content.as_object_mut() else {
        return;
    };
    for media in content.values_mut() {
        if media.get("example").is_some() {
            continue;
        }
        let example = media["schema"]["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .map(|name| &schemas[name])
            .and_then(|s| s.get("example").or_else(|| s["examples"].get(0)));
        if let Some(example) = example {
            media["example"] = example.clone();
        }
    }
}

/// An answer holds no field its description does not name: each view says
/// so itself (`deny_unknown_fields`: `additionalProperties: false`), except
/// the ones another view extends (`#[serde(flatten)]`, an `allOf`), which
/// stay open so that the extension validates. Here those compositions, and
/// every other place such a base is used, are closed with
/// `unevaluatedProperties: false`, which sees through the `allOf` and `$ref`.
fn close_compositions(doc: &mut Value) {
    let Some(map) = doc["components"]["schemas"].as_object_mut() else {
        return;
    };
    let mut bases = Vec::new();
    for schema in map.values_mut() {
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            bases.extend(
                parts
                    .iter()
                    .filter_map(|p| p["$ref"].as_str())
                    .map(str::to_string),
            );
            schema["unevaluatedProperties"] = json!(false);
        }
    }
    /// Closes each `$ref` to a base below `value`, outside `allOf` lists.
    fn close(value: &mut Value, bases: &[String]) {
        match value {
            Value::Object(o) => {
                let is_base = o
                    .get("$ref")
                    .and_then(Value::as_str)
                    .is_some_and(|r| bases.iter().any(|b| b == r));
                if is_base {
                    o.insert("unevaluatedProperties".into(), json!(false));
                }
                for (key, child) in o.iter_mut() {
                    if key != "allOf" {
                        close(child, bases);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| close(v, bases)),
            _ => {}
        }
    }
    close(&mut doc["components"]["schemas"], &bases);
    close(&mut doc["paths"], &bases);
}

/// What each event means and what its data is.
fn event_doc(event: EventType) -> (String, &'static str, String) {
    match event {
        EventType::Asset(kind, ending) => {
            let noun = kind.declaration().noun;
            let path = format!("GET /api/external/{}/{{id}}", kind.declaration().path);
            let (summary, about) = match ending {
                Ending::Completed => (
                    format!("A {noun} reached DONE; its price was consumed."),
                    format!("The {noun}, as {path} shows it when the event is first sent."),
                ),
                Ending::Failed => (
                    format!("A {noun} FAILED; its price was refunded."),
                    format!("The {noun}, with its failureReason; its price was refunded."),
                ),
                Ending::Cancelled => (
                    format!("A {noun} was CANCELLED; its price was refunded."),
                    format!("The {noun}; its price was refunded."),
                ),
            };
            (summary, "ModelDetail", about)
        }
        EventType::BatchCompleted => (
            "Every model of a batch is terminal.".into(),
            "Batch",
            "The batch, as GET /api/external/batches/{id} shows it: its status, every model terminal, with counts and credits.".into(),
        ),
    }
}

/// An event's name in camelCase: `model.completed` → `modelCompleted`, the
/// id of its webhook operation.
fn camel(event: EventType) -> String {
    let mut parts = event.as_str().split('.');
    let mut name = parts.next().unwrap_or_default().to_string();
    for part in parts {
        let mut chars = part.chars();
        name.extend(chars.next().map(|c| c.to_ascii_uppercase()));
        name.push_str(chars.as_str());
    }
    name
}

/// The schema name of an event's payload: `model.completed` → `ModelCompletedEvent`.
fn event_schema(event: EventType) -> String {
    let name = camel(event);
    let mut chars = name.chars();
    let first = chars.next().map(|c| c.to_ascii_uppercase());
    first
        .into_iter()
        .chain(chars)
        .chain("Event".chars())
        .collect()
}

/// Each event's payload (`views::webhooks::Delivery`): its type, its time and
/// its data.
fn add_event_schemas(components: &mut Map<String, Value>) {
    let schemas = components["schemas"].as_object_mut().expect("schemas");
    for event in EventType::all() {
        let (_, data, about) = event_doc(event);
        schemas.insert(
            event_schema(event),
            json!({
                "type": "object",
                "additionalProperties": false,
                "required": ["type", "timestamp", "data"],
                "properties": {
                    "type": {"type": "string", "const": event.as_str()},
                    "timestamp": {"type": "string", "format": "date-time", "description": "When it happened."},
                    "data": {"$ref": format!("#/components/schemas/{data}"), "description": about},
                },
            }),
        );
    }
}

/// The 3.1 `webhooks`: one POST per event type, signed per the Standard
/// Webhooks specification.
fn webhooks_section() -> Value {
    let mut section = Map::new();
    for event in EventType::all() {
        let (summary, _, _) = event_doc(event);
        section.insert(event.as_str().into(), json!({"post": {
            "operationId": camel(event),
            "tags": ["Webhooks"],
            "summary": summary,
            "parameters": [
                {"name": "webhook-id", "in": "header", "required": true,
                 "schema": {"type": "string", "pattern": "^evt_"},
                 "description": "The event's id: the same on every retry; deduplicate on it."},
                {"name": "webhook-timestamp", "in": "header", "required": true,
                 "schema": {"type": "string", "pattern": "^[0-9]+$"},
                 "description": "Seconds since the epoch when this attempt was signed; refuse old ones."},
                {"name": "webhook-signature", "in": "header", "required": true,
                 "schema": {"type": "string", "pattern": "^v1,"},
                 "description": "v1, then base64 HMAC-SHA256 of '{webhook-id}.{webhook-timestamp}.{body}' keyed with the base64-decoded part of the secret after whsec_."},
            ],
            "requestBody": {"required": true, "content": {"application/json": {
                "schema": {"$ref": format!("#/components/schemas/{}", event_schema(event))},
            }}},
            "responses": {"2XX": {"description": "Delivered. Any other answer, a timeout (10 s) or a redirect is retried: after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, each ±20%."}},
        }}));
    }
    Value::Object(section)
}
