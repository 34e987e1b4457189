//! Signing in and out: an API key once, in the sign-in form's body (never a
//! URL or the browser's storage), for a session: a random token in an
//! `HttpOnly`, `SameSite=Strict` cookie (`Secure` behind https), stored
//! hashed, ending after [`SESSION_TTL_MS`], at sign-out, or as soon as its
//! key is revoked or expires.

use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use mannequin_domain::ids::{self, ApiKey};
use sha2::{Digest, Sha256};

use super::{forged, form, pages, unavailable};
use crate::clock::{now_ms, random_string};
use crate::http::AppState;
use crate::keys::{self, Principal, Scope};

/// How long a console session lasts: 12 hours.
pub const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;

const COOKIE: &str = "mannequin_session";

/// A signed-in browser: the key's account and scopes, and its form token.
pub struct Signed {
    pub(super) principal: Principal,
    pub(super) csrf: String,
    /// The account's name, on every page's header.
    pub(super) account_name: String,
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
pub(super) fn to_sign_in() -> Response {
    let mut res = Redirect::to("/").into_response();
    res.headers_mut().insert(header::SET_COOKIE, clear_cookie());
    res
}

fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("mannequin_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

impl Signed {
    /// The live session the request's cookie names, if any.
    pub(super) async fn of(
        state: &AppState,
        headers: &HeaderMap,
    ) -> Result<Option<Signed>, crate::store::StoreError> {
        let Some(token) = session_token(headers) else {
            return Ok(None);
        };
        let now = now_ms();
        let Some(session) = state.store.find_session(&token_hash(token), now).await? else {
            return Ok(None);
        };
        // A revoked or expired key ends its sessions at once.
        Ok(keys::live(&session.key, now).map(|principal| Signed {
            principal,
            csrf: session.csrf,
            account_name: session.account_name,
        }))
    }
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match Signed::of(state, &parts.headers).await {
            Ok(Some(signed)) => Ok(signed),
            Ok(None) => Err(to_sign_in()),
            Err(e) => Err(unavailable(e)),
        }
    }
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
pub(super) async fn index(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = session_token(&headers)
        && let Ok(Some(session)) = state.store.find_session(&token_hash(token), now_ms()).await
        && keys::live(&session.key, now_ms()).is_some()
    {
        return Redirect::to("/console").into_response();
    }
    pages::sign_in(&state, None, StatusCode::OK)
}

/// `POST /console/sign-in` with the form field `apiKey`.
pub(super) async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
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
pub(super) async fn sign_out(
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
