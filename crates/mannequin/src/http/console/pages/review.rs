//! The gallery and a model's page.

use std::fmt::Write;

use axum::http::StatusCode;
use axum::response::Response;
use mannequin_domain::credits::Balances;
use mannequin_domain::ids::ModelId;
use mannequin_domain::{ModelStatus, Voting, time};

use super::{card, esc, page, status_class, title_case};
use crate::http::AppState;
use crate::http::console::Signed;
use crate::http::console::review::{Filters, PAGE};
use crate::store::{ModelDetail, ModelRow};

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
