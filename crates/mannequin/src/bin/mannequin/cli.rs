//! The command line: every command the binary runs, and the arguments of
//! those that live in the binary (the terminal client, the benchmark, the
//! preview, the stand-in image server). The service's own options
//! (`serve`, `worker`, `migrate`, `admin`) are the library's `config`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use mannequin::config::{AdminCommand, DbArgs, ServeArgs, WorkerArgs};

/// `mannequin --version`: the version, the commit and the build date.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("MANNEQUIN_COMMIT"),
    ", built ",
    env!("MANNEQUIN_BUILD_DATE"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "mannequin",
    version = VERSION,
    about = "AI models (mannequins) for product photography, as a service."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API and, unless --no-worker, an in-process worker.
    Serve(Box<ServeArgs>),
    /// Run only the worker.
    Worker(Box<WorkerArgs>),
    /// Apply database migrations and exit.
    Migrate(DbArgs),
    /// Operator tasks: accounts, keys, credits, audit. Prints JSON.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Use the Models API from a terminal: list models, generate a batch.
    Models(crate::client::ClientArgs),
    /// Use the Sceneries API from a terminal: list sceneries, generate a batch.
    Sceneries(crate::client::ClientArgs),
    /// The account's product photos from a terminal: upload, list, delete.
    Products(crate::products::ProductArgs),
    /// Measure a running server: request rates, latency percentiles, models/s.
    Bench(crate::bench::BenchArgs),
    /// Fill an account with N settled models straight through the store, for
    /// listing benchmarks at scale (not for accounts people use).
    #[command(hide = true)]
    BenchFill(BenchFillArgs),
    /// Render the ideas a text would give, to image files, without a server.
    Preview(PreviewArgs),
    /// An OpenAI-compatible stand-in image server (a fixed delay, a drawn
    /// portrait), to try `--generator openai` or measure against.
    FakeImageServer(crate::fake_image_server::FakeImageServerArgs),
    /// Print the API's OpenAPI description (what `/api/external/openapi.json`
    /// serves) to standard output; `docs/openapi.json` is this, regenerated.
    Openapi(OpenapiArgs),
    /// The settings files: `mannequin config check`.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print a shell's completion script to standard output:
    /// `mannequin completions bash > /etc/bash_completion.d/mannequin`.
    Completions { shell: clap_complete::Shell },
    /// Write the manual pages (`mannequin.1`, and `mannequin-serve.1` and so on
    /// for each command) into a folder; without --out, print `mannequin.1`.
    Man {
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print every setting of `serve` (and so of `worker`) as it would take
    /// effect, as TOML, each with where it came from (flag, variable, file or
    /// default), secrets redacted; exit non-zero on a setting that would be
    /// refused.
    Check(Box<ServeArgs>),
}

#[derive(Debug, Args)]
pub struct OpenapiArgs {
    /// The server URL the description names.
    #[arg(long, default_value = mannequin::http::DEFAULT_PUBLIC_URL)]
    pub public_url: String,
}

#[derive(Debug, Args)]
pub struct BenchFillArgs {
    #[command(flatten)]
    pub db: mannequin::config::DbArgs,
    /// The account to fill.
    #[arg(long)]
    pub account: String,
    /// How many models to add.
    #[arg(long)]
    pub models: u64,
}

#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// The preferences text, as in register-ideas.
    pub preferences: String,
    #[arg(long, default_value_t = 4)]
    pub count: u32,
    /// Folder to write `<n>.png` and `<n>.jpg` into.
    #[arg(long, default_value = "preview")]
    pub out: PathBuf,
    /// Seed for the ideas (a batch id plays this part in the service).
    #[arg(long, default_value = "preview")]
    pub seed: String,
    /// Sceneries (empty sets, landscape) instead of models.
    #[arg(long)]
    pub scenery: bool,
}
