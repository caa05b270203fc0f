//! The HTTP server loop: hyper (HTTP/1.1, and HTTP/2 with prior knowledge)
//! with the limits a public service needs, which `axum::serve` does not
//! let us set — a bound on request-head size and header count, deadlines
//! for a client to send its request head, idle timeouts, a cap on open
//! connections — plus graceful shutdown with a bound on how long in-flight
//! requests may take to finish.
//!
//! hyper-util's protocol detection (`auto::Builder`) reads the first bytes
//! of a connection without any deadline, and hyper's HTTP/2 side has no
//! idle timeout: a socket that sends nothing, half an HTTP/2 preface, or a
//! preface and then nothing would stay open for ever. So every connection
//! runs under a watchdog (`ConnectionActivity`): whenever it has no request
//! in progress, the next request head must be complete within a deadline —
//! `client_timeout` for the first request of a connection (time to the
//! first byte and to the end of the head, whatever the protocol), the
//! keep-alive idle timeout between requests — or the connection is closed.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;
use tower::Service;

/// Largest request head (request line and headers) accepted, in bytes;
/// beyond it the client gets `431 Request Header Fields Too Large`.
pub const MAX_HEAD_BYTES: usize = 32 * 1024;

/// Most header fields accepted in one request (beyond: 431).
pub const MAX_HEADERS: usize = 100;

/// How long in-flight requests may take to finish after shutdown begins.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// How long a connection may stay open with no request in progress after
/// its first request (HTTP/1 keep-alive, an idle HTTP/2 connection).
pub const KEEP_ALIVE_IDLE: Duration = Duration::from_secs(60);

/// How often an HTTP/2 connection is pinged, and how long the answer may
/// take before the peer is taken for dead.
pub const HTTP2_KEEP_ALIVE: Duration = Duration::from_secs(20);

/// How long a connection being closed (idle, or at shutdown) may take to
/// finish what it was writing.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// File descriptors kept back from the connection cap for the database,
/// the listener, log files and the mail worker.
const RESERVED_FDS: usize = 128;

/// The connection and time limits of a server.
#[derive(Clone, Copy, Debug)]
pub struct ServerLimits {
    /// Time to the end of the first request head of a connection (which
    /// covers time to its first byte and the HTTP/2 preface), and to the
    /// end of any request head.
    pub client_timeout: Duration,
    /// Time a connection may stay open between requests.
    pub keep_alive_idle: Duration,
    /// Most connections open at once; more are answered
    /// `503 too_many_connections` and closed.
    pub max_connections: usize,
}

impl ServerLimits {
    /// `client_timeout` with the default keep-alive and connection cap.
    pub fn new(client_timeout: Duration) -> Self {
        Self {
            client_timeout,
            keep_alive_idle: KEEP_ALIVE_IDLE.max(client_timeout),
            max_connections: default_max_connections(),
        }
    }
}

/// The default connection cap: what the process's open-file limit leaves
/// after a reserve for everything else, so that accepting never fails for
/// want of descriptors (at least 16).
pub fn default_max_connections() -> usize {
    let soft = rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(65_536);
    let soft = usize::try_from(soft).unwrap_or(usize::MAX).min(1 << 20);
    soft.saturating_sub(RESERVED_FDS).max(16)
}

/// Serves `app` on `listener` until `shutdown` completes, then stops
/// accepting and waits (up to `SHUTDOWN_GRACE`) for open requests.
/// `client_timeout` bounds how long a client may take to send a request
/// head; the other limits take their defaults (`ServerLimits::new`).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    client_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    serve_with(listener, app, ServerLimits::new(client_timeout), shutdown).await
}

