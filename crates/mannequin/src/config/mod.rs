//! The command line. Every option is also an environment variable, so the same
//! settings work in a shell, a service file and a container.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, ValueEnum, value_parser};
use mannequin_domain::prompt::{DEFAULT_NEGATIVE, Template};

use crate::{ExposeSecret, SecretString};

mod admin;
mod generator;
mod planner;
use crate::generator::GeneratorKind;
pub use admin::{AccountCommand, AdminCommand, AdminDb, CreditsCommand, KeyCommand};
use generator::image_inputs;
pub use generator::{
    KindGenerator, ModelGeneratorArgs, PackshotGeneratorArgs, PhotoShootGeneratorArgs,
    SceneryGeneratorArgs,
};
pub use planner::PlannerArgs;

/// A non-negative finite number (`--rate-limit`).
fn non_negative(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 => Ok(n),
        _ => Err(format!("{s:?} is not a number of 0 or more")),
    }
}

/// An origin for CORS: `*`, or `scheme://host[:port]` with nothing after.
fn cors_origin(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s == "*" {
        return Ok(s.to_string());
    }
    let ok = s.split_once("://").is_some_and(|(scheme, rest)| {
        matches!(scheme, "http" | "https")
            && !rest.is_empty()
            && !rest.contains('/')
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
    });
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{s:?} is not an origin: http(s)://host[:port], or *"
        ))
    }
}

/// `WxH` in pixels, each side 64 to 4096 (`--image-size`).
fn image_size(s: &str) -> Result<(u32, u32), String> {
    let parsed = s
        .split_once(['x', 'X', '×'])
        .and_then(|(w, h)| Some((w.trim().parse::<u32>().ok()?, h.trim().parse::<u32>().ok()?)));
    match parsed {
        Some((w, h)) if (64..=4096).contains(&w) && (64..=4096).contains(&h) => Ok((w, h)),
        _ => Err(format!(
            "{s:?} is not WIDTHxHEIGHT with each side 64 to 4096"
        )),
    }
}

/// A prompt template holding `{{preferences}}` (`--prompt-template`).
fn prompt_template(s: &str) -> Result<Template, String> {
    Template::parse(s).map_err(|e| e.to_string())
}

/// A finite number of at least 1 (`--rate-burst`).
fn at_least_one(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 1.0 => Ok(n),
        _ => Err(format!("{s:?} is not a number of 1 or more")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueueKind {
    /// The jobs table itself (leases, `SKIP LOCKED` on PostgreSQL).
    #[value(alias = "db")]
    Database,
    /// NATS JetStream, fed from the jobs table as an outbox (`--nats-url`).
    Nats,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BlobStoreKind {
    /// Files under `<data dir>/media`, served by the API.
    Local,
    /// An S3-compatible bucket (`--s3-bucket` and friends).
    S3,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// A TOML file of settings, named as the flags (`listen = "0.0.0.0:8080"`):
    /// a flag beats its variable, a variable the file, the file the default.
    #[arg(long, env = "MANNEQUIN_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where the SQLite file and the images live.
    #[arg(long, env = "MANNEQUIN_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://path` or `postgres://user:pass@host/db`; default:
    /// the SQLite file `mannequin.db` in the data directory.
    #[arg(long, env = "MANNEQUIN_DATABASE_URL", hide_env_values = true, value_parser = secret)]
    pub database_url: Option<SecretString>,
    /// Connections this process keeps to PostgreSQL at most.
    #[arg(long, env = "MANNEQUIN_DB_CONNECTIONS", default_value_t = 16,
          value_parser = value_parser!(u32).range(2..=10_000))]
    pub db_connections: u32,
    /// Log format on stderr.
    #[arg(long, env = "MANNEQUIN_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

impl DbArgs {
    pub fn database_url(&self) -> String {
        self.database_url
            .as_ref()
            .map(|url| url.expose_secret().to_string())
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("mannequin.db").display()))
    }
}

/// `mannequin serve`: the API's settings and a worker's.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub api: ApiArgs,
    #[command(flatten)]
    pub process: WorkerArgs,
}

/// A worker's settings are `serve`'s too.
impl std::ops::Deref for ServeArgs {
    type Target = WorkerArgs;
    fn deref(&self) -> &WorkerArgs {
        &self.process
    }
}

