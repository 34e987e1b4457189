//! Reading preferences into attributes, and attributes into `count` distinct ideas.
//!
//! The text is lowercased and split into words; each attribute has phrases that
//! name its values. An attribute the text names once is fixed for the whole batch;
//! one it names several times ("blonde or red hair") varies among those values; one
//! it does not name varies over all values. Ideas are spread over the free choices
//! so that the ideas of a batch differ as much as the text allows, and everything
//! is deterministic in the batch's seed.

mod choosing;
mod reading;
mod vocabulary;

use serde::{Deserialize, Serialize};

pub use choosing::{SplitMix64, seed};
pub use reading::{Attributes, Mentioned};
pub use vocabulary::*;

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
}

impl Idea {
    /// `"<Gender> Model - <Style>"`, as the contract's `name`.
    pub fn name(&self) -> String {
        format!("{} Model - {}", self.gender.label(), self.style.label())
    }

    /// A one-line description of everything the idea decides.
    pub fn describe(&self) -> String {
        self.parts(None).join(", ")
    }

    /// The idea as phrases, in the order a prompt names them. With `fixed`,
    /// only the attributes that text leaves open (what makes this idea
    /// distinct within its batch); without, everything.
    pub fn parts(&self, fixed: Option<&Attributes>) -> Vec<String> {
        let open = |named: bool| fixed.is_none() || !named;
        let mut out = Vec::new();
        if let Some(f) = fixed {
            // The text already says who; a batch still varies gender and age.
            if f.gender.is_empty() || f.age.is_empty() {
                out.push(self.person());
            }
        } else {
            out.push(self.person());
        }
        if open(fixed.is_some_and(|f| !f.build.is_empty())) {
            out.push(format!("{} build", self.build.label()));
        }
        if open(fixed.is_some_and(|f| !f.skin_tone.is_empty() || f.mentioned.skin_tone)) {
            out.push(format!("{} skin", self.skin_tone.label()));
        }
        let hair_named = fixed.is_some_and(|f| {
            !f.hair_color.is_empty() && !f.hair_length.is_empty() && !f.hair_style.is_empty()
        });
        if self.headwear != Headwear::Hijab && open(hair_named) {
            out.push(if self.hair_length == HairLength::Bald {
                "shaved head".to_string()
            } else {
                format!(
                    "{} {} {} hair",
                    self.hair_length.label(),
                    self.hair_style.label(),
                    self.hair_color.label()
                )
            });
        }
        // Facial hair and accessories come only from the text's own words.
        if fixed.is_none() {
            if self.facial_hair != FacialHair::None {
                out.push(self.facial_hair.label().to_string());
            }
            if self.eyewear != Eyewear::None {
                out.push(format!("wearing {}", self.eyewear.label()));
            }
            if self.headwear != Headwear::None {
                out.push(format!("wearing a {}", self.headwear.label()));
            }
        }
        let shows_makeup = self.gender == Gender::Female || self.makeup != Makeup::None;
        if shows_makeup && open(fixed.is_some_and(|f| !f.makeup.is_empty())) {
            out.push(self.makeup.label().to_string());
        }
        if open(fixed.is_some_and(|f| !f.expression.is_empty())) {
            out.push(format!("{} expression", self.expression.label()));
        }
        if open(fixed.is_some_and(|f| !f.pose.is_empty() || f.mentioned.pose)) {
            out.push(format!("{} pose", self.pose.label()));
        }
        if open(fixed.is_some_and(|f| !f.style.is_empty() || f.mentioned.style)) {
            out.push(format!("wearing {}", self.style.clothes()));
        }
        out
    }

    /// "young adult woman", "teenage boy", "girl".
    fn person(&self) -> String {
        let (adult, young) = match self.gender {
            Gender::Female => ("woman", "girl"),
            Gender::Male => ("man", "boy"),
        };
        match self.age {
            Age::Child => young.to_string(),
            Age::Teen => format!("teenage {young}"),
            age => format!("{} {adult}", age.label()),
        }
    }
}

#[cfg(test)]
mod tests;
