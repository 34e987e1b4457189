//! Ordering: the order form, the batches, one batch followed to its end,
//! and cancelling what has not started.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use mannequin_domain::ids::{self, kind};
use mannequin_domain::request::parse_path_id;
use mannequin_domain::{AssetKind, MadeFrom};

use super::session::to_sign_in;
use super::{Signed, forged, form, pages, unavailable};
use crate::clock::random_string;
use crate::http::AppState;
use crate::keys::Scope;

/// What the order form holds, to show it again after a refusal.
#[derive(Debug, Clone)]
pub struct OrderDraft {
    /// What is ordered: models, or sceneries.
    pub kind: AssetKind,
    pub preferences: String,
    pub count: String,
    /// One per form view: a double click sends it twice and registers once.
    pub idempotency_key: String,
}

impl OrderDraft {
    fn fresh(kind: AssetKind) -> OrderDraft {
        OrderDraft {
            kind,
            preferences: String::new(),
            count: "10".into(),
            idempotency_key: format!("console-{}", random_string(ids::BASE62, 24)),
        }
    }
}

/// The kind a form or a link names (`kind=scenery`); models when it names
/// none it knows.
fn kind_of(fields: &HashMap<String, String>) -> AssetKind {
    fields
        .get("kind")
        .and_then(|k| {
            AssetKind::ALL
                .into_iter()
                .find(|x| x.declaration().noun == k && x.declaration().made_from == MadeFrom::Words)
        })
        .unwrap_or(AssetKind::Model)
}

/// `GET /console/order` (`?kind=scenery` for sceneries): the order form.
pub(super) async fn order_form(
    State(state): State<AppState>,
    signed: Signed,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let balances = match state.store.balances(&signed.principal.account_id).await {
        Ok(b) => b,
        Err(e) => return unavailable(e),
    };
    pages::order(
        &state,
        &signed,
        balances,
        &OrderDraft::fresh(kind_of(&params)),
        None,
        StatusCode::OK,
    )
}

/// `POST /console/order`: registers the batch as register-ideas does, then
/// follows it on its page; a refusal shows the form again with the reason.
pub(super) async fn order(State(state): State<AppState>, signed: Signed, body: Bytes) -> Response {
    let fields = form(&body);
    if forged(&signed, &fields) {
        return pages::problem(StatusCode::FORBIDDEN, pages::FORGED);
    }
    let kind = kind_of(&fields);
    let draft = OrderDraft {
        kind,
        preferences: fields.get("preferences").cloned().unwrap_or_default(),
        count: fields.get("count").cloned().unwrap_or_default(),
        idempotency_key: fields
            .get("idempotencyKey")
            .cloned()
            .unwrap_or_else(|| OrderDraft::fresh(kind).idempotency_key),
    };
    match register_order(&state, &signed, &draft).await {
        Ok(res) => res,
        Err((why, status)) => {
            let balances = state
                .store
                .balances(&signed.principal.account_id)
                .await
                .ok()
                .flatten();
            pages::order(&state, &signed, balances, &draft, Some(&why), status)
        }
    }
}

async fn register_order(
    state: &AppState,
    signed: &Signed,
    draft: &OrderDraft,
) -> Result<Response, (String, StatusCode)> {
    if !signed.principal.scopes.contains(&Scope::Register) {
        return Err((
            "This key may look but not order: it lacks the content.register scope.".into(),
            StatusCode::FORBIDDEN,
        ));
    }
    let wish = mannequin_domain::Preferences::parse(&draft.preferences)
        .map_err(|e| format!("The description: {}", e.to_string().replace('\'', "")))
        .and_then(|p| mannequin_domain::Brief::new(p).map_err(|e| e.to_string()))
        .map(mannequin_domain::Wish::Words)
        .map_err(|message| (message, StatusCode::BAD_REQUEST))?;
    let count = draft
        .count
        .trim()
        .parse::<i128>()
        .ok()
        .and_then(|n| mannequin_domain::Count::of_kind(Some(n), draft.kind).ok())
        .ok_or_else(|| {
            (
                format!(
                    "Choose how many {}: a whole number from 1 to {}.",
                    draft.kind.declaration().collection,
                    draft.kind.declaration().max_count
                ),
                StatusCode::BAD_REQUEST,
            )
        })?;
    let key = mannequin_domain::request::parse_idempotency_key(draft.idempotency_key.as_bytes())
        .map(str::to_string)
        .ok();
    let correlation_id = crate::clock::new_ulid();
    let registered = state
        .orders
        .register(crate::batch::Order {
            kind: draft.kind,
            account: &signed.principal.account_id,
            wish: &wish,
            count,
            correlation_id: &correlation_id,
            idempotency_key: key,
        })
        .await;
    match registered {
        Ok(done) => Ok(
            Redirect::to(&format!("/console/batches/{}", done.batch_id.as_str())).into_response(),
        ),
        Err(crate::store::RegisterError::InsufficientCredits {
            required,
            available,
        }) => {
            let short = required.get() - available.get();
            let mut said = format!(
                "Not enough credits: this order costs {required}, the account has {available} available, {short} short."
            );
            if let Some(hint) = &state.settings.credits {
                said = format!("{said} {}", hint.sentence());
            }
            Err((said, StatusCode::PAYMENT_REQUIRED))
        }
        Err(crate::store::RegisterError::IdempotencyKeyReused) => Err((
            "This form was already sent with other values. Reload the page to order again.".into(),
            StatusCode::CONFLICT,
        )),
        Err(crate::store::RegisterError::UnknownAccount) => Ok(to_sign_in()),
        Err(crate::store::RegisterError::Store(e)) => Ok(unavailable(e)),
    }
}

