//! The prompt of one picture made from a product.

use super::{Category, PictureIdea, read};
use crate::AssetKind;

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
