//! Replicate's predictions API. `--generator-model owner/name` runs an
//! official model (`POST {url}/v1/models/{owner}/{name}/predictions`);
//! `owner/name:version` or a bare version id runs that version
//! (`POST {url}/v1/predictions` with `version`). The request asks to wait
//! (`Prefer: wait`); a prediction still running after that is followed on
//! its `urls.get` until it `succeeded`, `failed` or was `canceled`, and its
//! first output (a URL or a data URL) is downloaded.
//!
//! The input carries `prompt`, `negative_prompt`, `seed`, `width`, `height`
//! and the nearest standard `aspect_ratio`; models ignore the inputs they do
//! not have.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};

use super::remote::{Poll, Server, retry_after, truncate};
use super::{
    GenerateError, Generator, Intake, Made, Reason, Request, Role, Roles, Settings, intake,
};
use crate::error::BoxError;

const PUBLIC_URL: &str = "https://api.replicate.com";
const DEFAULT_MODEL: &str = "black-forest-labs/flux-schnell";
const LABEL: &str = "Replicate";

/// Ratios image models on Replicate commonly accept.
const RATIOS: [(u32, u32); 11] = [
    (1, 1),
    (16, 9),
    (21, 9),
    (3, 2),
    (2, 3),
    (4, 5),
    (5, 4),
    (3, 4),
    (4, 3),
    (9, 16),
    (9, 21),
];

/// Where a Replicate model takes each input image: `product=input_image`
/// (one image under that input), `product=image_input[],model=image_input[]`
/// (a list under that input, in the roles' order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageInputs(Vec<(Role, String, bool)>);

impl ImageInputs {
    pub fn parse(s: &str) -> Result<ImageInputs, String> {
        let mut out = Vec::new();
        for pair in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (role, input) = pair
                .split_once('=')
                .ok_or_else(|| format!("'{pair}' is not role=input (product=input_image)"))?;
            let role = Role::ALL
                .into_iter()
                .find(|r| r.as_str() == role.trim())
                .ok_or_else(|| format!("'{role}' is not a role: product, model or scenery"))?;
            let input = input.trim();
            let (name, list) = match input.strip_suffix("[]") {
                Some(name) => (name, true),
                None => (input, false),
            };
            let ok = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !ok {
                return Err(format!("'{input}' is not an input name"));
            }
            if out.iter().any(|(r, _, _)| *r == role) {
                return Err(format!("{} is given twice", role.as_str()));
            }
            out.push((role, name.to_string(), list));
        }
        if out.is_empty() {
            return Err("name at least one input: product=input_image".into());
        }
        Ok(ImageInputs(out))
    }

    fn roles(&self) -> Roles {
        self.0
            .iter()
            .fold(Roles::default(), |r, (role, ..)| r.with(*role))
    }
}

/// Which model or version runs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Model { owner: String, name: String },
    Version(String),
}

fn target(model: &str) -> Result<Target, String> {
    let bad = || {
        format!(
            "--generator-model {model:?}: expected owner/name, owner/name:version or a version id"
        )
    };
    match model.split_once(':') {
        Some((_, version)) if !version.is_empty() => Ok(Target::Version(version.to_string())),
        Some(_) => Err(bad()),
        None => match model.split_once('/') {
            Some((owner, name)) if !owner.is_empty() && !name.is_empty() && !name.contains('/') => {
                Ok(Target::Model {
                    owner: owner.to_string(),
                    name: name.to_string(),
                })
            }
            None if model.len() >= 32 && model.chars().all(|c| c.is_ascii_hexdigit()) => {
                Ok(Target::Version(model.to_string()))
            }
            _ => Err(bad()),
        },
    }
}

/// The standard ratio nearest to `width`:`height`, as `"2:3"`.
fn aspect_ratio(width: u32, height: u32) -> String {
    let want = width as f64 / height as f64;
    let (w, h) = RATIOS
        .iter()
        .min_by(|a, b| {
            let d = |r: &&(u32, u32)| (r.0 as f64 / r.1 as f64 / want).ln().abs();
            d(a).total_cmp(&d(b))
        })
        .copied()
        .unwrap_or((2, 3));
    format!("{w}:{h}")
}

