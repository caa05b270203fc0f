//! The load generator: `connections` HTTP/1.1 keep-alive connections, each
//! a task sending one request after another for a fixed time (a closed
//! loop, like wrk). Latencies go into one HDR histogram per connection,
//! merged at the end; a short warm-up at the start is not recorded.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// One HTTP request of a scenario.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: Method,
    pub path: String,
    pub body: Option<String>,
    /// The status that counts as success.
    pub expect: u16,
}

impl Call {
    pub fn get(path: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            body: None,
            expect: 200,
        }
    }
}

/// What one connection does per iteration: a list of calls, sent in order
/// (the add+remove pair is two calls; its latency is the pair's).
pub type Plan = Arc<dyn Fn(usize, u64) -> Vec<Call> + Send + Sync>;

/// The result of one load run.
pub struct Outcome {
    /// Completed iterations (requests, or pairs) per second.
    pub rate: f64,
    pub histogram: Histogram<u64>,
    pub errors: u64,
    pub first_error: Option<String>,
}

/// Drives `addr` with `connections` connections for `duration` (after a
/// warm-up of a tenth of it), each iteration being `plan(connection, i)`.
pub async fn run(
    addr: SocketAddr,
    headers: Arc<Vec<(String, String)>>,
    connections: usize,
    duration: Duration,
    plan: Plan,
) -> anyhow::Result<Outcome> {
    let warm_up = duration / 10;
    let start = Instant::now();
    let measure_from = start + warm_up;
    let end = measure_from + duration;
    let mut tasks = Vec::with_capacity(connections);
    for connection in 0..connections {
        let headers = headers.clone();
        let plan = plan.clone();
        tasks.push(tokio::spawn(async move {
            drive(addr, &headers, connection, measure_from, end, &*plan).await
        }));
    }
    let mut histogram = new_histogram();
    let mut done = 0u64;
    let mut errors = 0u64;
    let mut first_error = None;
    for task in tasks {
        let part = task.await??;
        histogram.add(&part.histogram)?;
        done += part.done;
        errors += part.errors;
        if first_error.is_none() {
            first_error = part.first_error;
        }
    }
    Ok(Outcome {
        rate: done as f64 / duration.as_secs_f64(),
        histogram,
        errors,
        first_error,
    })
}

/// Latencies in nanoseconds, from 1 µs to 100 s, 3 significant digits.
fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1_000, 100_000_000_000, 3)
        .unwrap_or_else(|_| unreachable!("the bounds are valid"))
}

struct Part {
    histogram: Histogram<u64>,
    done: u64,
    errors: u64,
    first_error: Option<String>,
}

async fn connect(addr: SocketAddr) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

async fn drive(
    addr: SocketAddr,
    headers: &[(String, String)],
    connection: usize,
    measure_from: Instant,
    end: Instant,
    plan: &(dyn Fn(usize, u64) -> Vec<Call> + Send + Sync),
) -> anyhow::Result<Part> {
    let mut part = Part {
        histogram: new_histogram(),
        done: 0,
        errors: 0,
        first_error: None,
    };
    let mut sender = connect(addr).await?;
    let mut iteration = 0u64;
    loop {
        let began = Instant::now();
        if began >= end {
            break;
        }
        let mut failed = None;
        for call in plan(connection, iteration) {
            match send(&mut sender, headers, &call).await {
                Ok(status) if status == call.expect => {}
                Ok(status) => {
                    failed = Some(format!("{} {} answered {status}", call.method, call.path));
                    break;
                }
                Err(err) => {
                    failed = Some(format!("{} {}: {err}", call.method, call.path));
                    // The connection may be gone: open a new one.
                    sender = connect(addr).await?;
                    break;
                }
            }
        }
        iteration += 1;
        let finished = Instant::now();
        if began < measure_from || finished > end {
            continue;
        }
        match failed {
            None => {
                part.done += 1;
                let nanos = (finished - began).as_nanos().min(u128::from(u64::MAX)) as u64;
                part.histogram.saturating_record(nanos.max(1_000));
            }
            Some(message) => {
                part.errors += 1;
                part.first_error.get_or_insert(message);
            }
        }
    }
    Ok(part)
}

async fn send(
    sender: &mut SendRequest<Full<Bytes>>,
    headers: &[(String, String)],
    call: &Call,
) -> anyhow::Result<u16> {
    sender.ready().await?;
    let mut request = Request::builder()
        .method(call.method.clone())
        .uri(&call.path)
        .header("host", "127.0.0.1");
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let body = match &call.body {
        Some(body) => {
            request = request.header("content-type", "application/json");
            Full::new(Bytes::from(body.clone()))
        }
        None => Full::new(Bytes::new()),
    };
    let response = sender.send_request(request.body(body)?).await?;
    let status = response.status().as_u16();
    // Read the whole body, as a client would.
    response.into_body().collect().await?;
    Ok(status)
}
