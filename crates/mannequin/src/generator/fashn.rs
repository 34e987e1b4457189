//! FASHN's API (`https://api.fashn.ai`): every model runs through
//! `POST {url}/v1/run` with `{"model_name", "inputs"}`, answering
//! `{"id", "error": null}`; the prediction is followed on
//! `GET {url}/v1/status/{id}` until its `status` is `completed` (its
//! `output[0]`, asked for as a base64 data URL) or `failed` (an
//! `error: {"name", "message"}`).
//!
//! - Models: `model-create` with the prompt.
//! - Photo shoots: with a chosen model, try-on (`tryon-v1.6`, or
//!   `--generator-model`) with `model_image` (the model's picture) and
//!   `garment_image` (the product's photo); without one, `product-to-model`
//!   with `product_image`, the prompt, and the scenery's picture as
//!   `image_prompt` (it guides the place and the light).
//! - Sceneries and packshots: FASHN makes people wearing things, not empty
//!   sets or products alone: refused at start for those kinds.
//!
//! Failures: API errors (`{"error": "UnauthorizedAccess", "message"}`) are
//! classified by status as every backend's, except `OutOfCredits` (a 429
//! that waiting does not cure: the operator must buy credits). A failed
//! prediction's `NSFWError` or content moderation is the image model's
//! refusal; `ImageLoadError`, `PhotoTypeError`, `PoseError` and input
//! validation mean the pictures cannot be used (the picture fails and is
//! refunded); anything else (`PipelineError`, …) is retried.

use std::time::Duration;

use async_trait::async_trait;
use mannequin_domain::{AssetKind, MadeFrom};
use reqwest::Method;
use serde_json::{Value, json};

use super::remote::{Poll, Refusal, Server, truncate};
use super::{
    GenerateError, Generator, Intake, Made, Reason, Request, Role, Roles, Settings, intake, scrub,
};
use crate::error::BoxError;

const PUBLIC_URL: &str = "https://api.fashn.ai";
const TRYON: &str = "tryon-v1.6";
const LABEL: &str = "FASHN";

pub struct Fashn {
    server: Server,
    /// The try-on model's name.
    tryon: String,
}

/// FASHN's API error bodies: `{"error": "RateLimitExceeded", "message": "…"}`.
fn explain(v: &Value) -> Option<String> {
    let name = v["error"].as_str()?;
    Some(match v["message"].as_str() {
        Some(m) => format!("{name}: {m}"),
        None => name.to_string(),
    })
}

impl Fashn {
    pub fn new(settings: &Settings) -> Result<Fashn, BoxError> {
        let url = settings.url.as_deref().unwrap_or(PUBLIC_URL);
        let key = settings.api_key.clone().or_else(|| {
            ["FASHN_API_KEY", "MANNEQUIN_GENERATOR_API_KEY"]
                .into_iter()
                .find_map(|v| std::env::var(v).ok().filter(|k| !k.is_empty()))
                .map(Into::into)
        });
        let server = Server::new(LABEL, url, key.as_ref(), settings.timeout)?;
        if url == PUBLIC_URL && !server.has_credentials() {
            return Err(
                "--generator fashn needs FASHN_API_KEY or MANNEQUIN_GENERATOR_API_KEY".into(),
            );
        }
        Ok(Fashn {
            server,
            tryon: settings.model.clone().unwrap_or_else(|| TRYON.to_string()),
        })
    }

    fn failure(&self, refusal: &Refusal) -> GenerateError {
        let body: Option<Value> = serde_json::from_slice(&refusal.body).ok();
        let name = body
            .as_ref()
            .and_then(|b| b["error"].as_str())
            .unwrap_or_default();
        if name == "OutOfCredits" {
            return GenerateError::misconfigured(
                "FASHN refused the request: OutOfCredits",
                format!(
                    "{LABEL}: {}",
                    truncate(&String::from_utf8_lossy(&refusal.body), 300)
                ),
            );
        }
        refusal.classify(LABEL, explain)
    }

    /// What a failed prediction means.
    fn failed(error: &Value) -> GenerateError {
        let name = error["name"].as_str().unwrap_or_default();
        let message = error["message"].as_str().unwrap_or_default();
        let detail = format!("{LABEL}: {name}: {}", truncate(message, 500));
        match name {
            "NSFWError" | "ContentModerationError" | "ModerationError" => {
                GenerateError::Fatal(Reason::refused_prompt(message, detail))
            }
            "ImageLoadError" | "PhotoTypeError" | "PoseError" | "InputValidationError" => {
                let words = scrub(message, 200);
                GenerateError::Fatal(Reason::new(
                    if words.is_empty() {
                        "FASHN could not use the pictures".to_string()
                    } else {
                        format!("FASHN could not use the pictures: {words}")
                    },
                    detail,
                ))
            }
            _ => GenerateError::Retryable(Reason::new(
                "the prediction failed on the image server",
                detail,
            )),
        }
    }

