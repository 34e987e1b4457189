//! The connection layer from a client's side: raw sockets against the real
//! server on port 0 (and the binary under a small open-file limit), for what
//! no HTTP client library would send: malformed heads, heads and bodies sent
//! too slowly, thousands of idle connections.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::TestApp;

/// An answer read off a socket until the server closed it.
struct Answer {
    status: u16,
    head: String,
    body: Value,
    /// How long after the request was sent the connection closed.
    closed_after: Duration,
}

fn addr(app: &TestApp) -> String {
    app.url.trim_start_matches("http://").to_string()
}

/// Sends `request`, then reads until the server closes the connection (at
/// most 20 s: a server that never closes fails the test).
async fn exchange(addr: &str, request: &[u8]) -> Answer {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    socket.write_all(request).await.unwrap();
    read_to_close(socket, Instant::now()).await
}

async fn read_to_close(mut socket: TcpStream, sent: Instant) -> Answer {
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), socket.read_to_end(&mut out))
        .await
        .expect("the server closes the connection")
        .unwrap();
    let closed_after = sent.elapsed();
    let text = String::from_utf8(out).unwrap();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("{text:?}"));
    let status = head[9..12].parse().unwrap();
    let body = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:?}"));
    Answer {
        status,
        head: head.to_ascii_lowercase(),
        body,
        closed_after,
    }
}