/// `serve` with every limit given.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(limits.client_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(HTTP2_KEEP_ALIVE)
        .keep_alive_timeout(HTTP2_KEEP_ALIVE)
        .max_header_list_size(MAX_HEAD_BYTES as u32);
    let max_connections = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let slots = Arc::new(Semaphore::new(max_connections));
    let (stopping, stop_signal) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, a connection reset before
                    // accept…: keep serving the others.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            refuse(&stream, max_connections);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(ConnectionActivity::new());
        let app = app.clone();
        let tracked = activity.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(remote));
            let in_progress = tracked.request_started();
            let answer = app.clone().call(request);
            async move {
                let answer = answer.await;
                drop(in_progress);
                answer
            }
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let mut stop_signal = stop_signal.clone();
        tokio::spawn(async move {
            // Held for the connection's life: its place under the cap.
            let _slot = slot;
            let mut connection = std::pin::pin!(connection);
            loop {
                let deadline = activity.deadline(limits);
                tokio::select! {
                    ended = connection.as_mut() => {
                        if let Err(error) = ended {
                            tracing::debug!(%error, "connection ended with an error");
                        }
                        return;
                    }
                    () = tokio::time::sleep_until(deadline) => {
                        if activity.overdue(limits) {
                            break;
                        }
                    }
                    _ = stop_signal.changed() => {
                        // Shutdown: finish the requests in progress, then close.
                        connection.as_mut().graceful_shutdown();
                        let _ = connection.as_mut().await;
                        return;
                    }
                }
            }
            // Idle past its deadline: say goodbye (HTTP/2 GOAWAY, HTTP/1
            // close), but do not wait on a client that reads nothing.
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(CLOSE_GRACE, connection.as_mut()).await;
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    // Every connection holds one slot until it ends: all slots back means
    // all connections are done.
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    tokio::select! {
        _ = slots.acquire_many(all) => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!(grace_secs = SHUTDOWN_GRACE.as_secs(), "requests still open after the shutdown grace period; stopping anyway");
        }
    }
    Ok(())
}

/// Refuses a connection over the cap: one short HTTP/1.1 answer if the
/// socket takes it at once (never waiting on the client), then close.
fn refuse(stream: &tokio::net::TcpStream, max_connections: usize) {
    tracing::warn!(
        max_connections,
        "connection refused: too many open connections"
    );
    let body = r#"{"code":"too_many_connections","message":"the server has too many open connections; retry shortly"}"#;
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.try_write(answer.as_bytes());
}

/// Whether a connection has a request in progress, and since when it has
/// had none: what its watchdog needs to close idle and silent connections.
struct ConnectionActivity {
    in_progress: AtomicUsize,
    /// When the connection last became free of requests, and whether it
    /// has served any request yet.
    idle: Mutex<(Instant, bool)>,
}

/// A request in progress on a connection; its drop marks the end.
struct InProgress(Arc<ConnectionActivity>);

impl Drop for InProgress {
    fn drop(&mut self) {
        let activity = &self.0;
        let mut idle = activity.idle.lock().unwrap_or_else(|e| e.into_inner());
        if activity.in_progress.fetch_sub(1, Ordering::SeqCst) == 1 {
            *idle = (Instant::now(), true);
        }
    }
}

impl ConnectionActivity {
    fn new() -> Self {
        Self {
            in_progress: AtomicUsize::new(0),
            idle: Mutex::new((Instant::now(), false)),
        }
    }

    /// Called when a request head is complete (hyper calls the service).
    fn request_started(self: &Arc<Self>) -> InProgress {
        let _idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        self.in_progress.fetch_add(1, Ordering::SeqCst);
        InProgress(self.clone())
    }

    /// When the next request head must be complete; while a request is in
    /// progress, just when to look again.
    fn deadline(&self, limits: ServerLimits) -> Instant {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if self.in_progress.load(Ordering::SeqCst) > 0 {
            return Instant::now() + limits.client_timeout;
        }
        let (since, served) = *idle;
        since
            + if served {
                limits.keep_alive_idle
            } else {
                limits.client_timeout
            }
    }

    /// Whether the connection has been free of requests past its deadline.
    fn overdue(&self, limits: ServerLimits) -> bool {
        self.in_progress.load(Ordering::SeqCst) == 0 && self.deadline(limits) <= Instant::now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ServerLimits {
        ServerLimits {
            client_timeout: Duration::from_millis(100),
            keep_alive_idle: Duration::from_millis(400),
            max_connections: 10,
        }
    }

    fn pause(millis: u64) {
        std::thread::sleep(Duration::from_millis(millis));
    }

    #[test]
    fn a_silent_connection_is_overdue_after_the_client_timeout() {
        let activity = Arc::new(ConnectionActivity::new());
        assert!(!activity.overdue(limits()));
        pause(150);
        assert!(activity.overdue(limits()));
    }

    #[test]
    fn a_request_in_progress_is_never_overdue_and_idle_time_counts_from_its_end() {
        let activity = Arc::new(ConnectionActivity::new());
        let request = activity.request_started();
        pause(200);
        assert!(!activity.overdue(limits()), "a request is in progress");
        drop(request);
        pause(150);
        assert!(
            !activity.overdue(limits()),
            "after a request, the keep-alive idle time applies"
        );
        pause(350);
        assert!(activity.overdue(limits()));
    }

    #[test]
    fn the_default_cap_leaves_descriptors_for_the_rest() {
        assert!(default_max_connections() >= 16);
    }
}
