//! The storage boundary. The core states *what* it reads and writes through
//! the per-aggregate traits gathered in `ReadTx` and `Tx`; each backend
//! says *how* in SQL. Rules are checked by the services inside one `Store::write` transaction, which the backend makes exclusive
//! where it must be (SQLite: one writer taking the write lock up front;
//! PostgreSQL: `lock_org` takes a row lock that serialises every change to
//! one org). Unique and foreign-key violations come back as
//! `DomainError::Conflict`; the core never sees a driver error.

use crate::error::{DomainError, Result};
use crate::ids::{
    ApiKeyId, AuditEventId, InvitationId, OrgId, OutboxEmailId, ProjectId, SessionId, UserId,
};
use crate::model::*;
use crate::role::{OrgRole, ProjectRole};
use crate::time::Timestamp;

// One read trait and one write trait per aggregate, so a service names
// what it touches and a read transaction cannot write (`Store::read` hands
// out a `ReadTx`, which has no write method). `ReadTx` and `Tx` gather
// them; `prelude` brings every method into scope.

/// Server-wide settings (the signing key, …).
pub trait SettingsRead {
    fn setting(&mut self, key: &str) -> Result<Option<String>>;
}

pub trait SettingsWrite {
    /// Inserts unless the key exists (the first writer wins).
    fn insert_setting_if_absent(&mut self, key: &str, value: &str) -> Result<()>;
}

/// Accounts: users, their email verifications, sessions and refresh tokens.
pub trait AccountsRead {
    fn user(&mut self, id: UserId) -> Result<Option<User>>;
    fn user_by_email(&mut self, email: &str) -> Result<Option<User>>;
    fn user_credentials(&mut self, email: &str) -> Result<Option<UserCredentials>>;
    fn user_by_username(&mut self, username: &str) -> Result<Option<User>>;
    fn user_by_number(&mut self, number: i64) -> Result<Option<User>>;
    fn username_taken(&mut self, username: &str) -> Result<bool>;
    /// Accounts whose stored email holds a character outside ASCII: the
    /// only ones an older, looser normalisation can have left in a form
    /// that is not canonical now (see `canonicalize_stored_emails`).
    fn users_with_non_ascii_email(&mut self) -> Result<Vec<(UserId, String)>>;
    fn email_verification(&mut self, hash: &str) -> Result<Option<EmailVerification>>;
    fn session(&mut self, id: SessionId) -> Result<Option<Session>>;
    fn refresh_token(&mut self, hash: &str) -> Result<Option<RefreshToken>>;
}

pub trait AccountsWrite {
    fn insert_user(&mut self, new: &NewUser) -> Result<User>;
    fn set_email_verified(&mut self, id: UserId, at: Timestamp) -> Result<()>;
    /// Deletes an account whose email is not verified and that belongs to
    /// no org (its sessions and verification links go with it); answers
    /// whether it did. A verified account, or one with a membership, stays.
    fn delete_unverified_user(&mut self, id: UserId) -> Result<bool>;
    fn set_user_email(&mut self, id: UserId, email: &str, at: Timestamp) -> Result<()>;
    fn insert_email_verification(
        &mut self,
        hash: &str,
        verification: &EmailVerification,
        at: Timestamp,
    ) -> Result<()>;
    /// Marks an unused token used; answers false when it was already used.
    fn use_email_verification(&mut self, hash: &str, at: Timestamp) -> Result<bool>;
    fn insert_session(&mut self, session: &Session) -> Result<()>;
    fn revoke_session(&mut self, id: SessionId, at: Timestamp) -> Result<()>;
    fn insert_refresh_token(&mut self, hash: &str, session: SessionId, at: Timestamp)
        -> Result<()>;
    /// Marks an unused token used; answers false when it was already used.
    fn use_refresh_token(&mut self, hash: &str, at: Timestamp) -> Result<bool>;
}

