//! Reviewing: a kind's gallery, one asset, and votes.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use mannequin_domain::ids::AssetId;
use mannequin_domain::request::parse_asset_id;
use mannequin_domain::{AssetKind, ModelStatus, Voting};

use super::{Signed, forged, form, pages, unavailable};
use crate::http::AppState;
use crate::keys::Scope;

/// The gallery's filters, as the query string carries them, and the kind
/// its path names.
#[derive(Debug, Clone)]
pub struct Filters {
    pub kind: AssetKind,
    pub status: Option<ModelStatus>,
    pub voting: Option<Voting>,
    pub batch: Option<mannequin_domain::ids::BatchId>,
    /// Pictures made from this product.
    pub product: Option<mannequin_domain::ids::ProductId>,
    /// Words the name, the prompt or the order's text holds (`q`).
    pub words: String,
}

impl Filters {
    pub(super) fn read(kind: AssetKind, params: &HashMap<String, String>) -> Filters {
        Filters {
            kind,
            status: params
                .get("status")
                .and_then(|s| ModelStatus::parse(&s.to_ascii_uppercase())),
            voting: params
                .get("voting")
                .and_then(|s| Voting::parse(&s.to_ascii_uppercase())),
            batch: params
                .get("batch")
                .filter(|b| !b.is_empty())
                .and_then(|b| mannequin_domain::ids::BatchId::parse(b.trim())),
            product: params
                .get("product")
                .filter(|_| kind.declaration().made_from == mannequin_domain::MadeFrom::Product)
                .and_then(|p| mannequin_domain::ids::ProductId::parse(p.trim())),
            words: params
                .get("q")
                .map(|q| q.split_whitespace().take(8).collect::<Vec<_>>().join(" "))
                .unwrap_or_default(),
        }
    }

    /// The store's query for these filters.
    pub(super) fn list_query(
        &self,
        cursor: Option<mannequin_domain::request::Cursor>,
        limit: u32,
    ) -> crate::store::ListQuery {
        crate::store::ListQuery {
            words: crate::store::search_words(&self.words),
            product_id: self.product.clone(),
            kind: self.kind,
            filter: mannequin_domain::StatusFilter::All,
            batch_id: self.batch.clone(),
            status: self.status,
            voting: self.voting,
            cursor,
            limit,
        }
    }

