//! `mannequin fake-image-server`: a stand-in for an OpenAI-compatible image
//! server that answers every generation, after a fixed delay, with a small
//! drawn portrait. It lets an operator try the whole pipeline with
//! `--generator openai` before paying for images, and it is what the
//! benchmark measures concurrency against. It listens on loopback by default.
//! `POST /v1/images/edits` (photo shoots and packshots) reads the whole form
//! it is sent and answers the same way.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::routing::{get, post};
use base64::Engine;
use clap::Args;
use serde_json::{Value, json};

use mannequin::error::BoxError;

#[derive(Debug, Args)]
pub struct FakeImageServerArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub listen: SocketAddr,
    /// Milliseconds every generation takes.
    #[arg(long, default_value_t = 2000)]
    pub delay_ms: u64,
}

struct Fake {
    delay: Duration,
    /// The answer, the same for every request: one 160×240 PNG in base64.
    answer: Value,
}

async fn generations(State(fake): State<Arc<Fake>>, Json(_): Json<Value>) -> Json<Value> {
    tokio::time::sleep(fake.delay).await;
    Json(fake.answer.clone())
}

/// An edit: the form read to its end, then the answer.
async fn edits(State(fake): State<Arc<Fake>>, _form: axum::body::Bytes) -> Json<Value> {
    tokio::time::sleep(fake.delay).await;
    Json(fake.answer.clone())
}

/// Serves until the process is stopped.
pub async fn run(args: FakeImageServerArgs) -> Result<(), BoxError> {
    let idea = mannequin_domain::Attributes::read("woman, casual").ideas(1, 1)[0];
    let png = mannequin_render::draw(&idea, 160, 240)?
        .encode_png()
        .map_err(|e| e.to_string())?;
    let fake = Arc::new(Fake {
        delay: Duration::from_millis(args.delay_ms),
        answer: json!({
            "created": 0,
            "data": [{"b64_json": base64::engine::general_purpose::STANDARD.encode(png)}],
        }),
    });
    let router = axum::Router::new()
        .route("/v1/images/generations", post(generations))
        .route(
            "/v1/images/edits",
            post(edits).layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024)),
        )
        .route(
            "/v1/models",
            get(|| async { Json(json!({"object": "list", "data": []})) }),
        )
        .with_state(fake);
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    println!(
        "fake image server on http://{} ({} ms a generation)",
        listener.local_addr()?,
        args.delay_ms
    );
    axum::serve(listener, router).await?;
    Ok(())
}
