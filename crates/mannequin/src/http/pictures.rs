//! Photo shoots ("image picker") and packshots: pictures made from the
//! shop's product, ordered with a config that names it (and a model, a
//! scenery and a preset) and served as models are (Qamera's contract: list,
//! register ideas; ours: one picture, vote, cancel), each answered by
//! [`super::assets`].

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use mannequin_domain::AssetKind;

use super::auth::Caller;
use super::error::ApiError;
use super::{AppState, Body, CorrelationId, assets};
use crate::views::error::Error;
use crate::views::models::{Cancelled, ModelDetailView, Registered, Vote, Voted};
use crate::views::pictures::{
    ImageList, ListImages, ListPackshots, PackshotList, RegisterImageIdeas, RegisterPackshotIdeas,
};

/// The account's photo shoot pictures, newest first (`productId`: those made from one
/// product). Needs content.read.
#[utoipa::path(get, path = "/api/external/image-picker", tag = "Photo shoots", operation_id = "listImages",
    params(ListImages),
    responses((status = 200, description = "A page of photo shoot pictures.", body = ImageList)))]
pub async fn list_images(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListImages>,
) -> Result<Response, ApiError> {
    let (params, product) = params.split();
    assets::list(AssetKind::PhotoShoot, state, caller, params, product).await
}

/// Create count photo shoot pictures of the shop's product, reserve their credits and
/// queue them. Every record the config names is checked first: nothing is
/// reserved for an order that names one the account does not have. Needs
/// content.register.
#[utoipa::path(post, path = "/api/external/image-picker/register-ideas", tag = "Photo shoots",
    operation_id = "registerImageIdeas",
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$",
        description = "(ours) A retry with the same key and request returns the first batch and is not charged again.")),
    request_body = RegisterImageIdeas,
    responses(
        (status = 200, description = "Everything was created in one transaction; the ids are img_ ids.", body = Registered,
            headers(("Idempotent-Replayed" = String, description = "(ours) `true` when the answer is the first call's, replayed for a repeated Idempotency-Key."))),
        (status = 402, description = "Not enough credits for count photo shoot pictures (code insufficient_credits).", body = Error),
        (status = 404, description = "The product, model, scenery or preset named is not the account's, or was deleted (`Product not found.` and so on; code not_found); nothing was reserved.", body = Error),
        (status = 409, description = "The model or scenery named is not DONE (code not_done).", body = Error),
        (status = 422, description = "The Idempotency-Key was used with a different request (code idempotency_key_reused).", body = Error),
    ))]
pub async fn register_image_ideas(
    State(state): State<AppState>,
    caller: Caller,
    Extension(correlation_id): Extension<CorrelationId>,
    headers: HeaderMap,
    body: Body<RegisterImageIdeas>,
) -> Result<Response, ApiError> {
    assets::register_pictures(
        AssetKind::PhotoShoot,
        state,
        caller,
        correlation_id,
        headers,
        body.read().map(Into::into),
    )
    .await
}

/// One photo shoot picture with everything known about it; its idea names the product,
/// model, scenery and preset it was made from. Needs content.read.
#[utoipa::path(get, path = "/api/external/image-picker/{id}", tag = "Photo shoots", operation_id = "getImage",
    params(("id" = String, Path, pattern = "^img_[A-Za-z0-9_]{1,60}$")),
    responses(
        (status = 200, description = "The photo shoot picture.", body = ModelDetailView),
        (status = 404, description = "No such photo shoot picture in this account.", body = Error),
    ))]
pub async fn get_image(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    assets::get(AssetKind::PhotoShoot, state, caller, id).await
}

/// Set a photo shoot picture's voting (ours). Needs content.register.
#[utoipa::path(post, path = "/api/external/image-picker/{id}/vote", tag = "Photo shoots", operation_id = "voteImage",
    params(("id" = String, Path, pattern = "^img_[A-Za-z0-9_]{1,60}$")),
    request_body = Vote,
    responses(
        (status = 200, description = "The new vote.", body = Voted),
        (status = 404, description = "No such photo shoot picture in this account.", body = Error),
    ))]
pub async fn vote_image(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    vote: Body<Vote>,
) -> Result<Json<Voted>, ApiError> {
    assets::vote(AssetKind::PhotoShoot, state, caller, id, vote).await
}

/// Cancel a PENDING photo shoot picture and refund it (ours). Needs content.register.
#[utoipa::path(post, path = "/api/external/image-picker/{id}/cancel", tag = "Photo shoots", operation_id = "cancelImage",
    params(("id" = String, Path, pattern = "^img_[A-Za-z0-9_]{1,60}$")),
    responses(
        (status = 200, description = "Cancelled and refunded.", body = Cancelled),
        (status = 404, description = "No such photo shoot picture in this account.", body = Error),
        (status = 409, description = "The photo shoot picture has already started or finished (code not_cancellable).", body = Error),
    ))]