impl std::ops::DerefMut for ServeArgs {
    fn deref_mut(&mut self) -> &mut WorkerArgs {
        &mut self.process
    }
}

/// What only an API process uses: its address, prices, limits, bootstrap.
#[derive(Debug, Clone, Args)]
pub struct ApiArgs {
    /// Address the API listens on.
    #[arg(long, env = "MANNEQUIN_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Run the API only, without the in-process worker.
    #[arg(long, env = "MANNEQUIN_NO_WORKER")]
    pub no_worker: bool,
    /// Price of one model in credits.
    #[arg(long, env = "MANNEQUIN_CREDITS_PER_MODEL", default_value_t = 10,
          value_parser = value_parser!(i64).range(0..=1_000_000_000))]
    pub credits_per_model: i64,
    /// Price of one scenery in credits; default: a model's.
    #[arg(long, env = "MANNEQUIN_CREDITS_PER_SCENERY",
          value_parser = value_parser!(i64).range(0..=1_000_000_000))]
    pub credits_per_scenery: Option<i64>,
    /// Price of one photo shoot picture in credits; default: a model's.
    #[arg(long, env = "MANNEQUIN_CREDITS_PER_PHOTO_SHOOT",
          value_parser = value_parser!(i64).range(0..=1_000_000_000))]
    pub credits_per_photo_shoot: Option<i64>,
    /// Price of one packshot in credits; default: a model's.
    #[arg(long, env = "MANNEQUIN_CREDITS_PER_PACKSHOT",
          value_parser = value_parser!(i64).range(0..=1_000_000_000))]
    pub credits_per_packshot: Option<i64>,
    /// Products an account may keep (deleted ones do not count).
    #[arg(long, env = "MANNEQUIN_MAX_PRODUCTS", default_value_t = 10_000,
          value_parser = value_parser!(u32).range(1..=10_000_000))]
    pub max_products: u32,
    /// Do not create the starter account on an empty database.
    #[arg(long, env = "MANNEQUIN_NO_BOOTSTRAP")]
    pub no_bootstrap: bool,
    /// Credits of the starter account.
    #[arg(long, env = "MANNEQUIN_STARTER_CREDITS", default_value_t = 1000,
          value_parser = value_parser!(i64).range(0..))]
    pub starter_credits: i64,
    /// Seconds a reservation may stay open before its unfinished models fail.
    #[arg(long, env = "MANNEQUIN_RESERVATION_TTL_SECS", default_value_t = 3600,
          value_parser = value_parser!(u64).range(1..=366 * 24 * 3600))]
    pub reservation_ttl_secs: u64,
    /// Requests per second per account (0 turns rate limiting off).
    #[arg(long, env = "MANNEQUIN_RATE_LIMIT", default_value_t = 50.0, value_parser = non_negative)]
    pub rate_limit: f64,
    /// Redis that holds the rate limits, shared by every API process using
    /// it (`redis://host:6379`); unset, each process counts its own.
    #[arg(long, env = "MANNEQUIN_REDIS_URL")]
    pub redis_url: Option<String>,
    #[command(flatten)]
    pub planner: PlannerArgs,
    /// Browser origins allowed to call the API (`https://shop.example`,
    /// comma-separated; `*` for any); off when unset.
    #[arg(long, env = "MANNEQUIN_CORS_ORIGINS", value_delimiter = ',', value_parser = cors_origin)]
    pub cors_origins: Vec<String>,
    /// Requests an account may burst above the rate.
    #[arg(long, env = "MANNEQUIN_RATE_BURST", default_value_t = 100.0, value_parser = at_least_one)]
    pub rate_burst: f64,
    /// Where an account gets more credits (`https://shop.example/credits`):
    /// the API's 402 message ends with it and the console links to it.
    #[arg(long, env = "MANNEQUIN_CREDITS_URL", value_parser = credits_url)]
    pub credits_url: Option<String>,
    /// The words before --credits-url (or, without it, all that is said).
    #[arg(long, env = "MANNEQUIN_CREDITS_TEXT", default_value = "Get more credits at",
          value_parser = value_parser!(String))]
    pub credits_text: String,
}

/// An `http(s)://` URL a person can open.
fn credits_url(s: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(s.trim()).map_err(|e| format!("not a URL: {e}"))?;
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Ok(url.to_string()),
        _ => Err("an http(s):// URL".into()),
    }
}

