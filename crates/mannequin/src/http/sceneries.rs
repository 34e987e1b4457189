//! Sceneries: the empty sets a model is photographed in, ordered and served
//! as models are (Qamera's contract: list, register ideas; ours: one
//! scenery, vote, cancel), each answered by [`super::assets`].

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use mannequin_domain::AssetKind;

use super::auth::Caller;
use super::error::ApiError;
use super::{AppState, Body, CorrelationId, assets};
use crate::views::error::Error;
use crate::views::models::{
    Cancelled, ListSceneries, ModelDetailView, RegisterIdeas, Registered, SceneryList, Vote, Voted,
};

const KIND: AssetKind = AssetKind::Scenery;

/// The account's sceneries, newest first. Needs content.read.
#[utoipa::path(get, path = "/api/external/sceneries", tag = "Sceneries", operation_id = "listSceneries",
    params(ListSceneries),
    responses((status = 200, description = "A page of sceneries.", body = SceneryList)))]
pub async fn list_sceneries(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListSceneries>,
) -> Result<Response, ApiError> {
    assets::list(KIND, state, caller, params.into(), None).await
}

/// Create count sceneries from a description, reserve their credits and
/// queue them. Needs content.register.
#[utoipa::path(post, path = "/api/external/sceneries/register-ideas", tag = "Sceneries",
    operation_id = "registerSceneryIdeas",
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$",
        description = "(ours) A retry with the same key and request returns the first batch and is not charged again.")),
    request_body = RegisterIdeas,
    responses(
        (status = 200, description = "Everything was created in one transaction; the ids are scenery_ ids.", body = Registered,
            headers(("Idempotent-Replayed" = String, description = "(ours) `true` when the answer is the first call's, replayed for a repeated Idempotency-Key."))),
        (status = 402, description = "Not enough credits for count sceneries (code insufficient_credits).", body = Error),
        (status = 422, description = "The Idempotency-Key was used with a different request (code idempotency_key_reused).", body = Error),
    ))]
pub async fn register_scenery_ideas(
    State(state): State<AppState>,
    caller: Caller,
    Extension(correlation_id): Extension<CorrelationId>,
    headers: HeaderMap,
    body: Body<RegisterIdeas>,
) -> Result<Response, ApiError> {
    assets::register(KIND, state, caller, correlation_id, headers, body).await
}

/// One scenery with everything known about it. Needs content.read.
#[utoipa::path(get, path = "/api/external/sceneries/{id}", tag = "Sceneries", operation_id = "getScenery",
    params(("id" = String, Path, pattern = "^scenery_[A-Za-z0-9_]{1,56}$")),
    responses(
        (status = 200, description = "The scenery; its idea holds setting, backdrop, place, colour and light.", body = ModelDetailView),
        (status = 404, description = "No such scenery in this account.", body = Error),
    ))]
pub async fn get_scenery(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    assets::get(KIND, state, caller, id).await
}

/// Set a scenery's voting (ours). Needs content.register.
#[utoipa::path(post, path = "/api/external/sceneries/{id}/vote", tag = "Sceneries", operation_id = "voteScenery",
    params(("id" = String, Path, pattern = "^scenery_[A-Za-z0-9_]{1,56}$")),
    request_body = Vote,
    responses(
        (status = 200, description = "The new vote.", body = Voted),
        (status = 404, description = "No such scenery in this account.", body = Error),
    ))]
pub async fn vote_scenery(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    vote: Body<Vote>,
) -> Result<Json<Voted>, ApiError> {
    assets::vote(KIND, state, caller, id, vote).await
}

/// Cancel a PENDING scenery and refund it (ours). Needs content.register.
#[utoipa::path(post, path = "/api/external/sceneries/{id}/cancel", tag = "Sceneries", operation_id = "cancelScenery",
    params(("id" = String, Path, pattern = "^scenery_[A-Za-z0-9_]{1,56}$")),
    responses(
        (status = 200, description = "Cancelled and refunded.", body = Cancelled),
        (status = 404, description = "No such scenery in this account.", body = Error),
        (status = 409, description = "The scenery has already started or finished (code not_cancellable).", body = Error),
    ))]
pub async fn cancel_scenery(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Cancelled>, ApiError> {
    assets::cancel_one(KIND, state, caller, id).await
}
