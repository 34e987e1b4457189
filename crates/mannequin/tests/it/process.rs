//! The real binary as a user runs it: bootstrap, admin commands, SIGKILL in the
//! middle of work, SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::metric;

const BIN: &str = env!("CARGO_BIN_EXE_mannequin");

pub(crate) struct Server {
    child: Child,
    pub(crate) url: String,
    /// What the server printed on stdout before it listened.
    banner: Vec<String>,
}

impl Server {
    pub(crate) fn start(data: &Path, extra: &[&str]) -> Server {
        Self::start_logging(data, extra, None)
    }

    /// Starts the server; with `log`, its stderr goes to that file at debug level.
    fn start_logging(data: &Path, extra: &[&str], log: Option<&Path>) -> Server {
        let (stderr, level) = match log {
            Some(p) => (Stdio::from(std::fs::File::create(p).unwrap()), "debug"),
            None => (Stdio::null(), "warn"),
        };
        let mut child = Command::new(BIN)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--rate-limit",
                "0",
                "--metrics-listen",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(data)
            .args(extra)
            .env("MANNEQUIN_LOG", level)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("the binary starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut banner = Vec::new();
        let url = loop {
            let line = lines.next().expect("server printed its address").unwrap();
            if let Some(url) = line.strip_prefix("mannequin is listening on ") {
                break url.to_string();
            }
            banner.push(line);
        };
        Server { child, url, banner }
    }

    pub(crate) fn api_key(&self) -> Option<String> {
        self.banner
            .iter()
            .map(|l| l.trim())
            .find(|l| l.starts_with("mk_live_"))
            .map(str::to_string)
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// Waits for the process to exit, up to `limit`.
    fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "process did not exit in {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A `mannequin worker` process on its own operator listener (any free port).
struct Worker {
    child: Child,
    /// The operator listener, `http://127.0.0.1:…`.
    operator: String,
}

impl Worker {
    /// Starts a worker on `data` with `extra` flags and waits until it runs.
    fn start(data: &Path, extra: &[&str]) -> Worker {
        let mut child = Command::new(BIN)
            .args(["worker", "--metrics-listen", "127.0.0.1:0"])
            .args(extra)
            .arg("--data-dir")
            .arg(data)
            .env("MANNEQUIN_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts");
        // It announces its operator listener, then that it runs.
        let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = out.next().expect("a first line").unwrap();
        let operator = line
            .strip_prefix("Metrics for operators: ")
            .unwrap_or_else(|| panic!("{line}"))
            .trim_end_matches("/metrics")
            .to_string();
        let line = out.next().expect("a second line").unwrap();
        assert!(line.starts_with("mannequin worker "), "{line}");
        Worker { child, operator }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Registers ideas through the API and asserts 200.
pub(crate) async fn register(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    preferences: &str,
    count: u32,
) {
    register_in(client, url, key, "models", preferences, count).await
}

/// Registers `count` of the kind whose collection is `collection`.
async fn register_in(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    collection: &str,
    preferences: &str,
    count: u32,
) {
    let res = client
        .post(format!("{url}/api/external/{collection}/register-ideas"))
        .header("X-Api-Key", key)
        .json(&json!({"preferences": preferences, "count": count}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// Creates a webhook endpoint for `body` and gives the receiver its secret,
/// which it returns.
pub(crate) async fn subscribe(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    receiver: &crate::services::Receiver,
    body: Value,
) -> String {
    let created: Value = client
        .post(format!("{url}/api/external/webhooks"))
        .header("X-Api-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = created["secret"].as_str().unwrap();
    receiver.set_secret(secret);
    secret.to_string()
}

/// The status `req` is answered with, sent with `key`.
pub(crate) async fn status_with_key(req: reqwest::RequestBuilder, key: String) -> u16 {
    req.header("X-Api-Key", key)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Uploads a small PNG product photo named `file`; the product as answered (201).
async fn upload_product(client: &reqwest::Client, url: &str, key: &str, file: &str) -> Value {
    let mut photo = Vec::new();
    image::RgbImage::from_fn(80, 100, |x, y| {
        image::Rgb([200, (x * 2) as u8, (y * 2) as u8])
    })
    .write_to(
        &mut std::io::Cursor::new(&mut photo),
        image::ImageFormat::Png,
    )
    .unwrap();
    let mut form = format!(
        "--b7\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{file}\"\r\n\r\n"
    )
    .into_bytes();
    form.extend(&photo);
    form.extend(b"\r\n--b7--\r\n");
    let res = client
        .post(format!("{url}/api/external/products"))
        .header("X-Api-Key", key)
        .header("Content-Type", "multipart/form-data; boundary=b7")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

pub(crate) fn admin(data: &Path, args: &[&str]) -> (bool, Value) {
    let out = Command::new(BIN)
        .arg("admin")
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("MANNEQUIN_LOG", "warn")
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.success(), json)
}

async fn models(client: &reqwest::Client, url: &str, key: &str) -> Vec<Value> {
    listed(client, url, key, "models").await
}

/// The first page of the collection's list.
async fn listed(client: &reqwest::Client, url: &str, key: &str, collection: &str) -> Vec<Value> {
    listed_at(client, url, key, collection, collection).await
}

/// The list at `path`, its items under `collection`.
async fn listed_at(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    path: &str,
    collection: &str,
) -> Vec<Value> {
    let body: Value = client
        .get(format!("{url}/api/external/{path}"))
        .header("X-Api-Key", key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body[collection].as_array().unwrap().clone()
}

/// Polls the list until `done` holds or `limit` passes.
pub(crate) async fn wait_for(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    limit: Duration,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + limit;
    loop {
        let m = models(client, url, key).await;
        if done(&m) {
            return m;
        }
        assert!(
            Instant::now() < deadline,
            "condition not reached in {limit:?}: {m:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn db(data: &Path) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(&format!("sqlite://{}", data.join("mannequin.db").display()))
        .await
        .unwrap()
}

pub(crate) fn count(models: &[Value], status: &str) -> usize {
    models.iter().filter(|m| m["status"] == status).count()
}

#[tokio::test]
async fn a_worker_killed_mid_job_loses_nothing_and_charges_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let slow = [
        "--generator-delay-ms",
        "300",
        "--worker-concurrency",
        "2",
        "--lease-ms",
        "1500",
    ];
    let client = mannequin::http_client().build().unwrap();

    let first = Server::start(data, &slow);
    let key = first.api_key().expect("the first start prints a key");
    let account = first
        .banner
        .iter()
        .find_map(|l| l.split_whitespace().find(|w| w.starts_with("acct_")))
        .unwrap()
        .to_string();
    // Models, sceneries and pictures of a product, through the one pipeline.
    // Pictures of a product first, so the kill lands mid-shoot: a photo
    // shoot and packshots.
    let product = upload_product(&client, &first.url, &key, "Scarf.png").await;
    for path in ["image-picker", "packshots"] {
        let res = client
            .post(format!("{}/api/external/{path}/register-ideas", first.url))
            .header("X-Api-Key", &key)
            .json(&json!({"config": {"product": {"id": product["id"]}}, "count": 3}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }
    for i in 0..4 {
        register(&client, &first.url, &key, &format!("casual look {i}"), 3).await;
    }
    for place in ["a loft", "a beach"] {
        register_in(&client, &first.url, &key, "sceneries", place, 3).await;
    }
    wait_for(&client, &first.url, &key, Duration::from_secs(30), |m| {
        count(m, "DONE") >= 1
    })
    .await;
    let mut first = first;
    first.child.kill().unwrap(); // SIGKILL, mid-run
    first.wait_exit(Duration::from_secs(10));

    let pool = db(data).await;
    let unfinished: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM models WHERE status <> 'DONE'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(unfinished > 0, "the kill must land while work is in flight");
    let in_flight: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'running'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(in_flight > 0, "some jobs were held by the killed worker");

    let mut second = Server::start(data, &slow);
    assert!(
        second.api_key().is_none(),
        "the starter key is printed only once"
    );
    let all = wait_for(&client, &second.url, &key, Duration::from_secs(60), |m| {
        m.len() == 12 && count(m, "DONE") == 12
    })
    .await;
    assert!(all.iter().all(|m| m["thumbnail"].is_string()));
    let deadline = Instant::now() + Duration::from_secs(60);
    for (path, collection, n) in [
        ("sceneries", "sceneries", 6),
        ("image-picker", "images", 3),
        ("packshots", "packshots", 3),
    ] {
        loop {
            let made = listed_at(&client, &second.url, &key, path, collection).await;
            if made.len() == n && count(&made, "DONE") == n {
                break;
            }
            assert!(Instant::now() < deadline, "{path}: {made:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let redelivered: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE deliveries > 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        redelivered > 0,
        "jobs of the dead worker were taken up again"
    );

    let (ok, report) = admin(data, &["audit"]);
    assert!(ok, "{report}");
    assert_eq!(report["ok"], true);
    let (_, balance) = admin(data, &["credits", "show", "--account", &account]);
    assert_eq!(
        balance,
        json!({"available": 760, "reserved": 0, "consumed": 240})
    );

    second.signal("-TERM");
    assert!(second.wait_exit(Duration::from_secs(30)).success());
}

/// Polls the receiver until `done` holds for what it got, or `limit` passes.
async fn wait_received(
    receiver: &crate::services::Receiver,
    limit: Duration,
    done: impl Fn(&[crate::services::Received]) -> bool,
) -> Vec<crate::services::Received> {
    let deadline = Instant::now() + limit;
    loop {
        let got = receiver.received();
        if done(&got) {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "not received in {limit:?}: {got:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_worker_killed_mid_batch_still_announces_each_batch_once() {
    use std::collections::{BTreeMap, BTreeSet};
    let Some(receiver) = crate::services::Receiver::start(3) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let flags = [
        "--generator-delay-ms",
        "300",
        "--worker-concurrency",
        "2",
        "--lease-ms",
        "1500",
        "--webhook-allow-private",
        "--webhook-timeout-secs",
        "2",
        "--webhook-retry-schedule",
        "0ms,0ms,0ms,0ms,0ms,0ms",
    ];
    let client = mannequin::http_client().build().unwrap();
    let first = Server::start(data, &flags);
    let key = first.api_key().unwrap();
    subscribe(
        &client,
        &first.url,
        &key,
        &receiver,
        json!({"url": receiver.url}),
    )
    .await;
    for i in 0..4 {
        register(&client, &first.url, &key, &format!("casual look {i}"), 3).await;
    }
    wait_for(&client, &first.url, &key, Duration::from_secs(30), |m| {
        count(m, "DONE") >= 1
    })
    .await;
    let mut first = first;
    first.child.kill().unwrap(); // SIGKILL, mid-run
    first.wait_exit(Duration::from_secs(10));
    let unfinished: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM models WHERE status <> 'DONE'")
        .fetch_one(&db(data).await)
        .await
        .unwrap();
    assert!(unfinished > 0, "the kill must land while work is in flight");

    let second = Server::start(data, &flags);
    let all = wait_for(&client, &second.url, &key, Duration::from_secs(60), |m| {
        m.len() == 12 && count(m, "DONE") == 12
    })
    .await;
    let got = wait_received(&receiver, Duration::from_secs(60), |got| {
        let delivered = |kind: &str| {
            got.iter()
                .filter(|r| r.kind == kind && r.status == 204)
                .map(|r| r.id.clone())
                .collect::<BTreeSet<_>>()
                .len()
        };
        delivered("batch.completed") == 4 && delivered("model.completed") == 12
    })
    .await;
    assert!(got.iter().all(|r| r.verified), "every signature verifies");
    assert!(
        got[..3].iter().all(|r| r.status == 500),
        "the first three failed"
    );

    // One event per batch and per model, whatever was retried or resent.
    let mut ids: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for r in &got {
        let subject = r.body["data"]["id"].as_str().unwrap().to_string();
        ids.entry((r.kind.clone(), subject))
            .or_default()
            .insert(r.id.clone());
    }
    assert!(ids.values().all(|set| set.len() == 1), "{ids:#?}");
    let batches = ids.keys().filter(|(k, _)| k == "batch.completed").count();
    assert_eq!(batches, 4);
    let announced: BTreeSet<&str> = ids
        .keys()
        .filter(|(k, _)| k == "model.completed")
        .map(|(_, id)| id.as_str())
        .collect();
    let made: BTreeSet<&str> = all.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(announced, made);
    for r in got.iter().filter(|r| r.kind == "batch.completed") {
        assert_eq!(r.body["data"]["statuses"]["DONE"], 3);
        assert_eq!(r.body["data"]["creditsConsumed"], 30);
    }
    let (ok, report) = admin(data, &["audit"]);
    assert!(ok, "{report}");
}

/// A kill storm during delivery: the worker is SIGKILLed again and again
/// while a slow receiver takes its events. Each attempt is recorded as soon
/// as it ends, so an event is sent again only if its attempt was in flight
/// at a kill: at most one extra acknowledgement per event per kill, and no
/// more extra ones per kill than attempts may be in flight to one endpoint.
#[tokio::test]
async fn a_kill_storm_during_delivery_resends_only_what_was_in_flight() {
    use std::collections::BTreeMap;
    let Some(receiver) = crate::services::Receiver::start_slow(0, 150) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let concurrency = 4;
    let flags = [
        "--generator",
        "noop",
        "--webhook-allow-private",
        "--webhook-timeout-secs",
        "1",
        "--webhook-endpoint-concurrency",
        "4",
        "--webhook-retry-schedule",
        "0ms,0ms,0ms,0ms,0ms,0ms,0ms,0ms",
    ];
    let client = mannequin::http_client().build().unwrap();
    let mut server = Server::start(data, &flags);
    let key = server.api_key().unwrap();
    let body = json!({"url": receiver.url, "events": ["model.completed"]});
    subscribe(&client, &server.url, &key, &receiver, body).await;
    for i in 0..3 {
        register(&client, &server.url, &key, &format!("casual look {i}"), 20).await;
    }
    let events = 60;
    let acked = |got: &[crate::services::Received]| {
        got.iter()
            .filter(|r| r.status == 204)
            .map(|r| r.id.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    };
    let kills = 5;
    for k in 0..kills {
        // Kill while deliveries are under way: once more have arrived.
        let before = receiver.received().len();
        wait_received(&receiver, Duration::from_secs(60), |got| {
            got.len() >= before + 3
        })
        .await;
        server.child.kill().unwrap();
        server.wait_exit(Duration::from_secs(10));
        assert!(
            acked(&receiver.received()) < events,
            "kill {k} came after everything was delivered"
        );
        server = Server::start(data, &flags);
    }
    wait_received(&receiver, Duration::from_secs(120), |got| {
        acked(got) == events
    })
    .await;
    // Then until nothing is left to send: what was in flight at a kill is
    // sent again once its lease runs out.
    let pool = db(data).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let pending: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending'")
                .fetch_one(&pool)
                .await
                .unwrap();
        if pending == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{pending} deliveries still pending"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = receiver.received();
    let mut per_event: BTreeMap<&str, usize> = BTreeMap::new();
    for r in got.iter().filter(|r| r.status == 204) {
        assert!(r.verified);
        *per_event.entry(r.id.as_str()).or_default() += 1;
    }
    let extra: usize = per_event.values().map(|n| n - 1).sum();
    let most = per_event.values().copied().max().unwrap();
    assert!(
        most <= 1 + kills,
        "an event acknowledged {most} times in {kills} kills"
    );
    assert!(
        extra <= kills * concurrency,
        "{extra} extra acknowledgements in {kills} kills of a process sending at most {concurrency} at once"
    );
    server.signal("-TERM");
    assert!(server.wait_exit(Duration::from_secs(30)).success());
    let (ok, report) = admin(data, &["audit"]);
    assert!(ok, "{report}");
}

#[tokio::test]
async fn sigterm_finishes_or_hands_back_jobs_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let client = mannequin::http_client().build().unwrap();
    let mut server = Server::start(
        data,
        &["--generator-delay-ms", "200", "--worker-concurrency", "2"],
    );
    let key = server.api_key().unwrap();
    register(&client, &server.url, &key, "outdoor", 8).await;
    wait_for(&client, &server.url, &key, Duration::from_secs(30), |m| {
        count(m, "DONE") >= 1
    })
    .await;
    server.signal("-TERM");
    assert!(
        server.wait_exit(Duration::from_secs(30)).success(),
        "clean exit"
    );
    let pool = db(data).await;
    let running: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'running'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        running, 0,
        "no job is left under a lease of the stopped worker"
    );
    let (ok, report) = admin(data, &["audit"]);
    assert!(ok, "{report}");
}

/// The allocator's arena without transparent huge pages (their 2 MiB pages
/// made peak memory depend on timing): the kernel reports the process's flag.
#[cfg(target_os = "linux")]
#[test]
fn the_server_runs_without_transparent_huge_pages() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("THP_enabled:"))
        .expect("the kernel reports THP_enabled");
    assert_eq!(line.split_whitespace().nth(1), Some("0"), "{line}");
}

#[tokio::test]
async fn admin_commands_manage_accounts_keys_and_credits() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (ok, created) = admin(
        data,
        &[
            "account",
            "create",
            "--name",
            "Studio North",
            "--credits",
            "50",
            "--create",
        ],
    );
    assert!(ok);
    let account = created["accountId"].as_str().unwrap().to_string();
    assert!(account.starts_with("acct_"));
    assert!(
        !admin(
            data,
            &["account", "create", "--name", "x", "--credits", "-1"]
        )
        .0
    );

    let (ok, read_key) = admin(
        data,
        &[
            "key",
            "create",
            "--account",
            &account,
            "--scope",
            "content.read",
        ],
    );
    assert!(ok);
    let read_key = read_key["apiKey"].as_str().unwrap().to_string();
    assert!(read_key.starts_with("mk_live_"));
    let (_, full) = admin(data, &["key", "create", "--account", &account]);
    let full_key = full["apiKey"].as_str().unwrap().to_string();
    let full_id = full["keyId"].as_str().unwrap().to_string();
    let (_, expired) = admin(
        data,
        &[
            "key",
            "create",
            "--account",
            &account,
            "--expires-at",
            "2001-01-01T00:00:00Z",
        ],
    );
    let expired = expired["apiKey"].as_str().unwrap().to_string();
    assert!(
        !admin(
            data,
            &[
                "key",
                "create",
                "--account",
                &account,
                "--scope",
                "content.delete"
            ]
        )
        .0
    );
    assert!(!admin(data, &["key", "create", "--account", "acct_nobody"]).0);
    assert!(
        !admin(
            data,
            &[
                "key",
                "create",
                "--account",
                &account,
                "--expires-at",
                "tomorrow"
            ]
        )
        .0
    );

    let (ok, balance) = admin(
        data,
        &["credits", "grant", "--account", &account, "--amount", "25"],
    );
    assert!(ok);
    assert_eq!(
        balance,
        json!({"available": 75, "reserved": 0, "consumed": 0})
    );
    assert!(
        !admin(
            data,
            &[
                "credits",
                "grant",
                "--account",
                &account,
                "--amount",
                "-100"
            ]
        )
        .0,
        "would go negative"
    );
    let (ok, _) = admin(
        data,
        &["credits", "grant", "--account", &account, "--amount", "-5"],
    );
    assert!(ok, "an adjustment that keeps the balance non-negative");
    let (_, shown) = admin(data, &["credits", "show", "--account", &account]);
    assert_eq!(
        shown,
        json!({"available": 70, "reserved": 0, "consumed": 0})
    );
    assert!(!admin(data, &["credits", "show", "--account", "acct_nobody"]).0);

    let server = Server::start(data, &["--no-worker"]);
    assert!(
        server.api_key().is_none(),
        "an existing account means no bootstrap"
    );
    let client = mannequin::http_client().build().unwrap();
    let list = |key: String| {
        status_with_key(
            client.get(format!("{}/api/external/models", server.url)),
            key,
        )
    };
    let register = |key: String| {
        status_with_key(
            client
                .post(format!("{}/api/external/models/register-ideas", server.url))
                .json(&json!({"preferences": "casual", "count": 1})),
            key,
        )
    };
    assert_eq!(list(read_key.clone()).await, 200);
    assert_eq!(register(read_key.clone()).await, 403);
    assert_eq!(list(expired.clone()).await, 401);
    assert_eq!(register(full_key.clone()).await, 200);
    assert!(admin(data, &["key", "revoke", &full_id]).0);
    // The server keeps a key it read for a second (store::KEY_TTL).
    let revoked = std::time::Instant::now();
    loop {
        match list(full_key.clone()).await {
            401 => break,
            200 => assert!(
                revoked.elapsed() < std::time::Duration::from_secs(2),
                "still served 2 s after `admin key revoke`"
            ),
            other => panic!("{other}"),
        }
        tokio::task::yield_now().await;
    }
    assert!(!admin(data, &["key", "revoke", "nosuchkey"]).0);

    let (ok, report) = admin(data, &["audit"]);
    assert!(ok, "{report}");
    assert_eq!(report["accounts"], 1);

    // The audit notices a balance that does not match the ledger.
    let pool = db(data).await;
    sqlx::query("UPDATE accounts SET available = available + 5")
        .execute(&pool)
        .await
        .unwrap();
    let (ok, report) = admin(data, &["audit"]);
    assert!(!ok);
    assert_eq!(report["ok"], false);
    assert!(
        report["violations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["rule"] == "available_matches_ledger"),
        "{report}"
    );
}

#[tokio::test]
async fn json_logs_carry_the_correlation_id_and_never_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let data = dir.path().join("data");
    let mut server = Server::start_logging(&data, &["--log-format", "json"], Some(&log));
    let key = server.api_key().unwrap();
    let client = mannequin::http_client().build().unwrap();
    let res = client
        .post(format!("{}/api/external/models/register-ideas", server.url))
        .header("X-Api-Key", &key)
        .header("X-Correlation-Id", "trace-me-1")
        .json(&json!({"preferences": "casual", "count": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    wait_for(&client, &server.url, &key, Duration::from_secs(30), |m| {
        count(m, "DONE") == 2
    })
    .await;
    server.signal("-TERM");
    assert!(server.wait_exit(Duration::from_secs(30)).success());

    let text = std::fs::read_to_string(&log).unwrap();
    let secret = key.split_once('.').unwrap().1;
    assert!(!text.contains(secret), "the key's secret was logged");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect();
    let traced: Vec<&Value> = lines
        .iter()
        .filter(|l| l.to_string().contains("trace-me-1"))
        .collect();
    let messages: Vec<&str> = traced
        .iter()
        .filter_map(|l| l["fields"]["message"].as_str())
        .collect();
    assert!(messages.contains(&"ideas registered"), "{messages:?}");
    assert!(messages.contains(&"request"), "{messages:?}");
    assert_eq!(
        messages.iter().filter(|m| **m == "model done").count(),
        2,
        "both jobs log under the request's id"
    );
    // Every line the worker wrote about these models carries the id.
    for l in lines
        .iter()
        .filter(|l| l["fields"]["message"] == "model done")
    {
        assert!(l.to_string().contains("trace-me-1"), "{l}");
    }
}

/// `/metrics` is served on the operator listener the process announces, not
/// on the API's; a taken operator address stops the start with a clear error.
#[tokio::test]
async fn metrics_are_on_the_operator_listener_only() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[]);
    let metrics = server
        .banner
        .iter()
        .find_map(|l| l.strip_prefix("Metrics for operators: "))
        .expect("the operator listener is announced")
        .to_string();
    let client = mannequin::http_client().build().unwrap();
    let res = client.get(&metrics).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("mannequin_queue_depth"));
    let res = client
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "not on the API's listener");

    let taken = metrics
        .trim_start_matches("http://")
        .trim_end_matches("/metrics")
        .to_string();
    let out = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            &taken,
        ])
        .arg("--data-dir")
        .arg(dir.path().join("other"))
        .env("MANNEQUIN_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--metrics-listen"), "{err}");
}

/// A worker whose NATS does not answer starts all the same and says so on its
/// operator listener's `/readyz`.
#[tokio::test]
async fn a_worker_without_its_queue_is_alive_but_not_ready() {
    let dir = tempfile::tempdir().unwrap();
    // A loopback port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nats_url = format!("nats://{}", closed.local_addr().unwrap());
    drop(closed);
    let worker = Worker::start(dir.path(), &["--queue", "nats", "--nats-url", &nats_url]);
    let base = &worker.operator;
    let client = mannequin::http_client().build().unwrap();
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["queue"]["status"], "unreachable", "{body}");
}

/// Text logs written to a file (not a terminal) hold no colour codes.
#[tokio::test]
async fn text_logs_to_a_file_are_plain_text_and_hold_no_api_key() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let data = dir.path().join("data");
    let mut server = Server::start_logging(&data, &[], Some(&log));
    let key = server.api_key().unwrap();
    let client = mannequin::http_client().build().unwrap();
    let res = client
        .get(format!("{}/api/external/models", server.url))
        .header("X-Api-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // A key pasted into the URL by mistake is refused and not logged.
    let res = client
        .get(format!("{}/api/external/models/{key}", server.url))
        .header("X-Api-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    server.signal("-TERM");
    assert!(server.wait_exit(Duration::from_secs(30)).success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("request"), "the request was logged: {text}");
    assert!(!text.contains('\u{1b}'), "colour codes in a file: {text:?}");
    let secret = key.split_once('.').unwrap().1;
    assert!(
        !text.contains(secret),
        "the key's secret was logged: {text}"
    );
    assert!(
        text.contains("/api/external/models/mk_live_[redacted]"),
        "the path is logged, redacted: {text}"
    );
}

#[tokio::test]
async fn an_api_process_and_separate_worker_processes_share_one_database() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let api = Server::start(data, &["--no-worker"]);
    let key = api.api_key().unwrap();
    let mut workers: Vec<Worker> = (0..2).map(|_| Worker::start(data, &[])).collect();
    let client = mannequin::http_client().build().unwrap();
    for i in 0..3 {
        register(&client, &api.url, &key, &format!("streetwear {i}"), 5).await;
    }
    let done = wait_for(&client, &api.url, &key, Duration::from_secs(60), |m| {
        count(m, "DONE") == 15
    })
    .await;
    assert_eq!(done.len(), 15);
    let pool = db(data).await;
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state <> 'done'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 0, "every job finished exactly as its model");
    // Every worker is observable on its operator listener: alive, ready, and
    // the jobs it finished, which add up to all of them.
    let mut done_by_workers = 0.0;
    for w in &workers {
        let get = |path: &str| client.get(format!("{}{path}", w.operator)).send();
        assert_eq!(get("/healthz").await.unwrap().status(), 200);
        let ready: Value = get("/readyz").await.unwrap().json().await.unwrap();
        assert_eq!(ready["status"], "ready");
        let text = get("/metrics").await.unwrap().text().await.unwrap();
        let value = |name: &str| metric(&text, name);
        assert_eq!(value("mannequin_jobs_in_flight"), Some(0.0), "{text}");
        assert!(value("process_open_fds").is_some_and(|n| n > 0.0), "{text}");
        assert!(
            text.contains("mannequin_generation_duration_seconds_bucket"),
            "{text}"
        );
        assert!(text.contains("mannequin_lease_extensions_total"), "{text}");
        done_by_workers += value(r#"mannequin_jobs_total{outcome="done"}"#).unwrap_or(0.0);
    }
    assert_eq!(done_by_workers, 15.0);
    for w in &workers {
        Command::new("kill")
            .args(["-TERM", &w.child.id().to_string()])
            .status()
            .unwrap();
    }
    for w in &mut workers {
        assert!(
            w.child.wait().unwrap().success(),
            "workers exit cleanly on SIGTERM"
        );
    }
    let (ok, report) = admin(data, &["audit"]);
    assert!(ok, "{report}");
}

#[tokio::test]
async fn an_api_without_any_worker_still_releases_credits_at_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let api = Server::start(data, &["--no-worker", "--reservation-ttl-secs", "1"]);
    let key = api.api_key().unwrap();
    let client = mannequin::http_client().build().unwrap();
    register(&client, &api.url, &key, "casual", 2).await;
    let failed = wait_for(&client, &api.url, &key, Duration::from_secs(30), |m| {
        count(m, "FAILED") == 2
    })
    .await;
    assert!(failed.iter().all(|m| m["failureReason"] == "timed out"));
    let (ok, report) = admin(data, &["audit"]);
    assert!(ok, "{report}");
    let pool = db(data).await;
    let (available, reserved): (i64, i64) =
        sqlx::query_as("SELECT available, reserved FROM accounts")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((available, reserved), (1000, 0), "everything refunded");
}

#[tokio::test]
async fn the_terminal_client_generates_a_batch_and_lists_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let key = server.api_key().unwrap();
    let client = |args: &[&str]| {
        Command::new(BIN)
            .arg("models")
            .args(args)
            .env("MANNEQUIN_URL", &server.url)
            .env("MANNEQUIN_API_KEY", &key)
            .output()
            .unwrap()
    };
    let out = client(&["list"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("No models yet: order some with"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = client(&["generate", "man, streetwear", "--count", "2", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let generated: Value = serde_json::from_slice(&out.stdout).unwrap();
    let models = generated["models"].as_array().unwrap();
    assert_eq!(models.len(), 2);
    assert!(models.iter().all(|m| {
        m["status"] == "DONE"
            && m["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("Male Model - Streetwear"))
    }));
    assert_ne!(models[0]["name"], models[1]["name"]);

    let out = client(&["list"]);
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("model_")).collect();
    assert_eq!(rows.len(), 2, "two models:\n{table}");
    assert!(table.starts_with("ID "), "a header:\n{table}");
    assert!(
        rows.iter()
            .all(|l| l.contains("DONE") && l.contains(".thumb.jpg")),
        "{table}"
    );
    // Under each model, what the generator was asked.
    assert_eq!(
        table
            .lines()
            .filter(|l| l.starts_with("    generator: builtin, seed "))
            .count(),
        2,
        "{table}"
    );
    assert_eq!(
        table
            .lines()
            .filter(|l| l.starts_with("    prompt: ") && l.contains("man, streetwear"))
            .count(),
        2,
        "{table}"
    );

    // Sceneries the same way, listed apart.
    let out = Command::new(BIN)
        .args(["sceneries", "generate", "a loft", "--count", "2", "--json"])
        .env("MANNEQUIN_URL", &server.url)
        .env("MANNEQUIN_API_KEY", &key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let generated: Value = serde_json::from_slice(&out.stdout).unwrap();
    let sceneries = generated["sceneries"].as_array().unwrap();
    assert_eq!(sceneries.len(), 2, "{generated}");
    assert!(sceneries.iter().all(|s| s["status"] == "DONE"
        && s["id"].as_str().unwrap().starts_with("scenery_")
        && s["name"].as_str().unwrap().contains("Loft")));
    let out = client(&["list", "--json"]);
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed["count"], 2, "the models only: {listed}");
    let out = client(&["list", "--batch", "batch_none"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "No models match.\n");
    // Without --count, the API's default: ten.
    let out = client(&["generate", "woman, linen dress", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let generated: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        generated["models"].as_array().unwrap().len(),
        10,
        "{generated}"
    );

    // A product photo uploaded from a file, then listed.
    let products = |args: &[&str]| {
        Command::new(BIN)
            .arg("products")
            .args(args)
            .env("MANNEQUIN_URL", &server.url)
            .env("MANNEQUIN_API_KEY", &key)
            .output()
            .unwrap()
    };
    let out = products(&["list"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("No products yet"));
    let photo = dir.path().join("Red Sneaker.png");
    image::RgbImage::from_pixel(64, 48, image::Rgb([200, 30, 30]))
        .save(&photo)
        .unwrap();
    let out = products(&["upload", photo.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let uploaded: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(uploaded["name"], "Red Sneaker");
    assert_eq!(
        (uploaded["width"].as_u64(), uploaded["height"].as_u64()),
        (Some(64), Some(48))
    );
    let out = products(&["list"]);
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("prod_") && l.contains("Red Sneaker")),
        "{table}"
    );

    let out = Command::new(BIN)
        .args([
            "models",
            "list",
            "--api-key",
            "mk_live_wrong.wrongwrongwrongwrongwrongwrongwrongwrong",
            "--url",
            &server.url,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"));

    // Nothing listening: the message names the URL tried and how to set it.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let out = Command::new(BIN)
        .args(["models", "list"])
        .env("MANNEQUIN_URL", &closed)
        .env("MANNEQUIN_API_KEY", &key)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(&format!("nothing answered at {closed}")) && said.contains("MANNEQUIN_URL"),
        "{said}"
    );
}

/// `--version` names the version, the commit and the build date; the
/// completions and the manual pages come from the same definitions as the flags.
#[test]
fn the_binary_says_its_version_and_writes_completions_and_manual_pages() {
    let run = |args: &[&str]| {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let version = run(&["--version"]);
    let head = format!("mannequin {} (commit ", env!("CARGO_PKG_VERSION"));
    let rest = version
        .trim()
        .strip_prefix(&head)
        .unwrap_or_else(|| panic!("{version}"));
    let (commit, built) = rest
        .strip_suffix(')')
        .unwrap()
        .split_once(", built ")
        .unwrap();
    let checkout = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8(o.stdout).unwrap().trim().to_string());
    assert_eq!(
        commit,
        checkout.as_deref().unwrap_or("unknown"),
        "{version}"
    );
    let date: Vec<u32> = built.split('-').map(|p| p.parse().unwrap()).collect();
    assert!(
        date.len() == 3
            && date[0] >= 2026
            && (1..=12).contains(&date[1])
            && (1..=31).contains(&date[2]),
        "{version}"
    );

    for (shell, marker) in [
        ("bash", "_mannequin()"),
        ("zsh", "#compdef mannequin"),
        ("fish", "complete -c mannequin"),
    ] {
        let script = run(&["completions", shell]);
        assert!(
            script.contains(marker),
            "{shell}: {}",
            &script[..200.min(script.len())]
        );
        assert!(
            script.contains("photo-shoot-generator") && script.contains("worker"),
            "{shell}"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    run(&["man", "--out", dir.path().to_str().unwrap()]);
    let serve = std::fs::read_to_string(dir.path().join("mannequin-serve.1")).unwrap();
    assert!(
        serve.starts_with(".ie") && serve.contains(".TH mannequin-serve 1"),
        "{serve}"
    );
    assert!(
        serve.contains("\\-\\-listen") && serve.contains("MANNEQUIN_LISTEN"),
        "{serve}"
    );
    assert!(dir.path().join("mannequin-admin-key-create.1").exists());
    assert!(
        !dir.path().join("mannequin-bench-fill.1").exists(),
        "hidden commands have no page"
    );
    assert!(run(&["man"]).contains(".SH SUBCOMMANDS"));
}

/// `--config FILE`: a flag beats its variable, the variable the file, the
/// file the default; `config check` shows each with its source and never a
/// secret; a setting no command takes, or a value its flag refuses, stops
/// the process with the file named.
#[tokio::test]
async fn a_settings_file_sits_between_the_variables_and_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mannequin.toml");
    std::fs::write(
        &file,
        "credits-per-model = 7\nrate_limit = 3\nmax-attempts = 4\nmetrics-token = \"file-secret-token-value\"\n\
         cors-origins = [\"https://a.example\", \"https://b.example\"]\n",
    )
    .unwrap();
    let check = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = Command::new(BIN);
        cmd.args(["config", "check"]).args(args);
        for var in [
            "MANNEQUIN_CONFIG",
            "MANNEQUIN_CREDITS_PER_MODEL",
            "MANNEQUIN_RATE_LIMIT",
            "MANNEQUIN_MAX_ATTEMPTS",
            "MANNEQUIN_LEASE_MS",
            "MANNEQUIN_METRICS_TOKEN",
            "MANNEQUIN_CORS_ORIGINS",
        ] {
            cmd.env_remove(var);
        }
        cmd.envs(env.iter().copied());
        cmd.output().unwrap()
    };
    let path = file.to_str().unwrap();
    let out = check(
        &["--config", path, "--max-attempts", "9"],
        &[
            ("MANNEQUIN_RATE_LIMIT", "5"),
            ("MANNEQUIN_MAX_ATTEMPTS", "6"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = String::from_utf8(out.stdout).unwrap();
    for line in [
        "credits-per-model = \"7\"  # file",
        "rate-limit = \"5\"  # variable",
        "max-attempts = \"9\"  # flag",
        "lease-ms = \"30000\"  # default",
        "metrics-token = \"[redacted]\"  # file",
        "cors-origins = [\"https://a.example\", \"https://b.example\"]  # file",
    ] {
        assert!(shown.lines().any(|l| l == line), "{line} in:\n{shown}");
    }
    assert!(!shown.contains("file-secret-token-value"), "{shown}");
    // The variable names the file when the flag does not.
    let out = check(&[], &[("MANNEQUIN_CONFIG", path)]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("credits-per-model = \"7\"  # file"));

    // Refusals name the file and the setting, and exit 2.
    for (text, said) in [
        (
            "credits-per-modle = 7\n",
            "'credits-per-modle' is not a setting",
        ),
        ("max-attempts = 0\n", "--max-attempts"),
        (
            "listen = [\"127.0.0.1:1\", \"127.0.0.1:2\"]\n",
            "'listen' takes one value",
        ),
        ("listen = \n", "not TOML"),
    ] {
        std::fs::write(&file, text).unwrap();
        let out = check(&["--config", path], &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {err}");
        assert!(err.contains(said), "{text}: {err}");
    }

    // One file for every process: `migrate` leaves `listen` and the prices to `serve`.
    std::fs::write(&file, "listen = \"127.0.0.1:0\"\ncredits-per-model = 7\n").unwrap();
    let data = dir.path().join("data");
    let out = Command::new(BIN)
        .args([
            "migrate",
            "--config",
            path,
            "--data-dir",
            data.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // And the server takes it: a model costs the file's 7 credits.
    let server = Server::start(&data, &["--config", path]);
    let key = server.api_key().unwrap();
    let client = mannequin::http_client().build().unwrap();
    let registered: Value = client
        .post(format!("{}/api/external/models/register-ideas", server.url))
        .header("X-Api-Key", &key)
        .json(&serde_json::json!({"preferences": "woman, casual", "count": 2}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(registered["creditsReserved"], 14, "{registered}");
}

/// `admin backup` while the service serves and takes orders, then `admin
/// restore` into a new data directory: the audit passes there and every
/// image the backup names is served, byte for byte the original's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_load_restores_whole() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, &["--generator-delay-ms", "20"]);
    let key = server.api_key().unwrap();
    let client = mannequin::http_client().build().unwrap();
    upload_product(&client, &server.url, &key, "Tote.png").await;
    for i in 0..3 {
        register(
            &client,
            &server.url,
            &key,
            &format!("linen summer look {i}"),
            4,
        )
        .await;
    }
    wait_for(&client, &server.url, &key, Duration::from_secs(30), |m| {
        count(m, "DONE") >= 4
    })
    .await;

    // Orders keep coming while the backup runs.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (client, url, key, stop) = (
            client.clone(),
            server.url.clone(),
            key.clone(),
            stop.clone(),
        );
        tokio::spawn(async move {
            let mut orders = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                register(&client, &url, &key, &format!("streetwear look {orders}"), 2).await;
                orders += 1;
            }
            orders
        })
    };
    let backup = dir.path().join("backup");
    let (ok, report) = {
        let (data, backup) = (data.clone(), backup.clone());
        tokio::task::spawn_blocking(move || {
            admin(&data, &["backup", "--to", backup.to_str().unwrap()])
        })
        .await
        .unwrap()
    };
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let orders = load.await.unwrap();
    assert!(ok, "{report}");
    assert!(orders > 0, "orders were taken during the backup");
    assert_eq!(report["imagesMissing"], json!([]), "{report}");
    assert!(report["images"].as_u64().unwrap() >= 10, "{report}");
    assert!(backup.join("backup.json").is_file() && backup.join("mannequin.db").is_file());
    // A backup never lands on an earlier one.
    let (ok, _) = admin(&data, &["backup", "--to", backup.to_str().unwrap()]);
    assert!(!ok, "a folder that holds a backup is refused");

    let restored = dir.path().join("restored");
    let (ok, report) = admin(&restored, &["restore", "--from", backup.to_str().unwrap()]);
    assert!(ok, "{report}");
    assert_eq!(report["imagesMissing"], json!([]), "{report}");
    let (ok, _) = admin(&restored, &["restore", "--from", backup.to_str().unwrap()]);
    assert!(!ok, "a data directory that holds a database is refused");
    let (ok, audit) = admin(&restored, &["audit"]);
    assert!(ok, "{audit}");

    // The restored installation serves what the backup holds, with the same key.
    let second = Server::start(&restored, &["--no-worker"]);
    let listed_in = |url: String| {
        let (client, key) = (client.clone(), key.clone());
        async move {
            let page: Value = client
                .get(format!("{url}/api/external/models?limit=1000"))
                .header("X-Api-Key", &key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            page["models"].as_array().unwrap().clone()
        }
    };
    let now = listed_in(second.url.clone()).await;
    let done: Vec<&Value> = now.iter().filter(|m| m["status"] == "DONE").collect();
    assert!(done.len() >= 4, "{} done", done.len());
    let original = listed_in(server.url.clone()).await;
    for m in &done {
        let theirs = original
            .iter()
            .find(|o| o["id"] == m["id"])
            .expect("the same model");
        for field in ["image", "thumbnail"] {
            let get = |u: &Value| client.get(u.as_str().unwrap().to_string()).send();
            let (a, b) = (
                get(&m[field]).await.unwrap(),
                get(&theirs[field]).await.unwrap(),
            );
            assert_eq!(
                (a.status().as_u16(), b.status().as_u16()),
                (200, 200),
                "{}",
                m[field]
            );
            assert_eq!(
                a.bytes().await.unwrap(),
                b.bytes().await.unwrap(),
                "{}",
                m[field]
            );
        }
    }
    let products: Value = client
        .get(format!("{}/api/external/products", second.url))
        .header("X-Api-Key", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let image = products["products"][0]["image"]
        .as_str()
        .expect("the product");
    assert_eq!(client.get(image).send().await.unwrap().status(), 200);
}
