//! Hostile and clumsy clients at the HTTP layer of a real `roster serve`:
//! oversized request heads, too many headers, a head or a body that
//! trickles in, and CORS, which is off unless an allow-list is configured.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use roster_testkit::Backend;

use crate::servers::refused_at_start;
use crate::{on_both_backends, TestApp};

/// A `roster serve` with a one-second client timeout and `extra` settings.
async fn server_with(backend: Backend, extra: &[(&str, &str)]) -> TestApp {
    let mut env = vec![("ROSTER_CLIENT_TIMEOUT", "1s")];
    env.extend_from_slice(extra);
    TestApp::spawn_processes_with_env(backend, 1, &env).await
}

/// Writes `request` on a fresh connection and answers everything the server
/// sends until it closes the connection or `wait` passes.
fn exchange(base: &str, request: &[u8], pause_after: Option<Duration>, wait: Duration) -> String {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.write_all(request).expect("write");
    if let Some(pause) = pause_after {
        std::thread::sleep(pause);
    }
    stream.set_read_timeout(Some(wait)).expect("read timeout");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

on_both_backends! {
    async fn request_limits_timeouts_and_cors_hold(backend: Backend) {
        let cors = ("ROSTER_CORS_ORIGINS", "https://app.example.com, http://localhost:3000");
        let mut app = server_with(backend, &[cors]).await;
        let base = app.base.clone();
        let client = reqwest::Client::new();

        // A request head over 32 KiB: 431, and nothing is processed.
        let huge = "x".repeat(40 * 1024);
        let answer = client
            .get(format!("{base}/healthz"))
            .header("x-padding", huge)
            .send()
            .await
            .expect("oversized head answered");
        assert_eq!(answer.status(), 431);

        // More than 100 header fields: 431.
        let mut request = client.get(format!("{base}/healthz"));
        for i in 0..120 {
            request = request.header(format!("x-field-{i}"), "1");
        }
        assert_eq!(request.send().await.expect("answered").status(), 431);

        let base_for_threads = base.clone();
        tokio::task::spawn_blocking(move || {
            let base = base_for_threads;
            // A head that never finishes: the connection is closed after the
            // client timeout, without an answer.
            let started = Instant::now();
            let answer = exchange(&base, b"GET /healthz HTTP/1.1\r\nHost: roster\r\n", None, Duration::from_secs(10));
            assert!(!answer.contains("200 OK"), "a half-sent head was served: {answer}");
            assert!(started.elapsed() < Duration::from_secs(8), "the connection was closed by the server");

            // A body that stops half-way: 408 with a JSON error once the client
            // timeout passes.
            let started = Instant::now();
            let answer = exchange(
                &base,
                b"POST /api/v1/auth/login HTTP/1.1\r\nHost: roster\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"email\":",
                None,
                Duration::from_secs(10),
            );
            assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
            assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
            assert!(started.elapsed() < Duration::from_secs(8));
        })
        .await
        .expect("slow clients");

        // CORS: a preflight from an allowed origin is granted, with the
        // headers API clients send; another origin gets no grant.
        let preflight = client
            .request(reqwest::Method::OPTIONS, format!("{base}/api/v1/orgs"))
            .header("origin", "https://app.example.com")
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type, idempotency-key",
            )
            .send()
            .await
            .expect("preflight");
        assert!(preflight.status().is_success(), "{}", preflight.status());
        let headers = preflight.headers();
        assert_eq!(
            headers["access-control-allow-origin"],
            "https://app.example.com"
        );
        let allowed = headers["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_lowercase();
        assert!(
            allowed.contains("authorization") && allowed.contains("idempotency-key"),
            "{allowed}"
        );
        assert!(headers.get("access-control-allow-credentials").is_none());
        let simple = client
            .get(format!("{base}/healthz"))
            .header("origin", "http://localhost:3000")
            .send()
            .await
            .expect("simple request");
        assert_eq!(
            simple.headers()["access-control-allow-origin"],
            "http://localhost:3000"
        );
        let stranger = client
            .get(format!("{base}/healthz"))
            .header("origin", "https://evil.example.com")
            .send()
            .await
            .expect("cross-origin request");
        assert!(stranger
            .headers()
            .get("access-control-allow-origin")
            .is_none());

        // The server is still healthy after all of it.
        let health = client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .expect("health");
        assert_eq!(health.status(), 200);
        app.stop_servers().await;
    }
}

/// A bad allow-list entry stops the server at start with a clear message.
#[tokio::test]
async fn a_malformed_cors_origin_is_refused_at_start() {
    let stderr = refused_at_start(&[("ROSTER_CORS_ORIGINS", "https://ok.example.com,*")]).await;
    assert!(stderr.contains("ROSTER_CORS_ORIGINS"), "{stderr}");
}

/// Opens a connection and sends `opening` (maybe nothing), then leaves it.
fn hostile_socket(base: &str, opening: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(base.trim_start_matches("http://")).expect("connect");
    if !opening.is_empty() {
        stream.write_all(opening).expect("write");
    }
    stream
}

/// Whether the server closes `stream` before `deadline`: reads (and
/// discards whatever it sends, e.g. HTTP/2 SETTINGS) until end of stream.
fn closed_by_server(mut stream: &TcpStream, deadline: Instant) -> bool {
    let mut buffer = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        stream.set_read_timeout(Some(left)).expect("read timeout");
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false
            }
            // Reset by the server: closed too.
            Err(_) => return true,
        }
    }
}

