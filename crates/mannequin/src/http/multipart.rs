//! `multipart/form-data` bodies (product and preset uploads), read as they
//! arrive: file parts spooled to temporary files, never held whole in
//! memory, each refused once it passes its limit; text parts kept, short.

use std::collections::HashMap;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{HeaderMap, header};
use futures_util::Stream;
use mannequin_render::MAX_PRODUCT_BYTES;
use tokio::io::AsyncWriteExt;

use super::error::ApiError;
use crate::clock::random_string;

/// What a form may hold: its file parts (each at most one photo's size),
/// how many of each, and the whole body's limit.
pub struct Shape {
    /// `(part name, at most this many)`.
    pub files: &'static [(&'static str, usize)],
    /// The text parts read; others are read past.
    pub texts: &'static [&'static str],
    /// The whole body, at most.
    pub limit: u64,
}

/// A text part, at most (in bytes).
const MAX_TEXT: usize = 16 * 1024;

/// A file part spooled to disk; the file goes when this does.
pub struct Spool {
    path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// The part's file name, without folders or extension.
    pub file_name: Option<String>,
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A form as read.
#[derive(Default)]
pub struct Form {
    pub files: HashMap<&'static str, Vec<Spool>>,
    pub texts: HashMap<&'static str, String>,
}

impl Form {
    /// The one file of `part`, if sent.
    pub fn take_file(&mut self, part: &str) -> Option<Spool> {
        self.files.get_mut(part).and_then(Vec::pop)
    }
}

pub fn invalid(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::BadRequest {
        code,
        message: message.into(),
    }
}

pub fn too_large() -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "A photo is larger than {} MB.",
        MAX_PRODUCT_BYTES / 1_000_000
    ))
}

/// The boundary of a `multipart/form-data` request; `what` says what the
/// form carries, for the refusal.
pub fn boundary(headers: &HeaderMap, what: &str) -> Result<String, ApiError> {
    let refused = || {
        invalid(
            "unsupported_content_type",
            format!("Content-Type must be multipart/form-data with a boundary: {what}."),
        )
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(refused)?;
    let is_form = content_type
        .split(';')
        .next()
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("multipart/form-data"));
    if !is_form {
        return Err(refused());
    }
    multer::parse_boundary(content_type).map_err(|_| refused())
}

fn multipart_error(e: multer::Error) -> ApiError {
    match e {
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
            too_large()
        }
        multer::Error::StreamReadFailed(_) => {
            invalid("invalid_upload", "The upload was cut off before its end.")
        }
        other => invalid(
            "invalid_upload",
            format!("The form is not valid multipart: {other}."),
        ),
    }
}

/// Reads `body` as a form of `shape`.
pub async fn read(body: Body, boundary: String, shape: &Shape) -> Result<Form, ApiError> {
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .whole_stream(shape.limit)
            .per_field(MAX_PRODUCT_BYTES as u64 + 1),
    );
    let stream = OneChunkAtATime {
        inner: body.into_data_stream(),
        handed: false,
    };
    let mut multipart = multer::Multipart::with_constraints(stream, boundary, constraints);
    let mut form = Form::default();
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        let Some(name) = field.name().map(str::to_string) else {
            return Err(invalid(
                "invalid_upload",
                "A part of the form has no name: each part says which field it is.",
            ));
        };
        if let Some(&(part, max)) = shape.files.iter().find(|(p, _)| *p == name) {
            let files = form.files.entry(part).or_default();
            if files.len() == max {
                return Err(invalid(
                    "invalid_upload",
                    if max == 1 {
                        format!("Send one '{part}' part, not more.")
                    } else {
                        format!("Send at most {max} '{part}' parts.")
                    },
                ));
            }
            // A browser sends a file field left empty as a part with an
            // empty file name and no bytes: no file.
            let unchosen = field.file_name() == Some("");
            let file_name = field.file_name().and_then(stem);
            let spooled = spool(&mut field, file_name).await?;
            if !(unchosen && spooled.bytes == 0) {
                files.push(spooled);
            }
        } else if let Some(&part) = shape.texts.iter().find(|p| **p == name) {
            let mut text = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                text.extend_from_slice(&chunk);
                if text.len() > MAX_TEXT {
                    return Err(invalid(
                        "invalid_upload",
                        format!("'{part}' is longer than a form's text may be."),
                    ));
                }
            }
            let text = String::from_utf8(text)
                .map_err(|_| invalid("invalid_upload", format!("'{part}' is not UTF-8 text.")))?;
            form.texts.insert(part, text);
        } else {
            while field.chunk().await.map_err(multipart_error)?.is_some() {}
        }
    }
    Ok(form)
}

