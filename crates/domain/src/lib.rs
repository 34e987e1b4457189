//! The pure core of mannequin: ids, credits, the model status machine, request
//! parsing and the reading of preferences into ideas.
//!
//! Nothing here does I/O or knows about tokio, SQL or HTTP: every rule that can be
//! stated without them lives here, so it can be unit- and property-tested alone.

#![forbid(unsafe_code)]

pub mod credits;
pub mod ideas;
pub mod ids;
pub mod kinds;
pub mod presets;
pub mod prompt;
pub mod request;
pub mod status;
pub mod time;

pub use credits::Credits;
pub use ideas::{Attributes, Brief, Idea};
pub use kinds::{AssetId, AssetIdea, AssetKind, MadeFrom, Shape, Wish};
pub use request::{Count, Limit, Preferences, RequestError, StatusFilter};
pub use status::{ModelStatus, Voting};
