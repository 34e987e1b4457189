//! The test harness: the real app on port 0 in a temporary data directory, an
//! HTTP client, and helpers to make accounts and keys and drive the worker.
//!
//! `MANNEQUIN_TEST_STACK=scale` runs the same tests on the scale-out stack: a
//! fresh PostgreSQL database, a NATS stream and an S3 bucket per test (moto at
//! `MANNEQUIN_TEST_S3_ENDPOINT`, or one started per test).

use crate::services;

use std::sync::Arc;

use clap::Parser;
use mannequin::app::{self, Overrides, Running};
use mannequin::clock::{new_id, now_ms};
use mannequin::config::ServeArgs;
use mannequin::generator::Generator;
use mannequin::keys::{self, Scope};
use mannequin_domain::Credits;
use mannequin_domain::ids::AccountId;
use serde_json::{Value, json};
use tempfile::TempDir;

/// Which backends the app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stack {
    /// SQLite, the database queue, local disk.
    Embedded,
    /// PostgreSQL, NATS JetStream, S3.
    Scale,
}

pub fn stack() -> Stack {
    match std::env::var("MANNEQUIN_TEST_STACK").as_deref() {
        Ok("scale") => Stack::Scale,
        _ => Stack::Embedded,
    }
}

/// The services a scale-stack app uses, released with it.
struct ScaleGuards {
    db: services::TestDatabase,
    _stream: services::TestStream,
    _s3: Option<services::S3Server>,
}

/// Flags that put the app on the scale stack, and what to keep alive.
async fn scale_flags() -> (Vec<String>, ScaleGuards) {
    services::aws_test_credentials();
    let db = services::TestDatabase::create()
        .await
        .expect("the scale stack needs PostgreSQL");
    let stream = services::nats_stream()
        .await
        .expect("the scale stack needs NATS");
    let (endpoint, bucket, s3) = match std::env::var("MANNEQUIN_TEST_S3_ENDPOINT") {
        Ok(endpoint) => {
            let bucket = services::create_bucket(&endpoint).await;
            (endpoint, bucket, None)
        }
        Err(_) => {
            let s3 = services::S3Server::start()
                .await
                .expect("the scale stack needs moto");
            (s3.endpoint.clone(), s3.bucket.clone(), Some(s3))
        }
    };
    let flags = [
        "--database-url",
        &db.url,
        "--queue",
        "nats",
        "--nats-url",
        &services::nats_url(),
        "--nats-stream",
        &stream.name,
        "--blob-store",
        "s3",
        "--s3-bucket",
        &bucket,
        "--s3-endpoint",
        &endpoint,
    ]
    .map(String::from)
    .to_vec();
    (
        flags,
        ScaleGuards {
            db,
            _stream: stream,
            _s3: s3,
        },
    )
}

pub struct TestApp {
    pub running: Running,
    pub dir: TempDir,
    scale: Option<ScaleGuards>,
    pub url: String,
    /// The operator listener (`/metrics`), `http://127.0.0.1:…`.
    pub metrics_url: String,
    pub client: reqwest::Client,
    /// The starter account and its key (all scopes, 1000 credits).
    pub account: AccountId,
    pub key: String,
}

pub fn serve_args(dir: &std::path::Path, extra: &[&str]) -> ServeArgs {
    let mut argv = vec![
        "mannequin-serve".to_string(),
        "--data-dir".into(),
        dir.display().to_string(),
        "--no-worker".into(),
    ];
    for (flag, value) in [
        ("--listen", "127.0.0.1:0"),
        ("--rate-limit", "0"),
        ("--retry-base-ms", "0"),
        // Any free port: tests run many servers at once.
        ("--metrics-listen", "127.0.0.1:0"),
    ] {
        if !extra.contains(&flag) {
            argv.extend([flag.to_string(), value.to_string()]);
        }
    }
    argv.extend(extra.iter().map(|s| s.to_string()));
    Serve::parse_from(argv).args
}

/// `mannequin serve`'s arguments, parsed as the command line parses them.
#[derive(Parser)]
struct Serve {
    #[command(flatten)]
    args: ServeArgs,
}

impl TestApp {
    pub async fn start() -> TestApp {
        Self::start_with(&[], None).await
    }

