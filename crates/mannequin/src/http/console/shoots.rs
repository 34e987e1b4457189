//! Ordering photo shoots and packshots from the console: the form offers
//! the account's products, its approved models and sceneries and the
//! presets, and the order goes through the API's own path
//! ([`crate::http::assets::order_pictures`]): the same checks, the same
//! refusals in the same words.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use mannequin_domain::presets::SYSTEM_PRESETS;
use mannequin_domain::{AssetKind, Count, ModelStatus, Preferences, StatusFilter};

use super::{Signed, forged, form, pages, unavailable};
use crate::clock::random_string;
use crate::http::AppState;
use crate::keys::Scope;
use crate::store::{ListQuery, ModelRow, Product, StoreError};
use crate::views::pictures::{PictureConfig, Ref};

/// The form's path.
pub(super) const SHOOT_PATH: &str = "/console/shoot";

/// Choices shown of each kind, newest first.
const SHOWN: u32 = 48;

/// What the form holds, to show it again after a refusal.
#[derive(Debug, Clone)]
pub struct ShootDraft {
    pub kind: AssetKind,
    pub product: String,
    pub model: String,
    pub scenery: String,
    pub preset: String,
    pub industry: String,
    pub suggestions: String,
    pub count: String,
    pub idempotency_key: String,
}

/// What the account can make pictures from.
pub struct Library {
    pub products: Vec<Product>,
    /// Approved models and sceneries that are DONE.
    pub models: Vec<ModelRow>,
    pub sceneries: Vec<ModelRow>,
    /// (id, name): the account's own presets, then the system's.
    pub presets: Vec<(String, String)>,
}

/// The kind a form or a link names: packshots for `packshot`, else photo
/// shoots.
fn kind_of(fields: &HashMap<String, String>) -> AssetKind {
    match fields.get("kind").map(String::as_str) {
        Some("packshot") => AssetKind::Packshot,
        _ => AssetKind::PhotoShoot,
    }
}

impl ShootDraft {
    fn read(fields: &HashMap<String, String>) -> ShootDraft {
        let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
        let kind = kind_of(fields);
        ShootDraft {
            kind,
            product: field("product"),
            model: field("model"),
            scenery: field("scenery"),
            preset: field("preset"),
            industry: field("industry"),
            suggestions: field("suggestions"),
            count: fields
                .get("count")
                .cloned()
                .unwrap_or_else(|| kind.declaration().default_count.to_string()),
            idempotency_key: fields.get("idempotencyKey").cloned().unwrap_or_else(|| {
                format!(
                    "console-{}",
                    random_string(mannequin_domain::ids::BASE62, 24)
                )
            }),
        }
    }
}

async fn library(state: &AppState, signed: &Signed) -> Result<Library, StoreError> {
    let account = &signed.principal.account_id;
    let approved = |kind| ListQuery {
        words: Vec::new(),
        kind,
        filter: StatusFilter::Approved,
        batch_id: None,
        product_id: None,
        status: Some(ModelStatus::Done),
        voting: None,
        cursor: None,
        limit: SHOWN,
    };
    let (models, sceneries) = (approved(AssetKind::Model), approved(AssetKind::Scenery));
    let (products, models, sceneries, own) = tokio::try_join!(
        state.store.list_products(account, None, SHOWN),
        state.store.list_models(account, &models),
        state.store.list_models(account, &sceneries),
        state.store.list_presets(account, 100),
    )?;
    Ok(Library {
        products,
        models,
        sceneries,
        presets: own
            .into_iter()
            .map(|p| (p.id.as_str().to_string(), p.name))
            .chain(
                SYSTEM_PRESETS
                    .iter()
                    .map(|p| (p.id.to_string(), p.name.to_string())),
            )
            .collect(),
    })
}

/// Shows the form with `draft` in it.
async fn show(
    state: &AppState,
    signed: &Signed,
    draft: &ShootDraft,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let account = &signed.principal.account_id;
    let (library, balances) =
        match tokio::try_join!(library(state, signed), state.store.balances(account)) {
            Ok(found) => found,
            Err(e) => return unavailable(e),
        };
    pages::shoot(state, signed, balances, &library, draft, error, status)
}

/// `GET /console/shoot` (`?kind=packshot` for packshots): the form.
pub(super) async fn shoot_form(
    State(state): State<AppState>,
    signed: Signed,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let mut draft = ShootDraft::read(&params);
    draft.idempotency_key = ShootDraft::read(&HashMap::new()).idempotency_key;
    show(&state, &signed, &draft, None, StatusCode::OK).await
}

/// `POST /console/shoot`: registers the pictures as the API does, then
/// follows the batch; a refusal shows the form again with the reason.
pub(super) async fn shoot(State(state): State<AppState>, signed: Signed, body: Bytes) -> Response {
    let fields = form(&body);
    if forged(&signed, &fields) {
        return pages::problem(StatusCode::FORBIDDEN, pages::FORGED);
    }
    let draft = ShootDraft::read(&fields);
    match register(&state, &signed, &draft).await {
        Ok(res) => res,
        Err((why, status)) => show(&state, &signed, &draft, Some(&why), status).await,
    }
}

async fn register(
    state: &AppState,
    signed: &Signed,
    draft: &ShootDraft,
) -> Result<Response, (String, StatusCode)> {
    if !signed.principal.scopes.contains(&Scope::Register) {
        return Err((
            "This key may look but not order: it lacks the content.register scope.".into(),
            StatusCode::FORBIDDEN,
        ));
    }
    let refused = |message: String| (message, StatusCode::BAD_REQUEST);
    if draft.product.is_empty() {
        return Err(refused("Choose a product.".into()));
    }
    let reference = |id: &str| (!id.is_empty()).then(|| Ref { id: id.to_string() });
    let words = |name: &str, text: &str| {
        if text.trim().is_empty() {
            return Ok(None);
        }
        Preferences::parse(text).map(Some).map_err(|e| {
            refused(format!(
                "The {name}: {}",
                e.to_string()
                    .replace("'preferences' ", "")
                    .replace('\'', "")
            ))
        })
    };
    let config = PictureConfig {
        product: Ref {
            id: draft.product.clone(),
        },
        model: reference(&draft.model),
        scenery: reference(&draft.scenery),
        preset: reference(&draft.preset),
        industry: words("industry", &draft.industry)?,
        suggestions: words("suggestions", &draft.suggestions)?,
    };
    let declared = draft.kind.declaration();
    let count = draft
        .count
        .trim()
        .parse::<i128>()
        .ok()
        .and_then(|n| Count::of_kind(Some(n), draft.kind).ok())
        .ok_or_else(|| {
            refused(format!(
                "Choose how many: a whole number from 1 to {}.",
                declared.max_count
            ))
        })?;
    let key = mannequin_domain::request::parse_idempotency_key(draft.idempotency_key.as_bytes())
        .map(str::to_string)
        .ok();
    let correlation_id = crate::clock::new_ulid();
    match crate::http::assets::order_pictures(
        state,
        &signed.principal.account_id,
        draft.kind,
        config,
        count,
        &correlation_id,
        key,
    )
    .await
    {
        Ok(done) => Ok(
            Redirect::to(&format!("/console/batches/{}", done.batch_id.as_str())).into_response(),
        ),
        Err(e) => {
            let (status, _, mut message) = e.parts();
            if let (StatusCode::PAYMENT_REQUIRED, Some(hint)) = (status, &state.settings.credits) {
                message = format!("{message} {}", hint.sentence());
            }
            Err((message, status))
        }
    }
}
