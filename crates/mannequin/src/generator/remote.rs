//! What every image-server backend shares: the HTTP client with the
//! server's credentials, bounded reads, base64 and data URLs, and the
//! classification of an HTTP failure into retry, refuse or misconfigured.

use std::time::Duration;

use base64::Engine;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};

use super::{GenerateError, Reason};
use crate::error::BoxError;
use crate::{ExposeSecret, SecretString};

/// How a server wants its credentials.
#[derive(Clone)]
enum Auth {
    None,
    Bearer(SecretString),
    /// From `user:password@` in the URL (the web UI's `--api-auth`).
    Basic(String, SecretString),
}

/// A server's base URL and credentials, and a client for it.
#[derive(Clone)]
pub(super) struct Server {
    http: reqwest::Client,
    base: Url,
    auth: Auth,
    /// What the server is called in reasons: "the OpenAI API".
    pub(super) label: &'static str,
}

impl Server {
    /// `base` is the server's URL (credentials in it become basic auth);
    /// `api_key` a bearer token.
    pub(super) fn new(
        label: &'static str,
        base: &str,
        api_key: Option<&SecretString>,
        timeout: Duration,
    ) -> Result<Server, BoxError> {
        let refused =
            || format!("--generator-url for {label} must be http(s)://host[:port][/path]");
        let mut base = Url::parse(base).map_err(|_| refused())?;
        if !matches!(base.scheme(), "http" | "https") || base.host().is_none() {
            return Err(refused().into());
        }
        let auth = if !base.username().is_empty() {
            let user = percent_decode(base.username());
            let password = percent_decode(base.password().unwrap_or(""));
            let _ = base.set_username("");
            let _ = base.set_password(None);
            Auth::Basic(user, password.into())
        } else {
            match api_key {
                Some(key) if !key.expose_secret().is_empty() => Auth::Bearer(key.clone()),
                _ => Auth::None,
            }
        };
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Ok(Server {
            http: crate::http_client()
                .timeout(timeout)
                .connect_timeout(timeout.min(Duration::from_secs(10)))
                .build()?,
            base,
            auth,
            label,
        })
    }

    pub(super) fn has_credentials(&self) -> bool {
        !matches!(self.auth, Auth::None)
    }

    /// `path` under the base URL (the base's own path kept).
    pub(super) fn url(&self, path: &str) -> Url {
        self.base
            .join(path.trim_start_matches('/'))
            .unwrap_or_else(|_| self.base.clone())
    }

    /// The base URL's path, for servers whose clients sometimes include a
    /// version segment in it.
    pub(super) fn base_path(&self) -> &str {
        self.base.path()
    }

    /// A request to `url` with the server's credentials when `url` is on the
    /// server itself (never sent to a download host elsewhere).
    pub(super) fn request(&self, method: Method, url: Url) -> RequestBuilder {
        let own = url.origin() == self.base.origin();
        let rb = self.http.request(method, url);
        match (&self.auth, own) {
            (Auth::Bearer(key), true) => rb.bearer_auth(key.expose_secret()),
            (Auth::Basic(user, password), true) => {
                rb.basic_auth(user, Some(password.expose_secret()))
            }
            _ => rb,
        }
    }

    /// Sends `rb`; a connection that fails or times out is retryable.
    pub(super) async fn send(&self, rb: RequestBuilder) -> Result<Response, GenerateError> {
        rb.send().await.map_err(|e| self.transport(e))
    }

    pub(super) fn transport(&self, e: reqwest::Error) -> GenerateError {
        let what = if e.is_timeout() {
            format!("{} timed out", self.label)
        } else if e.is_connect() {
            format!("{} is unreachable", self.label)
        } else {
            format!("the connection to {} failed", self.label)
        };
        GenerateError::Retryable(Reason::new(what, crate::error::Report(&e)))
    }

