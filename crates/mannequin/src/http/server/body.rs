//! A request body that must arrive in time (`--body-timeout`).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::time::Sleep;

/// A request's body ran past the body timeout; the envelope answers 408.
#[derive(Clone, Default)]
pub struct BodyClock(Arc<AtomicBool>);

impl BodyClock {
    pub fn ran_out(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// A request body that must arrive within `timeout` of its first read.
pub(super) struct TimedBody {
    inner: Incoming,
    timeout: Duration,
    timer: Option<Pin<Box<Sleep>>>,
    ran_out: BodyClock,
}

impl TimedBody {
    pub(super) fn new(inner: Incoming, timeout: Duration, ran_out: BodyClock) -> TimedBody {
        TimedBody {
            inner,
            timeout,
            timer: None,
            ran_out,
        }
    }
}

/// The error a timed-out body reads as.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct BodyTimedOut;

impl HttpBody for TimedBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let timeout = self.timeout;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        ready!(timer.as_mut().poll(cx));
        self.ran_out.0.store(true, Ordering::Relaxed);
        Poll::Ready(Some(Err(BodyTimedOut.into())))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
