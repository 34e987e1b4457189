//! The outside services the scale-out tests use: PostgreSQL, NATS JetStream,
//! an S3-compatible server, and Redis for shared rate limits. Outside CI a missing service skips its tests with a
//! loud message; under CI (`CI=true`) it fails them.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sqlx::Connection;

/// PostgreSQL to create test databases in (`postgres` user, trust auth).
pub fn postgres_admin_url() -> String {
    std::env::var("MANNEQUIN_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn nats_url() -> String {
    std::env::var("MANNEQUIN_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// Redis for the shared rate limits, when it answers.
pub async fn redis_url() -> Option<String> {
    let url = std::env::var("MANNEQUIN_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let addr = url
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .to_string();
    match tokio::time::timeout(
        Duration::from_secs(2),
        tokio::net::TcpStream::connect(&addr),
    )
    .await
    {
        Ok(Ok(_)) => Some(url),
        Ok(Err(e)) => missing("Redis", e),
        Err(_) => missing("Redis", "no answer within 2 s"),
    }
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Skips (outside CI) or fails (under CI) a test whose service is missing.
pub fn missing<T>(what: &str, why: impl std::fmt::Display) -> Option<T> {
    if in_ci() {
        panic!("{what} is required under CI: {why}");
    }
    eprintln!("\n*** SKIPPED: {what} is not available ({why}); CI=true makes this a failure ***\n");
    None
}

fn suffix() -> String {
    mannequin::clock::random_string(mannequin_domain::ids::LOWER36, 10)
}

/// A database of its own for one test, dropped when this is.
pub struct TestDatabase {
    pub url: String,
    name: String,
}

impl TestDatabase {
    pub async fn create() -> Option<TestDatabase> {
        let admin = postgres_admin_url();
        let mut conn = match sqlx::PgConnection::connect(&admin).await {
            Ok(c) => c,
            Err(e) => return missing("PostgreSQL", e),
        };
        let name = format!("mannequin_test_{}", suffix());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create a test database");
        let _ = conn.close().await;
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
        Some(TestDatabase {
            url: format!("{base}/{name}"),
            name,
        })
    }
}

/// Runs an async clean-up to its end from `Drop`, which runs outside any
/// runtime's async context: on a thread and a runtime of its own.
fn clean_up<F: std::future::Future<Output = ()> + Send + 'static>(work: F) {
    let _ = std::thread::spawn(move || {
        if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            rt.block_on(work);
        }
    })
    .join();
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        clean_up(async move {
            if let Ok(mut conn) = sqlx::PgConnection::connect(&postgres_admin_url()).await {
                let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                let _ = sqlx::query(sqlx::AssertSqlSafe(drop))
                    .execute(&mut conn)
                    .await;
            }
        });
    }
}

/// A NATS stream name of its own for one test, so tests never share messages;
/// the stream (which the service creates) is deleted when this is dropped.
pub struct TestStream {
    pub name: String,
}

pub async fn nats_stream() -> Option<TestStream> {
    match async_nats::connect(nats_url()).await {
        Ok(_) => Some(TestStream {
            name: format!("mannequin-test-{}", suffix()),
        }),
        Err(e) => missing("NATS", e),
    }
}

impl Drop for TestStream {
    fn drop(&mut self) {
        let name = self.name.clone();
        clean_up(async move {
            if let Ok(client) = async_nats::connect(nats_url()).await {
                let _ = async_nats::jetstream::new(client)
                    .delete_stream(&name)
                    .await;
            }
        });
    }
}

/// Test credentials for S3 (moto takes any), unless the environment has some.
pub fn aws_test_credentials() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for var in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            if std::env::var_os(var).is_none() {
                // SAFETY: set once, before the first S3 client reads it; the
                // tests read the environment only through std, which locks it.
                unsafe { std::env::set_var(var, "test") };
            }
        }
    });
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until `port` accepts connections, or panics after `within`.
pub async fn wait_for_port(port: u16, within: Duration, what: &str) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not start listening on {port}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A child process killed when this is dropped.
pub struct Service(pub Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Creates a bucket of its own on the S3-compatible server at `endpoint`, with
/// objects readable by anyone, as for a deployment that serves images straight
/// from the bucket (`MANNEQUIN_S3_PUBLIC_URL`). moto takes any credentials.
pub async fn create_bucket(endpoint: &str) -> String {
    let bucket = format!("mannequin-{}", suffix());
    let client = mannequin::http_client().build().unwrap();
    let res = client
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .expect("create a bucket");
    assert!(res.status().is_success(), "create bucket: {}", res.status());
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}"#
    );
    let res = client
        .put(format!("{endpoint}/{bucket}?policy"))
        .header("Content-Type", "application/json")
        .body(policy)
        .send()
        .await
        .expect("set the bucket policy");
    assert!(res.status().is_success(), "bucket policy: {}", res.status());
    bucket
}

