//! Reading preferences into attributes, and attributes into `count` distinct ideas.
//!
//! The text is lowercased and split into words; each attribute has phrases that
//! name its values. An attribute the text names once is fixed for the whole batch;
//! one it names several times ("blonde or red hair") varies among those values; one
//! it does not name varies over all values. Ideas are spread over the free choices
//! so that the ideas of a batch differ as much as the text allows, and everything
//! is deterministic in the batch's seed.

mod ages;
mod choosing;
mod lists;
mod naming;
mod reading;
mod rules;
pub mod scenery;
pub mod shoot;
mod vocabulary;
mod words;

use serde::{Deserialize, Serialize};

pub use choosing::{SplitMix64, seed};
pub use reading::{Attributes, Settled};
pub use rules::Breach;
pub use vocabulary::*;

/// A model request's text with its reading: the text parsed and accepted,
/// so a batch may be planned from it.
#[derive(Debug, Clone)]
pub struct Brief {
    preferences: crate::Preferences,
    reading: Attributes,
}

impl Brief {
    /// Reads `preferences`.
    ///
    /// # Errors
    ///
    /// [`crate::RequestError::PreferencesRefused`] for a text no model may be
    /// made of (a minor with adult styling).
    pub fn new(preferences: crate::Preferences) -> Result<Brief, crate::RequestError> {
        let reading = Attributes::read(preferences.as_str());
        match reading.refusal() {
            Some(why) => Err(crate::RequestError::PreferencesRefused(why)),
            None => Ok(Brief {
                preferences,
                reading,
            }),
        }
    }

    pub fn preferences(&self) -> &crate::Preferences {
        &self.preferences
    }

    pub fn text(&self) -> &str {
        self.preferences.as_str()
    }

    pub fn reading(&self) -> &Attributes {
        &self.reading
    }
}

/// Number of outfit and backdrop colour schemes the renderer knows.
pub const PALETTES: u32 = 8;

/// One concrete model to draw: every attribute decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Idea {
    pub gender: Gender,
    pub age: Age,
    pub build: Build,
    pub skin_tone: SkinTone,
    pub hair_color: HairColor,
    pub hair_length: HairLength,
    pub hair_style: HairStyle,
    pub makeup: Makeup,
    pub expression: Expression,
    pub pose: Pose,
    pub style: Style,
    /// Which outfit and backdrop colour scheme, `0..PALETTES`.
    pub palette: u32,
    #[serde(default)]
    pub facial_hair: FacialHair,
    #[serde(default)]
    pub eyewear: Eyewear,
    #[serde(default)]
    pub headwear: Headwear,
    /// The image seed: fixed per idea, so a retry asks for the same picture
    /// and the models of a batch differ. `0` in ideas stored before seeds
    /// existed.
    #[serde(default)]
    pub seed: u32,
    /// The garment the text names (the first of two worn together, or one
    /// of the alternatives); `None` when it names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub garment: Option<Garment>,
    /// A second garment the text names, worn with the first ("a white
    /// shirt and black trousers").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_garment: Option<Garment>,
    /// The colour the text gives the clothes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colour: Option<Colour>,
    /// Long sleeves and a long hem, whatever the style: modest requests.
    #[serde(default)]
    pub covered: bool,
}

impl Idea {
    /// `"<Gender> Model - <Outfit>"`, the contract's form, for this idea
    /// alone; [`Attributes::names`] makes the names of a batch distinct.
    pub fn name(&self) -> String {
        format!("{} Model - {}", self.gender.label(), self.outfit_label())
    }

    /// What the idea wears, as its name says it: the garments the text
    /// named, else the style ("Evening Dress", "Shirt and Jeans", "Modest
    /// Casual").
    pub fn outfit_label(&self) -> String {
        match (self.garment, self.second_garment) {
            (Some(a), Some(b)) => format!("{} and {}", a.label(), b.label()),
            (Some(a), None) => a.label().to_string(),
            _ if self.covered => format!("Modest {}", self.style.label()),
            _ => self.style.label().to_string(),
        }
    }

    /// Whether the head is covered, so no hair shows.
    pub fn hair_covered(&self) -> bool {
        matches!(self.headwear, Headwear::Hijab | Headwear::Niqab)
    }

    /// A one-line description of everything the idea decides.
    pub fn describe(&self) -> String {
        self.parts(None).join(", ")
    }

