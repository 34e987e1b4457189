//! Wall-clock time and fresh ids: the two impure inputs the domain leaves out.

use mannequin_domain::ids::{self, Id, kind::Kind};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Fills `buf` from the operating system's secure random source.
pub fn random_bytes(buf: &mut [u8]) {
    getrandom::fill(buf).expect("the operating system's random source failed");
}

/// A fresh ULID without prefix, used as a correlation id.
pub fn new_ulid() -> String {
    let mut r = [0u8; 10];
    random_bytes(&mut r);
    ids::ulid(now_ms() as u64, r)
}

/// A fresh id of kind `K`, such as `model_01j9zq3k5v8m2c4x6b7n9p0r1s`.
pub fn new_id<K: Kind>() -> Id<K> {
    let mut r = [0u8; 10];
    random_bytes(&mut r);
    Id::new(now_ms() as u64, r)
}

/// A new id of an asset of `kind`.
pub fn new_asset_id(kind: mannequin_domain::AssetKind) -> mannequin_domain::AssetId {
    let mut r = [0u8; 10];
    random_bytes(&mut r);
    mannequin_domain::AssetId::new(kind, now_ms() as u64, r)
}

/// `len` random characters of `alphabet`, unbiased.
pub fn random_string(alphabet: &[u8], len: usize) -> String {
    loop {
        let mut buf = vec![0u8; len * 2 + 16];
        random_bytes(&mut buf);
        if let Some(s) = ids::random_chars(&buf, alphabet, len) {
            return s;
        }
    }
}

/// A random fraction in `[0, 1)`, for jitter.
pub fn random_unit() -> f64 {
    let mut b = [0u8; 8];
    random_bytes(&mut b);
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}
