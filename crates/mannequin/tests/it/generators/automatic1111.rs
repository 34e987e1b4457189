//! A fake of the Stable Diffusion web UI API: `POST /sdapi/v1/txt2img`
//! answering `{"images": [base64], "parameters", "info"}`, its FastAPI error
//! shapes (`{"detail": …}`, `{"error", "errors"}`), `GET /sdapi/v1/sd-models`,
//! and basic auth as `--api-auth` asks for it.

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

/// `user:secret`, as the web UI's `--api-auth user:secret` wants it.
const BASIC: &str = "Basic dXNlcjpzZWNyZXQ=";

fn authorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(BASIC)
}

async fn txt2img(
    State(fake): State<Fake>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    fake.record(&headers, &body);
    let answer = fake.next();
    if !authorized(&headers) || answer == Answer::Unauthorized {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"detail": "Incorrect credentials"})),
        )
            .into_response();
    }
    for field in [
        "prompt",
        "negative_prompt",
        "seed",
        "width",
        "height",
        "steps",
        "cfg_scale",
        "sampler_name",
    ] {
        assert!(body.get(field).is_some(), "{field} missing from {body}");
    }
    let images = |bytes: &[u8]| {
        Json(json!({"images": [b64(bytes)], "parameters": body, "info": "{}"})).into_response()
    };
    match answer {
        Answer::Image(f) => images(&image(f)),
        Answer::Slow(n) => {
            tokio::time::sleep(Duration::from_millis(100 * u64::from(n))).await;
            images(&image(Format::Png))
        }
        Answer::Garbage => images(GARBAGE),
        Answer::Busy(s) => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", s.to_string())],
            Json(json!({"detail": "Too many requests"})),
        )
            .into_response(),
        Answer::Down | Answer::Crash => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": "OutOfMemoryError", "detail": "", "body": "", "errors": super::LEAK})),
        )
            .into_response(),
        Answer::Refuse => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"detail": [{"loc": ["body", "width"], "msg": format!("width must be a multiple of 8: {}", super::LEAK), "type": "value_error"}]})),
        )
            .into_response(),
        Answer::Unauthorized => unreachable!(),
    }
}

async fn sd_models(headers: HeaderMap) -> Response {
    if !authorized(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"detail": "Not authenticated"})),
        )
            .into_response();
    }
    Json(json!([
        {"title": "sd_xl_base_1.0.safetensors [31e35c80fc]", "model_name": "sd_xl_base_1.0",
         "hash": "31e35c80fc", "filename": "/models/sd_xl_base_1.0.safetensors"},
        {"title": "juggernautXL_v9.safetensors [c9e3e68f89]", "model_name": "juggernautXL_v9",
         "hash": "c9e3e68f89", "filename": "/models/juggernautXL_v9.safetensors"}
    ]))
    .into_response()
}

pub async fn start() -> Fake {
    Fake::start(|fake| {
        axum::Router::new()
            .route("/sdapi/v1/txt2img", post(txt2img))
            .route("/sdapi/v1/sd-models", get(sd_models))
            .with_state(fake)
    })
    .await
}

/// The fake's URL with the `--api-auth` credentials in it.
fn with_auth(url: &str) -> String {
    url.replace("http://", "http://user:secret@")
}

#[tokio::test]
async fn every_answer_of_the_web_ui_api_is_understood() {
    let fake = start().await;
    let g = super::generator(GeneratorKind::Automatic1111, &with_auth(&fake.url), |s| {
        s.model = Some("juggernautXL_v9".into());
    });
    assert_eq!(g.name(), "automatic1111/juggernautXL_v9");
    super::every_answer(
        &fake,
        g.as_ref(),
        |b| b["prompt"].as_str().unwrap_or_default().to_string(),
        "refused the request",
    )
    .await;
    let body = fake.last_body();
    assert_eq!(
        body["override_settings"]["sd_model_checkpoint"],
        "juggernautXL_v9"
    );
    assert_eq!(body["negative_prompt"], "blurry");
    assert_eq!(
        (body["width"].as_u64(), body["height"].as_u64()),
        (Some(832), Some(1216))
    );
    // The same idea asks for the same seed, every time.
    let seeds: std::collections::HashSet<u64> = fake
        .bodies
        .lock()
        .unwrap()
        .iter()
        .filter(|b| {
            b["prompt"]
                .as_str()
                .is_some_and(|p| p.contains(super::TEXT))
        })
        .map(|b| b["seed"].as_u64().unwrap())
        .collect();
    assert_eq!(seeds.len(), 1);
}

