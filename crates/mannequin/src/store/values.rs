//! What the store's statements take and give, whichever driver runs them:
//! values bound to `$n`, and a row's columns read in order.

use super::StoreResult;

/// A value bound to a statement's next `$n`.
#[derive(Debug, Clone, Copy)]
pub(super) enum Bind<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    Int(i64),
    OptInt(Option<i64>),
    Bytes(&'a [u8]),
}

pub(super) use Bind::{Bytes, Int, OptInt, OptText, Text};

/// An asset's stored idea, read as the kind its id names.
pub(super) fn idea(
    id: &mannequin_domain::AssetId,
    json: &str,
) -> StoreResult<mannequin_domain::AssetIdea> {
    let mut d = serde_json::Deserializer::from_str(json);
    Ok(mannequin_domain::AssetIdea::deserialize_as(
        id.kind(),
        &mut d,
    )?)
}

/// The columns of one row, read in order; `'r` is the row's.
pub(super) trait Columns<'r> {
    fn text(&mut self) -> StoreResult<String>;
    fn opt_text(&mut self) -> StoreResult<Option<String>>;
    /// The text where the row holds it, for a caller that writes it out.
    fn str(&mut self) -> StoreResult<&'r str>;
    fn opt_str(&mut self) -> StoreResult<Option<&'r str>>;
    fn int(&mut self) -> StoreResult<i64>;
    fn opt_int(&mut self) -> StoreResult<Option<i64>>;
    fn bytes(&mut self) -> StoreResult<Vec<u8>>;
    fn opt_bytes(&mut self) -> StoreResult<Option<Vec<u8>>>;
}