fn assert_json_error(a: &Answer, status: u16, code: &str) {
    assert_eq!(a.status, status, "{}", a.head);
    assert_eq!(a.body["code"], code, "{}", a.body);
    assert!(
        a.head.contains("content-type: application/json"),
        "{}",
        a.head
    );
    let id = a.body["correlationId"].as_str().expect("a correlation id");
    assert!(
        a.head.contains(&format!("x-correlation-id: {id}")),
        "{}",
        a.head
    );
    assert!(a.body["error"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn what_is_refused_before_any_route_is_json_too() {
    let app = TestApp::start().await;
    let addr = addr(&app);
    let many_headers: String = (0..120).map(|i| format!("x-h{i}: v\r\n")).collect();
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "a control character in a header",
            b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-bad: a\x01b\r\n\r\n".to_vec(),
            400,
            "bad_request",
        ),
        (
            "a request line that is not HTTP",
            b"HELLO THERE\r\n\r\n".to_vec(),
            400,
            "bad_request",
        ),
        (
            "headers of 40 KiB",
            format!(
                "GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
                "a".repeat(40 * 1024)
            )
            .into_bytes(),
            431,
            "headers_too_large",
        ),
        (
            "120 header fields",
            format!("GET /healthz HTTP/1.1\r\nhost: x\r\n{many_headers}\r\n").into_bytes(),
            431,
            "headers_too_large",
        ),
        (
            "a URI of 70,000 bytes",
            format!("GET /{} HTTP/1.1\r\nhost: x\r\n\r\n", "a".repeat(70_000)).into_bytes(),
            431,
            "headers_too_large",
        ),
    ];
    for (what, request, status, code) in cases {
        let answer = exchange(&addr, &request).await;
        assert_json_error(&answer, status, code);
        assert!(
            answer.head.contains("connection: close"),
            "{what}: {}",
            answer.head
        );
    }
    // A URI over 8 KiB that the parser still reads is refused by the service.
    let res = app
        .client
        .get(format!(
            "{}/api/external/models?x={}",
            app.url,
            "a".repeat(9000)
        ))
        .header("authorization", format!("Bearer {}", app.key))
        .send()
        .await
        .unwrap();
    crate::helpers::expect_error(res, 414, "uri_too_long").await;
    // And the service still answers.
    let res = app
        .client
        .get(format!("{}/healthz", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_head_sent_too_slowly_gets_408_and_is_closed() {
    let app = TestApp::start_with(&["--header-timeout", "400ms"], None).await;
    let addr = addr(&app);
    // A byte every 100 ms: each arrives well within the timeout, the head
    // as a whole does not.
    let mut socket = TcpStream::connect(&addr).await.unwrap();
    let started = Instant::now();
    let head = b"GET /healthz HTTP/1.1\r\nhost: x\r\n";
    let mut closed = false;
    for byte in head {
        if socket.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        // The next byte in 100 ms, unless the server has answered: writing
        // to a connection it closed would only reset it.
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            _ = socket.readable() => break,
        }
        if started.elapsed() > Duration::from_secs(3) {
            break;
        }
    }
    let answer = read_to_close(socket, started).await;
    assert_json_error(&answer, 408, "request_timeout");
    assert!(answer.closed_after >= Duration::from_millis(400));
    assert!(
        closed || answer.closed_after < Duration::from_secs(3),
        "closed after {:?}",
        answer.closed_after
    );

    // A connection that sends nothing at all is closed without an answer.
    let mut silent = TcpStream::connect(&addr).await.unwrap();
    let opened = Instant::now();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), silent.read_to_end(&mut out))
        .await
        .expect("closed")
        .unwrap();
    assert!(out.is_empty());
    // Timed from the server's accept, which may come a little before the
    // client's clock starts.
    assert!(
        opened.elapsed() >= Duration::from_millis(300),
        "{:?}",
        opened.elapsed()
    );
}

#[tokio::test]
async fn a_body_sent_too_slowly_gets_408_and_registers_nothing() {
    let app = TestApp::start_with(&["--body-timeout", "500ms"], None).await;
    let addr = addr(&app);
    let before = app.balance(&app.account).await;
    let head = format!(
        "POST /api/external/models/register-ideas HTTP/1.1\r\nhost: x\r\n\
         authorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n",
        app.key
    );
    // The head, then 2 bytes of the 100 announced.
    let started = Instant::now();
    let answer = exchange(&addr, format!("{head}{{\"").as_bytes()).await;
    assert_json_error(&answer, 408, "request_timeout");
    assert!(answer.head.contains("connection: close"), "{}", answer.head);
    assert!(started.elapsed() >= Duration::from_millis(500));
    assert_eq!(app.balance(&app.account).await, before);

    // A body announced larger than the limit is refused at once, unread.
    let huge = format!(
        "POST /api/external/models/register-ideas HTTP/1.1\r\nhost: x\r\n\
         authorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: 99999999999\r\n\r\n{{}}",
        app.key
    );
    let started = Instant::now();
    let mut socket = TcpStream::connect(&addr).await.unwrap();
    socket.write_all(huge.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(20), socket.read(&mut buf))
        .await
        .expect("an answer")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(text.starts_with("HTTP/1.1 413 "), "{text}");
    assert!(text.contains("\"code\":\"payload_too_large\""), "{text}");
    // Well before the body timeout: nothing waited for the body.
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(app.balance(&app.account).await, before);
}

#[tokio::test]
async fn an_idle_connection_is_closed_and_a_busy_one_kept() {
    let app = TestApp::start_with(&["--idle-timeout", "600ms"], None).await;
    let addr = addr(&app);
    let request = b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n";
    // Requests every 200 ms keep one connection for 1.2 s, twice the timeout.
    let mut socket = TcpStream::connect(&addr).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let mut answered = Instant::now();
    for round in 0..6 {
        if round > 0 {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        socket.write_all(request).await.unwrap();
        let n = socket.read(&mut buf).await.unwrap();
        answered = Instant::now();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200 "));
    }
    // Then nothing: the server closes it, an idle timeout after its last
    // answer (which left less than a round trip before `answered`).
    let n = tokio::time::timeout(Duration::from_secs(20), socket.read(&mut buf))
        .await
        .expect("closed")
        .unwrap();
    assert_eq!(n, 0);
    assert!(
        answered.elapsed() >= Duration::from_millis(400),
        "{:?}",
        answered.elapsed()
    );
}

/// Opens `n` connections that send nothing.
async fn idle_connections(addr: &str, n: usize) -> Vec<TcpStream> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(TcpStream::connect(addr).await.unwrap());
    }
    out
}

