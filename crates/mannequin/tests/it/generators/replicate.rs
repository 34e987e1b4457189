//! A fake of Replicate's predictions API: `POST
//! /v1/models/{owner}/{name}/predictions` and `POST /v1/predictions` (a
//! version) answering `201` with a prediction (`id`, `status`, `output`,
//! `error`, `urls.get`), `GET /v1/predictions/{id}` through `starting`,
//! `processing`, then `succeeded`, `failed` or `canceled`; errors as
//! `{"title", "detail", "status"}`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use mannequin::generator::GenerateError;
use mannequin::generator::GeneratorKind;
use serde_json::{Value, json};

use super::{Answer, Fake, Format, GARBAGE, b64, image};

type Predictions = Arc<Mutex<HashMap<String, (u32, Value)>>>;

#[derive(Clone)]
struct Rep {
    fake: Fake,
    /// Prediction id → (looks left before it is final, the final prediction).
    predictions: Predictions,
}

fn problem(status: u16, title: &str, detail: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        Json(json!({"title": title, "detail": detail, "status": status})),
    )
        .into_response()
}

fn prediction(c: &Rep, id: &str, status: &str, output: Value, error: Value) -> Value {
    json!({
        "id": id,
        "model": "black-forest-labs/flux-schnell",
        "version": "dp-4d0bcc010b3049749a251855f12800be",
        "status": status,
        "input": {},
        "output": output,
        "error": error,
        "logs": "",
        "urls": {
            "get": format!("{}/v1/predictions/{id}", c.fake.url),
            "cancel": format!("{}/v1/predictions/{id}/cancel", c.fake.url),
            "stream": null
        }
    })
}

async fn create(c: Rep, headers: HeaderMap, body: Value) -> Response {
    c.fake.record(&headers, &body);
    assert_eq!(
        headers.get("prefer").and_then(|v| v.to_str().ok()),
        Some("wait")
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer test-key") {
        return problem(
            401,
            "Unauthenticated",
            "You did not pass a valid authentication token",
        );
    }
    let id = format!("pred{}", c.fake.bodies.lock().unwrap().len());
    let file = |bytes: Vec<u8>, ext: &str| {
        let name = format!("{id}.{ext}");
        c.fake.files.lock().unwrap().insert(name.clone(), bytes);
        format!("{}/files/{name}", c.fake.url)
    };
    let (looks, done) = match c.fake.next() {
        // The output as a list of URLs, a single URL, or a data URL.
        Answer::Image(Format::Png) => (
            0,
            prediction(
                &c,
                &id,
                "succeeded",
                json!([file(image(Format::Png), "png")]),
                Value::Null,
            ),
        ),
        Answer::Image(Format::Jpeg) => (
            0,
            prediction(
                &c,
                &id,
                "succeeded",
                json!(file(image(Format::Jpeg), "jpg")),
                Value::Null,
            ),
        ),
        Answer::Image(Format::Webp) => {
            let data = format!("data:image/webp;base64,{}", b64(&image(Format::Webp)));
            (
                0,
                prediction(&c, &id, "succeeded", json!([data]), Value::Null),
            )
        }
        Answer::Slow(n) => (
            n,
            prediction(
                &c,
                &id,
                "succeeded",
                json!([file(image(Format::Png), "png")]),
                Value::Null,
            ),
        ),
        Answer::Garbage => (
            0,
            prediction(
                &c,
                &id,
                "succeeded",
                json!([file(GARBAGE.to_vec(), "png")]),
                Value::Null,
            ),
        ),
        Answer::Refuse => (
            1,
            prediction(
                &c,
                &id,
                "failed",
                Value::Null,
                json!(format!(
                    "NSFW content detected. Try running it again, or try a different prompt. {}",
                    super::LEAK
                )),
            ),
        ),
        Answer::Crash => (
            1,
            prediction(
                &c,
                &id,
                "failed",
                Value::Null,
                json!(format!("CUDA error: out of memory: {}", super::LEAK)),
            ),
        ),
        Answer::Busy(s) => {
            let mut r = problem(
                429,
                "Request was throttled",
                "Request was throttled. Expected available in 3 seconds.",
            );
            r.headers_mut()
                .insert("retry-after", s.to_string().parse().unwrap());
            return r;
        }
        Answer::Down => return problem(500, "Internal server error", super::LEAK),
        Answer::Unauthorized => {
            return problem(
                401,
                "Unauthenticated",
                "You did not pass a valid authentication token",
            );
        }
    };
    if looks == 0 {
        return (StatusCode::CREATED, Json(done)).into_response();
    }
    let starting = prediction(&c, &id, "starting", Value::Null, Value::Null);
    c.predictions.lock().unwrap().insert(id, (looks, done));
    (StatusCode::CREATED, Json(starting)).into_response()
}

