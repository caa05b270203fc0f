//! The one error type of the domain, and its contract with every surface:
//! the stable `code()` (part of the public contract, never renamed), the
//! `kind()` that decides the status, and the `public_message()` that
//! never lets an internal failure's detail out. Every code is named once,
//! by a constructor here; other crates never spell a code themselves.

use std::fmt;

/// Everything a core operation can refuse or fail with.
#[derive(Clone, Debug, thiserror::Error)]
pub enum DomainError {
    /// A value did not parse: which field, and why.
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// No credentials, or credentials that do not identify a live session or key.
    #[error("authentication required")]
    Unauthenticated,
    /// Email and password do not match an active account.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// The caller is known but its role does not allow the action.
    #[error("{0}")]
    Forbidden(&'static str),
    /// Refused for a specific reason that has its own code (e.g.
    /// `email_not_verified`, `insufficient_scope`).
    #[error("{message}")]
    Denied {
        code: &'static str,
        message: &'static str,
    },
    /// Signing up is not open on this server.
    #[error("signup is closed on this server")]
    SignupClosed,
    /// The resource does not exist, or the caller may not know it exists.
    #[error("{what} not found")]
    NotFound {
        code: &'static str,
        what: &'static str,
    },
    /// The change collides with the current state.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// The change would leave an organization without an owner. The
    /// message names the two ways out, so that a person made owner without
    /// asking is never trapped: hand ownership to another member, or delete
    /// the organization.
    #[error(
        "an organization must keep at least one owner: transfer ownership to another member \
         (POST /orgs/{{org_id}}/transfer-ownership) or delete the organization \
         (DELETE /orgs/{{org_id}})"
    )]
    LastOwner,
    /// The resource existed but can no longer be used.
    #[error("{message}")]
    Gone { code: &'static str, message: String },
    /// Too many attempts; retry after the given number of seconds.
    #[error("too many requests, retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// A storage or other internal failure; the source goes to the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The category of an error: what decides its status on every surface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Malformed input (400).
    Invalid,
    /// No or bad credentials (401).
    Unauthenticated,
    /// Known caller, refused (403).
    Forbidden,
    /// No such thing, or not visible to the caller (404).
    NotFound,
    /// Collides with the current state (409).
    Conflict,
    /// Existed, but can no longer be used (410).
    Gone,
    /// Too many attempts (429).
    RateLimited,
    /// Our failure (500); its detail is never shown.
    Internal,
}

/// What an internal error says to the caller; the detail goes to the log.
pub const INTERNAL_ERROR_MESSAGE: &str = "an internal error occurred; it has been logged";

impl DomainError {
    /// The category that decides the status, decided once for all surfaces.
    pub fn kind(&self) -> ErrorKind {
        match self {
            DomainError::Invalid { .. } => ErrorKind::Invalid,
            DomainError::Unauthenticated | DomainError::InvalidCredentials => {
                ErrorKind::Unauthenticated
            }
            DomainError::Forbidden(_) | DomainError::Denied { .. } | DomainError::SignupClosed => {
                ErrorKind::Forbidden
            }
            DomainError::NotFound { .. } => ErrorKind::NotFound,
            DomainError::Conflict { .. } | DomainError::LastOwner => ErrorKind::Conflict,
            DomainError::Gone { .. } => ErrorKind::Gone,
            DomainError::RateLimited { .. } => ErrorKind::RateLimited,
            DomainError::Internal(_) => ErrorKind::Internal,
        }
    }

    /// The message a caller may see: the error's own words, except for an
    /// internal error, whose detail (a query, a path, a driver's words)
    /// must never leave the server — callers log it (`internal_detail`).
    pub fn public_message(&self) -> String {
        match self {
            DomainError::Internal(_) => INTERNAL_ERROR_MESSAGE.to_string(),
            other => other.to_string(),
        }
    }

    /// The detail of an internal error, for the log only.
    pub fn internal_detail(&self) -> Option<&str> {
        match self {
            DomainError::Internal(detail) => Some(detail),
            _ => None,
        }
    }

