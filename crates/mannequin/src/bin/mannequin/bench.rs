//! `mannequin bench`: measures a running server over HTTP.
//!
//! The bench registers ideas (count 10) until the account holds the models it
//! needs, waits until they are all settled (nothing reserved is left) to
//! measure models per second through the whole pipeline, then lists the models with `limit=100` and with the default
//! page on the now quiet server.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::json;

use mannequin::error::BoxError;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Base URL of the server.
    #[arg(
        long,
        env = "MANNEQUIN_BENCH_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: String,
    /// An API key of an account with enough credits (register-requests × 10 ×
    /// price). Several, separated by commas: register calls go to each
    /// account in turn (lists use the first).
    #[arg(
        long,
        env = "MANNEQUIN_API_KEY",
        value_delimiter = ',',
        required = true
    )]
    pub api_key: Vec<String>,
    /// Only the register calls: no waiting for the queue, no lists (for a
    /// server without workers).
    #[arg(long)]
    pub register_only: bool,
    /// register-ideas calls (count 10 each): 1000 gives the account 10,000 models.
    #[arg(long, default_value_t = 1000)]
    pub register_requests: u64,
    /// List calls per page size.
    #[arg(long, default_value_t = 500)]
    pub list_requests: u64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: u64,
    /// PID of the server, to report its peak memory (Linux).
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Also list a page this many models into the account (`limit=100` with a
    /// cursor found by walking pages of 1000) and the approved models.
    #[arg(long)]
    pub deep_after: Option<u64>,
    /// Give up waiting for the queue to drain after this many seconds.
    #[arg(long, default_value_t = 900)]
    pub drain_timeout_secs: u64,
    /// What the register calls order, and the lists list. Photo shoots
    /// (`image-picker`) and packshots are made from the products uploaded
    /// first (`--uploads`), each call naming one of them in turn.
    #[arg(long, default_value = "models",
          value_parser = ["models", "sceneries", "image-picker", "packshots"])]
    pub collection: String,
    /// Upload this many product photos first, `--concurrency` at once.
    #[arg(long, default_value_t = 0)]
    pub uploads: u64,
    /// The photo uploaded; without it, a JPEG of noise made here, of
    /// `--upload-size` pixels.
    #[arg(long)]
    pub upload_file: Option<std::path::PathBuf>,
    /// The generated photo's size, `WIDTHxHEIGHT`: 3300x2500 is just under
    /// 20 MB, 1700x1230 about 5 MB.
    #[arg(long, default_value = "3300x2500", value_parser = size)]
    pub upload_size: (u16, u16),
    /// Only the uploads (and the server's memory).
    #[arg(long)]
    pub upload_only: bool,
}

fn size(s: &str) -> Result<(u16, u16), String> {
    s.split_once('x')
        .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
        .filter(|(w, h)| *w > 0 && *h > 0)
        .ok_or_else(|| format!("'{s}' is not WIDTHxHEIGHT"))
}

/// Uploads `args.uploads` photos, `args.concurrency` at once, reports their
/// rate, latency and bytes per second, and returns the products' ids.
async fn upload_phase(
    client: &reqwest::Client,
    url: &str,
    args: &BenchArgs,
) -> Result<Vec<String>, BoxError> {
    let (w, h) = args.upload_size;
    let photo = match &args.upload_file {
        Some(path) => std::fs::read(path)?,
        None => tokio::task::spawn_blocking(move || mannequin_render::noise_jpeg(w, h, 7)).await?,
    };
    let boundary = "mannequin-bench-upload";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"photo.jpg\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&photo);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let body = axum::body::Bytes::from(body);
    println!(
        "uploads: {} photos of {:.1} MB, {} at once",
        args.uploads,
        photo.len() as f64 / 1e6,
        args.concurrency
    );
    let (c, u, k) = (client.clone(), url.to_string(), args.api_key[0].clone());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let ids = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let found = ids.clone();
    let mut p = phase(
        "upload a product photo",
        args.uploads,
        args.concurrency,
        move |_| {
            let (c, u, k, b, t, ids) = (
                c.clone(),
                u.clone(),
                k.clone(),
                body.clone(),
                content_type.clone(),
                found.clone(),
            );
            async move {
                let res = c
                    .post(format!("{u}/api/external/products"))
                    .header("X-Api-Key", k)
                    .header("Content-Type", t)
                    .body(b)
                    .send()
                    .await;
                let Ok(res) = res
                    .map_err(drop)
                    .and_then(|r| r.error_for_status().map_err(drop))
                else {
                    return false;
                };
                match res.json::<serde_json::Value>().await {
                    Ok(v) => match v["id"].as_str() {
                        Some(id) => {
                            ids.lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .push(id.to_string());
                            true
                        }
                        None => false,
                    },
                    Err(_) => false,
                }
            }
        },
    )
    .await;
    p.report();
    let ok = p.latencies.len() as u64 - p.errors;
    println!(
        "{:<32} {:.1} MB/s of photos received, cleaned and stored",
        "upload throughput",
        (ok as f64 * photo.len() as f64) / 1e6 / p.elapsed.as_secs_f64()
    );
    let ids = ids.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Ok(ids)
}

