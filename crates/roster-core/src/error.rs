//! The one error type of the domain. Every surface maps it to a status and
//! body exactly once; the `code()` strings are part of the public contract
//! and are never renamed.

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

impl DomainError {
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
}

/// Result of every core operation.
pub type Result<T, E = DomainError> = std::result::Result<T, E>;
