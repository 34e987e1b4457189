//! The Models API: list models, register ideas, and vote (ours).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use mannequin_domain::ids::{BatchId, ModelId};
use mannequin_domain::request::{Cursor, parse_batch_id, parse_idempotency_key};
use mannequin_domain::{
    Brief, Count, Credits, Limit, Preferences, RequestError, StatusFilter, Voting, time,
};
use serde::Serialize;
use serde_json::Value;

use super::auth::Caller;
use super::error::ApiError;
use super::json;
use super::{AppState, CorrelationId};
use crate::batch::Order;
use crate::blob::BlobStore;
use crate::clock::now_ms;
use crate::keys::Scope;
use crate::store::{CancelTarget, ListQuery, ModelRef};

/// A model as lists, `GET /models/{id}` and webhooks show it: the contract's
/// six fields, then ours. Serialized from the row as read, image URLs and the
/// time written straight into the output.
pub struct ModelItem<'a> {
    blobs: &'a dyn BlobStore,
    row: ModelRef<'a>,
}

impl<'a> ModelItem<'a> {
    pub(super) fn new(blobs: &'a dyn BlobStore, row: ModelRef<'a>) -> ModelItem<'a> {
        ModelItem { blobs, row }
    }
}

/// An image's absolute URL, written where it is serialized.
struct MediaUrl<'a>(&'a dyn BlobStore, &'a str);

impl std::fmt::Display for MediaUrl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.write_url(self.1, f)
    }
}

impl Serialize for MediaUrl<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The value of one of an item's fields.
enum Field<'a> {
    Str(&'a str),
    /// An image's URL, or null when there is none.
    Url(Option<MediaUrl<'a>>),
    Time(i64),
    Int(i64),
}

impl Field<'_> {
    /// Appends the value as JSON, the bytes serde_json writes for it.
    fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Field::Str(s) => json::write_str(out, s),
            Field::Url(Some(MediaUrl(blobs, key))) => {
                out.push(b'"');
                // Writing into a Vec does not fail.
                let _ = blobs.write_url(key, &mut json::Escaping(out));
                out.push(b'"');
            }
            Field::Url(None) => out.extend_from_slice(b"null"),
            Field::Time(t) => match time::Millis(*t).rfc3339() {
                // Digits and punctuation: nothing to escape.
                Some(bytes) => {
                    out.push(b'"');
                    out.extend_from_slice(&bytes);
                    out.push(b'"');
                }
                None => json::write_display(out, &time::Millis(*t)),
            },
            Field::Int(n) => out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
        }
    }
}

impl Serialize for Field<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Str(v) => s.serialize_str(v),
            Field::Url(Some(url)) => s.collect_str(url),
            Field::Url(None) => s.serialize_none(),
            Field::Time(t) => s.collect_str(&time::Millis(*t)),
            Field::Int(n) => s.serialize_i64(*n),
        }
    }
}

/// Fields an item has, present or not.
const FIELDS: usize = 13;

impl<'a> ModelItem<'a> {
    /// The item's fields in the order written: the contract's six, then ours;
    /// a field without a value (`None`) is left out.
    fn fields(&self) -> [(&'static str, Option<Field<'a>>); FIELDS] {
        use Field::{Int, Str, Time, Url};
        let r = &self.row;
        let url = |key: Option<&'a str>| Url(key.map(|k| MediaUrl(self.blobs, k)));
        [
            ("id", Some(Str(r.id))),
            ("name", Some(Str(r.name))),
            ("thumbnail", Some(url(r.thumb_key))),
            ("status", Some(Str(r.status.as_str()))),
            ("voting", Some(Str(r.voting.as_str()))),
            ("createdAt", Some(Time(r.created_at))),
            ("batchId", Some(Str(r.batch_id))),
            ("image", Some(url(r.image_key))),
            ("failureReason", r.failure_reason.map(Str)),
            // What the generator was asked, once the model has settled.
            ("prompt", r.prompt.map(Str)),
            ("seed", r.seed.map(Int)),
            ("generator", r.generator.map(Str)),
            // What the generator could not follow.
            ("generatorNotes", r.generator_notes.map(Str)),
        ]
    }