    /// Follows prediction `id` until it has finished.
    async fn finished(&self, id: &str) -> Result<Value, GenerateError> {
        let mut poll = Poll::new(Duration::from_millis(250), Duration::from_secs(3));
        loop {
            poll.wait().await;
            let url = self.server.url(&format!("v1/status/{id}"));
            match self
                .server
                .send(self.server.request(Method::GET, url))
                .await
            {
                Ok(res) if res.status().is_success() => {
                    let status = self.server.json(res).await?;
                    if let Some("completed" | "failed" | "canceled") = status["status"].as_str() {
                        return Ok(status);
                    }
                }
                Ok(res) if res.status().as_u16() == 429 => {
                    if let Some(after) = super::remote::retry_after(res.headers()) {
                        tokio::time::sleep(after).await;
                    }
                }
                Ok(res) if res.status().is_server_error() => {}
                Ok(res) => return Err(self.failure(&self.server.refused(res).await)),
                // A dropped connection while following: look again.
                Err(_) => {}
            }
        }
    }
}

#[async_trait]
impl Generator for Fashn {
    fn name(&self) -> String {
        "fashn".to_string()
    }

    fn name_for(&self, kind: AssetKind) -> String {
        match kind {
            AssetKind::PhotoShoot => format!("fashn/{}", self.tryon),
            _ => "fashn/model-create".to_string(),
        }
    }

    fn intake(&self, kind: AssetKind) -> Option<Intake> {
        (kind == AssetKind::PhotoShoot).then_some(Intake {
            max_side: 1536,
            roles: Roles::ALL,
        })
    }

    fn cannot_make(&self, kind: AssetKind) -> Option<String> {
        match kind {
            AssetKind::Scenery => Some("it makes people, not empty sets".to_string()),
            AssetKind::Packshot => {
                Some("it makes people wearing products, not products alone".to_string())
            }
            k if k.declaration().made_from == MadeFrom::Product && self.intake(k).is_none() => {
                Some("it takes no input images".to_string())
            }
            _ => None,
        }
    }

    async fn generate(&self, r: &Request<'_>) -> Result<Made, GenerateError> {
        let image = |role: Role| r.inputs.iter().find(|i| i.role == role);
        let body = match (r.idea.kind(), image(Role::Product)) {
            (AssetKind::PhotoShoot, Some(product)) => match image(Role::Model) {
                Some(model) => json!({
                    "model_name": self.tryon,
                    "inputs": {
                        "model_image": model.data_url(),
                        "garment_image": product.data_url(),
                        "category": "auto",
                        "seed": r.seed,
                        "return_base64": true,
                    }
                }),
                None => {
                    let mut inputs = json!({
                        "product_image": product.data_url(),
                        "prompt": r.prompt,
                        "output_format": "png",
                        "return_base64": true,
                    });
                    if let Some(scenery) = image(Role::Scenery) {
                        inputs["image_prompt"] = json!(scenery.data_url());
                    }
                    json!({"model_name": "product-to-model", "inputs": inputs})
                }
            },
            (AssetKind::PhotoShoot, None) => {
                return Err(GenerateError::Fatal(
                    "the product's photo was not given".into(),
                ));
            }
            (AssetKind::Model, _) => {
                json!({"model_name": "model-create", "inputs": {"prompt": r.prompt}})
            }
            (kind, _) => {
                return Err(GenerateError::Misconfigured(
                    format!("{LABEL} cannot make a {kind}").into(),
                ));
            }
        };
        let res = self
            .server
            .send(
                self.server
                    .request(Method::POST, self.server.url("v1/run"))
                    .json(&body),
            )
            .await?;
        if !res.status().is_success() {
            return Err(self.failure(&self.server.refused(res).await));
        }
        let run = self.server.json(res).await?;
        if !run["error"].is_null() {
            return Err(Self::failed(&run["error"]));
        }
        let Some(id) = run["id"].as_str() else {
            return Err(GenerateError::Retryable(
                format!("{LABEL} accepted the run without an id").into(),
            ));
        };
        let status = self.finished(id).await?;
        match status["status"].as_str() {
            Some("completed") => {}
            Some("failed") => return Err(Self::failed(&status["error"])),
            _ => {
                return Err(GenerateError::Retryable(
                    format!("the prediction was canceled on {LABEL}").into(),
                ));
            }
        }
        let output = &status["output"];
        let Some(first) = output[0].as_str().or_else(|| output.as_str()) else {
            return Err(GenerateError::Fatal(
                format!("{LABEL} finished the prediction without an image").into(),
            ));
        };
        intake(self.server.download(first).await?).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_prediction_says_what_the_customer_can_know() {
        let nsfw = Fashn::failed(
            &json!({"name": "NSFWError", "message": "NSFW content detected in garment image"}),
        );
        assert!(
            matches!(&nsfw, GenerateError::Fatal(r) if r.public.contains("refused")),
            "{nsfw:?}"
        );
        let pose = Fashn::failed(
            &json!({"name": "PoseError", "message": "no person found at http://10.0.0.3/x"}),
        );
        match pose {
            GenerateError::Fatal(r) => {
                assert!(
                    r.public.starts_with("FASHN could not use the pictures"),
                    "{r:?}"
                );
                assert!(!r.public.contains("10.0.0.3"), "{r:?}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Fashn::failed(&json!({"name": "PipelineError", "message": "oops"})),
            GenerateError::Retryable(_)
        ));
    }
}
