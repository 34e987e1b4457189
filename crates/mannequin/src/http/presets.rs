//! Presets (Qamera's contract): the system presets every account sees and
//! an account's own, made as `multipart/form-data` with an optional cover
//! and gallery; one preset and delete (ours).

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mannequin_domain::ids::{AccountId, PresetId, kind};
use mannequin_domain::presets::{Guidelines, PresetError, SYSTEM_PRESETS};
use mannequin_domain::request::parse_path_id;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::multipart::{self, Shape};
use crate::clock::{new_id, now_ms};
use crate::keys::Scope;
use crate::store::Preset as Stored;
use crate::views::error::Error;
use crate::views::presets::{CreatePreset, ListPresets, Preset, PresetCreated, PresetList};
use crate::views::products::Deleted;

/// Where presets are made.
pub const CREATE_PATH: &str = "/api/external/presets";

/// A preset's form, at most: a cover and ten gallery images of up to 20 MB
/// each would be 220 MB; the form stops at 100 MB.
pub const CREATE_LIMIT: u64 = 100_000_000;

pub(super) const FORM: Shape = Shape {
    files: &[("cover", 1), ("gallery", 10)],
    texts: &[
        "name",
        "guidelines",
        "quantityGuidelines",
        "qualityGuidelines",
    ],
    limit: CREATE_LIMIT,
};

/// The presets: the account's own, newest first, then the system's.
/// Needs content.read.
#[utoipa::path(get, path = "/api/external/presets", tag = "Presets", operation_id = "listPresets",
    params(ListPresets),
    responses(
        (status = 200, description = "At most maxRecords presets.", body = PresetList),
        (status = 400, description = "maxRecords is not an integer from 1 to 100 (code invalid_max_records).", body = Error),
    ))]
pub async fn list_presets(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListPresets>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Read)?;
    let max = match params.max_records.as_deref() {
        None => 20,
        Some(raw) => raw
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| {
                multipart::invalid(
                    "invalid_max_records",
                    "maxRecords must be an integer from 1 to 100.",
                )
            })?,
    };
    let own = state.store.list_presets(caller.account_id(), max).await?;
    let presets: Vec<Preset> = own
        .iter()
        .map(|p| Preset::user(state.blobs.as_ref(), p))
        .chain(SYSTEM_PRESETS.iter().map(Preset::system))
        .take(max as usize)
        .collect();
    let count = u32::try_from(presets.len()).unwrap_or(u32::MAX);
    Ok(Json(PresetList { presets, count }).into_response())
}

/// Make a preset of the account's own (type USER). Needs content.register.
#[utoipa::path(post, path = "/api/external/presets", tag = "Presets", operation_id = "createPreset",
    request_body(content = CreatePreset, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Made.", body = PresetCreated),
        (status = 400, description = "A required field missing or one too long (code validation_failed, the message naming it), a form that is not multipart/form-data or not valid, or an image that is not a PNG, JPEG or WebP one (codes unsupported_content_type, invalid_upload, invalid_image).", body = Error),
        (status = 413, description = "An image over 20 MB, or a form over 100 MB (code payload_too_large).", body = Error),
    ))]
pub async fn create_preset(
    State(state): State<AppState>,
    caller: Caller,
    req: Request,
) -> Result<Response, ApiError> {
    caller.require(Scope::Register)?;
    let id = create(&state, caller.account_id(), req, &FORM, |_| Ok(())).await?;
    Ok((
        StatusCode::CREATED,
        Json(PresetCreated {
            success: true,
            preset_id: id.as_str(),
        }),
    )
        .into_response())
}

