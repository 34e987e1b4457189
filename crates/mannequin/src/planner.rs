//! What a batch varies, planned once per register-ideas call: by the
//! built-in reading, or by a language model behind an OpenAI-compatible chat
//! completions API (`--planner openai`) asked for the batch's distinct ideas
//! as structured attributes under a JSON schema.
//!
//! A language model's answer is checked idea by idea against the rules the
//! built-in keeps ([`Attributes::check`]: nothing contradicts the text,
//! minors are safe, modest requests are covered); an answer that breaks one,
//! is malformed, fails or takes longer than the timeout is dropped and the
//! built-in plan used instead. Names always come from the checked ideas.

use std::time::Duration;

use mannequin_domain::ideas::scenery::{self, SceneryReading};
use mannequin_domain::ideas::shoot;
use mannequin_domain::ideas::{
    Age, Build, Colour, Expression, Eyewear, FacialHair, Garment, Gender, HairColor, HairLength,
    HairStyle, Headwear, Makeup, Pose, SkinTone, Style,
};
use mannequin_domain::{AssetIdea, AssetKind, Brief, Idea, Wish};
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::{info, warn};

use crate::error::BoxError;

/// Which planner makes a batch's ideas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlannerKind {
    /// The built-in reading: offline, deterministic.
    Builtin,
    /// A language model behind an OpenAI-compatible chat completions API.
    Openai,
}

/// The settings of `--planner openai`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub kind: PlannerKind,
    /// The API's base URL (`https://api.openai.com`); `/v1/chat/completions`
    /// is appended.
    pub url: String,
    pub model: String,
    pub api_key: Option<crate::SecretString>,
    pub timeout: Duration,
}

/// A batch's ideas and names, and who planned them.
#[derive(Debug, Clone)]
pub struct Planned {
    pub ideas: Vec<AssetIdea>,
    pub names: Vec<String>,
    /// `builtin`, or the model's name when its answer was used.
    pub by: String,
}

/// The planner a process uses.
#[derive(Clone)]
pub struct Planner {
    remote: Option<Remote>,
}

#[derive(Clone)]
struct Remote {
    http: reqwest::Client,
    url: String,
    model: String,
    api_key: Option<crate::SecretString>,
}

/// One idea as the language model writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Draft {
    gender: Gender,
    age: Age,
    build: Build,
    skin_tone: SkinTone,
    hair_color: HairColor,
    hair_length: HairLength,
    hair_style: HairStyle,
    makeup: Makeup,
    expression: Expression,
    pose: Pose,
    style: Style,
    facial_hair: FacialHair,
    eyewear: Eyewear,
    headwear: Headwear,
    garment: Option<Garment>,
    second_garment: Option<Garment>,
    colour: Option<Colour>,
    covered: bool,
}

#[derive(Debug, Deserialize)]
struct Answer {
    ideas: Vec<Draft>,
}

/// What the model is told: the rules the answer is checked against.
const INSTRUCTIONS: &str = "You plan a batch of distinct fashion models (mannequins) for product photography from a shop's request. \
Write exactly `count` ideas as structured attributes. Rules, in order: \
1. Never contradict the request: every attribute the request states (gender, age, build, skin, hair, makeup, clothes, garments, colours, accessories, head coverings) is kept exactly; vary only what it leaves open. \
2. Any sign of a minor (a child or teen word, an age under 18, school, junior) makes every idea a minor (baby, toddler, child or teen) with makeup none, no facial hair, and never swimwear, lingerie or crop tops. \
3. Hijab, headscarf, niqab, abaya, modest or covered make every idea covered (covered: true) and a woman where the garment implies it, never in swimwear, lingerie or crop tops, with no glam or bold makeup. \
4. Never choose swimwear or lingerie styles unless the request asks for them. Facial hair, eyewear and headwear are none unless the request asks. \
5. Garments and colours are only those the request names (null when it names none). \
6. Make the ideas differ from each other as much as the request allows.";

