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

/// The words of the order that say how its pictures look, the customer's
/// first: the suggestions, then the preset's guidelines.
fn guidance(config: &Config) -> Vec<String> {
    let mut texts = vec![config.words()];
    if let Some(p) = &config.preset {
        texts.push(format!(
            "{}\n{}\n{}",
            p.guidelines, p.quality_guidelines, p.quantity_guidelines
        ));
    }
    texts
}

/// The background colour the order names for a packshot, as RGB: a colour
/// in a sentence that speaks of the background ("on a light grey
/// background"), lightened or darkened as it says; `None` when it names
/// none (then white).
pub fn background(config: &Config) -> Option<[u8; 3]> {
    for text in guidance(config) {
        for sentence in text.split(['.', ';', '\n']) {
            let lower = sentence.to_lowercase();
            if !(lower.contains("background") || lower.contains("backdrop")) {
                continue;
            }
            let Some(colour) = read(sentence, super::Colour::candidates()).first().copied() else {
                continue;
            };
            let rgb = match colour {
                super::Colour::White => [255, 255, 255],
                c => {
                    let v = c.rgb();
                    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
                }
            };
            let toward = |target: f32, amount: f32| {
                rgb.map(|c| (f32::from(c) + (target - f32::from(c)) * amount).round() as u8)
            };
            return Some(if lower.contains("light") || lower.contains("pale") {
                toward(255.0, 0.6)
            } else if lower.contains("dark") {
                toward(0.0, 0.5)
            } else {
                rgb
            });
        }
    }
    None
}

/// The square side the order asks of a packshot ("2000 x 2000", "2000px",
/// "2000 pixels"), within 256–4096 pixels; `None` when it names none.
pub fn side(config: &Config) -> Option<u32> {
    #[derive(PartialEq)]
    enum T {
        N(u32),
        X,
        Px,
        Other,
    }
    for text in guidance(config) {
        let t = text
            .to_lowercase()
            .replace("pixels", " px ")
            .replace("px", " px ")
            .replace(['×', '*'], " x ");
        // Numbers, `x` between them and `px`; the rest is other words.
        let mut tokens: Vec<T> = Vec::new();
        for word in t.split(|c: char| !c.is_ascii_alphanumeric()) {
            let mut rest = word;
            while !rest.is_empty() {
                let digits =
                    rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                if digits > 0 {
                    tokens.push(rest[..digits].parse().map_or(T::Other, T::N));
                    rest = &rest[digits..];
                } else if let Some(r) = rest.strip_prefix('x') {
                    tokens.push(T::X);
                    rest = r;
                } else {
                    tokens.push(if rest == "px" { T::Px } else { T::Other });
                    rest = "";
                }
            }
        }
        let ok = |n: u32| (256..=4096).contains(&n).then_some(n);
        for (i, tok) in tokens.iter().enumerate() {
            let T::N(a) = *tok else { continue };
            let found = match (tokens.get(i + 1), tokens.get(i + 2)) {
                (Some(T::X), Some(T::N(b))) => ok(a).and(ok(*b)).map(|b| a.min(b)),
                (Some(T::Px), _) => ok(a),
                _ => None,
            };
            if found.is_some() {
                return found;
            }
        }
    }
    None
}

/// How the picture wears or holds the product.
fn worn(category: Option<Category>) -> &'static str {
    match category {
        Some(Category::Bag) => "carrying",
        Some(_) => "wearing",
        None => "wearing or holding",
    }
}

/// Quotes a name for a prompt.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.trim().replace('"', "'"))
}