    /// Appends the item as JSON: the bytes its `Serialize` gives serde_json,
    /// written without going through serde (a page is mostly this).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'{');
        let mut first = true;
        for (name, value) in self.fields() {
            let Some(value) = value else { continue };
            if !first {
                out.push(b',');
            }
            first = false;
            // A name needs no escaping (the test against serde says so).
            out.push(b'"');
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":");
            value.write_json(out);
        }
        out.push(b'}');
    }
}

impl Serialize for ModelItem<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("ModelItem", FIELDS)?;
        for (name, value) in self.fields() {
            match value {
                Some(v) => out.serialize_field(name, &v)?,
                None => out.skip_field(name)?,
            }
        }
        out.end()
    }
}

/// Bytes a list item takes, about, to size a page's buffer once.
const ITEM_BYTES: usize = 720;

/// `GET /api/external/models`: the page is written into one buffer as the
/// rows are read, `{"models":[…],"count":n,"nextCursor":…}`.
pub async fn list_models(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Read)?;
    let filter = StatusFilter::parse(params.get("statusFilter").map(String::as_str))?;
    let limit = Limit::parse(params.get("limit").map(String::as_str))?.get();
    let cursor = params.get("cursor").map(|c| Cursor::parse(c)).transpose()?;
    let batch_id = params
        .get("batchId")
        .map(|b| parse_batch_id(b))
        .transpose()?;
    let query = ListQuery {
        status: None,
        voting: None,
        filter,
        batch_id,
        cursor,
        // One more than the page: whether there is a next one.
        limit: limit + 1,
    };
    /// The page as it is written, and where it stands.
    struct Page {
        body: Vec<u8>,
        count: u32,
        more: bool,
        last: (i64, String),
    }
    let mut page = Page {
        body: Vec::with_capacity(64 + ITEM_BYTES * limit as usize),
        count: 0,
        more: false,
        last: (0, String::new()),
    };
    page.body.extend_from_slice(b"{\"models\":[");
    let blobs = std::sync::Arc::clone(&state.blobs);
    let Page {
        mut body,
        count,
        more,
        last,
    } = state
        .store
        .fold_models(caller.account_id(), &query, page, move |page, row| {
            if page.count == limit {
                page.more = true;
                return;
            }
            if page.count > 0 {
                page.body.push(b',');
            }
            ModelItem::new(blobs.as_ref(), row).write_json(&mut page.body);
            page.count += 1;
            page.last.0 = row.created_at;
            page.last.1.clear();
            page.last.1.push_str(row.id);
        })
        .await?;
    body.extend_from_slice(format!("],\"count\":{count},\"nextCursor\":").as_bytes());
    if more {
        let next = Cursor {
            created_at_ms: last.0,
            id: ModelId::trusted(last.1),
        };
        body.push(b'"');
        body.extend_from_slice(next.encode().as_bytes());
        body.push(b'"');
    } else {
        body.extend_from_slice(b"null");
    }
    body.push(b'}');
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Registered {
    created_record_ids: Vec<ModelId>,
    batch_id: BatchId,
    order_id: mannequin_domain::ids::OrderId,
    reservation_id: mannequin_domain::ids::ReservationId,
    credits_reserved: Credits,
}

/// Parses a JSON object body after checking its content type.
pub(super) fn json_object(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<serde_json::Map<String, Value>, ApiError> {
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if !json_type {
        return Err(ApiError::UnsupportedContentType);
    }
    match json::parse_unique(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::MalformedJson("expected a JSON object".into())),
        Err(e) => Err(ApiError::MalformedJson(e.to_string())),
    }
}

