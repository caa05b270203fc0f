//! Records: what the store hands back and takes. Values read back from the
//! store were validated on the way in, so text fields are plain strings.

use crate::ids::{
    ApiKeyId, AuditEventId, InvitationId, OrgId, OutboxEmailId, ProjectId, SessionId, UserId,
};
use crate::role::{OrgRole, ProjectRole};
use crate::scope::Scope;
use crate::time::Timestamp;
use crate::types::ResourceStatus;

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    /// Sequential, positive: the Spice-style `user_id`.
    pub number: i64,
    pub email: String,
    pub username: String,
    pub name: String,
    pub email_verified: bool,
    pub status: ResourceStatus,
    pub created_at: Timestamp,
}

/// What it takes to create a user; the store assigns `number`.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub email: String,
    pub username: String,
    pub name: String,
    pub password_hash: Option<String>,
    pub email_verified: bool,
    pub created_at: Timestamp,
}

/// A user together with the password hash, for login only.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: Option<String>,
}

/// A login session: one family of rotating refresh tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// A refresh token as stored (by hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub session_id: SessionId,
    pub used_at: Option<Timestamp>,
}

/// An organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub id: OrgId,
    pub name: String,
    pub description: String,
    pub referral_code: String,
    pub status: ResourceStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One user's membership of one org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub org_id: OrgId,
    pub user_id: UserId,
    pub role: OrgRole,
    /// Extra free role labels (the Spice-style `roles` beyond the base role).
    pub labels: Vec<String>,
    pub created_at: Timestamp,
}

/// A membership joined with its user, as member lists show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user: User,
    pub role: OrgRole,
    pub labels: Vec<String>,
    pub joined_at: Timestamp,
}

/// Filters of a member list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberFilter {
    /// Lowercased substring of email, username or name.
    pub query: Option<String>,
    pub role: Option<OrgRole>,
}

impl MemberFilter {
    /// The filter as the store takes it: the query trimmed and lowercased
    /// (an empty one is none), at most 254 characters (`field` names the
    /// query's parameter in the error).
    pub fn normalized(&self, field: &'static str) -> crate::error::Result<Self> {
        let query = self
            .query
            .as_ref()
            .map(|q| q.trim().to_lowercase())
            .filter(|q| !q.is_empty());
        if query.as_ref().is_some_and(|q| q.chars().count() > 254) {
            return Err(crate::error::DomainError::invalid(
                field,
                "must be at most 254 characters",
            ));
        }
        Ok(Self {
            query,
            role: self.role,
        })
    }
}

/// A project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: ProjectId,
    pub org_id: OrgId,
    pub name: String,
    pub description: String,
    pub status: ResourceStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A project membership joined with its user's email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectMember {
    pub project_id: ProjectId,
    pub user_id: UserId,
    pub email: String,
    pub role: ProjectRole,
    pub created_at: Timestamp,
}

/// Where an invitation is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InvitationStatus {
    Pending,
    Sent,
    Accepted,
    Declined,
    Revoked,
    Expired,
}

impl InvitationStatus {
    pub const ALL: [InvitationStatus; 6] = [
        InvitationStatus::Pending,
        InvitationStatus::Sent,
        InvitationStatus::Accepted,
        InvitationStatus::Declined,
        InvitationStatus::Revoked,
        InvitationStatus::Expired,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            InvitationStatus::Pending => "pending",
            InvitationStatus::Sent => "sent",
            InvitationStatus::Accepted => "accepted",
            InvitationStatus::Declined => "declined",
            InvitationStatus::Revoked => "revoked",
            InvitationStatus::Expired => "expired",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "pending" => InvitationStatus::Pending,
            "sent" => InvitationStatus::Sent,
            "accepted" => InvitationStatus::Accepted,
            "declined" => InvitationStatus::Declined,
            "revoked" => InvitationStatus::Revoked,
            "expired" => InvitationStatus::Expired,
            _ => return None,
        })
    }

    /// Pending and sent invitations are open: they can still be accepted.
    pub fn is_open(&self) -> bool {
        matches!(self, InvitationStatus::Pending | InvitationStatus::Sent)
    }
}

/// An invitation to join an org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: InvitationId,
    pub org_id: OrgId,
    pub email: String,
    pub role: OrgRole,
    pub message: String,
    pub status: InvitationStatus,
    pub project_assignments: Vec<(ProjectId, ProjectRole)>,
    pub token_hash: String,
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Who made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    User(UserId),
    ApiKey(ApiKeyId),
}

impl Actor {
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::User(_) => "user",
            Actor::ApiKey(_) => "api_key",
        }
    }

    pub fn id_string(&self) -> String {
        match self {
            Actor::User(id) => id.to_string(),
            Actor::ApiKey(id) => id.to_string(),
        }
    }
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: AuditEventId,
    pub org_id: OrgId,
    pub actor_type: String,
    pub actor_id: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub summary: String,
    pub request_id: String,
    pub created_at: Timestamp,
}

/// A pending email-verification token (stored by hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailVerification {
    pub user_id: UserId,
    /// The address the token proves (the user's email when it was sent).
    pub email: String,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// An email waiting in (or delivered from) the persistent outbox. It is
/// written in the same transaction as the change that causes it; the
/// delivery worker sends it and records the delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEmail {
    pub id: OutboxEmailId,
    pub to: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    /// The invitation this email carries, marked `sent` once delivered.
    pub invitation_id: Option<InvitationId>,
    pub attempts: u32,
    /// Not before this time; a worker that claims the email pushes it
    /// forward by its lease, so a crashed worker's email is retried.
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

/// Filters of an org's audit log; `None` matches every event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// The acting user's or API key's id, exactly.
    pub actor_id: Option<String>,
    /// The action, exactly (`member.added`, …).
    pub action: Option<String>,
}

/// Filters of an org's invitation list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvitationFilter {
    /// `Expired` matches open invitations past their `expires_at` too.
    pub status: Option<InvitationStatus>,
    /// The time against which expiry is judged.
    pub now: Timestamp,
}

/// An org's API key (the secret itself is never stored: only its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub org_id: OrgId,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// A stored idempotency key: the request it belongs to and, once the first
/// request finished, its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub request_hash: String,
    /// `None` while the first request is still running.
    pub status: Option<u16>,
    /// The answer's body; `None` with a status when it was withheld
    /// because it carried a secret.
    pub response: Option<String>,
    pub created_at: Timestamp,
}
