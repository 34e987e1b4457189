//! Nothing blocks the runtime: a write lock another process holds for
//! seconds keeps the writes behind it waiting, and nothing else.

use std::time::Duration;

use mannequin::keys::Scope;
use serde_json::json;

use super::events::read_until;
use crate::helpers::{Stack, TestApp, stack};

/// An operator's `sqlite3` shell (or a backup) holds SQLite's write lock:
/// register-ideas waits for it, while health checks, another account's list
/// and a live stream of that account's batch are answered as usual, on the
/// test's one thread, which the server shares.
#[tokio::test(flavor = "current_thread")]
async fn a_write_lock_held_outside_delays_only_the_writes_behind_it() {
    if stack() != Stack::Embedded {
        eprintln!("skipped: PostgreSQL has no file lock to hold");
        return;
    }
    let app = TestApp::start().await;
    let (_, other_key) = app.account(100, &[Scope::Read, Scope::Register]).await;
    let batch = app.register_ok(&other_key, "woman, casual", 2).await;
    let batch = batch["batchId"].as_str().unwrap().to_string();
    // Both keys known to the server before the lock.
    assert_eq!(app.list(&app.key, "").await.0, 200);

    let path = app.dir.path().join("mannequin.db");
    let (locked_tx, locked) = tokio::sync::oneshot::channel();
    let (release, release_rx) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        locked_tx.send(()).unwrap();
        release_rx.recv_timeout(Duration::from_secs(30)).ok();
        conn.execute_batch("ROLLBACK").unwrap();
    });
    locked.await.unwrap();

    let write = {
        let (client, url, key) = (app.client.clone(), app.url.clone(), app.key.clone());
        tokio::spawn(async move {
            client
                .post(format!("{url}/api/external/models/register-ideas"))
                .header("X-Api-Key", key)
                .json(&json!({"preferences": "man, formal", "count": 1}))
                .send()
                .await
                .unwrap()
        })
    };
    for _ in 0..25 {
        let health = app.client.get(format!("{}/healthz", app.url)).send().await;
        assert_eq!(health.unwrap().status(), 200);
        let (status, page) = app.list(&other_key, "").await;
        assert_eq!((status, page["count"].as_u64()), (200, Some(2)));
    }
    let mut stream = app
        .client
        .get(format!("{}/api/external/batches/{batch}/events", app.url))
        .header("X-Api-Key", &other_key)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut buf = String::new();
    let first = read_until(&mut stream, &mut buf, "model.pending").await;
    assert_eq!(first.last().unwrap().event, "model.pending");
    assert!(
        !write.is_finished(),
        "register-ideas waits for the write lock while the rest is served"
    );

    release.send(()).unwrap();
    let res = write.await.unwrap();
    assert_eq!(
        res.status(),
        200,
        "the write goes through once the lock is free"
    );
    holder.join().unwrap();
}