/// The JSON schema of the answer: every attribute an enum of the domain's
/// own values, so a parsed answer is a set of ideas.
fn schema() -> Value {
    fn values<T: serde::Serialize>(all: &[T]) -> Value {
        Value::Array(all.iter().map(|v| json!(v)).collect())
    }
    fn nullable<T: serde::Serialize>(all: &[T]) -> Value {
        let mut v: Vec<Value> = all.iter().map(|v| json!(v)).collect();
        v.push(Value::Null);
        json!({"type": ["string", "null"], "enum": v})
    }
    let e = |all: Value| json!({"type": "string", "enum": all});
    let properties = json!({
        "gender": e(values(Gender::ALL)),
        "age": e(values(Age::ALL)),
        "build": e(values(Build::ALL)),
        "skin_tone": e(values(SkinTone::ALL)),
        "hair_color": e(values(HairColor::ALL)),
        "hair_length": e(values(HairLength::ALL)),
        "hair_style": e(values(HairStyle::ALL)),
        "makeup": e(values(Makeup::ALL)),
        "expression": e(values(Expression::ALL)),
        "pose": e(values(Pose::ALL)),
        "style": e(values(Style::ALL)),
        "facial_hair": e(values(FacialHair::ALL)),
        "eyewear": e(values(Eyewear::ALL)),
        "headwear": e(values(Headwear::ALL)),
        "garment": nullable(Garment::ALL),
        "second_garment": nullable(Garment::ALL),
        "colour": nullable(Colour::ALL),
        "covered": {"type": "boolean"},
    });
    let required: Vec<&String> = properties
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["ideas"],
        "properties": {
            "ideas": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": required,
                    "properties": properties,
                }
            }
        }
    })
}

impl Planner {
    /// The planner `settings` name.
    ///
    /// # Errors
    ///
    /// The HTTP client cannot be built, or the URL is not one.
    pub fn new(settings: &Settings) -> Result<Planner, BoxError> {
        let remote = match settings.kind {
            PlannerKind::Builtin => None,
            PlannerKind::Openai => {
                let url = settings.url.trim_end_matches('/').to_string();
                reqwest::Url::parse(&url)
                    .map_err(|e| format!("--planner-url {url:?} is not a URL: {e}"))?;
                Some(Remote {
                    http: crate::http_client().timeout(settings.timeout).build()?,
                    url,
                    model: settings.model.clone(),
                    api_key: settings.api_key.clone(),
                })
            }
        };
        Ok(Planner { remote })
    }

    /// The built-in planner.
    pub fn builtin() -> Planner {
        Planner { remote: None }
    }

    /// `count` ideas for `brief` and their names; `seed` is the batch's.
    /// Never fails: a language model that does not answer well is replaced
    /// by the built-in reading.
    /// The ideas and names of a batch of `count` assets of `kind`. Sceneries
    /// are always planned by the built-in reading.
    pub async fn plan(&self, kind: AssetKind, wish: &Wish, count: u32, seed: u64) -> Planned {
        let brief = match wish {
            Wish::Words(brief) => brief,
            Wish::Pictures(config) => {
                let ideas = shoot::plan(kind, config, count, seed);
                return Planned {
                    names: shoot::names(kind, &ideas),
                    ideas: ideas
                        .into_iter()
                        .map(|idea| match kind {
                            AssetKind::Packshot => AssetIdea::Packshot(idea),
                            _ => AssetIdea::PhotoShoot(idea),
                        })
                        .collect(),
                    by: "builtin".to_string(),
                };
            }
        };
        match kind {
            AssetKind::Scenery => {
                let ideas = scenery::plan(&SceneryReading::read(brief.text()), count, seed);
                Planned {
                    names: scenery::names(&ideas),
                    ideas: ideas.into_iter().map(AssetIdea::Scenery).collect(),
                    by: "builtin".to_string(),
                }
            }
            _ => self.plan_models(brief, count, seed).await,
        }
    }

