//! What the service generates, each kind declared once: its ids' prefix, its
//! place in the API, how many one order may ask for, its images' shape. The
//! pipeline (batches, reservations, jobs, the worker, settling, events) is one
//! for every kind and reads what differs from here; adding a kind is adding
//! its declaration, its reading and prompt, and its drawing.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Idea;
use crate::ideas::scenery::SceneryIdea;
use crate::ideas::shoot::PictureIdea;

/// A kind of generated asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AssetKind {
    /// A person to photograph products on.
    Model,
    /// An empty set to photograph in.
    Scenery,
    /// A picture of a photo shoot: the shop's product on a model, in a
    /// scenery (Qamera's "images": `image` in batches and events).
    #[serde(rename = "image")]
    PhotoShoot,
    /// A packshot: the shop's product alone, framed the same way every time.
    Packshot,
}

/// Which way an image is longer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Portrait,
    Landscape,
    Square,
}

impl Shape {
    /// A size of this shape from the backend's portrait size: turned for a
    /// landscape, its shorter side squared for a square.
    pub fn size(self, (width, height): (u32, u32)) -> (u32, u32) {
        let (long, short) = (width.max(height), width.min(height));
        match self {
            Shape::Portrait => (width, height),
            Shape::Landscape => (long, short),
            Shape::Square => (short, short),
        }
    }
}

/// What an order of a kind is made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MadeFrom {
    /// The customer's words (`preferences`).
    Words,
    /// The shop's product, with a model, a scenery and a preset it picks
    /// (`config`).
    Product,
}

/// What one kind is, for everything that serves every kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declaration {
    pub kind: AssetKind,
    /// Its ids' prefix: `model_`.
    pub prefix: &'static str,
    /// Its place under `/api/external` (`models`, `image-picker`).
    pub path: &'static str,
    /// Its list answer's wrapper key (`models`, `images`), which is also its
    /// images' folder and its place in the console.
    pub collection: &'static str,
    /// One of them in a sentence: "model".
    pub noun: &'static str,
    /// Them, as a heading says it: "Photo shoots".
    pub title: &'static str,
    /// How many one register call makes when it does not say, and at most.
    pub default_count: u32,
    pub max_count: u32,
    /// Its images' shape.
    pub shape: Shape,
    pub made_from: MadeFrom,
    /// Its webhook and live events when one ends DONE, FAILED and CANCELLED.
    pub events: [&'static str; 3],
}

const DECLARATIONS: [Declaration; 4] = [
    Declaration {
        kind: AssetKind::Model,
        prefix: "model_",
        path: "models",
        collection: "models",
        noun: "model",
        title: "Models",
        default_count: 10,
        max_count: 20,
        shape: Shape::Portrait,
        made_from: MadeFrom::Words,
        events: ["model.completed", "model.failed", "model.cancelled"],
    },
    Declaration {
        kind: AssetKind::Scenery,
        prefix: "scenery_",
        path: "sceneries",
        collection: "sceneries",
        noun: "scenery",
        title: "Sceneries",
        default_count: 10,
        max_count: 20,
        shape: Shape::Landscape,
        made_from: MadeFrom::Words,
        events: ["scenery.completed", "scenery.failed", "scenery.cancelled"],
    },
    Declaration {
        kind: AssetKind::PhotoShoot,
        prefix: "img_",
        path: "image-picker",
        collection: "images",
        noun: "image",
        title: "Photo shoots",
        default_count: 10,
        max_count: 20,
        shape: Shape::Portrait,
        made_from: MadeFrom::Product,
        events: ["image.completed", "image.failed", "image.cancelled"],
    },
    Declaration {
        kind: AssetKind::Packshot,
        prefix: "ps_",
        path: "packshots",
        collection: "packshots",
        noun: "packshot",
        title: "Packshots",
        default_count: 10,
        max_count: 50,
        shape: Shape::Square,
        made_from: MadeFrom::Product,
        events: [
            "packshot.completed",
            "packshot.failed",
            "packshot.cancelled",
        ],
    },
];