    /// Starts the app with extra `serve` flags and optionally another generator.
    /// The worker is built but paused: tests drive it with [`TestApp::drain`].
    pub async fn start_with(extra: &[&str], generator: Option<Arc<dyn Generator>>) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let (mut flags, scale) = match stack() {
            Stack::Embedded => (Vec::new(), None),
            Stack::Scale => {
                let (flags, guards) = scale_flags().await;
                (flags, Some(guards))
            }
        };
        flags.extend(extra.iter().map(|s| s.to_string()));
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let args = serve_args(dir.path(), &flags);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let running = app::start(
            &args,
            true,
            Overrides {
                generator,
                listener: Some(listener),
                worker_paused: true,
                ..Default::default()
            },
        )
        .await
        .expect("app starts");
        let boot = running
            .bootstrap
            .clone()
            .expect("a fresh database bootstraps");
        TestApp {
            url: running.base_url(),
            metrics_url: format!(
                "http://{}",
                running.metrics_addr.expect("an operator listener")
            ),
            account: boot.account_id,
            key: mannequin::ExposeSecret::expose_secret(&boot.api_key).to_string(),
            running,
            dir,
            scale,
            client: mannequin::http_client().build().unwrap(),
        }
    }

    /// Another API process on this app's database, with `extra` flags (its
    /// worker built but paused, like this one's).
    pub async fn another_api(&self, extra: &[&str]) -> Running {
        let mut flags = vec!["--no-bootstrap".to_string()];
        if let Some(g) = &self.scale {
            flags.extend(["--database-url".to_string(), g.db.url.clone()]);
        }
        flags.extend(extra.iter().map(|s| s.to_string()));
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let args = serve_args(self.dir.path(), &flags);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        app::start(
            &args,
            true,
            Overrides {
                generator: None,
                listener: Some(listener),
                worker_paused: true,
                ..Default::default()
            },
        )
        .await
        .expect("a second API process starts")
    }

    /// Runs every ready job to its end.
    pub async fn drain(&self) -> u64 {
        self.running
            .worker
            .as_ref()
            .expect("worker")
            .run_ready()
            .await
    }

    /// A new account with `credits` and a key with `scopes`: (account id, api key).
    pub async fn account(&self, credits: i64, scopes: &[Scope]) -> (AccountId, String) {
        let id: AccountId = new_id();
        let store = &self.running.store;
        store
            .create_account(&id, "test", Credits::new(credits), now_ms())
            .await
            .unwrap();
        let key = self.key_for(&id, scopes, None).await;
        (id, key)
    }

    pub async fn key_for(
        &self,
        account: &AccountId,
        scopes: &[Scope],
        expires_at: Option<i64>,
    ) -> String {
        let minted = keys::mint(account, scopes, expires_at);
        self.running
            .store
            .create_key(&minted.record, now_ms())
            .await
            .unwrap();
        mannequin::ExposeSecret::expose_secret(&minted.api_key).to_string()
    }

    pub async fn register(&self, key: &str, body: Value) -> reqwest::Response {
        self.client
            .post(format!("{}/api/external/models/register-ideas", self.url))
            .header("X-Api-Key", key)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Registers and asserts 200; returns the body.
    pub async fn register_ok(&self, key: &str, preferences: &str, count: u32) -> Value {
        let res = self
            .register(key, json!({"preferences": preferences, "count": count}))
            .await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// `GET path` (under the API's address) with `key`.
    pub async fn get(&self, key: &str, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.url))
            .header("X-Api-Key", key)
            .send()
            .await
            .unwrap()
    }

    /// `POST path` with `key` and the JSON `body`.
    pub async fn post(&self, key: &str, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.url))
            .header("X-Api-Key", key)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// `DELETE path` with `key`.
    pub async fn delete(&self, key: &str, path: &str) -> reqwest::Response {
        self.client
            .delete(format!("{}{path}", self.url))
            .header("X-Api-Key", key)
            .send()
            .await
            .unwrap()
    }

    /// `GET path` (under the API's address) with `key`, as JSON.
    pub async fn get_json(&self, key: &str, path: &str) -> Value {
        self.client
            .get(format!("{}{path}", self.url))
            .header("X-Api-Key", key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The OpenAPI description the server serves.
    pub async fn openapi(&self) -> Value {
        self.get_json(&self.key, "/api/external/openapi.json").await
    }

    /// What the operator listener's `/metrics` shows now.
    pub async fn metrics_text(&self) -> String {
        self.client
            .get(format!("{}/metrics", self.metrics_url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn list(&self, key: &str, query: &str) -> (u16, Value) {
        let res = self
            .client
            .get(format!("{}/api/external/models{query}", self.url))
            .header("X-Api-Key", key)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap())
    }

    /// `(available, reserved, consumed)` of the account.
    pub async fn balance(&self, account: &AccountId) -> (i64, i64, i64) {
        let b = self.running.store.balances(account).await.unwrap().unwrap();
        (b.available.get(), b.reserved.get(), b.consumed.get())
    }

    /// Asserts the credit invariants over the whole database.
    pub async fn audit(&self) {
        let report = self.running.store.audit(now_ms()).await.unwrap();
        assert!(report.ok, "audit failed: {:#?}", report.violations);
    }

    /// A direct connection to the database, for checks the API cannot make.
    /// Write queries with `$1`-style placeholders: both dialects read them.
    pub async fn sql(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        let url = match &self.scale {
            Some(g) => g.db.url.clone(),
            None => format!(
                "sqlite://{}",
                self.dir.path().join("mannequin.db").display()
            ),
        };
        sqlx::AnyPool::connect(&url).await.unwrap()
    }
}

/// Asserts an error response has the contract's shape and returns its body.
pub async fn expect_error(res: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "status");
    let header_cid = res
        .headers()
        .get("x-correlation-id")
        .expect("correlation header")
        .to_str()
        .unwrap()
        .to_string();
    let ct = res
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(ct.starts_with("application/json"), "content type {ct}");
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["correlationId"], header_cid.as_str());
    body
}

/// The value of the sample `name` (with its labels, if any) in OpenMetrics
/// text, if it is there.
pub fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .map(|v| v.parse().expect("a number"))
}
