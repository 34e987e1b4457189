//! Presets: photography guidelines that photo shoots and packshots follow;
//! the system's and an account's own.

use mannequin_domain::presets::{SYSTEM_PRESETS_CREATED_AT_MS, SystemPreset};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::{Time, Url};
use crate::blob::BlobStore;
use crate::store::Preset as Stored;

/// A preset as the list and `GET /presets/{id}` show it: Qamera's six
/// fields, then ours.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Preset, example = json!({
    "id": "preset_system_ecommerce_white",
    "name": "E-commerce, white background",
    "guidelines": "Product shown whole and centred on a pure white background, evenly lit, with a soft shadow under it; nothing else in the frame.",
    "quantityGuidelines": "A front view, a back view and a three-quarter view; one detail close-up.",
    "qualityGuidelines": "True colours, sharp edges, no reflections or colour casts, the product filling about 80% of the frame.",
    "createdAt": "2026-01-01T00:00:00.000Z",
    "type": "SYSTEM",
    "cover": null,
    "gallery": []
}))]
pub struct Preset<'a> {
    pub id: &'a str,
    pub name: &'a str,
    /// Empty when none was given.
    pub guidelines: &'a str,
    pub quantity_guidelines: &'a str,
    pub quality_guidelines: &'a str,
    pub created_at: Time,
    /// (ours) `SYSTEM` (every account has it) or `USER` (this account's).
    #[serde(rename = "type")]
    #[schema(value_type = String, example = "USER")]
    pub kind: &'static str,
    /// (ours) The cover image, when one was uploaded.
    #[schema(required)]
    pub cover: Option<Url<'a>>,
    /// (ours) The gallery's images, in the order uploaded.
    pub gallery: Vec<Url<'a>>,
}

impl<'a> Preset<'a> {
    pub fn system(p: &'a SystemPreset) -> Preset<'a> {
        Preset {
            id: p.id,
            name: p.name,
            guidelines: p.guidelines,
            quantity_guidelines: p.quantity_guidelines,
            quality_guidelines: p.quality_guidelines,
            created_at: Time(SYSTEM_PRESETS_CREATED_AT_MS),
            kind: "SYSTEM",
            cover: None,
            gallery: Vec::new(),
        }
    }

    pub fn user(blobs: &'a dyn BlobStore, p: &'a Stored) -> Preset<'a> {
        Preset {
            id: p.id.as_str(),
            name: &p.name,
            guidelines: &p.guidelines,
            quantity_guidelines: &p.quantity_guidelines,
            quality_guidelines: &p.quality_guidelines,
            created_at: Time(p.created_at),
            kind: "USER",
            cover: Url::of(blobs, p.cover_key.as_deref()),
            gallery: p.gallery_keys.iter().map(|k| Url(blobs, k)).collect(),
        }
    }
}

/// The presets: the account's own, newest first, then the system's.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"presets": [{
    "id": "preset_system_flat_lay",
    "name": "Flat lay",
    "guidelines": "The product laid flat and neatly arranged, photographed from directly above on a plain surface.",
    "quantityGuidelines": "One overhead shot of the whole product and one close-up of its texture.",
    "qualityGuidelines": "Camera square to the surface, even soft light, no wrinkles, true colours.",
    "createdAt": "2026-01-01T00:00:00.000Z",
    "type": "SYSTEM",
    "cover": null,
    "gallery": []
}], "count": 1}))]
pub struct PresetList<'a> {
    pub presets: Vec<Preset<'a>>,
    /// Items in this response.
    pub count: u32,
}

/// The presets list's query.
#[derive(Debug, Default, serde::Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListPresets {
    /// Presets in the answer: 1–100, 20 when absent.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100, default = 20)]
    pub max_records: Option<String>,
}

/// A preset to make, as `multipart/form-data`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct CreatePreset {
    /// 1–200 characters after trimming.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    /// What the pictures show and how; up to 4,000 characters.
    #[schema(max_length = 4000)]
    pub guidelines: Option<String>,
    /// How many pictures of what; 1–4,000 characters after trimming.
    #[schema(min_length = 1, max_length = 4000, pattern = r"\S")]
    pub quantity_guidelines: String,
    /// What makes a picture good enough; 1–4,000 characters after trimming.
    #[schema(min_length = 1, max_length = 4000, pattern = r"\S")]
    pub quality_guidelines: String,
    /// One image (PNG, JPEG or WebP, up to 20 MB), cleaned as a product's.
    #[schema(value_type = Option<String>, format = Binary)]
    pub cover: Option<Vec<u8>>,
    /// Up to 10 images, each as the cover.
    #[schema(value_type = Option<Vec<String>>, format = Binary)]
    pub gallery: Option<Vec<Vec<u8>>>,
}

/// What making a preset answers (Qamera's shape).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"success": true, "presetId": "preset_01j9zq3k5v8m2c4x6b7n9p0r1s"}))]
pub struct PresetCreated<'a> {
    pub success: bool,
    pub preset_id: &'a str,
}
