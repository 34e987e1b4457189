//! Identifiers: `batch_…`, `order_…`, `res_…`, `job_…`, `acct_…`, `prod_…`, `preset_…`,
//! `wh_…` (webhook endpoints), `evt_…` (webhook events), and API keys.
//!
//! An id is a prefix and a ULID in lowercase Crockford base32: 48 bits of milliseconds
//! then 80 random bits, so ids sort by creation time and never collide in practice.
//! The caller supplies the time and the randomness; this module only encodes
//! (hand-written: a ULID is 26 characters of base 32, less code than a crate's API).

use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;

pub use crate::kinds::AssetId;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Encodes a ULID (`ms` since the epoch, 80 random bits) as 26 lowercase characters.
pub fn ulid(ms: u64, random: [u8; 10]) -> String {
    let mut value: u128 = u128::from(ms & 0xFFFF_FFFF_FFFF) << 80;
    for (i, b) in random.iter().enumerate() {
        value |= u128::from(*b) << (8 * (9 - i));
    }
    let mut out = [0u8; 26];
    for i in (0..26).rev() {
        out[i] = ALPHABET[(value & 31) as usize];
        value >>= 5;
    }
    String::from_utf8(out.to_vec()).expect("alphabet is ASCII")
}

/// The kinds of record that carry a prefixed id, as markers for [`Id`].
pub mod kind {
    /// A kind of record and the prefix of its ids.
    pub trait Kind: 'static {
        const PREFIX: &'static str;
    }

    #[derive(Debug)]
    pub enum Account {}
    #[derive(Debug)]
    pub enum Batch {}
    #[derive(Debug)]
    pub enum Endpoint {}
    #[derive(Debug)]
    pub enum Event {}
    #[derive(Debug)]
    pub enum Job {}
    #[derive(Debug)]
    pub enum Order {}
    #[derive(Debug)]
    pub enum Preset {}
    #[derive(Debug)]
    pub enum Product {}
    #[derive(Debug)]
    pub enum Reservation {}

    impl Kind for Account {
        const PREFIX: &'static str = "acct_";
    }
    impl Kind for Batch {
        const PREFIX: &'static str = "batch_";
    }
    impl Kind for Endpoint {
        const PREFIX: &'static str = "wh_";
    }
    impl Kind for Event {
        const PREFIX: &'static str = "evt_";
    }
    impl Kind for Job {
        const PREFIX: &'static str = "job_";
    }
    impl Kind for Order {
        const PREFIX: &'static str = "order_";
    }
    impl Kind for Preset {
        const PREFIX: &'static str = "preset_";
    }
    impl Kind for Product {
        const PREFIX: &'static str = "prod_";
    }
    impl Kind for Reservation {
        const PREFIX: &'static str = "res_";
    }
}

use kind::Kind;

/// The id of one record of kind `K`: its prefix then a ULID. An `Id<Model>` can
/// not be passed where an `Id<Batch>` is wanted, and a value that exists has the
/// shape of an id, so a malformed one never reaches a query.
pub struct Id<K: Kind> {
    value: String,
    kind: PhantomData<fn() -> K>,
}

pub type AccountId = Id<kind::Account>;
pub type BatchId = Id<kind::Batch>;
pub type EndpointId = Id<kind::Endpoint>;
pub type EventId = Id<kind::Event>;
pub type JobId = Id<kind::Job>;
pub type OrderId = Id<kind::Order>;
pub type PresetId = Id<kind::Preset>;
pub type ProductId = Id<kind::Product>;
pub type ReservationId = Id<kind::Reservation>;

/// The longest id accepted from outside.
pub const MAX_ID_LEN: usize = 64;

impl<K: Kind> Id<K> {
    /// A new id for a record created at `ms` with 80 `random` bits.
    pub fn new(ms: u64, random: [u8; 10]) -> Id<K> {
        Id::trusted(format!("{}{}", K::PREFIX, ulid(ms, random)))
    }

    /// Reads an id from outside: the kind's prefix, then 1 or more ASCII letters,
    /// digits or underscores, at most [`MAX_ID_LEN`] in all. Every id this
    /// service issued has this shape; anything else (control characters,
    /// punctuation, another kind's prefix) is refused before any lookup.
    pub fn parse(raw: &str) -> Option<Id<K>> {
        let rest = raw.strip_prefix(K::PREFIX)?;
        let ok = !rest.is_empty()
            && raw.len() <= MAX_ID_LEN
            && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        ok.then(|| Id::trusted(raw.to_string()))
    }

    /// An id read back from the database, which only ever holds ids this
    /// service made.
    pub fn trusted(value: String) -> Id<K> {
        Id {
            value,
            kind: PhantomData,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }

    pub fn into_string(self) -> String {
        self.value
    }
}

impl<K: Kind> Clone for Id<K> {
    fn clone(&self) -> Self {
        Id::trusted(self.value.clone())
    }
}

impl<K: Kind> PartialEq for Id<K> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<K: Kind> Eq for Id<K> {}

impl<K: Kind> PartialOrd for Id<K> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<K: Kind> Ord for Id<K> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.value.cmp(&other.value)
    }
}

impl<K: Kind> std::hash::Hash for Id<K> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.value.hash(state)
    }
}

