//! Registering ideas: the happy path, bad bodies, prices, 402s, idempotency.

use mannequin::keys::Scope;
use serde_json::{Value, json};

use super::EXAMPLE;
use crate::helpers::{TestApp, expect_error};

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
        let name = m["name"].as_str().unwrap();
        assert!(name.starts_with("Female Model - Sportswear"), "{name}");
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
    // The suit the text asked for names every model, and no two share a name.
    let mut names: Vec<&str> = models.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert!(
        names.iter().all(|n| n.starts_with("Male Model - Suit, ")),
        "{names:?}"
    );
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 5);
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
    // A whole number written with a fraction is that integer, as JSON Schema says.
    let res = app
        .client
        .post(format!("{}/api/external/models/register-ideas", app.url))
        .header("X-Api-Key", &app.key)
        .header("content-type", "application/json")
        .body(r#"{"preferences": "casual", "count": 3.0}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["createdRecordIds"].as_array().unwrap().len(), 3);
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
            Some("application/json"),
            r#"{"preferences": "a", "count": true}"#.into(),
            "invalid_count",
        ),
        // A field that is present must be a number: null is not "absent".
        (
            Some("application/json"),
            r#"{"preferences": "a", "count": null}"#.into(),
            "invalid_count",
        ),
        // Which of two values a reader keeps is not said by JSON.
        (
            Some("application/json"),
            r#"{"preferences": "a", "count": 2, "count": 3}"#.into(),
            "malformed_json",
        ),
        (
            Some("application/json"),
            r#"{"preferences": "a", "preferences": "a"}"#.into(),
            "malformed_json",
        ),
        (
            Some("application/json"),
            r#"{"preferences": "a", "count": 2.0e400}"#.into(),
            "malformed_json",
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
            mannequin_domain::Credits::new(5),
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
    // An empty key is refused like one of spaces, not taken as no key.
    for bad in ["has spaces", "", " "] {
        expect_error(post(bad, 1).await.unwrap(), 400, "invalid_idempotency_key").await;
    }
    assert_eq!(
        app.list(&key, "").await.1["count"],
        3,
        "nothing else was created"
    );
    app.drain().await;
    assert_eq!(app.balance(&account).await, (0, 0, 30));
    app.audit().await;
}

/// A NUL or an escape sequence is never part of a description, and not every
/// database can store a NUL: both stacks refuse such text at the edge, and an
/// id that cannot be one is unknown before any query runs.
#[tokio::test]
async fn control_characters_and_malformed_ids_are_refused_before_any_query() {
    let app = TestApp::start().await;
    for text in ["young\u{0}woman", "red \u{1b}[31m dress", "a\u{7f}b"] {
        let res = app
            .register(&app.key, json!({"preferences": text, "count": 1}))
            .await;
        expect_error(res, 400, "invalid_preferences").await;
    }
    let res = app
        .register(
            &app.key,
            json!({"preferences": "tall man,\ttailored suit\r\nstudio light", "count": 1}),
        )
        .await;
    assert_eq!(res.status(), 200, "tabs and line breaks are ordinary text");
    for (path, body) in [
        (
            "models/model_x%00/vote",
            Some(json!({"voting": "APPROVED"})),
        ),
        ("models/model_%00/cancel", None),
        ("batches/batch_x%00y/cancel", None),
        (
            "models/model_x%27%3B/vote",
            Some(json!({"voting": "APPROVED"})),
        ),
    ] {
        let mut req = app
            .client
            .post(format!("{}/api/external/{path}", app.url))
            .header("X-Api-Key", &app.key);
        if let Some(body) = body {
            req = req.json(&body);
        }
        expect_error(req.send().await.unwrap(), 404, "not_found").await;
    }
    let (status, list) = app.list(&app.key, "?batchId=batch_x%00").await;
    assert_eq!((status, &list["code"]), (400, &json!("invalid_batch_id")));
    assert_eq!(app.balance(&app.account).await, (990, 10, 0));
    app.audit().await;
}

#[tokio::test]
async fn words_the_reading_does_not_know_settle_their_kind_and_are_told() {
    let app = TestApp::start().await;
    app.register_ok(&app.key, "woman wearing a dirndl", 3).await;
    app.drain().await;
    let (_, list) = app.list(&app.key, "").await;
    let models = list["models"].as_array().unwrap();
    assert_eq!(models.len(), 3);
    for m in models {
        let name = m["name"].as_str().unwrap();
        assert!(name.starts_with("Female Model - Dirndl"), "{name}");
        let prompt = m["prompt"].as_str().unwrap();
        assert!(prompt.contains("woman wearing a dirndl"), "{prompt}");
        // No outfit of the service's own beside the customer's dirndl.
        assert!(
            !prompt.contains("wearing casual") && !prompt.contains("wearing formal"),
            "{prompt}"
        );
        let notes = m["generatorNotes"].as_str().unwrap();
        assert!(
            notes.starts_with("not understood, so not varied: clothing: dirndl"),
            "{notes}"
        );
        assert_eq!(notes.matches("dirndl").count(), 1, "told once: {notes}");
    }
    app.audit().await;
}
