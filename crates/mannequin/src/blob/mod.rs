//! Where image bytes live and the URL that serves them.
//!
//! [`local::LocalDisk`] is the embedded default: files under the data directory,
//! served by the API under `/media/`. [`s3::S3`] keeps them in an S3-compatible
//! bucket, for processes on several machines.

pub mod local;
pub mod s3;

use async_trait::async_trait;

#[derive(Debug)]
pub struct BlobError(pub String);

impl std::fmt::Display for BlobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "blob storage: {}", self.0)
    }
}

impl std::error::Error for BlobError {}

#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Stores `bytes` under `key` (for example `models/en/<id>.thumb.jpg`), replacing
    /// what was there: a retried job writes the same bytes again.
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError>;
    /// Removes `key`; removing what is not there is not an error.
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
    /// The bytes under `key`, if any; for stores the API serves itself.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError>;
    /// The absolute URL that serves `key`.
    fn url(&self, key: &str) -> String;
}

/// Content type by file extension, for the keys this service writes.
pub fn content_type(key: &str) -> &'static str {
    match key.rsplit('.').next() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        _ => "application/octet-stream",
    }
}

/// Whether `key` is a key this service could have written: no traversal, no
/// surprises in a file path or URL.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 200
        && !key.starts_with('/')
        && key
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape() {
        assert!(valid_key("models/model_01/thumb.jpg"));
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "models/../../x",
            "a//b",
            "a/./b",
            "a\\b",
            "a b",
        ] {
            assert!(!valid_key(bad), "{bad}");
        }
    }
}
