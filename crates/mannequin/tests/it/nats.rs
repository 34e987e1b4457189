//! The NATS queue: when NATS is away, registering still succeeds, the jobs wait
//! in the outbox, and they flow once NATS is back, each charged once (against a
//! NATS server the test runs itself, to stop and start it); and long work keeps
//! its delivery by reporting progress.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::helpers::TestApp;
use crate::services::{self, Service};
use async_nats::jetstream::consumer::PullConsumer;
use futures_util::StreamExt;
use mannequin::generator::{Builtin, GenerateError, Generator, Made, Request};
use mannequin::keys::Scope;
use mannequin::store::ClaimedJob;
use mannequin_domain::ids::AccountId;

fn nats_server(port: u16, store: &std::path::Path) -> Option<Service> {
    let bin = std::env::var("MANNEQUIN_TEST_NATS_SERVER").unwrap_or_else(|_| {
        ["/usr/sbin/nats-server", "/usr/local/bin/nats-server"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap_or("nats-server")
            .to_string()
    });
    let child = Command::new(bin)
        .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
        .arg(store)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match child {
        Ok(c) => Some(Service(c)),
        Err(e) => services::missing("nats-server", e),
    }
}

/// Runs ready jobs until `n` have been processed, or fails after `limit`: the
/// client reconnects in the background with a growing backoff.
async fn drain_until(app: &TestApp, n: u64, limit: Duration) {
    let deadline = Instant::now() + limit;
    let mut done = 0;
    while done < n {
        done += app.drain().await;
        assert!(
            Instant::now() < deadline,
            "{done} of {n} jobs ran in {limit:?}"
        );
        if done < n {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert_eq!(done, n);
}

/// Jobs waiting in the outbox, as the database and `/metrics` both tell it.
async fn unpublished(app: &TestApp) -> i64 {
    let in_db: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE published_at IS NULL")
        .fetch_one(&app.sql().await)
        .await
        .unwrap();
    let metrics = app
        .client
        .get(format!("{}/metrics", app.metrics_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let gauge = metrics
        .lines()
        .find_map(|l| l.strip_prefix("mannequin_outbox_depth "))
        .expect("the outbox gauge")
        .parse::<i64>()
        .unwrap();
    assert_eq!(gauge, in_db, "/metrics tells the outbox's depth");
    in_db
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_registered_while_nats_is_down_flow_once_it_is_back() {
    let port = services::free_port();
    let store = tempfile::tempdir().unwrap();
    let url = format!("nats://127.0.0.1:{port}");
    // NATS is not running yet: the service starts anyway.
    let app = TestApp::start_with(
        &[
            "--queue",
            "nats",
            "--nats-url",
            &url,
            "--nats-stream",
            "outage",
        ],
        None,
    )
    .await;
    let (account, key) = app.account(100, &Scope::ALL).await;
    app.register_ok(&key, "linen summer dress", 3).await;
    assert_eq!(
        app.drain().await,
        0,
        "nothing reaches a worker without NATS"
    );
    assert_eq!(unpublished(&app).await, 3, "the jobs wait in the outbox");

    let Some(nats) = nats_server(port, store.path()) else {
        return;
    };
    services::wait_for_port(port, Duration::from_secs(10), "nats-server").await;
    drain_until(&app, 3, Duration::from_secs(60)).await;
    assert_eq!(unpublished(&app).await, 0);
    assert_eq!(app.balance(&account).await, (70, 0, 30));

    // NATS goes away again mid-life: registering still works.
    drop(nats);
    app.register_ok(&key, "wool winter coat", 2).await;
    assert_eq!(app.balance(&account).await, (50, 20, 30));
    assert_eq!(unpublished(&app).await, 2);
    let _nats = nats_server(port, store.path()).unwrap();
    services::wait_for_port(port, Duration::from_secs(10), "nats-server").await;
    drain_until(&app, 2, Duration::from_secs(60)).await;

    let (_, body) = app.list(&key, "").await;
    let models = body["models"].as_array().unwrap();
    assert_eq!(models.len(), 5);
    assert!(models.iter().all(|m| m["status"] == "DONE"), "{body}");
    assert_eq!(app.balance(&account).await, (50, 0, 50));
    app.audit().await;
}

/// Draws after a pause, telling the test when it has started.
struct Slow {
    pause: Duration,
    started: Arc<tokio::sync::Notify>,
}

#[async_trait::async_trait]
impl Generator for Slow {
    fn name(&self) -> String {
        "test".into()
    }

    async fn generate(&self, request: &Request<'_>) -> Result<Made, GenerateError> {
        self.started.notify_one();
        tokio::time::sleep(self.pause).await;
        Builtin {
            delay: Duration::ZERO,
            category: mannequin_domain::ideas::shoot::Category::Top,
        }
        .generate(request)
        .await
    }
}

/// A job that runs longer than the ack wait keeps its delivery: the worker
/// reports progress, so NATS hands the message to nobody else meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_work_reports_progress_so_nats_does_not_redeliver() {
    let Some(stream) = services::nats_stream().await else {
        return;
    };
    let started = Arc::new(tokio::sync::Notify::new());
    let slow = Arc::new(Slow {
        pause: Duration::from_millis(2500),
        started: started.clone(),
    });
    let app = TestApp::start_with(
        &[
            "--queue",
            "nats",
            "--nats-url",
            &services::nats_url(),
            "--nats-stream",
            &stream.name,
            "--lease-ms",
            "900",
        ],
        Some(slow),
    )
    .await;
    let (account, key) = app.account(100, &Scope::ALL).await;
    app.register_ok(&key, "tailored blazer", 1).await;

    // A second consumer of the same durable consumer, pulling while the job
    // runs: after the 900 ms ack wait, a delivery without progress would come
    // to it.
    let rival = async {
        started.notified().await;
        let js =
            async_nats::jetstream::new(async_nats::connect(services::nats_url()).await.unwrap());
        let consumer: PullConsumer = js
            .get_stream(&stream.name)
            .await
            .unwrap()
            .get_consumer(&format!("{}-workers", stream.name))
            .await
            .unwrap();
        let mut batch = consumer
            .batch()
            .max_messages(1)
            .expires(Duration::from_millis(2000))
            .messages()
            .await
            .unwrap();
        let mut redelivered = 0;
        while let Some(m) = batch.next().await {
            if m.is_ok() {
                redelivered += 1;
            }
        }
        redelivered
    };
    let (worked, redelivered) = tokio::join!(app.drain(), rival);
    assert_eq!(worked, 1);
    assert_eq!(redelivered, 0, "the delivery went to another consumer");
    assert_eq!(app.balance(&account).await, (90, 0, 10));
    let deliveries: i64 = sqlx::query_scalar("SELECT deliveries FROM jobs")
        .fetch_one(&app.sql().await)
        .await
        .unwrap();
    assert_eq!(deliveries, 1);
    app.audit().await;
}

/// A message lost inside NATS (here: the stream purged while a worker that
/// then died held the job) leaves a running job whose lease ran out and that
/// no delivery will bring back. Housekeeping puts it back in the outbox, the
/// relay publishes it again under a message id of its own, and it is made and
/// charged once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_message_was_lost_is_published_again_and_made_once() {
    let Some(stream) = services::nats_stream().await else {
        return;
    };
    let app = TestApp::start_with(
        &[
            "--queue",
            "nats",
            "--nats-url",
            &services::nats_url(),
            "--nats-stream",
            &stream.name,
            "--lease-ms",
            "500",
        ],
        None,
    )
    .await;
    let (account, key) = app.account(100, &Scope::ALL).await;
    let body = app.register_ok(&key, "denim jacket", 1).await;
    let model = body["createdRecordIds"][0].as_str().unwrap().to_string();
    let store = &app.running.store;
    let job: String = sqlx::query_scalar("SELECT id FROM jobs WHERE model_id = $1")
        .bind(&model)
        .fetch_one(&app.sql().await)
        .await
        .unwrap();
    let job = mannequin_domain::ids::JobId::parse(&job).unwrap();
    // A worker starts the job and dies with it, its lease long run out...
    let now = mannequin::clock::now_ms();
    store
        .start_jobs(std::slice::from_ref(&job), "dead", now - 2_000, now - 1_000)
        .await
        .unwrap();
    assert_eq!(app.drain().await, 0, "the stream is created, and empty");
    // ...after the relay had published it (as the relay does: the job id as
    // the message id), and the stream loses the message.
    let js = async_nats::jetstream::new(async_nats::connect(services::nats_url()).await.unwrap());
    let publish = async_nats::jetstream::message::PublishMessage::build()
        .payload(job.as_str().to_string().into())
        .message_id(job.as_str());
    js.send_publish(format!("{}.jobs", stream.name), publish)
        .await
        .unwrap()
        .await
        .unwrap();
    js.get_stream(&stream.name)
        .await
        .unwrap()
        .purge()
        .await
        .unwrap();
    assert_eq!(app.drain().await, 0, "no delivery brings it back");
    // Housekeeping, as every process runs it, takes the job up again.
    mannequin::housekeeping::sweep(store, Duration::from_millis(500)).await;
    drain_until(&app, 1, Duration::from_secs(30)).await;
    let (_, list) = app.list(&key, "").await;
    assert_eq!(list["models"][0]["status"], "DONE", "{list}");
    assert_eq!(app.balance(&account).await, (90, 0, 10));
    app.audit().await;
}

/// A NATS queue on a SQLite store of its own, for tests that drive the relay
/// and the pulls themselves.
struct Relayed {
    queue: mannequin::queue::nats::NatsQueue,
    store: Arc<mannequin::store::Store>,
    url: String,
    _dir: tempfile::TempDir,
}

impl Relayed {
    async fn start(stream: &str, window: u32, account_cap: u32) -> Relayed {
        use mannequin::queue::nats::{NatsQueue, NatsSettings};
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Arc::new(mannequin::store::Store::open_sqlite(&url, 2).await.unwrap());
        store.migrate().await.unwrap();
        let queue = NatsQueue::connect(
            NatsSettings {
                url: services::nats_url(),
                stream: stream.to_string(),
                ack_wait: Duration::from_secs(30),
                max_attempts: 3,
                window,
                account_cap,
            },
            store.clone(),
            Arc::new(mannequin::metrics::Metrics::default()),
        )
        .await
        .unwrap();
        Relayed {
            queue,
            store,
            url,
            _dir: dir,
        }
    }

    /// Queues one batch of `count` models for `account`.
    async fn register(&self, account: &AccountId, count: u32) {
        let now = mannequin::clock::now_ms();
        self.store
            .register_batch(&crate::store::batch(account, count, now + 3_600_000), now)
            .await
            .unwrap();
    }

    /// Relays once, then takes (and acknowledges) up to `max` jobs, waiting
    /// up to 300 ms for the first.
    async fn take(&self, max: usize) -> Vec<ClaimedJob> {
        use mannequin::queue::JobSource;
        self.queue.flush().await.unwrap();
        let lease = mannequin::clock::now_ms() + 60_000;
        let taken = self
            .queue
            .take("w", max, Duration::from_millis(300), lease)
            .await
            .unwrap();
        let mut jobs = Vec::new();
        for t in taken {
            t.ticket.ack().await;
            jobs.push(t.job);
        }
        jobs
    }

    /// Takes until nothing more comes.
    async fn take_all(&self) -> Vec<ClaimedJob> {
        let mut jobs = Vec::new();
        loop {
            let taken = self.take(50).await;
            if taken.is_empty() {
                return jobs;
            }
            jobs.extend(taken);
        }
    }
}

/// How many of `jobs` are `who`'s.
fn of(jobs: &[ClaimedJob], who: &AccountId) -> usize {
    jobs.iter().filter(|j| j.account_id == *who).count()
}

/// With NATS too, one account's backlog does not hold back another's: the
/// relay hands the stream a window of jobs at a time, in fair order. A
/// queues 2,000 models, then B 20; every one of B's is delivered before A's
/// 500th.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_nats_a_backlog_does_not_hold_back_another_account() {
    let Some(stream) = services::nats_stream().await else {
        return;
    };
    let q = Relayed::start(&stream.name, 64, 0).await;
    let a = crate::store::account(&q.store, 20_100).await;
    let b = crate::store::account(&q.store, 200).await;
    for _ in 0..100 {
        q.register(&a, 20).await;
    }
    // Some of A's work is under way when B arrives.
    let mut from_a = 0;
    while from_a < 40 {
        from_a += q.take(40 - from_a).await.len();
    }
    q.register(&b, 20).await;
    let mut from_b = 0;
    for _ in 0..1000 {
        let taken = q.take(8).await;
        from_b += of(&taken, &b);
        from_a += taken.len() - of(&taken, &b);
        if from_b == 20 {
            break;
        }
    }
    assert_eq!(from_b, 20);
    assert!(from_a < 500, "B's 20 took until A's {from_a}th");
}

/// With NATS, `--account-max-in-flight` is kept by the relays: an account's
/// jobs running or waiting in the stream never pass the cap, and one that
/// settles makes room for the next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_nats_an_account_in_flight_stays_within_its_cap() {
    let Some(stream) = services::nats_stream().await else {
        return;
    };
    let q = Relayed::start(&stream.name, 64, 4).await;
    let a = crate::store::account(&q.store, 1000).await;
    let b = crate::store::account(&q.store, 1000).await;
    for who in [&a, &b] {
        q.register(who, 20).await;
    }
    let first = q.take_all().await;
    assert_eq!((of(&first, &a), of(&first, &b)), (4, 4));
    // Running at the cap: nothing more is handed out.
    assert!(q.take_all().await.is_empty());
    // One of A's is done: room for one more of A's.
    let done = first.iter().find(|j| j.account_id == a).unwrap();
    q.store
        .complete_model(done, "f", "t", mannequin::clock::now_ms())
        .await
        .unwrap();
    let next = q.take_all().await;
    assert_eq!((of(&next, &a), of(&next, &b)), (1, 0));
}

/// A job whose message is lost before any worker took it (the stream purged)
/// is published again by housekeeping once it has waited past the window's
/// memory, and is then delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_job_whose_message_was_lost_goes_out_again() {
    let Some(stream) = services::nats_stream().await else {
        return;
    };
    // The stream as the service makes it, but dropping duplicates for one
    // second instead of two minutes: the job goes out again under its first
    // message id, which the stream takes once that window has passed (in
    // service, housekeeping waits ten minutes, well past it).
    let js = async_nats::jetstream::new(async_nats::connect(services::nats_url()).await.unwrap());
    js.create_stream(async_nats::jetstream::stream::Config {
        name: stream.name.clone(),
        subjects: vec![format!("{}.jobs", stream.name)],
        retention: async_nats::jetstream::stream::RetentionPolicy::WorkQueue,
        duplicate_window: Duration::from_secs(1),
        ..Default::default()
    })
    .await
    .unwrap();
    let q = Relayed::start(&stream.name, 64, 0).await;
    let a = crate::store::account(&q.store, 100).await;
    q.register(&a, 2).await;
    mannequin::queue::JobSource::flush(&q.queue).await.unwrap();
    let published = Instant::now();
    js.get_stream(&stream.name)
        .await
        .unwrap()
        .purge()
        .await
        .unwrap();
    assert!(q.take(10).await.is_empty());
    // Not yet stale: housekeeping leaves them be.
    mannequin::housekeeping::sweep(&q.store, Duration::from_secs(30)).await;
    assert!(q.take(10).await.is_empty());
    // Published eleven minutes ago and never started: published again (once
    // the stream's duplicate window, a second here, has passed).
    tokio::time::sleep(Duration::from_millis(1100).saturating_sub(published.elapsed())).await;
    let db = sqlx::SqlitePool::connect(&q.url).await.unwrap();
    sqlx::query("UPDATE jobs SET published_at = published_at - 660000")
        .execute(&db)
        .await
        .unwrap();
    mannequin::housekeeping::sweep(&q.store, Duration::from_secs(30)).await;
    let mut taken = Vec::new();
    for _ in 0..10 {
        taken.extend(q.take(10).await);
        if taken.len() == 2 {
            break;
        }
    }
    assert_eq!(taken.len(), 2);
}
