//! Roster's HTTP layer (axum). One module tree per surface; handlers only
//! translate between the wire and the core's commands and queries, and
//! every error leaves through the one mapping in `error`.

pub mod ango;
pub mod error;
pub mod extract;
mod idempotency;
pub mod metrics;
pub mod openapi;
mod ops;
pub mod schema;
pub mod server;
mod shared_docs;
pub mod spice;
pub mod tenant;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Router;
use roster_core::{DomainError, Roster};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::error::HttpError;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Largest body of a bulk request (up to 1,000 items), in bytes.
pub const MAX_BULK_BODY_BYTES: usize = 512 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub roster: Arc<Roster>,
}

impl AsRef<Arc<Roster>> for AppState {
    fn as_ref(&self) -> &Arc<Roster> {
        &self.roster
    }
}

/// The one way an async caller runs a synchronous core call: on Tokio's
/// blocking pool (the store is synchronous: rusqlite and the sync
/// PostgreSQL client). Takes anything that holds the `Roster` (this
/// crate's `AppState`, or another front-end's state) and answers the
/// core's own error, so any surface can map it its own way.
pub async fn blocking<T, F>(roster: &impl AsRef<Arc<Roster>>, f: F) -> Result<T, DomainError>
where
    T: Send + 'static,
    F: FnOnce(&Roster) -> Result<T, DomainError> + Send + 'static,
{
    let roster = roster.as_ref().clone();
    tokio::task::spawn_blocking(move || f(&roster))
        .await
        .map_err(|e| DomainError::Internal(format!("worker thread failed: {e}")))?
}

/// `blocking` for a core call that hashes a password (signup, login):
/// first waits, as a future, for one of the few turns at password work
/// (`roster_core::crypto::password_work_turns`), so a burst of logins
/// queues here without occupying the blocking threads every other
/// request needs.
pub async fn blocking_password_work<T, F>(
    roster: &impl AsRef<Arc<Roster>>,
    f: F,
) -> Result<T, DomainError>
where
    T: Send + 'static,
    F: FnOnce(&Roster) -> Result<T, DomainError> + Send + 'static,
{
    let _turn = roster_core::crypto::password_work_turn().await?;
    blocking(roster, f).await
}

/// Settings of the HTTP layer (the core's own are in `CoreConfig`).
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// Browser origins allowed to call the API (CORS). Empty: no CORS
    /// headers at all, so browsers keep every other origin out.
    pub cors_origins: Vec<HeaderValue>,
    /// How long a client may take to send a request head, and, separately,
    /// a request body.
    pub client_timeout: Duration,
    /// Most connections open at once (`server::default_max_connections`
    /// when None: sized to the open-file limit).
    pub max_connections: Option<usize>,
    /// `/metrics`: None (the default) records and serves nothing.
    pub metrics: Option<metrics::MetricsConfig>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            cors_origins: Vec::new(),
            client_timeout: Duration::from_secs(30),
            max_connections: None,
            metrics: None,
        }
    }
}

impl HttpOptions {
    /// The server loop's limits these options set.
    pub fn server_limits(&self) -> server::ServerLimits {
        let mut limits = server::ServerLimits::new(self.client_timeout);
        if let Some(max) = self.max_connections {
            limits.max_connections = max;
        }
        limits
    }
}

/// The whole application with the default HTTP options.
pub fn app(roster: Arc<Roster>) -> Router {
    app_with(roster, &HttpOptions::default())
}

/// The whole application: every surface, the operations endpoints, and the
/// layers every request passes (request id, tracing, body deadline and
/// limit, security headers, CORS when configured).
pub fn app_with(roster: Arc<Roster>, options: &HttpOptions) -> Router {
    let state = AppState {
        roster: roster.clone(),
    };
    let (tenant, _) = tenant::router().split_for_parts();
    let console_options = roster_console::ConsoleOptions::from_core(state.roster.config());
    let app = Router::new()
        .nest(roster_console::MOUNT, roster_console::router(state.roster.clone(), console_options))
        .route("/console/", axum::routing::get(|| async { axum::response::Redirect::permanent("/console") }))
        .merge(ops::router())
        .merge(openapi::docs_router())
        .nest(openapi::TENANT_PREFIX, tenant.clone())
        .nest(openapi::TENANT_ALIAS_PREFIX, tenant)
        .merge(spice::router().split_for_parts().0)
        .merge(ango::router().split_for_parts().0)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The Organization API's error envelope, twice (see its doc):
        // here, so the idempotency layer stores the answer as it was sent…
        .layer(axum::middleware::from_fn(ango::error_envelope))
        .layer(axum::middleware::from_fn_with_state(state.clone(), idempotency::layer))
        .layer(axum::middleware::from_fn_with_state(
            options.client_timeout,
            body_deadline,
        ))
        // …and here, for what the idempotency and body layers answer.
        .layer(axum::middleware::from_fn(ango::error_envelope))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    let request_id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    // The path only: query strings never carry secrets here,
                    // but bodies and headers do, so neither is logged.
                    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id)
                })
                .on_response(|response: &Response, latency: Duration, _span: &tracing::Span| {
                    tracing::info!(status = response.status().as_u16(), latency_ms = latency.as_secs_f64() * 1000.0, "response");
                }),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(axum::middleware::from_fn(bound_request_id))
        .with_state(state);
    let app = match &options.metrics {
        Some(config) => metrics::instrument(app, roster, config),
        None => app,
    };
    let app = security_headers(app);
    if options.cors_origins.is_empty() {
        app
    } else {
        app.layer(cors(options.cors_origins.clone()))
    }
}

