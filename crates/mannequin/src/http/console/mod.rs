//! The console: pages for people, served from the binary by every API
//! process. Server-rendered HTML (every value escaped), one stylesheet and
//! one script from the binary, a strict Content-Security-Policy, and no
//! rules of its own: it calls the same store methods, with the same checks,
//! as the API.
//!
//! Signing in takes an API key once (a form field, never a URL or the
//! browser's storage) and keeps a session: a random token in an `HttpOnly`,
//! `SameSite=Strict` cookie (`Secure` behind https), stored hashed, ending
//! after [`SESSION_TTL_MS`], at sign-out, or as soon as its key is revoked or
//! expires. Every form that changes something carries the session's own
//! token, checked in constant time.

mod pages;

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use mannequin_domain::ids::{ApiKey, ModelId, kind};
use mannequin_domain::request::parse_path_id;
use mannequin_domain::{ModelStatus, Voting};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AppState;
use crate::clock::{now_ms, random_string};
use crate::keys::{self, Principal, Scope};
use crate::store::StoreError;
use mannequin_domain::ids;

/// How long a console session lasts: 12 hours.
pub const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;

const COOKIE: &str = "mannequin_session";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/console/sign-in", post(sign_in))
        .route("/console/sign-out", post(sign_out))
        .route("/console", get(gallery))
        .route("/console/models/{id}", get(model))
        .route("/console/models/{id}/vote", post(vote))
        .route("/console/order", get(order_form).post(order))
        .route("/console/batches", get(batches))
        .route("/console/batches/{id}", get(batch))
        .route("/console/batches/{id}/cancel", post(cancel))
        .route("/console/assets/console.css", get(stylesheet))
        .route("/console/assets/console.js", get(script))
}

/// A signed-in browser: the key's account and scopes, and its form token.
pub struct Signed {
    principal: Principal,
    csrf: String,
}

/// The session token from the request's cookie.
fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE && !value.is_empty()).then_some(value)
        })
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Where a browser without a live session goes: the sign-in page, with its
/// stale cookie cleared.
fn to_sign_in() -> Response {
    let mut res = Redirect::to("/").into_response();
    res.headers_mut().insert(header::SET_COOKIE, clear_cookie());
    res
}

fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("mannequin_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(token) = session_token(&parts.headers) else {
            return Err(to_sign_in());
        };
        let now = now_ms();
        let session = state
            .store
            .find_session(&token_hash(token), now)
            .await
            .map_err(unavailable)?;
        let Some(session) = session else {
            return Err(to_sign_in());
        };
        // A revoked or expired key ends its sessions at once.
        let Some(principal) = keys::live(&session.key, now) else {
            return Err(to_sign_in());
        };
        Ok(Signed {
            principal,
            csrf: session.csrf,
        })
    }
}

/// A store failure, as a page: the cause is logged, the person reads words.
fn unavailable(e: StoreError) -> Response {
    tracing::error!(error = %crate::error::Report(&e), "store failure");
    pages::problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "The service is busy or briefly unavailable. Try again in a moment.",
    )
}

/// Reads a form body (`application/x-www-form-urlencoded`).
fn form(body: &Bytes) -> HashMap<String, String> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

/// Checks the form's token against the session's, in constant time.
fn forged(signed: &Signed, form: &HashMap<String, String>) -> bool {
    let sent = form.get("csrf").map(String::as_bytes).unwrap_or_default();
    !bool::from(sent.ct_eq(signed.csrf.as_bytes()))
}

/// Whether a request that creates a session came from this site: browsers
/// send `Origin` with every form POST; it must name this host.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host)
}

/// `GET /`: the sign-in page, or the gallery for a signed-in browser.
async fn index(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = session_token(&headers)
        && let Ok(Some(session)) = state.store.find_session(&token_hash(token), now_ms()).await
        && keys::live(&session.key, now_ms()).is_some()
    {
        return Redirect::to("/console").into_response();
    }
    pages::sign_in(&state, None, StatusCode::OK)
}

