//! Pictures made from a shop's product: photo shoots (the product on a model,
//! in a scenery) and packshots (the product alone). An order names what they
//! are made from ([`Config`]: the product, and a model, a scenery and a
//! preset it picked, with its own words); each picture of the batch varies
//! what the words leave open: the framing, the angle and, in a photo shoot,
//! the pose.
//!
//! The customer's words come first here too. A framing, an angle or a pose
//! the suggestions name is every picture's (several named: the pictures go
//! through them); only when they name none does the preset's guidance
//! choose, and only when neither does does the service vary its own. A pose
//! the words describe that is not one the service names ("seated") leaves
//! the pose to the words. A minor is never shown in swimwear, underwear or
//! adult styling: such an order is refused ([`refusal`]).

use serde::{Deserialize, Serialize};

use super::reading::find_at;
use super::vocabulary::{Garment, Pose, attribute};
use super::words::tokens;
use super::{Attributes, Idea, SplitMix64, lists};
use crate::AssetKind;

mod prompt;
mod style;
#[cfg(test)]
mod tests;

pub use prompt::prompt;
pub use style::{background, side};

/// A record an order names, as it was when ordered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Named {
    pub id: String,
    pub name: String,
}

/// A preset an order names, with its words as they were when ordered: what
/// is made follows what the customer chose, whatever becomes of the preset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresetWords {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub guidelines: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub quantity_guidelines: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub quality_guidelines: String,
}

/// What an order of pictures is made from: its `config`, every record it
/// names found in the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    pub product: Named,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<Named>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenery: Option<Named>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<PresetWords>,
    /// The customer's words, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestions: Option<String>,
}

impl Config {
    /// Everything the order names, one field after another (the ids and
    /// the words; names and a preset's words are read from the ids).
    pub fn fingerprint(&self) -> String {
        fn id(n: &Option<Named>) -> &str {
            n.as_ref().map_or("", |n| n.id.as_str())
        }
        [
            self.product.id.as_str(),
            id(&self.model),
            id(&self.scenery),
            self.preset.as_ref().map_or("", |p| p.id.as_str()),
            self.industry.as_deref().unwrap_or(""),
            self.suggestions.as_deref().unwrap_or(""),
        ]
        .join("\u{1f}")
    }

    /// The customer's own words of the order: the suggestions and the
    /// industry, as a batch's `preferences` shows them.
    pub fn words(&self) -> String {
        [self.suggestions.as_deref(), self.industry.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("\n")
    }
}

attribute!(
    /// Where a product sits on a person: what the built-in composition uses
    /// to place it.
    Category {
    Top => "top": ["top", "shirt", "t shirt", "tshirt", "tee", "blouse", "sweater", "jumper", "hoodie", "sweatshirt", "cardigan", "polo", "jacket", "coat", "blazer", "vest", "tank top", "knitwear", "pullover"],
    Bottom => "bottom": ["trousers", "pants", "jeans", "shorts", "skirt", "leggings", "joggers", "chinos", "culottes"],
    Dress => "dress": ["dress", "gown", "jumpsuit", "abaya", "kaftan", "robe", "overalls", "romper", "playsuit"],
    Shoes => "shoes": ["shoes", "shoe", "sneakers", "sneaker", "trainers", "boots", "boot", "heels", "sandals", "loafers", "flats", "slippers"],
    Bag => "bag": ["bag", "handbag", "purse", "tote", "backpack", "clutch", "wallet"],
    Accessory => "accessory": ["hat", "cap", "beanie", "scarf", "watch", "necklace", "earrings", "bracelet", "ring", "belt", "sunglasses", "glasses", "gloves", "jewellery", "jewelry", "tie"],
});

attribute!(
    /// How much of the scene a picture takes in.
    Framing {
    FullBody => "full body": ["full body", "full length", "full figure", "head to toe", "whole body"],
    ThreeQuarter => "three-quarter length": ["three quarter length", "knee up", "mid shot", "medium shot"],
    WaistUp => "waist up": ["waist up", "half body", "upper body", "half length"],
    CloseUp => "close-up on the product": ["close up", "closeup", "detail", "details", "detail shot", "macro"],
    Whole => "the whole product": ["whole product", "whole item", "entire product"],
});

attribute!(
    /// Where the camera stands.
    Angle {
    Front => "front": ["front", "front view", "from the front", "front facing", "frontal"],
    ThreeQuarter => "three-quarter": ["three quarter", "three quarter view", "angled", "45 degree"],
    Side => "side": ["side", "side view", "profile"],
    Back => "back": ["back", "back view", "rear", "from behind", "rear view"],
    Top => "top-down": ["top down", "flat lay", "flatlay", "overhead", "from above", "birds eye"],
});

/// One picture of a photo shoot or packshot batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PictureIdea {
    #[serde(flatten)]
    pub config: Config,
    /// Where the product sits, read from its name and the words; `None`
    /// when they do not say (the built-in then uses its configured default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    pub framing: Framing,
    pub angle: Angle,
    /// A photo shoot's pose, unless the words leave it to themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pose: Option<Pose>,
    pub seed: u32,
}

