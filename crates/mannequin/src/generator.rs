//! The generator interface: an idea in, image bytes out.
//!
//! [`Builtin`] draws the idea itself, on a blocking thread. [`Http`] asks an image
//! model served over HTTP. [`Noop`] draws a tiny swatch, for benchmarks. A failure says whether it may pass (retry) or never
//! will (fail now).

use std::time::Duration;

use async_trait::async_trait;
use mannequin_domain::Idea;
use serde_json::json;

/// The images of one model.
pub struct Images {
    /// The full image, `image/png`.
    pub full_png: Vec<u8>,
    /// The thumbnail, `image/jpeg`.
    pub thumb_jpeg: Vec<u8>,
}

/// Why a generation failed: what the customer reads as the model's
/// `failureReason`, and, for the log only, the full cause (which may name
/// internal hosts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub public: String,
    pub detail: Option<String>,
}

impl Reason {
    pub fn new(public: impl Into<String>, detail: impl std::fmt::Display) -> Reason {
        Reason {
            public: public.into(),
            detail: Some(detail.to_string()),
        }
    }
}

impl From<&str> for Reason {
    fn from(public: &str) -> Reason {
        Reason {
            public: public.to_string(),
            detail: None,
        }
    }
}

impl From<String> for Reason {
    fn from(public: String) -> Reason {
        Reason {
            public,
            detail: None,
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.detail {
            Some(detail) => write!(f, "{}: {detail}", self.public),
            None => f.write_str(&self.public),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum GenerateError {
    /// May pass on another try (timeout, overload, storage hiccup).
    #[error("{0} (retryable)")]
    Retryable(Reason),
    /// Will fail again; the model fails now and is refunded.
    #[error("{0}")]
    Fatal(Reason),
}

#[async_trait]
pub trait Generator: Send + Sync + 'static {
    async fn generate(&self, idea: &Idea) -> Result<Images, GenerateError>;
}

/// The built-in renderer; `delay` is an optional extra pause per model, to
/// stand in for a slower model server in tests and load experiments.
pub struct Builtin {
    pub delay: Duration,
}

#[async_trait]
impl Generator for Builtin {
    async fn generate(&self, idea: &Idea) -> Result<Images, GenerateError> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let idea = *idea;
        // CPU-bound: off the async threads. The worker's concurrency bounds how
        // many run at once.
        let r = tokio::task::spawn_blocking(move || mannequin_render::render(&idea))
            .await
            .map_err(|e| GenerateError::Retryable(Reason::new("the renderer crashed", e)))?
            .map_err(|e| {
                GenerateError::Fatal(Reason::new("the renderer could not draw this idea", e))
            })?;
        Ok(Images {
            full_png: r.full_png,
            thumb_jpeg: r.thumb_jpeg,
        })
    }
}

/// A stand-in that returns one small image (a 16×24 swatch, drawn once) for
/// every idea at once: what remains is the cost of the queue, the ledger and
/// the blob store, which is what the benchmark's no-op column measures.
pub struct Noop;

#[async_trait]
impl Generator for Noop {
    async fn generate(&self, idea: &Idea) -> Result<Images, GenerateError> {
        static SWATCH: std::sync::OnceLock<Result<(Vec<u8>, Vec<u8>), String>> =
            std::sync::OnceLock::new();
        let swatch = SWATCH.get_or_init(|| {
            let pixmap = mannequin_render::draw(idea, 16, 24).map_err(|e| e.to_string())?;
            let png = pixmap.encode_png().map_err(|e| e.to_string())?;
            let jpeg = mannequin_render::encode_jpeg(&pixmap, 80).map_err(|e| e.to_string())?;
            Ok((png, jpeg))
        });
        let (full_png, thumb_jpeg) = swatch
            .clone()
            .map_err(|e| GenerateError::Fatal(Reason::new("the renderer failed", e)))?;
        Ok(Images {
            full_png,
            thumb_jpeg,
        })
    }
}

/// An image model behind HTTP. For each model it sends
///
/// ```json
/// POST <url>
/// {"prompt": "young adult female, athletic build, …", "name": "Female Model - Sportswear",
///  "idea": {"gender": "female", …}, "width": 640, "height": 960}
/// ```
///
/// and expects `200` with a PNG body. Timeouts, connection errors, `429` and `5xx`
/// are retried; any other answer fails the model. The thumbnail is made here.
pub struct Http {
    client: reqwest::Client,
    url: String,
}

impl Http {
    pub fn new(url: &str, timeout: Duration) -> Result<Http, reqwest::Error> {
        Ok(Http {
            client: crate::http_client().timeout(timeout).build()?,
            url: url.to_string(),
        })
    }
}

#[async_trait]
impl Generator for Http {
    async fn generate(&self, idea: &Idea) -> Result<Images, GenerateError> {
        let (width, height) = mannequin_render::FULL_SIZE;
        let body = json!({
            "prompt": idea.describe(),
            "name": idea.name(),
            "idea": idea,
            "width": width,
            "height": height,
        });
        let res = self
            .client
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .map_err(|e| GenerateError::Retryable(Reason::new("image model unreachable", e)))?;
        let status = res.status();
        if status.as_u16() == 429 || status.is_server_error() {
            return Err(GenerateError::Retryable(
                format!("image model answered {status}").into(),
            ));
        }
        if !status.is_success() {
            return Err(GenerateError::Fatal(
                format!("image model refused the idea: {status}").into(),
            ));
        }
        let png = res
            .bytes()
            .await
            .map_err(|e| GenerateError::Retryable(Reason::new("image model response cut off", e)))?
            .to_vec();
        let for_thumb = png.clone();
        let thumb_jpeg =
            tokio::task::spawn_blocking(move || mannequin_render::thumbnail_from_png(&for_thumb))
                .await
                .map_err(|e| GenerateError::Retryable(Reason::new("the thumbnail crashed", e)))?
                .map_err(|e| {
                    GenerateError::Fatal(Reason::new("image model sent an unusable image", e))
                })?;
        Ok(Images {
            full_png: png,
            thumb_jpeg,
        })
    }
}
