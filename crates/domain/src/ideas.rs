//! Reading preferences into attributes, and attributes into `count` distinct ideas.
//!
//! The text is lowercased and split into words; each attribute has phrases that
//! name its values. An attribute the text names once is fixed for the whole batch;
//! one it names several times ("blonde or red hair") varies among those values; one
//! it does not name varies over all values. Ideas are spread over the free choices
//! so that the ideas of a batch differ as much as the text allows, and everything
//! is deterministic in the batch's seed.

use serde::{Deserialize, Serialize};

macro_rules! attribute {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $label:literal : [$($phrase:literal),*]),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// A human label, as used in names and descriptions.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// Phrases (space-separated lowercase words) that name each value.
            pub fn phrases(self) -> &'static [&'static str] {
                match self { $($name::$variant => &[$($phrase),*]),+ }
            }
        }
    };
}

attribute!(Gender {
    Female => "Female": ["female", "woman", "women", "girl", "girls", "lady", "ladies", "feminine", "she", "her"],
    Male => "Male": ["male", "man", "men", "guy", "guys", "boy", "boys", "gentleman", "masculine", "he", "his"],
});

attribute!(
    /// Every model is an adult; "teen" and "girl" read as young adult.
    Age {
    YoungAdult => "young adult": ["young", "youthful", "teen", "teenage", "20s", "twenties", "student"],
    Adult => "adult": ["adult", "30s", "thirties", "grown"],
    MiddleAged => "middle-aged": ["middle aged", "middle age", "mature", "40s", "50s", "forties", "fifties"],
    Senior => "senior": ["senior", "elderly", "older", "old", "60s", "70s", "grandmother", "grandfather", "retired"],
});

attribute!(Build {
    Slim => "slim": ["slim", "slender", "thin", "petite", "lean", "skinny"],
    Athletic => "athletic": ["athletic build", "athletic body", "athletic figure", "fit", "toned", "sporty"],
    Average => "average": ["average", "regular build", "medium build", "normal build"],
    Curvy => "curvy": ["curvy", "hourglass", "voluptuous"],
    PlusSize => "plus-size": ["plus size", "plus sized", "full figured", "heavyset", "curvy plus", "large build", "big"],
    Muscular => "muscular": ["muscular", "muscles", "bodybuilder", "strong", "buff", "broad shouldered"],
});

attribute!(SkinTone {
    Fair => "fair": ["fair", "pale", "porcelain", "fair skin", "fair skinned"],
    Light => "light": ["light skin", "light skinned", "light complexion"],
    Medium => "medium": ["medium skin", "medium complexion"],
    Olive => "olive": ["olive", "olive skin"],
    Tan => "tan": ["tan", "tanned", "sun kissed", "bronzed"],
    Brown => "brown": ["brown skin", "brown skinned"],
    Dark => "dark": ["dark skin", "dark skinned", "deep skin", "ebony"],
});

attribute!(HairColor {
    Black => "black": ["black hair", "dark hair", "black haired", "raven"],
    Brown => "brown": ["brown hair", "brown haired", "brunette", "chestnut"],
    Blonde => "blonde": ["blonde", "blond", "golden hair", "light hair"],
    Red => "red": ["red hair", "red haired", "redhead", "ginger", "auburn"],
    Gray => "gray": ["gray hair", "grey hair", "gray haired", "grey haired", "silver hair", "white hair"],
    Pastel => "pastel pink": ["pink hair", "pastel hair", "dyed hair"],
});

attribute!(HairLength {
    Bald => "bald": ["bald", "shaved head", "buzz cut", "buzzcut"],
    Short => "short": ["short hair", "short haired", "pixie", "crew cut", "bob"],
    Medium => "medium": ["medium hair", "shoulder length", "medium length"],
    Long => "long": ["long hair", "long haired", "waist length"],
});

attribute!(HairStyle {
    Straight => "straight": ["straight hair", "sleek"],
    Wavy => "wavy": ["wavy", "waves"],
    Curly => "curly": ["curly", "curls", "afro", "coily"],
    Ponytail => "ponytail": ["ponytail", "pony tail"],
    Bun => "bun": ["bun", "updo", "top knot"],
    Braids => "braided": ["braids", "braided", "braid", "cornrows"],
});

