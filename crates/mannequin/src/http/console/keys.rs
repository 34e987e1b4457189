//! The account's API keys, for a session whose key carries `keys.manage`:
//! list them, create one (its secret shown once), revoke one.
//!
//! A session gives a new key no scope its own key lacks: managing keys is not
//! a way to more rights.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::{Signed, forged, form, pages, unavailable};
use crate::clock::now_ms;
use crate::http::AppState;
use crate::keys::{self, Scope};

/// What a session without `keys.manage` reads instead of the page.
const NOT_ALLOWED: &str =
    "This session's key cannot manage API keys: sign in with a key that has the keys.manage scope.";

/// Why this session may not go on: a form without the session's token, or a
/// key without `keys.manage`.
fn refused(signed: &Signed, form: Option<&HashMap<String, String>>) -> Option<Response> {
    if form.is_some_and(|f| forged(signed, f)) {
        return Some(pages::problem(StatusCode::FORBIDDEN, pages::FORGED));
    }
    (!signed.principal.scopes.contains(&Scope::Keys))
        .then(|| pages::problem(StatusCode::FORBIDDEN, NOT_ALLOWED))
}

/// `GET /console/keys`.
pub(super) async fn keys(State(state): State<AppState>, signed: Signed) -> Response {
    if let Some(refused) = refused(&signed, None) {
        return refused;
    }
    page(&state, &signed, None, None, StatusCode::OK).await
}

async fn page(
    state: &AppState,
    signed: &Signed,
    created: Option<(&str, &str)>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let account = &signed.principal.account_id;
    let (keys, balances) = match tokio::try_join!(
        state.store.list_keys(account),
        state.store.balances(account)
    ) {
        Ok(found) => found,
        Err(e) => return unavailable(e),
    };
    pages::keys(state, signed, balances, &keys, created, error, status)
}

/// `POST /console/keys`: a new key with the scopes checked (`scope.<name>`)
/// and an optional last day (`expires`, `YYYY-MM-DD`, the end of that day UTC).
pub(super) async fn create(State(state): State<AppState>, signed: Signed, body: Bytes) -> Response {
    let fields = form(&body);
    if let Some(refused) = refused(&signed, Some(&fields)) {
        return refused;
    }
    let (scopes, expires_at) = match read_new_key(&fields, &signed) {
        Ok(asked) => asked,
        Err(message) => {
            return page(
                &state,
                &signed,
                None,
                Some(&message),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    let minted = keys::mint(&signed.principal.account_id, &scopes, expires_at);
    if let Err(e) = state.store.create_key(&minted.record, now_ms()).await {
        return unavailable(e);
    }
    let secret = crate::ExposeSecret::expose_secret(&minted.api_key).to_string();
    page(
        &state,
        &signed,
        Some((&minted.record.key_id, &secret)),
        None,
        StatusCode::CREATED,
    )
    .await
}

/// The new key's scopes and last moment from the form, or why not.
fn read_new_key(
    fields: &HashMap<String, String>,
    signed: &Signed,
) -> Result<(Vec<Scope>, Option<i64>), String> {
    let scopes: Vec<Scope> = Scope::ALL
        .into_iter()
        .filter(|s| fields.contains_key(&format!("scope.{}", s.as_str())))
        .collect();
    if scopes.is_empty() {
        return Err("Choose at least one scope for the new key.".into());
    }
    if let Some(s) = scopes.iter().find(|s| !signed.principal.scopes.contains(s)) {
        return Err(format!(
            "This session's key does not have {}, so it cannot give it to a new key.",
            s.as_str()
        ));
    }
    let expires_at = match fields
        .get("expires")
        .map(|e| e.trim())
        .filter(|e| !e.is_empty())
    {
        None => None,
        Some(day) => match mannequin_domain::time::parse_rfc3339(&format!("{day}T23:59:59.999Z")) {
            Some(ms) if ms > now_ms() => Some(ms),
            Some(_) => return Err("The last day must be today or later.".into()),
            None => return Err("Give the last day as a date (YYYY-MM-DD).".into()),
        },
    };
    Ok((scopes, expires_at))
}

/// `POST /console/keys/{id}/revoke`: the key stops working (every server
/// refuses it within a second); revoking the session's own key ends it.
pub(super) async fn revoke(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let fields = form(&body);
    if let Some(refused) = refused(&signed, Some(&fields)) {
        return refused;
    }
    // Only the account's own keys.
    match state.store.list_keys(&signed.principal.account_id).await {
        Ok(keys) if keys.iter().any(|k| k.key_id == id) => {}
        Ok(_) => return pages::problem(StatusCode::NOT_FOUND, "There is no such key."),
        Err(e) => return unavailable(e),
    }
    if let Err(e) = state.store.revoke_key(&id, now_ms()).await {
        return unavailable(e);
    }
    Redirect::to("/console/keys").into_response()
}
