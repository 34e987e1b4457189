//! Presets: photography guidelines a photo shoot or a packshot follows. The
//! service ships a handful (type `SYSTEM`, the same for every account); an
//! account adds its own (type `USER`). What a preset says enters the prompt of
//! what is made with it, after the customer's own words.

/// Whose a preset is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresetType {
    /// Shipped with the service; every account sees it, none may delete it.
    System,
    /// An account's own.
    User,
}

impl PresetType {
    pub fn as_str(self) -> &'static str {
        match self {
            PresetType::System => "SYSTEM",
            PresetType::User => "USER",
        }
    }
}

/// A preset's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guidelines {
    pub name: String,
    /// What the pictures should be like, in general (may be empty).
    pub guidelines: String,
    /// How many pictures, of which views.
    pub quantity_guidelines: String,
    /// What makes a picture good enough.
    pub quality_guidelines: String,
}

/// A preset the service ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemPreset {
    /// Stable across versions: clients may keep it.
    pub id: &'static str,
    pub name: &'static str,
    pub guidelines: &'static str,
    pub quantity_guidelines: &'static str,
    pub quality_guidelines: &'static str,
}

/// When the system presets were made, as their `createdAt` says
/// (2026-01-01T00:00:00Z): the same on every install.
pub const SYSTEM_PRESETS_CREATED_AT_MS: i64 = 1_767_225_600_000;

/// The presets every account sees.
pub const SYSTEM_PRESETS: [SystemPreset; 5] = [
    SystemPreset {
        id: "preset_system_ecommerce_white",
        name: "E-commerce, white background",
        guidelines: "Product shown whole and centred on a pure white background, evenly lit, with a soft shadow under it; nothing else in the frame.",
        quantity_guidelines: "A front view, a back view and a three-quarter view; one detail close-up.",
        quality_guidelines: "True colours, sharp edges, no reflections or colour casts, the product filling about 80% of the frame.",
    },
    SystemPreset {
        id: "preset_system_lifestyle",
        name: "Lifestyle",
        guidelines: "The product in use in a natural everyday setting, in daylight, with a relaxed, candid feel.",
        quantity_guidelines: "Three to five scenes, each from a different angle or moment.",
        quality_guidelines: "Natural light, believable surroundings that do not draw the eye from the product, the product in focus.",
    },
    SystemPreset {
        id: "preset_system_editorial",
        name: "Editorial",
        guidelines: "Magazine-style fashion photography: a strong composition, directional light and a confident pose.",
        quantity_guidelines: "Two or three full-length shots and one portrait crop.",
        quality_guidelines: "Deliberate lighting and composition, clean styling, high detail in the fabric.",
    },
    SystemPreset {
        id: "preset_system_flat_lay",
        name: "Flat lay",
        guidelines: "The product laid flat and neatly arranged, photographed from directly above on a plain surface.",
        quantity_guidelines: "One overhead shot of the whole product and one close-up of its texture.",
        quality_guidelines: "Camera square to the surface, even soft light, no wrinkles, true colours.",
    },
    SystemPreset {
        id: "preset_system_on_model_close_up",
        name: "On-model close-up",
        guidelines: "The product worn by a model, framed close around it to show fit, fabric and details.",
        quantity_guidelines: "Two or three close-ups of the product as worn, from the front and the side.",
        quality_guidelines: "The product sharp and filling most of the frame, skin and fabric natural, no distracting background.",
    },
];

/// The longest preset name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// The longest guideline text accepted, in characters.
pub const MAX_GUIDELINES_CHARS: usize = 4_000;

/// Why a new preset is refused: each names the field, as the API's 400 says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PresetError {
    #[error("'{0}' is required.")]
    Missing(&'static str),
    #[error("'{field}' has {chars} characters; at most {max} are accepted.")]
    TooLong {
        field: &'static str,
        chars: usize,
        max: usize,
    },
}

