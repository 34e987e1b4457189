//! Webhooks: endpoints managed through the API under their scope and per
//! account; events written when models settle, signed per Standard Webhooks
//! and checked by the reference library's verifier; retries with the same
//! id; a failing endpoint disabled; addresses webhooks may not reach refused.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use mannequin::blob::local::LocalDisk;
use mannequin::clock::now_ms;
use mannequin::keys::Scope;
use mannequin::metrics::Metrics;
use mannequin::store::{EndpointState, Outcome};
use mannequin::webhooks::{self, Dispatcher};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error};
use crate::services::{Received, Receiver};

/// Retries at once, so a test walks through them without waiting.
const AT_ONCE: &[&str] = &[
    "--webhook-allow-private",
    "--webhook-retry-schedule",
    "0ms,0ms,0ms,0ms,0ms",
];

async fn post_endpoint(app: &TestApp, key: &str, body: Value) -> reqwest::Response {
    app.client
        .post(format!("{}/api/external/webhooks", app.url))
        .header("X-Api-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn get(app: &TestApp, key: &str, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.url))
        .header("X-Api-Key", key)
        .send()
        .await
        .unwrap()
}

/// Creates an endpoint and returns its body (with the secret).
async fn endpoint(app: &TestApp, url: &str, events: Option<Value>) -> Value {
    let mut body = json!({ "url": url });
    if let Some(events) = events {
        body["events"] = events;
    }
    let res = post_endpoint(app, &app.key, body).await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

/// Runs the dispatcher until `done` holds for what the receiver got, at most
/// `rounds` rounds that each attempt something.
async fn deliver_until(
    app: &TestApp,
    receiver: &Receiver,
    done: impl Fn(&[Received]) -> bool,
) -> Vec<Received> {
    let dispatcher = app.running.dispatcher.as_ref().expect("a dispatcher");
    for _ in 0..50 {
        let got = receiver.received();
        if done(&got) {
            return got;
        }
        let n = dispatcher.deliver_due().await.unwrap();
        assert!(n > 0, "deliveries were due; the receiver got {got:#?}");
    }
    panic!("not delivered in 50 rounds: {:#?}", receiver.received());
}

#[tokio::test]
async fn endpoints_are_managed_per_account_under_their_scope() {
    let app = TestApp::start().await;

    // Without the scope.
    let (_, read_only) = app.account(0, &[Scope::Read, Scope::Register]).await;
    let res = post_endpoint(
        &app,
        &read_only,
        json!({"url": "https://hooks.example.com/in"}),
    )
    .await;
    expect_error(res, 403, "missing_scope").await;
    expect_error(
        get(&app, &read_only, "/api/external/webhooks").await,
        403,
        "missing_scope",
    )
    .await;

    // Refused input changes nothing.
    let hooks = "https://hooks.example.com";
    for (body, status, code) in [
        (json!({}), 400, "url_missing"),
        (json!({"url": 5}), 400, "url_invalid"),
        (json!({"url": "hooks.example.com/in"}), 422, "url_refused"),
        (
            json!({"url": "ftp://hooks.example.com/"}),
            422,
            "url_refused",
        ),
        (
            json!({"url": "https://me:pw@hooks.example.com/"}),
            422,
            "url_refused",
        ),
        (
            json!({"url": "http://127.0.0.1:9/hook"}),
            422,
            "url_refused",
        ),
        (json!({"url": "http://localhost/hook"}), 422, "url_refused"),
        (json!({"url": hooks, "events": []}), 400, "events_invalid"),
        (
            json!({"url": hooks, "events": ["model.done"]}),
            400,
            "events_invalid",
        ),
        (
            json!({"url": hooks, "events": "batch.completed"}),
            400,
            "events_invalid",
        ),
        (
            json!({"url": hooks, "secret": "mine"}),
            400,
            "unknown_field",
        ),
    ] {
        let res = post_endpoint(&app, &app.key, body.clone()).await;
        let err = expect_error(res, status, code).await;
        assert!(!err["error"].as_str().unwrap().is_empty(), "{body}");
    }
    let loopback = expect_error(
        post_endpoint(&app, &app.key, json!({"url": "http://127.0.0.1:9/hook"})).await,
        422,
        "url_refused",
    )
    .await;
    assert!(
        loopback["error"].as_str().unwrap().contains("loopback"),
        "{loopback}"
    );
    let listed: Value = get(&app, &app.key, "/api/external/webhooks")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!({"webhooks": [], "count": 0}));

    // Created: the secret once, every event by default.
    let created = endpoint(&app, "https://hooks.example.com/in?shop=1", None).await;
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("wh_"));
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(created["url"], "https://hooks.example.com/in?shop=1");
    assert_eq!(created["events"], Value::Null);
    assert_eq!(created["status"], "enabled");
    let only = endpoint(
        &app,
        "https://hooks.example.com/batches",
        Some(json!([
            "batch.completed",
            "model.failed",
            "batch.completed"
        ])),
    )
    .await;
    assert_eq!(only["events"], json!(["model.failed", "batch.completed"]));

    let listed: Value = get(&app, &app.key, "/api/external/webhooks")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["count"], 2);
    // Oldest first: by id, which starts with the creation time (two created
    // in one millisecond may come in either order).
    let ids: Vec<&str> = listed["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    let mine = listed["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == id.as_str())
        .expect("the first endpoint is listed")
        .clone();
    for w in listed["webhooks"].as_array().unwrap() {
        assert!(w.get("secret").is_none(), "the secret is shown once: {w}");
    }
    let one: Value = get(&app, &app.key, &format!("/api/external/webhooks/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one, mine);

    // Another account sees none of it and can remove none of it.
    let (_, other) = app.account(0, &Scope::ALL).await;
    let theirs: Value = get(&app, &other, "/api/external/webhooks")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["count"], 0);
    for path in [
        format!("/api/external/webhooks/{id}"),
        format!("/api/external/webhooks/{id}/deliveries"),
    ] {
        expect_error(get(&app, &other, &path).await, 404, "not_found").await;
    }
    let res = app
        .client
        .delete(format!("{}/api/external/webhooks/{id}", app.url))
        .header("X-Api-Key", &other)
        .send()
        .await
        .unwrap();
    expect_error(res, 404, "not_found").await;
    let enable = app
        .client
        .post(format!("{}/api/external/webhooks/{id}/enable", app.url))
        .header("X-Api-Key", &other)
        .send()
        .await
        .unwrap();
    expect_error(enable, 404, "not_found").await;
    for path in [
        "/api/external/webhooks/model_1",
        "/api/external/webhooks/wh_!/deliveries",
    ] {
        expect_error(get(&app, &app.key, path).await, 400, "invalid_id").await;
    }
    let res = app
        .client
        .post(format!("{}/api/external/webhooks/batch_1/enable", app.url))
        .header("X-Api-Key", &app.key)
        .send()
        .await
        .unwrap();
    expect_error(res, 400, "invalid_id").await;
    let res = app
        .client
        .get(format!(
            "{}/api/external/webhooks/{id}/deliveries?cursor=abc",
            app.url
        ))
        .header("X-Api-Key", &app.key)
        .send()
        .await
        .unwrap();
    expect_error(res, 400, "invalid_cursor").await;

    // Removed by its owner.
    let res = app
        .client
        .delete(format!("{}/api/external/webhooks/{id}", app.url))
        .header("X-Api-Key", &app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"id": id, "deleted": true})
    );
    expect_error(
        get(&app, &app.key, &format!("/api/external/webhooks/{id}")).await,
        404,
        "not_found",
    )
    .await;

    // At most 20 per account.
    for i in 1..20 {
        endpoint(&app, &format!("https://hooks.example.com/{i}"), None).await;
    }
    let res = post_endpoint(
        &app,
        &app.key,
        json!({"url": "https://hooks.example.com/21"}),
    )
    .await;
    expect_error(res, 409, "too_many_webhooks").await;
    let listed: Value = get(&app, &app.key, "/api/external/webhooks")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["count"], 20);
}

