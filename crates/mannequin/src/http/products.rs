//! Products: a shop's own photos. Qamera's list, and ours: the upload
//! (`multipart/form-data`, spooled as it arrives, never held whole in memory
//! but for the one decode at a time that checks and cleans it), one product,
//! and delete.

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mannequin_domain::Limit;
use mannequin_domain::ids::{AccountId, ProductId, kind};
use mannequin_domain::request::{Cursor, parse_path_id};
use mannequin_render::MAX_PRODUCT_BYTES;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::multipart::{self, Shape};
use crate::clock::{new_id, now_ms};
use crate::keys::Scope;
use crate::store::{AddProductError, Product as Stored};
use crate::views::error::Error;
use crate::views::products::{Deleted, ListProducts, Product, ProductList, UploadProduct};

/// The largest upload body: the photo's limit, and room for its name and the
/// multipart framing.
pub const UPLOAD_LIMIT: u64 = MAX_PRODUCT_BYTES as u64 + 64 * 1024;

/// Where photos are uploaded.
pub const UPLOAD_PATH: &str = "/api/external/products";

/// A product's name, at most.
const MAX_NAME: usize = 200;

/// An upload's form: one photo and its name.
pub(super) const UPLOAD: Shape = Shape {
    files: &[("image", 1)],
    texts: &["name"],
    limit: UPLOAD_LIMIT,
};

/// Upload a product photo (ours: Qamera's products are uploaded in its web
/// app). Needs content.register. No credits.
#[utoipa::path(post, path = "/api/external/products", tag = "Products", operation_id = "uploadProduct",
    request_body(content = UploadProduct, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored: turned upright, without metadata, with a thumbnail.", body = Product),
        (status = 400, description = "Not multipart/form-data, no `image` part or two, a part without a name, an empty file, a file that is not a PNG, JPEG or WebP image (whatever its content type says), a damaged or cut-short image, one over 8,192 pixels a side (a small file claiming more is refused from its header), or a name over 200 characters (codes unsupported_content_type, invalid_upload, invalid_image, invalid_name).", body = Error),
        (status = 409, description = "The account holds --max-products products already (code too_many_products).", body = Error),
        (status = 413, description = "The photo is over 20 MB: refused as soon as that is known, before the rest is read (code payload_too_large).", body = Error),
    ))]
pub async fn upload_product(
    State(state): State<AppState>,
    caller: Caller,
    req: Request,
) -> Result<Response, ApiError> {
    caller.require(Scope::Register)?;
    let product = upload(&state, caller.account_id(), req, &UPLOAD, |_| Ok(())).await?;
    Ok((
        StatusCode::CREATED,
        Json(Product::new(state.blobs.as_ref(), &product)),
    )
        .into_response())
}

/// Reads an upload's form of `shape` (its `image` and `name`), lets `check`
/// see the form's texts before anything is decoded or stored (the console's
/// token), then checks, cleans and stores the photo for `account`: the API's
/// upload and the console's.
pub(super) async fn upload(
    state: &AppState,
    account: &AccountId,
    req: Request,
    shape: &Shape,
    check: impl FnOnce(&multipart::Form) -> Result<(), ApiError>,
) -> Result<Stored, ApiError> {
    let boundary = multipart::boundary(req.headers(), "send the photo as the form's 'image' file")?;
    let max = state.settings.max_products;
    if state.store.product_count(account).await? >= max {
        return Err(too_many(max));
    }
    let mut form = multipart::read(req.into_body(), boundary, shape).await?;
    check(&form)?;
    let photo = form.take_file("image").ok_or_else(|| {
        multipart::invalid(
            "invalid_upload",
            "The form has no 'image' part: send the photo as the form's 'image' file.",
        )
    })?;
    // An empty name (a browser sends the field as it is) is none.
    let given = form.texts.get("name").filter(|n| !n.trim().is_empty());
    let name = match given {
        Some(given) => product_name(given)?,
        None => photo
            .file_name
            .clone()
            .unwrap_or_else(|| "Product".to_string()),
    };
    let mut turn = multipart::clean(photo).await?;
    let cleaned = &mut turn.image;
    let id: ProductId = new_id();
    let (image_key, thumb_key) = product_keys(&id, cleaned.extension);
    let product = Stored {
        id,
        name,
        image_key,
        thumb_key,
        content_type: cleaned.content_type.to_string(),
        width: cleaned.width,
        height: cleaned.height,
        size_bytes: i64::try_from(cleaned.bytes.len()).unwrap_or(i64::MAX),
        created_at: now_ms(),
        deleted_at: None,
    };
    state
        .blobs
        .put_all(vec![
            (
                &product.image_key,
                std::mem::take(&mut cleaned.bytes),
                cleaned.content_type,
            ),
            (
                &product.thumb_key,
                std::mem::take(&mut cleaned.thumb_jpeg),
                "image/jpeg",
            ),
        ])
        .await
        .map_err(|e| {
            tracing::error!(error = %crate::error::Report(&e), "could not store a product's images");
            ApiError::Unavailable
        })?;
    // Stored: the next photo may be decoded.
    drop(turn);
    match state.store.add_product(account, &product, max).await {
        Ok(()) => {}
        Err(e) => {
            // Recorded nothing: its images go too.
            for key in [&product.image_key, &product.thumb_key] {
                if let Err(e) = state.blobs.delete(key).await {
                    tracing::warn!(error = %e, key, "could not remove an unrecorded product's image");
                }
            }
            return Err(match e {
                AddProductError::TooMany(max) => too_many(max),
                AddProductError::Store(e) => e.into(),
            });
        }
    }
    tracing::info!(product_id = %product.id, bytes = product.size_bytes, "product uploaded");
    Ok(product)
}