/// A body handed to the parser one chunk per poll. The parser reads its
/// stream until the stream has nothing ready, and a client on a fast link
/// always has more ready than the disk takes: without this, each upload's
/// whole body gathered in the parser's buffer (16 uploads of 20 MB held
/// 600 MB). Between two chunks the stream says it has nothing and asks to
/// be polled again at once, so the parser hands on what it holds first.
struct OneChunkAtATime<S> {
    inner: S,
    handed: bool,
}

impl<S: Stream + Unpin> Stream for OneChunkAtATime<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        if self.handed {
            self.handed = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let next = Pin::new(&mut self.inner).poll_next(cx);
        self.handed = matches!(next, Poll::Ready(Some(_)));
        next
    }
}

/// A file's name without its folders and extension, as a product's name.
fn stem(file_name: &str) -> Option<String> {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let stem = base.rsplit_once('.').map_or(base, |(s, _)| s);
    let name: String = stem.chars().filter(|c| !c.is_control()).take(200).collect();
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_string())
}

/// Writes the field to a spool file as it arrives, refusing it once it
/// passes a photo's limit.
async fn spool(
    field: &mut multer::Field<'_>,
    file_name: Option<String>,
) -> Result<Spool, ApiError> {
    let path = std::env::temp_dir().join(format!(
        "mannequin-upload-{}",
        random_string(mannequin_domain::ids::LOWER36, 20)
    ));
    let unavailable = |e: std::io::Error| {
        tracing::error!(error = %e, "could not spool an upload");
        ApiError::Unavailable
    };
    let mut file = tokio::fs::File::create(&path).await.map_err(unavailable)?;
    let mut spool = Spool {
        path,
        bytes: 0,
        file_name,
    };
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        spool.bytes += chunk.len() as u64;
        if spool.bytes > MAX_PRODUCT_BYTES as u64 {
            return Err(too_large());
        }
        file.write_all(&chunk).await.map_err(unavailable)?;
    }
    file.flush().await.map_err(unavailable)?;
    Ok(spool)
}

/// Work for the cleaner.
type Job = Box<dyn FnOnce() + Send>;

/// The one thread that decodes and cleans photos. Always the same thread:
/// the allocator keeps a thread's freed memory for that thread, and the
/// large buffers of one photo after another on whichever of the blocking
/// pool's forty threads was free grew the process by each thread's share
/// (16 uploads at once reached 650 MB resident; on one thread they reuse
/// the same memory). A photo that panics the decoder is refused; the
/// thread goes on.
fn cleaner() -> &'static std::sync::mpsc::Sender<Job> {
    static CLEANER: OnceLock<std::sync::mpsc::Sender<Job>> = OnceLock::new();
    CLEANER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("photo-cleaner".into())
            .spawn(move || {
                for job in rx {
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            })
            .expect("the photo cleaner's thread starts");
        tx
    })
}

/// A cleaned photo, and the process's one place for a photo in memory:
/// released when this goes, once its images are stored.
pub struct Cleaned {
    pub image: mannequin_render::ProductImage,
    _turn: tokio::sync::OwnedSemaphorePermit,
}

/// Checks and cleans a spooled photo (turned upright, metadata gone,
/// thumbnailed), one at a time in the process, and holds the turn until
/// the caller has stored it and dropped the [`Cleaned`]: a photo of 8,192
/// pixels a side takes about 200 MB while it is decoded, and a cleaned
/// photo waiting for the disk while the next is decoded would be one more
/// (16 uploads at once reached 600 MB so; one at a time stays under 300).
pub async fn clean(spool: Spool) -> Result<Cleaned, ApiError> {
    static CLEANING: OnceLock<Arc<tokio::sync::Semaphore>> = OnceLock::new();
    let turn = CLEANING
        .get_or_init(|| Arc::new(tokio::sync::Semaphore::new(1)))
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| ApiError::Unavailable)?;
    let (done, cleaned) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let read = std::fs::read(&spool.path);
        drop(spool);
        let _ = done.send(read.map(|bytes| mannequin_render::product(&bytes)));
    });
    cleaner().send(job).map_err(|_| ApiError::Unavailable)?;
    match cleaned.await {
        Ok(Ok(Ok(image))) => Ok(Cleaned { image, _turn: turn }),
        Ok(Ok(Err(refused))) => Err(match refused {
            mannequin_render::ProductError::TooLarge { .. } => too_large(),
            other => invalid("invalid_image", other.to_string()),
        }),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "could not read a spooled upload");
            Err(ApiError::Unavailable)
        }
        Err(_) => {
            tracing::error!("cleaning an upload panicked");
            Err(ApiError::Internal)
        }
    }
}
