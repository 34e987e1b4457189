//! Signed, expiring image URLs (`--media-signing-key`).
//!
//! Without it, image URLs are public and unguessable: a key holds the model's
//! random id, and anyone holding the URL may fetch the image, for good. With
//! it, every URL carries an expiry and a signature: the API's `/media/` route
//! asks for an HMAC-SHA256 of the key and the expiry under the signing key;
//! images in S3 get presigned URLs (AWS Signature Version 4, query
//! parameters) straight to the bucket, which may then be private.
//!
//! Expiries are rounded up to a window of a quarter of the lifetime, so that
//! the URLs of one image stay the same for that long (browsers and CDNs cache
//! them) and every URL works for at least the lifetime.

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// When a URL made at `now_secs` expires: at least `ttl` later, rounded up to
/// a quarter of `ttl`.
pub fn expiry(now_secs: i64, ttl: Duration) -> i64 {
    let ttl = ttl.as_secs().max(4) as i64;
    let window = ttl / 4;
    let end = now_secs + ttl;
    (end + window - 1).div_euclid(window) * window
}

/// Signs and checks the API's `/media/` URLs.
#[derive(Clone)]
pub struct MediaSigner {
    key: Vec<u8>,
    pub ttl: Duration,
}

/// Why a `/media/` request was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// No `expires` and `signature`, or a signature that does not match.
    BadSignature,
    Expired,
}

impl MediaSigner {
    pub fn new(key: &str, ttl: Duration) -> MediaSigner {
        MediaSigner {
            key: key.as_bytes().to_vec(),
            ttl,
        }
    }

    fn signature(&self, key: &str, expires: i64) -> String {
        crate::hex(&hmac(&self.key, format!("{key}\n{expires}").as_bytes()))
    }

    /// The query that makes `key`'s URL work until its expiry.
    pub fn write_query(
        &self,
        key: &str,
        now_secs: i64,
        out: &mut dyn std::fmt::Write,
    ) -> std::fmt::Result {
        let expires = expiry(now_secs, self.ttl);
        write!(
            out,
            "?expires={expires}&signature={}",
            self.signature(key, expires)
        )
    }

    /// Checks a request's `expires` and `signature` for `key`; `Ok` with the
    /// seconds the URL has left.
    pub fn check(
        &self,
        key: &str,
        expires: Option<&str>,
        signature: Option<&str>,
        now_secs: i64,
    ) -> Result<i64, Refused> {
        use subtle::ConstantTimeEq;
        let (Some(expires), Some(signature)) = (expires, signature) else {
            return Err(Refused::BadSignature);
        };
        let at: i64 = expires.parse().map_err(|_| Refused::BadSignature)?;
        let expected = self.signature(key, at);
        if !bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
            return Err(Refused::BadSignature);
        }
        if at <= now_secs {
            return Err(Refused::Expired);
        }
        Ok(at - now_secs)
    }
}

/// What a presigned S3 URL is made from.
#[derive(Clone)]
pub struct Presigner {
    pub access_key_id: String,
    pub secret_access_key: crate::SecretString,
    pub session_token: Option<String>,
    pub region: String,
    /// `https://host[:port]` of the bucket's server, and the path before the
    /// key: `/bucket` (path style) or empty (virtual-hosted style, where the
    /// bucket is in the host).
    pub origin: String,
    pub prefix: String,
    pub ttl: Duration,
}

