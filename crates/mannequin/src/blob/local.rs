//! Images on local disk, written atomically (temporary file, then rename).

use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::signing::MediaSigner;
use super::{BlobError, BlobStore, Object, valid_key};

pub struct LocalDisk {
    root: PathBuf,
    /// Base of the URLs, such as `http://127.0.0.1:8080/media`.
    base_url: String,
    /// Signs URLs so that they expire (`--media-signing-key`).
    signer: Option<MediaSigner>,
}

impl LocalDisk {
    pub fn new(root: PathBuf, base_url: &str, signer: Option<MediaSigner>) -> LocalDisk {
        LocalDisk {
            root,
            base_url: base_url.trim_end_matches('/').to_string(),
            signer,
        }
    }

    fn path(&self, key: &str) -> Result<PathBuf, BlobError> {
        if !valid_key(key) {
            return Err(BlobError(format!("invalid key {key:?}")));
        }
        Ok(self.root.join(key))
    }
}

/// Writes `bytes` to a temporary file beside `path` (named with `suffix`),
/// then renames it over `path`: a reader sees the old file or the new one.
fn write_atomically(path: &Path, suffix: [u8; 6], bytes: &[u8]) -> Result<(), BlobError> {
    let dir = path.parent().ok_or_else(|| BlobError("no parent".into()))?;
    std::fs::create_dir_all(dir).map_err(|e| BlobError(e.to_string()))?;
    let tmp = path.with_extension(format!("tmp{}", crate::hex(&suffix)));
    std::fs::write(&tmp, bytes).map_err(|e| BlobError(e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(|e| BlobError(e.to_string()))
}

#[async_trait]
impl BlobStore for LocalDisk {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError> {
        self.put_all(vec![(key, bytes, content_type)]).await
    }

    /// One trip to the blocking pool for all the objects: each is written to
    /// a temporary file in its folder, then renamed over its key.
    async fn put_all(&self, objects: Vec<Object<'_>>) -> Result<(), BlobError> {
        let mut writes = Vec::with_capacity(objects.len());
        for (key, bytes, _) in objects {
            let mut suffix = [0u8; 6];
            crate::clock::random_bytes(&mut suffix);
            writes.push((self.path(key)?, suffix, bytes));
        }
        tokio::task::spawn_blocking(move || {
            for (path, suffix, bytes) in writes {
                write_atomically(&path, suffix, &bytes)?;
            }
            Ok(())
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
        out.write_str(key)?;
        match &self.signer {
            Some(signer) => signer.write_query(key, crate::clock::now_ms() / 1000, out),
            None => Ok(()),
        }
    }
}