    async fn plan_models(&self, brief: &Brief, count: u32, seed: u64) -> Planned {
        let reading = brief.reading();
        let builtin = reading.ideas(count, seed);
        if let Some(remote) = &self.remote {
            match remote.ask(brief, count, &builtin).await {
                Ok(ideas) => {
                    info!(model = %remote.model, count, "ideas planned by the language model");
                    return Planned {
                        names: reading.names(&ideas),
                        ideas: ideas.into_iter().map(AssetIdea::Model).collect(),
                        by: remote.model.clone(),
                    };
                }
                Err(why) => {
                    warn!(model = %remote.model, reason = %why, "the planner's answer was not used: the built-in reading plans this batch");
                }
            }
        }
        Planned {
            names: reading.names(&builtin),
            ideas: builtin.into_iter().map(AssetIdea::Model).collect(),
            by: "builtin".to_string(),
        }
    }
}

impl Remote {
    /// The model's ideas, checked; palettes and seeds are the built-in's.
    async fn ask(&self, brief: &Brief, count: u32, builtin: &[Idea]) -> Result<Vec<Idea>, String> {
        let body = json!({
            "model": self.model,
            "messages": [
                {"role": "system", "content": INSTRUCTIONS},
                {"role": "user", "content": format!("count: {count}\nrequest: {}", brief.text())},
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "batch_plan", "strict": true, "schema": schema()},
            },
        });
        let mut req = self
            .http
            .post(format!("{}/v1/chat/completions", self.url))
            .json(&body);
        if let Some(key) = &self.api_key {
            req = req.bearer_auth(crate::ExposeSecret::expose_secret(key));
        }
        let res = req.send().await.map_err(|e| format!("no answer: {e}"))?;
        let status = res.status();
        if !status.is_success() {
            return Err(format!("the chat server answered {status}"));
        }
        let answer: Value = res
            .json()
            .await
            .map_err(|e| format!("the answer is not JSON: {e}"))?;
        let content = answer["choices"][0]["message"]["content"]
            .as_str()
            .ok_or("the answer has no message content")?;
        let drafts: Answer = serde_json::from_str(content)
            .map_err(|e| format!("the ideas do not follow the schema: {e}"))?;
        if drafts.ideas.len() != count as usize {
            return Err(format!(
                "{} ideas for a batch of {count}",
                drafts.ideas.len()
            ));
        }
        let reading = brief.reading();
        let mut ideas: Vec<Idea> = Vec::with_capacity(builtin.len());
        for (d, base) in drafts.ideas.into_iter().zip(builtin) {
            let idea = Idea {
                gender: d.gender,
                age: d.age,
                build: d.build,
                skin_tone: d.skin_tone,
                hair_color: d.hair_color,
                hair_length: d.hair_length,
                hair_style: d.hair_style,
                makeup: d.makeup,
                expression: d.expression,
                pose: d.pose,
                style: d.style,
                palette: base.palette,
                facial_hair: d.facial_hair,
                eyewear: d.eyewear,
                headwear: d.headwear,
                seed: base.seed,
                garment: d.garment,
                second_garment: d.second_garment,
                colour: d.colour,
                covered: d.covered,
            };
            reading
                .check(&idea)
                .map_err(|b| format!("an idea breaks a rule: {b}"))?;
            let same = |x: &Idea| Idea {
                palette: 0,
                seed: 0,
                ..*x
            };
            if ideas.iter().any(|i| same(i) == same(&idea)) {
                return Err("two ideas are the same".to_string());
            }
            ideas.push(idea);
        }
        Ok(ideas)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_planners_key_never_shows_in_its_settings() {
        let s = Settings {
            kind: PlannerKind::Openai,
            url: "https://api.openai.com".into(),
            model: "gpt-4o-mini".into(),
            api_key: Some("sk-live-do-not-print".into()),
            timeout: Duration::from_secs(10),
        };
        let shown = format!("{s:?}");
        assert!(!shown.contains("sk-live"), "{shown}");
        assert!(shown.contains("REDACTED"), "{shown}");
    }
}