/// RFC 3986 encoding as SigV4 asks: unreserved characters stay, the rest is
/// `%XX`; `/` stays in paths.
fn uri_encode(s: &str, keep_slash: bool, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// `20130524T000000Z` for a time in seconds since 1970.
fn amz_date(secs: i64) -> String {
    let iso = mannequin_domain::time::format_millis(secs * 1000);
    // 2013-05-24T00:00:00.000Z
    format!(
        "{}{}{}T{}{}{}Z",
        &iso[0..4],
        &iso[5..7],
        &iso[8..10],
        &iso[11..13],
        &iso[14..16],
        &iso[17..19]
    )
}

impl Presigner {
    /// The host the URL names (and the signature covers).
    fn host(&self) -> &str {
        self.origin
            .split_once("://")
            .map_or(self.origin.as_str(), |(_, h)| h)
    }

    /// A presigned `GET` of `key` made at `now_secs`: dated at the start of
    /// the current window, so that it is the same URL all through it.
    pub fn write_url(
        &self,
        key: &str,
        now_secs: i64,
        out: &mut dyn std::fmt::Write,
    ) -> std::fmt::Result {
        let expires = expiry(now_secs, self.ttl);
        let window = (self.ttl.as_secs().max(4) / 4) as i64;
        let signed_at = now_secs - now_secs.rem_euclid(window);
        out.write_str(&self.presign(key, signed_at, expires - signed_at))
    }

    /// The presigned URL of `GET key`, signed at `at` (seconds) for `expires_in`
    /// seconds.
    pub fn presign(&self, key: &str, at: i64, expires_in: i64) -> String {
        let date = amz_date(at);
        let day = &date[..8];
        let scope = format!("{day}/{}/s3/aws4_request", self.region);
        let mut path = String::with_capacity(self.prefix.len() + key.len() + 8);
        uri_encode(&self.prefix, true, &mut path);
        path.push('/');
        uri_encode(key, true, &mut path);
        let mut credential = String::new();
        uri_encode(
            &format!("{}/{scope}", self.access_key_id),
            false,
            &mut credential,
        );
        // Sorted by name, as the canonical request wants them.
        let mut query = format!(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={credential}\
             &X-Amz-Date={date}&X-Amz-Expires={expires_in}"
        );
        if let Some(token) = &self.session_token {
            query.push_str("&X-Amz-Security-Token=");
            uri_encode(token, false, &mut query);
        }
        query.push_str("&X-Amz-SignedHeaders=host");
        let canonical = format!(
            "GET\n{path}\n{query}\nhost:{}\n\nhost\nUNSIGNED-PAYLOAD",
            self.host()
        );
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{date}\n{scope}\n{}",
            crate::hex(&Sha256::digest(canonical.as_bytes()))
        );
        let mut key_bytes = hmac(
            format!(
                "AWS4{}",
                crate::ExposeSecret::expose_secret(&self.secret_access_key)
            )
            .as_bytes(),
            day.as_bytes(),
        );
        for part in [self.region.as_str(), "s3", "aws4_request"] {
            key_bytes = hmac(&key_bytes, part.as_bytes());
        }
        let signature = crate::hex(&hmac(&key_bytes, to_sign.as_bytes()));
        format!("{}{path}?{query}&X-Amz-Signature={signature}", self.origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_presigned_url_matches_the_aws_documentation_example() {
        // "Authenticating Requests: Using Query Parameters (AWS Signature
        // Version 4)", Amazon S3 API reference: the example GET of test.txt.
        let presigner = Presigner {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
            region: "us-east-1".into(),
            origin: "https://examplebucket.s3.amazonaws.com".into(),
            prefix: String::new(),
            ttl: Duration::from_secs(3600),
        };
        // 2013-05-24T00:00:00Z
        let url = presigner.presign("test.txt", 1_369_353_600, 86_400);
        assert_eq!(
            url,
            "https://examplebucket.s3.amazonaws.com/test.txt\
             ?X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
             &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
             &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        );
    }

    #[test]
    fn urls_stay_the_same_through_a_window_and_last_the_lifetime() {
        let ttl = Duration::from_secs(3600);
        let now = 1_700_000_000;
        let e = expiry(now, ttl);
        assert!(e >= now + 3600 && e <= now + 3600 + 900, "{e}");
        assert_eq!(e % 900, 0);
        // Later in the same window, the same expiry; in the next, the next.
        let start = e - 3600 - 900;
        assert_eq!(expiry(start + 1, ttl), e);
        assert_eq!(expiry(start + 900, ttl), e);
        assert_eq!(expiry(start + 901, ttl), e + 900);
    }

    #[test]
    fn a_media_signature_covers_the_key_and_the_expiry() {
        let signer = MediaSigner::new("a signing key of some length", Duration::from_secs(3600));
        let now = 1_700_000_000;
        let mut query = String::new();
        signer
            .write_query("models/ab/x.png", now, &mut query)
            .unwrap();
        let params: std::collections::HashMap<_, _> = query[1..]
            .split('&')
            .filter_map(|p| p.split_once('='))
            .collect();
        let (e, s) = (params["expires"], params["signature"]);
        assert!(
            signer
                .check("models/ab/x.png", Some(e), Some(s), now)
                .unwrap()
                >= 3600
        );
        // Another key, another expiry, another signing key, none: refused.
        assert_eq!(
            signer.check("models/ab/y.png", Some(e), Some(s), now),
            Err(Refused::BadSignature)
        );
        let later = (e.parse::<i64>().unwrap() + 900).to_string();
        assert_eq!(
            signer.check("models/ab/x.png", Some(&later), Some(s), now),
            Err(Refused::BadSignature)
        );
        let other = MediaSigner::new("another key", Duration::from_secs(3600));
        assert_eq!(
            other.check("models/ab/x.png", Some(e), Some(s), now),
            Err(Refused::BadSignature)
        );
        assert_eq!(
            signer.check("models/ab/x.png", None, None, now),
            Err(Refused::BadSignature)
        );
        // Past its expiry, the right signature is refused as expired.
        let at = e.parse::<i64>().unwrap();
        assert_eq!(
            signer.check("models/ab/x.png", Some(e), Some(s), at),
            Err(Refused::Expired)
        );
    }
}