/// `POST /console/sign-in` with the form field `apiKey`.
async fn sign_in(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if !same_origin(&headers) {
        return pages::problem(
            StatusCode::FORBIDDEN,
            "This sign-in did not come from this site's own page.",
        );
    }
    let fields = form(&body);
    let raw = fields.get("apiKey").map(|k| k.trim()).unwrap_or_default();
    let refused = |why: &str| pages::sign_in(&state, Some(why), StatusCode::UNAUTHORIZED);
    if raw.is_empty() {
        return refused("Enter an API key to sign in.");
    }
    let Some(key) = ApiKey::parse(raw) else {
        return refused("That is not an API key: keys start with mk_live_.");
    };
    let record = match state.store.find_key(key.key_id).await {
        Ok(r) => r,
        Err(e) => return unavailable(e),
    };
    let now = now_ms();
    let Some(principal) = record.and_then(|r| keys::verify(&r, key.secret, now)) else {
        return refused("That key is not valid, or it was revoked or has expired.");
    };
    if !principal.scopes.contains(&Scope::Read) {
        return refused("That key may not read models (it lacks the content.read scope).");
    }
    let token = random_string(ids::BASE62, 43);
    let csrf = random_string(ids::BASE62, 32);
    if let Err(e) = state
        .store
        .create_session(
            &token_hash(&token),
            &principal.key_id,
            &principal.account_id,
            &csrf,
            now,
            now + SESSION_TTL_MS,
        )
        .await
    {
        return unavailable(e);
    }
    let secure = if state.settings.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        SESSION_TTL_MS / 1000
    );
    let mut res = Redirect::to("/console").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// `POST /console/sign-out`: ends the session.
async fn sign_out(
    State(state): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if forged(&signed, &form(&body)) {
        return pages::problem(StatusCode::FORBIDDEN, pages::FORGED);
    }
    if let Some(token) = session_token(&headers)
        && let Err(e) = state.store.end_session(&token_hash(token), now_ms()).await
    {
        return unavailable(e);
    }
    to_sign_in()
}

/// The gallery's filters, as the query string carries them.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub status: Option<ModelStatus>,
    pub voting: Option<Voting>,
    pub batch: Option<mannequin_domain::ids::BatchId>,
}