    /// At start: a server that cannot be reached at all is a misconfiguration
    /// (a wrong URL) until it answers.
    pub(super) fn unreachable_at_start(&self, e: GenerateError) -> GenerateError {
        match e {
            GenerateError::Retryable(r) => GenerateError::Misconfigured(r),
            other => other,
        }
    }

    /// Reads at most `limit` bytes of the body.
    pub(super) async fn body(
        &self,
        mut res: Response,
        limit: usize,
    ) -> Result<Vec<u8>, GenerateError> {
        if res.content_length().is_some_and(|n| n > limit as u64) {
            return Err(GenerateError::Fatal(
                format!("{} sent more than {limit} bytes", self.label).into(),
            ));
        }
        let mut out = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| self.transport(e))? {
            if out.len() + chunk.len() > limit {
                return Err(GenerateError::Fatal(
                    format!("{} sent more than {limit} bytes", self.label).into(),
                ));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// An unsuccessful answer, its body read up to 256 KiB (what cannot be
    /// read is left out: the status still says enough).
    pub(super) async fn refused(&self, res: Response) -> Refusal {
        let status = res.status();
        let headers = res.headers().clone();
        let body = self.body(res, 256 * 1024).await.unwrap_or_default();
        Refusal {
            status,
            headers,
            body,
        }
    }

    /// The JSON body of a successful answer.
    pub(super) async fn json(&self, res: Response) -> Result<serde_json::Value, GenerateError> {
        let bytes = self.body(res, JSON_LIMIT).await?;
        serde_json::from_slice(&bytes).map_err(|e| {
            GenerateError::Retryable(Reason::new(
                format!("{} sent an answer that is not JSON", self.label),
                e,
            ))
        })
    }

    /// Downloads an image the server points at (its own URL or a delivery host).
    pub(super) async fn download(&self, url: &str) -> Result<Vec<u8>, GenerateError> {
        if let Some(data) = url.strip_prefix("data:") {
            return decode_data_url(data, self.label);
        }
        let url = Url::parse(url).map_err(|e| {
            GenerateError::fatal(format!("{} gave an unusable image URL", self.label), e)
        })?;
        let res = self.send(self.request(Method::GET, url)).await?;
        if !res.status().is_success() {
            return Err(self.refused(res).await.classify(self.label, |_| None));
        }
        self.body(res, mannequin_render::MAX_INPUT_BYTES).await
    }
}

/// An unsuccessful answer, read (its body bounded) for classification.
pub(super) struct Refusal {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Refusal {
    /// What the answer means, by [`classify`]'s rules; `explain` finds the
    /// server's own message in the body.
    pub fn classify(
        &self,
        label: &str,
        explain: impl Fn(&serde_json::Value) -> Option<String>,
    ) -> GenerateError {
        let detail = String::from_utf8_lossy(&self.body);
        classify(
            label,
            self.status,
            &self.headers,
            &self.body,
            explain,
            &detail,
        )
    }
}

/// The largest JSON answer read (a base64 image of the largest accepted size
/// fits).
pub(super) const JSON_LIMIT: usize = mannequin_render::MAX_INPUT_BYTES / 3 * 4 + 1024 * 1024;

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Base64 image bytes; a `data:image/…;base64,` prefix is allowed.
pub(super) fn decode_base64(s: &str, label: &str) -> Result<Vec<u8>, GenerateError> {
    if let Some(data) = s.strip_prefix("data:") {
        return decode_data_url(data, label);
    }
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|e| GenerateError::fatal(format!("{label} sent an image that is not base64"), e))
}

fn decode_data_url(data: &str, label: &str) -> Result<Vec<u8>, GenerateError> {
    match data.split_once(";base64,") {
        Some((_, b64)) => decode_base64(b64, label),
        None => Err(GenerateError::Fatal(
            format!("{label} sent a data URL that is not base64").into(),
        )),
    }
}

/// `Retry-After` (seconds) or `retry-after-ms`, bounded to an hour.
pub(super) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let wait = if let Some(ms) = header("retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok())
    {
        Duration::try_from_secs_f64(ms / 1000.0).ok()
    } else {
        header(RETRY_AFTER.as_str())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
    };
    wait.map(|d| d.min(Duration::from_secs(3600)))
}

/// What an unsuccessful answer means. The public reason is a fixed
/// sentence per class; the server's own message (`explain` pulls it out of
/// its error body, each API having its shape), the backend and the status go
/// to the log only, since they may name internal hosts, paths or keys. The
/// rules:
///
/// - 429: retry, after `Retry-After` when given;
/// - 408 and 5xx: retry;
/// - 401, 403, 404: misconfigured (credentials, permissions, an unknown
///   model or path) — every other model would fail the same way;
/// - any other 4xx: the server refused this request: fail the model.
pub(super) fn classify(
    label: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    explain: impl Fn(&serde_json::Value) -> Option<String>,
    detail: &str,
) -> GenerateError {
    let message = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| explain(&v))
        .map(|m| truncate(&m, 300));
    let reason = |public: &str| Reason {
        public: public.to_string(),
        detail: Some(match &message {
            Some(m) => format!(
                "{label} answered {status}: {m}; body: {}",
                truncate(detail, 500)
            ),
            None => format!("{label} answered {status}: {}", truncate(detail, 500)),
        }),
    };
    match status.as_u16() {
        429 => {
            let r = reason("the image server is busy");
            match retry_after(headers) {
                Some(after) => GenerateError::RetryAfter(r, after),
                None => GenerateError::Retryable(r),
            }
        }
        408 | 500..=599 => GenerateError::Retryable(reason("the image server failed")),
        401 | 403 => {
            GenerateError::Misconfigured(reason("the image server refused the credentials"))
        }
        404 => {
            GenerateError::Misconfigured(reason("the image server does not know the model or path"))
        }
        _ => GenerateError::Fatal(reason("the image server refused the request")),
    }
}

/// At most `max` characters of `s`.
pub(super) fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// A bounded wait between polls: `step` grows by half each time up to `max`.
pub(super) struct Poll {
    next: Duration,
    max: Duration,
}

impl Poll {
    pub(super) fn new(first: Duration, max: Duration) -> Poll {
        Poll { next: first, max }
    }

