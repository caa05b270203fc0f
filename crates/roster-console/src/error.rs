//! How the console answers a refusal: an HTML page with the status the
//! API would give, a plain-language message, and a way back. The domain
//! error's own message is shown (it never carries secrets); internal
//! failures get a generic one and go to the log.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use roster_core::DomainError;

use crate::layout;
use crate::paths;

/// Everything a console handler can answer instead of its page.
#[derive(Debug)]
pub enum PageError {
    /// A refusal or failure from the core.
    Domain(DomainError),
    /// Not logged in: go to the login page, then back to `next`.
    Login { next: String },
    /// A form arrived without a matching CSRF token.
    Csrf,
    /// Any other refusal with its own status and message.
    Status(StatusCode, String),
}

impl From<DomainError> for PageError {
    fn from(error: DomainError) -> Self {
        PageError::Domain(error)
    }
}

/// The status of each domain error, as the Tenant API maps it (this crate
/// cannot depend on `roster-http`, which nests it; the mapping is the same
/// one `match`).
pub fn status_of(error: &DomainError) -> StatusCode {
    match error {
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

/// A message for people: what went wrong and, where it helps, what to do.
pub fn message_of(error: &DomainError) -> String {
    match error {
        DomainError::Internal(_) => {
            "Something went wrong on the server. Please try again in a moment.".to_string()
        }
        DomainError::Unauthenticated => "Your session has ended. Please log in again.".to_string(),
        DomainError::LastOwner => {
            "An organization must keep at least one owner. To leave it, first hand \
             ownership to another member (make them owner on the Members page; the API's \
             transfer-ownership does both steps at once), or delete the organization \
             (Leave or delete, on the organization's page)."
                .to_string()
        }
        DomainError::RateLimited { retry_after_secs } => {
            format!("Too many attempts. Please wait {retry_after_secs} seconds and try again.")
        }
        DomainError::Invalid { field, reason } => format!("The {field} {reason}."),
        other => {
            let text = other.to_string();
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>() + ".",
                None => text,
            }
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            PageError::Login { next } => {
                return Redirect::to(&paths::login_then(&next)).into_response();
            }
            PageError::Csrf => (
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form could not be accepted: its security token is missing or out of date. \
                 Go back, reload the page and send the form again."
                    .to_string(),
            ),
            PageError::Status(status, message) => (status, "Request refused", message),
            PageError::Domain(error) => {
                let status = status_of(&error);
                if status.is_server_error() {
                    tracing::error!(%error, "console request failed");
                }
                let title = match status {
                    StatusCode::NOT_FOUND => "Not found",
                    StatusCode::FORBIDDEN => "Not allowed",
                    StatusCode::CONFLICT => "Not possible",
                    StatusCode::UNAUTHORIZED => "Log in needed",
                    s if s.is_server_error() => "Server error",
                    _ => "Request refused",
                };
                (status, title, message_of(&error))
            }
        };
        let body = layout::bare(
            title,
            html! {
                h1 { (title) }
                p.error role="alert" { (message) }
                p { a href=(paths::ORGS) { "Back to your organizations" } }
            },
        );
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

impl PageError {
    /// An address that names no page of the console.
    pub fn no_such_page() -> Self {
        PageError::Status(
            StatusCode::NOT_FOUND,
            "There is no such page in the console.".to_string(),
        )
    }
}

/// Unknown console paths.
pub async fn not_found() -> PageError {
    PageError::no_such_page()
}
