//! The API keys page.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use mannequin_domain::credits::Balances;

use super::{Frame, page};
use crate::http::AppState;
use crate::http::console::Signed;
use crate::keys::Scope;
use crate::store::KeySummary;

/// A scope as the form offers it.
struct ScopeChoice {
    name: &'static str,
    purpose: &'static str,
    /// The session's key has it: it may give it.
    allowed: bool,
}

#[derive(Template)]
#[template(path = "console/keys.html")]
struct Keys<'a> {
    frame: Frame<'a>,
    csrf: &'a str,
    keys: &'a [KeySummary],
    /// The session's own key, which it says of itself.
    own: &'a str,
    scopes: Vec<ScopeChoice>,
    /// The key just made: its id and its secret, shown this once.
    created: Option<(&'a str, &'a str)>,
    error: Option<&'a str>,
}

pub fn keys(
    state: &AppState,
    signed: &Signed,
    balances: Option<Balances>,
    keys: &[KeySummary],
    created: Option<(&str, &str)>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let template = Keys {
        frame: Frame::signed("API keys", signed, balances, state),
        csrf: &signed.csrf,
        keys,
        own: &signed.principal.key_id,
        scopes: Scope::ALL
            .into_iter()
            .map(|s| ScopeChoice {
                name: s.as_str(),
                purpose: s.purpose(),
                allowed: signed.principal.scopes.contains(&s),
            })
            .collect(),
        created,
        error,
    };
    page(state, status, &template)
}
