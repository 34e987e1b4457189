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
    /// Adults unless the text asks for children or teenagers: a free choice is
    /// always an adult age ([`Age::FREE`]).
    Age {
    Child => "child": ["child", "children", "childrens", "kid", "kids", "kidswear", "toddler", "toddlers", "little girl", "little boy", "little girls", "little boys", "preschool", "school age"],
    Teen => "teenage": ["teen", "teens", "teenage", "teenager", "teenagers", "adolescent", "tween", "tweens"],
    YoungAdult => "young adult": ["young", "youthful", "20s", "twenties", "student", "young adult"],
    Adult => "adult": ["adult", "30s", "thirties", "grown"],
    MiddleAged => "middle-aged": ["middle aged", "middle age", "mature", "40s", "50s", "forties", "fifties"],
    Senior => "senior": ["senior", "seniors", "elderly", "older", "old", "60s", "70s", "80s", "grandmother", "grandfather", "grandma", "grandpa", "retired", "aged"],
});

impl Age {
    /// The ages a batch varies over when the text names none.
    pub const FREE: &'static [Age] = &[Age::YoungAdult, Age::Adult, Age::MiddleAged, Age::Senior];

    /// Children and teenagers: never swimwear, lingerie or facial hair.
    pub fn is_minor(self) -> bool {
        matches!(self, Age::Child | Age::Teen)
    }
}

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
    Gray => "gray": ["gray hair", "grey hair", "gray haired", "grey haired", "silver hair", "silver haired", "salt and pepper", "greying", "graying"],
    White => "white": ["white hair", "white haired", "snow white hair"],
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

attribute!(
    /// Only when the text asks for it; never for children or teenagers.
    FacialHair {
    None => "clean-shaven": ["clean shaven", "clean shaved", "beardless", "no beard"],
    Stubble => "stubble": ["stubble", "stubbled", "five o clock shadow", "scruffy"],
    Beard => "beard": ["beard", "bearded", "full beard", "goatee"],
    Moustache => "moustache": ["moustache", "mustache", "moustached", "mustached"],
});

attribute!(
    /// Only when the text asks for it.
    Eyewear {
    None => "no glasses": ["no glasses", "without glasses"],
    Glasses => "glasses": ["glasses", "eyeglasses", "spectacles", "specs", "eyewear", "optical frames"],
    Sunglasses => "sunglasses": ["sunglasses", "sun glasses", "shades"],
});

attribute!(
    /// Only when the text asks for it.
    Headwear {
    None => "bare head": ["no hat", "bare head", "bareheaded"],
    Hijab => "hijab": ["hijab", "hijabi", "headscarf", "head scarf", "headscarves", "khimar"],
    Cap => "cap": ["cap", "baseball cap", "snapback", "trucker cap"],
    Beanie => "beanie": ["beanie", "knit hat", "knitted hat", "woolly hat", "wool hat", "toque"],
});

macro_rules! default_none {
    ($($t:ident),+) => {$(
        impl Default for $t {
            fn default() -> $t {
                $t::None
            }
        }
    )+};
}
default_none!(FacialHair, Eyewear, Headwear);

/// Words that describe hair when they stand shortly before "hair".
const HAIR_WORDS: &[&str] = &[
    "long", "short", "medium", "black", "brown", "blonde", "blond", "red", "gray", "grey",
    "silver", "white", "pink", "straight", "wavy", "curly", "dark", "light", "auburn",
];

/// Words that name facial hair: a colour word shortly before one is the hair
/// colour too ("grey beard").
const BEARD_WORDS: &[&str] = &[
    "beard",
    "bearded",
    "moustache",
    "mustache",
    "stubble",
    "goatee",
];

