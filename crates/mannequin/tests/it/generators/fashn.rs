//! A fake of FASHN's API: `POST /v1/run` answering `{"id", "error": null}`
//! or an API error `{"error": "<Name>", "message"}`, and
//! `GET /v1/status/{id}` answering `in_queue`, `processing`, then
//! `completed` with `output` (a base64 data URL, as asked) or `failed` with
//! `error: {"name", "message"}`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use mannequin::generator::{GenerateError, GeneratorKind};
use serde_json::{Value, json};

use super::{Answer, Fake, Format, GARBAGE, b64, image};

/// Prediction id → (looks left while it runs, its final status).
type Runs = Arc<Mutex<HashMap<String, (u32, Value)>>>;

#[derive(Clone)]
struct Fashn {
    fake: Fake,
    runs: Runs,
}

fn api_error(status: u16, name: &str, message: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        Json(json!({"error": name, "message": message})),
    )
        .into_response()
}

fn completed(id: &str, bytes: &[u8], format: &str) -> Value {
    json!({
        "id": id,
        "status": "completed",
        "output": [format!("data:image/{format};base64,{}", b64(bytes))],
        "error": null
    })
}

fn failed(id: &str, name: &str, message: &str) -> Value {
    json!({"id": id, "status": "failed", "output": null, "error": {"name": name, "message": message}})
}

async fn run(State(f): State<Fashn>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    f.fake.record(&headers, &body);
    assert!(body["model_name"].is_string(), "{body}");
    assert!(body["inputs"].is_object(), "{body}");
    // The images a picture carries, as FASHN names them.
    let decode = |v: &Value| {
        let url = v.as_str().expect("a data URL");
        let (_, data) = url.split_once(";base64,").expect("base64");
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap()
    };
    let images: Vec<(String, Vec<u8>)> = [
        "garment_image",
        "model_image",
        "product_image",
        "image_prompt",
    ]
    .into_iter()
    .filter_map(|k| body["inputs"].get(k).map(|v| (k.to_string(), decode(v))))
    .collect();
    if !images.is_empty() {
        f.fake.inputs.lock().unwrap().push(images);
    }
    let id = format!("fashn-{}", f.fake.bodies.lock().unwrap().len());
    let (looks, end) = match f.fake.next() {
        Answer::Image(Format::Png) => (0, completed(&id, &image(Format::Png), "png")),
        Answer::Image(Format::Jpeg) => (0, completed(&id, &image(Format::Jpeg), "jpeg")),
        Answer::Image(Format::Webp) => (0, completed(&id, &image(Format::Webp), "webp")),
        Answer::Slow(n) => (n, completed(&id, &image(Format::Png), "png")),
        Answer::Garbage => (0, completed(&id, GARBAGE, "png")),
        Answer::Refuse => (
            1,
            failed(
                &id,
                "NSFWError",
                &format!(
                    "NSFW content detected in the garment image. {}",
                    super::LEAK
                ),
            ),
        ),
        Answer::Crash => (1, failed(&id, "PipelineError", super::LEAK)),
        Answer::Busy(s) => {
            let mut r = api_error(429, "RateLimitExceeded", "Too many requests");
            r.headers_mut()
                .insert("retry-after", s.to_string().parse().unwrap());
            return r;
        }
        Answer::Down => return api_error(500, "InternalServerError", super::LEAK),
        Answer::Unauthorized => {
            return api_error(401, "UnauthorizedAccess", "Unauthorized: Invalid token");
        }
    };
    f.runs.lock().unwrap().insert(id.clone(), (looks, end));
    Json(json!({"id": id, "error": null})).into_response()
}

async fn status(State(f): State<Fashn>, Path(id): Path<String>) -> Response {
    let mut runs = f.runs.lock().unwrap();
    let Some((looks, end)) = runs.get_mut(&id) else {
        return api_error(404, "NotFound", "Prediction not found");
    };
    if *looks > 0 {
        *looks -= 1;
        return Json(json!({"id": id, "status": "processing", "output": null, "error": null}))
            .into_response();
    }
    Json(end.clone()).into_response()
}

pub async fn start() -> Fake {
    let runs: Runs = Arc::default();
    Fake::start(move |fake| {
        axum::Router::new()
            .route("/v1/run", post(run))
            .route("/v1/status/{id}", get(status))
            .with_state(Fashn { fake, runs })
    })
    .await
}

