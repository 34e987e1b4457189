//! A fake of the OpenAI Images API: `POST /v1/images/generations` answering
//! `{"data": [{"b64_json"}]}` or `{"data": [{"url"}]}`, errors as
//! `{"error": {"code", "message", "type"}}`, and `GET /v1/models`.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mannequin::generator::GenerateError;
use mannequin::generator::GeneratorKind;
use serde_json::{Value, json};

use super::{Answer, Fake, Format, GARBAGE, b64, image};

fn error(status: u16, code: &str, message: &str, kind: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        Json(json!({"error": {"code": code, "message": message, "type": kind, "param": null}})),
    )
        .into_response()
}

async fn generations(
    State(fake): State<Fake>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    fake.record(&headers, &body);
    answer(&fake, &body).await
}

/// `POST /v1/images/edits`: a multipart form, its images as repeated
/// `image[]` parts; the fields are recorded as a generation's body, the
/// images as the picture's inputs.
async fn edits(State(fake): State<Fake>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let mut fields = serde_json::Map::new();
    let mut images = Vec::new();
    for part in super::form_parts(&headers, body).await {
        if part.name == "image[]" {
            images.push((part.file.unwrap_or_default(), part.bytes));
        } else {
            let text = String::from_utf8(part.bytes).unwrap();
            fields.insert(part.name, Value::String(text));
        }
    }
    let body = Value::Object(fields);
    fake.record(&headers, &body);
    fake.inputs.lock().unwrap().push(images);
    assert_eq!(body["n"], "1", "{body}");
    answer(&fake, &body).await
}

async fn answer(fake: &Fake, body: &Value) -> Response {
    assert!(
        body["size"].as_str().is_some_and(|s| s.contains('x')),
        "{body}"
    );
    let data =
        |item: Value| Json(json!({"created": 1_700_000_000, "data": [item]})).into_response();
    match fake.next() {
        // A JPEG comes as a URL to fetch, the others inline.
        Answer::Image(Format::Jpeg) => {
            fake.files
                .lock()
                .unwrap()
                .insert("a.jpg".into(), image(Format::Jpeg));
            data(json!({"url": format!("{}/files/a.jpg", fake.url)}))
        }
        Answer::Image(f) => data(json!({"b64_json": b64(&image(f))})),
        Answer::Slow(n) => {
            tokio::time::sleep(Duration::from_millis(100 * u64::from(n))).await;
            data(json!({"b64_json": b64(&image(Format::Png))}))
        }
        Answer::Garbage => data(json!({"b64_json": b64(GARBAGE)})),
        Answer::Busy(s) => {
            let mut r = error(
                429,
                "rate_limit_exceeded",
                "Rate limit reached for images",
                "requests",
            );
            r.headers_mut()
                .insert("retry-after", s.to_string().parse().unwrap());
            r
        }
        Answer::Down | Answer::Crash => error(500, "server_error", super::LEAK, "server_error"),
        Answer::Refuse => error(
            400,
            "moderation_blocked",
            &format!(
                "Your request was rejected by the safety system. {}",
                super::LEAK
            ),
            "image_generation_user_error",
        ),
        Answer::Unauthorized => error(
            401,
            "invalid_api_key",
            "Incorrect API key provided.",
            "invalid_request_error",
        ),
    }
}

async fn models(State(fake): State<Fake>, headers: HeaderMap) -> Response {
    fake.record_auth(&headers);
    match *fake.then.lock().unwrap() {
        Some(Answer::Unauthorized) => error(
            401,
            "invalid_api_key",
            "Incorrect API key provided.",
            "invalid_request_error",
        ),
        _ => Json(json!({"object": "list", "data": [{"id": "gpt-image-1", "object": "model"}]}))
            .into_response(),
    }
}

pub async fn start() -> Fake {
    Fake::start(|fake| {
        axum::Router::new()
            .route("/v1/images/generations", post(generations))
            .route("/v1/images/edits", post(edits))
            .route("/v1/models", get(models))
            .route("/files/{name}", get(super::files))
            .with_state(fake)
    })
    .await
}