async fn by_model(
    State(c): State<Rep>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    assert_eq!(
        (owner.as_str(), name.as_str()),
        ("black-forest-labs", "flux-schnell")
    );
    assert!(body.get("version").is_none(), "{body}");
    create(c, headers, body).await
}

async fn by_version(State(c): State<Rep>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    assert!(body["version"].is_string(), "{body}");
    create(c, headers, body).await
}

async fn get_prediction(
    State(c): State<Rep>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    c.fake.record_auth(&headers);
    let mut predictions = c.predictions.lock().unwrap();
    let Some((looks, done)) = predictions.get_mut(&id) else {
        return problem(404, "Not found", "Not found.");
    };
    if *looks > 1 {
        *looks -= 1;
        return Json(prediction(&c, &id, "processing", Value::Null, Value::Null)).into_response();
    }
    Json(done.clone()).into_response()
}

async fn model(Path((owner, name)): Path<(String, String)>, headers: HeaderMap) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer test-key") {
        return problem(
            401,
            "Unauthenticated",
            "You did not pass a valid authentication token",
        );
    }
    if (owner.as_str(), name.as_str()) != ("black-forest-labs", "flux-schnell") {
        return problem(404, "Not found", "Not found.");
    }
    Json(json!({"owner": owner, "name": name, "visibility": "public"})).into_response()
}

pub async fn start() -> Fake {
    let predictions: Predictions = Arc::default();
    Fake::start(move |fake| {
        axum::Router::new()
            .route("/v1/models/{owner}/{name}/predictions", post(by_model))
            .route("/v1/models/{owner}/{name}", get(model))
            .route("/v1/predictions", post(by_version))
            .route("/v1/predictions/{id}", get(get_prediction))
            .route("/files/{name}", get(super::files).with_state(fake.clone()))
            .with_state(Rep { fake, predictions })
    })
    .await
}

