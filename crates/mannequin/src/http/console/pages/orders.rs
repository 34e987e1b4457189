//! The order form, the batches, and one batch.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use mannequin_domain::credits::Balances;
use mannequin_domain::{AssetKind, Credits, MadeFrom, time};

use super::{Card, Frame, Quote, page, title_case};
use crate::http::AppState;
use crate::http::console::Signed;
use crate::http::console::orders::OrderDraft;
use crate::store::{BatchDetail, ModelRow};

#[derive(Template)]
#[template(path = "console/order.html")]
struct Order<'a> {
    frame: Frame<'a>,
    /// `model` or `scenery`, and its plural.
    noun: &'static str,
    plural: &'static str,
    /// How many one order may ask for.
    /// The other kinds, to order instead: (noun, plural).
    others: Vec<(&'static str, &'static str)>,
    /// What the text box suggests.
    example: &'static str,
    error: Option<&'a str>,
    csrf: &'a str,
    key: &'a str,
    text: &'a str,
    quote: Quote,
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
    let kind = draft.kind;
    let declared = kind.declaration();
    let quote = Quote::of(state, kind, &draft.count);
    let template = Order {
        frame: Frame::signed("Order", signed, balances, state),
        noun: declared.noun,
        plural: declared.collection,
        others: AssetKind::ALL
            .iter()
            .filter(|k| **k != kind && k.declaration().made_from == MadeFrom::Words)
            .map(|k| (k.declaration().noun, k.declaration().collection))
            .collect(),
        example: match kind {
            AssetKind::Scenery => "white studio, seamless paper",
            _ => "young female model, athletic build, natural makeup, for sportswear",
        },
        error,
        csrf: &signed.csrf,
        key: &draft.idempotency_key,
        text: &draft.preferences,
        quote,
    };
    page(state, status, &template)
}

/// A batch as its line in the list and its page's head show it.
struct BatchLine<'a> {
    id: &'a str,
    /// What it makes: "models", "sceneries".
    plural: &'static str,
    preferences: &'a str,
    created_at: String,
    finished_at: Option<String>,
    /// Still running: its page follows it live.
    live: bool,
    count: u32,
    finished: u64,
    /// How many models are in each status that has any, as "3 done".
    counts: Vec<(u64, String)>,
    /// Some models have not started and can be cancelled.
    cancellable: bool,
}

impl<'a> BatchLine<'a> {
    fn new(b: &'a BatchDetail) -> BatchLine<'a> {
        let of = |s: &str| b.statuses.get(s).copied().unwrap_or(0);
        BatchLine {
            id: b.id.as_str(),
            plural: b.kind.declaration().collection,
            preferences: &b.preferences,
            created_at: time::format_millis(b.created_at),
            finished_at: b.finished_at.map(time::format_millis),
            live: b.finished_at.is_none(),
            count: b.count,
            finished: ["DONE", "FAILED", "CANCELLED"].iter().map(|s| of(s)).sum(),
            counts: b
                .statuses
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(name, n)| (*n, title_case(name).to_lowercase()))
                .collect(),
            cancellable: of("PENDING") > 0,
        }
    }
}

#[derive(Template)]
#[template(path = "console/batches.html")]
struct Batches<'a> {
    frame: Frame<'a>,
    csrf: &'a str,
    batches: Vec<BatchLine<'a>>,
    /// The last batch shown, when older ones follow.
    older: Option<&'a str>,
}

/// The account's batches, newest first.
pub fn batches(
    state: &AppState,
    signed: &Signed,
    balances: Option<Balances>,
    list: &[BatchDetail],
    more: bool,
) -> Response {
    let template = Batches {
        frame: Frame::signed("Batches", signed, balances, state),
        csrf: &signed.csrf,
        batches: list.iter().map(BatchLine::new).collect(),
        older: list.last().filter(|_| more).map(|b| b.id.as_str()),
    };
    page(state, StatusCode::OK, &template)
}

#[derive(Template)]
#[template(path = "console/batch.html")]
struct Batch<'a> {
    frame: Frame<'a>,
    csrf: &'a str,
    b: BatchLine<'a>,
    reserved: Credits,
    consumed: Credits,
    refunded: Credits,
    cards: Vec<Card<'a>>,
}

/// One batch, followed model by model.
pub fn batch(
    state: &AppState,
    signed: &Signed,
    balances: Option<Balances>,
    b: &BatchDetail,
    rows: Vec<ModelRow>,
) -> Response {
    let query = format!("batch={}", b.id.as_str());
    let template = Batch {
        frame: Frame::signed("Batch", signed, balances, state),
        csrf: &signed.csrf,
        b: BatchLine::new(b),
        reserved: b.credits_reserved,
        consumed: b.credits_consumed,
        refunded: b.credits_refunded,
        cards: rows.iter().map(|r| Card::new(state, r, &query)).collect(),
    };
    page(state, StatusCode::OK, &template)
}
