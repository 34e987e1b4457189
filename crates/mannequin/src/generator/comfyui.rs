//! A ComfyUI server running the operator's workflow, exported in API format
//! ("Save (API Format)"), with placeholders mannequin fills: `{{prompt}}` and
//! `{{negative_prompt}}` inside strings, and `{{seed}}`, `{{width}}`,
//! `{{height}}` as numbers (quoted or not). The workflow is queued with
//! `POST {url}/prompt`, followed on `GET {url}/history/{prompt_id}` until it
//! is done, and its first saved image is fetched from `GET {url}/view`.
//!
//! Photo shoots and packshots: the images they are made from are uploaded
//! with `POST {url}/upload/image` (each once per process, named by its
//! content's hash, so twenty pictures of one product upload it once), and
//! the workflow's `{{product_image}}`, `{{model_image}}` and
//! `{{scenery_image}}` (the `image` of a `LoadImage` node) are filled with
//! the uploaded names. A workflow without `{{product_image}}` makes no
//! pictures from a product: it is refused at start for those kinds.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};

use sha2::{Digest, Sha256};

use super::remote::{FormPart, Poll, Server, form, truncate};
use super::{
    GenerateError, Generator, Input, Intake, Made, Reason, Request, Role, Roles, Settings, intake,
};
use crate::error::BoxError;

const DEFAULT_URL: &str = "http://127.0.0.1:8188";
const LABEL: &str = "ComfyUI";

pub struct ComfyUi {
    server: Server,
    /// The workflow's text, placeholders in place.
    workflow: String,
    name: String,
    /// The images the workflow takes (its `{{<role>_image}}` placeholders).
    roles: Roles,
    /// The names of the images uploaded (or being uploaded), by their
    /// content's hash: pictures of one batch running at once upload each
    /// image once.
    uploaded: std::sync::Mutex<Uploads>,
}

type Uploads = std::collections::HashMap<[u8; 32], Arc<tokio::sync::OnceCell<String>>>;

/// A role's placeholder: `{{product_image}}`.
fn placeholder(role: Role) -> String {
    format!("{{{{{}_image}}}}", role.as_str())
}

/// The workflow with the numbers in: `{{seed}}` and `"{{seed}}"` alike.
fn with_numbers(workflow: &str, seed: u32, width: u32, height: u32) -> String {
    let mut text = workflow.to_string();
    for (name, value) in [("seed", seed), ("width", width), ("height", height)] {
        let placeholder = format!("{{{{{name}}}}}");
        text = text
            .replace(&format!("\"{placeholder}\""), &value.to_string())
            .replace(&placeholder, &value.to_string());
    }
    text
}