/// Organizations and their memberships.
pub trait OrgsRead {
    fn org(&mut self, id: OrgId) -> Result<Option<Org>>;
    /// Reads the org and holds it against concurrent changes until commit.
    /// Only a write transaction can hold it: in a read transaction this is
    /// an `Internal` error. (It sits with the reads so that one
    /// authorisation check serves reads and writes alike.)
    fn lock_org(&mut self, id: OrgId) -> Result<Option<Org>>;
    /// The user's orgs with the user's role, ordered by org id, after `after`.
    fn list_user_orgs(
        &mut self,
        user: UserId,
        after: Option<OrgId>,
        limit: usize,
    ) -> Result<Vec<(Org, OrgRole)>>;
    fn membership(&mut self, org: OrgId, user: UserId) -> Result<Option<Membership>>;
    fn count_owners(&mut self, org: OrgId) -> Result<u64>;
    fn member(&mut self, org: OrgId, user: UserId) -> Result<Option<Member>>;
    /// Members ordered by user id, after `after`.
    fn list_members(
        &mut self,
        org: OrgId,
        filter: &MemberFilter,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<Member>>;
    /// Members ordered by user id, skipping `offset` (page-numbered
    /// surfaces only; keyset pages are preferred).
    fn list_members_offset(
        &mut self,
        org: OrgId,
        filter: &MemberFilter,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Member>>;
}

pub trait OrgsWrite {
    fn insert_org(&mut self, org: &Org) -> Result<()>;
    fn update_org(&mut self, org: &Org) -> Result<()>;
    /// Deletes the org with its memberships, projects and invitations
    /// (its audit events are kept).
    fn delete_org(&mut self, id: OrgId) -> Result<()>;
    fn insert_membership(&mut self, membership: &Membership) -> Result<()>;
    fn update_membership_role(&mut self, org: OrgId, user: UserId, role: OrgRole) -> Result<()>;
    fn update_membership_labels(
        &mut self,
        org: OrgId,
        user: UserId,
        labels: &[String],
    ) -> Result<()>;
    /// Deletes the membership and the user's memberships of the org's projects.
    fn delete_membership(&mut self, org: OrgId, user: UserId) -> Result<()>;
}

/// Projects and project memberships.
pub trait ProjectsRead {
    fn project(&mut self, org: OrgId, id: ProjectId) -> Result<Option<Project>>;
    fn list_projects(
        &mut self,
        org: OrgId,
        after: Option<ProjectId>,
        limit: usize,
    ) -> Result<Vec<Project>>;
    fn project_member(&mut self, project: ProjectId, user: UserId)
        -> Result<Option<ProjectMember>>;
    fn list_project_members(
        &mut self,
        project: ProjectId,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<ProjectMember>>;
}

pub trait ProjectsWrite {
    fn insert_project(&mut self, project: &Project) -> Result<()>;
    fn update_project(&mut self, project: &Project) -> Result<()>;
    fn delete_project(&mut self, org: OrgId, id: ProjectId) -> Result<()>;
    fn insert_project_member(
        &mut self,
        project: ProjectId,
        user: UserId,
        role: ProjectRole,
        at: Timestamp,
    ) -> Result<()>;
    fn update_project_member_role(
        &mut self,
        project: ProjectId,
        user: UserId,
        role: ProjectRole,
    ) -> Result<()>;
    fn delete_project_member(&mut self, project: ProjectId, user: UserId) -> Result<()>;
}

/// Invitations, and the invitation emails counted against rate limits.
pub trait InvitationsRead {
    /// The pending or sent invitation of this address to this org, if any.
    fn open_invitation(&mut self, org: OrgId, email: &str) -> Result<Option<Invitation>>;
    /// Does this address hold a pending or sent invitation, to any org,
    /// that expires after `now`? (Gates signup in invite-only mode.)
    fn has_open_invitation(&mut self, email: &str, now: Timestamp) -> Result<bool>;
    fn invitation(&mut self, id: InvitationId) -> Result<Option<Invitation>>;
    fn invitation_by_token_hash(&mut self, hash: &str) -> Result<Option<Invitation>>;
    /// The org's invitations ordered by id, after `after`.
    fn list_invitations(
        &mut self,
        org: OrgId,
        filter: &InvitationFilter,
        after: Option<InvitationId>,
        limit: usize,
    ) -> Result<Vec<Invitation>>;
    /// Open (pending or sent) invitations of an address that expire after
    /// `now`, ordered by id, after `after`.
    fn list_open_invitations_for_email(
        &mut self,
        email: &str,
        now: Timestamp,
        after: Option<InvitationId>,
        limit: usize,
    ) -> Result<Vec<Invitation>>;
    /// Open invitations of an org, ordered by id, skipping `offset`.
    fn list_open_invitations_offset(
        &mut self,
        org: OrgId,
        now: Timestamp,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Invitation>>;
    /// How many invitation emails an org has queued since `since`.
    fn count_invitation_emails_since(&mut self, org: OrgId, since: Timestamp) -> Result<u64>;
    /// How many invitation emails were queued to `recipient` (from any
    /// org) since `since`, and when the oldest of them was.
    fn count_invitation_emails_to_since(
        &mut self,
        recipient: &str,
        since: Timestamp,
    ) -> Result<(u64, Option<Timestamp>)>;
}

pub trait InvitationsWrite {
    fn insert_invitation(&mut self, invitation: &Invitation) -> Result<()>;
    /// Writes every field of the invitation (status, token hash, role,
    /// message, assignments, expiry), stamped as updated `at`.
    fn update_invitation(&mut self, invitation: &Invitation, at: Timestamp) -> Result<()>;
}

/// An org's API keys.
pub trait ApiKeysRead {
    fn api_key_by_hash(&mut self, hash: &str) -> Result<Option<ApiKey>>;
    fn api_key(&mut self, org: OrgId, id: ApiKeyId) -> Result<Option<ApiKey>>;
    /// The org's keys (revoked ones included), ordered by id.
    fn list_api_keys(
        &mut self,
        org: OrgId,
        after: Option<ApiKeyId>,
        limit: usize,
    ) -> Result<Vec<ApiKey>>;
}

pub trait ApiKeysWrite {
    fn insert_api_key(&mut self, key: &ApiKey, hash: &str) -> Result<()>;
    fn revoke_api_key(&mut self, id: ApiKeyId, at: Timestamp) -> Result<()>;
    fn touch_api_key(&mut self, id: ApiKeyId, at: Timestamp) -> Result<()>;
}

/// The audit log of each org.
pub trait AuditRead {
    /// Newest first, before `before`.
    fn list_audit_events(
        &mut self,
        org: OrgId,
        before: Option<AuditEventId>,
        limit: usize,
    ) -> Result<Vec<AuditEvent>>;
    /// Newest first, before `before`, only the events `filter` matches.
    fn list_audit_events_matching(
        &mut self,
        org: OrgId,
        filter: &AuditFilter,
        before: Option<AuditEventId>,
        limit: usize,
    ) -> Result<Vec<AuditEvent>>;
    /// How many events `actor_id` caused with `action`, in any org, since
    /// `since` (the per-actor budget of direct adds).
    fn count_actor_events_since(
        &mut self,
        actor_id: &str,
        action: &str,
        since: Timestamp,
    ) -> Result<u64>;
}

pub trait AuditWrite {
    fn insert_audit_event(&mut self, event: &AuditEvent) -> Result<()>;
}

/// The persistent mail outbox.
pub trait OutboxRead {
    /// Unsent emails whose `next_attempt_at` is not after `now`, oldest first.
    fn due_outbox_emails(&mut self, now: Timestamp, limit: usize) -> Result<Vec<OutboxEmail>>;
    /// How many emails are not yet delivered.
    fn outbox_backlog(&mut self) -> Result<u64>;
    /// When the oldest not-yet-delivered email was queued (None: none is).
    fn oldest_undelivered_outbox_email(&mut self) -> Result<Option<Timestamp>>;
    /// Emails to one address (or all), newest first.
    fn list_outbox_emails(&mut self, to: Option<&str>, limit: usize) -> Result<Vec<OutboxEmail>>;
}

pub trait OutboxWrite {
    fn insert_outbox_email(&mut self, email: &OutboxEmail) -> Result<()>;
    /// Takes an email for delivery until `lease_until`: answers false when
    /// it was sent or claimed by another worker meanwhile.
    fn claim_outbox_email(
        &mut self,
        id: OutboxEmailId,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<bool>;
    /// Records a delivery; the invitation it carries (if pending) becomes sent.
    fn mark_outbox_email_sent(&mut self, id: OutboxEmailId, at: Timestamp) -> Result<()>;
    /// Records a failed attempt and when to try again.
    fn mark_outbox_email_failed(
        &mut self,
        id: OutboxEmailId,
        attempts: u32,
        next_attempt_at: Timestamp,
        error: &str,
    ) -> Result<()>;
}

/// Idempotency keys: a request's first answer, kept for its retries. Only
/// ever used inside write transactions, so there is no read half.
pub trait IdempotencyWrite {
    /// Inserts an in-flight record unless one exists for (scope, key), in
    /// which case the existing one is answered (and nothing is written).
    fn claim_idempotency_key(
        &mut self,
        scope: &str,
        key: &str,
        request_hash: &str,
        at: Timestamp,
    ) -> Result<Option<IdempotencyRecord>>;
    /// Records the first request's answer: `response` is `None` when the
    /// answer is withheld (it carried a secret); only the status is kept.
    fn complete_idempotency_key(
        &mut self,
        scope: &str,
        key: &str,
        status: u16,
        response: Option<&str>,
    ) -> Result<()>;
    fn delete_idempotency_key(&mut self, scope: &str, key: &str) -> Result<()>;
    /// Deletes records created before `before`; answers how many.
    fn purge_idempotency_keys(&mut self, before: Timestamp) -> Result<u64>;
}

/// Declares a trait that gathers `$part`s, implemented for every type
/// that implements them all.
macro_rules! gather {
    ($(#[$doc:meta])* $name:ident: $($part:ident)+) => {
        $(#[$doc])*
        pub trait $name: $($part +)+ {}
        impl<T: $($part +)+ ?Sized> $name for T {}
    };
}

gather! {
    /// Everything a read-only transaction can do.
    ReadTx: SettingsRead AccountsRead OrgsRead ProjectsRead InvitationsRead ApiKeysRead AuditRead
        OutboxRead
}

gather! {
    /// Everything a read-write transaction can do: every read, and every
    /// write. A `&mut dyn Tx` coerces to a `&mut dyn ReadTx`, so a helper
    /// that only reads takes the latter and serves both kinds of
    /// transaction.
    Tx: ReadTx SettingsWrite AccountsWrite OrgsWrite ProjectsWrite InvitationsWrite ApiKeysWrite
        AuditWrite OutboxWrite IdempotencyWrite
}

/// `use roster_core::store::prelude::*;` brings every store method into
/// scope (trait methods are callable only where their trait is imported).
pub mod prelude {
    pub use super::{
        AccountsRead, AccountsWrite, ApiKeysRead, ApiKeysWrite, AuditRead, AuditWrite,
        IdempotencyWrite, InvitationsRead, InvitationsWrite, OrgsRead, OrgsWrite, OutboxRead,
        OutboxWrite, ProjectsRead, ProjectsWrite, ReadTx, SettingsRead, SettingsWrite, Tx,
    };
}

/// A database: hands out transactions.
pub trait Store: Send + Sync {
    /// Runs `f` in a read-only transaction.
    fn read(&self, f: &mut dyn FnMut(&mut dyn ReadTx) -> Result<()>) -> Result<()>;
    /// Runs `f` in a read-write transaction that commits when `f` answers
    /// `Ok` and rolls back otherwise.
    fn write(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()>;
    /// Answers once the database is reachable.
    fn ping(&self) -> Result<()>;
    /// The backend's name, for logs: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// The connection pools right now, for monitoring.
    fn pool_usage(&self) -> Vec<PoolUsage> {
        Vec::new()
    }
}

/// One connection pool's occupancy at an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolUsage {
    /// Which pool: `writer`, `readers` (SQLite), `primary`, `replica` (PostgreSQL).
    pub pool: &'static str,
    /// Connections handed out to a transaction.
    pub in_use: u32,
    /// Open connections waiting for work.
    pub idle: u32,
    /// The most connections the pool opens.
    pub max: u32,
    /// Transactions run on the pool since the store opened.
    pub transactions: u64,
}

fn finished<T>(out: Option<T>) -> Result<T> {
    out.ok_or_else(|| DomainError::Internal("transaction finished without a result".into()))
}

/// Runs `body` in a read transaction and answers its value. The body gets
/// a `ReadTx`, so a write does not compile:
///
/// ```compile_fail
/// use roster_core::store::{self, prelude::*, Store};
/// fn try_to_write(store: &dyn Store, org: &roster_core::model::Org) {
///     let _ = store::read(store, |tx| tx.insert_org(org));
/// }
/// ```
pub fn read<T>(store: &dyn Store, mut body: impl FnMut(&mut dyn ReadTx) -> Result<T>) -> Result<T> {
    let mut out = None;
    store.read(&mut |tx| body(tx).map(|value| out = Some(value)))?;
    finished(out)
}

/// Runs `body` in a write transaction and answers its value.
pub fn write<T>(store: &dyn Store, mut body: impl FnMut(&mut dyn Tx) -> Result<T>) -> Result<T> {
    let mut out = None;
    store.write(&mut |tx| body(tx).map(|value| out = Some(value)))?;
    finished(out)
}
