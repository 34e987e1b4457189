//! Image generators: a model's idea and prompt in, an image out.
//!
//! The prompt is built once, outside the backends ([`Prompting`]), from the
//! customer's words and what makes the idea distinct in its batch; every
//! backend sends that same intent in its own protocol:
//!
//! - [`Builtin`] draws the idea itself; [`Noop`] returns one small swatch
//!   (benchmarks).
//! - [`openai::OpenAi`], [`automatic1111::Automatic1111`],
//!   [`comfyui::ComfyUi`] and [`replicate::Replicate`] speak to the image
//!   servers people run; [`http::Http`] speaks mannequin's own small protocol.
//!
//! A failure says what the worker does next: retry (after the server's
//! `Retry-After` if it gave one), fail the model now, or stop taking jobs
//! because the backend is misconfigured.

mod automatic1111;
mod comfyui;
mod http;
mod local;
mod openai;
mod remote;
mod replicate;
mod scrub;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mannequin_domain::ideas::scenery::{SceneryReading, scenery_prompt};
use mannequin_domain::ids::AssetId;
use mannequin_domain::prompt::Template;
use mannequin_domain::{AssetIdea, Attributes};

pub use automatic1111::Automatic1111;
pub use comfyui::ComfyUi;
pub use http::Http;
pub use local::{Builtin, Noop};
pub use openai::OpenAi;
pub use replicate::Replicate;
pub use scrub::scrub;

use crate::error::BoxError;

/// What one asset asks of a generator.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub model_id: &'a AssetId,
    /// The asset's name, distinct within its batch.
    pub name: &'a str,
    /// Its kind is the asset's.
    pub idea: &'a AssetIdea,
    /// The batch's preferences text, verbatim.
    pub preferences: &'a str,
    /// The full prompt: the preferences inside the template, with the idea's details.
    pub prompt: &'a str,
    pub negative_prompt: &'a str,
    /// Fixed per idea: a retry asks for the same picture.
    pub seed: u32,
    pub width: u32,
    pub height: u32,
}

/// An image a generator made, checked and thumbnailed.
#[derive(Debug, Clone)]
pub struct Made {
    pub image: Vec<u8>,
    /// `image/png`, `image/jpeg` or `image/webp`.
    pub content_type: &'static str,
    /// `png`, `jpg` or `webp`.
    pub extension: &'static str,
    /// `image/jpeg`, the contract's thumbnail size.
    pub thumb_jpeg: Vec<u8>,
    /// What the generator could not follow, for the customer to read.
    pub notes: Option<String>,
}

/// Why a generation failed: what the customer reads as the model's
/// `failureReason` (or an operator on `/readyz`), and, for the log only, the
/// full cause (which may name internal hosts). The public part is one of the
/// service's own sentences; an image server's words reach it only through
/// [`Reason::refused_prompt`], scrubbed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub public: String,
    pub detail: Option<String>,
}

impl Reason {
    /// The image model's content refusal: its own words, with anything that
    /// could name a host, path, address or key removed ([`scrub`]).
    pub fn refused_prompt(words: &str, detail: impl std::fmt::Display) -> Reason {
        let words = scrub(words, 300);
        Reason {
            public: if words.is_empty() {
                "the image model refused the prompt".to_string()
            } else {
                format!("the image model refused the prompt: {words}")
            },
            detail: Some(detail.to_string()),
        }
    }

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
    /// May pass on another try (timeout, overload, a dropped connection).
    #[error("{0} (retryable)")]
    Retryable(Reason),
    /// May pass once the server's `Retry-After` has passed (429).
    #[error("{0} (retry after {1:?})")]
    RetryAfter(Reason, Duration),
    /// Will fail again for this model (a refusal, an unusable image): it fails
    /// now and is refunded.
    #[error("{0}")]
    Fatal(Reason),
    /// Will fail for every model until an operator acts (bad credentials, an
    /// unknown model, a server that is not there): the worker stops taking
    /// jobs and the model waits.
    #[error("misconfigured: {0}")]
    Misconfigured(Reason),
}

impl GenerateError {
    pub fn retryable(public: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        GenerateError::Retryable(Reason::new(public, detail))
    }

    pub fn fatal(public: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        GenerateError::Fatal(Reason::new(public, detail))
    }

    pub fn misconfigured(public: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        GenerateError::Misconfigured(Reason::new(public, detail))
    }
}

#[async_trait]
pub trait Generator: Send + Sync + 'static {
    /// The backend and model, as recorded with each model: `openai/gpt-image-1`.
    fn name(&self) -> String;

    /// Checks the settings against the server: at start, and while the worker
    /// is paused for a misconfiguration. Only [`GenerateError::Misconfigured`]
    /// pauses the worker.
    async fn check(&self) -> Result<(), GenerateError> {
        Ok(())
    }

    async fn generate(&self, request: &Request<'_>) -> Result<Made, GenerateError>;
}

/// How prompts are made and what size is asked for.
#[derive(Debug, Clone)]
pub struct Prompting {
    /// A model's prompt around the customer's words.
    pub template: Template,
    pub negative: String,
    /// A portrait size; kinds declared landscape ask for it turned.
    pub width: u32,
    pub height: u32,
}

