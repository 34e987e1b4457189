//! `mannequin models …` and `mannequin sceneries …`: the API from a
//! terminal. Lists a kind's assets, and generates a batch while showing its
//! progress.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use mannequin::error::BoxError;
use mannequin_domain::AssetKind;

#[derive(Debug, Args)]
pub struct ClientArgs {
    #[command(flatten)]
    pub api: ApiArgs,
    #[command(subcommand)]
    pub command: ClientCommand,
}

/// Where the service is and which key to use: every client command's.
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// Base URL of the service.
    #[arg(
        long,
        env = "MANNEQUIN_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub url: String,
    /// API key (`mk_live_…`).
    #[arg(long, env = "MANNEQUIN_API_KEY", global = true, hide_env_values = true,
          value_parser = mannequin::config::secret)]
    pub api_key: Option<mannequin::SecretString>,
    /// Print the API's JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// List the account's models (or sceneries), newest first.
    List {
        /// Only approved ones.
        #[arg(long)]
        approved: bool,
        /// Only the ones of this batch.
        #[arg(long)]
        batch: Option<String>,
        /// How many to show (follows pages as needed).
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Register ideas and wait until every one is finished.
    Generate {
        /// What they should look like.
        preferences: String,
        /// How many; default: the API's (10).
        #[arg(long)]
        count: Option<u32>,
        /// Give up waiting after this many seconds (the batch goes on).
        #[arg(long, default_value_t = 600)]
        timeout_secs: u64,
    },
}

pub struct Api {
    pub client: reqwest::Client,
    pub url: String,
    key: mannequin::SecretString,
    /// `models` or `sceneries`: the collection's path and list key.
    collection: &'static str,
}

impl Api {
    pub fn new(args: &ApiArgs, collection: &'static str) -> Result<Api, BoxError> {
        let key = args
            .api_key
            .clone()
            .ok_or("an API key is needed: --api-key or MANNEQUIN_API_KEY")?;
        Ok(Api {
            client: mannequin::http_client().build()?,
            url: args.url.trim_end_matches('/').to_string(),
            key,
            collection,
        })
    }

    pub async fn call(&self, req: reqwest::RequestBuilder) -> Result<Value, BoxError> {
        let res = req
            .header(
                "X-Api-Key",
                mannequin::ExposeSecret::expose_secret(&self.key),
            )
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            Ok(body)
        } else {
            let msg = body["error"].as_str().unwrap_or("no error message");
            Err(format!("{status}: {msg}").into())
        }
    }

    /// A request that got no answer: which URL was tried and how to set it.
    pub fn unreachable(&self, e: reqwest::Error) -> BoxError {
        let what = if e.is_connect() {
            "nothing answered at"
        } else if e.is_timeout() {
            "no answer in time from"
        } else {
            "the connection failed to"
        };
        format!(
            "{what} {} (set the service's URL with --url or MANNEQUIN_URL): {}",
            self.url,
            mannequin::error::Report(&e)
        )
        .into()
    }

    pub async fn page(&self, query: &[(&str, String)]) -> Result<Value, BoxError> {
        self.call(
            self.client
                .get(format!("{}/api/external/{}", self.url, self.collection))
                .query(query),
        )
        .await
    }
}

fn print_table(models: &[Value]) {
    println!(
        "{:<32}  {:<10}  {:<9}  {:<28}  THUMBNAIL",
        "ID", "STATUS", "VOTING", "NAME"
    );
    for m in models {
        println!(
            "{:<32}  {:<10}  {:<9}  {:<28}  {}",
            m["id"].as_str().unwrap_or(""),
            m["status"].as_str().unwrap_or(""),
            m["voting"].as_str().unwrap_or(""),
            m["name"].as_str().unwrap_or(""),
            m["thumbnail"].as_str().unwrap_or("-")
        );
        for line in details(m) {
            println!("    {line}");
        }
    }
}