struct Phase {
    name: String,
    latencies: Vec<Duration>,
    errors: u64,
    elapsed: Duration,
}

impl Phase {
    fn report(&mut self) {
        self.latencies.sort();
        let pct = |p: f64| -> f64 {
            if self.latencies.is_empty() {
                return 0.0;
            }
            let i = ((self.latencies.len() as f64 * p).ceil() as usize)
                .clamp(1, self.latencies.len())
                - 1;
            self.latencies[i].as_secs_f64() * 1000.0
        };
        println!(
            "{:<32} {:>7} req {:>9.1} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms   errors {}",
            self.name,
            self.latencies.len(),
            self.latencies.len() as f64 / self.elapsed.as_secs_f64(),
            pct(0.50),
            pct(0.99),
            pct(1.0),
            self.errors
        );
    }
}

async fn phase<F, Fut>(name: &str, total: u64, concurrency: u64, make: F) -> Phase
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let next = Arc::new(AtomicU64::new(0));
    let make = Arc::new(make);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let next = next.clone();
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let t = Instant::now();
                let ok = make(i).await;
                lat.push(t.elapsed());
                if !ok {
                    errors += 1;
                }
            }
            (lat, errors)
        }));
    }
    let mut p = Phase {
        name: name.to_string(),
        latencies: Vec::new(),
        errors: 0,
        elapsed: Duration::ZERO,
    };
    for t in tasks {
        if let Ok((lat, errors)) = t.await {
            p.latencies.extend(lat);
            p.errors += errors;
        }
    }
    p.elapsed = started.elapsed();
    p
}

