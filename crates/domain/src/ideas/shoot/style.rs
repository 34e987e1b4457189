//! How a packshot looks where the order says so: the background colour and
//! the size read from the customer's words, then the preset's guidance.

use super::{Config, read};

/// The words of the order that say how its pictures look, the customer's
/// first: the suggestions, then the preset's guidelines.
fn guidance(config: &Config) -> Vec<String> {
    let mut texts = vec![config.words()];
    if let Some(p) = &config.preset {
        texts.push(format!(
            "{}\n{}\n{}",
            p.guidelines, p.quality_guidelines, p.quantity_guidelines
        ));
    }
    texts
}

/// The background colour the order names for a packshot, as RGB: a colour
/// in a sentence that speaks of the background ("on a light grey
/// background"), lightened or darkened as it says; `None` when it names
/// none (then white).
pub fn background(config: &Config) -> Option<[u8; 3]> {
    for text in guidance(config) {
        for sentence in text.split(['.', ';', '\n']) {
            let lower = sentence.to_lowercase();
            if !(lower.contains("background") || lower.contains("backdrop")) {
                continue;
            }
            let Some(colour) = read(sentence, crate::ideas::Colour::candidates())
                .first()
                .copied()
            else {
                continue;
            };
            let rgb = match colour {
                crate::ideas::Colour::White => [255, 255, 255],
                c => {
                    let v = c.rgb();
                    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
                }
            };
            let toward = |target: f32, amount: f32| {
                rgb.map(|c| (f32::from(c) + (target - f32::from(c)) * amount).round() as u8)
            };
            return Some(if lower.contains("light") || lower.contains("pale") {
                toward(255.0, 0.6)
            } else if lower.contains("dark") {
                toward(0.0, 0.5)
            } else {
                rgb
            });
        }
    }
    None
}

/// The square side the order asks of a packshot ("2000 x 2000", "2000px",
/// "2000 pixels"), within 256–4096 pixels; `None` when it names none.
pub fn side(config: &Config) -> Option<u32> {
    #[derive(PartialEq)]
    enum T {
        N(u32),
        X,
        Px,
        Other,
    }
    for text in guidance(config) {
        let t = text
            .to_lowercase()
            .replace("pixels", " px ")
            .replace("px", " px ")
            .replace(['×', '*'], " x ");
        // Numbers, `x` between them and `px`; the rest is other words.
        let mut tokens: Vec<T> = Vec::new();
        for word in t.split(|c: char| !c.is_ascii_alphanumeric()) {
            let mut rest = word;
            while !rest.is_empty() {
                let digits =
                    rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                if digits > 0 {
                    tokens.push(rest[..digits].parse().map_or(T::Other, T::N));
                    rest = &rest[digits..];
                } else if let Some(r) = rest.strip_prefix('x') {
                    tokens.push(T::X);
                    rest = r;
                } else {
                    tokens.push(if rest == "px" { T::Px } else { T::Other });
                    rest = "";
                }
            }
        }
        let ok = |n: u32| (256..=4096).contains(&n).then_some(n);
        for (i, tok) in tokens.iter().enumerate() {
            let T::N(a) = *tok else { continue };
            let found = match (tokens.get(i + 1), tokens.get(i + 2)) {
                (Some(T::X), Some(T::N(b))) => ok(a).and(ok(*b)).map(|b| a.min(b)),
                (Some(T::Px), _) => ok(a),
                _ => None,
            };
            if found.is_some() {
                return found;
            }
        }
    }
    None
}