/// Words that carry no attribute of their own, so no one needs telling they
/// were not drawn: articles, joins, and the words of the request's frame.
const COMMON_WORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "and",
    "or",
    "with",
    "without",
    "for",
    "in",
    "on",
    "of",
    "to",
    "at",
    "as",
    "by",
    "from",
    "into",
    "who",
    "is",
    "are",
    "be",
    "has",
    "have",
    "having",
    "very",
    "some",
    "any",
    "each",
    "one",
    "two",
    "three",
    "four",
    "five",
    "different",
    "various",
    "diverse",
    "mix",
    "mixed",
    "also",
    "but",
    "not",
    "no",
    "like",
    "looking",
    "look",
    "looks",
    "model",
    "models",
    "person",
    "people",
    "persons",
    "photo",
    "photos",
    "photograph",
    "photography",
    "shoot",
    "shot",
    "picture",
    "pictures",
    "image",
    "images",
    "product",
    "products",
    "catalog",
    "catalogue",
    "ecommerce",
    "e",
    "commerce",
    "shop",
    "store",
    "brand",
    "collection",
    "line",
    "wearing",
    "wears",
    "wear",
    "dressed",
    "in",
    "clothes",
    "clothing",
    "outfit",
    "outfits",
    "apparel",
    "fashion",
    "style",
    "styled",
    "full",
    "body",
    "length",
    "studio",
    "background",
    "backdrop",
    "plain",
    "white",
    "ideal",
    "perfect",
    "good",
    "nice",
    "beautiful",
    "handsome",
    "attractive",
    "pretty",
    "realistic",
    "photorealistic",
    "natural",
    "hair",
    "haired",
    "skin",
    "skinned",
    "build",
    "makeup",
    "expression",
    "pose",
    "posing",
    "face",
    "their",
    "them",
    "they",
    "it",
    "its",
    "this",
    "that",
    "these",
    "those",
    "our",
    "my",
    "we",
    "i",
    "you",
    "your",
    "please",
    "show",
    "showing",
    "make",
    "create",
    "generate",
    "new",
    "fit",
    "type",
];

/// Words that say how someone poses, beyond the poses the renderer draws.
const POSE_WORDS: &[&str] = &[
    "sitting",
    "seated",
    "sits",
    "kneeling",
    "kneels",
    "lying",
    "reclining",
    "jumping",
    "leaning",
    "crouching",
    "squatting",
    "dancing",
    "stretching",
    "twirling",
    "profile",
];

/// Words that say what someone wears, beyond the styles the renderer draws.
const CLOTHING_WORDS: &[&str] = &[
    "dress",
    "dresses",
    "skirt",
    "skirts",
    "jacket",
    "jackets",
    "coat",
    "coats",
    "knitwear",
    "sweater",
    "sweaters",
    "jumper",
    "cardigan",
    "shirt",
    "shirts",
    "blouse",
    "trousers",
    "pants",
    "shorts",
    "leggings",
    "top",
    "tops",
    "uniform",
    "scrubs",
    "apron",
    "kimono",
    "saree",
    "sari",
    "abaya",
    "denim",
    "leather",
    "linen",
    "wool",
    "woolen",
    "cashmere",
    "silk",
    "knit",
    "knitted",
    "jumpsuit",
    "overalls",
    "pajamas",
    "pyjamas",
    "robe",
    "vest",
    "polo",
    "tracksuit",
    "maternity",
    "bridal",
    "workwear",
    "costume",
];

/// Words that say who someone is by origin, which decides skin tone better
/// than a free choice would.
const ORIGIN_WORDS: &[&str] = &[
    "asian",
    "african",
    "caucasian",
    "european",
    "latina",
    "latino",
    "latinx",
    "hispanic",
    "indian",
    "arab",
    "arabic",
    "persian",
    "japanese",
    "chinese",
    "korean",
    "vietnamese",
    "thai",
    "filipina",
    "filipino",
    "nigerian",
    "ethiopian",
    "somali",
    "scandinavian",
    "nordic",
    "mediterranean",
    "italian",
    "greek",
    "turkish",
    "brazilian",
    "mexican",
    "biracial",
    "multiracial",
    "indigenous",
    "pacific",
    "islander",
    "middle",
    "eastern",
    "south",
    "east",
    "west",
    "north",
    "black",
    "white",
];

/// Attributes the text settles in words the attribute lists do not hold
/// ("sitting", "red dress", "Asian"): a prompt must not add a free choice
/// that contradicts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mentioned {
    pub pose: bool,
    pub style: bool,
    pub skin_tone: bool,
}

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
    pub facial_hair: Vec<FacialHair>,
    pub eyewear: Vec<Eyewear>,
    pub headwear: Vec<Headwear>,
    /// Words of the text that no attribute took and that say something (not
    /// an article or the frame of the request), in the text's order: what a
    /// generator drawing from attributes alone cannot show.
    pub unread: Vec<String>,
    pub mentioned: Mentioned,
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

