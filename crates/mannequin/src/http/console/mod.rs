//! The console: pages for people, served from the binary by every API
//! process. Server-rendered HTML (every value escaped, `pages`), one
//! stylesheet and one script from the binary, a strict
//! Content-Security-Policy, and no rules of its own: it calls the same store
//! methods and `AppState` operations, with the same checks, as the API.
//!
//! By concern: `session` (signing in and out, the session extractor),
//! `review` (the gallery and its search, a model, votes, downloads),
//! `orders` (the order form, batches, cancelling), `shoots` (photo shoots
//! and packshots), `library` (products, presets), `account` (balances, the
//! ledger and its CSV), `keys` (API keys). Problem pages are drawn in the
//! signed-in frame by one layer, [`framed`]. Every form that changes something carries the
//! session's own token, checked in constant time.

mod account;
mod keys;
mod library;
mod orders;
mod pages;
mod review;
mod session;
mod shoots;

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mannequin_domain::AssetKind;
use mannequin_domain::ids::AssetId;
use subtle::ConstantTimeEq;

use super::AppState;
use crate::store::StoreError;
pub use session::{SESSION_TTL_MS, Signed};

pub fn routes() -> Router<AppState> {
    let mut router = Router::new()
        .route("/", get(session::index))
        .route("/console/sign-in", post(session::sign_in))
        .route("/console/sign-out", post(session::sign_out));
    // Each kind's gallery, its assets' pages and their votes.
    for kind in AssetKind::ALL {
        let collection = kind.declaration().collection;
        router = router
            .route(
                &gallery_path(kind),
                get(move |state, signed, query| review::gallery(kind, state, signed, query)),
            )
            .route(
                &format!("/console/{collection}/{{id}}"),
                get(move |state, signed, id, query| review::model(kind, state, signed, id, query)),
            )
            .route(
                &format!("/console/{collection}/{{id}}/vote"),
                post(move |state, signed, id, body| review::vote(kind, state, signed, id, body)),
            )
            .route(
                &format!("/console/{collection}/{{id}}/download"),
                get(move |state, signed, id| review::download(kind, state, signed, id)),
            );
    }
    router
        .route(
            "/console/order",
            get(orders::order_form).post(orders::order),
        )
        .route(
            shoots::SHOOT_PATH,
            get(shoots::shoot_form).post(shoots::shoot),
        )
        .route(PRODUCTS_PATH, get(library::products).post(library::upload))
        .route(
            "/console/products/{id}/delete",
            post(library::delete_product),
        )
        .route(
            PRESETS_PATH,
            get(library::presets).post(library::create_preset),
        )
        .route("/console/keys", get(keys::keys).post(keys::create))
        .route("/console/keys/{id}/revoke", post(keys::revoke))
        .route("/console/account", get(account::account))
        .route("/console/account/ledger.csv", get(account::ledger_csv))
        .route("/console/batches", get(orders::batches))
        .route("/console/batches/{id}", get(orders::batch))
        .route("/console/batches/{id}/cancel", post(orders::cancel))
        .route("/console/assets/console.css", get(stylesheet))
        .route("/console/assets/console.js", get(script))
        // Any other console address: a page that says so, not JSON.
        .route(
            "/console/{*rest}",
            axum::routing::any(|| async {
                pages::problem(StatusCode::NOT_FOUND, "There is no page at this address.")
            }),
        )
}

/// The console's layer: a problem page answered to a signed-in person is
/// drawn again inside the frame they know (navigation, credits, sign-out),
/// whichever handler answered it.
pub async fn framed(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let headers = req.headers().clone();
    let res = next.run(req).await;
    let Some(problem) = res.extensions().get::<pages::ProblemPage>().cloned() else {
        return res;
    };
    let Ok(Some(signed)) = Signed::of(&state, &headers).await else {
        return res;
    };
    let balances = state
        .store
        .balances(&signed.principal.account_id)
        .await
        .ok()
        .flatten();
    pages::framed_problem(&state, &signed, balances, res.status(), &problem.message)
}

/// The console's upload forms (their bodies are forms with files).
pub(super) const PRODUCTS_PATH: &str = "/console/products";
pub(super) const PRESETS_PATH: &str = "/console/presets";

/// A kind's gallery: `/console` for models (the console's home),
/// `/console/sceneries` for sceneries.
pub(super) fn gallery_path(kind: AssetKind) -> String {
    match kind {
        AssetKind::Model => "/console".to_string(),
        _ => format!("/console/{}", kind.declaration().collection),
    }
}

/// An asset's page: `/console/models/model_…`, `/console/sceneries/scenery_…`.
pub(super) fn asset_path(id: &AssetId) -> String {
    format!(
        "/console/{}/{}",
        id.kind().declaration().collection,
        id.as_str()
    )
}

/// A store failure, as a page: the cause is logged, the person reads words.
pub(super) fn unavailable(e: StoreError) -> Response {
    tracing::error!(error = %crate::error::Report(&e), "store failure");
    pages::problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "The service is busy or briefly unavailable. Try again in a moment.",
    )
}

/// Reads a form body (`application/x-www-form-urlencoded`).
pub(super) fn form(body: &Bytes) -> HashMap<String, String> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

/// Checks the form's token against the session's, in constant time.
pub(super) fn forged(signed: &Signed, form: &HashMap<String, String>) -> bool {
    forged_token(signed, form.get("csrf").map(String::as_str))
}

/// Checks a form's `sent` token against the session's, in constant time.
pub(super) fn forged_token(signed: &Signed, sent: Option<&str>) -> bool {
    let sent = sent.map(str::as_bytes).unwrap_or_default();
    !bool::from(sent.ct_eq(signed.csrf.as_bytes()))
}

async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", include_str!("console.css"))
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", include_str!("console.js"))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}