/// Replicate's error bodies: `{"detail": "…", "title": "…", "status": n}`.
fn explain(v: &Value) -> Option<String> {
    v["detail"]
        .as_str()
        .or_else(|| v["title"].as_str())
        .map(|s| s.trim().to_string())
}

pub struct Replicate {
    server: Server,
    model: String,
    target: Target,
    inputs: ImageInputs,
}

impl Replicate {
    pub fn new(settings: &Settings) -> Result<Replicate, BoxError> {
        let url = settings.url.as_deref().unwrap_or(PUBLIC_URL);
        let key = settings
            .api_key
            .clone()
            .or_else(|| std::env::var("REPLICATE_API_TOKEN").ok().map(Into::into));
        let server = Server::new(LABEL, url, key.as_ref(), settings.timeout)?;
        if url == PUBLIC_URL && !server.has_credentials() {
            return Err(
                "--generator replicate needs MANNEQUIN_GENERATOR_API_KEY or REPLICATE_API_TOKEN"
                    .into(),
            );
        }
        let model = settings
            .model
            .clone()
            .unwrap_or_else(|| DEFAULT_MODEL.to_string());
        Ok(Replicate {
            server,
            target: target(&model)?,
            model,
            inputs: settings.replicate_inputs.clone(),
        })
    }

    async fn failure(&self, res: reqwest::Response) -> GenerateError {
        self.server.refused(res).await.classify(LABEL, explain)
    }

    /// Follows a prediction on its `urls.get` until it has finished.
    async fn follow(&self, mut prediction: Value) -> Result<Value, GenerateError> {
        let mut poll = Poll::new(Duration::from_millis(500), Duration::from_secs(3));
        loop {
            if let Some("succeeded" | "failed" | "canceled") = prediction["status"].as_str() {
                return Ok(prediction);
            }
            let Some(get) = prediction["urls"]["get"].as_str() else {
                return Err(GenerateError::Retryable(
                    format!("{LABEL} sent a running prediction without urls.get").into(),
                ));
            };
            let url = reqwest::Url::parse(get)
                .map_err(|e| GenerateError::retryable(format!("{LABEL} sent a bad urls.get"), e))?;
            poll.wait().await;
            match self
                .server
                .send(self.server.request(Method::GET, url))
                .await
            {
                Ok(res) if res.status().is_success() => {
                    prediction = self.server.json(res).await?;
                }
                Ok(res) if res.status().as_u16() == 429 => {
                    if let Some(after) = retry_after(res.headers()) {
                        tokio::time::sleep(after).await;
                    }
                }
                Ok(res) if res.status().is_server_error() => {}
                Ok(res) => return Err(self.failure(res).await),
                // A dropped connection while following: look again.
                Err(_) => {}
            }
        }
    }
}

#[async_trait]
impl Generator for Replicate {
    fn name(&self) -> String {
        format!("replicate/{}", self.model)
    }

    /// Reads the model (or version): bad credentials answer 401, an unknown
    /// model 404.
    async fn check(&self) -> Result<(), GenerateError> {
        let path = match &self.target {
            Target::Model { owner, name } => format!("v1/models/{owner}/{name}"),
            // A version alone cannot be read without its model: check the token.
            Target::Version(_) => "v1/account".to_string(),
        };
        let res = self
            .server
            .send(self.server.request(Method::GET, self.server.url(&path)))
            .await
            .map_err(|e| self.server.unreachable_at_start(e))?;
        if res.status().is_success() {
            return Ok(());
        }
        match self.failure(res).await {
            e @ GenerateError::Misconfigured(_) => Err(e),
            _ => Ok(()),
        }
    }

