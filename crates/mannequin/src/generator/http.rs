//! mannequin's own small protocol, for a model server written to it. For
//! each model it sends
//!
//! ```json
//! POST <url>
//! {"prompt": "Full-body studio fashion photograph … <the customer's words> …",
//!  "negative_prompt": "…", "seed": 1234, "name": "Female Model - Sportswear",
//!  "idea": {"gender": "female", …}, "width": 640, "height": 960}
//! ```
//!
//! A photo shoot picture or a packshot adds the images it is made from,
//! product first: `"inputs": [{"role": "product", "image":
//! "data:image/png;base64,…"}, {"role": "model", …}, {"role": "scenery", …}]`.
//!
//! It expects `200` with a PNG, JPEG or WebP body. Failures are classified
//! like every backend's (see `remote::classify`).

use async_trait::async_trait;
use reqwest::Method;
use serde_json::json;

use super::remote::Server;
use super::{GenerateError, Generator, Intake, Made, Request, Roles, Settings, intake};
use crate::error::BoxError;

const LABEL: &str = "the image model";

pub struct Http {
    server: Server,
    url: reqwest::Url,
}

impl Http {
    pub fn new(settings: &Settings) -> Result<Http, BoxError> {
        let url = settings
            .url
            .as_deref()
            .ok_or("--generator http needs --generator-url")?;
        let server = Server::new(LABEL, url, settings.api_key.as_ref(), settings.timeout)?;
        Ok(Http {
            url: server.url(""),
            server,
        })
    }
}

#[async_trait]
impl Generator for Http {
    fn name(&self) -> String {
        "http".to_string()
    }

    fn intake(&self, _kind: mannequin_domain::AssetKind) -> Option<Intake> {
        Some(Intake {
            max_side: 1536,
            roles: Roles::ALL,
        })
    }

    async fn generate(&self, r: &Request<'_>) -> Result<Made, GenerateError> {
        let mut body = json!({
            "prompt": r.prompt,
            "negative_prompt": r.negative_prompt,
            "seed": r.seed,
            "name": r.name,
            "kind": r.idea.kind(),
            "idea": r.idea,
            "width": r.width,
            "height": r.height,
        });
        if !r.inputs.is_empty() {
            body["inputs"] = r
                .inputs
                .iter()
                .map(|i| json!({"role": i.role.as_str(), "image": i.data_url()}))
                .collect();
        }
        // The configured URL exactly as given (no trailing slash added).
        let mut url = self.url.clone();
        let path = url.path().trim_end_matches('/').to_string();
        url.set_path(if path.is_empty() { "/" } else { &path });
        let res = self
            .server
            .send(self.server.request(Method::POST, url).json(&body))
            .await?;
        if !res.status().is_success() {
            return Err(self.server.refused(res).await.classify(LABEL, |_| None));
        }
        let bytes = self
            .server
            .body(res, mannequin_render::MAX_INPUT_BYTES)
            .await?;
        intake(bytes).await
    }
}
