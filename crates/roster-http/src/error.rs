//! The one mapping from errors to HTTP answers: `{code, message}` with a
//! stable snake_case code. A `DomainError`'s status comes from its
//! `kind()` and its message from `public_message()` (the core's 5xx mask);
//! the detail of an internal error goes to the log inside the request's
//! span. Refusals the HTTP layer makes itself (transport, routing,
//! idempotency) are the `HttpError` variants, so no code is spelled twice.
//!
//! Every error answer also carries its `ErrorResponse` as a typed response
//! extension: a surface with its own error shape (the Organization API's
//! envelope) re-renders that value instead of parsing the body.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use roster_core::{DomainError, ErrorKind};
use serde::Serialize;

/// The error body of every surface that has no error shape of its own.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorResponse {
    /// A short, stable, machine-readable snake_case code.
    pub code: String,
    /// A descriptive message for people.
    pub message: String,
}

/// A `DomainError` on its way out as an HTTP response.
#[derive(Debug)]
pub struct ApiError(pub DomainError);

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        ApiError(err)
    }
}

/// The status of each kind of domain error, decided once.
pub fn status_of(err: &DomainError) -> StatusCode {
    match err.kind() {
        ErrorKind::Invalid => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Gone => StatusCode::GONE,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The message a caller may see; an internal error's detail is logged
/// here, once, and replaced by the core's generic message.
pub fn public_message(err: &DomainError) -> String {
    if let Some(detail) = err.internal_detail() {
        tracing::error!(error = %detail, "internal error");
    }
    err.public_message()
}

/// A JSON error response with the given status, code and message.
fn error_response(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = ErrorResponse {
        code: code.to_string(),
        message: message.into(),
    };
    let mut response = (status, Json(&body)).into_response();
    response.extensions_mut().insert(body);
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(&self.0);
        let mut response = error_response(status, self.0.code(), public_message(&self.0));
        if let DomainError::RateLimited { retry_after_secs } = self.0 {
            if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

/// What the HTTP layer refuses on its own, before or around the core.
#[derive(Debug)]
pub enum HttpError {
    /// A query string, path or header that does not parse (400).
    InvalidRequest(String),
    /// A request body that is not JSON (400).
    InvalidJson(String),
    /// A body without `Content-Type: application/json` (415).
    UnsupportedMediaType(String),
    /// A body over the limit (413).
    PayloadTooLarge(String),
    /// Another rejection of an extractor, with its own status (code
    /// `invalid_request`).
    Rejected(StatusCode, String),
    /// A body that did not arrive in time (408).
    RequestTimeout(String),
    /// No route has this path (404); the message says where.
    NoSuchRoute(&'static str),
    /// The route does not take the method (405).
    MethodNotAllowed,
    /// The metrics endpoint without its bearer token (401).
    MetricsToken,
    /// The database does not answer (503).
    NotReady,
    /// An `Idempotency-Key` used before with another request (422).
    IdempotencyKeyReused,
    /// An `Idempotency-Key` whose first answer carried a secret (409).
    IdempotencySecret { first_status: u16 },
    /// An `Idempotency-Key` whose first request is still running (409).
    IdempotencyKeyInProgress,
}

impl HttpError {
    fn parts(self) -> (StatusCode, &'static str, String) {
        match self {
            HttpError::InvalidRequest(message) => {
                (StatusCode::BAD_REQUEST, "invalid_request", message)
            }
            HttpError::InvalidJson(message) => (StatusCode::BAD_REQUEST, "invalid_json", message),
            HttpError::UnsupportedMediaType(message) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                message,
            ),
            HttpError::PayloadTooLarge(message) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
            }
            HttpError::Rejected(status, message) => (status, "invalid_request", message),
            HttpError::RequestTimeout(message) => {
                (StatusCode::REQUEST_TIMEOUT, "request_timeout", message)
            }
            HttpError::NoSuchRoute(message) => {
                (StatusCode::NOT_FOUND, "not_found", message.to_string())
            }
            HttpError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not take that method".to_string(),
            ),
            HttpError::MetricsToken => (
                StatusCode::UNAUTHORIZED,
                DomainError::Unauthenticated.code(),
                "/metrics needs the bearer token of ROSTER_METRICS_TOKEN".to_string(),
            ),
            HttpError::NotReady => (
                StatusCode::SERVICE_UNAVAILABLE,
                "not_ready",
                "the database does not answer".to_string(),
            ),
            HttpError::IdempotencyKeyReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used with another request".to_string(),
            ),
            HttpError::IdempotencySecret { first_status } => (
                StatusCode::CONFLICT,
                "idempotency_secret",
                format!(
                    "the first request with this Idempotency-Key succeeded ({first_status}) and \
                     its answer carried a secret, which is never stored; nothing was done again"
                ),
            ),
            HttpError::IdempotencyKeyInProgress => (
                StatusCode::CONFLICT,
                "idempotency_key_in_progress",
                "a request with this Idempotency-Key is still running; retry later".to_string(),
            ),
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let unauthenticated = matches!(self, HttpError::MetricsToken);
        let (status, code, message) = self.parts();
        let mut response = error_response(status, code, message);
        if unauthenticated {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
