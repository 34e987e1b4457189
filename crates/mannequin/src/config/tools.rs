//! The arguments of the one-shot tools: the description's printer, the
//! preview and the benchmark's filler.

use std::path::PathBuf;

use clap::Args;

use super::DbArgs;

#[derive(Debug, Args)]
pub struct OpenapiArgs {
    /// The server URL the description names.
    #[arg(long, default_value = OpenapiArgs::DEFAULT_URL)]
    pub public_url: String,
}

impl OpenapiArgs {
    /// The server `docs/openapi.json` names: the default `--listen`.
    pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";
}

#[derive(Debug, Args)]
pub struct BenchFillArgs {
    #[command(flatten)]
    pub db: DbArgs,
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
}
