//! The reference for the listing benchmark (`scripts/compare.sh`): a bare
//! axum server that answers every GET with one page of models, read from a
//! file at start. Each request serializes the page, held in memory as typed
//! items, to JSON with serde: the bytes are the service's own (checked at
//! start) and the work is the least a server returning that page from its
//! data must do. Nothing else runs per
//! request: no key, no database, no middleware. With `--static` it answers
//! with the file's bytes as they are, the floor of axum and the loopback.
//!
//!     mannequin-bare 127.0.0.1:18190 page.json [--static]

#![forbid(unsafe_code)]

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};

/// One item, in the service's field order.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Item {
    id: String,
    name: String,
    thumbnail: Option<String>,
    status: String,
    voting: String,
    created_at: String,
    batch_id: String,
    image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    generator: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    generator_notes: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Page {
    models: Vec<Item>,
    count: usize,
    next_cursor: Option<String>,
}

fn fail(message: String) -> ! {
    eprintln!("mannequin-bare: {message}");
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [listen, file, rest @ ..] = args.as_slice() else {
        fail("usage: mannequin-bare ADDRESS FILE [--static]".into())
    };
    let bytes = std::fs::read(file).unwrap_or_else(|e| fail(format!("cannot read {file}: {e}")));
    let app = if rest.iter().any(|a| a == "--static") {
        let body = axum::body::Bytes::from(bytes);
        axum::Router::new().fallback(axum::routing::get(move || {
            let body = body.clone();
            async move { ([(CONTENT_TYPE, "application/json")], body).into_response() }
        }))
    } else {
        let page: Page = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| fail(format!("{file} is not a page of models: {e}")));
        if serde_json::to_vec(&page).ok().as_deref() != Some(bytes.trim_ascii_end()) {
            fail(format!("{file} does not serialize back to its own bytes"));
        }
        let page = std::sync::Arc::new(page);
        axum::Router::new().fallback(axum::routing::get(move || {
            let page = page.clone();
            async move {
                let body = serde_json::to_vec(&*page).expect("a page serializes");
                ([(CONTENT_TYPE, "application/json")], body).into_response()
            }
        }))
    };
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .unwrap_or_else(|e| fail(format!("cannot listen on {listen}: {e}")));
    println!("listening on {}", listener.local_addr().expect("bound"));
    axum::serve(listener, app).await.expect("serving");
}