/// What the generator was asked and said for a model, one line each.
fn details(m: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(g) = m["generator"].as_str() {
        match m["seed"].as_i64() {
            Some(seed) => lines.push(format!("generator: {g}, seed {seed}")),
            None => lines.push(format!("generator: {g}")),
        }
    }
    for (field, label) in [
        ("failureReason", "failed"),
        ("generatorNotes", "notes"),
        ("prompt", "prompt"),
    ] {
        if let Some(v) = m[field].as_str() {
            lines.push(format!("{label}: {v}"));
        }
    }
    lines
}

fn progress(done: usize, total: usize, started: Instant) {
    if !std::io::stderr().is_terminal() {
        return;
    }
    let width = 30;
    let filled = (done * width).checked_div(total).unwrap_or(width);
    eprint!(
        "\r[{}{}] {done}/{total} finished  {:>4.0}s",
        "#".repeat(filled),
        "-".repeat(width - filled),
        started.elapsed().as_secs_f64()
    );
    let _ = std::io::stderr().flush();
}

pub async fn run(kind: AssetKind, args: ClientArgs) -> Result<(), BoxError> {
    let collection = kind.declaration().collection;
    let api = Api::new(&args.api, collection)?;
    match args.command {
        ClientCommand::List {
            approved,
            batch,
            limit,
        } => {
            let mut models = Vec::new();
            let mut cursor: Option<String> = None;
            while models.len() < limit as usize {
                let mut query = vec![(
                    "limit",
                    (limit as usize - models.len()).min(1000).to_string(),
                )];
                if approved {
                    query.push(("statusFilter", "approved".into()));
                }
                if let Some(b) = &batch {
                    query.push(("batchId", b.clone()));
                }
                if let Some(c) = &cursor {
                    query.push(("cursor", c.clone()));
                }
                let page = api.page(&query).await?;
                models.extend(page[collection].as_array().cloned().unwrap_or_default());
                match page["nextCursor"].as_str() {
                    Some(c) => cursor = Some(c.to_string()),
                    None => break,
                }
            }
            if args.api.json {
                println!("{}", json!({collection: models, "count": models.len()}));
            } else if models.is_empty() && (approved || batch.is_some()) {
                println!("No {collection} match.");
            } else if models.is_empty() {
                println!(
                    "No {collection} yet: order some with 'mannequin {collection} generate \"…\"'."
                );
            } else {
                print_table(&models);
            }
        }
        ClientCommand::Generate {
            preferences,
            count,
            timeout_secs,
        } => {
            let count = count.unwrap_or(kind.declaration().default_count);
            let registered = api
                .call(
                    api.client
                        .post(format!(
                            "{}/api/external/{collection}/register-ideas",
                            api.url
                        ))
                        .json(&json!({"preferences": preferences, "count": count})),
                )
                .await?;
            let batch = registered["batchId"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            eprintln!(
                "batch {batch}: {count} {collection}, {} credits reserved",
                registered["creditsReserved"]
            );
            let started = Instant::now();
            let models = loop {
                let page = api
                    .page(&[("batchId", batch.clone()), ("limit", "20".into())])
                    .await?;
                let models = page[collection].as_array().cloned().unwrap_or_default();
                let finished = models
                    .iter()
                    .filter(|m| {
                        matches!(m["status"].as_str(), Some("DONE" | "FAILED" | "CANCELLED"))
                    })
                    .count();
                progress(finished, models.len(), started);
                if finished == models.len() {
                    break models;
                }
                if started.elapsed() > Duration::from_secs(timeout_secs) {
                    eprintln!();
                    return Err(
                        format!("batch {batch} is still running after {timeout_secs}s").into(),
                    );
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            };
            if std::io::stderr().is_terminal() {
                eprintln!();
            }
            if args.api.json {
                println!("{}", json!({"batchId": batch, collection: models}));
            } else {
                print_table(&models);
            }
            let failed = models.iter().filter(|m| m["status"] != "DONE").count();
            if failed > 0 {
                return Err(
                    format!("{failed} of {} {collection} did not finish", models.len()).into(),
                );
            }
        }
    }
    Ok(())
}
