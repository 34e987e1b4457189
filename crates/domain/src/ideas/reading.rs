//! Reading free text into attribute constraints: what the text fixes, what
//! it speaks of in words the vocabulary does not hold (so a batch must not
//! vary it), what it says about minors and modesty, and which of its words
//! no attribute holds.

use super::Idea;
use super::lists::*;
use super::vocabulary::*;
use super::words::{self, Token};

/// Attributes the text settles in words the vocabulary does not map to a
/// value ("sitting", "Asian", "a dirndl", "non-binary"): a batch must not
/// vary them, and a prompt must not add a choice that could contradict them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Settled {
    pub gender: bool,
    pub age: bool,
    pub pose: bool,
    pub outfit: bool,
    pub skin_tone: bool,
}

/// For each attribute, the values the text allows (empty means "any"), and
/// what the text says beyond them.
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
    /// The ages the text gives in years, lowest and highest.
    pub years: Option<(u32, u32)>,
    /// The garments the text names, in its order.
    pub garments: Vec<Garment>,
    /// The garments are alternatives ("a dress or a jumpsuit"): each idea
    /// wears one; otherwise every idea wears the first two together.
    pub garment_choice: bool,
    /// The colours the text gives the clothes.
    pub colours: Vec<Colour>,
    /// Any sign of a minor: a child word, an age under 18, "school",
    /// "junior". Every idea is then a minor.
    pub minor: bool,
    /// Hijab, niqab, abaya, "modest", "covered", "long sleeves": every idea
    /// is covered.
    pub modest: bool,
    /// The words of adult styling the text holds ("bikini", "glam makeup"):
    /// with a minor, the request is refused.
    pub adult_styling: Vec<String>,
    /// What the text asks for that a minor never gets ("facial hair (not
    /// for children)").
    pub withheld: Vec<String>,
    /// What the text settles in words outside the vocabulary.
    pub settled: Settled,
    /// Words of a settled kind the reader did not understand ("dirndl" as
    /// clothing): nothing of that kind is varied, and the customer is told.
    pub not_understood: Vec<String>,
    /// Words of the text that no attribute took and that say something (not
    /// an article or the frame of the request), in the text's order: what a
    /// generator drawing from attributes alone cannot show.
    pub unread: Vec<String>,
}

