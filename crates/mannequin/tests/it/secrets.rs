//! Secrets never reach the logs, even at `trace`: the API key, the image
//! server's key, the media signing key, the metrics token, a webhook's
//! secret and the database's password, each used on its way.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::process::{count, register, subscribe, wait_for};
use crate::services::{self, Service};

const BIN: &str = env!("CARGO_BIN_EXE_mannequin");

/// A secret no other text holds.
fn fresh(what: &str) -> String {
    format!(
        "{what}-{}",
        mannequin::clock::new_ulid().to_ascii_lowercase()
    )
}

#[tokio::test]
async fn no_secret_is_logged_at_trace() {
    let Some(receiver) = services::Receiver::start(0) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let images = services::free_port();
    let _images = Service(
        Command::new(BIN)
            .args(["fake-image-server", "--delay-ms", "0", "--listen"])
            .arg(format!("127.0.0.1:{images}"))
            .env("MANNEQUIN_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("the fake image server starts"),
    );
    let generator_key = fresh("sk-generator");
    let signing_key = fresh("signing-key-of-more-than-32-characters");
    let metrics_token = fresh("metrics-token");
    // PostgreSQL on this machine trusts local connections, so any password
    // is accepted: it is there to be looked for in the log.
    let db_password = fresh("pg-password");
    let db = services::TestDatabase::create().await;
    let db_url = db
        .as_ref()
        .map(|db| {
            db.url
                .replacen("://postgres@", &format!("://postgres:{db_password}@"), 1)
        })
        .filter(|url| url.contains(&db_password));
    if db_url.is_none() {
        eprintln!("the database password is not checked: no PostgreSQL with user `postgres`");
    }
    let mut server = Command::new(BIN);
    server
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "off",
        ])
        .args(["--rate-limit", "0", "--webhook-allow-private", "--data-dir"])
        .arg(dir.path().join("data"))
        .args(["--generator", "openai", "--generator-url"])
        .arg(format!("http://127.0.0.1:{images}"))
        .env("MANNEQUIN_LOG", "trace")
        .env("MANNEQUIN_GENERATOR_API_KEY", &generator_key)
        .env("MANNEQUIN_MEDIA_SIGNING_KEY", &signing_key)
        .env("MANNEQUIN_METRICS_TOKEN", &metrics_token)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(&log).unwrap()));
    if let Some(url) = &db_url {
        server.env("MANNEQUIN_DATABASE_URL", url);
    }
    let mut child = server.spawn().expect("the binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut key = None;
    let url = loop {
        let line = lines
            .next()
            .expect("the server printed its address")
            .unwrap();
        if let Some(url) = line.strip_prefix("mannequin is listening on ") {
            break url.to_string();
        }
        if line.trim().starts_with("mk_live_") {
            key = Some(line.trim().to_string());
        }
    };
    let key = key.expect("a fresh database prints its starter key");
    let child = Service(child);

    let client = mannequin::http_client().build().unwrap();
    let webhook_secret = subscribe(
        &client,
        &url,
        &key,
        &receiver,
        json!({"url": receiver.url, "events": ["model.completed"]}),
    )
    .await;
    register(&client, &url, &key, "woman, casual", 1).await;
    let done = wait_for(&client, &url, &key, Duration::from_secs(60), |m| {
        count(m, "DONE") == 1
    })
    .await;
    // A signed image URL, fetched.
    let image = done[0]["image"].as_str().unwrap();
    assert_eq!(client.get(image).send().await.unwrap().status(), 200);
    let metrics = client
        .get(format!("{url}/metrics"))
        .bearer_auth(&metrics_token)
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !receiver.received().iter().any(|r| r.verified) {
        assert!(Instant::now() < deadline, "no webhook was delivered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(child);

    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("TRACE"), "the log is at trace level");
    let api_secret = key.split_once('.').unwrap().1;
    let webhook_key = webhook_secret.strip_prefix("whsec_").unwrap();
    let mut secrets = vec![
        ("the API key", api_secret),
        ("the image server's key", generator_key.as_str()),
        ("the media signing key", signing_key.as_str()),
        ("the metrics token", metrics_token.as_str()),
        ("the webhook secret", webhook_key),
    ];
    if db_url.is_some() {
        secrets.push(("the database password", db_password.as_str()));
    }
    for (what, secret) in secrets {
        if let Some(at) = text.find(secret) {
            let line = text[..at].rfind('\n').map_or(0, |n| n + 1);
            let end = text[at..].find('\n').map_or(text.len(), |n| at + n);
            panic!("{what} is in the log: {}", &text[line..end]);
        }
    }
}
