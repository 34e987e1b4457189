//! The words sent to an image model, built once for every backend: the
//! customer's text verbatim, then what makes this idea distinct within its
//! batch (the attributes the text leaves open and the batch varies), inside
//! the operator's template.

use crate::ideas::{Attributes, Idea};

/// Asks for what product photography needs: one whole person on a plain
/// backdrop, photographed, not drawn.
pub const DEFAULT_TEMPLATE: &str = "Full-body studio fashion photograph of one person, head to toe in frame. {{preferences}}. {{details}}. Plain light grey seamless backdrop, soft even studio lighting, sharp focus, natural skin texture, photorealistic.";

/// What the backends that take a negative prompt are asked to avoid.
pub const DEFAULT_NEGATIVE: &str = "cropped, cut off feet, close-up, multiple people, extra limbs, extra fingers, deformed hands, distorted face, blurry, lowres, watermark, text, logo, cartoon, illustration, 3d render, nsfw, nudity";

/// The placeholders a template may hold.
const PLACEHOLDERS: [&str; 2] = ["{{preferences}}", "{{details}}"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error(
        "the prompt template must contain {{{{preferences}}}}: without it the customer's words are dropped"
    )]
    NoPreferences,
    #[error("the prompt template holds {0:?}; it knows {{{{preferences}}}} and {{{{details}}}}")]
    Unknown(String),
}

/// A prompt template with `{{preferences}}` (required) and `{{details}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(String);

impl Default for Template {
    fn default() -> Template {
        Template(DEFAULT_TEMPLATE.to_string())
    }
}

impl Template {
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        if !text.contains(PLACEHOLDERS[0]) {
            return Err(TemplateError::NoPreferences);
        }
        let mut rest = text;
        while let Some(i) = rest.find("{{") {
            let tail = &rest[i..];
            let end = tail.find("}}").map_or(tail.len(), |e| e + 2);
            if !PLACEHOLDERS.contains(&&tail[..end]) {
                return Err(TemplateError::Unknown(tail[..end].to_string()));
            }
            rest = &tail[end..];
        }
        Ok(Template(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The prompt for `idea` of a batch asked for with `preferences`. The text
    /// appears verbatim (trimmed, and without its final full stop when the
    /// template puts one after it). When the text fixes everything, the
    /// details and the punctuation after them are left out.
    pub fn render(&self, preferences: &str, idea: &Idea) -> String {
        self.render_read(&Attributes::read(preferences), preferences, idea)
    }

    /// [`Template::render`] with the text's reading already made.
    pub fn render_read(&self, reading: &Attributes, preferences: &str, idea: &Idea) -> String {
        let details = idea.parts(Some(reading)).join(", ");
        let separators = ['.', ',', ';', ':'];
        let mut out = String::with_capacity(self.0.len() + preferences.len() + details.len());
        let mut rest = self.0.as_str();
        while let Some(i) = rest.find("{{") {
            out.push_str(&rest[..i]);
            let tail = &rest[i..];
            if let Some(after) = tail.strip_prefix(PLACEHOLDERS[0]) {
                let text = preferences.trim();
                if after.starts_with(separators) {
                    out.push_str(text.trim_end_matches(separators).trim_end());
                } else {
                    out.push_str(text);
                }
                rest = after;
            } else if let Some(after) = tail.strip_prefix(PLACEHOLDERS[1]) {
                if details.is_empty() {
                    rest = after.strip_prefix(separators).unwrap_or(after).trim_start();
                } else {
                    out.push_str(&details);
                    rest = after;
                }
            } else {
                out.push_str("{{");
                rest = &tail[2..];
            }
        }
        out.push_str(rest);
        out.trim().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idea(text: &str, seed: u64) -> Idea {
        Attributes::read(text).ideas(4, seed)[1]
    }

    #[test]
    fn the_text_is_there_verbatim_with_what_the_batch_varies() {
        let text = "older man, grey beard, business suit";
        let idea = idea(text, 1);
        let prompt = Template::default().render(text, &idea);
        assert!(
            prompt.contains("older man, grey beard, business suit. "),
            "{prompt}"
        );
        assert!(prompt.starts_with("Full-body studio fashion photograph"));
        // Left open by the text, so named: build, skin, expression, pose.
        assert!(
            prompt.contains(&format!("{} build", idea.build.label())),
            "{prompt}"
        );
        assert!(
            prompt.contains(&format!("{} skin", idea.skin_tone.label())),
            "{prompt}"
        );
        // Fixed by the text: not repeated (and never contradicted).
        assert!(!prompt.contains("business attire"), "{prompt}");
        assert!(!prompt.contains("blonde"), "{prompt}");
    }

    #[test]
    fn a_text_that_fixes_everything_leaves_no_empty_sentence() {
        let text = "young woman, slim, fair skin, long straight blonde hair, natural makeup, smiling, standing, casual.";
        let idea = idea(text, 2);
        let t = Template::parse("Photo. {{preferences}}. {{details}}. Studio.").unwrap();
        assert_eq!(
            t.render(text, &idea),
            format!("Photo. {}. Studio.", &text[..text.len() - 1])
        );
    }

    #[test]
    fn children_are_asked_for_as_children() {
        let text = "child model for kids clothing";
        for seed in 0..20 {
            let idea = idea(text, seed);
            let prompt = Template::default().render(text, &idea);
            assert!(
                prompt.contains(" girl, ") || prompt.contains(" boy, "),
                "{prompt}"
            );
            assert!(
                !prompt.contains("swimwear") && !prompt.contains("lingerie"),
                "{prompt}"
            );
        }
    }

    #[test]
    fn details_never_contradict_words_the_reading_does_not_hold() {
        let text = "Asian woman with glasses, sitting on a stool, red knit dress";
        for seed in 0..10 {
            let prompt = Template::default().render(text, &idea(text, seed));
            assert!(!prompt.contains(" pose"), "{prompt}");
            assert!(!prompt.contains("wearing "), "{prompt}");
            let tones = crate::ideas::SkinTone::ALL;
            assert!(
                !tones
                    .iter()
                    .any(|t| prompt.contains(&format!("{} skin", t.label()))),
                "{prompt}"
            );
            assert!(prompt.contains(text), "{prompt}");
        }
    }

    #[test]
    fn templates_must_carry_the_customers_words() {
        assert_eq!(
            Template::parse("a photo"),
            Err(TemplateError::NoPreferences)
        );
        assert_eq!(
            Template::parse("{{preferences}} {{seed}}"),
            Err(TemplateError::Unknown("{{seed}}".into()))
        );
        assert!(Template::parse(DEFAULT_TEMPLATE).is_ok());
        let t = Template::parse("{{preferences}}").unwrap();
        assert_eq!(t.render("  red dress. ", &idea("x", 1)), "red dress.");
    }
}
