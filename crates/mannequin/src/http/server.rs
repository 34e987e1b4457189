//! The connection layer under the routes. It accepts connections up to a
//! limit (closing the longest-idle one to make room), bounds how long a
//! client may take to send a request's head, its body, or nothing at all,
//! backs off when accepting fails, and answers what is refused before any
//! route runs (a malformed request line or header, headers too large, a head
//! sent too slowly) with the contract's JSON error.
//!
//! Each connection has a phase that the socket and the service move along:
//!
//! ```text
//! FRESH ──bytes──▶ HEAD ──head parsed──▶ REQUEST ──response written──▶ QUIET ──bytes──▶ HEAD …
//! ```
//!
//! FRESH and HEAD end at the header timeout (HEAD with a 408), QUIET at the
//! idle timeout (no write progress either: a client that stops reading its
//! answer is closed too); REQUEST has no limit here (the body has its own).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::poll_fn;
use std::io;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, Response};
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::time::Sleep;
use tracing::{debug, warn};

/// The largest request head (request line and headers) read: beyond it, 431.
pub const MAX_HEAD: usize = 32 * 1024;

/// How long open requests may run on after shutdown begins before their
/// connections are closed (a live event stream would otherwise hold it).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How long clients may take, and how many may be connected at once.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// From a connection's first byte (or its opening) to a complete head.
    pub header_timeout: Duration,
    /// From the first read of a request's body to its end.
    pub body_timeout: Duration,
    /// How long a connection may stay open with no request and no progress
    /// writing an answer.
    pub idle_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
}

impl Limits {
    /// The defaults, with `max_connections` from the open-file limit.
    pub fn defaults() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: default_max_connections(open_file_limit()),
        }
    }
}

/// Raises the soft limit on open files to the hard limit and returns the
/// limit in force: connections are files.
pub fn raise_open_file_limit() -> u64 {
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return lim.rlim_max;
            }
        }
        lim.rlim_cur
    }
}

/// The open-file limit in force.
pub fn open_file_limit() -> u64 {
    // SAFETY: getrlimit only writes the struct given.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        lim.rlim_cur
    }
}

/// Connections allowed under an open-file limit: a quarter of it (at most
/// 1,024) stays for the database, images and the rest; never more than 65,536.
pub fn default_max_connections(file_limit: u64) -> usize {
    let reserve = (file_limit / 4).min(1024);
    file_limit.saturating_sub(reserve).clamp(16, 65_536) as usize
}

// --- a connection's shared state -------------------------------------------

const FRESH: u8 = 0;
const HEAD: u8 = 1;
const REQUEST: u8 = 2;
const QUIET: u8 = 3;

const STOP_NONE: u8 = 0;
const STOP_EVICT: u8 = 1;
const STOP_SHUTDOWN: u8 = 2;

static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

fn now_ns() -> u64 {
    EPOCH.elapsed().as_nanos() as u64
}

/// What the socket, the service and the connection's task share.
struct Conn {
    phase: AtomicU8,
    /// When the phase began (ns since `EPOCH`); in QUIET, the last write.
    since: AtomicU64,
    stop: AtomicU8,
    stop_signal: Notify,
}

impl Conn {
    fn new() -> Self {
        Conn {
            phase: AtomicU8::new(FRESH),
            since: AtomicU64::new(now_ns()),
            stop: AtomicU8::new(STOP_NONE),
            stop_signal: Notify::new(),
        }
    }

    fn phase(&self) -> u8 {
        self.phase.load(Ordering::Relaxed)
    }

    fn enter(&self, phase: u8) {
        self.since.store(now_ns(), Ordering::Relaxed);
        self.phase.store(phase, Ordering::Relaxed);
    }

    /// Bytes arrived: a waiting connection starts a request's head.
    fn read_some(&self) {
        if matches!(self.phase(), FRESH | QUIET) {
            self.enter(HEAD);
        }
    }

    /// Bytes of an answer left: the connection waits for the next request.
    fn wrote_some(&self) {
        self.enter(QUIET);
    }

    fn idle(&self) -> bool {
        matches!(self.phase(), FRESH | QUIET)
    }

    /// When the current phase runs out, if it can.
    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        let limit = match self.phase() {
            FRESH | HEAD => limits.header_timeout,
            QUIET => limits.idle_timeout,
            _ => return None,
        };
        let since = self.since.load(Ordering::Relaxed);
        Some(*EPOCH + Duration::from_nanos(since) + limit)
    }

    fn ask_to_stop(&self, how: u8) {
        self.stop.store(how, Ordering::Relaxed);
        self.stop_signal.notify_one();
    }
}

/// The open connections, so that the accept loop can count them, make room
/// and stop them all.
#[derive(Default)]
struct Registry {
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    next: AtomicU64,
    freed: Notify,
}

