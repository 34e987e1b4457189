//! Keys, scopes, tenants and the rate limit.

use mannequin::keys::Scope;
use serde_json::json;

use crate::helpers::{TestApp, expect_error};

#[tokio::test]
async fn every_invalid_key_answers_401_alike() {
    let app = TestApp::start().await;
    let (account, _) = app.account(100, &Scope::ALL).await;
    let revoked = app.key_for(&account, &Scope::ALL, None).await;
    let revoked_id = revoked
        .trim_start_matches("mk_live_")
        .split('.')
        .next()
        .unwrap()
        .to_string();
    assert!(
        app.running
            .store
            .revoke_key(&revoked_id, mannequin::clock::now_ms())
            .await
            .unwrap()
    );
    let expired = app
        .key_for(&account, &Scope::ALL, Some(mannequin::clock::now_ms() - 1))
        .await;
    let (key_id, secret) = app
        .key
        .trim_start_matches("mk_live_")
        .split_once('.')
        .unwrap();
    let wrong_secret = format!("mk_live_{key_id}.{}", "A".repeat(secret.len()));
    let unknown = format!("mk_live_zzzzzzzzzzzzzzzz.{secret}");
    let url = format!("{}/api/external/models", app.url);
    let mut messages = Vec::new();
    for key in [
        None,
        Some("garbage"),
        Some(wrong_secret.as_str()),
        Some(unknown.as_str()),
        Some(revoked.as_str()),
        Some(expired.as_str()),
    ] {
        for post in [false, true] {
            let mut req = if post {
                app.client
                    .post(format!("{url}/register-ideas"))
                    .json(&json!({"preferences": "a", "count": 1}))
            } else {
                app.client.get(&url)
            };
            if let Some(k) = key {
                req = req.header("X-Api-Key", k);
            }
            let body = expect_error(req.send().await.unwrap(), 401, "unauthorized").await;
            messages.push(body["error"].as_str().unwrap().to_string());
        }
    }
    messages.dedup();
    assert_eq!(messages.len(), 1, "no hint of which: {messages:?}");
    assert_eq!(app.balance(&account).await, (100, 0, 0));
}