attribute!(Makeup {
    None => "no makeup": ["no makeup", "without makeup", "makeup free", "bare faced", "bare face"],
    Natural => "natural makeup": ["natural makeup", "light makeup", "minimal makeup", "subtle makeup", "natural look"],
    Glam => "glam makeup": ["glam", "glamorous", "full makeup", "glam makeup"],
    Bold => "bold makeup": ["bold makeup", "dramatic makeup", "red lips", "red lipstick", "smoky eyes", "bold lips"],
});

attribute!(Expression {
    Neutral => "neutral": ["neutral", "calm", "relaxed", "natural expression"],
    Smiling => "smiling": ["smile", "smiling", "happy", "cheerful", "friendly", "joyful", "laughing"],
    Serious => "serious": ["serious", "stern", "moody", "editorial", "fierce"],
    Confident => "confident": ["confident", "bold expression", "proud", "empowered"],
});

attribute!(Pose {
    Standing => "standing": ["standing", "standing straight", "front facing", "neutral pose"],
    HandsOnHips => "hands on hips": ["hands on hips", "hand on hip", "power pose"],
    Walking => "walking": ["walking", "stride", "striding", "in motion", "runway"],
    ArmsCrossed => "arms crossed": ["arms crossed", "crossed arms", "arms folded", "folded arms"],
    Waving => "waving": ["waving", "wave", "arm raised", "raised arm", "hand up"],
});

attribute!(Style {
    Sportswear => "Sportswear": ["sportswear", "sports", "activewear", "athletic wear", "athleisure", "gym", "fitness", "running", "yoga", "training", "workout"],
    Casual => "Casual": ["casual", "everyday", "jeans", "t shirt", "tee"],
    Formal => "Formal": ["formal", "evening", "gown", "tuxedo", "black tie", "cocktail", "gala", "wedding"],
    Streetwear => "Streetwear": ["streetwear", "street wear", "street style", "urban", "hoodie", "sneakers", "hip hop"],
    Swimwear => "Swimwear": ["swimwear", "swimsuit", "swim", "bikini", "beachwear", "beach", "swimming", "trunks"],
    Lingerie => "Lingerie": ["lingerie", "underwear", "intimates", "bra", "loungewear"],
    Outdoor => "Outdoor": ["outdoor", "outdoors", "hiking", "camping", "trekking", "mountain", "rain jacket", "parka"],
    Business => "Business": ["business", "office", "corporate", "suit", "workwear", "professional", "blazer"],
});

/// Words that describe hair when they stand shortly before "hair".
const HAIR_WORDS: &[&str] = &[
    "long", "short", "medium", "black", "brown", "blonde", "blond", "red", "gray", "grey",
    "silver", "white", "pink", "straight", "wavy", "curly", "dark", "light", "auburn",
];

/// For each attribute, the values the text allows: empty means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    pub gender: Vec<Gender>,
    pub age: Vec<Age>,
    pub build: Vec<Build>,
    pub skin_tone: Vec<SkinTone>,
    pub hair_color: Vec<HairColor>,
    pub hair_length: Vec<HairLength>,
    pub hair_style: Vec<HairStyle>,
    pub makeup: Vec<Makeup>,
    pub expression: Vec<Expression>,
    pub pose: Vec<Pose>,
    pub style: Vec<Style>,
}

/// Finds which values of `T` the words name, longest phrase first, so that
/// "athletic wear" is a style and not a build; a matched span is consumed.
fn find<T: Copy + PartialEq>(
    words: &mut [&str],
    all: &[T],
    phrases: impl Fn(T) -> &'static [&'static str],
) -> Vec<T> {
    let mut candidates: Vec<(usize, T, Vec<&str>)> = all
        .iter()
        .flat_map(|v| phrases(*v).iter().map(move |p| (*v, p)))
        .map(|(v, p)| {
            let ws: Vec<&str> = p.split(' ').collect();
            (ws.len(), v, ws)
        })
        .collect();
    candidates.sort_by_key(|c| std::cmp::Reverse(c.0));
    let mut found = Vec::new();
    for (len, value, ws) in candidates {
        let mut i = 0;
        while i + len <= words.len() {
            if words[i..i + len] == ws[..] {
                for w in &mut words[i..i + len] {
                    *w = "";
                }
                if !found.contains(&value) {
                    found.push(value);
                }
                i += len;
            } else {
                i += 1;
            }
        }
    }
    found
}