    /// The filters as query pairs, for links that keep them.
    pub fn query(&self) -> String {
        let mut pairs = Vec::new();
        if let Some(s) = self.status {
            pairs.push(("status", s.as_str().to_string()));
        }
        if let Some(v) = self.voting {
            pairs.push(("voting", v.as_str().to_string()));
        }
        if let Some(b) = &self.batch {
            pairs.push(("batch", b.as_str().to_string()));
        }
        if let Some(p) = &self.product {
            pairs.push(("product", p.as_str().to_string()));
        }
        if !self.words.is_empty() {
            pairs.push(("q", self.words.clone()));
        }
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

/// Models on one gallery page.
pub const PAGE: u32 = 60;

/// `GET /console` (models) or `/console/sceneries`: the account's assets of
/// `kind`, newest first, filtered and paged.
pub(super) async fn gallery(
    kind: AssetKind,
    State(state): State<AppState>,
    signed: Signed,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let filters = Filters::read(kind, &params);
    let cursor = params
        .get("cursor")
        .and_then(|c| mannequin_domain::request::Cursor::<AssetId>::parse(c).ok())
        .filter(|c| c.id.kind() == kind);
    let query = filters.list_query(cursor.clone(), PAGE + 1);
    let account = &signed.principal.account_id;
    let (rows, balances) = match tokio::try_join!(
        state.store.list_models(account, &query),
        state.store.balances(account)
    ) {
        Ok(found) => found,
        Err(e) => return unavailable(e),
    };
    pages::gallery(&state, &signed, balances, rows, &filters, cursor.is_some())
}

/// `GET /console/models/{id}` (or `/console/sceneries/{id}`): one asset to
/// review.
pub(super) async fn model(
    kind: AssetKind,
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let missing = || pages::problem(StatusCode::NOT_FOUND, &no_such(kind));
    let Ok(id) = parse_asset_id(&id, kind) else {
        return missing();
    };
    let filters = Filters::read(kind, &params);
    let account = &signed.principal.account_id;
    let detail = match state.store.model_detail(account, &id).await {
        Ok(Some(d)) => d,
        Ok(None) => return missing(),
        Err(e) => return unavailable(e),
    };
    let neighbours = neighbours(&state, account, &detail.row, &filters).await;
    let balances = match state.store.balances(account).await {
        Ok(b) => b,
        Err(e) => return unavailable(e),
    };
    let voted = voted_note(kind, &params);
    pages::model(
        &state,
        &signed,
        balances,
        detail,
        &filters,
        neighbours,
        voted.as_deref(),
    )
}

/// `GET /console/models/{id}/download` (and every kind's): the full image,
/// as stored (its own format and size), named for a person's downloads
/// folder: `<name> (<id>).<ext>`.
pub(super) async fn download(
    kind: AssetKind,
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    let missing = || pages::problem(StatusCode::NOT_FOUND, &no_such(kind));
    let Ok(id) = parse_asset_id(&id, kind) else {
        return missing();
    };
    let detail = match state
        .store
        .model_detail(&signed.principal.account_id, &id)
        .await
    {
        Ok(Some(d)) => d,
        Ok(None) => return missing(),
        Err(e) => return unavailable(e),
    };
    let Some(key) = detail.row.image_key else {
        return pages::problem(
            StatusCode::NOT_FOUND,
            "This one has no image yet: it can be downloaded once it is done.",
        );
    };
    let bytes = match state.blobs.get(&key).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return missing(),
        Err(e) => {
            tracing::error!(error = %e, "image read failed");
            return pages::problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "The image could not be read just now. Try again in a moment.",
            );
        }
    };
    let extension = key.rsplit_once('.').map_or("png", |(_, e)| e);
    let file = download_name(&detail.row.name, id.as_str(), extension);
    (
        [
            (
                header::CONTENT_TYPE,
                crate::blob::content_type(&key).to_string(),
            ),
            (header::CONTENT_DISPOSITION, file),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

/// `attachment` with the file name `<name> (<id>).<ext>`: a plain ASCII
/// `filename` for every browser and the exact one as `filename*` (RFC 6266).
fn download_name(name: &str, id: &str, extension: &str) -> String {
    let exact = format!("{} ({id}).{extension}", name.trim());
    let plain: String = exact
        .chars()
        .map(|c| match c {
            ' '..='~' if !matches!(c, '"' | '\\' | '/' | '%') => c,
            _ => '_',
        })
        .collect();
    let encoded: String = exact
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("attachment; filename=\"{plain}\"; filename*=UTF-8''{encoded}")
}

/// The models before and after this one in the gallery's order, with the
/// same filters: `(newer, older)`.
async fn neighbours(
    state: &AppState,
    account: &mannequin_domain::ids::AccountId,
    row: &crate::store::ModelRow,
    filters: &Filters,
) -> (Option<AssetId>, Option<AssetId>) {
    let here = mannequin_domain::request::Cursor {
        created_at_ms: row.created_at,
        id: row.id.clone(),
    };
    let query = filters.list_query(Some(here.clone()), 1);
    let older = state
        .store
        .list_models(account, &query)
        .await
        .ok()
        .and_then(|mut r| r.pop())
        .map(|r| r.id);
    let newer = state
        .store
        .newer_model(account, &here, &query)
        .await
        .ok()
        .flatten();
    (newer, older)
}

/// `POST /console/models/{id}/vote` (or a scenery's): `voting` (`APPROVED`,
/// `REJECTED` or `PENDING`), then on to `next` (an id of the same kind) or
/// back to this one.
pub(super) async fn vote(
    kind: AssetKind,
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let fields = form(&body);
    if forged(&signed, &fields) {
        return pages::problem(StatusCode::FORBIDDEN, pages::FORGED);
    }
    if !signed.principal.scopes.contains(&Scope::Register) {
        return pages::problem(
            StatusCode::FORBIDDEN,
            "This key may look but not vote: it lacks the content.register scope.",
        );
    }
    let Ok(id) = parse_asset_id(&id, kind) else {
        return pages::problem(StatusCode::NOT_FOUND, &no_such(kind));
    };
    let Some(voting) = fields
        .get("voting")
        .and_then(|v| Voting::parse(&v.to_ascii_uppercase()))
    else {
        return pages::problem(StatusCode::BAD_REQUEST, "Choose approve or reject.");
    };
    match state
        .orders
        .vote(&signed.principal.account_id, &id, voting)
        .await
    {
        Ok(true) => {}
        Ok(false) => return pages::problem(StatusCode::NOT_FOUND, &no_such(kind)),
        Err(e) => return unavailable(e),
    }
    // The gallery's filters ride along, rebuilt from what they parse to.
    let filters = Filters::read(
        kind,
        &serde_urlencoded::from_str(fields.get("filters").map(String::as_str).unwrap_or(""))
            .unwrap_or_default(),
    )
    .query();
    let to = fields
        .get("next")
        .and_then(|n| AssetId::parse(n))
        .filter(|n| n.kind() == kind)
        .unwrap_or_else(|| id.clone());
    // The page shown next confirms the vote in a line.
    let mut query = filters;
    if !query.is_empty() {
        query.push('&');
    }
    query.push_str(&format!("voted={}", voting.as_str()));
    if to != id {
        query.push_str("&moved=1");
    }
    Redirect::to(&pages::with_query(&super::asset_path(&to), &query)).into_response()
}

/// The line that confirms a vote on the page shown after it.
fn voted_note(kind: AssetKind, params: &HashMap<String, String>) -> Option<String> {
    let said = match Voting::parse(params.get("voted")?) {
        Some(Voting::Approved) => "Approved",
        Some(Voting::Rejected) => "Rejected",
        Some(Voting::Pending) => "Vote cleared",
        None => return None,
    };
    Some(if params.contains_key("moved") {
        format!("{said}. This is the next {}.", kind.declaration().noun)
    } else {
        format!("{said}.")
    })
}

/// What a page says of an id that names nothing here.
fn no_such(kind: AssetKind) -> String {
    format!("There is no such {kind}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_is_named_for_people_and_safe_in_the_header() {
        assert_eq!(
            download_name("Female Model - Dress", "model_01", "png"),
            "attachment; filename=\"Female Model - Dress (model_01).png\"; filename*=UTF-8''Female%20Model%20-%20Dress%20%28model_01%29.png"
        );
        let odd = download_name("Café \"Noir\"/x", "img_02", "jpg");
        assert!(
            odd.starts_with("attachment; filename=\"Caf_ _Noir__x (img_02).jpg\";"),
            "{odd}"
        );
        assert!(
            odd.ends_with("Caf%C3%A9%20%22Noir%22%2Fx%20%28img_02%29.jpg"),
            "{odd}"
        );
    }
}