#[tokio::test]
async fn the_checkpoint_and_the_api_are_checked_at_start() {
    let fake = start().await;
    let url = with_auth(&fake.url);
    let known = super::generator(GeneratorKind::Automatic1111, &url, |s| {
        s.model = Some("sd_xl_base_1.0".into());
    });
    assert!(known.check().await.is_ok());
    let unknown = super::generator(GeneratorKind::Automatic1111, &url, |s| {
        s.model = Some("nope_v1".into());
    });
    match unknown.check().await {
        Err(GenerateError::Misconfigured(r)) => assert!(r.public.contains("nope_v1"), "{r:?}"),
        other => panic!("{other:?}"),
    }
    let no_auth = super::generator(GeneratorKind::Automatic1111, &fake.url, |s| {
        s.api_key = None
    });
    assert!(matches!(
        no_auth.check().await,
        Err(GenerateError::Misconfigured(_))
    ));
    // A server without --api: its paths are not there.
    let other = Fake::start(|fake| axum::Router::new().with_state(fake)).await;
    let g = super::generator(GeneratorKind::Automatic1111, &other.url, |_| {});
    match g.check().await {
        Err(GenerateError::Misconfigured(r)) => assert!(r.public.contains("--api"), "{r:?}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn web_ui_models_reach_done_through_the_api() {
    let fake = start().await;
    let url = with_auth(&fake.url);
    super::end_to_end(
        &fake,
        &[
            "--generator",
            "automatic1111",
            "--photo-shoot-generator",
            "builtin",
            "--packshot-generator",
            "builtin",
            "--generator-url",
            &url,
            "--image-size",
            "512x768",
        ],
        "automatic1111",
    )
    .await;
    let bodies = fake.bodies.lock().unwrap().clone();
    assert_eq!(
        (&bodies[0]["width"], &bodies[0]["height"]),
        (&512.into(), &768.into())
    );
    assert_eq!(
        (&bodies[2]["width"], &bodies[2]["height"]),
        (&768.into(), &512.into()),
        "a scenery is the size turned"
    );
}

/// The web UI makes no pictures from a product: the service refuses to
/// start with it for photo shoots, saying why and what to set.
#[tokio::test]
async fn the_web_ui_is_refused_at_start_for_photo_shoots_with_the_reason() {
    let fake = start().await;
    let dir = tempfile::tempdir().unwrap();
    let args = crate::helpers::serve_args(
        dir.path(),
        &["--generator", "automatic1111", "--generator-url", &fake.url],
    );
    let err = mannequin::app::start(&args, false, Default::default())
        .await
        .err()
        .expect("refused at start");
    let err = err.to_string();
    assert!(err.contains("img2img"), "{err}");
    assert!(err.contains("--photo-shoot-generator"), "{err}");
    // With another backend for the pictures, it starts.
    let args = crate::helpers::serve_args(
        dir.path(),
        &[
            "--generator",
            "automatic1111",
            "--generator-url",
            &fake.url,
            "--photo-shoot-generator",
            "builtin",
            "--packshot-generator",
            "builtin",
        ],
    );
    let overrides = mannequin::app::Overrides {
        listener: Some(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()),
        ..Default::default()
    };
    let running = mannequin::app::start(&args, false, overrides)
        .await
        .expect("it starts");
    running.stop().await;
}