/// Sends a plain `GET /healthz` on a fresh connection and answers the
/// status line and the time it took.
fn timed_health(base: &str) -> (String, Duration) {
    let started = Instant::now();
    let answer = exchange(
        base,
        b"GET /healthz HTTP/1.1\r\nHost: roster\r\nConnection: close\r\n\r\n",
        None,
        Duration::from_secs(5),
    );
    let status = answer.lines().next().unwrap_or_default().to_string();
    (status, started.elapsed())
}

on_both_backends! {
    /// Hundreds of sockets that say nothing, half an HTTP/2 preface, a whole
    /// preface and then nothing, or half an HTTP/1 head: `/healthz` still
    /// answers within 100 ms while they are open, and the server closes every
    /// one of them once the client timeout (3 s) has passed.
    #[ignore = "measures latency: scripts/test runs it alone, after the suite"]
    async fn silent_and_half_open_connections_are_closed(backend: Backend) {
        let mut app = server_with(backend, &[("ROSTER_CLIENT_TIMEOUT", "3s")]).await;
        let base = app.base.clone();
        tokio::task::spawn_blocking(move || {
            let (status, _) = timed_health(&base);
            assert!(status.contains("200"), "{status}");
            let openings: [&[u8]; 4] = [
                b"",
                b"PRI * HTTP/2.0\r\n",
                b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
                b"GET /healthz HTTP/1.1\r\nHost: roster\r\n",
            ];
            // In batches, each followed by a request on a new connection: the
            // server accepts in order, so its answer shows the batch was
            // accepted (a burst of 400 connects would overflow the listen
            // backlog and leave some waiting on the client's SYN retries).
            let mut sockets: Vec<TcpStream> = Vec::new();
            let mut last_batch = Instant::now();
            for batch in 0..10 {
                last_batch = Instant::now();
                sockets.extend((0..40).map(|i| hostile_socket(&base, openings[(batch * 40 + i) % openings.len()])));
                let (status, _) = timed_health(&base);
                assert!(status.contains("200"), "{status}");
            }
            for _ in 0..3 {
                let (status, took) = timed_health(&base);
                assert!(status.contains("200"), "with 400 hostile sockets open: {status}");
                assert!(
                    took < Duration::from_millis(100),
                    "/healthz took {took:?} with 400 hostile sockets open"
                );
            }
            assert!(
                last_batch.elapsed() < Duration::from_millis(2500),
                "the check ran after the timeout: {:?}",
                last_batch.elapsed()
            );
            let deadline = Instant::now() + Duration::from_secs(6);
            let still_open = sockets
                .iter()
                .enumerate()
                .filter(|(_, socket)| !closed_by_server(socket, deadline))
                .map(|(i, _)| format!("{:?}", String::from_utf8_lossy(openings[i % openings.len()])))
                .collect::<Vec<_>>();
            assert!(
                still_open.is_empty(),
                "{} of 400 hostile sockets still open more than 6 s after a 3 s client timeout, e.g. {:?}",
                still_open.len(),
                still_open.first()
            );
            let (status, _) = timed_health(&base);
            assert!(status.contains("200"), "{status}");
        })
        .await
        .expect("hostile sockets");
        app.stop_servers().await;
    }
}

on_both_backends! {
    /// `ROSTER_MAX_CONNECTIONS`: past the cap a new connection gets a 503
    /// `too_many_connections` and is closed; once connections end, new ones
    /// are served again.
    async fn connections_past_the_cap_are_refused_cleanly(backend: Backend) {
        let mut app = server_with(backend, &[("ROSTER_MAX_CONNECTIONS", "20"), ("ROSTER_CLIENT_TIMEOUT", "30s")]).await;
        let base = app.base.clone();
        tokio::task::spawn_blocking(move || {
            let held: Vec<TcpStream> = (0..20).map(|_| hostile_socket(&base, b"")).collect();
            // The server accepts asynchronously: give it a moment to count them.
            std::thread::sleep(Duration::from_millis(200));
            // The refusal is written at once; a client that has not written yet
            // reads it whole (one that has may see a reset instead, as the
            // server does not wait to read what it sent).
            let mut refused = hostile_socket(&base, b"");
            refused
                .set_read_timeout(Some(Duration::from_secs(5)))
                .expect("read timeout");
            let mut answer = Vec::new();
            let _ = refused.read_to_end(&mut answer);
            let answer = String::from_utf8_lossy(&answer).into_owned();
            assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
            assert!(
                answer.contains("\"code\":\"too_many_connections\""),
                "{answer}"
            );
            assert!(
                answer.to_ascii_lowercase().contains("retry-after: 1"),
                "{answer}"
            );
            drop(held);
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                let (status, _) = timed_health(&base);
                if status.contains("200") {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "still refused after the held connections ended: {status}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        })
        .await
        .expect("connection cap");
        app.stop_servers().await;
    }
}
