//! The worker's side as clients see it: failures, retries, deadlines, cancelling.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use mannequin::generator::{Builtin, GenerateError, Generator, Made, Request};
use mannequin::keys::Scope;
use serde_json::{Value, json};

use super::EXAMPLE;
use crate::helpers::{TestApp, expect_error};

/// Fails every call, as retryable or fatal.
struct Failing {
    retryable: bool,
    calls: AtomicU32,
}

#[async_trait::async_trait]
impl Generator for Failing {
    fn name(&self) -> String {
        "test".into()
    }

    async fn generate(&self, _: &Request<'_>) -> Result<Made, GenerateError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.retryable {
            Err(GenerateError::Retryable("model server timed out".into()))
        } else {
            Err(GenerateError::Fatal("prompt rejected".into()))
        }
    }
}

#[tokio::test]
async fn retryable_failures_are_retried_then_the_model_fails_and_is_refunded() {
    let generator = Arc::new(Failing {
        retryable: true,
        calls: AtomicU32::new(0),
    });
    let app = TestApp::start_with(&["--max-attempts", "3"], Some(generator.clone())).await;
    app.register_ok(&app.key, "casual", 2).await;
    assert_eq!(app.balance(&app.account).await, (980, 20, 0));
    app.drain().await;
    assert_eq!(
        generator.calls.load(Ordering::SeqCst),
        6,
        "3 attempts per model"
    );
    let (_, list) = app.list(&app.key, "").await;
    for m in list["models"].as_array().unwrap() {
        assert_eq!(m["status"], "FAILED");
        assert!(m["thumbnail"].is_null());
        assert!(m["failureReason"].as_str().unwrap().contains("timed out"));
    }
    assert_eq!(app.balance(&app.account).await, (1000, 0, 0));
    app.audit().await;
}

#[tokio::test]
async fn fatal_failures_fail_at_once_and_refund() {
    let generator = Arc::new(Failing {
        retryable: false,
        calls: AtomicU32::new(0),
    });
    let app = TestApp::start_with(&[], Some(generator.clone())).await;
    app.register_ok(&app.key, "casual", 3).await;
    app.drain().await;
    assert_eq!(generator.calls.load(Ordering::SeqCst), 3);
    assert_eq!(app.balance(&app.account).await, (1000, 0, 0));
    let (_, list) = app.list(&app.key, "").await;
    assert!(
        list["models"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["status"] == "FAILED")
    );
    app.audit().await;
}

/// Fails the first call for each idea, then renders.
struct FlakyOnce {
    calls: AtomicU32,
}

#[async_trait::async_trait]
impl Generator for FlakyOnce {
    fn name(&self) -> String {
        "test".into()
    }

    async fn generate(&self, request: &Request<'_>) -> Result<Made, GenerateError> {
        if self.calls.fetch_add(1, Ordering::SeqCst).is_multiple_of(2) {
            return Err(GenerateError::Retryable("storage hiccup".into()));
        }
        Builtin {
            delay: std::time::Duration::ZERO,
            category: mannequin_domain::ideas::shoot::Category::Top,
        }
        .generate(request)
        .await
    }
}

#[tokio::test]
async fn a_failure_that_passes_still_charges_once() {
    let app = TestApp::start_with(
        &["--worker-concurrency", "1"],
        Some(Arc::new(FlakyOnce {
            calls: AtomicU32::new(0),
        })),
    )
    .await;
    app.register_ok(&app.key, "casual", 2).await;
    app.drain().await;
    let (_, list) = app.list(&app.key, "").await;
    assert!(
        list["models"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["status"] == "DONE"),
        "{list}"
    );
    assert_eq!(app.balance(&app.account).await, (980, 0, 20));
    app.audit().await;
}

