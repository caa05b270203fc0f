//! Roster's HTTP layer (axum). One module tree per surface; handlers only
//! translate between the wire and the core's commands and queries, and
//! every error leaves through the one mapping in `error`.

pub mod ango;
pub mod error;
pub mod extract;
mod idempotency;
mod ops;
pub mod spice;
pub mod tenant;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue};
use axum::http::{Request, StatusCode};
use axum::response::Response;
use axum::Router;
use roster_core::{DomainError, Roster};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::error::{error_response, ApiError};

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Largest body of a bulk request (up to 1,000 items), in bytes.
pub const MAX_BULK_BODY_BYTES: usize = 512 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub roster: Arc<Roster>,
}

/// Runs a synchronous core call on a blocking thread (the store is
/// synchronous: rusqlite and the sync PostgreSQL client).
pub async fn blocking<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Roster) -> Result<T, DomainError> + Send + 'static,
{
    let roster = state.roster.clone();
    tokio::task::spawn_blocking(move || f(&roster))
        .await
        .map_err(|e| ApiError(DomainError::Internal(format!("worker thread failed: {e}"))))?
        .map_err(ApiError)
}

/// The whole application: every surface, the operations endpoints, and the
/// layers every request passes (request id, tracing, body limit).
pub fn app(roster: Arc<Roster>) -> Router {
    let state = AppState { roster };
    let tenant = tenant::router();
    let app = Router::new()
        .merge(ops::router())
        .nest("/api/v1", tenant.clone())
        .nest("/tenant/api/v1", tenant)
        .merge(spice::router())
        .merge(ango::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), idempotency::layer))
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
        .with_state(state);
    security_headers(app)
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

async fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

async fn method_not_allowed() -> Response {
    error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method",
    )
}