impl ApiArgs {
    /// What a 402 adds, when the operator said where credits come from.
    pub fn credits_hint(&self) -> Option<CreditsHint> {
        self.credits_url.as_ref().map(|url| CreditsHint {
            text: self.credits_text.trim().to_string(),
            url: url.clone(),
        })
    }
}

/// Where an account gets credits, as the operator put it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditsHint {
    pub text: String,
    pub url: String,
}

impl CreditsHint {
    /// The sentence that ends a 402 message: `Get more credits at https://…`.
    pub fn sentence(&self) -> String {
        if self.text.is_empty() {
            self.url.clone()
        } else {
            format!("{} {}", self.text, self.url)
        }
    }
}

/// What every process uses (`mannequin worker` takes these alone): the
/// database, the queue, the images, the generator, webhooks, the operator
/// listener.
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Base of image URLs; default `http://<listen address>`.
    #[arg(long, env = "MANNEQUIN_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The operator listener: `/metrics`, `/healthz` and `/readyz`, apart from
    /// the API (keep it off the internet); `off` for none. Default:
    /// 127.0.0.1:9464 for `serve`, 127.0.0.1:9465 for `worker`.
    #[arg(long, env = "MANNEQUIN_METRICS_LISTEN", value_parser = parse_metrics_listen)]
    pub metrics_listen: Option<MetricsListen>,
    /// A bearer token `/metrics` asks for (`Authorization: Bearer …`); with
    /// it, the API's listener serves `/metrics` too.
    #[arg(long, env = "MANNEQUIN_METRICS_TOKEN", hide_env_values = true, value_parser = secret)]
    pub metrics_token: Option<SecretString>,
    #[command(flatten)]
    pub connections: ConnArgs,
    /// Generations in flight per worker process; default: the number of
    /// cores for the built-in renderer, 8 for an image server.
    #[arg(long, env = "MANNEQUIN_GENERATOR_CONCURRENCY",
          value_parser = value_parser!(u32).range(1..=10_000))]
    pub generator_concurrency: Option<u32>,
    /// The earlier name of --generator-concurrency.
    #[arg(long, env = "MANNEQUIN_WORKER_CONCURRENCY", hide = true,
          value_parser = value_parser!(u32).range(1..=10_000))]
    pub worker_concurrency: Option<u32>,
    /// Attempts per model before it fails and is refunded.
    #[arg(long, env = "MANNEQUIN_MAX_ATTEMPTS", default_value_t = 3,
          value_parser = value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,
    /// Milliseconds a worker's claim on a job lasts unless extended.
    #[arg(long, env = "MANNEQUIN_LEASE_MS", default_value_t = 30_000,
          value_parser = value_parser!(u64).range(300..=3_600_000))]
    pub lease_ms: u64,
    /// First retry delay in milliseconds (doubles per attempt, with jitter).
    #[arg(long, env = "MANNEQUIN_RETRY_BASE_MS", default_value_t = 1000,
          value_parser = value_parser!(u64).range(0..=3_600_000))]
    pub retry_base_ms: u64,
    /// Let webhook endpoints name loopback, private, link-local and other
    /// non-public addresses (refused by default: a customer could otherwise
    /// make the service call into its own network).
    #[arg(long, env = "MANNEQUIN_WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: bool,
    /// This process delivers no webhooks; the events wait for a process that
    /// does (every worker process does unless told not to).
    #[arg(long, env = "MANNEQUIN_NO_WEBHOOK_DELIVERY")]
    pub no_webhook_delivery: bool,
    /// Seconds one webhook attempt may take, connecting included.
    #[arg(long, env = "MANNEQUIN_WEBHOOK_TIMEOUT_SECS", default_value_t = 10,
          value_parser = value_parser!(u64).range(1..=300))]
    pub webhook_timeout_secs: u64,
    /// Webhook attempts one process sends one endpoint at once: an endpoint
    /// that hangs holds only these places.
    #[arg(long, env = "MANNEQUIN_WEBHOOK_ENDPOINT_CONCURRENCY", default_value_t = 4,
          value_parser = value_parser!(u64).range(1..=64))]
    pub webhook_endpoint_concurrency: u64,
    /// Waits between webhook attempts (comma-separated, units ms/s/m/h/d):
    /// after the first attempt fails, one more attempt per entry, each
    /// wait ±20%.
    #[arg(long, env = "MANNEQUIN_WEBHOOK_RETRY_SCHEDULE",
          default_value = crate::webhooks::DEFAULT_SCHEDULE,
          value_parser = crate::webhooks::parse_schedule)]
    pub webhook_retry_schedule: std::vec::Vec<std::time::Duration>,
    /// How long an endpoint may fail every attempt before it is disabled
    /// (units ms/s/m/h/d).
    #[arg(long, env = "MANNEQUIN_WEBHOOK_DISABLE_AFTER", default_value = "5d",
          value_parser = crate::webhooks::parse_duration)]
    pub webhook_disable_after: std::time::Duration,
    /// Which generator makes the images.
    #[arg(
        long,
        env = "MANNEQUIN_GENERATOR",
        value_enum,
        default_value = "builtin"
    )]
    pub generator: GeneratorKind,
    #[command(flatten)]
    pub model_generator: ModelGeneratorArgs,
    #[command(flatten)]
    pub scenery_generator: SceneryGeneratorArgs,
    #[command(flatten)]
    pub photo_shoot_generator: PhotoShootGeneratorArgs,
    #[command(flatten)]
    pub packshot_generator: PackshotGeneratorArgs,
    /// Where Replicate's model takes the input images of photo shoots and
    /// packshots: `product=input_image`, or `product=image_input[],model=image_input[]`
    /// for a list (roles: product, model, scenery). Unset: Replicate makes
    /// no pictures from a product.
    #[arg(long, env = "MANNEQUIN_REPLICATE_IMAGE_INPUTS", value_parser = image_inputs)]
    pub replicate_image_inputs: Option<crate::generator::ImageInputs>,
    /// Where the built-in places a product on the model when its name does
    /// not say (top, bottom, dress, shoes, bag, accessory).
    #[arg(long, env = "MANNEQUIN_DEFAULT_PRODUCT_CATEGORY", default_value = "top",
          value_parser = product_category)]
    pub default_product_category: mannequin_domain::ideas::shoot::Category,
    /// Base URL of the image server (`http(s)://host[:port][/path]`;
    /// `user:password@` for basic auth). Defaults: the public OpenAI and
    /// Replicate APIs, `http://127.0.0.1:7860` (web UI), `http://127.0.0.1:8188`
    /// (ComfyUI). The API key comes only from the environment:
    /// MANNEQUIN_GENERATOR_API_KEY (or OPENAI_API_KEY, REPLICATE_API_TOKEN).
    #[arg(long, env = "MANNEQUIN_GENERATOR_URL")]
    pub generator_url: Option<String>,
    /// The model: `gpt-image-1`, a web UI checkpoint, Replicate's
    /// `owner/name[:version]`.
    #[arg(long, env = "MANNEQUIN_GENERATOR_MODEL")]
    pub generator_model: Option<String>,
    /// A ComfyUI workflow saved in API format, with {{prompt}} and friends.
    #[arg(long, env = "MANNEQUIN_COMFYUI_WORKFLOW")]
    pub comfyui_workflow: Option<PathBuf>,
    /// Size asked of the image server, `WIDTHxHEIGHT`; default: a portrait
    /// size suited to the backend (1024x1536 OpenAI, 832x1216 the others).
    #[arg(long, env = "MANNEQUIN_IMAGE_SIZE", value_parser = image_size)]
    pub image_size: Option<(u32, u32)>,
    /// The prompt around the customer's words: {{preferences}} (required) and
    /// {{details}} (what the batch varies).
    #[arg(long, env = "MANNEQUIN_PROMPT_TEMPLATE", value_parser = prompt_template)]
    pub prompt_template: Option<Template>,
    /// What backends that take a negative prompt are asked to avoid.
    #[arg(long, env = "MANNEQUIN_NEGATIVE_PROMPT", default_value = DEFAULT_NEGATIVE)]
    pub negative_prompt: String,
    /// Seconds one model's generation may take, waiting included, before it
    /// is retried.
    #[arg(long, env = "MANNEQUIN_GENERATOR_TIMEOUT_SECS", default_value_t = 300,
          value_parser = value_parser!(u64).range(1..=86_400))]
    pub generator_timeout_secs: u64,
    /// Extra milliseconds per model in the built-in generator, to imitate a
    /// slower image model (tests, load experiments).
    #[arg(long, env = "MANNEQUIN_GENERATOR_DELAY_MS", default_value_t = 0)]
    pub generator_delay_ms: u64,
    /// Where jobs wait for workers.
    #[arg(long, env = "MANNEQUIN_QUEUE", value_enum, default_value = "database")]
    pub queue: QueueKind,
    /// NATS server(s), with `--queue nats` (comma-separated for a cluster).
    #[arg(
        long,
        env = "MANNEQUIN_NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    pub nats_url: String,
    /// JetStream stream name; installations sharing one NATS use different names.
    #[arg(long, env = "MANNEQUIN_NATS_STREAM", default_value = "mannequin-jobs")]
    pub nats_stream: String,
    /// Jobs handed to NATS that no worker has started, at most; the rest wait
    /// in the outbox in fair order. Above the workers' total concurrency;
    /// smaller is fairer between accounts, larger takes fewer relay trips.
    #[arg(long, env = "MANNEQUIN_NATS_WINDOW", default_value_t = 256,
          value_parser = value_parser!(u32).range(1..=100_000))]
    pub nats_window: u32,
    /// Models of one account generating at once, at most, over all workers
    /// (with NATS: running or handed to the stream), so that one tenant
    /// cannot hold every worker; 0: no cap. The same on every process.
    #[arg(long, env = "MANNEQUIN_ACCOUNT_MAX_IN_FLIGHT", default_value_t = 0)]
    pub account_max_in_flight: u32,
    /// Where images are stored.
    #[arg(
        long,
        env = "MANNEQUIN_BLOB_STORE",
        value_enum,
        default_value = "local"
    )]
    pub blob_store: BlobStoreKind,
    /// Bucket, with `--blob-store s3`.
    #[arg(long, env = "MANNEQUIN_S3_BUCKET")]
    pub s3_bucket: Option<String>,
    /// Endpoint of an S3-compatible server (`http(s)://host:port`); unset for AWS.
    #[arg(long, env = "MANNEQUIN_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    #[arg(long, env = "MANNEQUIN_S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,
    /// Path-style requests (`endpoint/bucket/key`), as most S3-compatible
    /// servers want; `false` for virtual-hosted style (`bucket.endpoint/key`).
    #[arg(long, env = "MANNEQUIN_S3_PATH_STYLE", default_value_t = true, action = ArgAction::Set)]
    pub s3_path_style: bool,
    /// Base URL that serves the bucket's objects publicly (a public bucket or a
    /// CDN); unset: images are served through the API's `/media/` route.
    #[arg(long, env = "MANNEQUIN_S3_PUBLIC_URL")]
    pub s3_public_url: Option<String>,
    /// Sign image URLs so that they expire: a secret of 32 characters or more,
    /// the same on every process. `/media/` URLs then carry an HMAC; images
    /// in S3 get presigned bucket URLs. Unset: image URLs are unguessable but
    /// public, for good.
    #[arg(long, env = "MANNEQUIN_MEDIA_SIGNING_KEY", hide_env_values = true, value_parser = signing_key)]
    pub media_signing_key: Option<SecretString>,
    /// How long a signed image URL works, at least (units s, m, h, d; at most 7d).
    #[arg(long, env = "MANNEQUIN_MEDIA_URL_TTL", default_value = "1h", value_parser = url_ttl)]
    pub media_url_ttl: Duration,
}

