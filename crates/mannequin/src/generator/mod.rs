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
mod fashn;
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
use mannequin_domain::ideas::shoot;
use mannequin_domain::ids::AssetId;
use mannequin_domain::prompt::Template;
use mannequin_domain::{AssetIdea, AssetKind, Attributes, MadeFrom};

pub use automatic1111::Automatic1111;
pub use comfyui::ComfyUi;
pub use fashn::Fashn;
pub use http::Http;
pub use local::{Builtin, Noop};
pub use openai::OpenAi;
pub use replicate::{ImageInputs, Replicate};
pub use scrub::scrub;

use crate::error::BoxError;

/// What an input image shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The shop's product photo.
    Product,
    /// The chosen model's picture.
    Model,
    /// The chosen scenery's picture.
    Scenery,
}

impl Role {
    /// In the order backends are given them: the product first.
    pub const ALL: [Role; 3] = [Role::Product, Role::Model, Role::Scenery];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Product => "product",
            Role::Model => "model",
            Role::Scenery => "scenery",
        }
    }
}

/// An image a picture is made from, prepared for the backend once per
/// batch (read, scaled to what it takes, encoded) and shared by every
/// picture of it.
#[derive(Debug, Clone)]
pub struct Input {
    pub role: Role,
    pub bytes: axum::body::Bytes,
    /// `image/png` (with transparency) or `image/jpeg`.
    pub content_type: &'static str,
}

impl Input {
    /// `data:<type>;base64,…`, as JSON APIs take an image.
    pub fn data_url(&self) -> String {
        use base64::Engine;
        format!(
            "data:{};base64,{}",
            self.content_type,
            base64::engine::general_purpose::STANDARD.encode(&self.bytes)
        )
    }
}

/// What a backend takes of the images a kind is made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intake {
    /// The largest side it is sent, in pixels.
    pub max_side: u32,
    /// The images it uses, of those the order names.
    pub roles: Roles,
}

/// A set of [`Role`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Roles(u8);

impl Roles {
    pub const ALL: Roles = Roles(0b111);
    pub const PRODUCT: Roles = Roles(0b001);

    pub fn with(self, role: Role) -> Roles {
        Roles(self.0 | 1 << role as u8)
    }

    pub fn contains(self, role: Role) -> bool {
        self.0 & 1 << role as u8 != 0
    }
}

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
    /// The images it is made from, product first (none for kinds made from
    /// words): those of the roles the backend's [`Intake`] names that the
    /// order has.
    pub inputs: &'a [Arc<Input>],
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

    /// The name recorded with an asset of `kind` (a backend per kind may
    /// differ).
    fn name_for(&self, _kind: AssetKind) -> String {
        self.name()
    }

    /// The input images it takes to make `kind`; `None` when it cannot make
    /// a kind made from a product (checked at start).
    fn intake(&self, _kind: AssetKind) -> Option<Intake> {
        None
    }

    /// Why it cannot make `kind`, if it cannot: by default, a kind made from
    /// a product when it takes no input images.
    fn cannot_make(&self, kind: AssetKind) -> Option<String> {
        (kind.declaration().made_from == MadeFrom::Product && self.intake(kind).is_none())
            .then(|| "it takes no input images".to_string())
    }
}

/// The word a kind's own generator settings start with:
/// `--photo-shoot-generator`.
pub fn flag(kind: AssetKind) -> &'static str {
    match kind {
        AssetKind::Model => "model",
        AssetKind::Scenery => "scenery",
        AssetKind::PhotoShoot => "photo-shoot",
        AssetKind::Packshot => "packshot",
    }
}

/// A generator per kind, each kind's jobs sent to its own (`--photo-shoot-generator`
/// and friends), in [`AssetKind::ALL`]'s order.
pub struct ByKind {
    pub generators: Vec<Arc<dyn Generator>>,
}

impl ByKind {
    fn of(&self, kind: AssetKind) -> &Arc<dyn Generator> {
        &self.generators[kind as usize]
    }

    /// Why a kind cannot be made, for the start to refuse: a kind made from
    /// a product whose backend takes no images.
    pub fn refusal(&self) -> Option<String> {
        AssetKind::ALL.into_iter().find_map(|kind| {
            let g = self.of(kind);
            g.cannot_make(kind).map(|why| {
                format!(
                    "the {} generator cannot make {}: {why}. Choose one that can with --{}-generator (the built-in can make every kind).",
                    g.name(),
                    kind.declaration().title.to_lowercase(),
                    flag(kind),
                )
            })
        })
    }
}

#[async_trait]
impl Generator for ByKind {
    fn name(&self) -> String {
        let mut names: Vec<String> = Vec::new();
        for g in &self.generators {
            let n = g.name();
            if !names.contains(&n) {
                names.push(n);
            }
        }
        names.join(", ")
    }

    fn name_for(&self, kind: AssetKind) -> String {
        self.of(kind).name_for(kind)
    }

    fn intake(&self, kind: AssetKind) -> Option<Intake> {
        self.of(kind).intake(kind)
    }

    fn cannot_make(&self, kind: AssetKind) -> Option<String> {
        self.of(kind).cannot_make(kind)
    }

    /// Every distinct backend's check; the first misconfiguration wins.
    async fn check(&self) -> Result<(), GenerateError> {
        for (i, g) in self.generators.iter().enumerate() {
            if self.generators[..i].iter().any(|o| Arc::ptr_eq(o, g)) {
                continue;
            }
            g.check().await?;
        }
        Ok(())
    }

    async fn generate(&self, request: &Request<'_>) -> Result<Made, GenerateError> {
        self.of(request.idea.kind()).generate(request).await
    }
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
        let (width, height) = idea
            .kind()
            .declaration()
            .shape
            .size((self.width, self.height));
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
            AssetIdea::PhotoShoot(picture) | AssetIdea::Packshot(picture) => Asked {
                prompt: shoot::prompt(idea.kind(), picture),
                negative: self.negative.clone(),
                width,
                height,
                note: None,
            },
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
    /// FASHN's API: try-on and product-to-model for photo shoots,
    /// model-create for models.
    Fashn,
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
        // Try-on's output size.
        GeneratorKind::Fashn => (864, 1296),
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
    /// Where the built-in places a product whose name does not say.
    pub category: mannequin_domain::ideas::shoot::Category,
    /// Where Replicate's model takes the input images.
    pub replicate_inputs: ImageInputs,
}

/// The generator `settings` name, with its settings checked.
pub fn build(settings: &Settings) -> Result<Arc<dyn Generator>, BoxError> {
    Ok(match settings.kind {
        GeneratorKind::Builtin => Arc::new(Builtin {
            delay: settings.delay,
            category: settings.category,
        }),
        GeneratorKind::Noop => Arc::new(Noop),
        GeneratorKind::Http => Arc::new(Http::new(settings)?),
        GeneratorKind::Openai => Arc::new(OpenAi::new(settings)?),
        GeneratorKind::Automatic1111 => Arc::new(Automatic1111::new(settings)?),
        GeneratorKind::Comfyui => Arc::new(ComfyUi::new(settings)?),
        GeneratorKind::Replicate => Arc::new(Replicate::new(settings)?),
        GeneratorKind::Fashn => Arc::new(Fashn::new(settings)?),
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