#[tokio::test]
async fn signed_events_reach_a_receiver_through_its_failures_with_one_id_each() {
    let Some(receiver) = Receiver::start(3) else {
        return;
    };
    let app = TestApp::start_with(AT_ONCE, None).await;
    let created = endpoint(&app, &receiver.url, None).await;
    receiver.set_secret(created["secret"].as_str().unwrap());
    let wh = created["id"].as_str().unwrap().to_string();
    // Another account's endpoint hears nothing of this account's models.
    let (_, other) = app.account(0, &Scope::ALL).await;
    let res = post_endpoint(&app, &other, json!({"url": receiver.url})).await;
    assert_eq!(res.status(), 201);

    let registered = app.register_ok(&app.key, "woman, casual", 3).await;
    let batch = registered["batchId"].as_str().unwrap().to_string();
    assert_eq!(app.drain().await, 3);

    let got = deliver_until(&app, &receiver, |got| {
        got.iter().filter(|r| r.status == 204).count() == 4
    })
    .await;
    assert!(
        got.iter().all(|r| r.verified),
        "every signature verifies: {got:#?}"
    );
    assert!(
        got[..3].iter().all(|r| r.status == 500),
        "the first three failed"
    );

    // One id per event, the same on every retry of it.
    let mut ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in &got {
        ids.entry(r.kind.clone()).or_default().insert(r.id.clone());
    }
    assert_eq!(ids["model.completed"].len(), 3);
    assert_eq!(ids["batch.completed"].len(), 1);
    assert_eq!(ids.len(), 2, "{ids:?}");
    let failed: BTreeSet<&str> = got[..3].iter().map(|r| r.id.as_str()).collect();
    for id in &failed {
        let tries: Vec<&Received> = got.iter().filter(|r| r.id == *id).collect();
        assert!(tries.len() >= 2, "{id} was tried again");
        assert!(
            tries.windows(2).all(|w| w[0].body == w[1].body),
            "the same body each time"
        );
    }

    // The specification's payload shape, with what GET shows.
    let finished = got.iter().find(|r| r.kind == "batch.completed").unwrap();
    assert_eq!(finished.body["type"], "batch.completed");
    assert!(finished.body["timestamp"].as_str().unwrap().ends_with('Z'));
    let data = &finished.body["data"];
    assert_eq!(data["id"], batch.as_str());
    assert_eq!(data["statuses"]["DONE"], 3);
    assert_eq!(data["creditsConsumed"], 30);
    assert_eq!(data["creditsRefunded"], 0);
    assert!(data["finishedAt"].is_string());
    for r in got.iter().filter(|r| r.kind == "model.completed") {
        let model = &r.body["data"];
        assert_eq!(model["status"], "DONE");
        assert_eq!(model["batchId"], batch.as_str());
        assert!(model["image"].as_str().unwrap().starts_with("http"));
        let shown: Value = get(
            &app,
            &app.key,
            &format!("/api/external/models/{}", model["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(model, &shown, "the event carries the model as GET shows it");
    }

    // Every attempt, newest first, with its answer; paged.
    let page: Value = get(
        &app,
        &app.key,
        &format!("/api/external/webhooks/{wh}/deliveries"),
    )
    .await
    .json()
    .await
    .unwrap();
    let attempts = page["deliveries"].as_array().unwrap();
    assert_eq!(attempts.len(), got.len());
    assert_eq!(page["nextCursor"], Value::Null);
    let failures: Vec<&Value> = attempts.iter().filter(|a| a["statusCode"] == 500).collect();
    assert_eq!(failures.len(), 3);
    for f in failures {
        assert_eq!(f["delivered"], false);
        assert_eq!(f["attempt"], 1);
        assert!(f["error"].as_str().unwrap().starts_with("HTTP 500"), "{f}");
    }
    let newest = &attempts[0];
    assert_eq!(newest["statusCode"], 204);
    assert_eq!(newest["delivered"], true);
    assert!(newest.get("error").is_none());
    let retried = attempts
        .iter()
        .find(|a| a["attempt"] == 2)
        .expect("a second attempt");
    assert!(failed.contains(retried["eventId"].as_str().unwrap()));
    let first: Value = get(
        &app,
        &app.key,
        &format!("/api/external/webhooks/{wh}/deliveries?limit=2"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(first["deliveries"], json!(attempts[..2]));
    let cursor = first["nextCursor"].as_str().unwrap();
    let second: Value = get(
        &app,
        &app.key,
        &format!("/api/external/webhooks/{wh}/deliveries?limit=2&cursor={cursor}"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(second["deliveries"], json!(attempts[2..4]));

    // Nothing more is due, and the other account's endpoint got nothing.
    assert_eq!(
        app.running
            .dispatcher
            .as_ref()
            .unwrap()
            .deliver_due()
            .await
            .unwrap(),
        0
    );
    assert_eq!(receiver.received().len(), got.len());
    let metrics = app
        .client
        .get(format!("{}/metrics", app.metrics_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"mannequin_webhook_attempts_total{outcome="delivered"} 4"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"mannequin_webhook_attempts_total{outcome="retry"} 3"#));
    app.audit().await;
}

#[tokio::test]
async fn endpoints_receive_only_the_events_they_asked_for() {
    let Some(receiver) = Receiver::start(0) else {
        return;
    };
    let app = TestApp::start_with(AT_ONCE, None).await;
    let created = endpoint(
        &app,
        &receiver.url,
        Some(json!(["model.cancelled", "batch.completed"])),
    )
    .await;
    receiver.set_secret(created["secret"].as_str().unwrap());

    let registered = app.register_ok(&app.key, "man, suit", 2).await;
    let batch = registered["batchId"].as_str().unwrap().to_string();
    let res = app
        .client
        .post(format!("{}/api/external/batches/{batch}/cancel", app.url))
        .header("X-Api-Key", &app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    app.drain().await;
    let got = deliver_until(&app, &receiver, |got| got.len() == 3).await;
    let kinds: Vec<&str> = got.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "model.cancelled").count(),
        2,
        "{kinds:?}"
    );
    let done = got.iter().find(|r| r.kind == "batch.completed").unwrap();
    assert_eq!(done.body["data"]["statuses"]["CANCELLED"], 2);
    assert_eq!(done.body["data"]["creditsRefunded"], 20);
    assert!(got.iter().all(|r| r.verified && r.status == 204));
}

#[tokio::test]
async fn each_kind_has_its_own_events() {
    let Some(receiver) = Receiver::start(0) else {
        return;
    };
    let app = TestApp::start_with(AT_ONCE, None).await;
    let created = endpoint(&app, &receiver.url, Some(json!(["scenery.completed"]))).await;
    receiver.set_secret(created["secret"].as_str().unwrap());
    app.register_ok(&app.key, "man, suit", 1).await;
    let res = app
        .client
        .post(format!("{}/api/external/sceneries/register-ideas", app.url))
        .header("X-Api-Key", &app.key)
        .json(&json!({"preferences": "loft", "count": 2}))
        .send()
        .await
        .unwrap();
    let sceneries: Value = res.json().await.unwrap();
    app.drain().await;
    let got = deliver_until(&app, &receiver, |got| got.len() == 2).await;
    let mut ids: Vec<&str> = got
        .iter()
        .inspect(|r| assert_eq!(r.kind, "scenery.completed"))
        .map(|r| r.body["data"]["id"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut want: Vec<&str> = sceneries["createdRecordIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    want.sort();
    assert_eq!(ids, want, "the sceneries, and not the model");
    assert!(
        got.iter()
            .all(|r| r.verified && r.body["data"]["status"] == "DONE")
    );
    let dispatcher = app.running.dispatcher.as_ref().unwrap();
    assert_eq!(
        dispatcher.deliver_due().await.unwrap(),
        0,
        "nothing else is due"
    );
}

#[tokio::test]
async fn an_endpoint_failing_for_days_is_disabled_and_says_so() {
    let app = TestApp::start_with(&["--webhook-allow-private"], None).await;
    // Nothing listens on the discard port; the attempts are recorded, not sent.
    let created = endpoint(&app, "http://127.0.0.1:9/hook", None).await;
    let id = created["id"].as_str().unwrap().to_string();
    app.register_ok(&app.key, "woman", 2).await;
    app.drain().await;

    let store = &app.running.store;
    let day = 24 * 3600 * 1000;
    let disable_after = 5 * day;
    let fail = |retry_at: Option<i64>| Outcome {
        delivered: false,
        status_code: Some(503),
        error: Some("HTTP 503 Service Unavailable".into()),
        duration_ms: 3,
        retry_at,
    };
    // The first failure, now; the endpoint is failing, not disabled.
    let now = now_ms();
    let due = store
        .claim_deliveries(1, 4, &[], now, now + 60_000)
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    let state = store
        .finish_deliveries(&[(&due[0], &fail(Some(now + day)))], disable_after, now)
        .await
        .unwrap()[0];
    assert_eq!(state, EndpointState::Failing);
    let shown: Value = get(&app, &app.key, &format!("/api/external/webhooks/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["status"], "enabled");
    assert!(shown["failingSince"].is_string());

    // Six days on, still failing: disabled, with the reason, and nothing left due.
    let later = now + 6 * day;
    let due = store
        .claim_deliveries(5, 4, &[], later, later + 60_000)
        .await
        .unwrap();
    assert_eq!(due.len(), 3, "every event is due again");
    let state = store
        .finish_deliveries(&[(&due[0], &fail(Some(later + day)))], disable_after, later)
        .await
        .unwrap()[0];
    assert_eq!(state, EndpointState::Disabled);
    let shown: Value = get(&app, &app.key, &format!("/api/external/webhooks/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["status"], "disabled");
    let reason = shown["disabledReason"].as_str().unwrap();
    assert!(
        reason.contains("6 days") && reason.contains("HTTP 503"),
        "{reason}"
    );
    assert!(
        store
            .claim_deliveries(5, 4, &[], later + 10 * day, later + 11 * day)
            .await
            .unwrap()
            .is_empty(),
        "a disabled endpoint's deliveries are given up"
    );
    // New events skip it while it is disabled.
    app.register_ok(&app.key, "man", 1).await;
    app.drain().await;
    assert!(
        store
            .claim_deliveries(5, 4, &[], later + 10 * day, later + 11 * day)
            .await
            .unwrap()
            .is_empty()
    );

    // Enabled again by its owner: healthy, and new events reach it.
    let res = app
        .client
        .post(format!("{}/api/external/webhooks/{id}/enable", app.url))
        .header("X-Api-Key", &app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let shown: Value = res.json().await.unwrap();
    assert_eq!(shown["status"], "enabled");
    assert!(shown.get("disabledReason").is_none() && shown.get("failingSince").is_none());
    app.register_ok(&app.key, "woman", 1).await;
    app.drain().await;
    let due = store
        .claim_deliveries(5, 4, &[], now_ms(), now_ms() + 60_000)
        .await
        .unwrap();
    assert_eq!(due.len(), 2, "model.completed and batch.completed");
}

#[tokio::test]
async fn a_dispatcher_refuses_loopback_targets_unless_allowed() {
    // The endpoint was accepted by a process that allows private targets;
    // a dispatcher that does not refuses to connect.
    let app = TestApp::start_with(&["--webhook-allow-private"], None).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = format!("http://{}/hook", listener.local_addr().unwrap());
    let created = endpoint(&app, &target, Some(json!(["batch.completed"]))).await;
    let id = created["id"].as_str().unwrap().to_string();
    app.register_ok(&app.key, "woman", 1).await;
    app.drain().await;

    let guarded = Dispatcher::new(
        app.running.store.clone(),
        Arc::new(LocalDisk::new(
            app.dir.path().join("media"),
            "http://127.0.0.1/media",
            None,
        )),
        Arc::new(Metrics::default()),
        webhooks::Settings::default(),
    )
    .unwrap();
    assert_eq!(guarded.deliver_due().await.unwrap(), 1);
    use futures_util::FutureExt;
    assert!(
        listener.accept().now_or_never().is_none(),
        "no connection was made"
    );
    let page: Value = get(
        &app,
        &app.key,
        &format!("/api/external/webhooks/{id}/deliveries"),
    )
    .await
    .json()
    .await
    .unwrap();
    let error = page["deliveries"][0]["error"].as_str().unwrap();
    assert!(
        error.starts_with("refused") && error.contains("loopback"),
        "{error}"
    );
    assert!(page["deliveries"][0].get("statusCode").is_none());
}

#[tokio::test]
async fn names_that_resolve_to_refused_addresses_are_left_unreachable() {
    use reqwest::dns::Resolve;
    let resolver = webhooks::address::GuardedResolver;
    // `localhost` resolves from this machine's hosts file, without DNS traffic.
    let name: reqwest::dns::Name = "localhost".parse().unwrap();
    let err = match resolver.resolve(name).await {
        Ok(addrs) => panic!("resolved to {:?}", addrs.collect::<Vec<_>>()),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("loopback") && err.contains("localhost"),
        "{err}"
    );
}

/// The endpoint's newest attempt.
async fn last_attempt(app: &TestApp, wh: &Value) -> Value {
    let path = format!(
        "/api/external/webhooks/{}/deliveries",
        wh["id"].as_str().unwrap()
    );
    let page: Value = get(app, &app.key, &path).await.json().await.unwrap();
    page["deliveries"][0].clone()
}

/// Answers every connection with `answer` and counts the connections.
async fn fixed_server(answer: &'static str) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = conn.read(&mut buf).await;
                if !answer.is_empty() {
                    let _ = conn.write_all(answer.as_bytes()).await;
                }
                // Without an answer, hold the connection open past the timeout.
                let _ = conn.read(&mut buf).await;
            });
        }
    });
    (url, seen)
}

#[tokio::test]
async fn redirects_are_not_followed_and_silent_endpoints_time_out() {
    let mut flags = AT_ONCE.to_vec();
    flags.extend(["--webhook-timeout-secs", "1"]);
    let app = TestApp::start_with(&flags, None).await;
    let (elsewhere, visited) = fixed_server("HTTP/1.1 204 No Content\r\n\r\n").await;
    let redirect: &'static str = Box::leak(
        format!(
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: {elsewhere}\r\ncontent-length: 0\r\n\r\n"
        )
        .into_boxed_str(),
    );
    let (redirecting, _) = fixed_server(redirect).await;
    let (silent, reached) = fixed_server("").await;
    let moved = endpoint(&app, &redirecting, Some(json!(["batch.completed"]))).await;
    let quiet = endpoint(&app, &silent, Some(json!(["batch.completed"]))).await;
    app.register_ok(&app.key, "woman", 1).await;
    app.drain().await;

    let dispatcher = app.running.dispatcher.as_ref().unwrap();
    assert_eq!(dispatcher.deliver_due().await.unwrap(), 2);
    let moved = last_attempt(&app, &moved).await;
    assert_eq!(moved["statusCode"], 307);
    assert_eq!(moved["delivered"], false);
    assert!(
        moved["error"]
            .as_str()
            .unwrap()
            .contains("redirects are not followed"),
        "{moved}"
    );
    assert_eq!(
        visited.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the redirect was not followed"
    );
    let quiet = last_attempt(&app, &quiet).await;
    assert_eq!(reached.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert!(quiet.get("statusCode").is_none());
    assert_eq!(quiet["error"], "timed out after 1 s", "{quiet}");
    assert!(quiet["durationMs"].as_i64().unwrap() >= 1000);
    // Both are due again at once (the schedule here has no waits).
    assert_eq!(dispatcher.deliver_due().await.unwrap(), 2);
}

/// An endpoint that accepts connections and never answers: how many it was
/// sent at once is what it counts.
async fn hanging_endpoint() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let open = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = open.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(socket);
        }
    });
    (url, open)
}

/// A receiver that answers at once and keeps the event types it got.
async fn quick_endpoint() -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    use axum::routing::post;
    let got = Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = got.clone();
    let app = axum::Router::new().route(
        "/hooks",
        post(move |body: axum::Json<Value>| {
            let kept = kept.clone();
            async move {
                kept.lock()
                    .unwrap()
                    .push(body["type"].as_str().unwrap_or_default().to_string());
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

#[tokio::test]
async fn an_endpoint_that_hangs_holds_only_its_own_places() {
    let app = TestApp::start_with(
        &["--webhook-allow-private", "--webhook-timeout-secs", "4"],
        None,
    )
    .await;
    // Tenant A: an endpoint that never answers, and 42 events queued for it.
    let (hang_url, hang_open) = hanging_endpoint().await;
    let a_hook = endpoint(&app, &hang_url, None).await;
    app.register_ok(&app.key, "casual", 20).await;
    app.register_ok(&app.key, "formal", 20).await;
    app.drain().await;
    // Tenant B: an endpoint that answers, and its events after A's.
    let (_, b_key) = app.account(100, &Scope::ALL).await;
    let (quick_url, quick_got) = quick_endpoint().await;
    let res = post_endpoint(&app, &b_key, json!({"url": quick_url})).await;
    assert_eq!(res.status(), 201);
    app.register_ok(&b_key, "streetwear", 1).await;
    app.drain().await;

    let b_hooks: Value = get(&app, &b_key, "/api/external/webhooks")
        .await
        .json()
        .await
        .unwrap();
    let b_log = format!(
        "/api/external/webhooks/{}/deliveries",
        b_hooks["webhooks"][0]["id"].as_str().unwrap()
    );
    let a_log = format!(
        "/api/external/webhooks/{}/deliveries",
        a_hook["id"].as_str().unwrap()
    );
    let recorded = |key: String, log: String| {
        let app = &app;
        async move {
            let page: Value = get(app, &key, &log).await.json().await.unwrap();
            page["count"].as_u64().unwrap()
        }
    };

    let dispatcher = app.running.dispatcher.clone().expect("a dispatcher");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(dispatcher.run(stopped));
    // B's events arrive, and their attempts are recorded as they end, while
    // every attempt to A still hangs (for 4 s): none of A's is recorded, and
    // A holds no more places than its own four.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while recorded(b_key.clone(), b_log.clone()).await < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "B's events were held back behind A's hanging endpoint: {:?}",
            quick_got.lock().unwrap()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(quick_got.lock().unwrap().len(), 2);
    assert_eq!(recorded(app.key.clone(), a_log.clone()).await, 0);
    assert!(
        hang_open.load(std::sync::atomic::Ordering::SeqCst) <= 4,
        "A was sent more than its four places"
    );
    stop.send(true).unwrap();
    running.abort();
}
