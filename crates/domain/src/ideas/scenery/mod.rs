//! Sceneries: the empty sets a model is photographed in. A scenery's text is
//! read for what it settles (the setting, the place, the backdrop, the colour,
//! the time of day: `reading`); a batch varies the rest, each scenery distinct,
//! and every choice is deterministic in the batch's seed, as for models
//! (`choosing`); here, what one scenery is, and its name and prompt.
//!
//! What the customer wrote is law here too: a setting the text names is never
//! swapped for another, a colour named is the colour of every scenery, and
//! words the service adds (an empty set, the camera, the light) are left out
//! when the text says otherwise.

mod choosing;
mod reading;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use super::naming::title;
use super::vocabulary::Colour;
pub use choosing::plan;
pub use reading::{Backdrop, Light, Place, SceneryReading, Setting};

/// One scenery of a batch: every attribute decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SceneryIdea {
    pub setting: Setting,
    /// A studio's backdrop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backdrop: Option<Backdrop>,
    /// A room's or an outdoor scenery's place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<Place>,
    /// The backdrop's or the walls' colour, when the text names one or the
    /// scenery is a studio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colour: Option<Colour>,
    /// A room's or a place's light.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub light: Option<Light>,
    pub seed: u32,
}

impl Light {
    /// The light as a prompt says it.
    pub fn prompt(self) -> &'static str {
        match self {
            Light::Day => "natural daylight",
            Light::GoldenHour => "warm golden-hour light",
            Light::Overcast => "soft overcast light",
            Light::Night => "night-time light",
        }
    }
}

impl SceneryIdea {
    /// What the scenery is, as its name says it: "Studio - White Seamless
    /// Paper", "Outdoor - City Street, Golden Hour".
    pub fn name(&self) -> String {
        let what = match (self.place, self.backdrop) {
            (Some(place), _) => place.label().to_string(),
            (None, Some(backdrop)) => match self.colour {
                Some(c) => format!("{} {}", title(c.label()), backdrop.label()),
                None => backdrop.label().to_string(),
            },
            (None, None) => "Set".to_string(),
        };
        let mut name = format!("{} - {what}", self.setting.label());
        if let Some(light) = self.light {
            name.push_str(", ");
            name.push_str(light.label());
        }
        name
    }

    /// The prompt's words for what the service chose: each attribute the
    /// text left open, in a sentence's order. Nothing the text settled is
    /// said again (the text itself is in the prompt).
    pub fn parts(&self, fixed: &SceneryReading) -> Vec<String> {
        let mut parts = Vec::new();
        if fixed.setting.is_none() {
            parts.push(
                match self.setting {
                    Setting::Studio => "a photo studio",
                    Setting::Interior => "an interior",
                    Setting::Outdoor => "an outdoor location",
                }
                .to_string(),
            );
        }
        if fixed.backdrop().is_none()
            && let Some(b) = self.backdrop
        {
            parts.push(format!("{} backdrop", b.label().to_lowercase()));
        }
        if fixed.colour().is_none()
            && let Some(c) = self.colour
        {
            parts.push(format!("{} colour", c.label()));
        }
        if fixed.place().is_none()
            && let Some(p) = self.place
        {
            parts.push(p.label().to_lowercase());
        }
        if fixed.light().is_none()
            && let Some(l) = self.light
        {
            parts.push(l.prompt().to_string());
        }
        parts
    }
}

/// The prompt a real image server gets for a scenery: the customer's words
/// verbatim, what the batch chose, and what a fashion photographer's set
/// needs (empty, the camera at a person's height, room for a full figure),
/// each of those left out when the text says otherwise.
pub fn scenery_prompt(text: &str, idea: &SceneryIdea, fixed: &SceneryReading) -> String {
    let mut prompt = String::from("Photograph of a set for full-body fashion photography");
    if !fixed.people {
        prompt.push_str(", empty, with no people in it");
    }
    prompt.push_str(". ");
    prompt.push_str(text.trim());
    if !prompt.ends_with(['.', '!', '?']) {
        prompt.push('.');
    }
    let parts = idea.parts(fixed);
    if !parts.is_empty() {
        prompt.push(' ');
        prompt.push_str(&capitalized(&parts.join(", ")));
        prompt.push('.');
    }
    prompt.push_str(
        " Camera at waist height, level, with room for a standing person from head to toe; \
         sharp focus, photorealistic.",
    );
    prompt
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

/// Names for a batch's sceneries, distinct: the idea's name, numbered when
/// two would be the same.
pub fn names(ideas: &[SceneryIdea]) -> Vec<String> {
    let plain: Vec<String> = ideas.iter().map(SceneryIdea::name).collect();
    plain
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let same = plain.iter().filter(|n| *n == name).count();
            if same == 1 {
                name.clone()
            } else {
                let nth = plain[..=i].iter().filter(|n| *n == name).count();
                format!("{name} {nth}")
            }
        })
        .collect()
}
