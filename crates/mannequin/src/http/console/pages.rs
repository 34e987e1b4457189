//! The console's pages as HTML. Every value from a person or the database
//! goes through [`esc`]; the only markup is this file's.

use std::fmt::Write;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mannequin_domain::credits::Balances;
use mannequin_domain::ids::ModelId;
use mannequin_domain::{ModelStatus, Voting, time};

use super::{Filters, OrderDraft, PAGE, Signed};
use crate::http::AppState;
use crate::store::{BatchDetail, ModelDetail, ModelRow};

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
fn page(
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

fn status_class(s: ModelStatus) -> &'static str {
    match s {
        ModelStatus::Pending => "pending",
        ModelStatus::Processing => "processing",
        ModelStatus::Done => "done",
        ModelStatus::Failed => "failed",
        ModelStatus::Cancelled => "cancelled",
    }
}

fn options<T: Copy + PartialEq>(
    all: &[T],
    chosen: Option<T>,
    name: impl Fn(T) -> &'static str,
    everything: &str,
) -> String {
    let mut out = format!("<option value=\"\">{}</option>", esc(everything));
    for &v in all {
        let selected = if chosen == Some(v) { " selected" } else { "" };
        let _ = write!(
            out,
            "<option value=\"{0}\"{selected}>{1}</option>",
            name(v),
            title_case(name(v))
        );
    }
    out
}