fn prompt(body: &Value) -> String {
    body["input"]["prompt"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn every_answer_of_replicate_is_understood() {
    let fake = start().await;
    let g = super::generator(GeneratorKind::Replicate, &fake.url, |_| {});
    assert_eq!(g.name(), "replicate/black-forest-labs/flux-schnell");
    super::every_answer(&fake, g.as_ref(), prompt, "NSFW").await;
    let input = &fake.last_body()["input"];
    assert_eq!(input["aspect_ratio"], "2:3");
    assert_eq!(input["negative_prompt"], "blurry");
    assert!(input["seed"].is_u64());

    // A prediction that fails for another reason may pass on another try.
    fake.script(&[Answer::Crash]);
    match super::generate(g.as_ref()).await {
        Err(GenerateError::Retryable(r)) => {
            assert_eq!(r.public, "the prediction failed on the image server");
            assert!(r.detail.is_some_and(|d| d.contains("out of memory")));
        }
        other => panic!("{other:?}"),
    }
    // A version runs through /v1/predictions.
    let g = super::generator(GeneratorKind::Replicate, &fake.url, |s| {
        s.model = Some(
            "stability-ai/sdxl:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
                .into(),
        );
    });
    super::generate(g.as_ref()).await.expect("an image");
    assert_eq!(
        fake.last_body()["version"],
        "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
    );
}

#[tokio::test]
async fn an_unknown_replicate_model_or_token_is_a_misconfiguration() {
    let fake = start().await;
    let g = super::generator(GeneratorKind::Replicate, &fake.url, |_| {});
    assert!(g.check().await.is_ok());
    let unknown = super::generator(GeneratorKind::Replicate, &fake.url, |s| {
        s.model = Some("someone/nothing".into());
    });
    assert!(matches!(
        unknown.check().await,
        Err(GenerateError::Misconfigured(_))
    ));
    let no_token = super::generator(GeneratorKind::Replicate, &fake.url, |s| s.api_key = None);
    assert!(matches!(
        no_token.check().await,
        Err(GenerateError::Misconfigured(_))
    ));
}

#[tokio::test]
async fn replicate_models_reach_done_through_the_api() {
    let fake = start().await;
    // The key comes from the environment only; the fake wants it, so the
    // whole run goes through a generator built with it.
    let g = super::generator(GeneratorKind::Replicate, &fake.url, |_| {});
    fake.script(&[Answer::Slow(2), Answer::Image(Format::Png)]);
    let app = crate::helpers::TestApp::start_with(&["--generator", "replicate"], Some(g)).await;
    app.register_ok(&app.key, super::TEXT, 2).await;
    assert_eq!(app.drain().await, 2);
    let (_, list) = app.list(&app.key, "").await;
    for m in list["models"].as_array().unwrap() {
        assert_eq!(m["status"], "DONE", "{m}");
        assert_eq!(m["generator"], "replicate/black-forest-labs/flux-schnell");
        assert!(m["prompt"].as_str().unwrap().contains(super::TEXT));
    }
    assert_eq!(app.balance(&app.account).await, (980, 0, 20));
    app.audit().await;
    // Both predictions were asked for the 2:3 portrait the backend defaults to.
    for body in fake.bodies.lock().unwrap().iter() {
        assert_eq!(body["input"]["width"], 832);
    }
}

/// Photo shoots and packshots with `--replicate-image-inputs`: each image
/// goes as a data URL under the input named for its role (a list for
/// `name[]`), the product's very bytes first.
#[tokio::test]
async fn replicate_pictures_carry_their_images_as_data_urls_under_the_named_inputs() {
    let fake = start().await;
    let g = super::generator(GeneratorKind::Replicate, &fake.url, |s| {
        s.replicate_inputs = mannequin::generator::ImageInputs::parse(
            "product=image_input[],model=image_input[],scenery=background",
        )
        .unwrap();
    });
    let stored = super::pictures_end_to_end(
        &["--generator", "replicate"],
        Some(g),
        (
            "replicate/black-forest-labs/flux-schnell",
            "replicate/black-forest-labs/flux-schnell",
        ),
    )
    .await;
    let data = |v: &Value| {
        let url = v.as_str().expect("a data URL");
        let (head, b64) = url.split_once(";base64,").expect("base64");
        assert!(head.starts_with("data:image/"), "{head}");
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap()
    };
    let bodies = fake.bodies.lock().unwrap().clone();
    let pictures: Vec<&Value> = bodies
        .iter()
        .filter(|b| b["input"].get("image_input").is_some())
        .collect();
    assert_eq!(pictures.len(), 3, "two photo shoot pictures and a packshot");
    let mut shoots = 0;
    for body in pictures {
        let list = body["input"]["image_input"].as_array().unwrap();
        assert_eq!(
            data(&list[0]),
            stored.product,
            "the product's very bytes first"
        );
        if list.len() == 2 {
            shoots += 1;
            assert_eq!(data(&list[1]), stored.model, "then the model's image");
            assert_eq!(data(&body["input"]["background"]), stored.scenery);
        } else {
            assert_eq!(list.len(), 1);
            assert!(
                body["input"].get("background").is_none(),
                "a packshot names no scenery"
            );
        }
    }
    assert_eq!(shoots, 2);
}