/// Replaces each `(placeholder, text)` inside every string of `v`, in
/// order (the customer's words last, so words that look like a placeholder
/// stay words).
fn fill_strings(v: &mut Value, with: &[(String, String)]) {
    match v {
        Value::String(s) if s.contains("{{") => {
            for (placeholder, text) in with {
                *s = s.replace(placeholder.as_str(), text);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| fill_strings(i, with)),
        Value::Object(map) => map.values_mut().for_each(|i| fill_strings(i, with)),
        _ => {}
    }
}

/// ComfyUI's error bodies: `{"error": {"type", "message", "details"}, "node_errors": …}`.
fn explain(v: &Value) -> Option<String> {
    let e = &v["error"];
    let message = e["message"].as_str().or_else(|| e.as_str())?;
    Some(match e["details"].as_str().filter(|d| !d.is_empty()) {
        Some(d) => format!("{message}: {d}"),
        None => message.to_string(),
    })
}

impl ComfyUi {
    pub fn new(settings: &Settings) -> Result<ComfyUi, BoxError> {
        let path = settings.comfyui_workflow.as_ref().ok_or(
            "--generator comfyui needs --comfyui-workflow (a workflow saved in API format)",
        )?;
        let workflow = std::fs::read_to_string(path)
            .map_err(|e| format!("--comfyui-workflow {}: {e}", path.display()))?;
        Self::from_workflow(settings, &workflow, path)
    }

    fn from_workflow(
        settings: &Settings,
        workflow: &str,
        path: &std::path::Path,
    ) -> Result<ComfyUi, BoxError> {
        let place = path.display();
        if !workflow.contains("{{prompt}}") {
            return Err(format!(
                "the workflow {place} has no {{{{prompt}}}}: the customer's words would not reach it"
            )
            .into());
        }
        let parsed: Value = serde_json::from_str(&with_numbers(workflow, 1, 64, 64))
            .map_err(|e| format!("the workflow {place} is not JSON: {e}"))?;
        let nodes = parsed
            .as_object()
            .ok_or_else(|| format!("the workflow {place} is not a JSON object"))?;
        if parsed.get("nodes").is_some_and(Value::is_array)
            || !nodes.values().all(|n| n.get("class_type").is_some())
        {
            return Err(format!(
                "the workflow {place} is not in API format: in ComfyUI use \"Save (API Format)\""
            )
            .into());
        }
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "workflow".into());
        let roles = Role::ALL
            .into_iter()
            .filter(|r| workflow.contains(&placeholder(*r)))
            .fold(Roles::default(), Roles::with);
        Ok(ComfyUi {
            roles,
            uploaded: Default::default(),
            server: Server::new(
                LABEL,
                settings.url.as_deref().unwrap_or(DEFAULT_URL),
                settings.api_key.as_ref(),
                settings.timeout,
            )?,
            workflow: workflow.to_string(),
            name,
        })
    }

    /// The name ComfyUI knows `input` by, uploading it the first time.
    async fn upload(&self, input: &Input) -> Result<String, GenerateError> {
        let hash: [u8; 32] = Sha256::digest(&input.bytes).into();
        let cell = self
            .uploaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(hash)
            .or_default()
            .clone();
        let name = cell
            .get_or_try_init(|| self.send_upload(input, &hash))
            .await
            .cloned();
        if name.is_err() {
            // A failed upload is tried again by the next picture.
            self.uploaded
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&hash);
        }
        name
    }

    async fn send_upload(&self, input: &Input, hash: &[u8; 32]) -> Result<String, GenerateError> {
        let file = FormPart::image("image", input);
        let stem: String = hash[..12].iter().map(|b| format!("{b:02x}")).collect();
        let file = FormPart {
            file: file
                .file
                .map(|(name, t)| (format!("mannequin-{stem}-{name}"), t)),
            ..file
        };
        let (content_type, body) = form(vec![
            file,
            FormPart::field("type", "input"),
            FormPart::field("overwrite", "true"),
        ]);
        let res = self
            .server
            .send(
                self.server
                    .request(Method::POST, self.server.url("upload/image"))
                    .header(reqwest::header::CONTENT_TYPE, content_type)
                    .body(body),
            )
            .await?;
        if !res.status().is_success() {
            return Err(self.server.refused(res).await.classify(LABEL, explain));
        }
        let answer = self.server.json(res).await?;
        let name = answer["name"].as_str().ok_or_else(|| {
            GenerateError::Retryable(format!("{LABEL} took the image without naming it").into())
        })?;
        Ok(
            match answer["subfolder"].as_str().filter(|s| !s.is_empty()) {
                Some(folder) => format!("{folder}/{name}"),
                None => name.to_string(),
            },
        )
    }

    /// The history entry of `prompt_id` once it has finished.
    async fn finished(&self, prompt_id: &str) -> Result<Value, GenerateError> {
        let mut poll = Poll::new(Duration::from_millis(200), Duration::from_secs(2));
        loop {
            let url = self.server.url(&format!("history/{prompt_id}"));
            let res = self
                .server
                .send(self.server.request(Method::GET, url))
                .await;
            match res {
                Ok(res) if res.status().is_success() => {
                    let history = self.server.json(res).await?;
                    let entry = &history[prompt_id];
                    let done = entry["status"]["completed"].as_bool() == Some(true)
                        || entry["status"]["status_str"].as_str().is_some();
                    if done {
                        return Ok(entry.clone());
                    }
                }
                // A passing hiccup while following a queued prompt: look again.
                Ok(res) if res.status().is_server_error() => {}
                Ok(res) => return Err(self.server.refused(res).await.classify(LABEL, explain)),
                Err(_) => {}
            }
            poll.wait().await;
        }
    }
}

#[async_trait]
impl Generator for ComfyUi {
    fn name(&self) -> String {
        format!("comfyui/{}", self.name)
    }

    async fn check(&self) -> Result<(), GenerateError> {
        let url = self.server.url("system_stats");
        let res = self
            .server
            .send(self.server.request(Method::GET, url))
            .await
            .map_err(|e| self.server.unreachable_at_start(e))?;
        if !res.status().is_success()
            && let e @ GenerateError::Misconfigured(_) =
                self.server.refused(res).await.classify(LABEL, explain)
        {
            return Err(e);
        }
        Ok(())
    }

    /// The images whose placeholders the workflow holds, the product's
    /// among them.
    fn intake(&self, _kind: mannequin_domain::AssetKind) -> Option<Intake> {
        self.roles.contains(Role::Product).then_some(Intake {
            max_side: 1536,
            roles: self.roles,
        })
    }

