//! The account's own material in the console: products (upload by the file
//! picker or by dropping a photo, list, delete) and presets (list, make),
//! each form doing what its API call does.

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use mannequin_domain::ids::kind;
use mannequin_domain::request::parse_path_id;

use super::{Signed, forged, forged_token, form, pages, unavailable};
use crate::clock::now_ms;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::multipart::{Form, Shape};
use crate::http::{presets as preset_api, products as product_api};
use crate::keys::Scope;

/// Products on the page, newest first.
const SHOWN: u32 = 200;

/// The upload's form: the API's, and the page's token.
const UPLOAD: Shape = Shape {
    files: product_api::UPLOAD.files,
    texts: &["name", "csrf"],
    limit: product_api::UPLOAD.limit,
};

/// A preset's form: the API's, and the page's token.
const PRESET: Shape = Shape {
    files: preset_api::FORM.files,
    texts: &[
        "name",
        "guidelines",
        "quantityGuidelines",
        "qualityGuidelines",
        "csrf",
    ],
    limit: preset_api::FORM.limit,
};

/// The form's token checked before anything in it is used.
fn token(signed: &Signed, form: &Form) -> Result<(), ApiError> {
    if forged_token(signed, form.texts.get("csrf").map(String::as_str)) {
        return Err(ApiError::BadRequest {
            code: "forged",
            message: pages::FORGED.into(),
        });
    }
    Ok(())
}

/// A refusal as the page says it.
fn said(e: &ApiError) -> (StatusCode, String) {
    let (status, _, message) = e.parts();
    (status, message)
}

fn may_change(signed: &Signed, what: &str) -> Option<Response> {
    (!signed.principal.scopes.contains(&Scope::Register)).then(|| {
        pages::problem(
            StatusCode::FORBIDDEN,
            &format!("This key may look but not {what}: it lacks the content.register scope."),
        )
    })
}

async fn products_page(
    state: &AppState,
    signed: &Signed,
    error: Option<(StatusCode, String)>,
) -> Response {
    let account = &signed.principal.account_id;
    let (rows, balances) = match tokio::try_join!(
        state.store.list_products(account, None, SHOWN),
        state.store.balances(account)
    ) {
        Ok(found) => found,
        Err(e) => return unavailable(e),
    };
    let (status, message) = match &error {
        Some((status, message)) => (*status, Some(message.as_str())),
        None => (StatusCode::OK, None),
    };
    pages::products(state, signed, balances, &rows, message, status)
}

/// `GET /console/products`.
pub(super) async fn products(State(state): State<AppState>, signed: Signed) -> Response {
    products_page(&state, &signed, None).await
}

/// `POST /console/products`: the upload; the page again, with the new
/// product or what was wrong.
pub(super) async fn upload(
    State(state): State<AppState>,
    signed: Signed,
    req: Request,
) -> Response {
    if let Some(refused) = may_change(&signed, "upload") {
        return refused;
    }
    let account = signed.principal.account_id.clone();
    match product_api::upload(&state, &account, req, &UPLOAD, |form| token(&signed, form)).await {
        Ok(_) => Redirect::to("/console/products").into_response(),
        Err(ApiError::BadRequest { code: "forged", .. }) => {
            pages::problem(StatusCode::FORBIDDEN, pages::FORGED)
        }
        Err(e) => products_page(&state, &signed, Some(said(&e))).await,
    }
}

/// `POST /console/products/{id}/delete`.
pub(super) async fn delete_product(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if forged(&signed, &form(&body)) {
        return pages::problem(StatusCode::FORBIDDEN, pages::FORGED);
    }
    if let Some(refused) = may_change(&signed, "delete") {
        return refused;
    }
    let Ok(id) = parse_path_id::<kind::Product>(&id) else {
        return pages::problem(StatusCode::NOT_FOUND, "There is no such product.");
    };
    match state
        .store
        .delete_product(&signed.principal.account_id, &id, now_ms())
        .await
    {
        Ok(true) => Redirect::to("/console/products").into_response(),
        Ok(false) => pages::problem(StatusCode::NOT_FOUND, "There is no such product."),
        Err(e) => unavailable(e),
    }
}

async fn presets_page(
    state: &AppState,
    signed: &Signed,
    draft: &pages::PresetDraft,
    error: Option<(StatusCode, String)>,
) -> Response {
    let account = &signed.principal.account_id;
    let (own, balances) = match tokio::try_join!(
        state.store.list_presets(account, 100),
        state.store.balances(account)
    ) {
        Ok(found) => found,
        Err(e) => return unavailable(e),
    };
    let (status, message) = match &error {
        Some((status, message)) => (*status, Some(message.as_str())),
        None => (StatusCode::OK, None),
    };
    pages::presets(state, signed, balances, &own, draft, message, status)
}

/// `GET /console/presets`.
pub(super) async fn presets(State(state): State<AppState>, signed: Signed) -> Response {
    presets_page(&state, &signed, &pages::PresetDraft::default(), None).await
}

/// `POST /console/presets`: makes the preset; the list again, or the form
/// with what was wrong and what was written.
pub(super) async fn create_preset(
    State(state): State<AppState>,
    signed: Signed,
    req: Request,
) -> Response {
    if let Some(refused) = may_change(&signed, "make presets") {
        return refused;
    }
    let account = signed.principal.account_id.clone();
    let mut draft = pages::PresetDraft::default();
    let made = preset_api::create(&state, &account, req, &PRESET, |form| {
        let text = |name| form.texts.get(name).cloned().unwrap_or_default();
        draft = pages::PresetDraft {
            name: text("name"),
            guidelines: text("guidelines"),
            quantity: text("quantityGuidelines"),
            quality: text("qualityGuidelines"),
        };
        token(&signed, form)
    })
    .await;
    match made {
        Ok(_) => Redirect::to("/console/presets").into_response(),
        Err(ApiError::BadRequest { code: "forged", .. }) => {
            pages::problem(StatusCode::FORBIDDEN, pages::FORGED)
        }
        Err(e) => presets_page(&state, &signed, &draft, Some(said(&e))).await,
    }
}