    pub(super) async fn wait(&mut self) {
        tokio::time::sleep(self.next).await;
        self.next = (self.next * 3 / 2).min(self.max);
    }
}

/// One part of a `multipart/form-data` body a backend is sent: a field, or
/// a file with its name and type.
pub(super) struct FormPart<'a> {
    pub name: &'a str,
    pub file: Option<(String, &'a str)>,
    /// Shared, not copied: an input image is the same bytes in every
    /// picture's request.
    pub bytes: axum::body::Bytes,
}

impl<'a> FormPart<'a> {
    pub fn field(name: &'a str, value: &str) -> FormPart<'a> {
        FormPart {
            name,
            file: None,
            bytes: axum::body::Bytes::copy_from_slice(value.as_bytes()),
        }
    }

    /// An input image as a file part: `product.jpg`.
    pub fn image(name: &'a str, input: &'a super::Input) -> FormPart<'a> {
        let extension = if input.content_type == "image/png" {
            "png"
        } else {
            "jpg"
        };
        FormPart {
            name,
            file: Some((
                format!("{}.{extension}", input.role.as_str()),
                input.content_type,
            )),
            bytes: input.bytes.clone(),
        }
    }
}

/// A body sent as the chunks it is made of, none copied into one buffer:
/// a picture's request carries its images as the shared bytes they are.
pub(super) struct Chunks(std::collections::VecDeque<axum::body::Bytes>);

impl http_body::Body for Chunks {
    type Data = axum::body::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Ready(self.0.pop_front().map(|b| Ok(http_body::Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.0.iter().map(|b| b.len() as u64).sum())
    }
}

/// The largest piece of a form's part handed to the connection at once.
const SLICE: usize = 64 * 1024;

/// A `multipart/form-data` body of `parts` and its content type. The
/// boundary is random, so no part can hold it by chance.
pub(super) fn form(parts: Vec<FormPart<'_>>) -> (String, reqwest::Body) {
    let boundary = format!(
        "mannequin-{}",
        crate::clock::random_string(mannequin_domain::ids::LOWER36, 24)
    );
    let mut chunks = std::collections::VecDeque::with_capacity(parts.len() * 2 + 1);
    let mut head = String::new();
    for p in parts {
        head.push_str(&format!("--{boundary}\r\n"));
        match &p.file {
            Some((file, content_type)) => head.push_str(&format!(
                "Content-Disposition: form-data; name=\"{}\"; filename=\"{file}\"\r\nContent-Type: {content_type}\r\n\r\n",
                p.name
            )),
            None => head.push_str(&format!(
                "Content-Disposition: form-data; name=\"{}\"\r\n\r\n",
                p.name
            )),
        }
        chunks.push_back(axum::body::Bytes::from(std::mem::take(&mut head)));
        // In slices (views of the same bytes): a connection whose writes
        // are flattened into one buffer copies at most a slice beyond its
        // buffer's limit, not the whole image.
        let mut rest = p.bytes;
        while rest.len() > SLICE {
            chunks.push_back(rest.split_to(SLICE));
        }
        chunks.push_back(rest);
        head.push_str("\r\n");
    }
    head.push_str(&format!("--{boundary}--\r\n"));
    chunks.push_back(axum::body::Bytes::from(head));
    (
        format!("multipart/form-data; boundary={boundary}"),
        reqwest::Body::wrap(Chunks(chunks)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_classified_by_status() {
        let h = HeaderMap::new();
        let explain = |v: &serde_json::Value| v["error"]["message"].as_str().map(str::to_string);
        let body = br#"{"error": {"message": "nope"}}"#;
        let c = |s: u16| classify("S", StatusCode::from_u16(s).unwrap(), &h, body, explain, "");
        assert!(matches!(c(429), GenerateError::Retryable(_)));
        assert!(matches!(c(503), GenerateError::Retryable(_)));
        assert!(matches!(c(408), GenerateError::Retryable(_)));
        assert!(matches!(c(401), GenerateError::Misconfigured(_)));
        assert!(matches!(c(404), GenerateError::Misconfigured(_)));
        match c(400) {
            GenerateError::Fatal(r) => {
                assert_eq!(r.public, "the image server refused the request");
                assert!(
                    r.detail
                        .unwrap()
                        .contains("S answered 400 Bad Request: nope")
                );
            }
            other => panic!("{other:?}"),
        }
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "7".parse().unwrap());
        match classify("S", StatusCode::TOO_MANY_REQUESTS, &h, b"", explain, "") {
            GenerateError::RetryAfter(_, d) => assert_eq!(d, Duration::from_secs(7)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn credentials_in_the_url_become_basic_auth_and_leave_the_url() {
        let s = Server::new(
            "S",
            "http://me:p%40ss@127.0.0.1:7860/sd",
            None,
            Duration::from_secs(1),
        )
        .unwrap();
        assert!(matches!(&s.auth, Auth::Basic(u, p) if u == "me" && p.expose_secret() == "p@ss"));
        assert_eq!(
            s.url("/sdapi/v1/txt2img").as_str(),
            "http://127.0.0.1:7860/sd/sdapi/v1/txt2img"
        );
        assert!(Server::new("S", "ftp://x", None, Duration::from_secs(1)).is_err());
    }

    #[test]
    fn base64_with_or_without_a_data_url() {
        assert_eq!(decode_base64("aGk=", "S").unwrap(), b"hi");
        assert_eq!(
            decode_base64("data:image/png;base64,aGk=", "S").unwrap(),
            b"hi"
        );
        assert!(decode_base64("!!", "S").is_err());
    }
}
