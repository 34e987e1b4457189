//! The account: its balances and its ledger with the running balance,
//! filtered by kind, paged, and downloadable as CSV.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use mannequin_domain::credits::LedgerKind;

use super::{Signed, pages, unavailable};
use crate::http::AppState;

/// Entries on one page of the console's ledger.
pub(super) const PAGE: u32 = 50;
/// Entries read at once while writing the CSV.
const CSV_CHUNK: u32 = 1000;

/// The kind the query names (`kind=reserve`), if it names one.
fn kind_of(params: &HashMap<String, String>) -> Option<LedgerKind> {
    params.get("kind").and_then(|k| LedgerKind::parse(k))
}

/// `GET /console/account`: the balances and a page of the ledger.
pub(super) async fn account(
    State(state): State<AppState>,
    signed: Signed,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let kind = kind_of(&params);
    let before = params.get("before").and_then(|b| b.parse::<i64>().ok());
    let account = &signed.principal.account_id;
    let balances = match state.store.balances(account).await {
        Ok(b) => b,
        Err(e) => return unavailable(e),
    };
    let mut entries = match state
        .store
        .ledger_with_balance(account, before, kind, PAGE + 1)
        .await
    {
        Ok(entries) => entries,
        Err(e) => return unavailable(e),
    };
    let more = entries.len() > PAGE as usize;
    entries.truncate(PAGE as usize);
    pages::account(
        &state,
        &signed,
        balances,
        &entries,
        kind,
        before.is_some(),
        more,
    )
}

/// `GET /console/account/ledger.csv`: every entry (of the kind asked), newest
/// first, written as it is read, a thousand at a time.
pub(super) async fn ledger_csv(
    State(state): State<AppState>,
    signed: Signed,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let kind = kind_of(&params);
    let account = signed.principal.account_id.clone();
    let head = "id,createdAt,kind,amount,availableAfter,modelId,batchId,reservationId,correlationId,note\n";
    // (the next page's `before`, whether the store failed): a failure ends the
    // file early, without a last line, so a reader can tell.
    let stream = futures_util::stream::unfold(Some(None::<i64>), move |next| {
        let (state, account) = (state.clone(), account.clone());
        async move {
            let before = next?;
            match state
                .store
                .ledger_with_balance(&account, before, kind, CSV_CHUNK)
                .await
            {
                Ok(entries) if entries.is_empty() => None,
                Ok(entries) => {
                    let last = entries.last().map(|(e, _)| e.id);
                    let full = entries.len() == CSV_CHUNK as usize;
                    let mut out = String::new();
                    for (e, after) in &entries {
                        out.push_str(&csv_line(e, *after));
                    }
                    Some((
                        Ok::<_, std::io::Error>(axum::body::Bytes::from(out)),
                        full.then_some(last),
                    ))
                }
                Err(e) => {
                    tracing::error!(error = %crate::error::Report(&e), "ledger export failed");
                    Some((
                        Err(std::io::Error::other("the ledger could not be read")),
                        None,
                    ))
                }
            }
        }
    });
    let body = futures_util::StreamExt::chain(
        futures_util::stream::once(async move {
            Ok::<_, std::io::Error>(axum::body::Bytes::from_static(head.as_bytes()))
        }),
        stream,
    );
    let name = match kind {
        Some(k) => format!("ledger-{}.csv", k.as_str()),
        None => "ledger.csv".to_string(),
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// One entry as a CSV line (RFC 4180); a text cell a spreadsheet would
/// take for a formula starts with `'`.
fn csv_line(e: &crate::store::LedgerEntry, after: mannequin_domain::Credits) -> String {
    let cell = |s: &str| {
        let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{s}")
        } else {
            s.to_string()
        };
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s
        }
    };
    let time = mannequin_domain::time::format_millis(e.created_at);
    format!(
        "{},{},{},{},{},{},{},{},{},{}\n",
        e.id,
        time,
        e.kind.as_str(),
        e.amount,
        after,
        e.model_id.as_ref().map_or("", |m| m.as_str()),
        e.batch_id.as_ref().map_or("", |b| b.as_str()),
        e.reservation_id.as_ref().map_or("", |r| r.as_str()),
        cell(e.correlation_id.as_deref().unwrap_or("")),
        cell(e.note.as_deref().unwrap_or("")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use mannequin_domain::Credits;

    #[test]
    fn csv_cells_are_quoted_and_never_formulas() {
        let e = crate::store::LedgerEntry {
            id: 7,
            kind: LedgerKind::Adjustment,
            amount: Credits::new(-5),
            model_id: None,
            reservation_id: None,
            batch_id: None,
            correlation_id: None,
            note: Some("=HYPERLINK(\"x\"), sorry".into()),
            created_at: 0,
        };
        assert_eq!(
            csv_line(&e, Credits::new(95)),
            "7,1970-01-01T00:00:00.000Z,adjustment,-5,95,,,,,\"'=HYPERLINK(\"\"x\"\"), sorry\"\n"
        );
    }
}
