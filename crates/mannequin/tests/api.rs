//! The Models API end to end: the real server on port 0, spoken to over HTTP.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use common::{TestApp, expect_error};
use mannequin::generator::{Builtin, GenerateError, Generator, Images};
use mannequin::keys::Scope;
use mannequin_domain::Idea;
use serde_json::{Value, json};

const EXAMPLE: &str = "young female model, athletic build, natural makeup, for sportswear";

#[tokio::test]
async fn register_ideas_then_the_worker_makes_every_model_done_and_consumes_its_price() {
    let app = TestApp::start().await;
    let body = app.register_ok(&app.key, EXAMPLE, 3).await;
    let ids: Vec<&str> = body["createdRecordIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.iter().all(|id| id.starts_with("model_")));
    assert!(body["batchId"].as_str().unwrap().starts_with("batch_"));
    assert!(body["orderId"].as_str().unwrap().starts_with("order_"));
    assert!(body["reservationId"].as_str().unwrap().starts_with("res_"));
    assert_eq!(body["creditsReserved"], 30);
    assert_eq!(app.balance(&app.account).await, (970, 30, 0));

    // The records exist before any work is done.
    let (status, list) = app.list(&app.key, "").await;
    assert_eq!(status, 200);
    assert_eq!(list["count"], 3);
    assert!(list["nextCursor"].is_null());
    for m in list["models"].as_array().unwrap() {
        assert_eq!(m["status"], "PENDING");
        assert_eq!(m["voting"], "PENDING");
        assert!(m["thumbnail"].is_null());
        assert_eq!(m["name"], "Female Model - Sportswear");
        let created = m["createdAt"].as_str().unwrap();
        assert_eq!(created.len(), 24, "RFC 3339 with milliseconds: {created}");
        assert!(created.ends_with('Z'));
    }

    assert_eq!(app.drain().await, 3);
    let (_, list) = app.list(&app.key, "").await;
    let models = list["models"].as_array().unwrap();
    let mut seen: Vec<&str> = models.iter().map(|m| m["id"].as_str().unwrap()).collect();
    seen.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(seen, expected);
    for m in models {
        assert_eq!(m["status"], "DONE");
        let thumb = m["thumbnail"].as_str().unwrap();
        assert!(thumb.starts_with(&app.url), "absolute URL: {thumb}");
        let res = app.client.get(thumb).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "image/jpeg");
        assert!(
            res.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("max-age")
        );
        let bytes = res.bytes().await.unwrap();
        assert_eq!(&bytes[..3], &[0xFF, 0xD8, 0xFF]);
        let full = app
            .client
            .get(m["image"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(full.headers()["content-type"], "image/png");
        assert_eq!(&full.bytes().await.unwrap()[..4], b"\x89PNG");
    }
    assert_eq!(app.balance(&app.account).await, (970, 0, 30));

    // Running the queue again changes nothing.
    assert_eq!(app.drain().await, 0);
    assert_eq!(app.balance(&app.account).await, (970, 0, 30));
    app.audit().await;
}

#[tokio::test]
async fn ideas_of_a_batch_differ_and_follow_the_text() {
    let app = TestApp::start().await;
    app.register_ok(&app.key, "man, business suit, smiling", 5)
        .await;
    app.drain().await;
    let (_, list) = app.list(&app.key, "").await;
    let models = list["models"].as_array().unwrap();
    assert!(models.iter().all(|m| m["name"] == "Male Model - Business"));
    let mut thumbs = Vec::new();
    for m in models {
        let bytes = app
            .client
            .get(m["thumbnail"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        thumbs.push(bytes);
    }
    for (i, a) in thumbs.iter().enumerate() {
        for b in &thumbs[i + 1..] {
            assert_ne!(a, b, "two ideas of one batch rendered the same picture");
        }
    }
    app.audit().await;
}

#[tokio::test]
async fn count_defaults_to_ten_and_price_is_configurable() {
    let app = TestApp::start_with(&["--credits-per-model", "7"], None).await;
    let res = app
        .register(&app.key, json!({"preferences": "casual", "extra": true}))
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["createdRecordIds"].as_array().unwrap().len(), 10);
    assert_eq!(body["creditsReserved"], 70);
    app.audit().await;
}

#[tokio::test]
async fn bad_bodies_answer_400_and_change_nothing() {
    let app = TestApp::start().await;
    let url = format!("{}/api/external/models/register-ideas", app.url);
    let cases: Vec<(Option<&str>, String, &str)> = vec![
        (
            Some("application/json"),
            "{not json".into(),
            "malformed_json",
        ),
        (Some("application/json"), "[1,2]".into(), "malformed_json"),
        (Some("application/json"), "{}".into(), "invalid_preferences"),
        (
            Some("application/json"),
            r#"{"preferences": null}"#.into(),
            "invalid_preferences",
        ),
        (
            Some("application/json"),
            r#"{"preferences": 5}"#.into(),
            "invalid_preferences",
        ),
        (
            Some("application/json"),
            r#"{"preferences": "   "}"#.into(),
            "invalid_preferences",
        ),
        (
            Some("application/json"),
            format!(r#"{{"preferences": "{}"}}"#, "x".repeat(2001)),
            "invalid_preferences",
        ),
        (
            Some("application/json"),
            r#"{"preferences": "a", "count": 0}"#.into(),
            "invalid_count",
        ),
        (
            Some("application/json"),
            r#"{"preferences": "a", "count": 21}"#.into(),
            "invalid_count",
        ),
        (
            Some("application/json"),
            r#"{"preferences": "a", "count": -3}"#.into(),
            "invalid_count",
        ),
        (
            Some("application/json"),
            r#"{"preferences": "a", "count": 2.5}"#.into(),
            "invalid_count",
        ),
        (
            Some("application/json"),
            r#"{"preferences": "a", "count": "3"}"#.into(),
            "invalid_count",
        ),
        (
            Some("application/json"),
            r#"{"preferences": "a", "count": 1e3}"#.into(),
            "invalid_count",
        ),
        (
            Some("text/plain"),
            r#"{"preferences": "a"}"#.into(),
            "unsupported_content_type",
        ),
        (
            None,
            r#"{"preferences": "a"}"#.into(),
            "unsupported_content_type",
        ),
    ];
    for (content_type, body, code) in cases {
        let mut req = app
            .client
            .post(&url)
            .header("X-Api-Key", &app.key)
            .body(body.clone());
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let res = req.send().await.unwrap();
        let err = expect_error(res, 400, code).await;
        assert!(!err["error"].as_str().unwrap().is_empty(), "{body}");
    }
    // 2000 characters after trimming is still fine; a charset parameter too.
    let res = app
        .client
        .post(&url)
        .header("X-Api-Key", &app.key)
        .header("content-type", "application/json; charset=utf-8")
        .body(json!({"preferences": format!("  {}  ", "é".repeat(2000)), "count": 1}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (_, list) = app.list(&app.key, "").await;
    assert_eq!(list["count"], 1, "only the valid request created anything");
    assert_eq!(app.balance(&app.account).await, (990, 10, 0));
    app.audit().await;
}

#[tokio::test]
async fn list_parameters_are_validated() {
    let app = TestApp::start().await;
    for (query, code) in [
        ("?statusFilter=done", "invalid_status_filter"),
        ("?statusFilter=", "invalid_status_filter"),
        ("?limit=0", "invalid_limit"),
        ("?limit=1001", "invalid_limit"),
        ("?limit=abc", "invalid_limit"),
        ("?cursor=garbage", "invalid_cursor"),
        ("?batchId=nope", "invalid_batch_id"),
    ] {
        let res = app
            .client
            .get(format!("{}/api/external/models{query}", app.url))
            .header("X-Api-Key", &app.key)
            .send()
            .await
            .unwrap();
        expect_error(res, 400, code).await;
    }
    for ok in [
        "?statusFilter=ALL",
        "?statusFilter=Approved",
        "?limit=1000",
        "?limit=1",
    ] {
        assert_eq!(app.list(&app.key, ok).await.0, 200, "{ok}");
    }
}

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
async fn too_few_credits_answer_402_and_create_nothing() {
    let app = TestApp::start().await;
    let (account, key) = app.account(15, &Scope::ALL).await;
    let res = app
        .register(&key, json!({"preferences": "casual", "count": 2}))
        .await;
    let body = expect_error(res, 402, "insufficient_credits").await;
    assert_eq!(
        body["error"],
        "Insufficient credits. Required: 20, available: 15."
    );
    assert_eq!(app.balance(&account).await, (15, 0, 0));
    assert_eq!(app.list(&key, "").await.1["count"], 0);
    let pool = app.sql().await;
    let rows: (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM batches), (SELECT COUNT(*) FROM reservations),
                (SELECT COUNT(*) FROM jobs), (SELECT COUNT(*) FROM ledger WHERE kind = 'reserve')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(rows, (0, 0, 0, 0), "a 402 leaves no trace");
    assert_eq!(app.drain().await, 0);
    app.audit().await;
}

#[tokio::test]
async fn simultaneous_posts_never_overdraw_an_account() {
    let app = TestApp::start().await;
    let (account, key) = app.account(100, &Scope::ALL).await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (client, url, key) = (app.client.clone(), app.url.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            client
                .post(format!("{url}/api/external/models/register-ideas"))
                .header("X-Api-Key", key)
                .json(&json!({"preferences": format!("casual {i}"), "count": 1}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 10);
    assert_eq!(statuses.iter().filter(|s| **s == 402).count(), 30);
    assert_eq!(app.balance(&account).await, (0, 100, 0));
    app.drain().await;
    assert_eq!(app.balance(&account).await, (0, 0, 100));
    app.audit().await;
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
async fn approved_filter_shows_only_approved_models() {
    let app = TestApp::start().await;
    let body = app.register_ok(&app.key, "casual", 3).await;
    let model = body["createdRecordIds"][1].as_str().unwrap();
    let res = app
        .client
        .post(format!("{}/api/external/models/{model}/vote", app.url))
        .header("X-Api-Key", &app.key)
        .json(&json!({"voting": "approved"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    for q in ["?statusFilter=approved", "?statusFilter=APPROVED"] {
        let (_, list) = app.list(&app.key, q).await;
        assert_eq!(list["count"], 1);
        assert_eq!(list["models"][0]["id"], model);
        assert_eq!(list["models"][0]["voting"], "APPROVED");
    }
    assert_eq!(app.list(&app.key, "?statusFilter=all").await.1["count"], 3);
}

#[tokio::test]
async fn paging_never_skips_or_repeats_even_while_models_are_created() {
    let app = TestApp::start().await;
    for i in 0..5 {
        app.register_ok(&app.key, &format!("casual {i}"), 5).await;
    }
    let (_, all) = app.list(&app.key, "").await;
    let expected: Vec<String> = all["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(expected.len(), 25);
    let created: Vec<String> = all["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["createdAt"].as_str().unwrap().to_string())
        .collect();
    let mut sorted = created.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(created, sorted, "newest first");

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("?limit=7&cursor={c}"),
            None => "?limit=7".to_string(),
        };
        let (status, page) = app.list(&app.key, &q).await;
        assert_eq!(status, 200);
        assert!(page["count"].as_u64().unwrap() <= 7);
        seen.extend(
            page["models"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_string()),
        );
        // New models arrive between pages; they are newer than the cursor.
        app.register_ok(&app.key, "streetwear", 1).await;
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, expected);
}

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
async fn rate_limit_answers_429_with_retry_after() {
    let app = TestApp::start_with(&["--rate-limit", "0.01", "--rate-burst", "2"], None).await;
    assert_eq!(app.list(&app.key, "").await.0, 200);
    assert_eq!(app.list(&app.key, "").await.0, 200);
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
    expect_error(res, 429, "rate_limited").await;
    let (_, other) = app.account(10, &Scope::ALL).await;
    assert_eq!(app.list(&other, "").await.0, 200, "limits are per account");
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
    let text = get("/metrics").await.unwrap().text().await.unwrap();
    assert!(text.contains(r#"mannequin_http_requests_total{method="POST",route="/api/external/models/register-ideas",status="200"} 1"#), "{text}");
    assert!(text.contains("mannequin_http_request_duration_seconds_bucket"));
    assert!(
        text.contains(r#"mannequin_queue_depth{state="queued"} 2"#),
        "{text}"
    );
    assert!(text.contains(r#"mannequin_credits_total{movement="reserved"} 20"#));
    app.drain().await;
    let text = get("/metrics").await.unwrap().text().await.unwrap();
    assert!(text.contains(r#"mannequin_queue_depth{state="queued"} 0"#));
    assert!(text.contains(r#"mannequin_jobs_total{outcome="done"} 2"#));
    assert!(text.contains(r#"mannequin_credits_total{movement="consumed"} 20"#));
}

/// Fails every call, as retryable or fatal.
struct Failing {
    retryable: bool,
    calls: AtomicU32,
}

#[async_trait::async_trait]
impl Generator for Failing {
    async fn generate(&self, _: &Idea) -> Result<Images, GenerateError> {
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
    async fn generate(&self, idea: &Idea) -> Result<Images, GenerateError> {
        if self.calls.fetch_add(1, Ordering::SeqCst).is_multiple_of(2) {
            return Err(GenerateError::Retryable("storage hiccup".into()));
        }
        Builtin {
            delay: std::time::Duration::ZERO,
        }
        .generate(idea)
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
async fn a_retried_post_with_an_idempotency_key_is_charged_once() {
    let app = TestApp::start().await;
    let (account, key) = app.account(25, &Scope::ALL).await;
    let post = |idem: &'static str, count: u32| {
        app.client
            .post(format!("{}/api/external/models/register-ideas", app.url))
            .header("X-Api-Key", &key)
            .header("Idempotency-Key", idem)
            .json(&json!({"preferences": "casual", "count": count}))
            .send()
    };
    // Too few credits: refused, and the key is not used up.
    expect_error(
        post("order-7", 3).await.unwrap(),
        402,
        "insufficient_credits",
    )
    .await;
    app.running
        .store
        .grant_credits(
            &account,
            mannequin_domain::Credits(5),
            "top-up",
            mannequin::clock::now_ms(),
        )
        .await
        .unwrap();

    let first = post("order-7", 3).await.unwrap();
    assert_eq!(first.status(), 200);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let again = post("order-7", 3).await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(first, again, "the same batch, ids and all");
    assert_eq!(app.balance(&account).await, (0, 30, 0), "charged once");
    assert_eq!(app.list(&key, "").await.1["count"], 3);

    let body = expect_error(
        post("order-7", 2).await.unwrap(),
        422,
        "idempotency_key_reused",
    )
    .await;
    assert!(body["error"].as_str().unwrap().contains("Idempotency-Key"));
    expect_error(
        post("has spaces", 1).await.unwrap(),
        400,
        "invalid_idempotency_key",
    )
    .await;
    assert_eq!(
        app.list(&key, "").await.1["count"],
        3,
        "nothing else was created"
    );
    app.drain().await;
    assert_eq!(app.balance(&account).await, (0, 0, 30));
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
        .filter(|id| *id != started.model_id)
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

#[tokio::test]
async fn the_served_openapi_document_matches_the_routes_and_responses() {
    let app = TestApp::start().await;
    let spec: Value = app
        .client
        .get(format!("{}/api/external/openapi.json", app.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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

/// Signals when a model is being generated, then waits to be released.
struct Gated {
    entered: Arc<tokio::sync::Notify>,
    release: Arc<tokio::sync::Notify>,
}

#[async_trait::async_trait]
impl Generator for Gated {
    async fn generate(&self, idea: &Idea) -> Result<Images, GenerateError> {
        self.entered.notify_one();
        self.release.notified().await;
        Builtin {
            delay: std::time::Duration::ZERO,
        }
        .generate(idea)
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