    async fn generate(&self, r: &Request<'_>) -> Result<Made, GenerateError> {
        let mut workflow: Value =
            serde_json::from_str(&with_numbers(&self.workflow, r.seed, r.width, r.height))
                .map_err(|e| GenerateError::misconfigured("the ComfyUI workflow is not JSON", e))?;
        let mut with = Vec::with_capacity(r.inputs.len() + 2);
        for role in Role::ALL.into_iter().filter(|r| self.roles.contains(*r)) {
            let Some(input) = r.inputs.iter().find(|i| i.role == role) else {
                return Err(GenerateError::Fatal(
                    format!(
                        "the {LABEL} workflow needs the picture's {}: order it with one",
                        role.as_str()
                    )
                    .into(),
                ));
            };
            with.push((placeholder(role), self.upload(input).await?));
        }
        with.push((
            "{{negative_prompt}}".to_string(),
            r.negative_prompt.to_string(),
        ));
        with.push(("{{prompt}}".to_string(), r.prompt.to_string()));
        fill_strings(&mut workflow, &with);
        let body = json!({"prompt": workflow, "client_id": format!("mannequin-{}", r.model_id)});
        let url = self.server.url("prompt");
        let res = self
            .server
            .send(self.server.request(Method::POST, url).json(&body))
            .await?;
        let status = res.status();
        if !status.is_success() {
            // The workflow is the operator's: a workflow ComfyUI refuses
            // (a missing node or checkpoint) fails every model alike.
            return Err(
                match self.server.refused(res).await.classify(LABEL, explain) {
                    GenerateError::Fatal(r) if status.as_u16() == 400 => {
                        GenerateError::Misconfigured(Reason {
                            public: format!("{LABEL} refused the workflow"),
                            detail: r.detail,
                        })
                    }
                    other => other,
                },
            );
        }
        let queued = self.server.json(res).await?;
        let Some(prompt_id) = queued["prompt_id"].as_str() else {
            return Err(GenerateError::Retryable(
                format!("{LABEL} queued the workflow without a prompt id").into(),
            ));
        };
        let entry = self.finished(prompt_id).await?;
        if entry["status"]["status_str"].as_str() == Some("error") {
            let message = entry["status"]["messages"]
                .as_array()
                .and_then(|m| {
                    m.iter()
                        .find(|m| m[0].as_str() == Some("execution_error"))
                        .and_then(|m| m[1]["exception_message"].as_str())
                })
                .unwrap_or("no message");
            return Err(GenerateError::Retryable(Reason::new(
                format!("{LABEL} failed to run the workflow"),
                truncate(message.trim(), 500),
            )));
        }
        // The first saved image (`type` "output"), else any image shown.
        let images: Vec<&Value> = entry["outputs"]
            .as_object()
            .map(|o| {
                o.values()
                    .filter_map(|n| n["images"].as_array())
                    .flatten()
                    .collect()
            })
            .unwrap_or_default();
        let Some(image) = images
            .iter()
            .find(|i| i["type"].as_str() == Some("output"))
            .or_else(|| images.first())
        else {
            return Err(GenerateError::Misconfigured(
                format!("the {LABEL} workflow produced no image: it needs a SaveImage node").into(),
            ));
        };
        let mut url = self.server.url("view");
        url.query_pairs_mut()
            .append_pair("filename", image["filename"].as_str().unwrap_or_default())
            .append_pair("subfolder", image["subfolder"].as_str().unwrap_or_default())
            .append_pair("type", image["type"].as_str().unwrap_or("output"));
        let bytes = self.server.download(url.as_str()).await?;
        intake(bytes).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_as_numbers_and_escaped_text() {
        let wf = r#"{"3": {"class_type": "KSampler", "inputs": {"seed": "{{seed}}", "w": {{width}}, "text": "photo: {{prompt}}"}}}"#;
        let mut v: Value = serde_json::from_str(&with_numbers(wf, 42, 832, 1216)).unwrap();
        let with = [
            ("{{negative_prompt}}".to_string(), String::new()),
            (
                "{{prompt}}".to_string(),
                "a \"quoted\" word {{product_image}}".to_string(),
            ),
        ];
        fill_strings(&mut v, &with);
        assert_eq!(v["3"]["inputs"]["seed"], 42);
        assert_eq!(v["3"]["inputs"]["w"], 832);
        assert_eq!(
            v["3"]["inputs"]["text"], "photo: a \"quoted\" word {{product_image}}",
            "the customer's words stay words"
        );
    }

    #[test]
    fn workflows_must_be_in_api_format_and_take_the_prompt() {
        let settings = Settings {
            kind: super::super::GeneratorKind::Comfyui,
            url: None,
            model: None,
            api_key: None,
            comfyui_workflow: None,
            timeout: Duration::from_secs(1),
            delay: Duration::ZERO,
            category: mannequin_domain::ideas::shoot::Category::Top,
            replicate_inputs: Default::default(),
        };
        let p = std::path::Path::new("w.json");
        let ui = r#"{"nodes": [], "links": [], "x": "{{prompt}}"}"#;
        let err = ComfyUi::from_workflow(&settings, ui, p)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("API format"), "{err}");
        let err = ComfyUi::from_workflow(&settings, r#"{"1": {"class_type": "X"}}"#, p)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("{{prompt}}"), "{err}");
        let sample = include_str!("../../../../examples/comfyui-workflow.json");
        assert!(ComfyUi::from_workflow(&settings, sample, p).is_ok());
    }
}
