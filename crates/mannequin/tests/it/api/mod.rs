//! The Models API end to end: the real server on port 0, spoken to over HTTP,
//! on the embedded default or (`MANNEQUIN_TEST_STACK=scale`) the scale-out stack.

mod auth;
mod details;
mod events;
mod jobs;
mod listing;
mod openapi;
mod pictures;
mod planner;
mod presets;
pub(crate) mod products;
mod register;
mod runtime;
mod sceneries;
mod service;
mod webhooks;

/// The contract's example text.
pub const EXAMPLE: &str = "young female model, athletic build, natural makeup, for sportswear";
