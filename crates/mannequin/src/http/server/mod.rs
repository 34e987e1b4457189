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

mod body;
mod socket;

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::poll_fn;
use std::io;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::time::Sleep;
use tracing::{debug, warn};

pub use body::BodyClock;
use body::TimedBody;
use socket::{Socket, prebuilt_error};

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
    rlimit::increase_nofile_limit(u64::MAX).unwrap_or_else(|_| open_file_limit())
}

/// The open-file limit in force.
pub fn open_file_limit() -> u64 {
    rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft)
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

    /// Asks a connection to close to make room: the one waiting longest
    /// between requests, else the one that has been sending its request's
    /// head (or nothing) longest, a slow client holding a place; false when
    /// every connection has a request running.
    fn evict_one(&self) -> bool {
        let conns = self.lock();
        let open = |c: &&Arc<Conn>| c.stop.load(Ordering::Relaxed) == STOP_NONE;
        let oldest = |phase: fn(&Conn) -> bool| {
            conns
                .values()
                .filter(open)
                .filter(|c| phase(c))
                .min_by_key(|c| c.since.load(Ordering::Relaxed))
                .cloned()
        };
        let victim = oldest(|c| c.phase() == QUIET).or_else(|| oldest(|c| c.phase() != REQUEST));
        drop(conns);
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
    let io = TokioIo::new(Socket::new(stream, conn.clone()));
    let service = Service {
        router,
        conn: conn.clone(),
        body_timeout: limits.body_timeout,
    };
    let mut http = http1::Builder::new()
        .header_read_timeout(None)
        // A client that sends its request and then shuts its side down
        // (`shutdown(SHUT_WR)`) still gets its answer.
        .half_close(true)
        .max_buf_size(MAX_HEAD.max(64 * 1024))
        .max_header_size(MAX_HEAD)
        .serve_connection(io, service);
    let far = || tokio::time::Instant::now() + Duration::from_secs(3600);
    let mut timer: Pin<Box<Sleep>> = Box::pin(tokio::time::sleep_until(far()));
    let mut stop = pin!(conn.stop_signal.notified());
    let mut shutting_down = false;
    loop {
        let event = poll_fn(|cx: &mut Context<'_>| {
            if http.poll_without_shutdown(cx).is_ready() {
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
            Event::Done => {
                linger(http.into_parts().io.into_inner()).await;
                return;
            }
            Event::Stop => {
                stop.set(conn.stop_signal.notified());
                match conn.stop.swap(STOP_NONE, Ordering::Relaxed) {
                    STOP_SHUTDOWN if !shutting_down => {
                        shutting_down = true;
                        Pin::new(&mut http).graceful_shutdown();
                    }
                    STOP_EVICT if conn.phase() != REQUEST => return,
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

/// How long, and how much, a closing connection reads and discards of what
/// its client still sends.
const LINGER_TIME: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 16 * 1024 * 1024;

/// Closes a connection the server is done with: its side first (the answer
/// is on its way), then reading and discarding what the client still sends,
/// for a bounded time and amount, so that a client writing a body the server
/// refused (a 413 answered from the head) reads the answer instead of a
/// reset, which unread bytes on a closed socket would cause.
async fn linger(mut socket: Socket) {
    use tokio::io::AsyncReadExt;
    if socket.io.shutdown().await.is_err() {
        return;
    }
    let mut buf = vec![0u8; 64 * 1024];
    let mut read = 0;
    let _ = tokio::time::timeout(LINGER_TIME, async {
        while read < LINGER_BYTES {
            match socket.io.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => read += n,
            }
        }
    })
    .await;
}

/// The router behind a connection: marks the request's start and times its
/// body.
struct Service {
    router: Router,
    conn: Arc<Conn>,
    body_timeout: Duration,
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
        let mut req = req.map(|body| Body::new(TimedBody::new(body, timeout, ran_out)));
        req.extensions_mut().insert(clock);
        tower_service::Service::call(&mut self.router.clone(), req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(conn.phase(), QUIET);
        let quiet = conn.deadline(&limits).unwrap();
        assert!(quiet >= opened + Duration::from_secs(50));
        conn.read_some();
        assert_eq!(conn.phase(), HEAD);
        assert!(conn.deadline(&limits).unwrap() < quiet);
    }
}
