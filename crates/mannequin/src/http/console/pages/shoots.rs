//! The order form of photo shoots and packshots: the product, an approved
//! model and scenery, a preset, the words, the count and the price.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use mannequin_domain::AssetKind;
use mannequin_domain::credits::Balances;

use super::{Frame, Quote, page};
use crate::http::AppState;
use crate::http::console::shoots::{Library, ShootDraft};
use crate::http::console::{Signed, gallery_path};

/// One record to pick.
struct Choice {
    id: String,
    name: String,
    thumbnail: String,
    checked: bool,
}

/// The optional choices of one kind (models, sceneries).
struct Group {
    /// The form field: `model`, `scenery`.
    name: &'static str,
    legend: &'static str,
    /// What choosing none means.
    none: &'static str,
    none_checked: bool,
    choices: Vec<Choice>,
    gallery: String,
}

#[derive(Template)]
#[template(path = "console/shoot.html")]
struct Shoot<'a> {
    frame: Frame<'a>,
    /// "photo shoot", "packshots".
    what: &'static str,
    noun: &'static str,
    other: &'static str,
    other_noun: &'static str,
    error: Option<&'a str>,
    csrf: &'a str,
    key: &'a str,
    products: Vec<Choice>,
    groups: Vec<Group>,
    presets: Vec<(String, String, bool)>,
    industry: &'a str,
    suggestions: &'a str,
    example: &'static str,
    quote: Quote,
}

/// What the form calls a kind: its heading and the other kind's.
fn called(kind: AssetKind) -> &'static str {
    match kind {
        AssetKind::Packshot => "packshots",
        _ => "photo shoot",
    }
}

/// The form, with what the draft holds and what went wrong.
pub fn shoot(
    state: &AppState,
    signed: &Signed,
    balances: Option<Balances>,
    library: &Library,
    draft: &ShootDraft,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let kind = draft.kind;
    let other = if kind == AssetKind::Packshot {
        AssetKind::PhotoShoot
    } else {
        AssetKind::Packshot
    };
    let declared = kind.declaration();
    let quote = Quote::of(state, kind, &draft.count);
    let url = |key: &Option<String>| key.as_ref().map(|k| state.blobs.url(k)).unwrap_or_default();
    let products = library
        .products
        .iter()
        .enumerate()
        .map(|(i, p)| Choice {
            id: p.id.as_str().to_string(),
            name: p.name.clone(),
            thumbnail: state.blobs.url(&p.thumb_key),
            checked: draft.product == p.id.as_str() || (draft.product.is_empty() && i == 0),
        })
        .collect();
    let group =
        |name: &'static str, legend, none, rows: &[crate::store::ModelRow], chosen: &str, of| {
            Group {
                name,
                legend,
                none,
                none_checked: chosen.is_empty(),
                choices: rows
                    .iter()
                    .map(|r| Choice {
                        id: r.id.as_str().to_string(),
                        name: r.name.clone(),
                        thumbnail: url(&r.thumb_key),
                        checked: chosen == r.id.as_str(),
                    })
                    .collect(),
                gallery: gallery_path(of),
            }
        };
    let template = Shoot {
        frame: Frame::signed(
            if kind == AssetKind::Packshot {
                "New packshots"
            } else {
                "New photo shoot"
            },
            signed,
            balances,
            state,
        ),
        what: called(kind),
        noun: declared.noun,
        other: called(other),
        other_noun: other.declaration().noun,
        error,
        csrf: &signed.csrf,
        key: &draft.idempotency_key,
        products,
        groups: vec![
            group(
                "model",
                "Model",
                "None: the image model chooses a person",
                &library.models,
                &draft.model,
                AssetKind::Model,
            ),
            group(
                "scenery",
                "Scenery",
                "None: no scenery",
                &library.sceneries,
                &draft.scenery,
                AssetKind::Scenery,
            ),
        ],
        presets: library
            .presets
            .iter()
            .map(|(id, name)| (id.clone(), name.clone(), *id == draft.preset))
            .collect(),
        industry: &draft.industry,
        suggestions: &draft.suggestions,
        example: if kind == AssetKind::Packshot {
            "on a light grey background, front and back views"
        } else {
            "bright summer light, relaxed poses"
        },
        quote,
    };
    page(state, status, &template)
}