impl Attributes {
    /// Reads free text into attribute constraints. Never fails: text that names
    /// nothing leaves every attribute free.
    pub fn read(text: &str) -> Attributes {
        let lower: String = text
            .to_lowercase()
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { ' ' })
            .collect();
        let mut words: Vec<&str> = lower.split_whitespace().collect();
        let w = &mut words;
        // Order matters where phrases overlap: style before build ("athletic wear"),
        // makeup and expression before hair colour ("red lips"), hair before skin.
        let style = find(w, Style::ALL, Style::phrases);
        let makeup = find(w, Makeup::ALL, Makeup::phrases);
        let expression = find(w, Expression::ALL, Expression::phrases);
        let pose = find(w, Pose::ALL, Pose::phrases);
        // "long curly blonde hair": each word just before "hair" also counts as
        // "<word> hair", so the hair phrases need not list every word order.
        let mut hair_words: Vec<&str> = w.clone();
        for (j, word) in w.iter().enumerate() {
            if matches!(*word, "hair" | "haired") {
                for adj in &w[j.saturating_sub(3)..j] {
                    if HAIR_WORDS.contains(adj) {
                        hair_words.extend([*adj, "hair"]);
                    }
                }
            }
        }
        let hw = &mut hair_words;
        let hair_color = find(hw, HairColor::ALL, HairColor::phrases);
        let hair_length = find(hw, HairLength::ALL, HairLength::phrases);
        let hair_style = find(hw, HairStyle::ALL, HairStyle::phrases);
        let build = find(w, Build::ALL, Build::phrases);
        let skin_tone = find(w, SkinTone::ALL, SkinTone::phrases);
        let age = find(w, Age::ALL, Age::phrases);
        let gender = find(w, Gender::ALL, Gender::phrases);
        Attributes {
            gender,
            age,
            build,
            skin_tone,
            hair_color,
            hair_length,
            hair_style,
            makeup,
            expression,
            pose,
            style,
        }
    }

    /// `count` ideas for a batch whose randomness is `seed`.
    pub fn ideas(&self, count: u32, seed: u64) -> Vec<Idea> {
        let mut rng = SplitMix64(seed);
        let mut pick = Picker::new(count as usize, &mut rng);
        let gender = pick.spread(&self.gender, Gender::ALL);
        let age = pick.spread(&self.age, Age::ALL);
        let build = pick.spread(&self.build, Build::ALL);
        let skin_tone = pick.spread(&self.skin_tone, SkinTone::ALL);
        let hair_color = pick.spread(&self.hair_color, HairColor::ALL);
        let hair_length = pick.spread(&self.hair_length, HairLength::ALL);
        let hair_style = pick.spread(&self.hair_style, HairStyle::ALL);
        let makeup = pick.spread(&self.makeup, Makeup::ALL);
        let expression = pick.spread(&self.expression, Expression::ALL);
        let pose = pick.spread(&self.pose, Pose::ALL);
        let style = pick.spread(&self.style, Style::ALL);
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
                };
                // Bald figures have no hair style or colour to show; grey hair
                // fits seniors better than pink, but the text wins when it says so.
                if idea.hair_length == HairLength::Bald && self.hair_length.is_empty() {
                    idea.hair_length = HairLength::Short;
                }
                if idea.age == Age::Senior && self.hair_color.is_empty() && i % 2 == 0 {
                    idea.hair_color = HairColor::Gray;
                }
                // Free choices lean on what is usual for the gender; anything the
                // text asks for explicitly is kept.
                if idea.gender == Gender::Male {
                    if self.makeup.is_empty() {
                        idea.makeup = Makeup::None;
                    }
                    if self.style.is_empty() && idea.style == Style::Lingerie {
                        idea.style = Style::Casual;
                    }
                    if self.build.is_empty() && idea.build == Build::Curvy {
                        idea.build = Build::Average;
                    }
                    if self.hair_length.is_empty() && idea.hair_length == HairLength::Long {
                        idea.hair_length = HairLength::Short;
                    }
                }
                if self.hair_color.is_empty() && idea.hair_color == HairColor::Pastel {
                    idea.hair_color = HairColor::Brown;
                }
                idea
            })
            .collect()
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
}

