//! The generator interface: an idea in, image bytes out.
//!
//! Generation is CPU-bound and synchronous; the worker runs it on blocking
//! threads. A failure says whether it may pass (retry) or never will (fail now).

use std::time::Duration;

use mannequin_domain::Idea;

/// The images of one model.
pub struct Images {
    pub full: Vec<u8>,
    pub full_content_type: &'static str,
    pub full_ext: &'static str,
    pub thumb: Vec<u8>,
}

#[derive(Debug, Clone)]
pub enum GenerateError {
    /// May pass on another try (timeout, overload, storage hiccup).
    Retryable(String),
    /// Will fail again; the model fails now and is refunded.
    Fatal(String),
}

impl std::fmt::Display for GenerateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GenerateError::Retryable(m) => write!(f, "{m} (retryable)"),
            GenerateError::Fatal(m) => write!(f, "{m}"),
        }
    }
}

pub trait Generator: Send + Sync + 'static {
    fn generate(&self, idea: &Idea) -> Result<Images, GenerateError>;
}

/// The built-in renderer; `delay` is an optional extra pause per model, to
/// stand in for a slower model server in tests and load experiments.
pub struct Builtin {
    pub delay: Duration,
}

impl Generator for Builtin {
    fn generate(&self, idea: &Idea) -> Result<Images, GenerateError> {
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
        let r = mannequin_render::render(idea).map_err(|e| GenerateError::Fatal(e.to_string()))?;
        Ok(Images {
            full: r.full_png,
            full_content_type: "image/png",
            full_ext: "png",
            thumb: r.thumb_jpeg,
        })
    }
}
