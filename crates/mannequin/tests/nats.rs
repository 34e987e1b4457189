//! The NATS queue when NATS is away: registering still succeeds, the jobs wait
//! in the outbox, and they flow once NATS is back, each charged once. The
//! test runs a NATS server of its own so it can stop and start it.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::TestApp;
use common::services::{self, Service};
use mannequin::keys::Scope;

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

async fn unpublished(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE published_at IS NULL")
        .fetch_one(&app.sql().await)
        .await
        .unwrap()
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
