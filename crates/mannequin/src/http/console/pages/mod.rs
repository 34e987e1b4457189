//! The console's pages, from the templates under `templates/console/`
//! (askama), which escape every value they print: these files gather what a
//! page shows, the templates hold the markup. Here the frame of every page
//! and what pages share; `review` (gallery, model), `orders` (order form,
//! batches, a batch) and `library` (products, presets).

mod account;
mod keys;
mod library;
mod orders;
mod review;
mod shoots;

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mannequin_domain::ModelStatus;
use mannequin_domain::credits::Balances;

use super::Signed;
use crate::http::AppState;
use crate::store::ModelRow;
pub use account::account;
pub use keys::keys;
pub use library::{PresetDraft, presets, products};
pub use orders::{batch, batches, order};
pub use review::{gallery, model};
pub use shoots::shoot;

pub const FORGED: &str = "This form was not sent from this console's own page (or it is too old). Go back, reload and try again.";

/// The origin (`scheme://host[:port]`) of an absolute URL.
fn origin(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find('/').unwrap_or(rest.len());
    Some(&url[..scheme.len() + 3 + end])
}

/// Scripts, styles and connections only from this server; images also from
/// where the image URLs point (a bucket or CDN); no frames, no plugins, forms
/// only to this server.
fn policy(state: &AppState) -> String {
    let media = state.blobs.url("x");
    let extra = origin(&media)
        .filter(|o| Some(*o) != origin(&state.settings.public_url))
        .map(|o| format!(" {o}"))
        .unwrap_or_default();
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:{extra}; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
}

/// What every page's frame shows: its title and, for a signed-in person,
/// the navigation, the balances and the sign-out form.
pub(super) struct Frame<'a> {
    pub title: &'a str,
    pub head: Option<Head<'a>>,
}

pub(super) struct Head<'a> {
    pub csrf: &'a str,
    /// The signed-in account's name.
    pub account: &'a str,
    pub balances: Option<Balances>,
    /// Where the account gets more credits, when the operator said.
    pub credits: Option<&'a crate::config::CreditsHint>,
}

impl<'a> Frame<'a> {
    pub fn signed(
        title: &'a str,
        signed: &'a Signed,
        balances: Option<Balances>,
        state: &'a AppState,
    ) -> Frame<'a> {
        Frame {
            title,
            head: Some(Head {
                csrf: &signed.csrf,
                account: &signed.account_name,
                balances,
                credits: state.settings.credits.as_ref(),
            }),
        }
    }
}

/// A whole page from its template, with the security headers every console
/// page carries.
pub(super) fn page(state: &AppState, status: StatusCode, template: &impl Template) -> Response {
    let html = match template.render() {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(error = %e, "a console page did not render");
            return problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "This page could not be shown.",
            );
        }
    };
    let mut res = (status, html).into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&policy(state)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

#[derive(Template)]
#[template(path = "console/problem.html")]
struct Problem<'a> {
    frame: Frame<'a>,
    heading: &'static str,
    message: &'a str,
}

/// What a problem page says: kept on the response, so that the console's
/// layer can draw it again inside the signed-in frame (navigation, credits).
#[derive(Clone)]
pub struct ProblemPage {
    pub message: String,
}

fn heading(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::PAYMENT_REQUIRED => "Not enough credits",
        s if s.is_server_error() => "Something went wrong",
        _ => "That did not work",
    }
}

fn problem_page(status: StatusCode, message: &str, frame: Frame<'_>) -> Response {
    let heading = heading(status);
    // Its text is a fixed sentence or the person's own words: it renders.
    let body = Problem {
        frame,
        heading,
        message,
    }
    .render()
    .unwrap_or_default();
    let mut res = (status, body).into_response();
    res.extensions_mut().insert(ProblemPage {
        message: message.to_string(),
    });
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// A page that only says what went wrong, in words (the console's layer
/// adds the signed-in frame: [`framed_problem`]).
pub fn problem(status: StatusCode, message: &str) -> Response {
    problem_page(
        status,
        message,
        Frame {
            title: heading(status),
            head: None,
        },
    )
}

/// `problem`'s page again, inside the frame of the signed-in person.
pub fn framed_problem(
    state: &AppState,
    signed: &Signed,
    balances: Option<Balances>,
    status: StatusCode,
    message: &str,
) -> Response {
    let frame = Frame::signed(heading(status), signed, balances, state);
    problem_page(status, message, frame)
}

#[derive(Template)]
#[template(path = "console/sign_in.html")]
struct SignIn<'a> {
    frame: Frame<'a>,
    error: Option<&'a str>,
}