/// Reads `preferences` and `count` with the contract's rules. `count` must be
/// an integer: a JSON number without a fractional part, as JSON Schema counts
/// integers (`3` and `3.0` alike; `2.5`, `"3"` and `null` are refused);
/// absent means the default.
pub fn parse_register(
    body: &serde_json::Map<String, Value>,
) -> Result<(Preferences, Count), RequestError> {
    let preferences = match body.get("preferences") {
        None | Some(Value::Null) => return Err(RequestError::PreferencesMissing),
        Some(Value::String(s)) => Preferences::parse(s)?,
        Some(_) => return Err(RequestError::PreferencesNotString),
    };
    let count = match body.get("count") {
        None => Count::DEFAULT,
        Some(Value::Number(n)) => {
            let n = n
                .as_i64()
                .map(i128::from)
                .or_else(|| n.as_u64().map(i128::from))
                .or_else(|| {
                    // 1e3 and 3.0: whole, and far inside i128 once in range.
                    n.as_f64()
                        .filter(|f| f.is_finite() && f.fract() == 0.0 && f.abs() < 1e30)
                        .map(|f| f as i128)
                })
                .ok_or(RequestError::CountNotInteger)?;
            Count::try_from(n)?
        }
        Some(_) => return Err(RequestError::CountNotInteger),
    };
    Ok((preferences, count))
}

