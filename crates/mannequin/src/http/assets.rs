//! What every kind of generated asset answers, once: its list, register
//! ideas, one asset, vote and cancel. Each kind's module (`models`,
//! `sceneries`) declares its routes, with their descriptions, and calls
//! these with its [`AssetKind`].

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use mannequin_domain::ideas::shoot::{self, Config, Named, PresetWords};
use mannequin_domain::ids::{AccountId, AssetId, BatchId, PresetId, ProductId};
use mannequin_domain::presets::SYSTEM_PRESETS;
use mannequin_domain::request::{Cursor, parse_asset_id, parse_batch_id, parse_idempotency_key};
use mannequin_domain::{AssetIdea, ModelStatus};
use mannequin_domain::{AssetKind, Brief, Count, Limit, RequestError, StatusFilter, Wish};

use super::auth::Caller;
use super::error::ApiError;
use super::{AppState, Body, CorrelationId, json};
use crate::batch::Order;
use crate::keys::Scope;
use crate::store::{CancelTarget, ListQuery};
use crate::views::models::{
    Cancelled, ListModels, Model, ModelDetailView, RegisterIdeas, Registered, Vote, Voted,
};
use crate::views::pictures::{PictureConfig, Ref, RegisterPictures};

/// Bytes a list item takes, about, to size a page's buffer once.
const ITEM_BYTES: usize = 720;

/// An id of `kind` from a path that writes to it: a malformed id, or another
/// kind's, is 404 like an unknown one.
fn of_kind(kind: AssetKind, id: &str) -> Result<AssetId, ApiError> {
    AssetId::parse(id)
        .filter(|id| id.kind() == kind)
        .ok_or(ApiError::NotFound)
}

/// The account's assets of `kind`, newest first. Needs content.read.
pub(super) async fn list(
    kind: AssetKind,
    state: AppState,
    caller: Caller,
    params: ListModels,
    product: Option<String>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Read)?;
    // A malformed product id names no product: an empty list, as an unknown one.
    let product_id = match product.as_deref().map(ProductId::parse) {
        None => None,
        Some(Some(id)) => Some(id),
        Some(None) => Some(ProductId::trusted("prod_".to_string())),
    };
    let filter = StatusFilter::parse(params.status_filter.as_deref())?;
    let limit = Limit::parse(params.limit.as_deref())?.get();
    let cursor = params
        .cursor
        .as_deref()
        .map(Cursor::<AssetId>::parse)
        .transpose()?;
    // A cursor of another kind's list marks no place in this one.
    if cursor.as_ref().is_some_and(|c| c.id.kind() != kind) {
        return Err(RequestError::CursorInvalid.into());
    }
    let batch_id = params.batch_id.as_deref().map(parse_batch_id).transpose()?;
    let query = ListQuery {
        words: Vec::new(),
        kind,
        status: None,
        voting: None,
        filter,
        batch_id,
        product_id,
        cursor,
        // One more than the page: whether there is a next one.
        limit: limit + 1,
    };
    // The page (a `ModelList`, its key the kind's collection) is written into one buffer as the rows are
    // read, each item with `Model`'s `Serialize`.
    /// The page as it is written, and where it stands.
    struct Page {
        body: Vec<u8>,
        count: u32,
        more: bool,
        last: (i64, String),
        /// An item the writer refused (it never should: a test holds it).
        refused: Option<json::Unsupported>,
    }
    let mut page = Page {
        body: Vec::with_capacity(64 + ITEM_BYTES * limit as usize),
        count: 0,
        more: false,
        last: (0, String::new()),
        refused: None,
    };
    page.body.push(b'{');
    json::write(&mut page.body, kind.declaration().collection).map_err(|_| ApiError::Internal)?;
    page.body.extend_from_slice(b":[");
    let blobs = std::sync::Arc::clone(&state.blobs);
    let Page {
        mut body,
        count,
        more,
        last,
        refused,
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
            if let Err(e) = json::write(&mut page.body, &Model::new(blobs.as_ref(), row)) {
                page.refused = Some(e);
            }
            page.count += 1;
            page.last.0 = row.created_at;
            page.last.1.clear();
            page.last.1.push_str(row.id);
        })
        .await?;
    if let Some(e) = refused {
        tracing::error!(error = %e, "an asset could not be written");
        return Err(ApiError::Internal);
    }
    body.extend_from_slice(format!("],\"count\":{count},\"nextCursor\":").as_bytes());
    if more {
        let next = Cursor {
            created_at_ms: last.0,
            id: AssetId::trusted(last.1),
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

/// Plans `count` assets of `kind` from a description, reserves their
/// credits and queues them. Needs content.register.
pub(super) async fn register(
    kind: AssetKind,
    state: AppState,
    caller: Caller,
    CorrelationId(correlation_id): CorrelationId,
    headers: HeaderMap,
    body: Body<RegisterIdeas>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Register)?;
    let idempotency_key = headers
        .get("idempotency-key")
        .map(|v| parse_idempotency_key(v.as_bytes()).map(str::to_string))
        .transpose()?;
    let body = body.read()?;
    let count = Count::of_kind(body.count, kind)?;
    let wish = Wish::Words(Brief::new(body.preferences)?);
    let registration = state
        .orders
        .register(Order {
            kind,
            account: caller.account_id(),
            wish: &wish,
            count,
            correlation_id: &correlation_id,
            idempotency_key,
        })
        .await?;
    Ok(registered(registration))
}

/// Plans `count` pictures of `kind` made from what the body's config names
/// (each record found in the account, a model and a scenery DONE, before
/// anything is reserved), reserves their credits and queues them. Needs
/// content.register.
pub(super) async fn register_pictures(
    kind: AssetKind,
    state: AppState,
    caller: Caller,
    CorrelationId(correlation_id): CorrelationId,
    headers: HeaderMap,
    body: Result<RegisterPictures, ApiError>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Register)?;
    let idempotency_key = headers
        .get("idempotency-key")
        .map(|v| parse_idempotency_key(v.as_bytes()).map(str::to_string))
        .transpose()?;
    let body = body?;
    let count = Count::of_kind(body.count, kind)?;
    let registration = order_pictures(
        &state,
        caller.account_id(),
        kind,
        body.config,
        count,
        &correlation_id,
        idempotency_key,
    )
    .await?;
    Ok(registered(registration))
}

