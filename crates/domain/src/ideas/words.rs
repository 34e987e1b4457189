//! The words of a text as the reader sees them: lowercased, split at anything
//! that is not a letter or digit, with the clause breaks (commas, full stops,
//! line breaks) kept, the typos people make mended, plurals folded onto the
//! vocabulary's words, and numbers in words or glued to a unit ("6yo")
//! separated so the age reader sees them.

use std::collections::HashSet;
use std::sync::OnceLock;

use super::vocabulary::*;

/// One word of the text; `break_before` is true when punctuation (a comma, a
/// full stop, a line break...) stands between it and the word before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub word: String,
    pub break_before: bool,
}

/// Misspellings and spellings seen in shop requests, and what they mean.
const TYPOS: &[(&str, &str)] = &[
    ("femal", "female"),
    ("femail", "female"),
    ("famale", "female"),
    ("femle", "female"),
    ("womans", "woman"),
    ("womam", "woman"),
    ("womn", "woman"),
    ("woamn", "woman"),
    ("wemen", "women"),
    ("womem", "women"),
    ("womenswear", "womenswear"),
    ("chlid", "child"),
    ("chidren", "children"),
    ("childern", "children"),
    ("chilren", "children"),
    ("childen", "children"),
    ("kiddos", "kids"),
    ("kiddo", "kid"),
    ("teeneger", "teenager"),
    ("teenger", "teenager"),
    ("teenagers", "teenagers"),
    ("todler", "toddler"),
    ("toddeler", "toddler"),
    ("jeens", "jeans"),
    ("jaens", "jeans"),
    ("trouser", "trousers"),
    ("pant", "pants"),
    ("dres", "dress"),
    ("dresss", "dress"),
    ("skrit", "skirt"),
    ("swimware", "swimwear"),
    ("swimmwear", "swimwear"),
    ("swimsuite", "swimsuit"),
    ("bikiny", "bikini"),
    ("lingere", "lingerie"),
    ("lingeria", "lingerie"),
    ("lingery", "lingerie"),
    ("hijaab", "hijab"),
    ("hejab", "hijab"),
    ("hijib", "hijab"),
    ("hijap", "hijab"),
    ("niquab", "niqab"),
    ("nikab", "niqab"),
    ("abbaya", "abaya"),
    ("abaaya", "abaya"),
    ("kimona", "kimono"),
    ("blazzer", "blazer"),
    ("jaket", "jacket"),
    ("sweather", "sweater"),
    ("sportwear", "sportswear"),
    ("sportswaer", "sportswear"),
    ("casul", "casual"),
    ("casaul", "casual"),
    ("buisness", "business"),
    ("bussiness", "business"),
    ("busines", "business"),
    ("makup", "makeup"),
    ("make-up", "makeup"),
    ("middleaged", "middle aged"),
    ("tshirts", "tshirt"),
    ("colourful", "colorful"),
    ("grey", "grey"),
];

/// Word numbers, for ages written out ("six year old", "twenty five").
const NUMBER_WORDS: &[(&str, u32)] = &[
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("thirteen", 13),
    ("fourteen", 14),
    ("fifteen", 15),
    ("sixteen", 16),
    ("seventeen", 17),
    ("eighteen", 18),
    ("nineteen", 19),
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("seventy", 70),
    ("eighty", 80),
    ("ninety", 90),
];

/// Decades in words, as ages ("in her forties") or eras ("forties style").
pub(crate) const DECADE_WORDS: &[(&str, u32)] = &[
    ("twenties", 20),
    ("thirties", 30),
    ("forties", 40),
    ("fifties", 50),
    ("sixties", 60),
    ("seventies", 70),
    ("eighties", 80),
    ("nineties", 90),
];

/// The number a word is, written in digits or in words ("6", "six").
pub(crate) fn number(word: &str) -> Option<u32> {
    if !word.is_empty() && word.len() <= 3 && word.bytes().all(|b| b.is_ascii_digit()) {
        return word.parse().ok();
    }
    NUMBER_WORDS
        .iter()
        .find(|(w, _)| *w == word)
        .map(|(_, n)| *n)
}

/// A decade written "30s" or "thirties": its first year.
pub(crate) fn decade(word: &str) -> Option<u32> {
    if let Some(digits) = word.strip_suffix('s')
        && digits.len() == 2
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        let n: u32 = digits.parse().ok()?;
        return (n >= 20 && n.is_multiple_of(10)).then_some(n);
    }
    DECADE_WORDS
        .iter()
        .find(|(w, _)| *w == word)
        .map(|(_, n)| *n)
}

/// Every single word the vocabulary holds, for folding plurals onto.
fn known() -> &'static HashSet<&'static str> {
    static KNOWN: OnceLock<HashSet<&'static str>> = OnceLock::new();
    KNOWN.get_or_init(|| {
        let mut set = HashSet::new();
        let mut add = |phrases: &'static [&'static str]| {
            for p in phrases {
                set.extend(p.split(' '));
            }
        };
        macro_rules! all {
            ($($t:ident),+) => {$(
                for v in $t::ALL {
                    add(v.phrases());
                }
            )+};
        }
        all!(
            Gender, Age, Build, SkinTone, HairColor, HairLength, HairStyle, Makeup, Expression,
            Pose, Style, FacialHair, Eyewear, Headwear, Garment, Colour
        );
        for list in [
            super::lists::FABRIC_WORDS,
            super::lists::PATTERN_WORDS,
            super::lists::FOOTWEAR_WORDS,
            super::lists::POSE_WORDS,
            super::lists::ORIGIN_WORDS,
            super::lists::MODEST_WORDS,
        ] {
            add(list);
        }
        set
    })
}