/// Median time of five plain requests.
async fn median_answer(app: &TestApp) -> Duration {
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let res = app
            .client
            .get(format!("{}/api/external/credits", app.url))
            .header("authorization", format!("Bearer {}", app.key))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        times.push(started.elapsed());
    }
    times.sort();
    times[2]
}

#[tokio::test]
async fn two_thousand_idle_connections_starve_no_one() {
    mannequin::http::server::raise_open_file_limit();
    let app = TestApp::start().await;
    let idle = idle_connections(&addr(&app), 2000).await;
    let median = median_answer(&app).await;
    assert!(median < Duration::from_millis(100), "median {median:?}");
    drop(idle);
}

#[tokio::test]
async fn at_the_connection_limit_the_idlest_connection_makes_room() {
    let app = TestApp::start_with(&["--max-connections", "40"], None).await;
    let addr = addr(&app);
    let mut idle = idle_connections(&addr, 60).await;
    // A client is still answered, on a connection of its own.
    let median = median_answer(&app).await;
    assert!(median < Duration::from_millis(100), "median {median:?}");
    // The first connections opened were closed to make room; the last stayed.
    let mut buf = [0u8; 16];
    let first = tokio::time::timeout(Duration::from_secs(20), idle[0].read(&mut buf))
        .await
        .expect("the oldest idle connection is closed");
    assert_eq!(first.unwrap(), 0);
    let last = idle.last_mut().unwrap();
    last.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let n = last.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn a_uri_too_long_or_a_missing_host_is_answered_and_the_connection_closed() {
    let app = TestApp::start().await;
    let addr = addr(&app);
    let long = format!(
        "GET /api/external/models?x={} HTTP/1.1\r\nhost: x\r\n\r\n",
        "a".repeat(9000)
    );
    let answer = exchange(&addr, long.as_bytes()).await;
    assert_json_error(&answer, 414, "uri_too_long");
    assert!(answer.head.contains("connection: close"), "{}", answer.head);
    // RFC 9112: an HTTP/1.1 request without Host is a 400, and the
    // connection closes.
    let answer = exchange(&addr, b"GET /healthz HTTP/1.1\r\n\r\n").await;
    assert_json_error(&answer, 400, "bad_request");
    assert!(answer.body["error"].as_str().unwrap().contains("Host"));
    assert!(answer.head.contains("connection: close"), "{}", answer.head);
    // HTTP/1.0 has no Host requirement.
    let answer = exchange(&addr, b"GET /healthz HTTP/1.0\r\n\r\n").await;
    assert_eq!(answer.status, 200, "{}", answer.head);
}

#[tokio::test]
async fn a_client_that_half_closes_after_its_request_is_always_answered() {
    let app = TestApp::start().await;
    let addr = addr(&app);
    let answers = futures_util::future::join_all((0..100).map(|_| {
        let addr = addr.clone();
        async move {
            let mut socket = TcpStream::connect(&addr).await.unwrap();
            socket
                .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
                .await
                .unwrap();
            socket.shutdown().await.unwrap();
            read_to_close(socket, Instant::now()).await.status
        }
    }))
    .await;
    assert!(answers.iter().all(|s| *s == 200), "{answers:?}");
}

#[tokio::test]
async fn a_body_too_large_sent_whole_before_reading_still_reads_the_413() {
    let app = TestApp::start().await;
    let addr = addr(&app);
    // As Python's urllib does: the whole body first, then the answer.
    let body = vec![b'x'; 4 * 1024 * 1024];
    for _ in 0..5 {
        let mut socket = TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST /api/external/models/register-ideas HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-api-key: {}\r\ncontent-length: {}\r\n\r\n",
            app.key,
            body.len()
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        socket
            .write_all(&body)
            .await
            .expect("the body is taken, not reset");
        let answer = read_to_close(socket, Instant::now()).await;
        assert_json_error(&answer, 413, "payload_too_large");
    }
    assert_eq!(app.balance(&app.account).await, (1000, 0, 0));
}

#[tokio::test]
async fn at_the_connection_limit_slow_heads_make_room_before_anyone_waits() {
    let app = TestApp::start_with(
        &["--max-connections", "20", "--header-timeout", "60s"],
        None,
    )
    .await;
    let addr = addr(&app);
    // Thirty clients each trickling a head that never ends.
    let mut slow = Vec::new();
    for _ in 0..30 {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nx-slow: ")
            .await
            .unwrap();
        slow.push(s);
    }
    // A normal client is answered long before the header timeout.
    let res = tokio::time::timeout(
        Duration::from_secs(10),
        app.client.get(format!("{}/healthz", app.url)).send(),
    )
    .await
    .expect("answered before the slow heads run out")
    .unwrap();
    assert_eq!(res.status(), 200);
    // The first slow heads were the ones closed.
    let mut buf = [0u8; 16];
    let first = tokio::time::timeout(Duration::from_secs(10), slow[0].read(&mut buf))
        .await
        .expect("the oldest slow head is closed");
    assert!(matches!(first, Ok(0) | Err(_)));
}

/// `mannequin serve` started by a shell that set `ulimit -n 1024` (soft and
/// hard, so the process cannot raise it), with `extra` flags and its log in
/// `log`: the child, its base address and the starter key.
fn serve_under_1024_files(
    data: &std::path::Path,
    log: &std::path::Path,
    extra: &[&str],
) -> (std::process::Child, String, String) {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 1024 && exec \"$@\"")
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_mannequin"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "off",
        ])
        .args(["--rate-limit", "0", "--data-dir"])
        .arg(data)
        .args(extra)
        .env("MANNEQUIN_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(log).unwrap()))
        .spawn()
        .expect("sh starts");
    let mut key = None;
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("the server printed its address")
            .unwrap();
        if line.trim().starts_with("mk_live_") {
            key = Some(line.trim().to_string());
        }
        if let Some(url) = line.strip_prefix("mannequin is listening on ") {
            break url.trim_start_matches("http://").to_string();
        }
    };
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    let files = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap()
        .split_whitespace()
        .skip(3)
        .take(2)
        .collect::<Vec<_>>();
    assert_eq!(files, ["1024", "1024"], "{limits}");
    (child, url, key.expect("a starter key"))
}