impl Registry {
    fn add(self: &Arc<Self>) -> Registered {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn::new());
        self.lock().insert(id, conn.clone());
        Registered {
            registry: self.clone(),
            id,
            conn,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn len(&self) -> usize {
        self.lock().len()
    }

    /// Asks the connection idle longest to close; false when none is idle.
    fn evict_one(&self) -> bool {
        let victim = self
            .lock()
            .values()
            .filter(|c| c.idle() && c.stop.load(Ordering::Relaxed) == STOP_NONE)
            .min_by_key(|c| c.since.load(Ordering::Relaxed))
            .cloned();
        match victim {
            Some(c) => {
                c.ask_to_stop(STOP_EVICT);
                true
            }
            None => false,
        }
    }

    fn stop_all(&self) {
        for c in self.lock().values() {
            c.ask_to_stop(STOP_SHUTDOWN);
        }
    }
}

/// A connection's place in the registry, given back when its task ends
/// (however it ends).
struct Registered {
    registry: Arc<Registry>,
    id: u64,
    conn: Arc<Conn>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.id);
        self.registry.freed.notify_waiters();
    }
}

// --- accepting ---------------------------------------------------------------

/// Serves `router` on `listener` until `shutdown` turns true; then stops
/// accepting, lets open requests finish (up to a grace period) and returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) {
    let registry = Arc::new(Registry::default());
    let mut backoff = Duration::ZERO;
    let mut warned: Option<Instant> = None;
    loop {
        // At the limit, make room by closing the connection idle longest; if
        // every connection is busy, wait for one to end.
        while registry.len() >= limits.max_connections {
            let freed = registry.freed.notified();
            let mut freed = pin!(freed);
            freed.as_mut().enable();
            if !registry.evict_one() {
                debug!(
                    max = limits.max_connections,
                    "every connection is busy; waiting"
                );
            }
            tokio::select! {
                _ = freed => {}
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                _ = shutdown.wait_for(|s| *s) => break,
            }
        }
        if *shutdown.borrow() {
            break;
        }
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.wait_for(|s| *s) => break,
        };
        match accepted {
            Ok((stream, _)) => {
                backoff = Duration::ZERO;
                let _ = stream.set_nodelay(true);
                let registered = registry.add();
                tokio::spawn(connection(stream, router.clone(), limits, registered));
            }
            // The client gave up between connecting and being accepted.
            Err(e) if is_connection_error(&e) => {}
            // Out of files (or memory): free an idle connection's file and
            // try again a little later, instead of spinning.
            Err(e) => {
                backoff = (backoff * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
                if warned.is_none_or(|at| at.elapsed() > Duration::from_secs(60)) {
                    warned = Some(Instant::now());
                    warn!(error = %e, "accepting connections failed; backing off (said at most once a minute)");
                }
                registry.evict_one();
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.wait_for(|s| *s) => break,
                }
            }
        }
    }
    drop(listener);
    stop(registry).await;
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Asks every connection to finish and waits for them (open requests may
/// run `SHUTDOWN_GRACE`; connections still open then are closed).
async fn stop(registry: Arc<Registry>) {
    registry.stop_all();
    let until = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    loop {
        let freed = registry.freed.notified();
        let mut freed = pin!(freed);
        freed.as_mut().enable();
        if registry.len() == 0 {
            return;
        }
        tokio::select! {
            _ = freed => {}
            _ = tokio::time::sleep_until(until) => {
                warn!(open = registry.len(), "closing connections still open after the shutdown grace");
                return;
            }
        }
    }
}

// --- one connection ----------------------------------------------------------

enum Event {
    Done,
    Stop,
    Timer,
}

async fn connection(stream: TcpStream, router: Router, limits: Limits, registered: Registered) {
    let conn = registered.conn.clone();
    let io = TokioIo::new(Socket {
        io: stream,
        conn: conn.clone(),
        pending: Vec::new(),
        sent: 0,
    });
    let service = Service {
        router,
        conn: conn.clone(),
        body_timeout: limits.body_timeout,
    };
    let mut http = http1::Builder::new()
        .header_read_timeout(None)
        .max_buf_size(MAX_HEAD.max(64 * 1024))
        .max_header_size(MAX_HEAD)
        .serve_connection(io, service);
    let far = || tokio::time::Instant::now() + Duration::from_secs(3600);
    let mut timer: Pin<Box<Sleep>> = Box::pin(tokio::time::sleep_until(far()));
    let mut stop = pin!(conn.stop_signal.notified());
    let mut shutting_down = false;
    loop {
        let event = poll_fn(|cx: &mut Context<'_>| {
            if Pin::new(&mut http).poll(cx).is_ready() {
                return Poll::Ready(Event::Done);
            }
            if stop.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Event::Stop);
            }
            // A phase whose deadline is sooner than the timer's moves it.
            if let Some(at) = conn.deadline(&limits) {
                let at = tokio::time::Instant::from_std(at);
                if at < timer.deadline() {
                    timer.as_mut().reset(at);
                }
            }
            if timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Event::Timer);
            }
            Poll::Pending
        })
        .await;
        match event {
            Event::Done => return,
            Event::Stop => {
                stop.set(conn.stop_signal.notified());
                match conn.stop.swap(STOP_NONE, Ordering::Relaxed) {
                    STOP_SHUTDOWN if !shutting_down => {
                        shutting_down = true;
                        Pin::new(&mut http).graceful_shutdown();
                    }
                    STOP_EVICT if conn.idle() => return,
                    _ => {}
                }
            }
            Event::Timer => match conn.deadline(&limits) {
                Some(at) if at <= Instant::now() => {
                    if conn.phase() == HEAD {
                        // The client is slow to send its head: say so, then close.
                        let mut socket = http.into_parts().io.into_inner();
                        let answer = prebuilt_error(408, None);
                        let _ = tokio::time::timeout(Duration::from_secs(1), async {
                            socket.io.write_all(&answer).await?;
                            socket.io.shutdown().await
                        })
                        .await;
                    }
                    return;
                }
                Some(at) => timer.as_mut().reset(tokio::time::Instant::from_std(at)),
                None => timer.as_mut().reset(far()),
            },
        }
    }
}

