//! The account's own material: products (upload, list, delete) and presets
//! (list, make).

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use mannequin_domain::credits::Balances;
use mannequin_domain::presets::SYSTEM_PRESETS;

use super::{Frame, page};
use crate::http::AppState;
use crate::http::console::Signed;
use crate::store::{Preset, Product};

/// A product's card.
struct ProductCard<'a> {
    id: &'a str,
    name: &'a str,
    thumbnail: String,
    image: String,
    /// "2400 × 3200".
    size: String,
}

#[derive(Template)]
#[template(path = "console/products.html")]
struct Products<'a> {
    frame: Frame<'a>,
    csrf: &'a str,
    error: Option<&'a str>,
    products: Vec<ProductCard<'a>>,
}

/// The products: the upload form (with what went wrong), then the photos.
pub fn products(
    state: &AppState,
    signed: &Signed,
    balances: Option<Balances>,
    rows: &[Product],
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let template = Products {
        frame: Frame::signed("Products", signed, balances, state),
        csrf: &signed.csrf,
        error,
        products: rows
            .iter()
            .map(|p| ProductCard {
                id: p.id.as_str(),
                name: &p.name,
                thumbnail: state.blobs.url(&p.thumb_key),
                image: state.blobs.url(&p.image_key),
                size: format!("{} × {}", p.width, p.height),
            })
            .collect(),
    };
    page(state, status, &template)
}

/// What the preset form holds, to show it again after a refusal.
#[derive(Debug, Clone, Default)]
pub struct PresetDraft {
    pub name: String,
    pub guidelines: String,
    pub quantity: String,
    pub quality: String,
}

/// A preset as its list shows it.
struct PresetItem<'a> {
    id: &'a str,
    name: &'a str,
    /// "System" or "Yours".
    kind: &'static str,
    guidelines: &'a str,
    quantity: &'a str,
    quality: &'a str,
    cover: Option<String>,
}

#[derive(Template)]
#[template(path = "console/presets.html")]
struct Presets<'a> {
    frame: Frame<'a>,
    csrf: &'a str,
    error: Option<&'a str>,
    presets: Vec<PresetItem<'a>>,
    draft: &'a PresetDraft,
}

/// The presets (the account's own first), then the form to make one.
pub fn presets(
    state: &AppState,
    signed: &Signed,
    balances: Option<Balances>,
    own: &[Preset],
    draft: &PresetDraft,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let presets = own
        .iter()
        .map(|p| PresetItem {
            id: p.id.as_str(),
            name: &p.name,
            kind: "Yours",
            guidelines: &p.guidelines,
            quantity: &p.quantity_guidelines,
            quality: &p.quality_guidelines,
            cover: p.cover_key.as_deref().map(|k| state.blobs.url(k)),
        })
        .chain(SYSTEM_PRESETS.iter().map(|p| PresetItem {
            id: p.id,
            name: p.name,
            kind: "System",
            guidelines: p.guidelines,
            quantity: p.quantity_guidelines,
            quality: p.quality_guidelines,
            cover: None,
        }))
        .collect();
    let template = Presets {
        frame: Frame::signed("Presets", signed, balances, state),
        csrf: &signed.csrf,
        error,
        presets,
        draft,
    };
    page(state, status, &template)
}