/// A child process that a failing assertion does not leave running.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One plain request on a connection of its own: the status line.
fn credits_status(addr: &str, key: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "GET /api/external/credits HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {key}\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.lines().next().unwrap_or_default().to_string()
}

#[test]
fn under_an_open_file_limit_of_1024_idle_connections_starve_no_one() {
    mannequin::http::server::raise_open_file_limit();
    for extra in [&[][..], &["--max-connections", "5000"][..]] {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let (child, addr, key) = serve_under_1024_files(dir.path(), &log, extra);
        let mut child = KillOnDrop(child);
        let idle: Vec<_> = (0..1100)
            .map(|_| std::net::TcpStream::connect(&addr).unwrap())
            .collect();
        // Answered although 1,100 connections asked for more files than the
        // process may open: the idlest were closed to make room.
        assert_eq!(credits_status(&addr, &key), "HTTP/1.1 200 OK", "{extra:?}");
        assert_eq!(credits_status(&addr, &key), "HTTP/1.1 200 OK", "{extra:?}");
        let _ = child.0.kill();
        let _ = child.0.wait();
        drop(idle);
        let log = std::fs::read_to_string(&log).unwrap();
        // The limit leaves files to spare: accepting never failed.
        assert!(!log.contains("accepting connections failed"), "{log}");
        if !extra.is_empty() {
            // More connections than files allow is not taken.
            assert!(
                log.contains("--max-connections 5000 is more than 1024 open files allow"),
                "{log}"
            );
            assert!(log.contains("using 768"), "{log}");
        }
    }
}
