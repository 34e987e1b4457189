//! Identifiers: `model_…`, `batch_…`, `order_…`, `res_…`, `job_…`, `acct_…`, and API keys.
//!
//! An id is a prefix and a ULID in lowercase Crockford base32: 48 bits of milliseconds
//! then 80 random bits, so ids sort by creation time and never collide in practice.
//! The caller supplies the time and the randomness; this module only encodes.

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

/// The kinds of record that carry a prefixed id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Account,
    Batch,
    Job,
    Model,
    Order,
    Reservation,
}

impl IdKind {
    pub fn prefix(self) -> &'static str {
        match self {
            IdKind::Account => "acct_",
            IdKind::Batch => "batch_",
            IdKind::Job => "job_",
            IdKind::Model => "model_",
            IdKind::Order => "order_",
            IdKind::Reservation => "res_",
        }
    }

    pub fn id(self, ms: u64, random: [u8; 10]) -> String {
        format!("{}{}", self.prefix(), ulid(ms, random))
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
    fn random_chars_skips_biased_bytes() {
        // 62 symbols: bytes >= 248 are skipped
        let bytes = [248, 249, 0, 61, 62];
        assert_eq!(random_chars(&bytes, BASE62, 3).as_deref(), Some("0z0"));
        assert_eq!(random_chars(&[255, 255], BASE62, 1), None);
    }
}