/// `GET url` with the API key `key`: the JSON body of a success.
async fn get_json(
    client: &reqwest::Client,
    url: &str,
    key: &str,
) -> Result<serde_json::Value, BoxError> {
    Ok(client
        .get(url)
        .header("X-Api-Key", key)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

/// The credits the accounts of `keys` still hold reserved: zero once every
/// model registered on them is settled. One row read per account, so waiting
/// for it loads the server far less than counting the queue would.
async fn reserved(client: &reqwest::Client, url: &str, keys: &[String]) -> Result<i64, BoxError> {
    let mut sum = 0;
    for key in keys {
        let credits = get_json(client, &format!("{url}/api/external/credits"), key).await?;
        sum += credits["reserved"]
            .as_i64()
            .ok_or("GET /credits gave no reserved credits")?;
    }
    Ok(sum)
}

fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub async fn run(args: BenchArgs) -> Result<(), BoxError> {
    let url = args.url.trim_end_matches('/').to_string();
    let client = mannequin::http_client()
        .pool_max_idle_per_host(args.concurrency as usize * 2)
        .build()?;
    let lists = if args.register_only {
        "no lists".to_string()
    } else {
        format!("{} lists per page size", args.list_requests)
    };
    println!(
        "mannequin bench against {url}: {} register-ideas (count 10) across {} account(s), {lists}, concurrency {}",
        args.register_requests,
        args.api_key.len(),
        args.concurrency
    );

    let products = if args.uploads > 0 {
        let ids = upload_phase(&client, &url, &args).await?;
        report_memory(args.server_pid);
        if args.upload_only {
            return Ok(());
        }
        ids
    } else {
        Vec::new()
    };
    let pictures = matches!(args.collection.as_str(), "image-picker" | "packshots");
    if pictures && products.is_empty() {
        return Err(format!(
            "--collection {} needs products: --uploads N",
            args.collection
        )
        .into());
    }
    let products = std::sync::Arc::new(products);
    let started = Instant::now();
    let (c, u, keys) = (client.clone(), url.clone(), args.api_key.clone());
    let collection = args.collection.clone();
    let mut reg = phase("register-ideas (count 10)", args.register_requests, args.concurrency, move |i| {
        let (c, u, collection) = (c.clone(), u.clone(), collection.clone());
        let k = keys[i as usize % keys.len()].clone();
        let product = products.get(i as usize % products.len().max(1)).cloned();
        async move {
            let body = match product.filter(|_| pictures) {
                Some(id) => json!({"config": {"product": {"id": id}, "suggestions": format!("shot {i}")}, "count": 10}),
                None => json!({"preferences": format!("model {i}, casual, natural makeup"), "count": 10}),
            };
            matches!(
                c.post(format!("{u}/api/external/{collection}/register-ideas"))
                    .header("X-Api-Key", k)
                    .json(&body)
                    .send()
                    .await,
                Ok(r) if r.status().is_success()
            )
        }
    })
    .await;
    reg.report();
    let registered_models = (reg.latencies.len() as u64 - reg.errors) * 10;
    if args.register_only {
        return Ok(());
    }

    // Every model registered is settled (DONE, or FAILED and refunded) once
    // its account holds nothing reserved.
    let deadline = Instant::now() + Duration::from_secs(args.drain_timeout_secs);
    loop {
        let held = reserved(&client, &url, &args.api_key).await?;
        if held == 0 {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{held} credits are still reserved after {}s",
                args.drain_timeout_secs
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pipeline = started.elapsed();
    let what = if pictures { "pictures" } else { "models" };
    println!(
        "{:<32} {:>7} {what} in {:.1} s: {:.1} {what}/s end to end",
        "pipeline (register → DONE)",
        registered_models,
        pipeline.as_secs_f64(),
        registered_models as f64 / pipeline.as_secs_f64()
    );
    for (label, query) in [
        (
            format!("list {} (limit=100)", args.collection),
            "?limit=100",
        ),
        (format!("list {} (default, 1000)", args.collection), ""),
    ] {
        list_phase(&client, &url, &args, &label, query).await;
    }

    if let Some(skip) = args.deep_after {
        let cursor = walk(&client, &url, &args.api_key[0], skip).await?;
        let deep = format!("?limit=100&cursor={cursor}");
        for (label, query) in [
            ("list models (deep, limit=100)", deep.as_str()),
            (
                "list approved (limit=100)",
                "?limit=100&statusFilter=approved",
            ),
        ] {
            list_phase(&client, &url, &args, label, query).await;
        }
    }

    report_memory(args.server_pid);
    Ok(())
}

fn report_memory(server_pid: Option<u32>) {
    if let Some(pid) = server_pid {
        match peak_rss_mib(pid) {
            Some(m) => println!(
                "{:<32} {m:.1} MiB peak resident memory (VmHWM)",
                "server memory"
            ),
            None => println!("server memory: could not read /proc/{pid}/status"),
        }
    }
}

/// Lists the account's models with `query`, `list_requests` times, and
/// reports the phase. One untimed request per connection goes first, so
/// that no timed request waits for a connection to open.
async fn list_phase(
    client: &reqwest::Client,
    url: &str,
    args: &BenchArgs,
    label: &str,
    query: &str,
) {
    if args.list_requests == 0 {
        return;
    }
    let (c, u, k, q) = (
        client.clone(),
        format!("{url}/api/external/{}", args.collection),
        args.api_key[0].clone(),
        query.to_string(),
    );
    let list = move |_| {
        let (c, u, k, q) = (c.clone(), u.clone(), k.clone(), q.clone());
        async move {
            match c.get(format!("{u}{q}")).header("X-Api-Key", k).send().await {
                Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                _ => false,
            }
        }
    };
    phase("warm-up", args.concurrency, args.concurrency, list.clone()).await;
    let mut p = phase(label, args.list_requests, args.concurrency, list).await;
    p.report();
}

/// The cursor `skip` models into the account, found by walking its pages.
async fn walk(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    skip: u64,
) -> Result<String, BoxError> {
    let mut cursor = String::new();
    let mut seen = 0;
    while seen < skip {
        let limit = (skip - seen).min(1000);
        let mut query = format!("?limit={limit}");
        if !cursor.is_empty() {
            query.push_str(&format!("&cursor={cursor}"));
        }
        let page = get_json(client, &format!("{url}/api/external/models{query}"), key).await?;
        seen += page["count"].as_u64().unwrap_or(0);
        match page["nextCursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => return Err(format!("the account holds only {seen} models").into()),
        }
    }
    Ok(cursor)
}

/// `mannequin bench-fill`: adds settled models to an account straight
/// through the store.
pub async fn fill(args: &crate::cli::BenchFillArgs) -> Result<(), BoxError> {
    let store = mannequin::app::open_store(&args.db).await?;
    let account = mannequin_domain::ids::AccountId::parse(&args.account)
        .ok_or("--account is not an account id")?;
    let started = Instant::now();
    let n = store
        .fill_account(&account, args.models, mannequin::clock::now_ms())
        .await?;
    println!(
        "filled {} with {n} models in {:.1} s",
        account.as_str(),
        started.elapsed().as_secs_f64()
    );
    store.close().await;
    Ok(())
}