/// The sign-in page, with what was wrong with the last try.
pub fn sign_in(state: &AppState, error: Option<&str>, status: StatusCode) -> Response {
    let frame = Frame {
        title: "Sign in",
        head: None,
    };
    page(state, status, &SignIn { frame, error })
}

/// What an order form says of its size and cost: the count asked (the
/// kind's default when it cannot be read, within 1 and the kind's most),
/// the price of one and the total.
pub(super) struct Quote {
    pub max: i64,
    pub count: i64,
    pub price: i64,
    pub total: i64,
}

impl Quote {
    pub(super) fn of(state: &AppState, kind: mannequin_domain::AssetKind, count: &str) -> Quote {
        let declared = kind.declaration();
        let price = state.orders.terms().price(kind).get();
        let max = i64::from(declared.max_count);
        let count = count
            .trim()
            .parse()
            .unwrap_or(i64::from(declared.default_count))
            .clamp(1, max);
        Quote {
            max,
            count,
            price,
            total: price * count,
        }
    }
}

pub(super) fn status_class(s: ModelStatus) -> &'static str {
    match s {
        ModelStatus::Pending => "pending",
        ModelStatus::Processing => "processing",
        ModelStatus::Done => "done",
        ModelStatus::Failed => "failed",
        ModelStatus::Cancelled => "cancelled",
    }
}

/// `DONE` → `Done`.
pub(super) fn title_case(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// An asset's card in a grid, linking to its page with the gallery's filters.
pub(super) struct Card<'a> {
    id: &'a str,
    status: &'static str,
    href: String,
    image: Option<String>,
    name: &'a str,
    badges: Badges,
    /// The thumbnail's size on the page: portrait, or landscape for kinds
    /// declared so.
    width: u32,
    height: u32,
}

/// A model's status and vote, as its card and its page show them.
pub(super) struct Badges {
    status_class: &'static str,
    status_label: String,
    vote_class: String,
    vote_label: String,
    /// What a picture still being made says in its place ("Queued",
    /// "Being made"), with a moving bar; `None` once it is finished.
    making: Option<&'static str>,
}

impl Badges {
    pub fn of(r: &ModelRow) -> Badges {
        Badges {
            status_class: status_class(r.status),
            status_label: title_case(r.status.as_str()),
            vote_class: r.voting.as_str().to_ascii_lowercase(),
            vote_label: title_case(r.voting.as_str()),
            making: match r.status {
                ModelStatus::Pending => Some("Queued"),
                ModelStatus::Processing => Some("Being made"),
                _ => None,
            },
        }
    }
}

impl<'a> Card<'a> {
    pub fn new(state: &AppState, r: &'a ModelRow, query: &str) -> Card<'a> {
        let (width, height) = r.id.kind().declaration().shape.size((160, 240));
        Card {
            id: r.id.as_str(),
            status: r.status.as_str(),
            href: with_query(&super::asset_path(&r.id), query),
            image: r.thumb_key.as_ref().map(|key| state.blobs.url(key)),
            name: &r.name,
            badges: Badges::of(r),
            width,
            height,
        }
    }
}

/// `path`, with `?query` when there is one.
pub(super) fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_content_and_attributes() {
        let page = Problem {
            frame: Frame {
                title: "Not found",
                head: None,
            },
            heading: "Not found",
            message: r#"<img src=x onerror="alert('1')">&"#,
        }
        .render()
        .unwrap();
        assert!(
            page.contains("&#60;img src=x onerror=&#34;alert(&#39;1&#39;)&#34;&#62;&#38;"),
            "{page}"
        );
        assert!(!page.contains("<img"), "{page}");
        assert_eq!(title_case("APPROVED"), "Approved");
        assert_eq!(
            origin("https://cdn.example/bucket/a.png"),
            Some("https://cdn.example")
        );
        assert_eq!(
            origin("http://127.0.0.1:8080/media/x"),
            Some("http://127.0.0.1:8080")
        );
    }
}