#[tokio::test]
async fn bearer_works_and_x_api_key_wins_when_both_are_sent() {
    let app = TestApp::start().await;
    let url = format!("{}/api/external/models", app.url);
    let res = app
        .client
        .get(&url)
        .header("Authorization", format!("Bearer {}", app.key))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .get(&url)
        .header("Authorization", format!("Bearer {}", app.key))
        .header("X-Api-Key", "mk_live_bad.bad")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "X-Api-Key wins");
    let res = app
        .client
        .get(&url)
        .header("Authorization", "Bearer mk_live_bad.bad")
        .header("X-Api-Key", &app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn keys_without_the_scope_get_403() {
    let app = TestApp::start().await;
    let (account, read_only) = app.account(100, &[Scope::Read]).await;
    let register_only = app.key_for(&account, &[Scope::Register], None).await;
    let res = app
        .register(&read_only, json!({"preferences": "a", "count": 1}))
        .await;
    let body = expect_error(res, 403, "missing_scope").await;
    assert_eq!(body["error"], "Missing required scope: 'content.register'.");
    assert_eq!(app.balance(&account).await, (100, 0, 0));
    let res = app
        .client
        .get(format!("{}/api/external/models", app.url))
        .header("X-Api-Key", &register_only)
        .send()
        .await
        .unwrap();
    let body = expect_error(res, 403, "missing_scope").await;
    assert_eq!(body["error"], "Missing required scope: 'content.read'.");
    assert_eq!(app.list(&read_only, "").await.0, 200);
    assert_eq!(
        app.register(&register_only, json!({"preferences": "a", "count": 1}))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn accounts_cannot_see_or_touch_each_other() {
    let app = TestApp::start().await;
    let (_, other) = app.account(100, &Scope::ALL).await;
    let mine = app.register_ok(&app.key, "casual", 2).await;
    let batch = mine["batchId"].as_str().unwrap();
    let model = mine["createdRecordIds"][0].as_str().unwrap();
    let (_, list) = app.list(&other, "").await;
    assert_eq!(list["count"], 0);
    let (_, list) = app.list(&other, &format!("?batchId={batch}")).await;
    assert_eq!(list["count"], 0);
    let res = app
        .client
        .post(format!("{}/api/external/models/{model}/vote", app.url))
        .header("X-Api-Key", &other)
        .json(&json!({"voting": "APPROVED"}))
        .send()
        .await
        .unwrap();
    expect_error(res, 404, "not_found").await;
    let (_, list) = app.list(&app.key, &format!("?batchId={batch}")).await;
    assert_eq!(list["count"], 2);
    assert!(
        list["models"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["voting"] == "PENDING")
    );
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let app = TestApp::start_with(&["--rate-limit", "0.01", "--rate-burst", "2"], None).await;
    let get = || async {
        app.client
            .get(format!("{}/api/external/models", app.url))
            .header("X-Api-Key", &app.key)
            .send()
            .await
            .unwrap()
    };
    // The limit as the IETF draft's fields: a burst of 2 refills in 200 s.
    let first = get().await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["ratelimit-policy"], "\"account\";q=2;w=200");
    assert_eq!(first.headers()["ratelimit"], "\"account\";r=1;t=100");
    let second = get().await;
    assert_eq!(second.headers()["ratelimit"], "\"account\";r=0;t=200");
    // An answer before the key is known carries the policy alone.
    let health = app
        .client
        .get(format!("{}/healthz", app.url))
        .send()
        .await
        .unwrap();
    assert!(health.headers().get("ratelimit-policy").is_some());
    assert!(health.headers().get("ratelimit").is_none());
    let res = app
        .client
        .get(format!("{}/api/external/models", app.url))
        .header("X-Api-Key", &app.key)
        .send()
        .await
        .unwrap();
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    assert_eq!(res.headers()["ratelimit"], "\"account\";r=0;t=200");
    expect_error(res, 429, "rate_limited").await;
    let (_, other) = app.account(10, &Scope::ALL).await;
    assert_eq!(app.list(&other, "").await.0, 200, "limits are per account");
}

#[tokio::test]
async fn api_processes_sharing_redis_never_admit_more_than_the_limit_together() {
    let Some(redis) = crate::services::redis_url().await else {
        return;
    };
    let flags = [
        "--redis-url",
        &redis,
        "--rate-limit",
        "0.01",
        "--rate-burst",
        "4",
    ];
    let app = TestApp::start_with(&flags, None).await;
    let other = app.another_api(&flags).await;
    let urls = [app.url.clone(), other.base_url()];
    // Twelve requests at once, half to each process: four pass, together.
    let answers = futures_util::future::join_all((0..12).map(|i| {
        let url = format!("{}/api/external/models?limit=1", urls[i % 2]);
        let req = app.client.get(url).header("X-Api-Key", &app.key);
        async move { req.send().await.unwrap() }
    }))
    .await;
    let admitted = answers.iter().filter(|r| r.status() == 200).count();
    assert_eq!(admitted, 4, "the burst, across both processes");
    for res in answers.iter().filter(|r| r.status() != 200) {
        assert_eq!(res.status(), 429);
        assert!(res.headers().get("retry-after").is_some());
        assert_eq!(res.headers()["ratelimit"], "\"account\";r=0;t=400");
    }
    // Another account has its own limit in the same Redis.
    let (_, key) = app.account(10, &Scope::ALL).await;
    assert_eq!(app.list(&key, "").await.0, 200);
}

/// A loopback TCP proxy to Redis that can be cut (its listener closed and
/// every connection through it dropped, so connecting is refused) and
/// restored on the same port.
struct RedisProxy {
    port: u16,
    target: String,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RedisProxy {
    async fn start(target: &str) -> RedisProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut p = RedisProxy {
            port,
            target: target.to_string(),
            task: None,
        };
        p.serve(listener);
        p
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let target = self.target.clone();
        self.task = Some(tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                conns.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        }));
    }

    /// Closes the port and every connection through it (the JoinSet of
    /// connections is dropped with the task).
    async fn cut(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
    }

    async fn restore(&mut self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .unwrap();
        self.serve(listener);
    }
}