/// The prompt of one picture: the product's name, the customer's words
/// verbatim, the preset's guidance, and what the picture varies; the
/// reference images are named by what they show (the backend sends them
/// alongside: the product's photo first, then the model's and the
/// scenery's pictures).
pub fn prompt(kind: AssetKind, idea: &PictureIdea) -> String {
    let c = &idea.config;
    let mut parts: Vec<String> = Vec::new();
    let product = quoted(&c.product.name);
    let words = c.words();
    let shoot = kind == AssetKind::PhotoShoot;
    if shoot {
        let who = if c.model.is_some() {
            "the model from the model's picture"
        } else {
            "a model"
        };
        let mut first = format!(
            "A fashion photo of {who} {} the product {product} from the product photo",
            worn(idea.category)
        );
        if c.scenery.is_some() {
            first.push_str(", in the place from the scenery's picture");
        }
        parts.push(first);
    } else {
        let mut first = format!("A packshot of the product {product} from the product photo");
        if c.model.is_some() {
            first.push_str(", worn by the model from the model's picture");
        }
        if c.scenery.is_some() {
            first.push_str(", set in the place from the scenery's picture");
        }
        parts.push(first);
    }
    if let Some(s) = c.suggestions.as_deref().filter(|s| !s.trim().is_empty()) {
        parts.push(s.trim().to_string());
    }
    if let Some(i) = c.industry.as_deref().filter(|s| !s.trim().is_empty()) {
        parts.push(format!("for {}", i.trim()));
    }
    // What this picture varies.
    let mut shot = vec![idea.framing.label().to_string()];
    shot.push(format!("{} view", idea.angle.label()));
    if let Some(pose) = idea.pose {
        shot.push(format!("the model {}", pose.label()));
    }
    parts.push(shot.join(", "));
    if !shoot {
        let words_background = read(&words, BACKGROUND.as_slice()).is_empty()
            && c.preset
                .as_ref()
                .is_none_or(|p| read(&p.guidelines, BACKGROUND.as_slice()).is_empty());
        if words_background && c.scenery.is_none() {
            parts.push(
                "the product alone, centred with even margins on a plain white background, a soft shadow beneath"
                    .to_string(),
            );
        }
    }
    if let Some(p) = &c.preset {
        let mut guide = format!("following the preset {}", quoted(&p.name));
        let said: Vec<&str> = [p.guidelines.trim(), p.quality_guidelines.trim()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        if !said.is_empty() {
            guide.push_str(": ");
            guide.push_str(&said.join(" "));
        }
        if !words.trim().is_empty() {
            guide.push_str(" (where it differs from the request above, the request comes first)");
        }
        parts.push(guide);
    }
    parts.push(
        "the product exactly as in its photo: its shape, colours, print, text and logo unchanged"
            .to_string(),
    );
    // Sentences: the service's own parts start with a capital; the
    // customer's words stay as written.
    let own = |s: &str| c.suggestions.as_deref().is_none_or(|w| w.trim() != s);
    let mut out = parts
        .iter()
        .map(|p| {
            let mut chars = p.chars();
            match chars.next() {
                Some(first) if own(p) => first.to_uppercase().chain(chars).collect(),
                _ => p.clone(),
            }
        })
        .collect::<Vec<String>>()
        .join(". ");
    out.push('.');
    out
}

/// Words that say what stands behind a packshot: when the customer's words
/// or the preset name one, the service adds no background of its own.
static BACKGROUND: std::sync::LazyLock<Vec<((), Vec<&'static str>)>> =
    std::sync::LazyLock::new(|| {
        [
            "background",
            "backdrop",
            "backgrounds",
            "transparent",
            "surface",
            "flat lay",
        ]
        .into_iter()
        .map(|p| ((), p.split(' ').collect()))
        .collect()
    });

#[cfg(test)]
mod tests {
    use super::*;

    fn config(product: &str, suggestions: Option<&str>) -> Config {
        Config {
            product: Named {
                id: "prod_1".into(),
                name: product.into(),
            },
            model: Some(Named {
                id: "model_1".into(),
                name: "Female Model - Casual".into(),
            }),
            scenery: None,
            preset: None,
            industry: None,
            suggestions: suggestions.map(str::to_string),
        }
    }

    #[test]
    fn a_photo_shoot_varies_what_the_words_leave_open_and_keeps_what_they_say() {
        let c = config("White T-Shirt Front", None);
        let ideas = plan(AssetKind::PhotoShoot, &c, 6, 7);
        let shots: std::collections::HashSet<_> =
            ideas.iter().map(|i| (i.framing, i.angle)).collect();
        assert_eq!(shots.len(), 6, "six distinct shots: {ideas:?}");
        assert!(ideas.iter().all(|i| i.category == Some(Category::Top)));
        let seeds: std::collections::HashSet<_> = ideas.iter().map(|i| i.seed).collect();
        assert_eq!(seeds.len(), 6);
        assert_eq!(
            plan(AssetKind::PhotoShoot, &c, 6, 7),
            ideas,
            "deterministic"
        );

        let said = config(
            "Linen Trousers",
            Some("close-up shots from the side, walking"),
        );
        for idea in plan(AssetKind::PhotoShoot, &said, 5, 1) {
            assert_eq!(idea.framing, Framing::CloseUp);
            assert_eq!(idea.angle, Angle::Side);
            assert_eq!(idea.pose, Some(Pose::Walking));
            assert_eq!(idea.category, Some(Category::Bottom));
        }
        // A pose described in words the service does not name: none added.
        let seated = config("Linen Trousers", Some("seated on a bench"));
        assert!(
            plan(AssetKind::PhotoShoot, &seated, 4, 1)
                .iter()
                .all(|i| i.pose.is_none())
        );
        let p = prompt(
            AssetKind::PhotoShoot,
            &plan(AssetKind::PhotoShoot, &seated, 1, 1)[0],
        );
        assert!(p.contains("seated on a bench"), "{p}");
        assert!(!p.contains("standing") && !p.contains("walking"), "{p}");
    }

    #[test]
    fn packshots_show_the_front_unless_the_words_or_the_preset_name_views() {
        let mut c = config("Glass Bottle", None);
        c.model = None;
        let ideas = plan(AssetKind::Packshot, &c, 3, 1);
        assert!(
            ideas
                .iter()
                .all(|i| i.angle == Angle::Front && i.framing == Framing::Whole)
        );
        let p = prompt(AssetKind::Packshot, &ideas[0]);
        assert!(p.contains("plain white background"), "{p}");
        assert!(p.contains("\"Glass Bottle\""), "{p}");
        c.preset = Some(PresetWords {
            id: "preset_x".into(),
            name: "Shop".into(),
            guidelines: "On a light grey background.".into(),
            quantity_guidelines: "A front view, a back view and one detail close-up.".into(),
            quality_guidelines: "Sharp.".into(),
        });
        let ideas = plan(AssetKind::Packshot, &c, 4, 1);
        let shots: Vec<(Framing, Angle)> = ideas.iter().map(|i| (i.framing, i.angle)).collect();
        assert_eq!(
            shots,
            [
                (Framing::Whole, Angle::Front),
                (Framing::Whole, Angle::Back),
                (Framing::CloseUp, Angle::Front),
                (Framing::Whole, Angle::Front),
            ],
            "the views the preset names, the whole product in each, and its detail"
        );
        let p = prompt(AssetKind::Packshot, &ideas[0]);
        assert!(!p.contains("white background"), "the preset's grey: {p}");
        assert!(p.contains("On a light grey background."), "{p}");
        // The customer's words come before the preset's.
        c.suggestions = Some("from above only".into());
        assert!(
            plan(AssetKind::Packshot, &c, 4, 1)
                .iter()
                .all(|i| i.angle == Angle::Top)
        );
    }

    #[test]
    fn a_packshots_background_and_size_come_from_the_words_or_the_preset() {
        let mut c = config("Mug", None);
        assert_eq!(background(&c), None);
        assert_eq!(side(&c), None);
        c.preset = Some(PresetWords {
            id: "preset_x".into(),
            name: "Shop".into(),
            guidelines: "Centred. On a light grey background, 2000 x 2000 pixels.".into(),
            quantity_guidelines: String::new(),
            quality_guidelines: String::new(),
        });
        let grey = background(&c).expect("grey");
        assert!(
            grey[0] > 180 && grey[0] < 240 && grey[0].abs_diff(grey[2]) < 8,
            "{grey:?}"
        );
        assert_eq!(side(&c), Some(2000));
        c.suggestions = Some("white background please, 1500px".into());
        assert_eq!(
            background(&c),
            Some([255, 255, 255]),
            "the customer's words first"
        );
        assert_eq!(side(&c), Some(1500));
        c.suggestions = Some("3000x3000".into());
        assert_eq!(side(&c), Some(3000));
        c.suggestions = Some("size 10 x 20".into());
        assert_eq!(
            side(&c),
            Some(2000),
            "too small to be a picture's size: the preset's"
        );
    }

    #[test]
    fn names_are_distinct_and_say_the_product() {
        let c = config("White T-Shirt", None);
        let ideas = plan(AssetKind::Packshot, &c, 3, 1);
        let names = names(AssetKind::Packshot, &ideas);
        assert_eq!(
            names,
            [
                "White T-Shirt Packshot 1",
                "White T-Shirt Packshot 2",
                "White T-Shirt Packshot 3"
            ]
        );
        let shoot = names_of_shoot();
        assert_eq!(shoot[0], "Fashion Shoot - White T-Shirt (Full Body, Front)");
        assert_eq!(
            shoot[1],
            "Fashion Shoot - White T-Shirt (Three-Quarter Length, Front)"
        );
    }

    fn names_of_shoot() -> Vec<String> {
        let c = config("White T-Shirt", None);
        names(
            AssetKind::PhotoShoot,
            &plan(AssetKind::PhotoShoot, &c, 2, 1),
        )
    }

    #[test]
    fn a_minor_is_never_shown_in_swimwear_or_adult_styling() {
        let child = Attributes::read("six year old girl").ideas(1, 1)[0];
        assert!(child.age.is_minor());
        let bikini = config("Red Bikini Set", None);
        assert!(refusal(&bikini, Some(&child)).is_some());
        assert!(refusal(&bikini, None).is_none(), "an adult's bikini");
        let shirt = config("Kids T-Shirt", None);
        assert!(refusal(&shirt, Some(&child)).is_none());
        let glam = config("Kids T-Shirt", Some("glam makeup, red lipstick"));
        assert!(refusal(&glam, Some(&child)).is_some());
        assert!(
            refusal(&glam, None).is_some(),
            "the product's name says kids"
        );
    }

    #[test]
    fn an_idea_is_stored_and_read_back_whole() {
        let idea = plan(
            AssetKind::PhotoShoot,
            &config("Tote Bag", Some("for summer")),
            1,
            3,
        )
        .remove(0);
        assert_eq!(idea.category, Some(Category::Bag));
        let json = serde_json::to_string(&idea).unwrap();
        assert!(json.contains("\"product\":{\"id\":\"prod_1\""), "{json}");
        let back: PictureIdea = serde_json::from_str(&json).unwrap();
        assert_eq!(back, idea);
        assert!(prompt(AssetKind::PhotoShoot, &idea).contains("carrying the product \"Tote Bag\""));
    }
}