impl AssetKind {
    /// Every kind, in the order declared.
    pub const ALL: [AssetKind; 4] = [
        AssetKind::Model,
        AssetKind::Scenery,
        AssetKind::PhotoShoot,
        AssetKind::Packshot,
    ];

    /// The kind's declaration.
    pub fn declaration(self) -> &'static Declaration {
        &DECLARATIONS[self as usize]
    }

    /// The kind an id's prefix names.
    pub fn of_id(id: &str) -> Option<AssetKind> {
        DECLARATIONS
            .iter()
            .find(|d| id.starts_with(d.prefix))
            .map(|d| d.kind)
    }
}

impl fmt::Display for AssetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.declaration().noun)
    }
}

/// What one asset of any kind is to be: every attribute decided. Stored as
/// its kind's own JSON (a model's idea is written as it always was), and read
/// back by the kind its id names ([`AssetIdea::deserialize_as`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum AssetIdea {
    Model(Idea),
    Scenery(SceneryIdea),
    PhotoShoot(PictureIdea),
    Packshot(PictureIdea),
}

impl AssetIdea {
    pub fn kind(&self) -> AssetKind {
        match self {
            AssetIdea::Model(_) => AssetKind::Model,
            AssetIdea::Scenery(_) => AssetKind::Scenery,
            AssetIdea::PhotoShoot(_) => AssetKind::PhotoShoot,
            AssetIdea::Packshot(_) => AssetKind::Packshot,
        }
    }

    /// The image seed fixed when the batch was planned; `0` in model ideas
    /// stored before ideas had seeds.
    pub fn seed(&self) -> u32 {
        match self {
            AssetIdea::Model(idea) => idea.seed,
            AssetIdea::Scenery(idea) => idea.seed,
            AssetIdea::PhotoShoot(idea) | AssetIdea::Packshot(idea) => idea.seed,
        }
    }

    /// Reads a stored idea of `kind`.
    pub fn deserialize_as<'de, D: serde::Deserializer<'de>>(
        kind: AssetKind,
        d: D,
    ) -> Result<AssetIdea, D::Error> {
        Ok(match kind {
            AssetKind::Model => AssetIdea::Model(Idea::deserialize(d)?),
            AssetKind::Scenery => AssetIdea::Scenery(SceneryIdea::deserialize(d)?),
            AssetKind::PhotoShoot => AssetIdea::PhotoShoot(PictureIdea::deserialize(d)?),
            AssetKind::Packshot => AssetIdea::Packshot(PictureIdea::deserialize(d)?),
        })
    }

    /// What a picture made from a product was made from; `None` for kinds
    /// made from words.
    pub fn picture(&self) -> Option<&PictureIdea> {
        match self {
            AssetIdea::PhotoShoot(idea) | AssetIdea::Packshot(idea) => Some(idea),
            AssetIdea::Model(_) | AssetIdea::Scenery(_) => None,
        }
    }
}

/// What one register call asks for, read and accepted: the customer's words
/// (models, sceneries) or what the pictures are made from (photo shoots,
/// packshots).
#[derive(Debug, Clone)]
// One per register call, on the stack for its length: not worth a box.
#[allow(clippy::large_enum_variant)]
pub enum Wish {
    Words(crate::Brief),
    Pictures(crate::ideas::shoot::Config),
}

impl Wish {
    /// The customer's words, as the batch keeps them (its `preferences`).
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Wish::Words(brief) => brief.text().into(),
            Wish::Pictures(config) => config.words().into(),
        }
    }

    /// What two requests share when they ask the same: the words, or the
    /// whole config.
    pub fn fingerprint(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Wish::Words(brief) => brief.text().into(),
            Wish::Pictures(config) => config.fingerprint().into(),
        }
    }
}

