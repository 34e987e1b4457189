//! The gallery and a model's page.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use mannequin_domain::credits::Balances;
use mannequin_domain::ids::AssetId;
use mannequin_domain::{ModelStatus, Voting, time};

use super::{Badges, Card, Frame, page, title_case, with_query};
use crate::http::AppState;
use crate::http::console::review::{Filters, PAGE};
use crate::http::console::{Signed, asset_path, gallery_path};
use crate::store::{ModelDetail, ModelRow};

/// One choice of a filter's menu.
pub(super) struct Choice {
    pub value: &'static str,
    pub label: String,
    pub selected: bool,
}

/// "Everything" first, then each of `all`, with `chosen` selected.
pub(super) fn choices<T: Copy + PartialEq>(
    all: &[T],
    chosen: Option<T>,
    name: impl Fn(T) -> &'static str,
    everything: &str,
) -> Vec<Choice> {
    let first = Choice {
        value: "",
        label: everything.to_string(),
        selected: false,
    };
    std::iter::once(first)
        .chain(all.iter().map(|&v| Choice {
            value: name(v),
            label: title_case(name(v)),
            selected: chosen == Some(v),
        }))
        .collect()
}

#[derive(Template)]
#[template(path = "console/gallery.html")]
struct Gallery<'a> {
    frame: Frame<'a>,
    /// "Models", "Sceneries".
    title: &'a str,
    /// The kind's gallery, where the filters go.
    home: String,
    /// "models", "sceneries".
    plural: &'static str,
    /// Where more of them are ordered.
    order: String,
    statuses: Vec<Choice>,
    votes: Vec<Choice>,
    batch: &'a str,
    /// The product filter, for pictures made from one (else `None`: not shown).
    product: Option<&'a str>,
    /// The search's words.
    words: &'a str,
    /// The first page follows new models live.
    live: bool,
    /// Some filter is set: an empty page says the filters found nothing.
    filtered: bool,
    cards: Vec<Card<'a>>,
    newest: Option<String>,
    older: Option<String>,
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
    let query = filters.query();
    let home = gallery_path(filters.kind);
    let older = rows.last().filter(|_| more).map(|last| {
        let cursor = mannequin_domain::request::Cursor {
            created_at_ms: last.created_at,
            id: last.id.clone(),
        }
        .encode();
        let sep = if query.is_empty() { "" } else { "&" };
        format!("{home}?{query}{sep}cursor={cursor}")
    });
    let declared = filters.kind.declaration();
    let title = declared.title.to_string();
    let template = Gallery {
        frame: Frame::signed(&title, signed, balances, state),
        title: &title,
        home: home.clone(),
        plural: declared.collection,
        order: match declared.made_from {
            mannequin_domain::MadeFrom::Words => format!("/console/order?kind={}", declared.noun),
            mannequin_domain::MadeFrom::Product => format!("/console/shoot?kind={}", declared.noun),
        },
        statuses: choices(
            &ModelStatus::ALL,
            filters.status,
            ModelStatus::as_str,
            "Any status",
        ),
        votes: choices(
            &[Voting::Pending, Voting::Approved, Voting::Rejected],
            filters.voting,
            Voting::as_str,
            "Any vote",
        ),
        batch: filters
            .batch
            .as_ref()
            .map(|b| b.as_str())
            .unwrap_or_default(),
        product: (declared.made_from == mannequin_domain::MadeFrom::Product).then(|| {
            filters
                .product
                .as_ref()
                .map(|p| p.as_str())
                .unwrap_or_default()
        }),
        words: &filters.words,
        live: !paged,
        filtered: !query.is_empty(),
        cards: rows.iter().map(|r| Card::new(state, r, &query)).collect(),
        newest: paged.then(|| with_query(&home, &query)),
        older,
    };
    page(state, StatusCode::OK, &template)
}

/// One of a model's vote buttons.
struct VoteButton {
    voting: Voting,
    action: &'static str,
    label: &'static str,
    key: &'static str,
}

const VOTES: [VoteButton; 2] = [
    VoteButton {
        voting: Voting::Approved,
        action: "approve",
        label: "Approve",
        key: "a",
    },
    VoteButton {
        voting: Voting::Rejected,
        action: "reject",
        label: "Reject",
        key: "r",
    },
];

#[derive(Template)]
#[template(path = "console/model.html")]
struct Model<'a> {
    frame: Frame<'a>,
    id: &'a str,
    /// Its page.
    href: String,
    plural: &'static str,
    image: Option<String>,
    name: &'a str,
    badges: Badges,
    failure_reason: Option<&'a str>,
    csrf: &'a str,
    votes: &'static [VoteButton],
    /// The line confirming the vote that led here.
    voted: Option<&'a str>,
    /// The model to show after a vote: the next older one.
    next: &'a str,
    /// The gallery's filters, as its query.
    filters: String,
    newer: Option<String>,
    gallery: String,
    older: Option<String>,
    /// What a picture was made from: what, its name, and its page.
    made_from: Vec<(&'static str, String, Option<String>)>,
    /// What it is and how it was made, as names and values.
    facts: Vec<(String, String)>,
    /// When it was registered, started and finished.
    history: Vec<(String, String)>,
}