fn prompt(body: &Value) -> String {
    body["prompt"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn every_answer_of_the_openai_api_is_understood() {
    let fake = start().await;
    let g = super::generator(GeneratorKind::Openai, &fake.url, |_| {});
    assert_eq!(g.name(), "openai/gpt-image-1");
    super::every_answer(&fake, g.as_ref(), prompt, "safety system").await;
    let body = fake.last_body();
    assert_eq!(body["model"], "gpt-image-1");
    assert_eq!(body["size"], "832x1216");
    assert!(
        body.get("response_format").is_none(),
        "gpt-image models refuse it"
    );
    assert!(
        fake.auth
            .lock()
            .unwrap()
            .iter()
            .all(|a| a.as_deref() == Some("Bearer test-key")),
        "the key goes as a bearer token"
    );
    // A base URL that already ends in /v1, as OpenAI-compatible clients often
    // write it, reaches the same path.
    let g = super::generator(GeneratorKind::Openai, &format!("{}/v1", fake.url), |s| {
        s.model = Some("dall-e-3".into())
    });
    super::generate(g.as_ref()).await.expect("an image");
    assert_eq!(fake.last_body()["response_format"], "b64_json");
}

#[tokio::test]
async fn an_unreachable_or_refusing_openai_url_is_a_misconfiguration_at_start() {
    let g = super::generator(GeneratorKind::Openai, &super::closed_url().await, |_| {});
    assert!(matches!(
        g.check().await,
        Err(GenerateError::Misconfigured(_))
    ));
    let fake = start().await;
    let g = super::generator(GeneratorKind::Openai, &fake.url, |_| {});
    assert!(g.check().await.is_ok());
    *fake.then.lock().unwrap() = Some(Answer::Unauthorized);
    assert!(matches!(
        g.check().await,
        Err(GenerateError::Misconfigured(_))
    ));
}

#[tokio::test]
async fn openai_models_reach_done_through_the_api() {
    let fake = start().await;
    super::end_to_end(
        &fake,
        &["--generator", "openai", "--generator-url", &fake.url],
        "openai/gpt-image-1",
    )
    .await;
    let bodies = fake.bodies.lock().unwrap().clone();
    assert_eq!(
        bodies[0]["size"], "1024x1536",
        "the backend's portrait default"
    );
    assert_eq!(bodies[2]["size"], "1536x1024", "a scenery's landscape");
}

/// Photo shoots and packshots through `images/edits`: the product's stored
/// photo first, then the model's and the scenery's images, byte for byte.
#[tokio::test]
async fn openai_pictures_are_edits_of_the_very_product_model_and_scenery() {
    let fake = start().await;
    let stored = super::pictures_end_to_end(
        &["--generator", "openai", "--generator-url", &fake.url],
        None,
        ("openai/gpt-image-1", "openai/gpt-image-1"),
    )
    .await;
    let inputs = fake.inputs.lock().unwrap().clone();
    assert_eq!(inputs.len(), 3, "two photo shoot pictures and a packshot");
    let mut shoots = 0;
    for parts in &inputs {
        assert_eq!(parts[0].0, "product.png");
        assert_eq!(parts[0].1, stored.product, "the product's very bytes");
        if parts.len() == 3 {
            shoots += 1;
            assert_eq!(parts[1].1, stored.model, "the chosen model's image");
            assert_eq!(parts[2].1, stored.scenery, "the chosen scenery's image");
        } else {
            assert_eq!(parts.len(), 1, "a packshot is made from the product alone");
        }
    }
    assert_eq!(shoots, 2);
    let edits: Vec<Value> = fake
        .bodies
        .lock()
        .unwrap()
        .iter()
        .filter(|b| b.get("input_fidelity").is_some())
        .cloned()
        .collect();
    assert_eq!(edits.len(), 3);
    for body in &edits {
        assert_eq!(body["input_fidelity"], "high");
        assert_eq!(body["model"], "gpt-image-1");
    }
    assert!(
        edits.iter().any(|b| b["size"] == "1024x1024"),
        "a packshot is square"
    );
    assert!(edits.iter().any(|b| b["size"] == "1024x1536"));
}

/// A misconfigured backend must not burn through the queue: the worker
/// pauses, says so on /readyz, and the model waits, its credits reserved and
/// no attempt counted; once the backend answers, the model is made.
#[tokio::test]
async fn bad_credentials_pause_the_worker_and_the_models_wait() {
    let fake = start().await;
    *fake.then.lock().unwrap() = Some(Answer::Unauthorized);
    let app = crate::helpers::TestApp::start_with(
        &["--generator", "openai", "--generator-url", &fake.url],
        None,
    )
    .await;
    app.register_ok(&app.key, super::TEXT, 2).await;
    let worker = app.running.worker.as_ref().unwrap();
    app.drain().await;
    let asked = fake.bodies.lock().unwrap().len();
    assert!(
        (1..=2).contains(&asked),
        "one round at most, not the whole queue: {asked}"
    );
    assert_eq!(app.drain().await, 0, "a paused worker takes nothing");
    let ready = app
        .client
        .get(format!("{}/readyz", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert!(
        body["generator"]["reason"]
            .as_str()
            .unwrap()
            .contains("invalid_api_key"),
        "{body}"
    );
    let (_, list) = app.list(&app.key, "").await;
    for m in list["models"].as_array().unwrap() {
        assert!(
            m["status"] == "PENDING" || m["status"] == "PROCESSING",
            "{m}"
        );
        assert!(m.get("failureReason").is_none(), "{m}");
    }
    assert_eq!(app.balance(&app.account).await, (980, 20, 0));
    let metrics = app
        .client
        .get(format!("{}/metrics", app.metrics_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("mannequin_worker_paused 1"), "{metrics}");
    assert!(
        metrics.contains(r#"mannequin_jobs_total{outcome="put_back"}"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"mannequin_generation_duration_seconds_count{result="misconfigured"}"#),
        "{metrics}"
    );

    // The operator fixes the key: the next check resumes the worker.
    *fake.then.lock().unwrap() = None;
    assert!(worker.check_generator().await);
    let ready = app
        .client
        .get(format!("{}/readyz", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(app.drain().await, 2);
    let (_, list) = app.list(&app.key, "").await;
    assert!(
        list["models"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["status"] == "DONE")
    );
    assert_eq!(app.balance(&app.account).await, (980, 0, 20));
    app.audit().await;
}