fn prompt(body: &Value) -> String {
    body["inputs"]["prompt"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn every_answer_of_fashn_is_understood() {
    let fake = start().await;
    let g = super::generator(GeneratorKind::Fashn, &fake.url, |_| {});
    assert_eq!(g.name(), "fashn");
    super::every_answer(&fake, g.as_ref(), prompt, "refused").await;
    assert_eq!(fake.last_body()["model_name"], "model-create");
    assert!(
        fake.auth
            .lock()
            .unwrap()
            .iter()
            .all(|a| a.as_deref() == Some("Bearer test-key")),
        "the key goes as a bearer token"
    );
    // A failed run: retried.
    fake.script(&[Answer::Crash]);
    assert!(matches!(
        super::generate(g.as_ref()).await,
        Err(GenerateError::Retryable(_))
    ));
}

/// Photo shoots through try-on: the chosen model's picture as
/// `model_image`, the product's very bytes as `garment_image`; sceneries
/// and packshots elsewhere, FASHN being refused for them at start.
#[tokio::test]
async fn fashn_photo_shoots_are_try_ons_of_the_very_product_on_the_chosen_model() {
    let fake = start().await;
    let stored = super::pictures_end_to_end(
        &[
            "--generator",
            "fashn",
            "--generator-url",
            &fake.url,
            "--scenery-generator",
            "builtin",
            "--packshot-generator",
            "builtin",
        ],
        None,
        ("fashn/tryon-v1.6", "builtin"),
    )
    .await;
    let inputs = fake.inputs.lock().unwrap().clone();
    assert_eq!(inputs.len(), 2, "the photo shoot's two pictures");
    for parts in &inputs {
        let named: HashMap<&str, &Vec<u8>> = parts.iter().map(|(k, v)| (k.as_str(), v)).collect();
        assert_eq!(
            named["garment_image"], &stored.product,
            "the product's very bytes"
        );
        assert_eq!(
            named["model_image"], &stored.model,
            "the chosen model's picture"
        );
    }
    let tryons: Vec<Value> = fake
        .bodies
        .lock()
        .unwrap()
        .iter()
        .filter(|b| b["model_name"] == "tryon-v1.6")
        .cloned()
        .collect();
    assert_eq!(tryons.len(), 2);
    assert_ne!(tryons[0]["inputs"]["seed"], tryons[1]["inputs"]["seed"]);

    // FASHN alone for every kind: refused at start, saying why.
    let dir = tempfile::tempdir().unwrap();
    let args = crate::helpers::serve_args(
        dir.path(),
        &["--generator", "fashn", "--generator-url", &fake.url],
    );
    let err = mannequin::app::start(&args, false, Default::default())
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("not empty sets"), "{err}");
    assert!(err.contains("--scenery-generator"), "{err}");
}

/// Without a chosen model, product-to-model: the product's photo, the
/// prompt, and the scenery's picture to guide the place.
#[tokio::test]
async fn without_a_model_fashn_puts_the_product_on_a_new_person() {
    let fake = start().await;
    let g = super::generator(GeneratorKind::Fashn, &fake.url, |_| {});
    let product = std::sync::Arc::new(mannequin::generator::Input {
        role: mannequin::generator::Role::Product,
        bytes: super::product_photo().into(),
        content_type: "image/png",
    });
    let scenery = std::sync::Arc::new(mannequin::generator::Input {
        role: mannequin::generator::Role::Scenery,
        bytes: image(Format::Png).into(),
        content_type: "image/png",
    });
    let made = super::generate_picture(g.as_ref(), &[product, scenery])
        .await
        .expect("an image");
    assert_eq!(made.content_type, "image/png");
    let body = fake.last_body();
    assert_eq!(body["model_name"], "product-to-model");
    assert!(prompt(&body).contains("Red Square"), "{body}");
    let parts = fake.inputs.lock().unwrap().last().cloned().unwrap();
    let named: HashMap<&str, &Vec<u8>> = parts.iter().map(|(k, v)| (k.as_str(), v)).collect();
    assert_eq!(named["product_image"], &super::product_photo());
    assert_eq!(named["image_prompt"], &image(Format::Png));
    assert!(!named.contains_key("model_image"));
}