/// Adds what `found` holds to `into`, keeping the first-named order.
fn merge<T: PartialEq>(into: &mut Vec<T>, found: Vec<T>) {
    for v in found {
        if !into.contains(&v) {
            into.push(v);
        }
    }
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
        let mut a = Attributes::default();
        // "long curly blonde hair", "grey beard": each describing word shortly
        // before "hair" (or, for colours, before a beard) is read as "<word>
        // hair", so the phrases need not list every word order.
        for j in 0..w.len() {
            let hair = matches!(w[j], "hair" | "haired");
            if !hair && !BEARD_WORDS.contains(&w[j]) {
                continue;
            }
            let (before, _) = w.split_at_mut(j);
            let start = before.len().saturating_sub(3);
            for word in &mut before[start..] {
                if !HAIR_WORDS.contains(word) {
                    continue;
                }
                let mut phrase = [*word, "hair"];
                let color = find(&mut phrase, HairColor::ALL, HairColor::phrases);
                let (length, style) = if hair {
                    (
                        find(&mut phrase, HairLength::ALL, HairLength::phrases),
                        find(&mut phrase, HairStyle::ALL, HairStyle::phrases),
                    )
                } else {
                    (Vec::new(), Vec::new())
                };
                if color.is_empty() && length.is_empty() && style.is_empty() {
                    continue;
                }
                merge(&mut a.hair_color, color);
                merge(&mut a.hair_length, length);
                merge(&mut a.hair_style, style);
                *word = "";
            }
        }
        // Order matters where phrases overlap: style before build ("athletic wear"),
        // makeup and expression before hair colour ("red lips"), hair before skin.
        a.style = find(w, Style::ALL, Style::phrases);
        a.makeup = find(w, Makeup::ALL, Makeup::phrases);
        a.expression = find(w, Expression::ALL, Expression::phrases);
        a.pose = find(w, Pose::ALL, Pose::phrases);
        a.eyewear = find(w, Eyewear::ALL, Eyewear::phrases);
        a.headwear = find(w, Headwear::ALL, Headwear::phrases);
        a.facial_hair = find(w, FacialHair::ALL, FacialHair::phrases);
        merge(
            &mut a.hair_color,
            find(w, HairColor::ALL, HairColor::phrases),
        );
        merge(
            &mut a.hair_length,
            find(w, HairLength::ALL, HairLength::phrases),
        );
        merge(
            &mut a.hair_style,
            find(w, HairStyle::ALL, HairStyle::phrases),
        );
        a.build = find(w, Build::ALL, Build::phrases);
        a.skin_tone = find(w, SkinTone::ALL, SkinTone::phrases);
        a.age = find(w, Age::ALL, Age::phrases);
        a.gender = find(w, Gender::ALL, Gender::phrases);
        // "young kids": a text that asks for children or teenagers means them.
        if a.age.iter().any(|age| age.is_minor()) {
            a.age.retain(|age| age.is_minor());
        }
        let said = |list: &[&str]| w.iter().any(|word| list.contains(word));
        a.mentioned = Mentioned {
            pose: said(POSE_WORDS),
            style: said(CLOTHING_WORDS),
            skin_tone: said(ORIGIN_WORDS),
        };
        a.unread = w
            .iter()
            .filter(|word| !word.is_empty() && !COMMON_WORDS.contains(word))
            .filter(|word| !word.chars().all(|c| c.is_ascii_digit()))
            .map(|word| word.to_string())
            .fold(Vec::new(), |mut seen, word| {
                if !seen.contains(&word) {
                    seen.push(word);
                }
                seen
            });
        a
    }

    /// `count` ideas for a batch whose randomness is `seed`.
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
        let style = pick.spread(&self.style, Style::ALL);
        // Accessories and facial hair only when asked for.
        let facial_hair = pick.spread(&self.facial_hair, &[FacialHair::None]);
        let eyewear = pick.spread(&self.eyewear, &[Eyewear::None]);
        let headwear = pick.spread(&self.headwear, &[Headwear::None]);
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
                };
                self.settle(&mut idea, i);
                idea
            })
            .collect()
    }

    /// Makes the free choices of one idea fit together; what the text asks
    /// for explicitly is kept, except that children and teenagers never get
    /// swimwear, lingerie, facial hair, grey hair or glamour makeup.
    fn settle(&self, idea: &mut Idea, i: usize) {
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
        if idea.age.is_minor() {
            if matches!(idea.style, Style::Swimwear | Style::Lingerie) {
                idea.style = if i.is_multiple_of(2) {
                    Style::Casual
                } else {
                    Style::Sportswear
                };
            }
            if matches!(idea.build, Build::Curvy | Build::PlusSize | Build::Muscular) {
                idea.build = Build::Average;
            }
            if matches!(idea.makeup, Makeup::Glam | Makeup::Bold) || self.makeup.is_empty() {
                idea.makeup = Makeup::None;
            }
            if matches!(idea.hair_color, HairColor::Gray | HairColor::White) {
                idea.hair_color = HairColor::Brown;
            }
            idea.facial_hair = FacialHair::None;
        }
    }

    /// The words of the text the built-in renderer cannot show for `idea`:
    /// those no attribute took, and asks it overrode (a child is never drawn
    /// in swimwear).
    pub fn not_drawn(&self, idea: &Idea) -> Vec<String> {
        let mut out = self.unread.clone();
        if idea.age.is_minor() {
            for style in [Style::Swimwear, Style::Lingerie] {
                if self.style.contains(&style) {
                    out.push(format!(
                        "{} (not for children)",
                        style.label().to_lowercase()
                    ));
                }
            }
            if self.facial_hair.iter().any(|f| *f != FacialHair::None) {
                out.push("facial hair (not for children)".to_string());
            }
        }
        out
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

impl Style {
    /// What a person of this style wears, as a prompt names it.
    pub fn clothes(self) -> &'static str {
        match self {
            Style::Sportswear => "sportswear",
            Style::Casual => "casual clothes",
            Style::Formal => "formal wear",
            Style::Streetwear => "streetwear",
            Style::Swimwear => "swimwear",
            Style::Lingerie => "lingerie",
            Style::Outdoor => "outdoor clothing",
            Style::Business => "business attire",
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

    #[test]
    fn an_older_man_with_a_grey_beard_gets_both() {
        let a = Attributes::read("older man, grey beard, business suit");
        assert_eq!(a.age, vec![Age::Senior]);
        assert_eq!(a.gender, vec![Gender::Male]);
        assert_eq!(a.facial_hair, vec![FacialHair::Beard]);
        assert_eq!(a.hair_color, vec![HairColor::Gray]);
        assert_eq!(a.style, vec![Style::Business]);
        assert!(a.unread.is_empty(), "{:?}", a.unread);
        for idea in a.ideas(6, 9) {
            assert_eq!(idea.facial_hair, FacialHair::Beard);
            assert_eq!(idea.hair_color, HairColor::Gray);
        }
    }

    #[test]
    fn children_are_children_and_never_in_swimwear() {
        let a = Attributes::read("child model for kids clothing");
        assert_eq!(a.age, vec![Age::Child]);
        assert!(a.unread.is_empty(), "{:?}", a.unread);
        let b = Attributes::read("young kids, swimwear");
        assert_eq!(b.age, vec![Age::Child]);
        for idea in a.ideas(20, 4).into_iter().chain(b.ideas(20, 5)) {
            assert_eq!(idea.age, Age::Child);
            assert!(!matches!(idea.style, Style::Swimwear | Style::Lingerie));
            assert_eq!(idea.facial_hair, FacialHair::None);
        }
        let idea = b.ideas(1, 5)[0];
        assert_eq!(
            b.not_drawn(&idea),
            vec!["swimwear (not for children)".to_string()]
        );
    }

    #[test]
    fn adults_only_unless_asked_and_seniors_are_grey_or_white() {
        let ideas = Attributes::read("a model").ideas(20, 11);
        assert!(ideas.iter().all(|i| !i.age.is_minor()));
        for idea in ideas.iter().filter(|i| i.age == Age::Senior) {
            assert!(matches!(
                idea.hair_color,
                HairColor::Gray | HairColor::White
            ));
        }
        assert!(ideas.iter().all(|i| i.facial_hair == FacialHair::None
            && i.eyewear == Eyewear::None
            && i.headwear == Headwear::None));
        let seeds: std::collections::HashSet<u32> = ideas.iter().map(|i| i.seed).collect();
        assert_eq!(seeds.len(), ideas.len());
    }

    #[test]
    fn accessories_are_read_and_unknown_words_are_kept_to_tell() {
        let a = Attributes::read("Asian woman with glasses and a hijab, sitting on a stool");
        assert_eq!(a.eyewear, vec![Eyewear::Glasses]);
        assert_eq!(a.headwear, vec![Headwear::Hijab]);
        assert_eq!(a.unread, vec!["asian", "sitting", "stool"]);
        let b = Attributes::read("teen boy in a beanie and sunglasses, stubble");
        assert_eq!(b.age, vec![Age::Teen]);
        assert_eq!(b.headwear, vec![Headwear::Beanie]);
        assert_eq!(b.eyewear, vec![Eyewear::Sunglasses]);
        let idea = b.ideas(1, 1)[0];
        assert_eq!(idea.facial_hair, FacialHair::None);
        assert_eq!(
            b.not_drawn(&idea),
            vec!["facial hair (not for children)".to_string()]
        );
    }

    #[test]
    fn ideas_stored_before_the_new_attributes_still_read() {
        let old = r#"{"gender":"male","age":"adult","build":"slim","skin_tone":"tan","hair_color":"black","hair_length":"short","hair_style":"wavy","makeup":"none","expression":"neutral","pose":"standing","style":"casual","palette":3}"#;
        let idea: Idea = serde_json::from_str(old).unwrap();
        assert_eq!(idea.facial_hair, FacialHair::None);
        assert_eq!(idea.seed, 0);
    }
}
