//! The Models API: list models, register ideas, one model, and vote and
//! cancel (ours); each answered by what every kind shares ([`super::assets`]).

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
    Cancelled, ListModels, ModelDetailView, ModelList, RegisterIdeas, Registered, Vote, Voted,
};

const KIND: AssetKind = AssetKind::Model;

/// The account's models, newest first. Needs content.read.
#[utoipa::path(get, path = "/api/external/models", tag = "Models", operation_id = "listModels",
    params(ListModels),
    responses((status = 200, description = "A page of models.", body = ModelList)))]
pub async fn list_models(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListModels>,
) -> Result<Response, ApiError> {
    assets::list(KIND, state, caller, params, None).await
}

/// Create count models from a description, reserve their credits and
/// queue them. Needs content.register.
#[utoipa::path(post, path = "/api/external/models/register-ideas", tag = "Models",
    operation_id = "registerIdeas",
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$",
        description = "(ours) A retry with the same key and request returns the first batch and is not charged again.")),
    request_body = RegisterIdeas,
    responses(
        (status = 200, description = "Everything was created in one transaction.", body = Registered,
            headers(("Idempotent-Replayed" = String, description = "(ours) `true` when the answer is the first call's, replayed for a repeated Idempotency-Key."))),
        (status = 402, description = "Not enough credits for count models (code insufficient_credits).", body = crate::views::error::Error),
        (status = 422, description = "The Idempotency-Key was used with a different request (code idempotency_key_reused).", body = crate::views::error::Error),
    ))]
pub async fn register_ideas(
    State(state): State<AppState>,
    caller: Caller,
    Extension(correlation_id): Extension<CorrelationId>,
    headers: HeaderMap,
    body: Body<RegisterIdeas>,
) -> Result<Response, ApiError> {
    assets::register(KIND, state, caller, correlation_id, headers, body).await
}

/// One model with everything known about it (ours). Needs content.read.
#[utoipa::path(get, path = "/api/external/models/{id}", tag = "Models", operation_id = "getModel",
    params(("id" = String, Path, pattern = "^model_[A-Za-z0-9_]{1,58}$")),
    responses(
        (status = 200, description = "The model.", body = ModelDetailView),
        (status = 404, description = "No such model in this account.", body = Error),
    ))]
pub async fn get_model(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    assets::get(KIND, state, caller, id).await
}

/// Set a model's voting (ours). Needs content.register.
#[utoipa::path(post, path = "/api/external/models/{id}/vote", tag = "Models", operation_id = "voteModel",
    params(("id" = String, Path, pattern = "^model_[A-Za-z0-9_]{1,58}$")),
    request_body = Vote,
    responses(
        (status = 200, description = "The new vote.", body = Voted),
        (status = 404, description = "No such model in this account.", body = crate::views::error::Error),
    ))]
pub async fn vote_model(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    vote: Body<Vote>,
) -> Result<Json<Voted>, ApiError> {
    assets::vote(KIND, state, caller, id, vote).await
}

/// Cancel a PENDING model and refund it (ours). Needs content.register.
#[utoipa::path(post, path = "/api/external/models/{id}/cancel", tag = "Models", operation_id = "cancelModel",
    params(("id" = String, Path, pattern = "^model_[A-Za-z0-9_]{1,58}$")),
    responses(
        (status = 200, description = "Cancelled and refunded.", body = Cancelled),
        (status = 404, description = "No such model in this account.", body = crate::views::error::Error),
        (status = 409, description = "The model has already started or finished (code not_cancellable).", body = crate::views::error::Error),
    ))]
pub async fn cancel_model(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Cancelled>, ApiError> {
    assets::cancel_one(KIND, state, caller, id).await
}
