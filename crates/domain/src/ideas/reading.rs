//! Reading free text into attribute constraints, and telling which of its
//! words no attribute holds.

use super::Idea;
use super::vocabulary::*;

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
