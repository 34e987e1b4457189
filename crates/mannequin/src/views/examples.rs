//! Examples of the views, as the description shows them: one model, one
//! endpoint, one attempt and one ledger entry, which the lists and the
//! composed views reuse.

use serde_json::{Value, json};

pub fn model() -> Value {
    json!({
        "id": "model_01j9zq3k5v8m2c4x6b7n9p0r1s",
        "name": "Female Model - Sportswear",
        "thumbnail": "https://mannequin.example/media/models/model_01j9zq3k5v8m2c4x6b7n9p0r1s.thumb.jpg",
        "status": "DONE",
        "voting": "PENDING",
        "createdAt": "2026-03-20T14:00:00.000Z",
        "batchId": "batch_01j9zq3k5v8m2c4x6b7n9p0r1a",
        "image": "https://mannequin.example/media/models/model_01j9zq3k5v8m2c4x6b7n9p0r1s.png",
        "prompt": "Studio photograph of a young female model, athletic build, natural makeup, for sportswear",
        "seed": 1_234_567,
        "generator": "openai/gpt-image-1"
    })
}

/// A product as lists show it.
pub fn product() -> Value {
    json!({
        "id": "prod_01j9zq3k5v8m2c4x6b7n9p0r1s",
        "name": "White T-Shirt Front",
        "thumbnail": "https://mannequin.example/media/products/1s/prod_01j9zq3k5v8m2c4x6b7n9p0r1s.thumb.jpg",
        "status": "UPLOADED",
        "createdAt": "2026-03-20T14:00:00.000Z",
        "image": "https://mannequin.example/media/products/1s/prod_01j9zq3k5v8m2c4x6b7n9p0r1s.jpg",
        "width": 2400,
        "height": 3200
    })
}

/// A scenery as lists show it.
pub fn scenery() -> Value {
    json!({
        "id": "scenery_01j9zq3k5v8m2c4x6b7n9p0r1s",
        "name": "Studio - White Seamless Paper",
        "thumbnail": "https://mannequin.example/media/sceneries/1s/scenery_01j9zq3k5v8m2c4x6b7n9p0r1s.thumb.jpg",
        "status": "DONE",
        "voting": "PENDING",
        "createdAt": "2026-03-20T14:00:00.000Z",
        "batchId": "batch_01j9zq3k5v8m2c4x6b7n9p0r1a",
        "image": "https://mannequin.example/media/sceneries/1s/scenery_01j9zq3k5v8m2c4x6b7n9p0r1s.png",
        "prompt": "Photograph of a set for full-body fashion photography, empty, with no people in it. White studio. Seamless paper backdrop. Camera at waist height, level, with room for a standing person from head to toe; sharp focus, photorealistic.",
        "seed": 7_654_321,
        "generator": "builtin"
    })
}

/// A photo shoot picture or a packshot, as a list shows it.
pub fn picture(id: &str, name: &str) -> Value {
    let folder = if id.starts_with("ps_") {
        "packshots"
    } else {
        "images"
    };
    let shard = &id[id.len() - 2..];
    json!({
        "id": id,
        "name": name,
        "thumbnail": format!("https://mannequin.example/media/{folder}/{shard}/{id}.thumb.jpg"),
        "status": "DONE",
        "voting": "PENDING",
        "createdAt": "2026-03-20T14:00:00.000Z",
        "batchId": "batch_01j9zq3k5v8m2c4x6b7n9p0r1a",
        "image": format!("https://mannequin.example/media/{folder}/{shard}/{id}.jpg"),
        "seed": 7_654_321,
        "generator": "builtin"
    })
}

/// A model with everything known about it: [`model`] and the rest.
pub fn model_detail() -> Value {
    let mut detail = model();
    let more = json!({
        "orderId": "order_01j9zq3k5v8m2c4x6b7n9p0r1b",
        "preferences": "young female model, athletic build, natural makeup, for sportswear",
        "idea": {"gender": "female", "age": "young adult", "build": "athletic", "makeup": "natural", "covered": false},
        "attempts": 1,
        "startedAt": "2026-03-20T14:00:02.140Z",
        "finishedAt": "2026-03-20T14:00:21.003Z"
    });
    merge(&mut detail, more);
    detail
}

pub fn webhook() -> Value {
    json!({
        "id": "wh_01j9zq3k5v8m2c4x6b7n9p0r1e",
        "url": "https://shop.example/hooks/mannequin",
        "events": ["model.completed", "batch.completed"],
        "status": "enabled",
        "createdAt": "2026-03-20T14:00:00.000Z"
    })
}

/// An endpoint as created: [`webhook`] with its secret.
pub fn webhook_created() -> Value {
    let mut created = webhook();
    merge(
        &mut created,
        json!({"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}),
    );
    created
}

pub fn attempt() -> Value {
    json!({
        "id": "7",
        "eventId": "evt_01j9zq3k5v8m2c4x6b7n9p0r1f",
        "eventType": "model.completed",
        "attempt": 1,
        "delivered": true,
        "statusCode": 204,
        "durationMs": 38,
        "attemptedAt": "2026-03-20T14:00:21.090Z"
    })
}

pub fn ledger_entry() -> Value {
    json!({
        "id": "42",
        "kind": "consume",
        "amount": 10,
        "modelId": "model_01j9zq3k5v8m2c4x6b7n9p0r1s",
        "reservationId": "res_01j9zq3k5v8m2c4x6b7n9p0r1c",
        "batchId": "batch_01j9zq3k5v8m2c4x6b7n9p0r1a",
        "correlationId": "01j9zq3k5v8m2c4x6b7n9p0r1d",
        "createdAt": "2026-03-20T14:00:21.003Z"
    })
}

fn merge(into: &mut Value, more: Value) {
    if let (Value::Object(into), Value::Object(more)) = (into, more) {
        into.extend(more);
    }
}