    /// The images `--replicate-image-inputs` places, as data URLs.
    fn intake(&self, _kind: mannequin_domain::AssetKind) -> Option<Intake> {
        let roles = self.inputs.roles();
        (roles.contains(Role::Product)).then_some(Intake {
            max_side: 1536,
            roles,
        })
    }

    async fn generate(&self, r: &Request<'_>) -> Result<Made, GenerateError> {
        let mut input = json!({
            "prompt": r.prompt,
            "negative_prompt": r.negative_prompt,
            "seed": r.seed,
            "width": r.width,
            "height": r.height,
            "aspect_ratio": aspect_ratio(r.width, r.height),
            "num_outputs": 1,
        });
        for (role, name, list) in &self.inputs.0 {
            let Some(image) = r.inputs.iter().find(|i| i.role == *role) else {
                continue;
            };
            if *list {
                match input[name.as_str()].as_array_mut() {
                    Some(items) => items.push(json!(image.data_url())),
                    None => input[name.as_str()] = json!([image.data_url()]),
                }
            } else {
                input[name.as_str()] = json!(image.data_url());
            }
        }
        let (path, body) = match &self.target {
            Target::Model { owner, name } => (
                format!("v1/models/{owner}/{name}/predictions"),
                json!({"input": input}),
            ),
            Target::Version(v) => (
                "v1/predictions".to_string(),
                json!({"version": v, "input": input}),
            ),
        };
        let rb = self
            .server
            .request(Method::POST, self.server.url(&path))
            .header("Prefer", "wait")
            .json(&body);
        let res = self.server.send(rb).await?;
        if !res.status().is_success() {
            return Err(self.failure(res).await);
        }
        let prediction = self.follow(self.server.json(res).await?).await?;
        let error = prediction["error"].as_str().unwrap_or_default().trim();
        match prediction["status"].as_str() {
            Some("succeeded") => {}
            Some("failed") if error.to_lowercase().contains("nsfw") => {
                return Err(GenerateError::Fatal(Reason::refused_prompt(
                    error,
                    format!("{LABEL}: NSFW: {}", truncate(error, 500)),
                )));
            }
            Some("failed") => {
                return Err(GenerateError::Retryable(Reason::new(
                    "the prediction failed on the image server",
                    truncate(error, 500),
                )));
            }
            _ => {
                return Err(GenerateError::Retryable(
                    "the prediction was canceled on Replicate".into(),
                ));
            }
        }
        let output = &prediction["output"];
        let url = output
            .as_str()
            .or_else(|| output[0].as_str())
            .ok_or_else(|| {
                GenerateError::Fatal(
                    format!("{LABEL} finished the prediction without an image").into(),
                )
            })?;
        intake(self.server.download(url).await?).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_and_versions() {
        assert_eq!(
            target("black-forest-labs/flux-schnell"),
            Ok(Target::Model {
                owner: "black-forest-labs".into(),
                name: "flux-schnell".into()
            })
        );
        assert_eq!(
            target("stability-ai/sdxl:7762fd07"),
            Ok(Target::Version("7762fd07".into()))
        );
        let id = "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc";
        assert_eq!(target(id), Ok(Target::Version(id.into())));
        assert!(target("flux").is_err());
        assert!(target("a/b/c").is_err());
        assert!(target("a/b:").is_err());
    }

    #[test]
    fn image_inputs_name_each_roles_input() {
        let i = ImageInputs::parse("product=image_input[], model=image_input[]").unwrap();
        assert!(i.roles().contains(Role::Product) && i.roles().contains(Role::Model));
        assert!(!i.roles().contains(Role::Scenery));
        assert_eq!(i.0[0], (Role::Product, "image_input".into(), true));
        for bad in [
            "",
            "product",
            "shoe=input_image",
            "product=a b",
            "product=x,product=y",
        ] {
            assert!(ImageInputs::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_nearest_standard_aspect_ratio() {
        assert_eq!(aspect_ratio(832, 1216), "2:3");
        assert_eq!(aspect_ratio(1024, 1024), "1:1");
        assert_eq!(aspect_ratio(1080, 1920), "9:16");
    }
}
