//! The OpenAI Images API, and the servers that copy it:
//! `POST {url}/v1/images/generations` with `model`, `prompt`, `size`, `n: 1`;
//! the image comes back as `data[0].b64_json` or at `data[0].url`. Errors are
//! `{"error": {"code", "message"}}`; a refusal is a 400 whose code is
//! `content_policy_violation` or `moderation_blocked`, and a 429 whose code is
//! `insufficient_quota` is a billing problem, not a busy server.
//!
//! A picture made from a product (a photo shoot, a packshot) goes to
//! `POST {url}/v1/images/edits` as `multipart/form-data`: the images as
//! repeated `image[]` parts (the product first, then the model and the
//! scenery), `prompt`, `model`, `size`, `n` and `input_fidelity=high` (keep
//! the product as photographed). DALL·E models take no more than one image
//! to edit: they are refused at start for those kinds.

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};

use super::remote::{FormPart, Refusal, Server, form};
use super::{GenerateError, Generator, Intake, Made, Reason, Request, Roles, Settings, intake};
use crate::error::BoxError;

const PUBLIC_URL: &str = "https://api.openai.com";
const DEFAULT_MODEL: &str = "gpt-image-1";
const LABEL: &str = "the OpenAI API";

pub struct OpenAi {
    server: Server,
    model: String,
    /// `{base}/v1/…`, or `{base}/…` when the base already ends in `/v1`.
    prefix: &'static str,
}

impl OpenAi {
    pub fn new(settings: &Settings) -> Result<OpenAi, BoxError> {
        let url = settings.url.as_deref().unwrap_or(PUBLIC_URL);
        let key = settings
            .api_key
            .clone()
            .or_else(|| std::env::var("OPENAI_API_KEY").ok().map(Into::into));
        let server = Server::new(LABEL, url, key.as_ref(), settings.timeout)?;
        if url == PUBLIC_URL && !server.has_credentials() {
            return Err(
                "--generator openai needs MANNEQUIN_GENERATOR_API_KEY or OPENAI_API_KEY".into(),
            );
        }
        let prefix = if server.base_path().trim_end_matches('/').ends_with("/v1") {
            ""
        } else {
            "v1/"
        };
        Ok(OpenAi {
            server,
            model: settings
                .model
                .clone()
                .unwrap_or_else(|| DEFAULT_MODEL.to_string()),
            prefix,
        })
    }

    fn failure(&self, refusal: &Refusal) -> GenerateError {
        let error: Option<Value> = serde_json::from_slice::<Value>(&refusal.body)
            .ok()
            .map(|v| v["error"].clone());
        let code = error
            .as_ref()
            .and_then(|e| e["code"].as_str())
            .unwrap_or_default();
        let message = error
            .as_ref()
            .and_then(|e| e["message"].as_str())
            .unwrap_or_default();
        match code {
            "content_policy_violation" | "moderation_blocked" => GenerateError::Fatal(
                Reason::refused_prompt(message, format!("{LABEL}: {code}: {message}")),
            ),
            // OpenAI's own codes, a fixed vocabulary: safe to show.
            "insufficient_quota"
            | "billing_hard_limit_reached"
            | "invalid_api_key"
            | "model_not_found" => GenerateError::Misconfigured(Reason::new(
                format!("{LABEL} refused the request: {code}"),
                format!("{code}: {message}"),
            )),
            _ => refusal.classify(LABEL, |v| {
                v["error"]["message"].as_str().map(str::to_string)
            }),
        }
    }
}

#[async_trait]
impl Generator for OpenAi {
    fn name(&self) -> String {
        format!("openai/{}", self.model)
    }

    /// Lists the models: bad credentials answer 401, a wrong URL does not answer.
    async fn check(&self) -> Result<(), GenerateError> {
        let url = self.server.url(&format!("{}models", self.prefix));
        let res = self
            .server
            .send(self.server.request(Method::GET, url))
            .await
            .map_err(|e| self.server.unreachable_at_start(e))?;
        if matches!(res.status().as_u16(), 401 | 403) {
            return Err(self.failure(&self.server.refused(res).await));
        }
        Ok(())
    }

    /// gpt-image models edit several images at once; DALL·E does not.
    fn intake(&self, _kind: mannequin_domain::AssetKind) -> Option<Intake> {
        (!self.model.starts_with("dall-e")).then_some(Intake {
            max_side: 1536,
            roles: Roles::ALL,
        })
    }

    async fn generate(&self, r: &Request<'_>) -> Result<Made, GenerateError> {
        if !r.inputs.is_empty() {
            return self.edit(r).await;
        }
        let mut body = json!({
            "model": self.model,
            "prompt": r.prompt,
            "size": format!("{}x{}", r.width, r.height),
            "n": 1,
        });
        // DALL·E answers with a URL unless asked; gpt-image models always
        // answer in base64 and refuse the parameter.
        if self.model.starts_with("dall-e") {
            body["response_format"] = json!("b64_json");
        }
        let url = self
            .server
            .url(&format!("{}images/generations", self.prefix));
        let res = self
            .server
            .send(self.server.request(Method::POST, url).json(&body))
            .await?;
        if !res.status().is_success() {
            return Err(self.failure(&self.server.refused(res).await));
        }
        self.image(res).await
    }
}

impl OpenAi {
    /// A picture made from the input images: `images/edits`.
    async fn edit(&self, r: &Request<'_>) -> Result<Made, GenerateError> {
        let size = format!("{}x{}", r.width, r.height);
        let mut parts: Vec<FormPart<'_>> = r
            .inputs
            .iter()
            .map(|i| FormPart::image("image[]", i))
            .collect();
        parts.extend([
            FormPart::field("prompt", r.prompt),
            FormPart::field("model", &self.model),
            FormPart::field("size", &size),
            FormPart::field("n", "1"),
            FormPart::field("input_fidelity", "high"),
        ]);
        let (content_type, body) = form(parts);
        let url = self.server.url(&format!("{}images/edits", self.prefix));
        let res = self
            .server
            .send(
                self.server
                    .request(Method::POST, url)
                    .header(reqwest::header::CONTENT_TYPE, content_type)
                    .body(body),
            )
            .await?;
        if !res.status().is_success() {
            return Err(self.failure(&self.server.refused(res).await));
        }
        self.image(res).await
    }

    /// The image of a successful answer: `data[0].b64_json` or `data[0].url`.
    async fn image(&self, res: reqwest::Response) -> Result<Made, GenerateError> {
        let answer = self.server.json(res).await?;
        let first = &answer["data"][0];
        let bytes = if let Some(b64) = first["b64_json"].as_str() {
            super::remote::decode_base64(b64, LABEL)?
        } else if let Some(url) = first["url"].as_str() {
            self.server.download(url).await?
        } else {
            return Err(GenerateError::Fatal(
                "the image model returned no image (it may have been filtered)".into(),
            ));
        };
        intake(bytes).await
    }
}
