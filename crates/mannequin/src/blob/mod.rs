//! Where image bytes live and the URL that serves them.
//!
//! [`local::LocalDisk`] is the embedded default: files under the data directory,
//! served by the API under `/media/`. [`s3::S3`] keeps them in an S3-compatible
//! bucket, for processes on several machines.

pub mod local;
pub mod s3;
pub mod signing;

use async_trait::async_trait;

use mannequin_domain::ids::AssetId;

#[derive(Debug, thiserror::Error)]
#[error("blob storage: {0}")]
pub struct BlobError(pub String);

/// Where an asset's images are stored: `<its kind's collection>/<shard>/<id>.<extension>`
/// (`png`, `jpg` or `webp`, as the generator made it) and `….thumb.jpg`, the shard being the id's last two characters (random), so a
/// directory on local disk holds about 1/1296 of the images and storing a
/// model creates no directory once its shard exists. Keys hold the model id:
/// the bytes under one never change.
pub fn image_keys(model: &AssetId, extension: &str) -> (String, String) {
    let base = sharded(model.kind().declaration().collection, model.as_str());
    (format!("{base}.{extension}"), format!("{base}.thumb.jpg"))
}

/// `<folder>/<shard>/<id>`: where a record's images go, the shard being the
/// id's last two characters (random).
pub fn sharded(folder: &str, id: &str) -> String {
    let shard = id.get(id.len().saturating_sub(2)..).unwrap_or("00");
    format!("{folder}/{shard}/{id}")
}

/// An object to store: its key, bytes and content type.
pub type Object<'a> = (&'a str, Vec<u8>, &'a str);

#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Stores `bytes` under `key` (for example `models/en/<id>.thumb.jpg`), replacing
    /// what was there: a retried job writes the same bytes again.
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError>;
    /// Stores each `(key, bytes, content type)` as [`BlobStore::put`] does; by
    /// default one after the other. A model's images are stored together.
    async fn put_all(&self, objects: Vec<Object<'_>>) -> Result<(), BlobError> {
        for (key, bytes, content_type) in objects {
            self.put(key, bytes, content_type).await?;
        }
        Ok(())
    }
    /// Removes `key`; removing what is not there is not an error.
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
    /// The bytes under `key`, if any; for stores the API serves itself.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError>;
    /// Writes the absolute URL that serves `key`.
    fn write_url(&self, key: &str, out: &mut dyn std::fmt::Write) -> std::fmt::Result;

    /// The absolute URL that serves `key`.
    fn url(&self, key: &str) -> String {
        let mut url = String::new();
        let _ = self.write_url(key, &mut url);
        url
    }
}

/// Content type by file extension, for the keys this service writes.
pub fn content_type(key: &str) -> &'static str {
    match key.rsplit('.').next() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
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
    fn image_keys_are_sharded_by_the_ids_tail() {
        let model = AssetId::parse("model_01m8h0219szfj6vwfj8ypxrhen").unwrap();
        let (full, thumb) = image_keys(&model, "png");
        assert_eq!(full, "models/en/model_01m8h0219szfj6vwfj8ypxrhen.png");
        assert_eq!(
            thumb,
            "models/en/model_01m8h0219szfj6vwfj8ypxrhen.thumb.jpg"
        );
        assert!(valid_key(&full) && valid_key(&thumb));
        let scenery = AssetId::parse("scenery_01m8h0219szfj6vwfj8ypxrhen").unwrap();
        assert_eq!(
            image_keys(&scenery, "jpg").0,
            "sceneries/en/scenery_01m8h0219szfj6vwfj8ypxrhen.jpg"
        );
    }

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