impl<K: Kind> fmt::Debug for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.value, f)
    }
}

impl<K: Kind> fmt::Display for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

impl<K: Kind> AsRef<str> for Id<K> {
    fn as_ref(&self) -> &str {
        &self.value
    }
}

impl<K: Kind> Serialize for Id<K> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.value)
    }
}

/// The public part of an API key before the secret: `mk_live_<keyId>.`
pub const KEY_PREFIX: &str = "mk_live_";
/// Length of a generated key id (lowercase letters and digits).
pub const KEY_ID_LEN: usize = 16;
/// Length of a generated secret; 40 characters of base 62 carry 238 bits.
pub const SECRET_LEN: usize = 40;
/// Shortest secret accepted, as the contract requires (32 × log2(62) ≈ 190 bits).
pub const MIN_SECRET_LEN: usize = 32;

/// An API key split into its id and secret. Parsing checks only the shape; whether
/// the key exists, matches, or is still valid is the store's question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey<'a> {
    pub key_id: &'a str,
    pub secret: &'a str,
}

impl<'a> ApiKey<'a> {
    pub fn parse(raw: &'a str) -> Option<ApiKey<'a>> {
        let rest = raw.strip_prefix(KEY_PREFIX)?;
        let (key_id, secret) = rest.split_once('.')?;
        let id_ok = !key_id.is_empty()
            && key_id.len() <= 64
            && key_id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        let secret_ok = secret.len() >= MIN_SECRET_LEN
            && secret.len() <= 256
            && secret.bytes().all(|b| b.is_ascii_alphanumeric());
        (id_ok && secret_ok).then_some(ApiKey { key_id, secret })
    }

    pub fn format(key_id: &str, secret: &str) -> String {
        format!("{KEY_PREFIX}{key_id}.{secret}")
    }
}

/// Maps random bytes onto `len` characters of `alphabet` without modulo bias
/// (bytes at or above the largest multiple of the alphabet size are skipped).
/// Returns `None` when the bytes run out first; the caller draws more.
pub fn random_chars(bytes: &[u8], alphabet: &[u8], len: usize) -> Option<String> {
    let n = alphabet.len();
    let limit = 256 - (256 % n);
    let out: String = bytes
        .iter()
        .filter(|b| usize::from(**b) < limit)
        .take(len)
        .map(|b| char::from(alphabet[usize::from(*b) % n]))
        .collect();
    (out.len() == len).then_some(out)
}

pub const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
pub const LOWER36: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulids_sort_by_time_and_have_26_characters() {
        let a = ulid(1_700_000_000_000, [0xff; 10]);
        let b = ulid(1_700_000_000_001, [0; 10]);
        assert_eq!(a.len(), 26);
        assert!(a < b);
        assert!(a.bytes().all(|c| ALPHABET.contains(&c)));
    }

    #[test]
    fn ulid_encodes_known_value() {
        assert_eq!(ulid(0, [0; 10]), "00000000000000000000000000");
        let mut r = [0; 10];
        r[9] = 31;
        assert_eq!(ulid(0, r), "0000000000000000000000000z");
        assert_eq!(ulid(1, [0; 10]), "0000000001".to_string() + &"0".repeat(16));
    }

    #[test]
    fn keys_parse_only_in_the_contract_shape() {
        let secret = "a".repeat(32);
        let raw = ApiKey::format("abc123", &secret);
        let key = ApiKey::parse(&raw).unwrap();
        assert_eq!(key.key_id, "abc123");
        assert_eq!(key.secret, secret);
        assert!(ApiKey::parse(&format!("mk_test_abc123.{secret}")).is_none());
        assert!(ApiKey::parse(&format!("mk_live_ABC.{secret}")).is_none());
        assert!(ApiKey::parse("mk_live_abc.short").is_none());
        assert!(ApiKey::parse(&format!("mk_live_.{secret}")).is_none());
        assert!(ApiKey::parse(&format!("mk_live_abc{secret}")).is_none());
        assert!(ApiKey::parse(&format!("mk_live_abc.{secret}!")).is_none());
    }

    #[test]
    fn ids_parse_only_their_own_kind_and_shape() {
        let id = AssetId::new(crate::AssetKind::Model, 1_700_000_000_000, [7; 10]);
        assert!(id.as_str().starts_with("model_"));
        assert_eq!(AssetId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(BatchId::parse(id.as_str()), None);
        for bad in [
            "model_",
            "model_a\0b",
            "model_a%00",
            "model_a-b",
            "Model_abc",
            "model_é",
        ] {
            assert_eq!(AssetId::parse(bad), None, "{bad:?}");
        }
        assert!(AssetId::parse(&format!("model_{}", "a".repeat(58))).is_some());
        assert!(AssetId::parse(&format!("model_{}", "a".repeat(59))).is_none());
    }

    #[test]
    fn random_chars_skips_biased_bytes() {
        // 62 symbols: bytes >= 248 are skipped
        let bytes = [248, 249, 0, 61, 62];
        assert_eq!(random_chars(&bytes, BASE62, 3).as_deref(), Some("0z0"));
        assert_eq!(random_chars(&[255, 255], BASE62, 1), None);
    }
}