/// An S3-compatible server (moto in server mode, from PyPI) on a port of its
/// own, with one publicly readable bucket.
pub struct S3Server {
    pub endpoint: String,
    pub bucket: String,
    _service: Service,
}

impl S3Server {
    pub async fn start() -> Option<S3Server> {
        let port = free_port();
        let child =
            Command::new(std::env::var("MANNEQUIN_TEST_PYTHON").unwrap_or("python3".into()))
                .args([
                    "-m",
                    "moto.server",
                    "-H",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
        let mut service = match child {
            Ok(c) => Service(c),
            Err(e) => return missing("moto (pip install 'moto[server]')", e),
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let endpoint = format!("http://127.0.0.1:{port}");
        // moto takes a moment to import; it answers once it serves.
        let client = mannequin::http_client().build().unwrap();
        while client.get(&endpoint).send().await.is_err() {
            if let Ok(Some(status)) = service.0.try_wait() {
                return missing("moto (pip install 'moto[server]')", status);
            }
            if tokio::time::Instant::now() > deadline {
                return missing("moto (pip install 'moto[server]')", "it did not start");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let bucket = create_bucket(&endpoint).await;
        Some(S3Server {
            endpoint,
            bucket,
            _service: service,
        })
    }
}

/// A Standard Webhooks receiver (`scripts/webhook-receiver.py`, which checks
/// every signature with the reference `standardwebhooks` library) on
/// 127.0.0.1, logging what it received.
pub struct Receiver {
    pub url: String,
    secret_file: std::path::PathBuf,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
    _service: Service,
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub kind: String,
    pub verified: bool,
    /// What the receiver answered.
    pub status: u16,
    pub body: serde_json::Value,
}

impl Receiver {
    /// Starts a receiver that answers its first `fail_first` requests with 500.
    pub fn start(fail_first: u32) -> Option<Receiver> {
        Receiver::start_slow(fail_first, 0)
    }

    /// [`Receiver::start`], taking `delay_ms` over each answer.
    pub fn start_slow(fail_first: u32, delay_ms: u32) -> Option<Receiver> {
        use std::io::BufRead;
        let python = std::env::var("MANNEQUIN_TEST_PYTHON").unwrap_or("python3".into());
        let what = "the webhook receiver (pip install standardwebhooks)";
        match Command::new(&python)
            .args(["-c", "import standardwebhooks"])
            .status()
        {
            Ok(s) if s.success() => {}
            Ok(s) => return missing(what, s),
            Err(e) => return missing(what, e),
        }
        let dir = tempfile::tempdir().unwrap();
        let secret_file = dir.path().join("secret");
        let log = dir.path().join("received.jsonl");
        std::fs::write(&secret_file, "").unwrap();
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/webhook-receiver.py"
        );
        let mut child = Command::new(&python)
            .arg(script)
            .arg("--secret-file")
            .arg(&secret_file)
            .arg("--log")
            .arg(&log)
            .args(["--fail-first", &fail_first.to_string()])
            .args(["--delay-ms", &delay_ms.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs");
        let stdout = child.stdout.take().unwrap();
        let service = Service(child);
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the receiver printed {line:?}"));
        Some(Receiver {
            url: format!("http://127.0.0.1:{port}/hooks"),
            secret_file,
            log,
            _dir: dir,
            _service: service,
        })
    }

    /// The endpoint's secret, as the API showed it once.
    pub fn set_secret(&self, secret: &str) {
        std::fs::write(&self.secret_file, secret).unwrap();
    }

    /// Every request so far, in the order they came.
    pub fn received(&self) -> Vec<Received> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                Received {
                    id: v["id"].as_str().unwrap_or_default().to_string(),
                    kind: v["type"].as_str().unwrap_or_default().to_string(),
                    verified: v["verified"] == true,
                    status: v["status"].as_u64().unwrap() as u16,
                    body: v["body"].clone(),
                }
            })
            .collect()
    }
}