/// The router behind a connection: marks the request's start and times its
/// body.
struct Service {
    router: Router,
    conn: Arc<Conn>,
    body_timeout: Duration,
}

/// A request's body ran past the body timeout; the envelope answers 408.
#[derive(Clone, Default)]
pub struct BodyClock(Arc<AtomicBool>);

impl BodyClock {
    pub fn ran_out(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

impl hyper::service::Service<Request<Incoming>> for Service {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = axum::routing::future::RouteFuture<Infallible>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        self.conn.enter(REQUEST);
        let clock = BodyClock::default();
        let timeout = self.body_timeout;
        let ran_out = clock.clone();
        let mut req = req.map(|body| {
            Body::new(TimedBody {
                inner: body,
                timeout,
                timer: None,
                ran_out,
            })
        });
        req.extensions_mut().insert(clock);
        tower_service::Service::call(&mut self.router.clone(), req)
    }
}

/// A request body that must arrive within `timeout` of its first read.
struct TimedBody {
    inner: Incoming,
    timeout: Duration,
    timer: Option<Pin<Box<Sleep>>>,
    ran_out: BodyClock,
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

// --- the socket --------------------------------------------------------------

/// The TCP stream as hyper sees it: moves the connection's phase on reads
/// and writes, and turns hyper's own bodiless error answers into JSON ones.
struct Socket {
    io: TcpStream,
    conn: Arc<Conn>,
    /// A rewritten answer not yet fully sent, and how much of it is.
    pending: Vec<u8>,
    sent: usize,
}

impl Socket {
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.pending.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.pending[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.pending.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }

    /// Takes `buf` as written if it is hyper's own answer to a request it
    /// could not read, sending the JSON one in its place.
    fn replace(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Option<Poll<io::Result<usize>>> {
        if self.conn.phase() == REQUEST {
            return None;
        }
        let answer = rewrite_bare_error(buf)?;
        self.pending = answer;
        self.sent = 0;
        self.conn.wrote_some();
        Some(match self.drain(cx) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            // The rest goes out on the flush that follows.
            _ => Poll::Ready(Ok(buf.len())),
        })
    }
}

impl AsyncRead for Socket {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.io).poll_read(cx, buf))?;
        if buf.filled().len() > before {
            self.conn.read_some();
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.drain(cx))?;
        if let Some(done) = self.replace(cx, buf) {
            return done;
        }
        let n = ready!(Pin::new(&mut self.io).poll_write(cx, buf))?;
        if n > 0 {
            self.conn.wrote_some();
        }
        Poll::Ready(Ok(n))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(self.drain(cx))?;
        if let [only] = bufs
            && let Some(done) = self.replace(cx, only)
        {
            return done;
        }
        let n = ready!(Pin::new(&mut self.io).poll_write_vectored(cx, bufs))?;
        if n > 0 {
            self.conn.wrote_some();
        }
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

// --- the answers made before any route --------------------------------------

/// hyper answers a request it cannot read with a bodiless head of exactly
/// this shape (`HTTP/1.1 400 Bad Request\r\nconnection: close\r\n
/// content-length: 0\r\ndate: …\r\n\r\n`); the routes never do (their errors
/// carry JSON). Returns the JSON answer to send instead.
fn rewrite_bare_error(buf: &[u8]) -> Option<Vec<u8>> {
    let status = buf.strip_prefix(b"HTTP/1.1 ")?.get(..3)?;
    let status = match status {
        b"400" => 400,
        b"414" => 414,
        b"431" => 431,
        _ => return None,
    };
    let head = std::str::from_utf8(buf).ok()?;
    let rest = head.split_once("\r\n")?.1;
    let rest = rest.strip_prefix("connection: close\r\ncontent-length: 0\r\n")?;
    let date = rest
        .strip_prefix("date: ")?
        .strip_suffix("\r\n\r\n")
        .filter(|d| !d.contains('\r'))?;
    Some(prebuilt_error(status, Some(date)))
}

/// A complete JSON error answer that closes the connection, for a request no
/// route saw.
fn prebuilt_error(status: u16, date: Option<&str>) -> Vec<u8> {
    let (reason, code, message) = match status {
        400 => (
            "Bad Request",
            "bad_request",
            "The request could not be read as HTTP: a malformed request line or header.",
        ),
        408 => (
            "Request Timeout",
            "request_timeout",
            "The request's head did not arrive in time.",
        ),
        414 => (
            "URI Too Long",
            "uri_too_long",
            "The request's URI is too long.",
        ),
        _ => (
            "Request Header Fields Too Large",
            "headers_too_large",
            "The request's headers are too large (at most 32 KiB and 100 fields).",
        ),
    };
    let correlation_id = crate::clock::new_ulid();
    let body = serde_json::json!({
        "error": message,
        "code": code,
        "correlationId": correlation_id,
    })
    .to_string();
    let date = date.map(|d| format!("date: {d}\r\n")).unwrap_or_default();
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\nx-correlation-id: {correlation_id}\r\n\
         {date}\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(answer: &[u8]) -> (String, serde_json::Value) {
        let text = String::from_utf8(answer.to_vec()).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        (head.to_string(), serde_json::from_str(body).unwrap())
    }

    #[test]
    fn hyper_bare_errors_become_json_and_nothing_else_does() {
        let date = "Sun, 29 Nov 2026 16:57:09 GMT";
        for (status, code) in [
            (400, "bad_request"),
            (414, "uri_too_long"),
            (431, "headers_too_large"),
        ] {
            let reason = axum::http::StatusCode::from_u16(status)
                .unwrap()
                .canonical_reason()
                .unwrap();
            let bare = format!(
                "HTTP/1.1 {status} {reason}\r\nconnection: close\r\ncontent-length: 0\r\ndate: {date}\r\n\r\n"
            );
            let answer = rewrite_bare_error(bare.as_bytes()).expect("rewritten");
            let (head, body) = split(&answer);
            assert!(
                head.starts_with(&format!("HTTP/1.1 {status} {reason}\r\n")),
                "{head}"
            );
            assert!(head.contains("content-type: application/json\r\n"));
            assert!(head.contains("connection: close\r\n"));
            assert!(head.contains(&format!("date: {date}")));
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(length, body.to_string().len());
            assert_eq!(body["code"], code);
            assert!(
                body["correlationId"]
                    .as_str()
                    .is_some_and(|c| c.len() == 26)
            );
        }
        // What the routes write is left alone: other statuses, a body, other headers.
        for other in [
            format!(
                "HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\ndate: {date}\r\n\r\n"
            ),
            format!(
                "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\ndate: {date}\r\n\r\n{{}}"
            ),
            format!(
                "HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\ndate: {date}\r\n\r\nx"
            ),
            "{\"error\":\"HTTP/1.1 400 \"}".to_string(),
        ] {
            assert!(rewrite_bare_error(other.as_bytes()).is_none(), "{other}");
        }
    }

    #[test]
    fn connections_leave_room_for_other_files() {
        assert_eq!(default_max_connections(1024), 768);
        assert_eq!(default_max_connections(20_000), 18_976);
        assert_eq!(default_max_connections(1 << 20), 65_536);
        assert_eq!(default_max_connections(10), 16);
    }

    #[test]
    fn a_connection_times_its_phases() {
        let limits = Limits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1,
        };
        let conn = Conn::new();
        let opened = conn.deadline(&limits).unwrap();
        conn.read_some();
        assert_eq!(conn.phase(), HEAD);
        assert!(conn.deadline(&limits).unwrap() >= opened);
        conn.enter(REQUEST);
        assert_eq!(conn.deadline(&limits), None);
        // Reads of the body do not start a new head.
        conn.read_some();
        assert_eq!(conn.phase(), REQUEST);
        conn.wrote_some();
        assert!(conn.idle());
        let quiet = conn.deadline(&limits).unwrap();
        assert!(quiet >= opened + Duration::from_secs(50));
        conn.read_some();
        assert_eq!(conn.phase(), HEAD);
        assert!(conn.deadline(&limits).unwrap() < quiet);
    }
}