impl PictureIdea {
    /// The ids of what the picture is made from: the product, then the
    /// model and the scenery when the order names them.
    pub fn made_from(&self) -> [Option<&str>; 3] {
        let c = &self.config;
        [
            Some(c.product.id.as_str()),
            c.model.as_ref().map(|m| m.id.as_str()),
            c.scenery.as_ref().map(|s| s.id.as_str()),
        ]
    }
}

/// The words an order's variations are read from, first what the customer
/// wrote, then the preset's guidance.
fn read<T: Copy + PartialEq>(text: &str, candidates: &[(T, Vec<&'static str>)]) -> Vec<T> {
    let owned: Vec<String> = tokens(text).into_iter().map(|t| t.word).collect();
    let mut words: Vec<&str> = owned.iter().map(String::as_str).collect();
    find_at(&mut words, candidates)
        .into_iter()
        .map(|f| f.0)
        .collect()
}

/// The values the customer's words name, else the preset's, else `default`.
fn chosen<T: Copy + PartialEq>(
    config: &Config,
    candidates: &[(T, Vec<&'static str>)],
    default: &[T],
) -> Vec<T> {
    let own = read(&config.words(), candidates);
    if !own.is_empty() {
        return own;
    }
    if let Some(p) = &config.preset {
        let guided = read(
            &format!("{}\n{}", p.quantity_guidelines, p.guidelines),
            candidates,
        );
        if !guided.is_empty() {
            return guided;
        }
    }
    default.to_vec()
}

/// Where the product sits, from its name, then the customer's words.
pub fn category(config: &Config) -> Option<Category> {
    let from = |text: &str| {
        if let Some(c) = read(text, Category::candidates()).first() {
            return Some(*c);
        }
        // The garments the models' reading knows, by where they are worn.
        Attributes::read(text).garments.first().map(|g| match g {
            g if g.is_dress() || g.covers() => Category::Dress,
            Garment::Jeans
            | Garment::Trousers
            | Garment::Shorts
            | Garment::Skirt
            | Garment::LongSkirt
            | Garment::MiniSkirt => Category::Bottom,
            Garment::Suit
            | Garment::Tuxedo
            | Garment::Jumpsuit
            | Garment::Sleepwear
            | Garment::Uniform
            | Garment::Sari
            | Garment::SalwarKameez
            | Garment::Kimono
            | Garment::Hanbok
            | Garment::Cheongsam
            | Garment::Swimwear
            | Garment::Activewear => Category::Dress,
            _ => Category::Top,
        })
    };
    from(&config.product.name).or_else(|| from(&config.words()))
}

/// `count` pictures of `kind` made from `config`; `seed` is the batch's.
///
/// A photo shoot goes through the framings and angles (and poses) the words
/// leave open, most distinct first; a packshot shows the whole product from
/// the front unless the words or the preset name views (a back view, a
/// detail): the service does not invent a product's other sides unasked.
pub fn plan(kind: AssetKind, config: &Config, count: u32, seed: u64) -> Vec<PictureIdea> {
    let shoot = kind == AssetKind::PhotoShoot;
    if !shoot {
        return packshots(config, count, seed);
    }
    let framings = chosen(
        config,
        Framing::candidates(),
        &[Framing::FullBody, Framing::ThreeQuarter, Framing::WaistUp],
    );
    let angles = chosen(
        config,
        Angle::candidates(),
        &[Angle::Front, Angle::ThreeQuarter],
    );
    let poses: Vec<Option<Pose>> = {
        let words = config.words();
        let named = Attributes::read(&words).pose;
        let described = tokens(&words)
            .iter()
            .any(|t| lists::POSE_WORDS.contains(&t.word.as_str()));
        if !named.is_empty() {
            named.into_iter().map(Some).collect()
        } else if described {
            vec![None]
        } else {
            vec![
                Some(Pose::Standing),
                Some(Pose::Walking),
                Some(Pose::HandsOnHips),
            ]
        }
    };
    let category = category(config);
    let mut rng = SplitMix64(seed);
    (0..count as usize)
        .map(|i| {
            // The digits of `i`, framing fastest: neighbours differ most.
            let (f, rest) = (i % framings.len(), i / framings.len());
            let (a, rest) = (rest % angles.len(), rest / angles.len());
            let p = (i + rest) % poses.len();
            PictureIdea {
                config: config.clone(),
                category,
                framing: framings[f],
                angle: angles[a],
                pose: poses[p],
                seed: (rng.next_u64() >> 33) as u32,
            }
        })
        .collect()
}

/// Title case across spaces and hyphens: "three-quarter length" →
/// "Three-Quarter Length".
fn title(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut start = true;
    for c in text.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = c == ' ' || c == '-';
    }
    out
}

/// Packshots go through the views named (each of the whole product) and a
/// detail when one is named, the customer's words before the preset's: "a front view, a back view and one detail
/// close-up" gives the front, the back and a detail. Named nothing: the
/// whole product from the front.
fn packshots(config: &Config, count: u32, seed: u64) -> Vec<PictureIdea> {
    // The views are the customer's when its words name any; else the
    // preset's.
    let words = config.words();
    let (mut angles, mut framings) = (
        read(&words, Angle::candidates()),
        read(&words, Framing::candidates()),
    );
    if angles.is_empty()
        && framings.is_empty()
        && let Some(p) = &config.preset
    {
        let guided = format!("{}\n{}", p.quantity_guidelines, p.guidelines);
        angles = read(&guided, Angle::candidates());
        framings = read(&guided, Framing::candidates());
    }
    let detail = framings.contains(&Framing::CloseUp);
    let only_detail = detail && angles.is_empty() && framings.len() == 1;
    let mut shots: Vec<(Framing, Angle)> = Vec::new();
    if !only_detail {
        let whole = framings
            .iter()
            .copied()
            .find(|f| *f != Framing::CloseUp)
            .unwrap_or(Framing::Whole);
        let angles = if angles.is_empty() {
            vec![Angle::Front]
        } else {
            angles
        };
        shots.extend(angles.into_iter().map(|a| (whole, a)));
    }
    if detail {
        shots.push((Framing::CloseUp, Angle::Front));
    }
    let category = category(config);
    let mut rng = SplitMix64(seed);
    (0..count as usize)
        .map(|i| {
            let (framing, angle) = shots[i % shots.len()];
            PictureIdea {
                config: config.clone(),
                category,
                framing,
                angle,
                pose: None,
                seed: (rng.next_u64() >> 33) as u32,
            }
        })
        .collect()
}

/// The pictures' names, distinct within the batch: "Fashion Shoot - White
/// T-Shirt (Full Body, Front)", "White T-Shirt Packshot 2", "White T-Shirt
/// Packshot - Back".
pub fn names(kind: AssetKind, ideas: &[PictureIdea]) -> Vec<String> {
    let plain: Vec<String> = ideas
        .iter()
        .map(|idea| {
            let product = idea.config.product.name.trim();
            let angle = title(idea.angle.label());
            match kind {
                AssetKind::PhotoShoot => format!(
                    "Fashion Shoot - {product} ({}, {angle})",
                    title(idea.framing.label())
                ),
                _ => match (idea.framing, idea.angle) {
                    (Framing::Whole, Angle::Front) => format!("{product} Packshot"),
                    (Framing::Whole, _) => format!("{product} Packshot - {angle}"),
                    (_, _) => format!("{product} Packshot - Detail, {angle}"),
                },
            }
        })
        .collect();
    plain
        .iter()
        .enumerate()
        .map(|(i, name)| {
            if plain.iter().filter(|n| *n == name).count() == 1 {
                name.clone()
            } else {
                let nth = plain[..=i].iter().filter(|n| *n == name).count();
                format!("{name} {nth}")
            }
        })
        .collect()
}

/// Why no pictures may be made of this order: a minor (the chosen model, or
/// the words) with swimwear, underwear or adult styling in the product's
/// name, the words or the preset.
pub fn refusal(config: &Config, model: Option<&Idea>) -> Option<String> {
    let mut text = format!("{}\n{}", config.product.name, config.words());
    if let Some(p) = &config.preset {
        text.push('\n');
        text.push_str(&p.guidelines);
    }
    let reading = Attributes::read(&text);
    let minor = reading.minor || model.is_some_and(|m| m.age.is_minor());
    if !minor || reading.adult_styling.is_empty() {
        return None;
    }
    Some(format!(
        "Pictures of children and teenagers are never made in swimwear, underwear or crop tops, or with makeup or adult styling; this order shows a minor and {}.",
        reading
            .adult_styling
            .iter()
            .map(|w| format!("'{w}'"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}