#[tokio::test]
async fn reservations_past_their_deadline_fail_unfinished_models_and_refund() {
    let app = TestApp::start_with(&["--reservation-ttl-secs", "60"], None).await;
    let body = app.register_ok(&app.key, "casual", 3).await;
    assert_eq!(app.balance(&app.account).await, (970, 30, 0));
    let store = &app.running.store;
    // One model is finished in time, by a worker that claimed one job.
    let jobs = store
        .claim_jobs(
            "w1",
            1,
            mannequin::clock::now_ms(),
            mannequin::clock::now_ms() + 60_000,
        )
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    store
        .complete_model(
            &jobs[0],
            "k/full.png",
            "k/thumb.jpg",
            mannequin::clock::now_ms(),
        )
        .await
        .unwrap();
    // Before the deadline nothing happens; after it the rest fail.
    assert_eq!(
        store
            .expire_reservations(mannequin::clock::now_ms())
            .await
            .unwrap(),
        0
    );
    let later = mannequin::clock::now_ms() + 61_000;
    assert_eq!(store.expire_reservations(later).await.unwrap(), 2);
    assert_eq!(
        store.expire_reservations(later).await.unwrap(),
        0,
        "closed once"
    );
    let (_, list) = app
        .list(
            &app.key,
            &format!("?batchId={}", body["batchId"].as_str().unwrap()),
        )
        .await;
    let statuses: Vec<&str> = list["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == "DONE").count(), 1);
    assert_eq!(statuses.iter().filter(|s| **s == "FAILED").count(), 2);
    assert!(
        list["models"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["failureReason"] == "timed out")
    );
    assert_eq!(app.balance(&app.account).await, (990, 0, 10));
    assert_eq!(app.drain().await, 0, "no job is left to run");
    app.audit().await;
}

#[tokio::test]
async fn pending_models_can_be_cancelled_and_are_refunded() {
    let app = TestApp::start().await;
    let body = app.register_ok(&app.key, "casual", 3).await;
    let batch = body["batchId"].as_str().unwrap().to_string();
    let now = mannequin::clock::now_ms();
    // A worker has started one model.
    let started = app
        .running
        .store
        .claim_jobs("w", 1, now, now + 60_000)
        .await
        .unwrap()
        .remove(0);
    let others: Vec<String> = body["createdRecordIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .filter(|id| id.as_str() != started.model_id.as_str())
        .collect();
    let post = |path: String, key: String| {
        app.client
            .post(format!("{}{path}", app.url))
            .header("X-Api-Key", key)
            .send()
    };

    let res = post(
        format!("/api/external/models/{}/cancel", started.model_id),
        app.key.clone(),
    )
    .await
    .unwrap();
    expect_error(res, 409, "not_cancellable").await;
    let res = post(
        format!("/api/external/models/{}/cancel", others[0]),
        app.key.clone(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let cancelled: Value = res.json().await.unwrap();
    assert_eq!(
        cancelled,
        json!({"cancelledRecordIds": [others[0]], "creditsRefunded": 10})
    );
    let res = post(
        format!("/api/external/models/{}/cancel", others[0]),
        app.key.clone(),
    )
    .await
    .unwrap();
    expect_error(res, 409, "not_cancellable").await;

    let (_, stranger) = app.account(10, &Scope::ALL).await;
    let res = post(format!("/api/external/batches/{batch}/cancel"), stranger)
        .await
        .unwrap();
    expect_error(res, 404, "not_found").await;
    let (_, reader) = app.account(10, &[Scope::Read]).await;
    let res = post(format!("/api/external/batches/{batch}/cancel"), reader)
        .await
        .unwrap();
    expect_error(res, 403, "missing_scope").await;
    let res = post(
        "/api/external/batches/batch_nope/cancel".into(),
        app.key.clone(),
    )
    .await
    .unwrap();
    expect_error(res, 404, "not_found").await;

    let res = post(
        format!("/api/external/batches/{batch}/cancel"),
        app.key.clone(),
    )
    .await
    .unwrap();
    let cancelled: Value = res.json().await.unwrap();
    assert_eq!(
        cancelled,
        json!({"cancelledRecordIds": [others[1]], "creditsRefunded": 10})
    );
    assert_eq!(app.balance(&app.account).await, (990, 10, 0));

    // The started model finishes; cancelled ones are never generated.
    app.running
        .store
        .complete_model(&started, "f", "t", mannequin::clock::now_ms())
        .await
        .unwrap();
    assert_eq!(app.drain().await, 0);
    let (_, list) = app.list(&app.key, "").await;
    let statuses: Vec<&str> = list["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == "CANCELLED").count(), 2);
    assert_eq!(statuses.iter().filter(|s| **s == "DONE").count(), 1);
    assert_eq!(app.balance(&app.account).await, (990, 0, 10));
    app.audit().await;
}

/// Signals when a model is being generated, then waits to be released.
struct Gated {
    entered: Arc<tokio::sync::Notify>,
    release: Arc<tokio::sync::Notify>,
}

#[async_trait::async_trait]
impl Generator for Gated {
    fn name(&self) -> String {
        "test".into()
    }

    async fn generate(&self, request: &Request<'_>) -> Result<Made, GenerateError> {
        self.entered.notify_one();
        self.release.notified().await;
        Builtin {
            delay: std::time::Duration::ZERO,
            category: mannequin_domain::ideas::shoot::Category::Top,
        }
        .generate(request)
        .await
    }
}

#[tokio::test]
async fn a_model_that_times_out_while_generating_is_refunded_once_and_keeps_no_images() {
    let entered = Arc::new(tokio::sync::Notify::new());
    let release = Arc::new(tokio::sync::Notify::new());
    let generator = Gated {
        entered: entered.clone(),
        release: release.clone(),
    };
    let app =
        TestApp::start_with(&["--reservation-ttl-secs", "60"], Some(Arc::new(generator))).await;
    let body = app.register_ok(&app.key, "casual", 1).await;
    let model = body["createdRecordIds"][0].as_str().unwrap().to_string();
    let worker = app.running.worker.clone().unwrap();
    let drain = tokio::spawn(async move { worker.run_ready().await });
    entered.notified().await;
    // The deadline passes while the image is being made.
    let later = mannequin::clock::now_ms() + 61_000;
    assert_eq!(
        app.running.store.expire_reservations(later).await.unwrap(),
        1
    );
    release.notify_one();
    assert_eq!(drain.await.unwrap(), 1);

    let (_, list) = app.list(&app.key, "").await;
    assert_eq!(list["models"][0]["status"], "FAILED");
    assert_eq!(list["models"][0]["failureReason"], "timed out");
    assert!(list["models"][0]["thumbnail"].is_null());
    assert_eq!(app.balance(&app.account).await, (1000, 0, 0));
    let dir = app.dir.path().join("media/models").join(&model);
    let left: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        left.is_empty(),
        "images of a failed model were kept: {left:?}"
    );
    app.audit().await;
}

/// What a customer reads on a failed model is a short public reason; the full
/// cause (paths, hosts, the storage's own words) goes only to the log.
#[tokio::test]
async fn a_failed_model_tells_a_public_reason_and_no_internals() {
    if crate::helpers::stack() == crate::helpers::Stack::Scale {
        eprintln!("embedded stack only: the fault is a file where local disk wants a folder");
        return;
    }
    let app = TestApp::start_with(&["--max-attempts", "1"], None).await;
    // Images go under <data>/media/models/<shard>/: a file in the way makes
    // every store fail with an error that names the data directory.
    std::fs::create_dir_all(app.dir.path().join("media")).unwrap();
    std::fs::write(app.dir.path().join("media/models"), b"in the way").unwrap();
    app.register_ok(&app.key, EXAMPLE, 1).await;
    app.drain().await;
    let (_, list) = app.list(&app.key, "").await;
    let model = &list["models"][0];
    assert_eq!(model["status"], "FAILED");
    assert_eq!(model["failureReason"], "image storage unavailable");
    let dir = app.dir.path().display().to_string();
    assert!(!list.to_string().contains(&dir), "{list}");
    assert_eq!(app.balance(&app.account).await, (1000, 0, 0), "refunded");
    app.audit().await;
}
