//! The one mapping from `DomainError` to an HTTP answer for the Tenant
//! API: `{code, message}` with a stable snake_case code. A 5xx carries a
//! generic message; the detail goes to the log inside the request's span.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use roster_core::DomainError;
use serde::Serialize;

/// The error body of every surface that has no error shape of its own.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ErrorResponse)]
pub struct ErrorBody {
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

/// The status of each domain error, decided once.
pub fn status_of(err: &DomainError) -> StatusCode {
    match err {
        DomainError::Invalid { .. } => StatusCode::BAD_REQUEST,
        DomainError::Unauthenticated | DomainError::InvalidCredentials => StatusCode::UNAUTHORIZED,
        DomainError::Forbidden(_) | DomainError::Denied { .. } | DomainError::SignupClosed => {
            StatusCode::FORBIDDEN
        }
        DomainError::NotFound { .. } => StatusCode::NOT_FOUND,
        DomainError::Conflict { .. } | DomainError::LastOwner => StatusCode::CONFLICT,
        DomainError::Gone { .. } => StatusCode::GONE,
        DomainError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        DomainError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A JSON error response with the given status, code and message.
pub fn error_response(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (
        status,
        Json(ErrorBody {
            code: code.to_string(),
            message: message.into(),
        }),
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(&self.0);
        let message = match &self.0 {
            DomainError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                "an internal error occurred; it has been logged".to_string()
            }
            other => other.to_string(),
        };
        let mut response = error_response(status, self.0.code(), message);
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
