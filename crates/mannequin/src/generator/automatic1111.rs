//! The Stable Diffusion web UI API (AUTOMATIC1111, and Forge and SD.Next,
//! which keep it): `POST {url}/sdapi/v1/txt2img`; the answer's `images[0]` is
//! a base64 image. The server must run with `--api`; one started with
//! `--api-auth user:password` takes those from the URL
//! (`http://user:password@host:7860`). `--generator-model` names a
//! checkpoint, sent as `override_settings.sd_model_checkpoint`.
//!
//! It makes no photo shoots or packshots: its `img2img` starts from one
//! picture and redraws it, so it can neither put the shop's product on a
//! model nor keep the product as photographed. It is refused for those
//! kinds at start, with that reason; choose another backend for them
//! (`--photo-shoot-generator`, `--packshot-generator`).

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};

use super::remote::{Server, decode_base64};
use super::{GenerateError, Generator, Made, Request, Settings, intake};
use crate::error::BoxError;

const DEFAULT_URL: &str = "http://127.0.0.1:7860";
const LABEL: &str = "the Stable Diffusion web UI";
/// Sampling settings that suit SD 1.5 and SDXL checkpoints alike.
const STEPS: u32 = 30;
const CFG_SCALE: f32 = 7.0;
const SAMPLER: &str = "DPM++ 2M";

pub struct Automatic1111 {
    server: Server,
    checkpoint: Option<String>,
}

/// The web UI's error bodies: `{"detail": "…"}`, `{"detail": [{"msg": …}]}`
/// (validation) or `{"error": "…", "errors": "…"}`.
fn explain(v: &Value) -> Option<String> {
    match &v["detail"] {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|i| i["msg"].as_str())
                .collect::<Vec<_>>()
                .join("; "),
        ),
        _ => v["errors"]
            .as_str()
            .or_else(|| v["error"].as_str())
            .map(str::to_string),
    }
}

impl Automatic1111 {
    pub fn new(settings: &Settings) -> Result<Automatic1111, BoxError> {
        Ok(Automatic1111 {
            server: Server::new(
                LABEL,
                settings.url.as_deref().unwrap_or(DEFAULT_URL),
                settings.api_key.as_ref(),
                settings.timeout,
            )?,
            checkpoint: settings.model.clone(),
        })
    }
}

#[async_trait]
impl Generator for Automatic1111 {
    fn cannot_make(&self, kind: mannequin_domain::AssetKind) -> Option<String> {
        (kind.declaration().made_from == mannequin_domain::MadeFrom::Product).then(|| {
            "its img2img redraws one picture, so it can neither put the product on a model nor keep the product as photographed".to_string()
        })
    }

    fn name(&self) -> String {
        match &self.checkpoint {
            Some(c) => format!("automatic1111/{c}"),
            None => "automatic1111".to_string(),
        }
    }

    /// Lists the checkpoints: a server without `--api` answers 404, and the
    /// configured checkpoint must be among them.
    async fn check(&self) -> Result<(), GenerateError> {
        let url = self.server.url("sdapi/v1/sd-models");
        let res = self
            .server
            .send(self.server.request(Method::GET, url))
            .await
            .map_err(|e| self.server.unreachable_at_start(e))?;
        let status = res.status();
        if !status.is_success() {
            return match self.server.refused(res).await.classify(LABEL, explain) {
                GenerateError::Misconfigured(mut r) if status.as_u16() == 404 => {
                    r.public = format!("{LABEL} has no API here: start it with --api");
                    Err(GenerateError::Misconfigured(r))
                }
                e @ GenerateError::Misconfigured(_) => Err(e),
                _ => Ok(()),
            };
        }
        let Some(wanted) = &self.checkpoint else {
            return Ok(());
        };
        let models = self.server.json(res).await?;
        let names: Vec<&str> = models
            .as_array()
            .map(|m| {
                m.iter()
                    .flat_map(|m| [m["title"].as_str(), m["model_name"].as_str()])
                    .flatten()
                    .collect()
            })
            .unwrap_or_default();
        if names
            .iter()
            .any(|n| n == wanted || n.starts_with(wanted.as_str()))
        {
            Ok(())
        } else {
            Err(GenerateError::Misconfigured(
                format!("{LABEL} has no checkpoint {wanted:?}").into(),
            ))
        }
    }

    async fn generate(&self, r: &Request<'_>) -> Result<Made, GenerateError> {
        let mut body = json!({
            "prompt": r.prompt,
            "negative_prompt": r.negative_prompt,
            "seed": r.seed,
            "width": r.width,
            "height": r.height,
            "steps": STEPS,
            "cfg_scale": CFG_SCALE,
            "sampler_name": SAMPLER,
            "batch_size": 1,
            "n_iter": 1,
            "send_images": true,
            "save_images": false,
        });
        if let Some(c) = &self.checkpoint {
            body["override_settings"] = json!({"sd_model_checkpoint": c});
        }
        let url = self.server.url("sdapi/v1/txt2img");
        let res = self
            .server
            .send(self.server.request(Method::POST, url).json(&body))
            .await?;
        if !res.status().is_success() {
            return Err(self.server.refused(res).await.classify(LABEL, explain));
        }
        let answer = self.server.json(res).await?;
        let Some(b64) = answer["images"][0].as_str() else {
            return Err(GenerateError::Fatal(
                format!("{LABEL} answered without an image").into(),
            ));
        };
        intake(decode_base64(b64, LABEL)?).await
    }
}