/// What a model is and how it was made, as its page lists them.
fn facts(d: &ModelDetail) -> Vec<(String, String)> {
    let r = &d.row;
    let mut facts = vec![
        ("Preferences".to_string(), d.preferences.clone()),
        ("Batch".into(), r.batch_id.as_str().to_string()),
        ("Order".into(), d.order_id.as_str().to_string()),
    ];
    if let serde_json::Value::Object(idea) = serde_json::to_value(&d.idea).unwrap_or_default() {
        for (k, v) in idea {
            // A picture's inputs are shown as links ([`made_from`]).
            let input = matches!(k.as_str(), "product" | "model" | "scenery" | "preset")
                || (d.idea.picture().is_some() && matches!(k.as_str(), "industry" | "suggestions"));
            if k == "palette" || k == "seed" || input {
                continue;
            }
            let text = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Null => continue,
                other => other.to_string(),
            };
            facts.push((
                title_case(&k.replace('_', " ")),
                text.to_ascii_lowercase().replace('_', " "),
            ));
        }
    }
    let optional = [
        ("Prompt", r.prompt.clone()),
        ("Seed", r.seed.map(|s| s.to_string())),
        ("Generator", r.generator.clone()),
        ("Generator notes", r.generator_notes.clone()),
        ("Attempts", Some(d.attempts.to_string())),
    ];
    facts.extend(
        optional
            .into_iter()
            .filter_map(|(name, value)| Some((name.to_string(), value?))),
    );
    facts
}

/// What a picture was made from, each with its page: the product (the
/// gallery of its pictures), the model and the scenery (their pages), the
/// preset, and the customer's words.
fn made_from(d: &ModelDetail) -> Vec<(&'static str, String, Option<String>)> {
    let Some(p) = d.idea.picture() else {
        return Vec::new();
    };
    let c = &p.config;
    let kind = d.row.id.kind();
    let page = |id: &str| AssetId::parse(id).map(|id| asset_path(&id));
    let mut out = vec![(
        "Product",
        c.product.name.clone(),
        Some(format!("{}?product={}", gallery_path(kind), c.product.id)),
    )];
    if let Some(m) = &c.model {
        out.push(("Model", m.name.clone(), page(&m.id)));
    }
    if let Some(s) = &c.scenery {
        out.push(("Scenery", s.name.clone(), page(&s.id)));
    }
    if let Some(p) = &c.preset {
        out.push(("Preset", p.name.clone(), None));
    }
    if let Some(i) = &c.industry {
        out.push(("Industry", i.clone(), None));
    }
    if let Some(s) = &c.suggestions {
        out.push(("Suggestions", s.clone(), None));
    }
    out
}

/// One model to review: the image, what it is, how it went, and the votes.
pub fn model(
    state: &AppState,
    signed: &Signed,
    balances: Option<Balances>,
    d: ModelDetail,
    filters: &Filters,
    (newer, older): (Option<AssetId>, Option<AssetId>),
    voted: Option<&str>,
) -> Response {
    let r = &d.row;
    let query = filters.query();
    let link = |id: &AssetId| with_query(&asset_path(id), &query);
    let history = [
        ("Registered (Pending)".to_string(), Some(r.created_at)),
        ("Started (Processing)".to_string(), d.started_at),
        (
            format!("Finished ({})", title_case(r.status.as_str())),
            d.finished_at,
        ),
    ]
    .into_iter()
    .filter_map(|(what, at)| Some((time::format_millis(at?), what)))
    .collect();
    let template = Model {
        frame: Frame::signed(&r.name, signed, balances, state),
        id: r.id.as_str(),
        href: asset_path(&r.id),
        plural: r.id.kind().declaration().collection,
        image: r.image_key.as_ref().map(|key| state.blobs.url(key)),
        name: &r.name,
        badges: Badges::of(r),
        failure_reason: r.failure_reason.as_deref(),
        csrf: &signed.csrf,
        votes: &VOTES,
        voted,
        next: older.as_ref().map(|id| id.as_str()).unwrap_or_default(),
        newer: newer.as_ref().map(link),
        gallery: with_query(&gallery_path(filters.kind), &query),
        older: older.as_ref().map(link),
        made_from: made_from(&d),
        facts: facts(&d),
        history,
        filters: query.clone(),
    };
    page(state, StatusCode::OK, &template)
}