/// What the worker asks a generator for one asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    pub prompt: String,
    pub negative: String,
    pub width: u32,
    pub height: u32,
    /// What the reading of the text did not understand, for the customer.
    pub note: Option<String>,
}

impl Prompting {
    /// The prompt, negative prompt and size for `idea`, planned from
    /// `preferences`: a model's through the template; a scenery's with the
    /// words verbatim, an empty set (and `people` among what to avoid)
    /// unless the text asks for people.
    pub fn ask(&self, preferences: &str, idea: &AssetIdea) -> Asked {
        let (width, height) = if idea.kind().declaration().landscape {
            (self.height.max(self.width), self.width.min(self.height))
        } else {
            (self.width, self.height)
        };
        match idea {
            AssetIdea::Model(idea) => {
                let reading = Attributes::read(preferences);
                Asked {
                    prompt: self.template.render_read(&reading, preferences, idea),
                    negative: self.negative.clone(),
                    width,
                    height,
                    note: reading.reading_note(),
                }
            }
            AssetIdea::Scenery(idea) => {
                let reading = SceneryReading::read(preferences);
                Asked {
                    prompt: scenery_prompt(preferences, idea, &reading),
                    negative: if reading.people {
                        self.negative.clone()
                    } else {
                        format!("people, person, {}", self.negative)
                    },
                    width,
                    height,
                    note: None,
                }
            }
        }
    }
}

/// Which image server a worker sends its jobs to (`--generator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GeneratorKind {
    /// Draw the figure here (no model server needed).
    Builtin,
    /// The OpenAI Images API, or a server that copies it.
    Openai,
    /// The Stable Diffusion web UI API (AUTOMATIC1111, Forge, SD.Next).
    #[value(alias = "a1111", alias = "forge", alias = "sdnext")]
    Automatic1111,
    /// A ComfyUI server running `--comfyui-workflow`.
    Comfyui,
    /// Replicate's predictions API.
    Replicate,
    /// mannequin's own small protocol over HTTP (`--generator-url`).
    Http,
    /// One small fixed image at once: measures the queue and the ledger alone.
    Noop,
}

/// The portrait size each backend is best at by default.
pub fn default_size(kind: GeneratorKind) -> (u32, u32) {
    match kind {
        // gpt-image-1's portrait size.
        GeneratorKind::Openai => (1024, 1536),
        // SDXL's portrait bucket (2:3 at about one megapixel).
        GeneratorKind::Automatic1111 | GeneratorKind::Comfyui | GeneratorKind::Replicate => {
            (832, 1216)
        }
        GeneratorKind::Builtin | GeneratorKind::Noop | GeneratorKind::Http => {
            mannequin_render::FULL_SIZE
        }
    }
}

/// The settings that choose and reach a generator.
#[derive(Debug, Clone)]
pub struct Settings {
    pub kind: GeneratorKind,
    pub url: Option<String>,
    pub model: Option<String>,
    pub api_key: Option<crate::SecretString>,
    pub comfyui_workflow: Option<PathBuf>,
    /// Per request to the server (a whole generation is bounded by the worker).
    pub timeout: Duration,
    /// Extra time per model in the built-in generator (tests, experiments).
    pub delay: Duration,
}

/// The generator `settings` name, with its settings checked.
pub fn build(settings: &Settings) -> Result<Arc<dyn Generator>, BoxError> {
    Ok(match settings.kind {
        GeneratorKind::Builtin => Arc::new(Builtin {
            delay: settings.delay,
        }),
        GeneratorKind::Noop => Arc::new(Noop),
        GeneratorKind::Http => Arc::new(Http::new(settings)?),
        GeneratorKind::Openai => Arc::new(OpenAi::new(settings)?),
        GeneratorKind::Automatic1111 => Arc::new(Automatic1111::new(settings)?),
        GeneratorKind::Comfyui => Arc::new(ComfyUi::new(settings)?),
        GeneratorKind::Replicate => Arc::new(Replicate::new(settings)?),
    })
}

/// Decodes what a server sent, off the async threads: a PNG, JPEG or WebP of
/// sane size becomes a [`Made`] with its thumbnail; anything else fails the
/// model with a clear reason.
pub async fn intake(bytes: Vec<u8>) -> Result<Made, GenerateError> {
    // Decoding is CPU work: at most one per core at once, whatever the
    // number of generations in flight.
    static DECODING: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let permits = DECODING.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    });
    let _permit = permits
        .acquire()
        .await
        .map_err(|e| GenerateError::retryable("the image decoder stopped", e))?;
    tokio::task::spawn_blocking(move || {
        let intake = mannequin_render::intake(&bytes)
            .map_err(|e| GenerateError::fatal("the image server sent an unusable image", e))?;
        Ok(Made {
            image: bytes,
            content_type: intake.content_type,
            extension: intake.extension,
            thumb_jpeg: intake.thumb_jpeg,
            notes: None,
        })
    })
    .await
    .map_err(|e| GenerateError::retryable("the image decoder crashed", e))?
}