/// Reads a preset's form of `shape`, lets `check` see its texts before any
/// image is decoded or stored (the console's token), checks the fields and
/// images, stores them, and records the preset for `account`: the API's
/// and the console's.
pub(super) async fn create(
    state: &AppState,
    account: &AccountId,
    req: Request,
    shape: &Shape,
    check: impl FnOnce(&multipart::Form) -> Result<(), ApiError>,
) -> Result<PresetId, ApiError> {
    let boundary = multipart::boundary(
        req.headers(),
        "send the preset's fields as a form, its images as 'cover' and 'gallery' files",
    )?;
    let mut form = multipart::read(req.into_body(), boundary, shape).await?;
    check(&form)?;
    let text = |name| form.texts.get(name).map(String::as_str);
    let guidelines = Guidelines::new(
        text("name"),
        text("guidelines"),
        text("quantityGuidelines"),
        text("qualityGuidelines"),
    )
    .map_err(refused)?;
    let cover = form.take_file("cover");
    let gallery = form.files.remove("gallery").unwrap_or_default();
    let id: PresetId = new_id();
    let base = crate::blob::sharded("presets", id.as_str());
    // Each image is checked, cleaned and stored in turn (one photo in
    // memory at a time); a refused one takes those stored before it away.
    let mut named: Vec<(String, multipart::Spool)> = Vec::new();
    if let Some(cover) = cover {
        named.push(("cover".to_string(), cover));
    }
    for (i, photo) in gallery.into_iter().enumerate() {
        named.push((format!("gallery-{}", i + 1), photo));
    }
    let mut stored: Vec<String> = Vec::new();
    let mut cover_key = None;
    let mut gallery_keys = Vec::new();
    for (name, photo) in named {
        let kept = async {
            let mut turn = multipart::clean(photo).await?;
            let image = &mut turn.image;
            let key = format!("{base}/{name}.{}", image.extension);
            state
                .blobs
                .put_all(vec![(&key, std::mem::take(&mut image.bytes), image.content_type)])
                .await
                .map_err(|e| {
                    tracing::error!(error = %crate::error::Report(&e), "could not store a preset's image");
                    ApiError::Unavailable
                })?;
            Ok::<_, ApiError>(key)
        }
        .await;
        match kept {
            Ok(key) => {
                if name == "cover" {
                    cover_key = Some(key.clone());
                } else {
                    gallery_keys.push(key.clone());
                }
                stored.push(key);
            }
            Err(e) => {
                for key in &stored {
                    if let Err(e) = state.blobs.delete(key).await {
                        tracing::warn!(error = %e, key, "could not remove a refused preset's image");
                    }
                }
                return Err(e);
            }
        }
    }
    let preset = Stored {
        id,
        name: guidelines.name,
        guidelines: guidelines.guidelines,
        quantity_guidelines: guidelines.quantity_guidelines,
        quality_guidelines: guidelines.quality_guidelines,
        cover_key,
        gallery_keys,
        created_at: now_ms(),
    };
    state.store.add_preset(account, &preset).await?;
    tracing::info!(preset_id = %preset.id, images = stored.len(), "preset made");
    Ok(preset.id)
}

/// A preset's fields refused, as Qamera words it.
fn refused(e: PresetError) -> ApiError {
    multipart::invalid("validation_failed", format!("Validation failed: {e}"))
}

/// One preset: a system one or the account's own (ours). Needs content.read.
#[utoipa::path(get, path = "/api/external/presets/{id}", tag = "Presets", operation_id = "getPreset",
    params(("id" = String, Path, pattern = "^preset_[A-Za-z0-9_]{1,57}$")),
    responses(
        (status = 200, description = "The preset.", body = Preset),
        (status = 404, description = "No such preset for this account.", body = Error),
    ))]
pub async fn get_preset(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Read)?;
    let id = parse_path_id::<kind::Preset>(&id)?;
    if let Some(system) = SYSTEM_PRESETS.iter().find(|p| p.id == id.as_str()) {
        return Ok(Json(Preset::system(system)).into_response());
    }
    let preset = state
        .store
        .preset(caller.account_id(), &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(Preset::user(state.blobs.as_ref(), &preset)).into_response())
}

/// Delete one of the account's presets (ours); the system's stay. Needs
/// content.register.
#[utoipa::path(delete, path = "/api/external/presets/{id}", tag = "Presets", operation_id = "deletePreset",
    params(("id" = String, Path, pattern = "^preset_[A-Za-z0-9_]{1,57}$")),
    responses(
        (status = 200, description = "Deleted.", body = Deleted),
        (status = 404, description = "No such preset of this account.", body = Error),
        (status = 409, description = "A system preset, which every account shares (code system_preset).", body = Error),
    ))]
pub async fn delete_preset(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Register)?;
    let id = parse_path_id::<kind::Preset>(&id)?;
    if SYSTEM_PRESETS.iter().any(|p| p.id == id.as_str()) {
        return Err(ApiError::Conflict {
            code: "system_preset",
            message: "System presets are shared by every account and cannot be deleted.".into(),
        });
    }
    if !state
        .store
        .delete_preset(caller.account_id(), &id, now_ms())
        .await?
    {
        return Err(ApiError::NotFound);
    }
    Ok(Json(Deleted {
        id: id.as_str(),
        deleted: true,
    })
    .into_response())
}
