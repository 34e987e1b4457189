//! The rules every idea of a batch keeps, whoever planned it: nothing added
//! contradicts the text, minors are minors with nothing of adult styling,
//! modest requests are covered. The built-in planner keeps them by
//! construction; a language model's plan is checked against them, idea by
//! idea, and refused when it breaks one.

use super::vocabulary::*;
use super::{Attributes, Idea};

/// A rule an idea breaks, in words for the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Breach(pub String);

/// Whether `value` is allowed by `allowed` (empty allows everything).
fn allows<T: PartialEq>(allowed: &[T], value: &T) -> bool {
    allowed.is_empty() || allowed.contains(value)
}

impl Attributes {
    /// The batch chooses the gender: the text names none, not even in words
    /// outside the two the service draws.
    pub fn varies_gender(&self) -> bool {
        self.gender.is_empty() && !self.settled.gender
    }

    pub fn varies_age(&self) -> bool {
        self.age.len() != 1 && !self.settled.age
    }

    pub fn varies_build(&self) -> bool {
        self.build.len() != 1
    }

    pub fn varies_skin_tone(&self) -> bool {
        self.skin_tone.len() != 1 && !self.settled.skin_tone
    }

    /// Hair is named in the prompt unless the text fixes its colour, length
    /// and style, or asks for modest clothes (whether the hair shows is then
    /// the customer's to say).
    pub fn varies_hair(&self) -> bool {
        !self.modest
            && (self.hair_color.len() != 1
                || self.hair_length.len() != 1
                || self.hair_style.len() != 1)
    }

    pub fn varies_makeup(&self) -> bool {
        self.makeup.len() != 1
    }

    pub fn varies_expression(&self) -> bool {
        self.expression.len() != 1
    }

    pub fn varies_pose(&self) -> bool {
        self.pose.len() != 1 && !self.settled.pose
    }

    /// The batch chooses what the clothes are for: the text names no style,
    /// no garment and no clothing the reader did not understand.
    pub fn varies_outfit(&self) -> bool {
        self.style.len() != 1 && self.garments.is_empty() && !self.settled.outfit
    }

    /// The text offers garments as alternatives ("a dress or a jumpsuit").
    pub fn varies_garment(&self) -> bool {
        self.garment_choice && self.garments.len() > 1
    }

    /// The text offers colours as alternatives ("red or blue").
    pub fn varies_colour(&self) -> bool {
        self.colours.len() > 1
    }

    /// The styles a batch may choose from: the text's, else every style but
    /// swimwear and lingerie, which come only from the text (and, for
    /// minors, business clothes).
    pub fn styles(&self) -> Vec<Style> {
        if !self.style.is_empty() {
            return self.style.clone();
        }
        if !self.garments.is_empty() {
            let mut out: Vec<Style> = Vec::new();
            for g in &self.garments {
                if !out.contains(&g.style()) {
                    out.push(g.style());
                }
            }
            return out;
        }
        Style::ALL
            .iter()
            .copied()
            .filter(|s| !matches!(s, Style::Swimwear | Style::Lingerie))
            .filter(|s| !(self.minor && *s == Style::Business))
            .collect()
    }

    /// The makeup a batch may choose from.
    pub fn makeups(&self, gender: Gender) -> Vec<Makeup> {
        if self.minor {
            return vec![Makeup::None];
        }
        if !self.makeup.is_empty() {
            return self.makeup.clone();
        }
        if gender == Gender::Male {
            vec![Makeup::None]
        } else if self.modest || self.settled.age {
            vec![Makeup::None, Makeup::Natural]
        } else {
            Makeup::ALL.to_vec()
        }
    }

    /// Checks `idea` against the rules: every attribute the text fixes is
    /// kept, what it leaves open is chosen only among what may be added, a
    /// minor is a minor with no makeup and nothing revealing, a modest
    /// request is covered.
    ///
    /// # Errors
    ///
    /// The first rule the idea breaks.
    pub fn check(&self, idea: &Idea) -> Result<(), Breach> {
        let breach = |what: &str| Err(Breach(what.to_string()));
        if !allows(&self.gender, &idea.gender) {
            return breach("the gender differs from the text's");
        }
        if self.age.is_empty() {
            if idea.age.is_minor() {
                return breach("a minor where the text asks for none");
            }
        } else if !self.age.contains(&idea.age) {
            return breach("the age differs from the text's");
        }
        if self.minor && !idea.age.is_minor() {
            return breach("an adult where the text asks for a minor");
        }
        let fixed = [
            allows(&self.build, &idea.build),
            allows(&self.skin_tone, &idea.skin_tone),
            allows(&self.hair_color, &idea.hair_color),
            allows(&self.hair_length, &idea.hair_length),
            allows(&self.hair_style, &idea.hair_style),
            allows(&self.expression, &idea.expression),
            allows(&self.pose, &idea.pose),
        ];
        if fixed.contains(&false) {
            return breach("an attribute differs from the text's");
        }
        if !self.makeups(idea.gender).contains(&idea.makeup) {
            return breach("makeup the text does not allow");
        }
        if !self.styles().contains(&idea.style) {
            return breach("a style the text does not allow");
        }
        match idea.garment {
            None if !self.garments.is_empty() => return breach("the text's garment is missing"),
            Some(g) if !self.garments.contains(&g) => {
                return breach("a garment the text does not name");
            }
            _ => {}
        }
        if idea
            .second_garment
            .is_some_and(|g| !self.garments.contains(&g))
        {
            return breach("a garment the text does not name");
        }
        match idea.colour {
            None if !self.colours.is_empty() => return breach("the text's colour is missing"),
            Some(c) if !self.colours.contains(&c) => {
                return breach("a colour the text does not name");
            }
            _ => {}
        }
        let own = |named: bool, none: bool| named || none;
        if !own(
            self.facial_hair.contains(&idea.facial_hair),
            idea.facial_hair == FacialHair::None,
        ) || !own(
            self.eyewear.contains(&idea.eyewear),
            idea.eyewear == Eyewear::None,
        ) || !own(
            self.headwear.contains(&idea.headwear),
            idea.headwear == Headwear::None,
        ) {
            return breach("an accessory or facial hair the text does not ask for");
        }
        let headwear_named = self
            .headwear
            .iter()
            .any(|h| matches!(h, Headwear::Hijab | Headwear::Niqab));
        if headwear_named && !idea.hair_covered() && idea.gender == Gender::Female {
            return breach("the text's head covering is missing");
        }
        if idea.age.is_minor() {
            let revealing = idea.garment.is_some_and(Garment::is_revealing)
                || idea.second_garment.is_some_and(Garment::is_revealing)
                || matches!(idea.style, Style::Swimwear | Style::Lingerie);
            if revealing {
                return breach("revealing clothes on a minor");
            }
            if idea.makeup != Makeup::None || idea.facial_hair != FacialHair::None {
                return breach("makeup or facial hair on a minor");
            }
        }
        if self.modest && !idea.covered {
            return breach("a modest request drawn uncovered");
        }
        Ok(())
    }
}
