//! The integration tests, one binary: the real server on port 0 spoken to over
//! HTTP, the real binary as processes, and the store's conformance suite on
//! every backend. `helpers` starts apps; `services` reaches PostgreSQL, NATS
//! and S3 (skipped loudly outside CI when missing, failing under CI).

mod admin;
mod api;
mod browser;
mod connections;
mod console;
mod database;
mod functions;
mod fuzz_register;
mod generators;
mod helpers;
mod http_generator;
mod kinds;
mod nats;
mod process;
mod s3;
mod scale;
mod secrets;
mod services;
mod store;
mod tenants;