/// Reads the whole request body within `timeout`, so a client that trickles
/// its body holds a connection for a bounded time: past it, 408. Bodies are
/// small JSON documents that every handler reads whole anyway; the size
/// bound here is the largest any route takes (each route's own, smaller
/// limit still applies after).
async fn body_deadline(
    axum::extract::State(timeout): axum::extract::State<Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let read = axum::body::to_bytes(body, MAX_BULK_BODY_BYTES);
    match tokio::time::timeout(timeout, read).await {
        Ok(Ok(bytes)) => {
            next.run(axum::extract::Request::from_parts(
                parts,
                axum::body::Body::from(bytes),
            ))
            .await
        }
        Ok(Err(error)) => {
            let too_large = error
                .into_inner()
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            if too_large {
                HttpError::PayloadTooLarge(format!(
                    "the request body is larger than {MAX_BULK_BODY_BYTES} bytes"
                ))
                .into_response()
            } else {
                HttpError::InvalidRequest("the request body could not be read".into())
                    .into_response()
            }
        }
        Err(_) => {
            let mut response = HttpError::RequestTimeout(format!(
                "the request body did not arrive within {} s",
                timeout.as_secs_f64()
            ))
            .into_response();
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                HeaderValue::from_static("close"),
            );
            response
        }
    }
}

/// Longest client `X-Request-Id` kept, in characters.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// Whether a client's `X-Request-Id` may be kept (echoed and logged): 1 to
/// 128 visible ASCII characters.
pub fn fit_request_id(value: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&value.len()) && value.iter().all(u8::is_ascii_graphic)
}

/// Drops a client `X-Request-Id` that is not fit to keep (or is sent more
/// than once), so the request-id layer generates one in its place: the id
/// goes into every log line of the request and back to the client, and a
/// long or odd one would bloat or garble both.
async fn bound_request_id(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let headers = request.headers();
    let mut sent = headers.get_all("x-request-id").iter();
    let unfit = match (sent.next(), sent.next()) {
        (Some(value), None) => !fit_request_id(value.as_bytes()),
        (None, _) => false,
        (Some(_), Some(_)) => true,
    };
    if unfit {
        request.headers_mut().remove("x-request-id");
    }
    next.run(request).await
}

/// CORS for an allow-list of origins: the API's methods and the headers
/// its clients send; bearer tokens and keys, never cookies, so no
/// credentials mode.
fn cors(origins: Vec<HeaderValue>) -> tower_http::cors::CorsLayer {
    use axum::http::{header, Method};
    tower_http::cors::CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("apikey"),
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([HeaderName::from_static("x-request-id"), header::RETRY_AFTER])
        .max_age(Duration::from_secs(3600))
}

/// Headers every answer carries: the API answers JSON only, so nothing it
/// sends may be sniffed, framed, run as a page, leak a referrer, or be
/// cached by a shared cache (answers carry tokens and member data). No
/// CORS headers are sent, so browsers keep cross-origin pages out.
fn security_headers(router: Router) -> Router {
    let header = |name: &'static str, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        )
    };
    router
        .layer(header("x-content-type-options", "nosniff"))
        .layer(header("x-frame-options", "DENY"))
        .layer(header(
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ))
        .layer(header("referrer-policy", "no-referrer"))
        .layer(header("cache-control", "no-store"))
}

async fn not_found() -> HttpError {
    HttpError::NoSuchRoute("no such endpoint")
}

async fn method_not_allowed() -> HttpError {
    HttpError::MethodNotAllowed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_visible_ascii_up_to_128() {
        assert!(fit_request_id(b"req-1234"));
        assert!(fit_request_id("a".repeat(128).as_bytes()));
        assert!(!fit_request_id("a".repeat(129).as_bytes()));
        assert!(!fit_request_id(b""));
        assert!(!fit_request_id(b"a b"));
        assert!(!fit_request_id(b"a\tb"));
        assert!(!fit_request_id("caf\u{e9}".as_bytes()));
    }
}