/// Registers `count` pictures of `kind` made from what `c` names, every
/// record found in `account` (a model and a scenery `DONE`) before anything
/// is reserved: the API's and the console's order.
pub(crate) async fn order_pictures(
    state: &AppState,
    account: &AccountId,
    kind: AssetKind,
    c: PictureConfig,
    count: Count,
    correlation_id: &str,
    idempotency_key: Option<String>,
) -> Result<crate::store::Registration, ApiError> {
    let product = match ProductId::parse(&c.product.id) {
        Some(id) => state.store.product(account, &id).await?,
        None => None,
    }
    .filter(|p| p.deleted_at.is_none())
    .ok_or_else(|| ApiError::Missing("Product not found.".into()))?;
    let model = done(state, account, c.model.as_ref(), AssetKind::Model).await?;
    let scenery = done(state, account, c.scenery.as_ref(), AssetKind::Scenery).await?;
    let preset = match &c.preset {
        None => None,
        Some(r) => Some(preset_words(state, account, &r.id).await?),
    };
    let named = |d: &Option<crate::store::ModelDetail>| {
        d.as_ref().map(|d| Named {
            id: d.row.id.as_str().to_string(),
            name: d.row.name.clone(),
        })
    };
    let config = Config {
        product: Named {
            id: product.id.as_str().to_string(),
            name: product.name,
        },
        model: named(&model),
        scenery: named(&scenery),
        preset,
        industry: c.industry.map(|p| p.as_str().to_string()),
        suggestions: c.suggestions.map(|p| p.as_str().to_string()),
    };
    let model_idea = match model.as_ref().map(|m| &m.idea) {
        Some(AssetIdea::Model(idea)) => Some(idea),
        _ => None,
    };
    if let Some(why) = shoot::refusal(&config, model_idea) {
        return Err(ApiError::BadRequest {
            code: "refused_config",
            message: why,
        });
    }
    let wish = Wish::Pictures(config);
    Ok(state
        .orders
        .register(Order {
            kind,
            account,
            wish: &wish,
            count,
            correlation_id,
            idempotency_key,
        })
        .await?)
}

/// The account's asset of `kind` that `r` names, which must be DONE: 404
/// when it has none, 409 when it is not finished.
async fn done(
    state: &AppState,
    account: &AccountId,
    r: Option<&Ref>,
    kind: AssetKind,
) -> Result<Option<crate::store::ModelDetail>, ApiError> {
    let Some(r) = r else { return Ok(None) };
    let noun = kind.declaration().noun;
    let missing = || ApiError::Missing(format!("{} not found.", title(noun)));
    let id = AssetId::parse(&r.id)
        .filter(|id| id.kind() == kind)
        .ok_or_else(missing)?;
    let d = state
        .store
        .model_detail(account, &id)
        .await?
        .ok_or_else(missing)?;
    if d.row.status != ModelStatus::Done {
        return Err(ApiError::Conflict {
            code: "not_done",
            message: format!(
                "The {noun} {id} is {}: only a DONE {noun} can be used.",
                d.row.status.as_str()
            ),
        });
    }
    Ok(Some(d))
}

/// The words of the preset `id`: the system's or the account's own.
async fn preset_words(
    state: &AppState,
    account: &AccountId,
    id: &str,
) -> Result<PresetWords, ApiError> {
    let missing = || ApiError::Missing("Preset not found.".into());
    if let Some(p) = SYSTEM_PRESETS.iter().find(|p| p.id == id) {
        return Ok(PresetWords {
            id: p.id.to_string(),
            name: p.name.to_string(),
            guidelines: p.guidelines.to_string(),
            quantity_guidelines: p.quantity_guidelines.to_string(),
            quality_guidelines: p.quality_guidelines.to_string(),
        });
    }
    let id = PresetId::parse(id).ok_or_else(missing)?;
    let p = state
        .store
        .preset(account, &id)
        .await?
        .ok_or_else(missing)?;
    Ok(PresetWords {
        id: p.id.as_str().to_string(),
        name: p.name,
        guidelines: p.guidelines,
        quantity_guidelines: p.quantity_guidelines,
        quality_guidelines: p.quality_guidelines,
    })
}

