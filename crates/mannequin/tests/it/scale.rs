//! The scale-out deployment end to end, with the real binary: two API
//! processes and two workers sharing PostgreSQL, NATS JetStream and an
//! S3-compatible bucket. One worker is SIGKILLed mid-run and started again;
//! every model must still end DONE, charged exactly once, with images that
//! serve. Needs PostgreSQL, NATS and moto (see `tests/services`).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::services;
use serde_json::{Value, json};
use sqlx::PgPool;

const BIN: &str = env!("CARGO_BIN_EXE_mannequin");
const PRICE: i64 = 10;

/// One `mannequin` process of the deployment.
struct Proc {
    child: Child,
    /// The API's URL, or the worker's id.
    name: String,
}

impl Proc {
    fn start(env: &[(String, String)], args: &[&str], data: &std::path::Path) -> Proc {
        let mut child = Command::new(BIN)
            .args(args)
            .arg("--data-dir")
            .arg(data)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("MANNEQUIN_LOG", "warn")
            // Any free port: several processes run at once.
            .env("MANNEQUIN_METRICS_LISTEN", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let name = loop {
            let line = lines.next().expect("the process started").unwrap();
            if let Some(url) = line.strip_prefix("mannequin is listening on ") {
                break url.to_string();
            }
            if let Some(rest) = line.strip_prefix("mannequin worker ") {
                break rest.trim_end_matches(" is running").to_string();
            }
        };
        Proc { child, name }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn admin(env: &[(String, String)], args: &[&str]) -> (bool, Value) {
    let out = Command::new(BIN)
        .arg("admin")
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("MANNEQUIN_LOG", "warn")
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.success(), json)
}

async fn scalar(pool: &PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// Waits until `sql` counts at least `n`, or fails after `limit`.
async fn wait_count(pool: &PgPool, sql: &'static str, n: i64, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let got = scalar(pool, sql).await;
        if got >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{sql}: {got} < {n} after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_apis_and_two_workers_on_postgres_nats_and_s3_lose_nothing() {
    let Some(db) = services::TestDatabase::create().await else {
        return;
    };
    let Some(stream) = services::nats_stream().await else {
        return;
    };
    let Some(s3) = services::S3Server::start().await else {
        return;
    };
    let Some(receiver) = services::Receiver::start(0) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let env: Vec<(String, String)> = [
        ("MANNEQUIN_DATABASE_URL", db.url.as_str()),
        ("MANNEQUIN_QUEUE", "nats"),
        ("MANNEQUIN_NATS_URL", &services::nats_url()),
        ("MANNEQUIN_NATS_STREAM", &stream.name),
        ("MANNEQUIN_BLOB_STORE", "s3"),
        ("MANNEQUIN_S3_BUCKET", &s3.bucket),
        ("MANNEQUIN_S3_ENDPOINT", &s3.endpoint),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("MANNEQUIN_RATE_LIMIT", "0"),
        ("MANNEQUIN_CREDITS_PER_MODEL", "10"),
        ("MANNEQUIN_NO_BOOTSTRAP", "true"),
        ("MANNEQUIN_LEASE_MS", "3000"),
        ("MANNEQUIN_WORKER_CONCURRENCY", "4"),
        ("MANNEQUIN_GENERATOR_DELAY_MS", "25"),
        ("MANNEQUIN_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("MANNEQUIN_WEBHOOK_TIMEOUT_SECS", "2"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    // A new database: admin makes it only when asked to.
    let (ok, _) = admin(&env, &["audit"]);
    assert!(!ok, "admin refuses a database without mannequin's tables");
    let (ok, _) = admin(&env, &["audit", "--create"]);
    assert!(ok, "migrations ran and the empty database audits clean");

    // Three accounts, each with a key.
    let mut accounts = Vec::new();
    for i in 0..3 {
        let (ok, created) = admin(
            &env,
            &[
                "account",
                "create",
                "--name",
                &format!("shop {i}"),
                "--credits",
                "2000",
            ],
        );
        assert!(ok, "{created}");
        let id = created["accountId"].as_str().unwrap().to_string();
        let (ok, key) = admin(&env, &["key", "create", "--account", &id]);
        assert!(ok, "{key}");
        accounts.push((id, key["apiKey"].as_str().unwrap().to_string()));
    }

    // The first API names the bucket's own URLs for images; the second serves
    // them itself under /media.
    let mut public = env.clone();
    public.push((
        "MANNEQUIN_S3_PUBLIC_URL".into(),
        format!("{}/{}", s3.endpoint, s3.bucket),
    ));
    let data = |name: &str| {
        let d = dir.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        d
    };
    let api_args = [
        "serve",
        "--no-worker",
        "--listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "127.0.0.1:0",
    ];
    let apis = [
        Proc::start(&public, &api_args, &data("api1")),
        Proc::start(&env, &api_args, &data("api2")),
    ];
    // The first account hears of its models and batches by webhook. Workers
    // name images under the second API's URL, as every process should.
    let created: Value = client_post_json(
        &format!("{}/api/external/webhooks", apis[0].name),
        &accounts[0].1,
        &json!({"url": receiver.url}),
    )
    .await;
    receiver.set_secret(created["secret"].as_str().unwrap());
    let mut worker_env = env.clone();
    worker_env.push(("MANNEQUIN_PUBLIC_URL".into(), apis[1].name.clone()));
    let mut worker1 = Proc::start(&worker_env, &["worker"], &data("w1"));
    let _worker2 = Proc::start(&worker_env, &["worker"], &data("w2"));

    // 26 batches of 20: 520 models, spread over the accounts and both APIs.
    let client = mannequin::http_client().build().unwrap();
    let mut per_account = [0i64; 3];
    for b in 0..26 {
        let (_, key) = &accounts[b % 3];
        let res = client
            .post(format!(
                "{}/api/external/models/register-ideas",
                apis[b % 2].name
            ))
            .header("X-Api-Key", key)
            .json(&json!({"preferences": format!("studio look {b}, athletic build"), "count": 20}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{:?}", res.text().await);
        per_account[b % 3] += 20;
    }

    let pool = PgPool::connect(&db.url).await.unwrap();
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM models").await, 520);
    wait_count(
        &pool,
        "SELECT COUNT(*) FROM models WHERE status = 'DONE'",
        60,
        Duration::from_secs(60),
    )
    .await;
    worker1.child.kill().unwrap(); // SIGKILL, mid-run
    worker1.child.wait().unwrap();
    let held: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE lease_owner = $1 AND state = 'running'",
    )
    .bind(&worker1.name)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(held > 0, "the kill landed while the worker held jobs");
    let unfinished = scalar(&pool, "SELECT COUNT(*) FROM models WHERE status <> 'DONE'").await;
    assert!(unfinished > 0, "the kill landed mid-run");
    let _worker1_again = Proc::start(&worker_env, &["worker"], &data("w1"));

    wait_count(
        &pool,
        "SELECT COUNT(*) FROM models WHERE status = 'DONE'",
        520,
        Duration::from_secs(180),
    )
    .await;
    assert!(
        scalar(&pool, "SELECT COUNT(*) FROM jobs WHERE deliveries > 1").await > 0,
        "the killed worker's jobs were delivered again"
    );
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM jobs WHERE published_at IS NULL"
        )
        .await,
        0,
        "every job went through the outbox"
    );

    // Charged exactly: each account its models' price, nothing held back.
    for ((id, _), n) in accounts.iter().zip(per_account) {
        let (ok, balance) = admin(&env, &["credits", "show", "--account", id]);
        assert!(ok, "{balance}");
        assert_eq!(
            balance,
            json!({"available": 2000 - n * PRICE, "reserved": 0, "consumed": n * PRICE})
        );
    }
    let (ok, report) = admin(&env, &["audit"]);
    assert!(ok, "{report}");
    assert_eq!(report["models"], 520);

    // Every model is DONE through either API, and every thumbnail serves: from
    // the bucket's URL through the first API, from /media through the second.
    for (api, from_bucket) in [(&apis[0], true), (&apis[1], false)] {
        let mut seen = 0;
        for (_, key) in &accounts {
            let body: Value = client
                .get(format!("{}/api/external/models?limit=1000", api.name))
                .header("X-Api-Key", key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            for m in body["models"].as_array().unwrap() {
                assert_eq!(m["status"], "DONE", "{m}");
                let url = m["thumbnail"].as_str().unwrap();
                assert_eq!(url.starts_with(&s3.endpoint), from_bucket, "{url}");
                let res = client.get(url).send().await.unwrap();
                assert_eq!(res.status(), 200, "{url}");
                let bytes = res.bytes().await.unwrap();
                assert_eq!(&bytes[..3], &[0xFF, 0xD8, 0xFF], "a JPEG at {url}");
                seen += 1;
            }
        }
        assert_eq!(seen, 520);
    }

    // The first account's 180 models and 9 batches were each announced with
    // one id, delivered by whichever worker took it, verified by the
    // receiver. Only what the killed worker was sending may arrive twice.
    let deadline = Instant::now() + Duration::from_secs(60);
    let got = loop {
        let got = receiver.received();
        let delivered: std::collections::BTreeSet<&str> =
            got.iter().map(|r| r.id.as_str()).collect();
        if delivered.len() == 189 || Instant::now() > deadline {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(got.iter().all(|r| r.verified && r.status == 204));
    let mut ids: std::collections::BTreeMap<(String, String), std::collections::BTreeSet<String>> =
        Default::default();
    for r in &got {
        let subject = r.body["data"]["id"].as_str().unwrap().to_string();
        ids.entry((r.kind.clone(), subject))
            .or_default()
            .insert(r.id.clone());
    }
    assert!(ids.values().all(|set| set.len() == 1), "one id per event");
    let kinds = |kind: &str| ids.keys().filter(|(k, _)| k == kind).count();
    assert_eq!(kinds("model.completed"), 180);
    assert_eq!(kinds("batch.completed"), 9);
    assert!(got.len() - 189 <= 32, "{} sent twice", got.len() - 189);
    let model = got.iter().find(|r| r.kind == "model.completed").unwrap();
    let image = model.body["data"]["image"].as_str().unwrap();
    assert!(image.starts_with(&apis[1].name), "{image}");
    assert_eq!(client.get(image).send().await.unwrap().status(), 200);
}

async fn client_post_json(url: &str, key: &str, body: &Value) -> Value {
    let res = mannequin::http_client()
        .build()
        .unwrap()
        .post(url)
        .header("X-Api-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}
