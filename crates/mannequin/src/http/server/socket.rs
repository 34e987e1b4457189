//! The TCP stream as hyper sees it, and the JSON answers to requests hyper
//! refuses before any route runs.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::{Conn, REQUEST};

/// The TCP stream as hyper sees it: moves the connection's phase on reads
/// and writes, and turns hyper's own bodiless error answers into JSON ones.
pub(super) struct Socket {
    pub(super) io: TcpStream,
    conn: Arc<Conn>,
    /// A rewritten answer not yet fully sent, and how much of it is.
    pending: Vec<u8>,
    sent: usize,
}

impl Socket {
    pub(super) fn new(io: TcpStream, conn: Arc<Conn>) -> Socket {
        Socket {
            io,
            conn,
            pending: Vec::new(),
            sent: 0,
        }
    }

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
pub(super) fn prebuilt_error(status: u16, date: Option<&str>) -> Vec<u8> {
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
}