    /// The idea as phrases, in the order a prompt names them. With `fixed`,
    /// only the attributes that text leaves open (what makes this idea
    /// distinct within its batch); without, everything.
    pub fn parts(&self, fixed: Option<&Attributes>) -> Vec<String> {
        let Some(f) = fixed else {
            return self.all_parts();
        };
        let mut out = Vec::new();
        if f.varies_gender() || f.varies_age() {
            out.push(if f.settled.gender {
                format!("{} person", self.age.label())
            } else {
                self.person()
            });
        }
        if f.varies_build() {
            out.push(format!("{} build", self.build.label()));
        }
        if f.varies_skin_tone() {
            out.push(format!("{} skin", self.skin_tone.label()));
        }
        if !self.hair_covered() && f.varies_hair() {
            out.push(self.hair());
        }
        if (self.gender == Gender::Female || self.makeup != Makeup::None) && f.varies_makeup() {
            out.push(self.makeup.label().to_string());
        }
        if f.varies_expression() {
            out.push(format!("{} expression", self.expression.label()));
        }
        if f.varies_pose() {
            out.push(format!("{} pose", self.pose.label()));
        }
        if f.varies_outfit() {
            out.push(format!("wearing {}", self.clothes()));
        } else if f.varies_garment()
            && let Some(g) = self.garment
        {
            out.push(format!("wearing {}", g.label().to_lowercase()));
        }
        if f.varies_colour()
            && let Some(c) = self.colour
        {
            out.push(format!("in {}", c.label()));
        }
        out
    }

    fn all_parts(&self) -> Vec<String> {
        let mut out = vec![
            self.person(),
            format!("{} build", self.build.label()),
            format!("{} skin", self.skin_tone.label()),
        ];
        if !self.hair_covered() {
            out.push(self.hair());
        }
        if self.facial_hair != FacialHair::None {
            out.push(self.facial_hair.label().to_string());
        }
        if self.eyewear != Eyewear::None {
            out.push(format!("wearing {}", self.eyewear.label()));
        }
        if self.headwear != Headwear::None {
            out.push(format!("wearing a {}", self.headwear.label()));
        }
        if self.gender == Gender::Female || self.makeup != Makeup::None {
            out.push(self.makeup.label().to_string());
        }
        out.push(format!("{} expression", self.expression.label()));
        out.push(format!("{} pose", self.pose.label()));
        let clothes = match (self.garment, self.second_garment) {
            (Some(a), Some(b)) => format!(
                "{} and {}",
                a.label().to_lowercase(),
                b.label().to_lowercase()
            ),
            (Some(a), None) => a.label().to_lowercase(),
            _ => self.clothes(),
        };
        match self.colour {
            Some(c) => out.push(format!("wearing {} {clothes}", c.label())),
            None => out.push(format!("wearing {clothes}")),
        }
        out
    }

    /// "modest casual clothes with long sleeves", "sportswear".
    fn clothes(&self) -> String {
        if self.covered {
            format!("modest {} with long sleeves", self.style.clothes())
        } else {
            self.style.clothes().to_string()
        }
    }

    /// "long wavy brown hair", "long brown hair in a ponytail", "shaved head".
    fn hair(&self) -> String {
        let (length, color) = (self.hair_length.label(), self.hair_color.label());
        match (self.hair_length, self.hair_style) {
            (HairLength::Bald, _) => "shaved head".to_string(),
            (_, HairStyle::Ponytail) => format!("{length} {color} hair in a ponytail"),
            (_, HairStyle::Bun) => format!("{color} hair in a bun"),
            (_, style) => format!("{length} {} {color} hair", style.label()),
        }
    }

    /// The hair as a name tells it: "Curly Black Hair", "Blonde Ponytail",
    /// "Brown Hair in a Bun".
    pub fn hair_name(&self) -> String {
        let color = naming::title(self.hair_color.label());
        match (self.hair_length, self.hair_style) {
            (HairLength::Bald, _) => "Shaved Head".to_string(),
            (_, HairStyle::Ponytail) => format!("{color} Ponytail"),
            (_, HairStyle::Bun) => format!("{color} Hair in a Bun"),
            (_, style) => format!("{} {color} Hair", naming::title(style.label())),
        }
    }

    /// "young adult woman", "teenage boy", "girl", "baby girl".
    fn person(&self) -> String {
        let (adult, young) = match self.gender {
            Gender::Female => ("woman", "girl"),
            Gender::Male => ("man", "boy"),
        };
        match self.age {
            Age::Baby => format!("baby {young}"),
            Age::Toddler => format!("toddler {young}"),
            Age::Child => young.to_string(),
            Age::Teen => format!("teenage {young}"),
            age => format!("{} {adult}", age.label()),
        }
    }
}

#[cfg(test)]
mod tests;