#[tokio::test]
async fn a_redis_outage_is_bypassed_at_once_and_the_process_limit_applies_meanwhile() {
    let Some(redis) = crate::services::redis_url().await else {
        return;
    };
    let mut proxy =
        RedisProxy::start(redis.trim_start_matches("redis://").trim_end_matches('/')).await;
    let url = format!("redis://127.0.0.1:{}", proxy.port);
    let app = TestApp::start_with(
        &[
            "--redis-url",
            &url,
            "--rate-limit",
            "0.01",
            "--rate-burst",
            "30",
        ],
        None,
    )
    .await;
    let list = || async { app.list(&app.key, "?limit=1").await.0 };
    assert_eq!(list().await, 200);

    let text = app.metrics_text().await;
    assert_eq!(
        crate::helpers::metric(&text, "mannequin_rate_limit_redis_errors_total"),
        Some(0.0)
    );
    assert_eq!(
        crate::helpers::metric(&text, "mannequin_rate_limit_redis_bypassed"),
        Some(0.0)
    );

    proxy.cut().await;
    // Requests pass (the limit fails open) and Redis is asked once, not per
    // request: after the first failure the process counts its own limit.
    let mut statuses = Vec::new();
    for _ in 0..40 {
        statuses.push(list().await);
    }
    let text = app.metrics_text().await;
    let errors = crate::helpers::metric(&text, "mannequin_rate_limit_redis_errors_total").unwrap();
    assert!(
        (1.0..=2.0).contains(&errors),
        "Redis asked {errors} times in an outage"
    );
    assert_eq!(
        crate::helpers::metric(&text, "mannequin_rate_limit_redis_bypassed"),
        Some(1.0)
    );
    // The process's own limit: the burst of 30, less what Redis had counted.
    let passed = statuses.iter().filter(|s| **s == 200).count();
    assert!(
        (25..=30).contains(&passed),
        "{passed} of 40 passed: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 429),
        "{statuses:?}"
    );

    // Redis back: a probe in the background finds it and limits are shared again.
    proxy.restore().await;
    let mut shared = false;
    for _ in 0..150 {
        let _ = list().await;
        let text = app.metrics_text().await;
        if crate::helpers::metric(&text, "mannequin_rate_limit_redis_bypassed") == Some(0.0) {
            shared = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(shared, "Redis was never asked again");
}

#[tokio::test]
async fn a_taken_listen_address_says_which_flag_and_why() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let args =
        crate::helpers::serve_args(dir.path(), &["--listen", &addr, "--metrics-listen", "off"]);
    let err = mannequin::app::start(&args, true, Default::default())
        .await
        .err()
        .expect("refused");
    assert_eq!(
        err.to_string(),
        format!("--listen {addr}: address already in use")
    );
}

#[tokio::test]
async fn an_unreachable_redis_stops_the_start_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let port = crate::services::free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let args = crate::helpers::serve_args(dir.path(), &["--redis-url", &url, "--rate-limit", "1"]);
    let err = mannequin::app::start(&args, true, Default::default())
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("MANNEQUIN_REDIS_URL"), "{err}");
}

/// Keys are kept for a second after they are read: a key revoked by the
/// process serving it is refused at once, one revoked by another process
/// (here a statement from outside, as `mannequin admin key revoke` runs)
/// within two seconds.
#[tokio::test]
async fn a_revoked_key_is_refused_at_once_here_and_within_two_seconds_elsewhere() {
    let app = TestApp::start().await;
    let (account, _) = app.account(100, &Scope::ALL).await;
    let url = format!("{}/api/external/models", app.url);
    let status = |key: String| {
        let req = app.client.get(&url).header("X-Api-Key", key);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    let key_id = |key: &str| {
        key.trim_start_matches("mk_live_")
            .split('.')
            .next()
            .unwrap()
            .to_string()
    };

    let here = app.key_for(&account, &Scope::ALL, None).await;
    assert_eq!(status(here.clone()).await, 200, "read and kept");
    let now = mannequin::clock::now_ms();
    assert!(
        app.running
            .store
            .revoke_key(&key_id(&here), now)
            .await
            .unwrap()
    );
    assert_eq!(
        status(here).await,
        401,
        "refused at once by the revoking process"
    );

    let elsewhere = app.key_for(&account, &Scope::ALL, None).await;
    assert_eq!(status(elsewhere.clone()).await, 200, "read and kept");
    let pool = app.sql().await;
    sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2")
        .bind(now)
        .bind(key_id(&elsewhere))
        .execute(&pool)
        .await
        .unwrap();
    let revoked = std::time::Instant::now();
    loop {
        let code = status(elsewhere.clone()).await;
        if code == 401 {
            break;
        }
        assert_eq!(code, 200);
        assert!(
            revoked.elapsed() < std::time::Duration::from_secs(2),
            "still served 2 s after another process revoked it"
        );
        tokio::task::yield_now().await;
    }
    assert!(revoked.elapsed() <= mannequin::store::KEY_TTL + std::time::Duration::from_millis(500));
}