/// The id of a generated asset of any kind: its kind's prefix, then what every
/// id has (letters, digits and underscores, at most
/// [`crate::ids::MAX_ID_LEN`] in all).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AssetId {
    kind: AssetKind,
    value: String,
}

impl AssetId {
    /// Reads an id from outside: refused unless a declared kind's prefix
    /// starts it and the rest has an id's shape.
    pub fn parse(raw: &str) -> Option<AssetId> {
        let kind = AssetKind::of_id(raw)?;
        let rest = &raw[kind.declaration().prefix.len()..];
        let ok = !rest.is_empty()
            && raw.len() <= crate::ids::MAX_ID_LEN
            && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        ok.then(|| AssetId {
            kind,
            value: raw.to_string(),
        })
    }

    /// A new id of `kind` for a record created at `ms` with 80 `random` bits.
    pub fn new(kind: AssetKind, ms: u64, random: [u8; 10]) -> AssetId {
        AssetId {
            kind,
            value: format!(
                "{}{}",
                kind.declaration().prefix,
                crate::ids::ulid(ms, random)
            ),
        }
    }

    /// An id read back from the database, which only ever holds ids this
    /// service made (an unknown prefix, which it never wrote, reads as a model).
    pub fn trusted(value: String) -> AssetId {
        AssetId {
            kind: AssetKind::of_id(&value).unwrap_or(AssetKind::Model),
            value,
        }
    }

    pub fn kind(&self) -> AssetKind {
        self.kind
    }

    pub fn into_string(self) -> String {
        self.value
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }
}

impl fmt::Display for AssetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

impl AsRef<str> for AssetId {
    fn as_ref(&self) -> &str {
        &self.value
    }
}

impl Serialize for AssetId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_declared_once_and_found_by_its_names() {
        for (i, kind) in AssetKind::ALL.iter().enumerate() {
            let d = kind.declaration();
            assert_eq!(d.kind, *kind, "declared in order");
            assert_eq!(AssetKind::of_id(&format!("{}01abc", d.prefix)), Some(*kind));
            for other in &AssetKind::ALL[i + 1..] {
                let o = other.declaration();
                assert!(
                    !d.prefix.starts_with(o.prefix) && !o.prefix.starts_with(d.prefix),
                    "one prefix may not start another: {} {}",
                    d.prefix,
                    o.prefix
                );
                assert_ne!(d.collection, o.collection);
                assert_ne!(d.path, o.path);
            }
            assert!(d.default_count >= 1 && d.default_count <= d.max_count);
        }
        assert_eq!(AssetKind::Scenery.to_string(), "scenery");
        for kind in AssetKind::ALL {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                kind.declaration().noun,
                "a batch names its kind by its noun"
            );
        }
        assert_eq!(AssetKind::of_id("img_01abc"), Some(AssetKind::PhotoShoot));
        assert_eq!(Shape::Square.size((832, 1216)), (832, 832));
        assert_eq!(Shape::Landscape.size((832, 1216)), (1216, 832));
    }

    #[test]
    fn an_asset_id_knows_its_kind_and_refuses_what_is_not_an_id() {
        let id = AssetId::new(AssetKind::Scenery, 1_700_000_000_000, [7; 10]);
        assert!(id.as_str().starts_with("scenery_"));
        assert_eq!(AssetId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(id.kind(), AssetKind::Scenery);
        let model = AssetId::parse("model_01abc").unwrap();
        assert_eq!(model.kind(), AssetKind::Model);
        for bad in [
            "",
            "model_",
            "scenery",
            "batch_01abc",
            "model_01-abc",
            "model_01abc\n",
            &format!("model_{}", "a".repeat(64)),
        ] {
            assert_eq!(AssetId::parse(bad), None, "{bad:?}");
        }
        assert_eq!(AssetId::trusted("model_01abc".into()), model);
        assert_eq!(
            AssetId::trusted(id.as_str().into()).kind(),
            AssetKind::Scenery
        );
    }
}