/// Finds which values of `T` the words name, longest phrase first, so that
/// "athletic wear" is a style and not a build; a matched span is consumed.
/// Returns each value found with the position of its first match, in the
/// text's order.
pub(crate) fn find_at<T: Copy + PartialEq>(
    words: &mut [&str],
    candidates: &[(T, Vec<&'static str>)],
) -> Vec<(T, usize)> {
    let mut found: Vec<(T, usize)> = Vec::new();
    for (value, ws) in candidates {
        let len = ws.len();
        let mut i = 0;
        while i + len <= words.len() {
            if words[i] == ws[0] && words[i..i + len] == ws[..] {
                for w in &mut words[i..i + len] {
                    *w = "";
                }
                match found.iter_mut().find(|(v, _)| v == value) {
                    Some(f) => f.1 = f.1.min(i),
                    None => found.push((*value, i)),
                }
                i += len;
            } else {
                i += 1;
            }
        }
    }
    found.sort_by_key(|f| f.1);
    found
}

/// [`find_at`] without the positions, in the text's order.
fn find<T: Copy + PartialEq>(words: &mut [&str], candidates: &[(T, Vec<&'static str>)]) -> Vec<T> {
    find_at(words, candidates)
        .into_iter()
        .map(|f| f.0)
        .collect()
}

/// Adds what `found` holds to `into`, keeping the first-named order.
fn merge<T: PartialEq>(into: &mut Vec<T>, found: Vec<T>) {
    for v in found {
        if !into.contains(&v) {
            into.push(v);
        }
    }
}

/// Whether `words` holds `phrase` anywhere.
fn holds(words: &[&str], phrase: &[&str]) -> bool {
    words.windows(phrase.len()).any(|w| w == phrase)
}

impl Attributes {
    /// Reads free text into attribute constraints. Never fails: text that names
    /// nothing leaves every attribute free. Whether a request may be made of
    /// it at all is [`Attributes::refusal`].
    pub fn read(text: &str) -> Attributes {
        let tokens = words::tokens(text);
        let original: Vec<&str> = tokens.iter().map(|t| t.word.as_str()).collect();
        let mut words = original.clone();
        let w = &mut words;
        // Gender words also age ("grandmother") and name minors ("girl"):
        // read them without taking them.
        let mut a = Attributes {
            gender: find(&mut original.clone(), Gender::candidates()),
            ..Attributes::default()
        };
        for phrase in NEUTRAL_PHRASES {
            blank_phrase(w, phrase);
        }
        a.ages_in_numbers(w);
        a.garments_and_colours(&tokens, w);
        a.hair_before_hair(w);
        // Order matters where phrases overlap: style before build ("athletic
        // wear"), makeup and expression before hair colour ("red lips"),
        // hair before skin.
        a.style = find(w, Style::candidates());
        a.makeup = find(w, Makeup::candidates());
        a.expression = find(w, Expression::candidates());
        a.pose = find(w, Pose::candidates());
        a.eyewear = find(w, Eyewear::candidates());
        a.headwear = find(w, Headwear::candidates());
        a.facial_hair = find(w, FacialHair::candidates());
        merge(&mut a.hair_color, find(w, HairColor::candidates()));
        merge(&mut a.hair_length, find(w, HairLength::candidates()));
        merge(&mut a.hair_style, find(w, HairStyle::candidates()));
        a.build = find(w, Build::candidates());
        a.skin_tone = find(w, SkinTone::candidates());
        merge(&mut a.age, find(w, Age::candidates()));
        find(w, Gender::candidates());
        a.minors(&original);
        a.modesty(&original);
        a.adult_styling = adult_styling(&a, &original);
        if a.minor {
            // No makeup and no facial hair on a minor, whatever the text says
            // (`not_drawn` tells).
            for m in a.makeup.iter().filter(|m| **m != Makeup::None) {
                a.withheld.push(format!("{} (not for children)", m.label()));
            }
            if a.facial_hair.iter().any(|f| *f != FacialHair::None) {
                a.withheld
                    .push("facial hair (not for children)".to_string());
            }
            a.makeup.retain(|m| *m == Makeup::None);
            a.facial_hair.retain(|f| *f == FacialHair::None);
        }
        a.settle_from(&tokens, w);
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

    /// Garments, with the colours before them ("a long red dress") and after
    /// "in" ("dressed in black").
    fn garments_and_colours(&mut self, tokens: &[Token], w: &mut [&str]) {
        let found = find_at(w, Garment::candidates());
        for (g, at) in &found {
            let mut g = *g;
            // The colours among the words just before the garment.
            let mut k = *at;
            while k > 0 && !tokens[k].break_before {
                let before = w[k - 1];
                let pair = (k >= 2 && !tokens[k - 1].break_before)
                    .then(|| format!("{} {before}", w[k - 2]));
                let two = pair.as_deref().and_then(colour_of);
                let colour = two.or_else(|| colour_of(before));
                if let Some(c) = colour {
                    if !self.colours.contains(&c) {
                        self.colours.push(c);
                    }
                    w[k - 1] = "";
                    if two.is_some() {
                        w[k - 2] = "";
                        k -= 1;
                    }
                } else if let Some(kind) = kind_of(g, before) {
                    // "a long red dress": the kind before the colour.
                    g = kind;
                    w[k - 1] = "";
                } else if !(FABRIC_WORDS.contains(&before)
                    || PATTERN_WORDS.contains(&before)
                    || GARMENT_MODIFIERS.contains(&before)
                    || before.is_empty())
                {
                    break;
                }
                k -= 1;
            }
            if !self.garments.contains(&g) {
                self.garments.push(g);
            }
        }
        // "or" between two garments makes them alternatives.
        if found.len() > 1 {
            let (first, last) = (found[0].1, found[found.len() - 1].1);
            self.garment_choice = w[first..last].contains(&"or")
                || tokens[first..last].iter().any(|t| t.word == "or");
        }
        // "in red", "dressed in black", "all white".
        for i in 0..w.len() {
            let lead = i > 0 && matches!(w[i - 1], "in" | "all" | "wearing");
            let end = i + 1 == w.len() || tokens[i + 1].break_before || w[i + 1] == "and";
            if lead
                && end
                && let Some(c) = colour_of(w[i])
            {
                if !self.colours.contains(&c) {
                    self.colours.push(c);
                }
                w[i] = "";
            }
        }
    }

    /// "long curly blonde hair", "grey beard": the describing words just
    /// before "hair" (or, for colours, before a beard) are read as "<word>
    /// hair", so the phrases need not list every word order.
    fn hair_before_hair(&mut self, w: &mut [&str]) {
        for j in 0..w.len() {
            let hair = matches!(w[j], "hair" | "haired");
            if !hair && !BEARD_WORDS.contains(&w[j]) {
                continue;
            }
            let mut k = j;
            while k > 0 && j - k < 3 && HAIR_WORDS.contains(&w[k - 1]) {
                k -= 1;
            }
            for word in &mut w[k..j] {
                let mut phrase = [*word, "hair"];
                let color = find(&mut phrase, HairColor::candidates());
                let (length, style) = if hair {
                    (
                        find(&mut phrase, HairLength::candidates()),
                        find(&mut phrase, HairStyle::candidates()),
                    )
                } else {
                    (Vec::new(), Vec::new())
                };
                if color.is_empty() && length.is_empty() && style.is_empty() {
                    continue;
                }
                merge(&mut self.hair_color, color);
                merge(&mut self.hair_length, length);
                merge(&mut self.hair_style, style);
                *word = "";
            }
        }
    }

    /// Any sign of a minor makes every idea one: a child or teen word, an
    /// age under 18, or a word such as "school", "junior" or "girls" (unless
    /// the text gives an adult age in years, or the word stands in a phrase
    /// that names no minor, such as "it girl" or "old school").
    fn minors(&mut self, original: &[&str]) {
        let named = self.age.iter().any(|a| a.is_minor());
        let mut words: Vec<&str> = original.to_vec();
        for phrase in ADULT_PHRASES {
            blank_phrase(&mut words, phrase);
        }
        let hinted = words.iter().any(|w| MINOR_HINTS.contains(w));
        let adult_years = self.years.is_some_and(|(lo, _)| lo >= 18);
        if named || (hinted && !adult_years) {
            self.minor = true;
            self.age.retain(|a| a.is_minor());
            if self.age.is_empty() {
                self.age = Age::MINORS.to_vec();
            }
        }
    }

    /// Hijab, niqab, abaya, "modest", "covered", "long sleeves": every idea
    /// covered; a garment or head covering worn by women makes women when
    /// the text names no gender.
    fn modesty(&mut self, original: &[&str]) {
        let covering_head = self
            .headwear
            .iter()
            .any(|h| matches!(h, Headwear::Hijab | Headwear::Niqab));
        let covering = self.garments.iter().any(|g| g.covers());
        let said = original.iter().any(|w| MODEST_WORDS.contains(w))
            || MODEST_PHRASES.iter().any(|p| holds(original, p));
        self.modest = covering_head || said || covering;
        if self.gender.is_empty() {
            let female = covering_head || self.garments.iter().any(|g| g.is_female());
            let male = self.garments.iter().any(|g| g.is_male());
            if female && !male {
                self.gender = vec![Gender::Female];
            } else if male && !female {
                self.gender = vec![Gender::Male];
            }
        }
        if self.modest {
            // Swimwear asked for modestly is the covered kind.
            for g in &mut self.garments {
                if *g == Garment::Swimwear {
                    *g = Garment::ModestSwimwear;
                }
            }
            self.garments.dedup();
        }
    }

    /// What the text settles in words outside the vocabulary, and the
    /// clothing words it did not understand.
    fn settle_from(&mut self, tokens: &[Token], w: &mut [&str]) {
        let said = |list: &[&str]| w.iter().any(|word| list.contains(word));
        self.settled.pose = said(POSE_WORDS);
        self.settled.skin_tone = said(ORIGIN_WORDS);
        self.settled.gender = self.gender.is_empty() && said(OTHER_GENDER_WORDS);
        // Clothing words the vocabulary lacks: what follows "wearing" or
        // "dressed in" up to the end of the clause, and words made with
        // "-wear".
        let mut in_outfit = false;
        for (i, t) in tokens.iter().enumerate() {
            if t.break_before {
                in_outfit = false;
            }
            let word = w[i];
            let known = word.is_empty()
                || COMMON_WORDS.contains(&word)
                || FABRIC_WORDS.contains(&word)
                || PATTERN_WORDS.contains(&word)
                || FOOTWEAR_WORDS.contains(&word)
                || GARMENT_MODIFIERS.contains(&word)
                || colour_of(word).is_some()
                || words::number(word).is_some();
            let wear_word = word.len() > 6 && word.ends_with("wear") && !known;
            if (in_outfit && !known) || wear_word {
                self.settled.outfit = true;
                let note = format!("clothing: {word}");
                if !self.not_understood.contains(&note) {
                    self.not_understood.push(note);
                }
            }
            if matches!(t.word.as_str(), "wearing" | "wears" | "clad")
                || (t.word == "in" && i > 0 && tokens[i - 1].word == "dressed")
            {
                in_outfit = true;
            }
        }
        if !self.garments.is_empty() {
            self.settled.outfit = true;
        }
    }

    /// Why no batch may be made of this text, if none may: a minor with adult
    /// styling. The message names the words.
    pub fn refusal(&self) -> Option<String> {
        if !self.minor || self.adult_styling.is_empty() {
            return None;
        }
        Some(format!(
            "Models of children and teenagers are never made in swimwear, underwear or crop tops, or with makeup or adult styling; this text asks for a minor and for {}.",
            self.adult_styling
                .iter()
                .map(|w| format!("'{w}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }

    /// The words of the text the built-in renderer cannot show for `idea`:
    /// those no attribute took, and asks it overrode (a child is never drawn
    /// in swimwear).
    pub fn not_drawn(&self, idea: &Idea) -> Vec<String> {
        // Words already told as not understood are not told twice.
        let told = |w: &String| {
            self.not_understood
                .iter()
                .any(|n| n.rsplit_once(": ").is_some_and(|(_, word)| word == w))
        };
        let mut out: Vec<String> = self.unread.iter().filter(|w| !told(w)).cloned().collect();
        if idea.age.is_minor() {
            out.extend(self.withheld.iter().cloned());
        }
        out
    }

    /// What the customer should know of how the text was read, whatever the
    /// generator: the words of a settled kind that were not understood, so
    /// nothing of their kind was varied.
    pub fn reading_note(&self) -> Option<String> {
        (!self.not_understood.is_empty()).then(|| {
            format!(
                "not understood, so not varied: {}",
                self.not_understood.join(", ")
            )
        })
    }
}

/// The kind of dress or skirt a word before it names, across colours and
/// fabrics ("long red dress", "short denim skirt").
fn kind_of(g: Garment, word: &str) -> Option<Garment> {
    use Garment::*;
    match (g, word) {
        (Dress, "long" | "floor") => Some(LongDress),
        (Dress, "maxi") => Some(MaxiDress),
        (Dress, "midi") => Some(MidiDress),
        (Dress, "mini" | "short") => Some(MiniDress),
        (Dress, "evening" | "formal" | "prom" | "ball") => Some(EveningDress),
        (Dress, "party" | "cocktail") => Some(PartyDress),
        (Dress, "summer" | "sun" | "beach") => Some(SummerDress),
        (Dress, "wrap") => Some(WrapDress),
        (Dress, "wedding" | "bridal") => Some(WeddingDress),
        (Skirt, "long" | "maxi") => Some(LongSkirt),
        (Skirt, "mini" | "short") => Some(MiniSkirt),
        _ => None,
    }
}

/// The colour `phrase` (one word, or two joined by a space) names.
fn colour_of(phrase: &str) -> Option<Colour> {
    Colour::candidates()
        .iter()
        .find(|(_, words)| words.iter().copied().eq(phrase.split(' ')))
        .map(|(c, _)| *c)
}

/// Blanks every occurrence of `phrase` in `w`.
fn blank_phrase(w: &mut [&str], phrase: &[&str]) {
    let len = phrase.len();
    let mut i = 0;
    while i + len <= w.len() {
        if w[i..i + len] == *phrase {
            blank(w, i, i + len);
            i += len;
        } else {
            i += 1;
        }
    }
}

/// Blanks `w[from..to]`.
pub(super) fn blank(w: &mut [&str], from: usize, to: usize) {
    let to = to.min(w.len());
    for word in &mut w[from..to] {
        *word = "";
    }
}

/// The words of adult styling in the text, as it wrote them.
fn adult_styling(a: &Attributes, original: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    // The text's own phrase for a value, else its label.
    let said = |phrases: &[&'static str], label: &'static str| {
        phrases
            .iter()
            .find(|p| holds(original, &p.split(' ').collect::<Vec<_>>()))
            .copied()
            .unwrap_or(label)
            .to_string()
    };
    for g in a.garments.iter().filter(|g| g.is_revealing()) {
        push(said(g.phrases(), g.label()));
    }
    for s in a
        .style
        .iter()
        .filter(|s| matches!(s, Style::Swimwear | Style::Lingerie))
    {
        push(said(s.phrases(), s.label()));
    }
    for m in &a.makeup {
        if matches!(m, Makeup::Glam | Makeup::Bold) {
            push(m.label().to_string());
        }
    }
    for w in original {
        if ADULT_STYLING.contains(w) {
            push((*w).to_string());
        }
    }
    if holds(original, &["high", "heels"]) {
        push("high heels".to_string());
    }
    if holds(original, &["see", "through"]) {
        push("see through".to_string());
    }
    out
}