impl Filters {
    fn read(params: &HashMap<String, String>) -> Filters {
        Filters {
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
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

/// Models on one gallery page.
pub const PAGE: u32 = 60;

/// `GET /console`: the account's models, newest first, filtered and paged.
async fn gallery(
    State(state): State<AppState>,
    signed: Signed,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let filters = Filters::read(&params);
    let cursor = params
        .get("cursor")
        .and_then(|c| mannequin_domain::request::Cursor::parse(c).ok());
    let query = crate::store::ListQuery {
        filter: mannequin_domain::StatusFilter::All,
        batch_id: filters.batch.clone(),
        status: filters.status,
        voting: filters.voting,
        cursor: cursor.clone(),
        limit: PAGE + 1,
    };
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

/// `GET /console/models/{id}`: one model to review.
async fn model(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let Ok(id) = parse_path_id::<kind::Model>(&id) else {
        return pages::problem(StatusCode::NOT_FOUND, "There is no such model.");
    };
    let filters = Filters::read(&params);
    let account = &signed.principal.account_id;
    let detail = match state.store.model_detail(account, &id).await {
        Ok(Some(d)) => d,
        Ok(None) => return pages::problem(StatusCode::NOT_FOUND, "There is no such model."),
        Err(e) => return unavailable(e),
    };
    let neighbours = neighbours(&state, account, &detail.row, &filters).await;
    let balances = match state.store.balances(account).await {
        Ok(b) => b,
        Err(e) => return unavailable(e),
    };
    pages::model(&state, &signed, balances, detail, &filters, neighbours)
}

/// The models before and after this one in the gallery's order, with the
/// same filters: `(newer, older)`.
async fn neighbours(
    state: &AppState,
    account: &mannequin_domain::ids::AccountId,
    row: &crate::store::ModelRow,
    filters: &Filters,
) -> (Option<ModelId>, Option<ModelId>) {
    let here = mannequin_domain::request::Cursor {
        created_at_ms: row.created_at,
        id: row.id.clone(),
    };
    let query = crate::store::ListQuery {
        filter: mannequin_domain::StatusFilter::All,
        batch_id: filters.batch.clone(),
        status: filters.status,
        voting: filters.voting,
        cursor: Some(here.clone()),
        limit: 1,
    };
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

/// `POST /console/models/{id}/vote`: `voting` (`APPROVED`, `REJECTED` or
/// `PENDING`), then on to `next` (a model id) or back to this one.
async fn vote(
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
    let Ok(id) = parse_path_id::<kind::Model>(&id) else {
        return pages::problem(StatusCode::NOT_FOUND, "There is no such model.");
    };
    let Some(voting) = fields
        .get("voting")
        .and_then(|v| Voting::parse(&v.to_ascii_uppercase()))
    else {
        return pages::problem(StatusCode::BAD_REQUEST, "Choose approve or reject.");
    };
    match state
        .store
        .set_voting(&signed.principal.account_id, &id, voting, now_ms())
        .await
    {
        Ok(true) => {}
        Ok(false) => return pages::problem(StatusCode::NOT_FOUND, "There is no such model."),
        Err(e) => return unavailable(e),
    }
    // The gallery's filters ride along, rebuilt from what they parse to.
    let filters = Filters::read(
        &serde_urlencoded::from_str(fields.get("filters").map(String::as_str).unwrap_or(""))
            .unwrap_or_default(),
    )
    .query();
    let to = fields
        .get("next")
        .and_then(|n| ModelId::parse(n))
        .unwrap_or(id);
    let suffix = if filters.is_empty() {
        String::new()
    } else {
        format!("?{filters}")
    };
    Redirect::to(&format!("/console/models/{}{suffix}", to.as_str())).into_response()
}

/// What the order form holds, to show it again after a refusal.
#[derive(Debug, Clone, Default)]
pub struct OrderDraft {
    pub preferences: String,
    pub count: String,
    /// One per form view: a double click sends it twice and registers once.
    pub idempotency_key: String,
}

impl OrderDraft {
    fn fresh() -> OrderDraft {
        OrderDraft {
            preferences: String::new(),
            count: "10".into(),
            idempotency_key: format!("console-{}", random_string(ids::BASE62, 24)),
        }
    }
}

/// `GET /console/order`: the order form.
async fn order_form(State(state): State<AppState>, signed: Signed) -> Response {
    let balances = match state.store.balances(&signed.principal.account_id).await {
        Ok(b) => b,
        Err(e) => return unavailable(e),
    };
    pages::order(
        &state,
        &signed,
        balances,
        &OrderDraft::fresh(),
        None,
        StatusCode::OK,
    )
}

/// `POST /console/order`: registers the batch as register-ideas does, then
/// follows it on its page; a refusal shows the form again with the reason.
async fn order(State(state): State<AppState>, signed: Signed, body: Bytes) -> Response {
    let fields = form(&body);
    if forged(&signed, &fields) {
        return pages::problem(StatusCode::FORBIDDEN, pages::FORGED);
    }
    let draft = OrderDraft {
        preferences: fields.get("preferences").cloned().unwrap_or_default(),
        count: fields.get("count").cloned().unwrap_or_default(),
        idempotency_key: fields
            .get("idempotencyKey")
            .cloned()
            .unwrap_or_else(|| OrderDraft::fresh().idempotency_key),
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
    let preferences = mannequin_domain::Preferences::parse(&draft.preferences).map_err(|e| {
        (
            format!("The description: {}", e.to_string().replace('\'', "")),
            StatusCode::BAD_REQUEST,
        )
    })?;
    let count = draft
        .count
        .trim()
        .parse::<i128>()
        .ok()
        .and_then(|n| mannequin_domain::Count::try_from(n).ok())
        .ok_or_else(|| {
            (
                "Choose how many models: a whole number from 1 to 20.".to_string(),
                StatusCode::BAD_REQUEST,
            )
        })?;
    let key = mannequin_domain::request::parse_idempotency_key(draft.idempotency_key.as_bytes())
        .map(str::to_string)
        .ok();
    let correlation_id = crate::clock::new_ulid();
    let now = now_ms();
    let planned = crate::batch::plan(
        crate::batch::Order {
            account: &signed.principal.account_id,
            preferences: &preferences,
            count,
            correlation_id: &correlation_id,
            idempotency_key: key,
        },
        &state.settings.terms,
        now,
    );
    match state.store.register_batch(&planned, now).await {
        Ok(done) => {
            if !done.replayed {
                state.metrics.credits_reserved(done.credits_reserved);
                state.wake.notify_one();
            }
            Ok(
                Redirect::to(&format!("/console/batches/{}", done.batch_id.as_str()))
                    .into_response(),
            )
        }
        Err(crate::store::RegisterError::InsufficientCredits {
            required,
            available,
        }) => {
            let short = required.get() - available.get();
            Err((
                format!(
                    "Not enough credits: this order costs {required}, the account has {available} available, {short} short."
                ),
                StatusCode::PAYMENT_REQUIRED,
            ))
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
async fn batches(
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
async fn batch(State(state): State<AppState>, signed: Signed, Path(id): Path<String>) -> Response {
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
async fn cancel(
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
        .store
        .cancel_pending(
            &signed.principal.account_id,
            &crate::store::CancelTarget::Batch(id.clone()),
            now_ms(),
        )
        .await
    {
        Ok(Some(cancelled)) => {
            let refunded = mannequin_domain::Credits::sum(cancelled.iter().map(|m| m.price))
                .unwrap_or_default();
            state.metrics.credits_refunded(refunded);
            Redirect::to(&format!("/console/batches/{}", id.as_str())).into_response()
        }
        Ok(None) => pages::problem(StatusCode::NOT_FOUND, "There is no such batch."),
        Err(e) => unavailable(e),
    }
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