/// "scenery" → "Scenery".
fn title(noun: &str) -> String {
    let mut c = noun.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The register answer, marked when it replays an earlier call.
fn registered(registration: crate::store::Registration) -> Response {
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
    res
}

pub(super) async fn vote(
    kind: AssetKind,
    state: AppState,
    caller: Caller,
    id: String,
    vote: Body<Vote>,
) -> Result<Json<Voted>, ApiError> {
    caller.require(Scope::Register)?;
    // A malformed id, or another kind's, names nothing here: 404 before any
    // query, as for an unknown one.
    let id = of_kind(kind, &id)?;
    let vote = vote.read()?;
    if !state
        .orders
        .vote(caller.account_id(), &id, vote.voting)
        .await?
    {
        return Err(ApiError::NotFound);
    }
    Ok(Json(Voted {
        id,
        voting: vote.voting,
    }))
}

pub(super) async fn cancel(
    state: &AppState,
    caller: &Caller,
    target: CancelTarget,
) -> Result<Cancelled, ApiError> {
    caller.require(Scope::Register)?;
    let cancellation = state
        .orders
        .cancel(caller.account_id(), target)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Cancelled {
        cancelled_record_ids: cancellation.models.into_iter().map(|m| m.id).collect(),
        credits_refunded: cancellation.refunded,
    })
}

pub(super) async fn cancel_one(
    kind: AssetKind,
    state: AppState,
    caller: Caller,
    id: String,
) -> Result<Json<Cancelled>, ApiError> {
    let id = of_kind(kind, &id)?;
    let cancelled = cancel(&state, &caller, CancelTarget::Model(id)).await?;
    if cancelled.cancelled_record_ids.is_empty() {
        return Err(ApiError::NotCancellable);
    }
    Ok(Json(cancelled))
}

/// One asset of `kind` with everything known about it. Needs content.read.
pub(super) async fn get(
    kind: AssetKind,
    state: AppState,
    caller: Caller,
    id: String,
) -> Result<Response, ApiError> {
    caller.require(Scope::Read)?;
    let id = parse_asset_id(&id, kind)?;
    let d = state
        .store
        .model_detail(caller.account_id(), &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(ModelDetailView::new(state.blobs.as_ref(), &d)).into_response())
}

/// Cancel every PENDING model of a batch and refund them (ours); the others
/// go on. Needs content.register.
#[utoipa::path(post, path = "/api/external/batches/{id}/cancel", tag = "Batches", operation_id = "cancelBatch",
    params(("id" = String, Path, pattern = "^batch_[A-Za-z0-9_]{1,58}$")),
    responses(
        (status = 200, description = "What was cancelled (possibly nothing).", body = Cancelled),
        (status = 404, description = "No such batch in this account.", body = crate::views::error::Error),
    ))]
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
    use crate::store::ModelRef;
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
            made_from: [None; 3],
        }
    }

    /// The item's bytes: the contract's fields in order (absent images as
    /// null), ours only when they hold something, strings escaped.
    #[test]
    fn an_item_is_written_in_the_contracts_order_leaving_out_what_is_absent() {
        let blobs = crate::blob::local::LocalDisk::new("/nowhere".into(), "http://h/media", None);
        let written = |m: &Model| {
            let mut out = Vec::new();
            json::write(&mut out, m).unwrap();
            String::from_utf8(out).unwrap()
        };
        let bare = written(&Model::new(&blobs, row(None, None)));
        assert_eq!(
            bare,
            r#"{"id":"model_1","name":"Quote \" and \\ back","thumbnail":"http://h/media/m/1.thumb.jpg","status":"DONE","voting":"APPROVED","createdAt":"2025-11-29T07:57:16.784Z","batchId":"batch_1","image":null}"#
        );
        let made = written(&Model::new(&blobs, row(Some("a\nb"), Some(7))));
        assert!(
            made.ends_with(r#""image":null,"prompt":"a\nb","seed":7,"generator":"builtin"}"#),
            "{made}"
        );
    }

    fn text() -> impl Strategy<Value = String> {
        "(\\PC|[\\x00-\\x1f\"\\\\]){0,60}"
    }

    proptest! {
        /// The list's writer gives the bytes serde_json gives, whatever the
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
                made_from: [thumb.as_deref(), None, prompt.as_deref()],
                ..row(None, None)
            };
            let item = Model::new(&blobs, row);
            let mut written = Vec::new();
            json::write(&mut written, &item).unwrap();
            prop_assert_eq!(String::from_utf8(written).unwrap(), serde_json::to_string(&item).unwrap());
        }
    }
}