impl Idea {
    /// `"<Gender> Model - <Style>"`, as the contract's `name`.
    pub fn name(&self) -> String {
        format!("{} Model - {}", self.gender.label(), self.style.label())
    }

    /// A one-line description of everything the idea decides.
    pub fn describe(&self) -> String {
        let hair = if self.hair_length == HairLength::Bald {
            "shaved head".to_string()
        } else {
            format!(
                "{} {} {} hair",
                self.hair_length.label(),
                self.hair_style.label(),
                self.hair_color.label()
            )
        };
        format!(
            "{} {}, {} build, {} skin, {}, {}, {} expression, {} pose, {}",
            self.age.label(),
            self.gender.label().to_lowercase(),
            self.build.label(),
            self.skin_tone.label(),
            hair,
            self.makeup.label(),
            self.expression.label(),
            self.pose.label(),
            self.style.label().to_lowercase()
        )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_example_from_the_contract() {
        let a =
            Attributes::read("young female model, athletic build, natural makeup, for sportswear");
        assert_eq!(a.gender, vec![Gender::Female]);
        assert_eq!(a.age, vec![Age::YoungAdult]);
        assert_eq!(a.build, vec![Build::Athletic]);
        assert_eq!(a.makeup, vec![Makeup::Natural]);
        assert_eq!(a.style, vec![Style::Sportswear]);
        assert!(a.skin_tone.is_empty() && a.hair_color.is_empty() && a.pose.is_empty());
    }

    #[test]
    fn athletic_wear_is_a_style_not_a_build_and_red_lips_not_red_hair() {
        let a = Attributes::read("Man in athletic wear with red lips");
        assert_eq!(a.style, vec![Style::Sportswear]);
        assert!(a.build.is_empty());
        assert_eq!(a.makeup, vec![Makeup::Bold]);
        assert!(a.hair_color.is_empty());
        assert_eq!(a.gender, vec![Gender::Male]);
    }

    #[test]
    fn several_values_named_vary_among_themselves() {
        let a = Attributes::read("blonde or redhead women, long curly hair, beachwear");
        assert_eq!(a.hair_color.len(), 2);
        let ideas = a.ideas(10, 7);
        assert!(
            ideas
                .iter()
                .all(|i| [HairColor::Blonde, HairColor::Red].contains(&i.hair_color))
        );
        assert!(ideas.iter().any(|i| i.hair_color == HairColor::Blonde));
        assert!(ideas.iter().any(|i| i.hair_color == HairColor::Red));
        assert!(ideas.iter().all(|i| i.hair_length == HairLength::Long
            && i.hair_style == HairStyle::Curly
            && i.style == Style::Swimwear
            && i.gender == Gender::Female));
    }

    #[test]
    fn names_follow_the_contract_form() {
        let a = Attributes::read("female, sportswear");
        let idea = a.ideas(1, 1)[0];
        assert_eq!(idea.name(), "Female Model - Sportswear");
    }

    #[test]
    fn ideas_are_deterministic_in_the_seed() {
        let a = Attributes::read("casual");
        assert_eq!(a.ideas(10, 42), a.ideas(10, 42));
        assert_ne!(a.ideas(10, 42), a.ideas(10, 43));
    }

    #[test]
    fn ideas_of_a_batch_are_distinct_even_when_everything_is_fixed() {
        let a = Attributes::read(
            "young female, slim, fair skin, long straight blonde hair, natural makeup, smiling, standing, casual",
        );
        let ideas = a.ideas(8, 3);
        for (i, x) in ideas.iter().enumerate() {
            for y in &ideas[i + 1..] {
                assert_ne!(x, y);
            }
        }
    }

    #[test]
    fn seed_depends_on_batch_and_text() {
        assert_ne!(seed("batch_a", "x"), seed("batch_b", "x"));
        assert_ne!(seed("batch_a", "x"), seed("batch_a", "y"));
        assert_eq!(seed("batch_a", "x"), seed("batch_a", "x"));
    }
}