    /// The stable, snake_case machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::Invalid { .. } => "invalid_request",
            DomainError::Unauthenticated => "unauthenticated",
            DomainError::InvalidCredentials => "invalid_credentials",
            DomainError::Forbidden(_) => "forbidden",
            DomainError::Denied { code, .. } => code,
            DomainError::SignupClosed => "signup_closed",
            DomainError::NotFound { code, .. } => code,
            DomainError::Conflict { code, .. } => code,
            DomainError::LastOwner => "last_owner",
            DomainError::Gone { code, .. } => code,
            DomainError::RateLimited { .. } => "rate_limited",
            DomainError::Internal(_) => "internal_error",
        }
    }

    /// Shorthand for an `Invalid` error.
    pub fn invalid(field: &'static str, reason: impl fmt::Display) -> Self {
        DomainError::Invalid {
            field,
            reason: reason.to_string(),
        }
    }

    pub fn org_not_found() -> Self {
        DomainError::NotFound {
            code: "org_not_found",
            what: "organization",
        }
    }

    pub fn member_not_found() -> Self {
        DomainError::NotFound {
            code: "member_not_found",
            what: "member",
        }
    }

    pub fn project_not_found() -> Self {
        DomainError::NotFound {
            code: "project_not_found",
            what: "project",
        }
    }

    pub fn user_not_found() -> Self {
        DomainError::NotFound {
            code: "user_not_found",
            what: "user",
        }
    }

    /// The caller's email address is not verified yet (see
    /// `service::require_verified_email`).
    pub fn email_not_verified() -> Self {
        DomainError::Denied {
            code: "email_not_verified",
            message: "verify your email address first",
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        DomainError::Conflict {
            code,
            message: message.into(),
        }
    }

    fn gone(code: &'static str, message: &'static str) -> Self {
        DomainError::Gone {
            code,
            message: message.to_string(),
        }
    }

    pub fn invitation_not_found() -> Self {
        DomainError::NotFound {
            code: "invitation_not_found",
            what: "invitation",
        }
    }

    pub fn api_key_not_found() -> Self {
        DomainError::NotFound {
            code: "api_key_not_found",
            what: "API key",
        }
    }

    /// An email-verification token that was never issued.
    pub fn verification_not_found() -> Self {
        DomainError::NotFound {
            code: "verification_not_found",
            what: "verification token",
        }
    }

    /// An org-scoped access token used outside its org.
    pub fn token_scope() -> Self {
        DomainError::Denied {
            code: "token_scope",
            message: "this access token is limited to one organization; \
                      use the session's own access token for anything else",
        }
    }

    /// The credential lacks the scope the action needs; `message` says
    /// which credential would do.
    pub fn insufficient_scope(message: &'static str) -> Self {
        DomainError::Denied {
            code: "insufficient_scope",
            message,
        }
    }

    /// Accepting, by token, an invitation sent to another address.
    pub fn invitation_email_mismatch() -> Self {
        DomainError::Denied {
            code: "invitation_email_mismatch",
            message: "this invitation was sent to another email address",
        }
    }

    pub fn invitation_expired() -> Self {
        Self::gone("invitation_expired", "this invitation has expired")
    }

    pub fn invitation_revoked() -> Self {
        Self::gone("invitation_revoked", "this invitation was revoked")
    }

    pub fn verification_expired() -> Self {
        Self::gone(
            "verification_expired",
            "this link has expired; ask for a new one",
        )
    }

    pub fn api_key_revoked() -> Self {
        Self::gone("api_key_revoked", "this API key is already revoked")
    }

    pub fn invitation_already_used() -> Self {
        Self::conflict(
            "invitation_already_used",
            "this invitation was already accepted or declined",
        )
    }

    pub fn verification_already_used() -> Self {
        Self::conflict("verification_already_used", "this link was already used")
    }

    pub fn email_already_verified() -> Self {
        Self::conflict(
            "email_already_verified",
            "this email address is already verified",
        )
    }

    /// `message` names the address when the caller may know it.
    pub fn email_taken(message: impl Into<String>) -> Self {
        Self::conflict("email_taken", message)
    }

    pub fn username_taken(message: impl Into<String>) -> Self {
        Self::conflict("username_taken", message)
    }

    pub fn already_member(message: impl Into<String>) -> Self {
        Self::conflict("already_member", message)
    }

    pub fn already_project_member(message: impl Into<String>) -> Self {
        Self::conflict("already_project_member", message)
    }

    pub fn invitation_exists(message: impl Into<String>) -> Self {
        Self::conflict("invitation_exists", message)
    }

    /// A uniqueness or reference violation the store cannot name better.
    pub fn record_conflict(message: impl Into<String>) -> Self {
        Self::conflict("conflict", message)
    }
}

/// Result of every core operation.
pub type Result<T, E = DomainError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_never_show_their_detail() {
        let err = DomainError::Internal("disk full at /var/lib/roster".into());
        assert_eq!(err.kind(), ErrorKind::Internal);
        assert_eq!(err.public_message(), INTERNAL_ERROR_MESSAGE);
        assert_eq!(err.internal_detail(), Some("disk full at /var/lib/roster"));
    }

    #[test]
    fn other_errors_show_their_own_words() {
        let err = DomainError::invalid("limit", "must be from 1 to 1000");
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert_eq!(err.public_message(), "limit: must be from 1 to 1000");
        assert_eq!(err.internal_detail(), None);
    }

    #[test]
    fn each_variant_has_one_kind() {
        let cases = [
            (DomainError::InvalidCredentials, ErrorKind::Unauthenticated),
            (DomainError::SignupClosed, ErrorKind::Forbidden),
            (DomainError::token_scope(), ErrorKind::Forbidden),
            (DomainError::LastOwner, ErrorKind::Conflict),
            (DomainError::invitation_expired(), ErrorKind::Gone),
            (DomainError::org_not_found(), ErrorKind::NotFound),
            (
                DomainError::RateLimited {
                    retry_after_secs: 1,
                },
                ErrorKind::RateLimited,
            ),
        ];
        for (err, kind) in cases {
            assert_eq!(err.kind(), kind, "{err:?}");
        }
    }
}