impl Guidelines {
    /// A new preset from a form's fields: `name`, `quantityGuidelines` and
    /// `qualityGuidelines` required (blank counts as missing), `guidelines`
    /// optional; each trimmed and bounded.
    pub fn new(
        name: Option<&str>,
        guidelines: Option<&str>,
        quantity_guidelines: Option<&str>,
        quality_guidelines: Option<&str>,
    ) -> Result<Guidelines, PresetError> {
        fn field(
            value: Option<&str>,
            name: &'static str,
            max: usize,
            required: bool,
        ) -> Result<String, PresetError> {
            let v = value.map(str::trim).unwrap_or_default();
            if v.is_empty() && required {
                return Err(PresetError::Missing(name));
            }
            let chars = v.chars().count();
            if chars > max {
                return Err(PresetError::TooLong {
                    field: name,
                    chars,
                    max,
                });
            }
            Ok(v.to_string())
        }
        Ok(Guidelines {
            name: field(name, "name", MAX_NAME_CHARS, true)?,
            guidelines: field(guidelines, "guidelines", MAX_GUIDELINES_CHARS, false)?,
            quantity_guidelines: field(
                quantity_guidelines,
                "quantityGuidelines",
                MAX_GUIDELINES_CHARS,
                true,
            )?,
            quality_guidelines: field(
                quality_guidelines,
                "qualityGuidelines",
                MAX_GUIDELINES_CHARS,
                true,
            )?,
        })
    }

    /// What the preset adds to a prompt, after the customer's words: its
    /// guidelines and what makes a picture good, as sentences.
    pub fn prompt_part(&self) -> String {
        [&self.guidelines, &self.quality_guidelines]
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(|s| {
                if s.ends_with(['.', '!', '?']) {
                    s.to_string()
                } else {
                    format!("{s}.")
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl From<&SystemPreset> for Guidelines {
    fn from(p: &SystemPreset) -> Guidelines {
        Guidelines {
            name: p.name.to_string(),
            guidelines: p.guidelines.to_string(),
            quantity_guidelines: p.quantity_guidelines.to_string(),
            quality_guidelines: p.quality_guidelines.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_presets_have_preset_ids_and_every_field() {
        let mut ids: Vec<&str> = SYSTEM_PRESETS.iter().map(|p| p.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), SYSTEM_PRESETS.len(), "ids are distinct");
        for p in &SYSTEM_PRESETS {
            let rest = p.id.strip_prefix("preset_").expect("a preset id");
            assert!(rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
            assert!(p.id.len() <= crate::ids::MAX_ID_LEN);
            let g = Guidelines::new(
                Some(p.name),
                Some(p.guidelines),
                Some(p.quantity_guidelines),
                Some(p.quality_guidelines),
            )
            .expect("a system preset passes the rules users' presets pass");
            assert_eq!(g, Guidelines::from(p));
        }
        assert_eq!(
            crate::time::format_millis(SYSTEM_PRESETS_CREATED_AT_MS),
            "2026-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn a_new_preset_names_what_is_missing_or_too_long() {
        let ok = Guidelines::new(Some(" Studio "), None, Some("3 views"), Some("sharp")).unwrap();
        assert_eq!(ok.name, "Studio");
        assert_eq!(ok.guidelines, "");
        for (fields, missing) in [
            ((None, Some("3"), Some("q")), "name"),
            ((Some("n"), None, Some("q")), "quantityGuidelines"),
            ((Some("n"), Some("3"), Some("  ")), "qualityGuidelines"),
        ] {
            let (n, qn, ql) = fields;
            assert_eq!(
                Guidelines::new(n, None, qn, ql).unwrap_err(),
                PresetError::Missing(missing)
            );
        }
        let long = "x".repeat(MAX_NAME_CHARS + 1);
        let err = Guidelines::new(Some(&long), None, Some("3"), Some("q")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "'name' has 201 characters; at most 200 are accepted."
        );
    }

    #[test]
    fn the_prompt_gets_the_guidelines_as_sentences() {
        let g = Guidelines::new(
            Some("n"),
            Some("white background"),
            Some("3"),
            Some("sharp."),
        )
        .unwrap();
        assert_eq!(g.prompt_part(), "white background. sharp.");
        let g = Guidelines::new(Some("n"), None, Some("3"), Some("true colours")).unwrap();
        assert_eq!(g.prompt_part(), "true colours.");
    }
}