pub async fn cancel_image(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Cancelled>, ApiError> {
    assets::cancel_one(AssetKind::PhotoShoot, state, caller, id).await
}

/// The account's packshots, newest first (`productId`: those made from one
/// product). Needs content.read.
#[utoipa::path(get, path = "/api/external/packshots", tag = "Packshots", operation_id = "listPackshots",
    params(ListPackshots),
    responses((status = 200, description = "A page of packshots.", body = PackshotList)))]
pub async fn list_packshots(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListPackshots>,
) -> Result<Response, ApiError> {
    let (params, product) = params.split();
    assets::list(AssetKind::Packshot, state, caller, params, product).await
}

/// Create count packshots of the shop's product, reserve their credits and
/// queue them. Every record the config names is checked first: nothing is
/// reserved for an order that names one the account does not have. Needs
/// content.register.
#[utoipa::path(post, path = "/api/external/packshots/register-ideas", tag = "Packshots",
    operation_id = "registerPackshotIdeas",
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$",
        description = "(ours) A retry with the same key and request returns the first batch and is not charged again.")),
    request_body = RegisterPackshotIdeas,
    responses(
        (status = 200, description = "Everything was created in one transaction; the ids are ps_ ids.", body = Registered,
            headers(("Idempotent-Replayed" = String, description = "(ours) `true` when the answer is the first call's, replayed for a repeated Idempotency-Key."))),
        (status = 402, description = "Not enough credits for count packshots (code insufficient_credits).", body = Error),
        (status = 404, description = "The product, model, scenery or preset named is not the account's, or was deleted (`Product not found.` and so on; code not_found); nothing was reserved.", body = Error),
        (status = 409, description = "The model or scenery named is not DONE (code not_done).", body = Error),
        (status = 422, description = "The Idempotency-Key was used with a different request (code idempotency_key_reused).", body = Error),
    ))]
pub async fn register_packshot_ideas(
    State(state): State<AppState>,
    caller: Caller,
    Extension(correlation_id): Extension<CorrelationId>,
    headers: HeaderMap,
    body: Body<RegisterPackshotIdeas>,
) -> Result<Response, ApiError> {
    assets::register_pictures(
        AssetKind::Packshot,
        state,
        caller,
        correlation_id,
        headers,
        body.read().map(Into::into),
    )
    .await
}

/// One packshot with everything known about it; its idea names the product,
/// model, scenery and preset it was made from. Needs content.read.
#[utoipa::path(get, path = "/api/external/packshots/{id}", tag = "Packshots", operation_id = "getPackshot",
    params(("id" = String, Path, pattern = "^ps_[A-Za-z0-9_]{1,60}$")),
    responses(
        (status = 200, description = "The packshot.", body = ModelDetailView),
        (status = 404, description = "No such packshot in this account.", body = Error),
    ))]
pub async fn get_packshot(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    assets::get(AssetKind::Packshot, state, caller, id).await
}

/// Set a packshot's voting (ours). Needs content.register.
#[utoipa::path(post, path = "/api/external/packshots/{id}/vote", tag = "Packshots", operation_id = "votePackshot",
    params(("id" = String, Path, pattern = "^ps_[A-Za-z0-9_]{1,60}$")),
    request_body = Vote,
    responses(
        (status = 200, description = "The new vote.", body = Voted),
        (status = 404, description = "No such packshot in this account.", body = Error),
    ))]
pub async fn vote_packshot(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    vote: Body<Vote>,
) -> Result<Json<Voted>, ApiError> {
    assets::vote(AssetKind::Packshot, state, caller, id, vote).await
}

/// Cancel a PENDING packshot and refund it (ours). Needs content.register.
#[utoipa::path(post, path = "/api/external/packshots/{id}/cancel", tag = "Packshots", operation_id = "cancelPackshot",
    params(("id" = String, Path, pattern = "^ps_[A-Za-z0-9_]{1,60}$")),
    responses(
        (status = 200, description = "Cancelled and refunded.", body = Cancelled),
        (status = 404, description = "No such packshot in this account.", body = Error),
        (status = 409, description = "The packshot has already started or finished (code not_cancellable).", body = Error),
    ))]
pub async fn cancel_packshot(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Cancelled>, ApiError> {
    assets::cancel_one(AssetKind::Packshot, state, caller, id).await
}
