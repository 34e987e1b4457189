//! What every response shares: JSON errors, correlation ids, health, metrics, the OpenAPI description, database failures.

use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error, metric};

#[tokio::test]
async fn framework_errors_are_json_too() {
    let app = TestApp::start().await;
    let res = app
        .client
        .get(format!("{}/nope", app.url))
        .send()
        .await
        .unwrap();
    expect_error(res, 404, "not_found").await;
    let res = app
        .client
        .delete(format!("{}/api/external/models", app.url))
        .header("X-Api-Key", &app.key)
        .send()
        .await
        .unwrap();
    expect_error(res, 405, "method_not_allowed").await;
    let res = app
        .client
        .get(format!("{}/api/external/models/register-ideas", app.url))
        .header("X-Api-Key", &app.key)
        .send()
        .await
        .unwrap();
    expect_error(res, 405, "method_not_allowed").await;
    let big = json!({"preferences": "x".repeat(70 * 1024)}).to_string();
    let res = app
        .client
        .post(format!("{}/api/external/models/register-ideas", app.url))
        .header("X-Api-Key", &app.key)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    expect_error(res, 413, "payload_too_large").await;
    let res = app
        .client
        .get(format!("{}/media/models/model_x/../../etc/passwd", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = app
        .client
        .get(format!("{}/media/models/model_missing/thumb.jpg", app.url))
        .send()
        .await
        .unwrap();
    expect_error(res, 404, "not_found").await;
    assert_eq!(app.balance(&app.account).await, (1000, 0, 0));
}

#[tokio::test]
async fn a_broken_database_answers_500_without_internals() {
    let app = TestApp::start().await;
    let pool = app.sql().await;
    sqlx::query("ALTER TABLE models RENAME TO models_moved")
        .execute(&pool)
        .await
        .unwrap();
    let res = app
        .client
        .get(format!("{}/api/external/models", app.url))
        .header("X-Api-Key", &app.key)
        .send()
        .await
        .unwrap();
    let body = expect_error(res, 500, "internal").await;
    let text = body.to_string();
    assert!(
        !text.contains("models") && !text.contains("SQL") && !text.contains("table"),
        "{text}"
    );
}

#[tokio::test]
async fn an_unreachable_database_answers_503_with_retry_after() {
    let app = TestApp::start().await;
    app.running.store.close().await;
    let res = app
        .client
        .get(format!("{}/api/external/models", app.url))
        .header("X-Api-Key", &app.key)
        .send()
        .await
        .unwrap();
    assert!(res.headers().contains_key("retry-after"));
    expect_error(res, 503, "unavailable").await;
    let res = app
        .register(&app.key, json!({"preferences": "casual", "count": 1}))
        .await;
    expect_error(res, 503, "unavailable").await;
    let pool = app.sql().await;
    let models: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM models")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(models, 0, "nothing half-done");
    let res = app
        .client
        .get(format!("{}/readyz", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let res = app
        .client
        .get(format!("{}/healthz", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "alive even when the database is not");
}

#[tokio::test]
async fn correlation_ids_are_kept_or_replaced_and_stored_with_the_batch() {
    let app = TestApp::start().await;
    let url = format!("{}/api/external/models/register-ideas", app.url);
    let send = |cid: &'static str| {
        app.client
            .post(&url)
            .header("X-Api-Key", &app.key)
            .header("X-Correlation-Id", cid)
            .json(&json!({"preferences": "casual", "count": 1}))
            .send()
    };
    let res = send("order-42.retry_1").await.unwrap();
    assert_eq!(res.headers()["x-correlation-id"], "order-42.retry_1");
    let batch: Value = res.json().await.unwrap();
    let res = send("bad id with spaces!").await.unwrap();
    let replaced = res.headers()["x-correlation-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_ne!(replaced, "bad id with spaces!");
    assert_eq!(replaced.len(), 26);
    let pool = app.sql().await;
    let stored: (String, String, String) = sqlx::query_as(
        "SELECT b.correlation_id, j.correlation_id, l.correlation_id FROM batches b
         JOIN models m ON m.batch_id = b.id JOIN jobs j ON j.model_id = m.id
         JOIN ledger l ON l.reservation_id = m.reservation_id AND l.kind = 'reserve'
         WHERE b.id = $1",
    )
    .bind(batch["batchId"].as_str().unwrap())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        stored,
        (
            "order-42.retry_1".into(),
            "order-42.retry_1".into(),
            "order-42.retry_1".into()
        )
    );
    app.drain().await;
    let consumed: String = sqlx::query_scalar(
        "SELECT correlation_id FROM ledger WHERE kind = 'consume' AND model_id = $1",
    )
    .bind(batch["createdRecordIds"][0].as_str().unwrap())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(consumed, "order-42.retry_1");
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = TestApp::start().await;
    app.register_ok(&app.key, "casual", 2).await;
    let get = |p: &str| app.client.get(format!("{}{p}", app.url)).send();
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    let ready: Value = get("/readyz").await.unwrap().json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    // Metrics are on the operator listener, not the API's.
    let not_here = get("/metrics").await.unwrap();
    assert_eq!(not_here.status(), 404);
    let body: Value = not_here.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
    let get = |p: &str| app.client.get(format!("{}{p}", app.metrics_url)).send();
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    let ready: Value = get("/readyz").await.unwrap().json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    let text = get("/metrics").await.unwrap().text().await.unwrap();
    assert!(text.contains(r#"mannequin_http_requests_total{method="POST",route="/api/external/models/register-ideas",status="200"} 1"#), "{text}");
    assert!(text.contains("mannequin_http_request_duration_seconds_bucket"));
    assert!(
        text.contains(r#"mannequin_queue_depth{state="queued"} 2"#),
        "{text}"
    );
    assert!(text.contains(r#"mannequin_credits_total{movement="reserved"} 20"#));
    assert!(
        text.contains(&format!(
            r#"mannequin_build_info{{version="{}"}} 1"#,
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
    let value = |name: &str| metric(&text, name).unwrap_or_else(|| panic!("no {name} in {text}"));
    assert!(value("process_resident_memory_bytes") > 1e6);
    assert!(value("process_open_fds") >= 3.0);
    assert!(value("process_max_fds") >= value("process_open_fds"));
    assert!(value("process_cpu_seconds_total") > 0.0);
    assert!(value("process_start_time_seconds") > 1.7e9);
    app.drain().await;
    let text = get("/metrics").await.unwrap().text().await.unwrap();
    assert!(text.contains(r#"mannequin_queue_depth{state="queued"} 0"#));
    assert!(text.contains(r#"mannequin_jobs_total{outcome="done"} 2"#));
    assert!(text.contains(r#"mannequin_credits_total{movement="consumed"} 20"#));
}

#[tokio::test]
async fn a_metrics_token_guards_metrics_on_both_listeners() {
    let app = TestApp::start_with(&["--metrics-token", "t0ken-for-prometheus"], None).await;
    for base in [&app.url, &app.metrics_url] {
        let get = |auth: Option<&'static str>| {
            let mut req = app.client.get(format!("{base}/metrics"));
            if let Some(a) = auth {
                req = req.header("Authorization", a);
            }
            req.send()
        };
        for refused in [
            None,
            Some("Bearer wrong"),
            Some("Bearer t0ken-for-prometheu"),
            Some("t0ken-for-prometheus"),
        ] {
            let res = get(refused).await.unwrap();
            assert_eq!(res.status(), 401, "{base} {refused:?}");
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["code"], "unauthorized", "{base}");
        }
        let res = get(Some("Bearer t0ken-for-prometheus")).await.unwrap();
        assert_eq!(res.status(), 200, "{base}");
        let text = res.text().await.unwrap();
        assert!(text.contains("mannequin_queue_depth"), "{text}");
    }
}

#[tokio::test]
async fn the_served_openapi_document_matches_the_routes_and_responses() {
    let app = TestApp::start().await;
    let spec: Value = app.openapi().await;
    let paths = spec["paths"].as_object().unwrap();
    assert!(paths.len() >= 5);
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            let url = format!("{}{}", app.url, path.replace("{id}", "model_x"));
            let req = app
                .client
                .request(method.to_uppercase().parse().unwrap(), url);
            // Every documented operation exists and asks for a key.
            expect_error(req.send().await.unwrap(), 401, "unauthorized").await;
        }
    }
    let required = |schema: &str| -> Vec<String> {
        spec["components"]["schemas"][schema]["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let registered = app.register_ok(&app.key, "casual", 1).await;
    for field in required("Registered") {
        assert!(
            registered.get(&field).is_some(),
            "register-ideas lacks {field}"
        );
    }
    let (_, list) = app.list(&app.key, "").await;
    for field in required("ModelList") {
        assert!(list.get(&field).is_some(), "list lacks {field}");
    }
    for field in required("Model") {
        assert!(
            list["models"][0].get(&field).is_some(),
            "model lacks {field}"
        );
    }
    let bad = app.register(&app.key, json!({})).await;
    let err: Value = bad.json().await.unwrap();
    for field in ["error", "code", "correlationId"] {
        assert!(err.get(field).is_some(), "error lacks {field}");
    }
}

#[tokio::test]
async fn browsers_of_allowed_origins_may_call_and_others_get_no_cors_headers() {
    let app = TestApp::start_with(
        &[
            "--cors-origins",
            "https://shop.example,http://localhost:3000",
        ],
        None,
    )
    .await;
    let url = format!("{}/api/external/models", app.url);
    // A preflight is answered without a key.
    let pre = app
        .client
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "x-api-key")
        .send()
        .await
        .unwrap();
    assert!(pre.status().is_success(), "{}", pre.status());
    assert_eq!(
        pre.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    let allowed = pre.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(allowed.contains("x-api-key"), "{allowed}");
    // The call itself exposes what a client needs to read.
    let res = app
        .client
        .get(&url)
        .header("origin", "http://localhost:3000")
        .header("x-api-key", &app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "http://localhost:3000"
    );
    let exposed = res.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        exposed.contains("x-correlation-id") && exposed.contains("ratelimit"),
        "{exposed}"
    );
    // Another origin gets nothing it could use.
    let res = app
        .client
        .get(&url)
        .header("origin", "https://evil.example")
        .header("x-api-key", &app.key)
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    // And without --cors-origins there is no CORS at all.
    let plain = TestApp::start().await;
    let res = plain
        .client
        .get(format!("{}/api/external/models", plain.url))
        .header("origin", "https://shop.example")
        .header("x-api-key", &plain.key)
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn the_docs_page_works_offline_and_the_description_names_this_server() {
    let app = TestApp::start().await;
    let page = app
        .client
        .get(format!("{}/docs", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    let html = page.text().await.unwrap();
    for outside in ["http://", "https://", "//cdn", "src=\""] {
        assert!(
            !html.contains(outside),
            "the page loads nothing from elsewhere: {outside}"
        );
    }
    assert!(html.contains("/api/external/openapi.json"));
    let spec: Value = app.openapi().await;
    assert_eq!(spec["servers"][0]["url"], app.url.as_str());
    let tags: Vec<&str> = spec["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let tag = op["tags"][0].as_str().unwrap_or_default();
            assert!(tags.contains(&tag), "{method} {path} has a declared tag");
        }
    }
}

#[tokio::test]
async fn signed_image_urls_work_until_they_expire_and_not_otherwise() {
    let app = TestApp::start_with(
        &[
            "--media-signing-key",
            "0123456789abcdef0123456789abcdef",
            "--media-url-ttl",
            "1h",
        ],
        None,
    )
    .await;
    app.register_ok(&app.key, "woman, casual", 1).await;
    app.drain().await;
    let (_, list) = app.list(&app.key, "").await;
    let thumb = list["models"][0]["thumbnail"].as_str().unwrap().to_string();
    let fetch = |url: String| {
        let c = app.client.clone();
        async move { c.get(url).send().await.unwrap() }
    };
    let res = fetch(thumb.clone()).await;
    assert_eq!(res.status(), 200, "{thumb}");
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    if !thumb.contains("/media/") {
        // On S3 the URL is the bucket's own, presigned.
        assert!(thumb.contains("X-Amz-Signature="), "{thumb}");
        return;
    }
    let cache = res.headers()["cache-control"].to_str().unwrap().to_string();
    let age: u64 = cache
        .strip_prefix("private, max-age=")
        .unwrap()
        .parse()
        .unwrap();
    assert!((3600..=3600 + 900).contains(&age), "{cache}");
    let (path, query) = thumb.split_once('?').unwrap();
    assert!(
        query.starts_with("expires=") && query.contains("&signature="),
        "{query}"
    );
    // Without the signature, with another one, with a later expiry, for
    // another image: refused.
    expect_error(fetch(path.to_string()).await, 403, "invalid_signature").await;
    let (expires, signature) = query.split_once("&signature=").unwrap();
    let flipped = format!(
        "{}{}",
        if signature.starts_with('0') { "1" } else { "0" },
        &signature[1..]
    );
    expect_error(
        fetch(format!("{path}?{expires}&signature={flipped}")).await,
        403,
        "invalid_signature",
    )
    .await;
    let at: i64 = expires.trim_start_matches("expires=").parse().unwrap();
    expect_error(
        fetch(format!("{path}?expires={}&signature={signature}", at + 900)).await,
        403,
        "invalid_signature",
    )
    .await;
    let image = list["models"][0]["image"].as_str().unwrap();
    let other_path = image.split_once('?').unwrap().0;
    expect_error(
        fetch(format!("{other_path}?{query}")).await,
        403,
        "invalid_signature",
    )
    .await;
    // The full image's own URL works.
    assert_eq!(fetch(image.to_string()).await.status(), 200);
}
