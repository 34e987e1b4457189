//! The account page: balances and the ledger with its running balance.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use mannequin_domain::Credits;
use mannequin_domain::credits::{Balances, LedgerKind};

use super::review::{Choice, choices};
use super::{Frame, page, title_case, with_query};
use crate::http::AppState;
use crate::http::console::{Signed, asset_path};
use crate::store::LedgerEntry;

/// One ledger line.
struct Row {
    id: i64,
    at: String,
    what: String,
    /// Signed as it moved the available credits (a reserve is −, a consume 0).
    amount: String,
    after: i64,
    /// What it was for: the model, else the batch.
    link: Option<(String, String)>,
    note: Option<String>,
}

#[derive(Template)]
#[template(path = "console/account.html")]
struct Account<'a> {
    frame: Frame<'a>,
    name: &'a str,
    balances: Balances,
    credits: Option<&'a crate::config::CreditsHint>,
    kinds: Vec<Choice>,
    filtered: bool,
    csv: String,
    rows: Vec<Row>,
    newest: Option<String>,
    older: Option<String>,
}

/// The account's page: what it has, and a page of the ledger.
pub fn account(
    state: &AppState,
    signed: &Signed,
    balances: Option<Balances>,
    entries: &[(LedgerEntry, Credits)],
    kind: Option<LedgerKind>,
    paged: bool,
    more: bool,
) -> Response {
    let query = kind
        .map(|k| format!("kind={}", k.as_str()))
        .unwrap_or_default();
    let rows = entries
        .iter()
        .map(|(e, after)| {
            let moved = e.kind.effect().available;
            let amount = match moved {
                0 => format!("{} (held → spent)", e.amount),
                m if m < 0 || e.amount.get() < 0 => format!("−{}", e.amount.get().abs()),
                _ => format!("+{}", e.amount),
            };
            Row {
                id: e.id,
                at: mannequin_domain::time::format_millis(e.created_at),
                what: title_case(e.kind.as_str()),
                amount,
                after: after.get(),
                link: match (&e.model_id, &e.batch_id) {
                    (Some(m), _) => Some((m.as_str().to_string(), asset_path(m))),
                    (None, Some(b)) => Some((
                        b.as_str().to_string(),
                        format!("/console/batches/{}", b.as_str()),
                    )),
                    _ => None,
                },
                note: e.note.clone(),
            }
        })
        .collect();
    let older = entries.last().filter(|_| more).map(|(last, _)| {
        let sep = if query.is_empty() { "" } else { "&" };
        format!("/console/account?{query}{sep}before={}", last.id)
    });
    let template = Account {
        frame: Frame::signed("Account", signed, balances, state),
        name: &signed.account_name,
        balances: balances.unwrap_or_default(),
        credits: state.settings.credits.as_ref(),
        kinds: choices(&LedgerKind::ALL, kind, LedgerKind::as_str, "Every kind"),
        filtered: kind.is_some(),
        csv: with_query("/console/account/ledger.csv", &query),
        rows,
        newest: paged.then(|| with_query("/console/account", &query)),
        older,
    };
    page(state, StatusCode::OK, &template)
}