/// Batches on one page of the batches list.
const BATCH_PAGE: u32 = 20;

/// `GET /console/batches`: the account's batches, newest first, with progress.
pub(super) async fn batches(
    State(state): State<AppState>,
    signed: Signed,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let account = &signed.principal.account_id;
    let before = params
        .get("before")
        .and_then(|b| mannequin_domain::ids::BatchId::parse(b));
    let ids = match state
        .store
        .batch_ids(account, before.as_ref(), BATCH_PAGE + 1)
        .await
    {
        Ok(ids) => ids,
        Err(e) => return unavailable(e),
    };
    let more = ids.len() > BATCH_PAGE as usize;
    let mut details = Vec::with_capacity(ids.len());
    for id in ids.iter().take(BATCH_PAGE as usize) {
        match state
            .store
            .batch_detail(account, &crate::store::BatchKey::Batch(id.clone()))
            .await
        {
            Ok(Some(d)) => details.push(d),
            Ok(None) => {}
            Err(e) => return unavailable(e),
        }
    }
    let balances = match state.store.balances(account).await {
        Ok(b) => b,
        Err(e) => return unavailable(e),
    };
    pages::batches(&state, &signed, balances, &details, more)
}

/// `GET /console/batches/{id}`: one batch followed model by model.
pub(super) async fn batch(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = parse_path_id::<kind::Batch>(&id) else {
        return pages::problem(StatusCode::NOT_FOUND, "There is no such batch.");
    };
    let account = &signed.principal.account_id;
    let detail = match state
        .store
        .batch_detail(account, &crate::store::BatchKey::Batch(id.clone()))
        .await
    {
        Ok(Some(d)) => d,
        Ok(None) => return pages::problem(StatusCode::NOT_FOUND, "There is no such batch."),
        Err(e) => return unavailable(e),
    };
    let query = crate::store::ListQuery {
        words: Vec::new(),
        product_id: None,
        kind: detail.kind,
        filter: mannequin_domain::StatusFilter::All,
        batch_id: Some(id),
        status: None,
        voting: None,
        cursor: None,
        limit: 20,
    };
    let (rows, balances) = match tokio::try_join!(
        state.store.list_models(account, &query),
        state.store.balances(account)
    ) {
        Ok(found) => found,
        Err(e) => return unavailable(e),
    };
    pages::batch(&state, &signed, balances, &detail, rows)
}

/// `POST /console/batches/{id}/cancel`: cancels what has not started and
/// refunds it, as the API's cancel does.
pub(super) async fn cancel(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if forged(&signed, &form(&body)) {
        return pages::problem(StatusCode::FORBIDDEN, pages::FORGED);
    }
    if !signed.principal.scopes.contains(&Scope::Register) {
        return pages::problem(
            StatusCode::FORBIDDEN,
            "This key may look but not cancel: it lacks the content.register scope.",
        );
    }
    let Ok(id) = parse_path_id::<kind::Batch>(&id) else {
        return pages::problem(StatusCode::NOT_FOUND, "There is no such batch.");
    };
    match state
        .orders
        .cancel(
            &signed.principal.account_id,
            crate::store::CancelTarget::Batch(id.clone()),
        )
        .await
    {
        Ok(Some(_)) => Redirect::to(&format!("/console/batches/{}", id.as_str())).into_response(),
        Ok(None) => pages::problem(StatusCode::NOT_FOUND, "There is no such batch."),
        Err(e) => unavailable(e),
    }
}
