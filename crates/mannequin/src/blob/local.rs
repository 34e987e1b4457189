//! Images on local disk, written atomically (temporary file, then rename).

use std::path::PathBuf;

use async_trait::async_trait;

use super::{BlobError, BlobStore, valid_key};

pub struct LocalDisk {
    root: PathBuf,
    /// Base of the URLs, such as `http://127.0.0.1:8080/media`.
    base_url: String,
}

impl LocalDisk {
    pub fn new(root: PathBuf, base_url: &str) -> LocalDisk {
        LocalDisk {
            root,
            base_url: base_url.trim_end_matches('/').to_string(),
        }
    }

    fn path(&self, key: &str) -> Result<PathBuf, BlobError> {
        if !valid_key(key) {
            return Err(BlobError(format!("invalid key {key:?}")));
        }
        Ok(self.root.join(key))
    }
}

#[async_trait]
impl BlobStore for LocalDisk {
    async fn put(&self, key: &str, bytes: Vec<u8>, _content_type: &str) -> Result<(), BlobError> {
        let path = self.path(key)?;
        let mut suffix = [0u8; 6];
        crate::clock::random_bytes(&mut suffix);
        // One trip to the blocking pool for the whole write, not one per call.
        tokio::task::spawn_blocking(move || {
            let dir = path.parent().ok_or_else(|| BlobError("no parent".into()))?;
            std::fs::create_dir_all(dir).map_err(|e| BlobError(e.to_string()))?;
            let tmp = path.with_extension(format!(
                "tmp{}",
                suffix
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            ));
            std::fs::write(&tmp, bytes).map_err(|e| BlobError(e.to_string()))?;
            std::fs::rename(&tmp, &path).map_err(|e| BlobError(e.to_string()))
        })
        .await
        .map_err(|e| BlobError(e.to_string()))?
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(BlobError(e.to_string())),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        let path = self.path(key)?;
        match tokio::fs::read(&path).await {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(BlobError(e.to_string())),
        }
    }

    fn write_url(&self, key: &str, out: &mut dyn std::fmt::Write) -> std::fmt::Result {
        out.write_str(&self.base_url)?;
        out.write_char('/')?;
        out.write_str(key)
    }
}