/// The account's products, newest first (Qamera's list, with our paging).
/// Needs content.read.
#[utoipa::path(get, path = "/api/external/products", tag = "Products", operation_id = "listProducts",
    params(ListProducts),
    responses((status = 200, description = "A page of products.", body = ProductList)))]
pub async fn list_products(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListProducts>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Scope::Read)?;
    let limit = Limit::parse(params.limit.as_deref())?.get();
    let cursor = params
        .cursor
        .as_deref()
        .map(Cursor::<ProductId>::parse)
        .transpose()?;
    let mut rows = state
        .store
        .list_products(caller.account_id(), cursor.as_ref(), limit + 1)
        .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = rows.last().filter(|_| more).map(|p| {
        Cursor {
            created_at_ms: p.created_at,
            id: p.id.clone(),
        }
        .encode()
    });
    let page = ProductList {
        products: rows
            .iter()
            .map(|p| Product::new(state.blobs.as_ref(), p))
            .collect(),
        count: u32::try_from(rows.len()).unwrap_or(u32::MAX),
        next_cursor,
    };
    serde_json::to_value(&page)
        .map(Json)
        .map_err(|_| ApiError::Internal)
}

/// One product (ours). Needs content.read.
#[utoipa::path(get, path = "/api/external/products/{id}", tag = "Products", operation_id = "getProduct",
    params(("id" = String, Path, pattern = "^prod_[A-Za-z0-9_]{1,59}$")),
    responses(
        (status = 200, description = "The product.", body = Product),
        (status = 404, description = "No such product in this account, or deleted.", body = Error),
    ))]
pub async fn get_product(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Read)?;
    let id = parse_path_id::<kind::Product>(&id)?;
    let product = listed(&state, caller.account_id(), &id).await?;
    Ok(Json(Product::new(state.blobs.as_ref(), &product)).into_response())
}

/// Delete a product (ours): it leaves the list and new orders; what was made
/// from it keeps working. Needs content.register.
#[utoipa::path(delete, path = "/api/external/products/{id}", tag = "Products", operation_id = "deleteProduct",
    params(("id" = String, Path, pattern = "^prod_[A-Za-z0-9_]{1,59}$")),
    responses(
        (status = 200, description = "Deleted.", body = Deleted),
        (status = 404, description = "No such product in this account, or deleted already.", body = Error),
    ))]
pub async fn delete_product(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Scope::Register)?;
    let id = parse_path_id::<kind::Product>(&id)?;
    if !state
        .store
        .delete_product(caller.account_id(), &id, now_ms())
        .await?
    {
        return Err(ApiError::NotFound);
    }
    serde_json::to_value(Deleted {
        id: id.as_str(),
        deleted: true,
    })
    .map(Json)
    .map_err(|_| ApiError::Internal)
}

/// The account's product `id` while it is listed; 404 otherwise.
async fn listed(state: &AppState, account: &AccountId, id: &ProductId) -> Result<Stored, ApiError> {
    match state.store.product(account, id).await? {
        Some(p) if p.deleted_at.is_none() => Ok(p),
        _ => Err(ApiError::NotFound),
    }
}

/// Where a product's photo and thumbnail are stored: as a model's, under
/// `products/`.
fn product_keys(id: &ProductId, extension: &str) -> (String, String) {
    let base = crate::blob::sharded("products", id.as_str());
    (format!("{base}.{extension}"), format!("{base}.thumb.jpg"))
}

fn too_many(max: u32) -> ApiError {
    ApiError::Conflict {
        code: "too_many_products",
        message: format!("The account holds {max} products, its limit: delete some first."),
    }
}

/// A name as given: trimmed, 1–200 characters, no control characters.
fn product_name(given: &str) -> Result<String, ApiError> {
    let text = given.trim();
    let ok =
        !text.is_empty() && text.chars().count() <= MAX_NAME && !text.chars().any(char::is_control);
    ok.then(|| text.to_string()).ok_or_else(|| {
        multipart::invalid(
            "invalid_name",
            format!("'name' must be 1–{MAX_NAME} characters, without control characters."),
        )
    })
}
