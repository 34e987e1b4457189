//! mannequin: a self-hostable service that turns a text description into a batch
//! of AI models (mannequins) for product photography, paid for with credits.
//!
//! The service lives here so that tests drive the same entry points:
//! [`app::start`] runs the API and the worker, [`admin::run`] the operator
//! commands. The binary (`src/bin/mannequin/`) parses the command line and
//! holds the tools that use the service from outside (the terminal client,
//! the benchmark, the preview, the stand-in image server).

// Two `unsafe` blocks, each allowed where it is and measured: escaping JSON
// with SSE2 (`http/json/mod.rs`) and handing out ASCII text read from SQLite
// without a second check (`store/readers/reader.rs`).
#![deny(unsafe_code)]

/// Secrets (API keys, tokens, passwords) live in this type: its `Debug`
/// never shows them, it has no `Display`, and it is wiped when dropped.
pub use secrecy::{ExposeSecret, SecretString};

pub mod admin;
pub mod app;
pub mod backup;
pub(crate) mod batch;
pub mod blob;
pub mod clock;
pub mod config;
pub mod error;
pub mod generator;
pub mod housekeeping;
pub mod http;
pub mod inputs;
pub mod keys;
pub mod metrics;
pub(crate) mod operations;
pub(crate) mod planner;
pub mod queue;
pub mod store;
pub(crate) mod views;
pub mod webhooks;
pub(crate) mod worker;

/// Installs the process's TLS crypto provider (ring) once. Every TLS client
/// (HTTPS image models, S3, NATS over TLS) needs one; calling this again is free.
pub fn install_crypto() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// An HTTP client builder with TLS ready.
pub fn http_client() -> reqwest::ClientBuilder {
    install_crypto();
    reqwest::Client::builder()
}

/// Bytes as lowercase hexadecimal (as PostgreSQL's `decode(…, 'hex')` reads them).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}
