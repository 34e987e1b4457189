//! The order form, the batches, and one batch.

use std::fmt::Write;

use axum::http::StatusCode;
use axum::response::Response;
use mannequin_domain::credits::Balances;
use mannequin_domain::time;

use super::{card, esc, page, title_case};
use crate::http::AppState;
use crate::http::console::Signed;
use crate::http::console::orders::OrderDraft;
use crate::store::{BatchDetail, ModelRow};

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
