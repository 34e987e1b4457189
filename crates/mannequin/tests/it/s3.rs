//! The S3 blob store against a real S3-compatible server (moto).

use crate::services;
use mannequin::blob::BlobStore;
use mannequin::blob::s3::{S3, S3Settings};

fn settings(s3: &services::S3Server, public: bool) -> S3Settings {
    S3Settings {
        bucket: s3.bucket.clone(),
        endpoint: Some(s3.endpoint.clone()),
        region: "us-east-1".into(),
        path_style: true,
        public_url: public.then(|| format!("{}/{}", s3.endpoint, s3.bucket)),
    }
}

#[tokio::test]
async fn objects_round_trip_and_serve_with_their_content_type() {
    let Some(s3) = services::S3Server::start().await else {
        return;
    };
    services::aws_test_credentials();
    let store = S3::new(&settings(&s3, true), "http://api.example/media", None).unwrap();
    let key = "models/model_01/thumb.jpg";
    assert_eq!(store.get(key).await.unwrap(), None);
    store
        .put(key, vec![0xFF, 0xD8, 0xFF, 1, 2, 3], "image/jpeg")
        .await
        .unwrap();
    assert_eq!(
        store.get(key).await.unwrap(),
        Some(vec![0xFF, 0xD8, 0xFF, 1, 2, 3])
    );

    // Straight from the bucket's public URL, with the type and cache headers.
    let url = store.url(key);
    assert_eq!(url, format!("{}/{}/{key}", s3.endpoint, s3.bucket));
    let res = mannequin::http_client()
        .build()
        .unwrap()
        .get(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );

    // Replacing writes the new bytes; deleting twice is not an error.
    store.put(key, vec![9], "image/jpeg").await.unwrap();
    assert_eq!(store.get(key).await.unwrap(), Some(vec![9]));
    store.delete(key).await.unwrap();
    store.delete(key).await.unwrap();
    assert_eq!(store.get(key).await.unwrap(), None);

    // Without a public URL, images are served through the API.
    let private = S3::new(&settings(&s3, false), "http://api.example/media", None).unwrap();
    assert_eq!(private.url(key), format!("http://api.example/media/{key}"));
    // Keys this service could not have written are refused before any request.
    assert!(
        private
            .put("../escape", vec![1], "image/png")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn signed_urls_are_presigned_urls_of_the_bucket() {
    let Some(s3) = services::S3Server::start().await else {
        return;
    };
    services::aws_test_credentials();
    let signer = || {
        Some(mannequin::blob::signing::MediaSigner::new(
            "a signing key of thirty-two chars!",
            std::time::Duration::from_secs(3600),
        ))
    };
    // A public URL and presigned URLs exclude each other.
    assert!(S3::new(&settings(&s3, true), "http://api.example/media", signer()).is_err());
    let store = S3::new(&settings(&s3, false), "http://api.example/media", signer()).unwrap();
    let key = "models/ab/model_01.thumb.jpg";
    store
        .put(key, vec![0xFF, 0xD8, 7], "image/jpeg")
        .await
        .unwrap();
    let url = store.url(key);
    let base = format!("{}/{}/{key}?", s3.endpoint, s3.bucket);
    assert!(url.starts_with(&base), "{url}");
    let query: std::collections::HashMap<&str, &str> = url[base.len()..]
        .split('&')
        .filter_map(|p| p.split_once('='))
        .collect();
    assert_eq!(query["X-Amz-Algorithm"], "AWS4-HMAC-SHA256");
    assert_eq!(query["X-Amz-SignedHeaders"], "host");
    assert!(query["X-Amz-Credential"].ends_with("%2Fus-east-1%2Fs3%2Faws4_request"));
    let expires: u64 = query["X-Amz-Expires"].parse().unwrap();
    assert!((3600..=3600 + 2 * 900).contains(&expires), "{expires}");
    assert_eq!(query["X-Amz-Signature"].len(), 64);
    // The same URL within its window: caches keep it.
    assert_eq!(store.url(key), url);
    let res = mannequin::http_client()
        .build()
        .unwrap()
        .get(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), &[0xFF, 0xD8, 7]);
}
