//! Spreading a batch's ideas over the choices the text leaves free,
//! deterministically in the batch's seed.

use super::vocabulary::*;
use super::{Attributes, Idea, PALETTES};

impl Attributes {
    /// `count` ideas for a batch whose randomness is `seed`. Every idea
    /// keeps the rules of [`Attributes::check`].
    pub fn ideas(&self, count: u32, seed: u64) -> Vec<Idea> {
        let mut rng = SplitMix64(seed);
        let mut pick = Picker::new(count as usize, &mut rng);
        let gender = pick.spread(&self.gender, Gender::ALL);
        let age = pick.spread(&self.age, Age::FREE);
        let build = pick.spread(&self.build, Build::ALL);
        let skin_tone = pick.spread(&self.skin_tone, SkinTone::ALL);
        let hair_color = pick.spread(&self.hair_color, HairColor::ALL);
        let hair_length = pick.spread(&self.hair_length, HairLength::ALL);
        let hair_style = pick.spread(&self.hair_style, HairStyle::ALL);
        let makeup = pick.spread(&self.makeup, Makeup::ALL);
        let expression = pick.spread(&self.expression, Expression::ALL);
        let pose = pick.spread(&self.pose, Pose::ALL);
        let style = pick.spread(&self.styles(), Style::ALL);
        // Accessories and facial hair only when asked for.
        let facial_hair = pick.spread(&self.facial_hair, &[FacialHair::None]);
        let eyewear = pick.spread(&self.eyewear, &[Eyewear::None]);
        let headwear = pick.spread(&self.headwear, &[Headwear::None]);
        let garment: Vec<Option<Garment>> = if self.varies_garment() {
            pick.spread(&self.garments, Garment::ALL)
                .into_iter()
                .map(Some)
                .collect()
        } else {
            vec![self.garments.first().copied(); count as usize]
        };
        let colour: Vec<Option<Colour>> = if self.colours.is_empty() {
            vec![None; count as usize]
        } else {
            pick.spread(&self.colours, Colour::ALL)
                .into_iter()
                .map(Some)
                .collect()
        };
        let palette_offset = pick.rng.next_u64() as u32;
        (0..count as usize)
            .map(|i| {
                let mut idea = Idea {
                    gender: gender[i],
                    age: age[i],
                    build: build[i],
                    skin_tone: skin_tone[i],
                    hair_color: hair_color[i],
                    hair_length: hair_length[i],
                    hair_style: hair_style[i],
                    makeup: makeup[i],
                    expression: expression[i],
                    pose: pose[i],
                    style: style[i],
                    palette: palette_offset.wrapping_add(i as u32) % PALETTES,
                    facial_hair: facial_hair[i],
                    eyewear: eyewear[i],
                    headwear: headwear[i],
                    seed: (pick.rng.next_u64() >> 32) as u32,
                    garment: garment[i],
                    second_garment: None,
                    colour: colour[i],
                    covered: false,
                };
                self.settle(&mut idea, i);
                idea
            })
            .collect()
    }

    /// Makes the free choices of one idea fit together and keep the rules:
    /// what the text asks for explicitly is kept, except that minors never
    /// get makeup, facial hair, grey hair or anything revealing, and modest
    /// requests are always covered.
    fn settle(&self, idea: &mut Idea, i: usize) {
        if !self.varies_garment() && idea.garment.is_some() {
            idea.second_garment = self.garments.get(1).copied();
        }
        if let Some(g) = idea.garment
            && self.style.is_empty()
        {
            idea.style = g.style();
        }
        // Bald figures have no hair style or colour to show.
        if idea.hair_length == HairLength::Bald && self.hair_length.is_empty() {
            idea.hair_length = HairLength::Short;
        }
        if self.hair_color.is_empty() {
            if idea.age == Age::Senior {
                idea.hair_color = if i.is_multiple_of(2) {
                    HairColor::Gray
                } else {
                    HairColor::White
                };
            } else if matches!(
                idea.hair_color,
                HairColor::Pastel | HairColor::Gray | HairColor::White
            ) {
                idea.hair_color = HairColor::Brown;
            }
        }
        // Free choices lean on what is usual for the gender.
        if idea.gender == Gender::Male {
            if self.build.is_empty() && idea.build == Build::Curvy {
                idea.build = Build::Average;
            }
            if self.hair_length.is_empty() && idea.hair_length == HairLength::Long {
                idea.hair_length = HairLength::Short;
            }
        }
        // A ponytail, a bun or braids need hair to tie.
        if self.hair_length.is_empty()
            && idea.hair_length == HairLength::Short
            && matches!(
                idea.hair_style,
                HairStyle::Ponytail | HairStyle::Bun | HairStyle::Braids
            )
        {
            idea.hair_length = HairLength::Medium;
        }
        let makeups = self.makeups(idea.gender);
        if !makeups.contains(&idea.makeup) {
            idea.makeup = makeups[i % makeups.len()];
        }
        if idea.age.is_minor() {
            if matches!(idea.style, Style::Swimwear | Style::Lingerie) {
                idea.style = if i.is_multiple_of(2) {
                    Style::Casual
                } else {
                    Style::Sportswear
                };
            }
            if idea.garment.is_some_and(Garment::is_revealing) {
                idea.garment = None;
            }
            if idea.second_garment.is_some_and(Garment::is_revealing) {
                idea.second_garment = None;
            }
            if self.build.is_empty()
                && matches!(idea.build, Build::Curvy | Build::PlusSize | Build::Muscular)
            {
                idea.build = Build::Average;
            }
            idea.makeup = Makeup::None;
            if matches!(idea.hair_color, HairColor::Gray | HairColor::White) {
                idea.hair_color = HairColor::Brown;
            }
            idea.facial_hair = FacialHair::None;
            if matches!(idea.age, Age::Baby | Age::Toddler) {
                if self.hair_length.is_empty() {
                    idea.hair_length = HairLength::Short;
                }
                if self.build.is_empty() {
                    idea.build = if i.is_multiple_of(2) {
                        Build::Average
                    } else {
                        Build::Slim
                    };
                }
            }
        }
        if self.modest || idea.garment.is_some_and(Garment::covers) {
            idea.covered = true;
        }
    }
}

/// A seed for a batch's ideas from its id and text: stable across runs and
/// platforms (FNV-1a).
pub fn seed(batch_id: &str, preferences: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in batch_id.bytes().chain([0]).chain(preferences.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A small, fast, well-mixed generator; good for choosing, not for secrets.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

struct Picker<'a> {
    count: usize,
    rng: &'a mut SplitMix64,
}

impl<'a> Picker<'a> {
    fn new(count: usize, rng: &'a mut SplitMix64) -> Picker<'a> {
        Picker { count, rng }
    }

    /// One value per idea from the allowed set (or all values): a shuffled
    /// round-robin, so every allowed value appears before any repeats.
    fn spread<T: Copy>(&mut self, allowed: &[T], all: &[T]) -> Vec<T> {
        let pool = if allowed.is_empty() { all } else { allowed };
        let mut out = Vec::with_capacity(self.count);
        while out.len() < self.count {
            let mut round: Vec<T> = pool.to_vec();
            for i in (1..round.len()).rev() {
                let j = self.rng.below(i as u64 + 1) as usize;
                round.swap(i, j);
            }
            out.extend(round.into_iter().take(self.count - out.len()));
        }
        out
    }
}
