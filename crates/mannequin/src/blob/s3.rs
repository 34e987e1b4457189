//! Images in an S3-compatible bucket (AWS S3, MinIO, Ceph, R2, …).
//!
//! URLs name the bucket's public base URL when one is set
//! (`MANNEQUIN_S3_PUBLIC_URL`, for a public bucket or a CDN in front of it);
//! otherwise they name the API's `/media/` route, which reads the object from
//! the bucket, so a private bucket works too.

use async_trait::async_trait;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{Attribute, Attributes, ObjectStore, ObjectStoreExt, PutOptions, PutPayload};

use super::signing::{MediaSigner, Presigner};
use super::{BlobError, BlobStore, Object, valid_key};

/// Where the bucket is and how to reach it.
#[derive(Debug, Clone)]
pub struct S3Settings {
    pub bucket: String,
    /// `http(s)://host:port` of an S3-compatible server; none for AWS itself.
    pub endpoint: Option<String>,
    pub region: String,
    /// `https://endpoint/bucket/key` rather than `https://bucket.endpoint/key`.
    pub path_style: bool,
    /// Base URL that serves the bucket's objects to clients.
    pub public_url: Option<String>,
}

pub struct S3 {
    store: AmazonS3,
    base_url: String,
    /// The API's `/media` signer (for URLs through the API) and, with it,
    /// presigned bucket URLs.
    signed: Option<(MediaSigner, Presigner)>,
}

fn blob_err(e: object_store::Error) -> BlobError {
    BlobError(e.to_string())
}

impl S3 {
    /// Credentials come from the environment as for any AWS tool
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, or an
    /// instance role). `api_media_url` is the API's `/media` base, used when the
    /// settings name no public URL.
    pub fn new(
        settings: &S3Settings,
        api_media_url: &str,
        signer: Option<MediaSigner>,
    ) -> Result<S3, BlobError> {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region)
            .with_virtual_hosted_style_request(!settings.path_style);
        if let Some(endpoint) = &settings.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        let store = builder.build().map_err(blob_err)?;
        let base_url = settings
            .public_url
            .as_deref()
            .unwrap_or(api_media_url)
            .trim_end_matches('/')
            .to_string();
        let signed = match signer {
            Some(signer) => {
                if settings.public_url.is_some() {
                    return Err(BlobError(
                        "--s3-public-url serves a public bucket; with --media-signing-key images \
                         get presigned URLs of the bucket itself: set one or the other"
                            .into(),
                    ));
                }
                let presigner = presigner(settings, signer.ttl)?;
                Some((signer, presigner))
            }
            None => None,
        };
        Ok(S3 {
            store,
            base_url,
            signed,
        })
    }

    fn path(key: &str) -> Result<Path, BlobError> {
        if !valid_key(key) {
            return Err(BlobError(format!("invalid key {key:?}")));
        }
        Path::parse(key).map_err(|e| BlobError(e.to_string()))
    }
}

#[async_trait]
impl BlobStore for S3 {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError> {
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::ContentType, content_type.to_string().into());
        attributes.insert(
            Attribute::CacheControl,
            "public, max-age=31536000, immutable".into(),
        );
        let options = PutOptions {
            attributes,
            ..PutOptions::default()
        };
        self.store
            .put_opts(&Self::path(key)?, PutPayload::from(bytes), options)
            .await
            .map_err(blob_err)?;
        Ok(())
    }

    /// The uploads run at once.
    async fn put_all(&self, objects: Vec<Object<'_>>) -> Result<(), BlobError> {
        futures_util::future::try_join_all(
            objects
                .into_iter()
                .map(|(key, bytes, content_type)| self.put(key, bytes, content_type)),
        )
        .await?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match self.store.delete(&Self::path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(blob_err(e)),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        match self.store.get(&Self::path(key)?).await {
            Ok(found) => Ok(Some(found.bytes().await.map_err(blob_err)?.to_vec())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(blob_err(e)),
        }
    }

    fn write_url(&self, key: &str, out: &mut dyn std::fmt::Write) -> std::fmt::Result {
        if let Some((_, presigner)) = &self.signed {
            return presigner.write_url(key, crate::clock::now_ms() / 1000, out);
        }
        out.write_str(&self.base_url)?;
        out.write_char('/')?;
        out.write_str(key)
    }
}

/// The presigner for the bucket: static credentials from the environment
/// (presigning needs them at hand), the bucket's origin as the settings name it.
fn presigner(settings: &S3Settings, ttl: std::time::Duration) -> Result<Presigner, BlobError> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (Some(access_key_id), Some(secret_access_key)) =
        (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY"))
    else {
        return Err(BlobError(
            "presigned image URLs (--media-signing-key) need AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY in the environment"
                .into(),
        ));
    };
    let endpoint = settings
        .endpoint
        .clone()
        .unwrap_or_else(|| format!("https://s3.{}.amazonaws.com", settings.region));
    let endpoint = endpoint.trim_end_matches('/');
    let (origin, prefix) = if settings.path_style {
        (endpoint.to_string(), format!("/{}", settings.bucket))
    } else {
        let (scheme, host) = endpoint.split_once("://").unwrap_or(("https", endpoint));
        (
            format!("{scheme}://{}.{host}", settings.bucket),
            String::new(),
        )
    };
    Ok(Presigner {
        access_key_id,
        secret_access_key: secret_access_key.into(),
        session_token: var("AWS_SESSION_TOKEN"),
        region: settings.region.clone(),
        origin,
        prefix,
        ttl,
    })
}