pub async fn register_ideas(
    State(state): State<AppState>,
    caller: Caller,
    Extension(CorrelationId(correlation_id)): Extension<CorrelationId>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require(Scope::Register)?;
    let idempotency_key = headers
        .get("idempotency-key")
        .map(|v| parse_idempotency_key(v.as_bytes()).map(str::to_string))
        .transpose()?;
    let body = json_object(&headers, &body)?;
    let (preferences, count) = parse_register(&body)?;
    let brief = Brief::new(preferences)?;
    let registration = state
        .register(Order {
            account: caller.account_id(),
            brief: &brief,
            count,
            correlation_id: &correlation_id,
            idempotency_key,
        })
        .await?;
    let replayed = registration.replayed;
    let mut res = Json(Registered {
        created_record_ids: registration.model_ids,
        batch_id: registration.batch_id,
        order_id: registration.order_id,
        reservation_id: registration.reservation_id,
        credits_reserved: registration.credits_reserved,
    })
    .into_response();
    if replayed {
        res.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(res)
}

/// `POST /api/external/models/{id}/vote` with `{"voting": "APPROVED"}` (ours).
pub async fn vote_model(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    caller.require(Scope::Register)?;
    // A malformed id names no model: 404 before any query, as for an unknown one.
    let id = ModelId::parse(&id).ok_or(ApiError::NotFound)?;
    let body = json_object(&headers, &body)?;
    let voting = body
        .get("voting")
        .and_then(Value::as_str)
        .and_then(|v| Voting::parse(&v.to_ascii_uppercase()))
        .ok_or(ApiError::Invalid(RequestError::VotingInvalid))?;
    if !state
        .store
        .set_voting(caller.account_id(), &id, voting, now_ms())
        .await?
    {
        return Err(ApiError::NotFound);
    }
    Ok(Json(
        serde_json::json!({"id": id, "voting": voting.as_str()}),
    ))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cancelled {
    cancelled_record_ids: Vec<ModelId>,
    credits_refunded: Credits,
}

async fn cancel(
    state: &AppState,
    caller: &Caller,
    target: CancelTarget,
) -> Result<Cancelled, ApiError> {
    caller.require(Scope::Register)?;
    let (cancelled, credits_refunded) = state
        .cancel(caller.account_id(), target)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Cancelled {
        cancelled_record_ids: cancelled.into_iter().map(|m| m.id).collect(),
        credits_refunded,
    })
}

/// `POST /api/external/models/{id}/cancel` (ours): cancels a model no worker has
/// started, refunding it; 409 when it already started or finished.
pub async fn cancel_model(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Cancelled>, ApiError> {
    let id = ModelId::parse(&id).ok_or(ApiError::NotFound)?;
    let cancelled = cancel(&state, &caller, CancelTarget::Model(id)).await?;
    if cancelled.cancelled_record_ids.is_empty() {
        return Err(ApiError::NotCancellable);
    }
    Ok(Json(cancelled))
}

/// `POST /api/external/batches/{id}/cancel` (ours): cancels every model of the
/// batch that no worker has started; the others go on.
pub async fn cancel_batch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Cancelled>, ApiError> {
    let id = BatchId::parse(&id).ok_or(ApiError::NotFound)?;
    Ok(Json(
        cancel(&state, &caller, CancelTarget::Batch(id)).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mannequin_domain::{ModelStatus, Voting};
    use proptest::prelude::*;

    fn row<'a>(prompt: Option<&'a str>, seed: Option<i64>) -> ModelRef<'a> {
        ModelRef {
            id: "model_1",
            batch_id: "batch_1",
            name: "Quote \" and \\ back",
            status: ModelStatus::Done,
            voting: Voting::Approved,
            thumb_key: Some("m/1.thumb.jpg"),
            image_key: None,
            failure_reason: None,
            created_at: 1_764_403_036_784,
            prompt,
            seed,
            generator: prompt.map(|_| "builtin"),
            generator_notes: None,
        }
    }

    /// The item's bytes: the contract's fields in order (absent images as
    /// null), ours only when they hold something, strings escaped.
    #[test]
    fn an_item_is_written_in_the_contracts_order_leaving_out_what_is_absent() {
        let blobs = crate::blob::local::LocalDisk::new("/nowhere".into(), "http://h/media", None);
        let bare = serde_json::to_string(&ModelItem::new(&blobs, row(None, None))).unwrap();
        assert_eq!(
            bare,
            r#"{"id":"model_1","name":"Quote \" and \\ back","thumbnail":"http://h/media/m/1.thumb.jpg","status":"DONE","voting":"APPROVED","createdAt":"2025-11-29T07:57:16.784Z","batchId":"batch_1","image":null}"#
        );
        let made =
            serde_json::to_string(&ModelItem::new(&blobs, row(Some("a\nb"), Some(7)))).unwrap();
        assert!(
            made.ends_with(r#""image":null,"prompt":"a\nb","seed":7,"generator":"builtin"}"#),
            "{made}"
        );
    }

    fn text() -> impl Strategy<Value = String> {
        "(\\PC|[\\x00-\\x1f\"\\\\]){0,60}"
    }

    proptest! {
        /// The list's writer and `Serialize` give the same bytes, whatever the
        /// row holds.
        #[test]
        fn the_lists_writer_writes_what_serde_writes(
            name in text(),
            prompt in proptest::option::of(text()),
            reason in proptest::option::of(text()),
            notes in proptest::option::of(text()),
            thumb in proptest::option::of("[a-z/.\"]{1,20}"),
            seed in proptest::option::of(any::<i64>()),
            // Years 0–9999 are copied from a buffer; the rest go through
            // `Display`, and both must be what serde writes.
            created_at in -100_000_000_000_000i64..300_000_000_000_000,
        ) {
            let blobs = crate::blob::local::LocalDisk::new("/nowhere".into(), "http://h/media", None);
            let row = ModelRef {
                name: &name,
                thumb_key: thumb.as_deref(),
                image_key: thumb.as_deref(),
                failure_reason: reason.as_deref(),
                created_at,
                prompt: prompt.as_deref(),
                seed,
                generator: notes.as_deref().map(|_| "comfyui"),
                generator_notes: notes.as_deref(),
                ..row(None, None)
            };
            let item = ModelItem::new(&blobs, row);
            let mut written = Vec::new();
            item.write_json(&mut written);
            prop_assert_eq!(String::from_utf8(written).unwrap(), serde_json::to_string(&item).unwrap());
        }
    }
}
