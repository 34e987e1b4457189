//! An image model served over HTTP in place of the built-in generator.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::helpers::TestApp;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::Value;

/// A stand-in image model: answers 503 to its first call, then PNGs; under
/// `/refuse` it answers 400 to everything.
async fn start_model_server() -> (String, Arc<AtomicU32>) {
    let calls = Arc::new(AtomicU32::new(0));
    async fn draw(
        State(calls): State<Arc<AtomicU32>>,
        Json(req): Json<Value>,
    ) -> axum::response::Response {
        if calls.fetch_add(1, Ordering::SeqCst) == 0 {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        assert!(
            req["prompt"].as_str().is_some_and(|p| p.contains("build")),
            "{req}"
        );
        assert_eq!(req["width"], 640);
        assert_eq!(req["kind"], "model", "the body says what is asked for");
        let idea = serde_json::from_value(req["idea"].clone()).expect("the idea travels as JSON");
        let png = mannequin_render::draw(&idea, 320, 480)
            .unwrap()
            .encode_png()
            .unwrap();
        ([("content-type", "image/png")], png).into_response()
    }
    let app = axum::Router::new()
        .route("/draw", post(draw))
        .route(
            "/refuse",
            post(|| async { (StatusCode::BAD_REQUEST, "no") }),
        )
        .with_state(calls.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, calls)
}

#[tokio::test]
async fn models_come_from_the_image_model_and_a_passing_outage_is_retried() {
    let (model, calls) = start_model_server().await;
    let url = format!("{model}/draw");
    let app = TestApp::start_with(&["--generator", "http", "--generator-url", &url], None).await;
    app.register_ok(&app.key, "woman, athletic build, sportswear", 2)
        .await;
    app.drain().await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "one 503, then one call per model"
    );
    let (_, list) = app.list(&app.key, "").await;
    for m in list["models"].as_array().unwrap() {
        assert_eq!(m["status"], "DONE", "{m}");
        let full = app
            .client
            .get(m["image"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let w = u32::from_be_bytes(full[16..20].try_into().unwrap());
        assert_eq!(w, 320, "the model server's image is kept as it was sent");
        let thumb = app
            .client
            .get(m["thumbnail"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    }
    assert_eq!(app.balance(&app.account).await, (980, 0, 20));
    app.audit().await;
}

#[tokio::test]
async fn a_model_server_that_refuses_fails_the_model_at_once_and_refunds() {
    let (model, _) = start_model_server().await;
    let url = format!("{model}/refuse");
    let app = TestApp::start_with(&["--generator", "http", "--generator-url", &url], None).await;
    app.register_ok(&app.key, "casual", 1).await;
    app.drain().await;
    let (_, list) = app.list(&app.key, "").await;
    assert_eq!(list["models"][0]["status"], "FAILED");
    assert!(
        list["models"][0]["failureReason"].as_str().unwrap()
            == "the image server refused the request"
    );
    assert_eq!(app.balance(&app.account).await, (1000, 0, 0));
    app.audit().await;
}

#[tokio::test]
async fn an_http_generator_needs_an_http_url() {
    let dir = tempfile::tempdir().unwrap();
    for extra in [
        &["--generator", "http"][..],
        &["--generator", "http", "--generator-url", "ftp://x"][..],
    ] {
        let args = crate::helpers::serve_args(dir.path(), extra);
        let err = mannequin::app::start(&args, false, Default::default())
            .await
            .err()
            .expect("refused");
        assert!(err.to_string().contains("--generator-url"), "{err}");
    }
}

#[tokio::test]
async fn refused_settings_do_not_use_up_the_starter_bootstrap() {
    let dir = tempfile::tempdir().unwrap();
    let overrides = || async {
        mannequin::app::Overrides {
            listener: Some(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()),
            ..Default::default()
        }
    };
    // The API with an in-process worker whose generator is misconfigured.
    let mut bad = crate::helpers::serve_args(dir.path(), &["--generator", "http"]);
    bad.api.no_worker = false;
    assert!(
        mannequin::app::start(&bad, true, overrides().await)
            .await
            .is_err()
    );
    let good = crate::helpers::serve_args(dir.path(), &[]);
    let running = mannequin::app::start(&good, true, overrides().await)
        .await
        .unwrap();
    assert!(
        running.bootstrap.is_some(),
        "the key is still shown on the first successful start"
    );
    running.stop().await;
}
