//! The console's pages as HTML. Every value from a person or the database
//! goes through [`esc`]; the only markup is these files': the frame of every
//! page and what pages share (here), `review` (gallery, model) and `orders`
//! (order form, batches, a batch).

mod orders;
mod review;

use std::fmt::Write;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mannequin_domain::ModelStatus;
use mannequin_domain::credits::Balances;

use super::Signed;
use crate::http::AppState;
use crate::store::ModelRow;
pub use orders::{batch, batches, order};
pub use review::{gallery, model};

pub const FORGED: &str = "This form was not sent from this console's own page (or it is too old). Go back, reload and try again.";

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

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

/// A whole page: the header (balances and sign-out when signed in), `body`,
/// and the security headers every console page carries.
pub(super) fn page(
    state: &AppState,
    status: StatusCode,
    title: &str,
    signed: Option<(&Signed, Option<Balances>)>,
    body: &str,
) -> Response {
    let mut html = String::with_capacity(body.len() + 2048);
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · mannequin</title>\
         <link rel=\"stylesheet\" href=\"/console/assets/console.css\">\
         <script src=\"/console/assets/console.js\" defer></script></head><body>",
        esc(title)
    );
    html.push_str("<header class=\"top\"><a class=\"brand\" href=\"/console\">mannequin</a>");
    if let Some((signed, balances)) = signed {
        html.push_str(
            "<nav aria-label=\"Console\"><a href=\"/console\">Gallery</a>\
             <a href=\"/console/batches\">Batches</a><a href=\"/console/order\">Order</a></nav>",
        );
        if let Some(b) = balances {
            let _ = write!(
                html,
                "<p class=\"credits\" aria-label=\"Credits\">\
                 <span><b>{}</b> available</span><span><b>{}</b> reserved</span>\
                 <span><b>{}</b> consumed</span></p>",
                b.available, b.reserved, b.consumed
            );
        }
        let _ = write!(
            html,
            "<form method=\"post\" action=\"/console/sign-out\" class=\"sign-out\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\">Sign out</button></form>",
            esc(&signed.csrf)
        );
    }
    html.push_str("</header><main id=\"main\">");
    html.push_str(body);
    html.push_str("</main></body></html>\n");
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

/// A page that only says what went wrong, in words.
pub fn problem(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{status} · mannequin</title>\
         <link rel=\"stylesheet\" href=\"/console/assets/console.css\"></head><body>\
         <main id=\"main\"><h1>Something went wrong</h1><p class=\"error\" role=\"alert\">{}</p>\
         <p><a href=\"/console\">Back to the gallery</a></p></main></body></html>\n",
        esc(message)
    );
    let mut res = (status, body).into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The sign-in page, with what was wrong with the last try.
pub fn sign_in(state: &AppState, error: Option<&str>, status: StatusCode) -> Response {
    let mut body = String::from(
        "<section class=\"sign-in\"><h1>Sign in</h1>\
         <p>Sign in with one of your account's API keys. The key stays on the server: \
         this browser keeps only a session, for 12 hours or until you sign out.</p>",
    );
    if let Some(e) = error {
        let _ = write!(body, "<p class=\"error\" role=\"alert\">{}</p>", esc(e));
    }
    body.push_str(
        "<form method=\"post\" action=\"/console/sign-in\">\
         <label for=\"apiKey\">API key</label>\
         <input id=\"apiKey\" name=\"apiKey\" type=\"password\" autocomplete=\"off\" \
         spellcheck=\"false\" required placeholder=\"mk_live_…\">\
         <button type=\"submit\">Sign in</button></form></section>",
    );
    page(state, status, "Sign in", None, &body)
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

/// A model's card in a grid, linking to its page with the gallery's filters.
pub(super) fn card(out: &mut String, state: &AppState, r: &ModelRow, query: &str) {
    let href = if query.is_empty() {
        format!("/console/models/{}", r.id.as_str())
    } else {
        format!("/console/models/{}?{}", r.id.as_str(), esc(query))
    };
    let status = r.status.as_str();
    let picture = match &r.thumb_key {
        Some(key) => format!(
            "<img src=\"{}\" alt=\"{}\" width=\"160\" height=\"240\" loading=\"lazy\">",
            esc(&state.blobs.url(key)),
            esc(&r.name)
        ),
        None => format!(
            "<span class=\"placeholder\" role=\"img\" aria-label=\"{} ({})\">{}</span>",
            esc(&r.name),
            title_case(status),
            title_case(status)
        ),
    };
    let _ = write!(
        out,
        "<li class=\"card\" data-model-id=\"{id}\" data-status=\"{status}\">\
         <a href=\"{href}\">{picture}</a>\
         <div class=\"meta\"><span class=\"name\">{name}</span>\
         <span class=\"badge {cls}\">{st}</span>\
         <span class=\"vote vote-{vote_cls}\">{vote}</span></div></li>",
        id = r.id.as_str(),
        name = esc(&r.name),
        cls = status_class(r.status),
        st = title_case(status),
        vote_cls = r.voting.as_str().to_ascii_lowercase(),
        vote = title_case(r.voting.as_str()),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_content_and_attributes() {
        assert_eq!(
            esc(r#"<img src=x onerror="alert('1')">&"#),
            "&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;"
        );
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