fn product_category(s: &str) -> Result<mannequin_domain::ideas::shoot::Category, String> {
    use mannequin_domain::ideas::shoot::Category;
    Category::ALL
        .iter()
        .copied()
        .find(|c| c.label().eq_ignore_ascii_case(s.trim()))
        .ok_or_else(|| {
            let all: Vec<&str> = Category::ALL.iter().map(|c| c.label()).collect();
            format!("'{s}' is not one of {}", all.join(", "))
        })
}

/// A secret given on the command line or in the environment.
pub fn secret(s: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(s.into())
}

fn signing_key(s: &str) -> Result<SecretString, String> {
    if s.chars().count() < 32 {
        return Err(
            "a signing key needs 32 characters or more (for example `openssl rand -hex 32`)".into(),
        );
    }
    Ok(s.into())
}

fn url_ttl(s: &str) -> Result<Duration, String> {
    match timeout(s)? {
        d if d < Duration::from_secs(60) => Err(format!("'{s}' is under a minute")),
        // Presigned S3 URLs last a week at most.
        d if d > Duration::from_secs(7 * 86_400) => Err(format!("'{s}' is longer than 7 days")),
        d => Ok(d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_sizes_and_templates_are_checked_when_read() {
        assert!(cors_origin("https://shop.example").is_ok());
        assert!(cors_origin("http://localhost:3000").is_ok());
        assert!(cors_origin("*").is_ok());
        for bad in [
            "shop.example",
            "https://shop.example/",
            "ftp://x",
            "https://",
        ] {
            assert!(cors_origin(bad).is_err(), "{bad}");
        }
        assert_eq!(image_size("832x1216"), Ok((832, 1216)));
        assert_eq!(image_size("1024×1536"), Ok((1024, 1536)));
        for bad in ["832", "0x100", "100x5000", "axb"] {
            assert!(image_size(bad).is_err(), "{bad}");
        }
        assert!(prompt_template("a photo").is_err());
        assert!(prompt_template("{{preferences}}, studio").is_ok());
    }
}

/// How long clients may take and how many may be connected (both listeners).
#[derive(Debug, Clone, Args)]
pub struct ConnArgs {
    /// How long a client may take to send a request's line and headers,
    /// from its first byte or from connecting (then 408 and closed).
    #[arg(long, env = "MANNEQUIN_HEADER_TIMEOUT", default_value = "10s", value_parser = timeout)]
    pub header_timeout: Duration,
    /// How long a client may take to send a request's body, from its first
    /// read (then 408 and closed).
    #[arg(long, env = "MANNEQUIN_BODY_TIMEOUT", default_value = "30s", value_parser = timeout)]
    pub body_timeout: Duration,
    /// How long a connection may stay open between requests, or make no
    /// progress taking its answer, before it is closed.
    #[arg(long, env = "MANNEQUIN_IDLE_TIMEOUT", default_value = "60s", value_parser = timeout)]
    pub idle_timeout: Duration,
    /// Connections open at once; at the limit the one idle longest is closed
    /// to make room. Default and most: the open-file limit (raised to its
    /// hard limit at start) less a quarter of it (at most 1024), at most
    /// 65536.
    #[arg(long, env = "MANNEQUIN_MAX_CONNECTIONS", value_parser = value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,
}

impl ConnArgs {
    pub fn limits(&self) -> crate::http::server::Limits {
        let mut limits = crate::http::server::Limits::defaults();
        limits.header_timeout = self.header_timeout;
        limits.body_timeout = self.body_timeout;
        limits.idle_timeout = self.idle_timeout;
        match self.max_connections.map(|n| n as usize) {
            Some(n) if n > limits.max_connections => tracing::warn!(
                "--max-connections {n} is more than {} open files allow \
                 (connections are files, and the database and images need some); \
                 using {}",
                crate::http::server::open_file_limit(),
                limits.max_connections
            ),
            Some(n) => limits.max_connections = n,
            None => {}
        }
        limits
    }
}

/// A timeout setting: a duration with a unit (ms, s, m, h), above zero.
fn timeout(s: &str) -> Result<Duration, String> {
    match crate::webhooks::parse_duration(s)? {
        d if d.is_zero() => Err(format!("'{s}' must be longer than zero")),
        d => Ok(d),
    }
}

impl WorkerArgs {
    /// Where the operator listener listens, if anywhere: `--metrics-listen`,
    /// or the default of `serve` (`api`) or of `worker`.
    pub fn operator_addr(&self, api: bool) -> Option<SocketAddr> {
        match self.metrics_listen {
            Some(MetricsListen(addr)) => addr,
            None if api => Some(SocketAddr::from(([127, 0, 0, 1], 9464))),
            None => Some(SocketAddr::from(([127, 0, 0, 1], 9465))),
        }
    }
}

/// `--metrics-listen`: the operator listener's address, `None` for `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsListen(pub Option<SocketAddr>);

fn parse_metrics_listen(s: &str) -> Result<MetricsListen, String> {
    if s.eq_ignore_ascii_case("off") {
        return Ok(MetricsListen(None));
    }
    s.parse()
        .map(|a| MetricsListen(Some(a)))
        .map_err(|e| format!("{e}: an address such as 127.0.0.1:9464, or off"))
}