/// `DONE` → `Done`.
fn title_case(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// The gallery: filters, a grid of cards, and the link to older models.
pub fn gallery(
    state: &AppState,
    signed: &Signed,
    balances: Option<Balances>,
    mut rows: Vec<ModelRow>,
    filters: &Filters,
    paged: bool,
) -> Response {
    let more = rows.len() > PAGE as usize;
    rows.truncate(PAGE as usize);
    let mut body = String::with_capacity(rows.len() * 600 + 2048);
    body.push_str("<h1>Models</h1>");
    let _ = write!(
        body,
        "<form class=\"filters\" method=\"get\" action=\"/console\">\
         <label>Status <select name=\"status\">{}</select></label>\
         <label>Vote <select name=\"voting\">{}</select></label>\
         <label>Batch <input name=\"batch\" value=\"{}\" placeholder=\"batch_…\" spellcheck=\"false\"></label>\
         <button type=\"submit\">Filter</button></form>",
        options(
            &ModelStatus::ALL,
            filters.status,
            ModelStatus::as_str,
            "Any status"
        ),
        options(
            &[Voting::Pending, Voting::Approved, Voting::Rejected],
            filters.voting,
            Voting::as_str,
            "Any vote"
        ),
        filters
            .batch
            .as_ref()
            .map(|b| esc(b.as_str()))
            .unwrap_or_default(),
    );
    let query = filters.query();
    let live = if paged { "" } else { " data-live=\"true\"" };
    let _ = write!(body, "<ul class=\"grid\" id=\"grid\"{live}>");
    if rows.is_empty() {
        body.push_str("<li class=\"empty\">No models here yet.</li>");
    }
    for r in &rows {
        card(&mut body, state, r, &query);
    }
    body.push_str("</ul>");
    let mut nav = String::new();
    if paged {
        let _ = write!(
            nav,
            "<a href=\"/console{}\">Newest</a>",
            if query.is_empty() {
                String::new()
            } else {
                format!("?{}", esc(&query))
            }
        );
    }
    if more && let Some(last) = rows.last() {
        let cursor = mannequin_domain::request::Cursor {
            created_at_ms: last.created_at,
            id: last.id.clone(),
        }
        .encode();
        let sep = if query.is_empty() { "" } else { "&" };
        let _ = write!(
            nav,
            "<a rel=\"next\" href=\"/console?{}{sep}cursor={}\">Older models</a>",
            esc(&query),
            esc(&cursor)
        );
    }
    if !nav.is_empty() {
        let _ = write!(
            body,
            "<nav class=\"pages\" aria-label=\"Pages\">{nav}</nav>"
        );
    }
    page(
        state,
        StatusCode::OK,
        "Models",
        Some((signed, balances)),
        &body,
    )
}

fn card(out: &mut String, state: &AppState, r: &ModelRow, query: &str) {
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

/// One model to review: the image, what it is, how it went, and the votes.
pub fn model(
    state: &AppState,
    signed: &Signed,
    balances: Option<Balances>,
    d: ModelDetail,
    filters: &Filters,
    (newer, older): (Option<ModelId>, Option<ModelId>),
) -> Response {
    let r = &d.row;
    let query = filters.query();
    let link = |id: &ModelId| {
        if query.is_empty() {
            format!("/console/models/{}", id.as_str())
        } else {
            format!("/console/models/{}?{}", id.as_str(), esc(&query))
        }
    };
    let mut body = String::with_capacity(4096);
    let _ = write!(
        body,
        "<article class=\"model\" data-model-id=\"{}\"><div class=\"picture\">",
        r.id.as_str()
    );
    match &r.image_key {
        Some(key) => {
            let _ = write!(
                body,
                "<img src=\"{}\" alt=\"{}\">",
                esc(&state.blobs.url(key)),
                esc(&r.name)
            );
        }
        None => {
            let _ = write!(
                body,
                "<span class=\"placeholder large\" role=\"img\" aria-label=\"No image yet\">{}</span>",
                title_case(r.status.as_str())
            );
        }
    }
    let _ = write!(
        body,
        "</div><div class=\"facts\"><h1>{}</h1>\
         <p><span class=\"badge {}\">{}</span> \
         <span class=\"vote vote-{}\" id=\"vote\">{}</span></p>",
        esc(&r.name),
        status_class(r.status),
        title_case(r.status.as_str()),
        r.voting.as_str().to_ascii_lowercase(),
        title_case(r.voting.as_str()),
    );
    if let Some(reason) = &r.failure_reason {
        let _ = write!(body, "<p class=\"error\">{}</p>", esc(reason));
    }
    let next = older.as_ref().map(|id| id.as_str()).unwrap_or_default();
    let vote_form = |voting: Voting, action: &str, label: &str, key: &str| {
        format!(
            "<form method=\"post\" action=\"/console/models/{id}/vote\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <input type=\"hidden\" name=\"voting\" value=\"{v}\">\
             <input type=\"hidden\" name=\"next\" value=\"{next}\">\
             <input type=\"hidden\" name=\"filters\" value=\"{q}\">\
             <button type=\"submit\" data-action=\"{action}\" aria-keyshortcuts=\"{key}\">{label} <kbd>{key}</kbd></button></form>",
            id = r.id.as_str(),
            csrf = esc(&signed.csrf),
            v = voting.as_str(),
            q = esc(&query),
        )
    };
    body.push_str("<div class=\"actions\">");
    body.push_str(&vote_form(Voting::Approved, "approve", "Approve", "a"));
    body.push_str(&vote_form(Voting::Rejected, "reject", "Reject", "r"));
    body.push_str("</div><nav class=\"step\" aria-label=\"Models\">");
    match &newer {
        Some(id) => {
            let _ = write!(
                body,
                "<a rel=\"prev\" data-key=\"ArrowLeft\" href=\"{}\">← Newer</a>",
                link(id)
            );
        }
        None => body.push_str("<span></span>"),
    }
    let _ = write!(
        body,
        "<a href=\"/console{}\">Gallery</a>",
        if query.is_empty() {
            String::new()
        } else {
            format!("?{}", esc(&query))
        }
    );
    if let Some(id) = &older {
        let _ = write!(
            body,
            "<a rel=\"next\" data-key=\"ArrowRight\" href=\"{}\">Older →</a>",
            link(id)
        );
    }
    body.push_str(
        "</nav><p class=\"hint\">Keys: <kbd>a</kbd> approve, <kbd>r</kbd> reject, \
                   <kbd>←</kbd> <kbd>→</kbd> newer and older.</p>",
    );
    body.push_str("<dl>");
    let mut fact = |name: &str, value: &str| {
        let _ = write!(body, "<dt>{}</dt><dd>{}</dd>", esc(name), esc(value));
    };
    fact("Preferences", &d.preferences);
    fact("Batch", r.batch_id.as_str());
    fact("Order", d.order_id.as_str());
    if let serde_json::Value::Object(idea) = serde_json::to_value(d.idea).unwrap_or_default() {
        for (k, v) in idea {
            if k == "palette" || k == "seed" {
                continue;
            }
            let text = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Null => continue,
                other => other.to_string(),
            };
            fact(
                &title_case(&k.replace('_', " ")),
                &text.to_ascii_lowercase().replace('_', " "),
            );
        }
    }
    if let Some(p) = &r.prompt {
        fact("Prompt", p);
    }
    if let Some(seed) = r.seed {
        fact("Seed", &seed.to_string());
    }
    if let Some(g) = &r.generator {
        fact("Generator", g);
    }
    if let Some(n) = &r.generator_notes {
        fact("Generator notes", n);
    }
    fact("Attempts", &d.attempts.to_string());
    body.push_str("</dl><h2>History</h2><ol class=\"history\">");
    let mut step = |what: &str, at: Option<i64>| {
        if let Some(at) = at {
            let stamp = time::format_millis(at);
            let _ = write!(
                body,
                "<li><time datetime=\"{stamp}\">{stamp}</time> {}</li>",
                esc(what)
            );
        }
    };
    step("Registered (Pending)", Some(r.created_at));
    step("Started (Processing)", d.started_at);
    step(
        &format!("Finished ({})", title_case(r.status.as_str())),
        d.finished_at,
    );
    body.push_str("</ol></div></article>");
    page(
        state,
        StatusCode::OK,
        &r.name,
        Some((signed, balances)),
        &body,
    )
}

/// The order form: the text, the count, the price, and what went wrong.
pub fn order(
    state: &AppState,
    signed: &Signed,
    balances: Option<Balances>,
    draft: &OrderDraft,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let price = state.settings.terms.price_per_model.get();
    let count: i64 = draft.count.trim().parse().unwrap_or(10).clamp(1, 20);
    let mut body = String::from("<section class=\"order\"><h1>Order models</h1>");
    if let Some(e) = error {
        let _ = write!(body, "<p class=\"error\" role=\"alert\">{}</p>", esc(e));
    }
    let _ = write!(
        body,
        "<form method=\"post\" action=\"/console/order\" id=\"order\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <input type=\"hidden\" name=\"idempotencyKey\" value=\"{key}\">\
         <label for=\"preferences\">Describe the models</label>\
         <textarea id=\"preferences\" name=\"preferences\" rows=\"4\" maxlength=\"2000\" required \
         placeholder=\"young female model, athletic build, natural makeup, for sportswear\">{text}</textarea>\
         <label for=\"count\">How many (1–20)</label>\
         <input id=\"count\" name=\"count\" type=\"number\" min=\"1\" max=\"20\" step=\"1\" value=\"{count}\" required>\
         <p class=\"price\">Price: <output id=\"price\" for=\"count\" data-per-model=\"{price}\">{total}</output> credits \
         ({price} a model). Credits are held when you order and refunded for any model that fails or is cancelled.</p>\
         <button type=\"submit\">Order</button></form></section>",
        csrf = esc(&signed.csrf),
        key = esc(&draft.idempotency_key),
        text = esc(&draft.preferences),
        total = price * count,
    );
    page(state, status, "Order", Some((signed, balances)), &body)
}

fn progress(out: &mut String, b: &BatchDetail) {
    let finished: u64 = ["DONE", "FAILED", "CANCELLED"]
        .iter()
        .map(|s| b.statuses.get(s).copied().unwrap_or(0))
        .sum();
    let _ = write!(
        out,
        "<progress value=\"{finished}\" max=\"{count}\" aria-label=\"Finished models\"></progress> \
         <span class=\"counts\">{finished} of {count} finished",
        count = b.count
    );
    for (name, n) in &b.statuses {
        if *n > 0 {
            let _ = write!(out, " · {n} {}", title_case(name).to_lowercase());
        }
    }
    out.push_str("</span>");
}

fn cancel_form(out: &mut String, signed: &Signed, b: &BatchDetail) {
    if b.statuses.get("PENDING").copied().unwrap_or(0) > 0 {
        let _ = write!(
            out,
            "<form method=\"post\" action=\"/console/batches/{}/cancel\" class=\"inline\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\" class=\"secondary\" data-action=\"cancel\">Cancel what has not started</button></form>",
            b.id.as_str(),
            esc(&signed.csrf)
        );
    }
}

/// The account's batches, newest first.
pub fn batches(
    state: &AppState,
    signed: &Signed,
    balances: Option<Balances>,
    list: &[BatchDetail],
    more: bool,
) -> Response {
    let mut body =
        String::from("<h1>Batches</h1><p><a href=\"/console/order\">Order models</a></p>");
    if list.is_empty() {
        body.push_str("<p class=\"empty\">No batches yet.</p>");
    }
    body.push_str("<ul class=\"batches\">");
    for b in list {
        let _ = write!(
            body,
            "<li data-batch-id=\"{id}\"><a href=\"/console/batches/{id}\" class=\"what\">{text}</a>\
             <time datetime=\"{at}\">{at}</time><div class=\"progress\">",
            id = b.id.as_str(),
            text = esc(&b.preferences),
            at = time::format_millis(b.created_at),
        );
        progress(&mut body, b);
        body.push_str("</div>");
        cancel_form(&mut body, signed, b);
        body.push_str("</li>");
    }
    body.push_str("</ul>");
    if more && let Some(last) = list.last() {
        let _ = write!(
            body,
            "<nav class=\"pages\"><a rel=\"next\" href=\"/console/batches?before={}\">Older batches</a></nav>",
            last.id.as_str()
        );
    }
    page(
        state,
        StatusCode::OK,
        "Batches",
        Some((signed, balances)),
        &body,
    )
}

/// One batch, followed model by model.
pub fn batch(
    state: &AppState,
    signed: &Signed,
    balances: Option<Balances>,
    b: &BatchDetail,
    rows: Vec<ModelRow>,
) -> Response {
    let mut body = String::new();
    let _ = write!(
        body,
        "<section class=\"batch\" id=\"batch\" data-batch-id=\"{}\"{}><h1>Batch</h1>\
         <p class=\"what\">{}</p><div class=\"progress\">",
        b.id.as_str(),
        if b.finished_at.is_none() {
            " data-live=\"true\""
        } else {
            ""
        },
        esc(&b.preferences)
    );
    progress(&mut body, b);
    let _ = write!(
        body,
        "</div><p class=\"muted\">Credits: {} reserved when ordered, {} consumed, {} refunded.",
        b.credits_reserved, b.credits_consumed, b.credits_refunded
    );
    match b.finished_at {
        Some(at) => {
            let _ = write!(
                body,
                " <span id=\"finished\">Finished at <time datetime=\"{0}\">{0}</time>.</span>",
                time::format_millis(at)
            );
        }
        None => body.push_str(" Still working: this page follows it."),
    }
    body.push_str("</p>");
    cancel_form(&mut body, signed, b);
    let query = format!("batch={}", b.id.as_str());
    body.push_str("<ul class=\"grid\">");
    for r in &rows {
        card(&mut body, state, r, &query);
    }
    body.push_str("</ul></section>");
    page(
        state,
        StatusCode::OK,
        "Batch",
        Some((signed, balances)),
        &body,
    )
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