/// The plural `word` is of a vocabulary word, if it is one: "dresses",
/// "abayas", "ladies".
fn singular(word: &str) -> Option<String> {
    let k = known();
    if k.contains(word) || word.len() < 4 {
        return None;
    }
    if let Some(stem) = word.strip_suffix("ies") {
        let y = format!("{stem}y");
        if k.contains(y.as_str()) {
            return Some(y);
        }
    }
    if let Some(stem) = word.strip_suffix("es")
        && k.contains(stem)
    {
        return Some(stem.to_string());
    }
    word.strip_suffix('s')
        .filter(|stem| k.contains(stem))
        .map(str::to_string)
}

/// The text's tokens.
pub(crate) fn tokens(text: &str) -> Vec<Token> {
    let lower = text.to_lowercase();
    // "children's", "women’s": the possessive goes; other apostrophes join.
    let lower = lower
        .replace("'s ", " ")
        .replace("’s ", " ")
        .replace(['\'', '’'], "");
    let lower = lower.strip_suffix("'s").unwrap_or(&lower);
    let mut out: Vec<Token> = Vec::new();
    let mut pending_break = false;
    let mut word = String::new();
    let push = |word: &mut String, pending: &mut bool, out: &mut Vec<Token>| {
        if word.is_empty() {
            return;
        }
        for w in split_unit(word) {
            out.push(Token {
                word: w,
                break_before: std::mem::take(pending),
            });
        }
        word.clear();
    };
    for c in lower.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            push(&mut word, &mut pending_break, &mut out);
            if matches!(
                c,
                ',' | '.' | ';' | ':' | '!' | '?' | '(' | ')' | '\n' | '/' | '|' | '+' | '&'
            ) {
                pending_break = true;
            }
        }
    }
    push(&mut word, &mut pending_break, &mut out);
    mend(out)
}

/// "6yo" → "6 yo", "6yrs" → "6 yrs", "6y" → "6 yo"; "30s" stays a decade.
fn split_unit(word: &str) -> Vec<String> {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits == word.len() || decade(word).is_some() {
        return vec![word.to_string()];
    }
    let (n, unit) = word.split_at(digits);
    match unit {
        "yo" | "y" | "yr" | "yrs" | "years" | "year" | "yearold" | "yearsold" | "m" | "mo"
        | "months" => vec![
            n.to_string(),
            match unit {
                "y" => "yo".to_string(),
                "m" | "mo" => "months".to_string(),
                u => u.to_string(),
            },
        ],
        _ => vec![word.to_string()],
    }
}

/// Typos mended, word pairs joined ("make up", "tee shirt", "y o"), plurals
/// folded.
fn mend(tokens: Vec<Token>) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    for t in tokens {
        let fixed = TYPOS
            .iter()
            .find(|(typo, _)| *typo == t.word)
            .map_or(t.word.clone(), |(_, right)| right.to_string());
        if let Some(prev) = out.last_mut()
            && !t.break_before
        {
            let joined = match (prev.word.as_str(), fixed.as_str()) {
                ("make", "up") => Some("makeup"),
                ("tee", "shirt") => Some("t shirt"),
                ("y", "o") => Some("yo"),
                ("non", "binary") => Some("nonbinary"),
                _ => None,
            };
            if let Some(j) = joined {
                prev.word = j.to_string();
                continue;
            }
        }
        for (i, w) in fixed.split(' ').enumerate() {
            let w = singular(w).unwrap_or_else(|| w.to_string());
            out.push(Token {
                word: w,
                break_before: t.break_before && i == 0,
            });
        }
    }
    // "t shirt" from a join is two words.
    let mut flat = Vec::with_capacity(out.len());
    for t in out {
        let mut first = true;
        for w in t.word.split(' ') {
            flat.push(Token {
                word: w.to_string(),
                break_before: t.break_before && first,
            });
            first = false;
        }
    }
    flat
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        tokens(text).into_iter().map(|t| t.word).collect()
    }

    #[test]
    fn possessives_plurals_units_and_typos() {
        assert_eq!(words("Kids' line"), ["kids", "line"]);
        assert_eq!(words("children's swimwear"), ["children", "swimwear"]);
        assert_eq!(words("6yo girl"), ["6", "yo", "girl"]);
        assert_eq!(words("6-year-old"), ["6", "year", "old"]);
        assert_eq!(words("woman in her 30s"), ["woman", "in", "her", "30s"]);
        assert_eq!(words("red dresses, abayas"), ["red", "dress", "abaya"]);
        assert_eq!(words("T-shirt, tee shirt"), ["t", "shirt", "t", "shirt"]);
        assert_eq!(words("Hijaab, make up"), ["hijab", "makeup"]);
        assert_eq!(words("ladies' coats"), ["ladies", "coat"]);
    }

    #[test]
    fn clause_breaks_are_kept() {
        let t = tokens("girl, 6 years old. party dress");
        let breaks: Vec<bool> = t.iter().map(|t| t.break_before).collect();
        assert_eq!(breaks, [false, true, false, false, true, false]);
    }

    #[test]
    fn numbers_and_decades() {
        assert_eq!(number("six"), Some(6));
        assert_eq!(number("12"), Some(12));
        assert_eq!(number("1990"), None);
        assert_eq!(decade("30s"), Some(30));
        assert_eq!(decade("forties"), Some(40));
        assert_eq!(decade("1990s"), None);
        assert_eq!(decade("10s"), None);
    }
}
