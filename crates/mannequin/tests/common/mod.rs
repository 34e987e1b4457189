//! The test harness: the real app on port 0 in a temporary data directory, an
//! HTTP client, and helpers to make accounts and keys and drive the worker.
#![allow(dead_code)]

use std::sync::Arc;

use clap::Parser;
use mannequin::app::{self, Overrides, Running};
use mannequin::clock::{new_id, now_ms};
use mannequin::config::{Cli, Command, ServeArgs};
use mannequin::generator::Generator;
use mannequin::keys::{self, Scope};
use mannequin_domain::Credits;
use mannequin_domain::ids::IdKind;
use serde_json::{Value, json};
use tempfile::TempDir;

pub struct TestApp {
    pub running: Running,
    pub dir: TempDir,
    pub url: String,
    pub client: reqwest::Client,
    /// The starter account and its key (all scopes, 1000 credits).
    pub account: String,
    pub key: String,
}

pub fn serve_args(dir: &std::path::Path, extra: &[&str]) -> ServeArgs {
    let mut argv = vec![
        "mannequin".to_string(),
        "serve".into(),
        "--data-dir".into(),
        dir.display().to_string(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--no-worker".into(),
    ];
    for (flag, value) in [("--rate-limit", "0"), ("--retry-base-ms", "0")] {
        if !extra.contains(&flag) {
            argv.extend([flag.to_string(), value.to_string()]);
        }
    }
    argv.extend(extra.iter().map(|s| s.to_string()));
    match Cli::parse_from(argv).command {
        Command::Serve(a) => a,
        _ => unreachable!(),
    }
}

impl TestApp {
    pub async fn start() -> TestApp {
        Self::start_with(&[], None).await
    }

    /// Starts the app with extra `serve` flags and optionally another generator.
    /// The worker is built but paused: tests drive it with [`TestApp::drain`].
    pub async fn start_with(extra: &[&str], generator: Option<Arc<dyn Generator>>) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let args = serve_args(dir.path(), extra);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let running = app::start(
            &args,
            true,
            Overrides {
                generator,
                listener: Some(listener),
                worker_paused: true,
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
            account: boot.account_id,
            key: boot.api_key,
            running,
            dir,
            client: mannequin::http_client().build().unwrap(),
        }
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
    pub async fn account(&self, credits: i64, scopes: &[Scope]) -> (String, String) {
        let id = new_id(IdKind::Account);
        let store = &self.running.store;
        store
            .create_account(&id, "test", Credits(credits), now_ms())
            .await
            .unwrap();
        let key = self.key_for(&id, scopes, None).await;
        (id, key)
    }

    pub async fn key_for(
        &self,
        account: &str,
        scopes: &[Scope],
        expires_at: Option<i64>,
    ) -> String {
        let minted = keys::mint(account, scopes, expires_at);
        self.running
            .store
            .create_key(&minted.record, now_ms())
            .await
            .unwrap();
        minted.api_key
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

    pub async fn balance(&self, account: &str) -> (i64, i64, i64) {
        let b = self.running.store.balance(account).await.unwrap().unwrap();
        (b.available, b.reserved, b.consumed)
    }

    /// Asserts the credit invariants over the whole database.
    pub async fn audit(&self) {
        let report = self.running.store.audit().await.unwrap();
        assert!(report.ok, "audit failed: {:#?}", report.violations);
    }

    /// A direct connection to the database file, for checks the API cannot make.
    pub async fn sql(&self) -> sqlx::SqlitePool {
        sqlx::SqlitePool::connect(&format!(
            "sqlite://{}",
            self.dir.path().join("mannequin.db").display()
        ))
        .await
        .unwrap()
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
