//! `SqlTx`: the one implementation of the core's `Tx`, over any backend's
//! `Conn`. Each method forwards to the query functions of `accounts`,
//! `orgs` or `projects`.
//!
//! A failed operation poisons the transaction: every later call answers an
//! error and `Store::write` rolls back even if the closure answers `Ok`.
//! PostgreSQL aborts a transaction at its first failed statement while
//! SQLite carries on; poisoning gives the core the same (stricter) contract
//! on both, so code tested on SQLite cannot silently lose writes on
//! PostgreSQL.

use roster_core::error::{DomainError, Result};
use roster_core::ids::{
    ApiKeyId, AuditEventId, InvitationId, OrgId, OutboxEmailId, ProjectId, SessionId, UserId,
};
use roster_core::model::*;
use roster_core::role::{OrgRole, ProjectRole};
use roster_core::store::Tx;
use roster_core::time::Timestamp;

use super::{
    accounts, api_keys, audit, idempotency, invitations, mail, orgs, projects, Conn, Dialect, Row,
    Value,
};

pub(crate) struct SqlTx<'a> {
    conn: &'a mut dyn Conn,
    failed: bool,
}

impl<'a> SqlTx<'a> {
    pub fn new(conn: &'a mut dyn Conn) -> Self {
        Self {
            conn,
            failed: false,
        }
    }

    /// Whether an operation of this transaction failed (see the module doc).
    pub fn failed(&self) -> bool {
        self.failed
    }

    pub fn dialect(&self) -> Dialect {
        self.conn.dialect()
    }

    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        self.conn.execute(sql, params)
    }

    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        self.conn.query(sql, params)
    }

    /// The first row, if any.
    pub fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        Ok(self.conn.query(sql, params)?.into_iter().next())
    }

    /// The first row of a query that always answers one.
    pub fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row> {
        self.query_opt(sql, params)?
            .ok_or_else(|| DomainError::Internal("query answered no row".into()))
    }

    fn guard<T>(&mut self, op: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if self.failed {
            return Err(DomainError::Internal(
                "the transaction was aborted by an earlier error".into(),
            ));
        }
        let out = op(self);
        if out.is_err() {
            self.failed = true;
        }
        out
    }
}

impl Tx for SqlTx<'_> {
    fn setting(&mut self, key: &str) -> Result<Option<String>> {
        self.guard(|tx| accounts::setting(tx, key))
    }
    fn insert_setting_if_absent(&mut self, key: &str, value: &str) -> Result<()> {
        self.guard(|tx| accounts::insert_setting_if_absent(tx, key, value))
    }

    fn insert_user(&mut self, new: &NewUser) -> Result<User> {
        self.guard(|tx| accounts::insert_user(tx, new))
    }
    fn user(&mut self, id: UserId) -> Result<Option<User>> {
        self.guard(|tx| accounts::user(tx, id))
    }
    fn user_by_email(&mut self, email: &str) -> Result<Option<User>> {
        self.guard(|tx| accounts::user_by_email(tx, email))
    }
    fn user_credentials(&mut self, email: &str) -> Result<Option<UserCredentials>> {
        self.guard(|tx| accounts::user_credentials(tx, email))
    }
    fn user_by_username(&mut self, username: &str) -> Result<Option<User>> {
        self.guard(|tx| accounts::user_by_username(tx, username))
    }
    fn user_by_number(&mut self, number: i64) -> Result<Option<User>> {
        self.guard(|tx| accounts::user_by_number(tx, number))
    }
    fn username_taken(&mut self, username: &str) -> Result<bool> {
        self.guard(|tx| accounts::username_taken(tx, username))
    }
    fn set_email_verified(&mut self, id: UserId) -> Result<()> {
        self.guard(|tx| accounts::set_email_verified(tx, id))
    }
    fn delete_unverified_user(&mut self, id: UserId) -> Result<bool> {
        self.guard(|tx| accounts::delete_unverified_user(tx, id))
    }
    fn users_with_non_ascii_email(&mut self) -> Result<Vec<(UserId, String)>> {
        self.guard(accounts::users_with_non_ascii_email)
    }
    fn set_user_email(&mut self, id: UserId, email: &str, at: Timestamp) -> Result<()> {
        self.guard(|tx| accounts::set_user_email(tx, id, email, at))
    }
    fn insert_email_verification(
        &mut self,
        hash: &str,
        verification: &EmailVerification,
        at: Timestamp,
    ) -> Result<()> {
        self.guard(|tx| mail::insert_email_verification(tx, hash, verification, at))
    }
    fn email_verification(&mut self, hash: &str) -> Result<Option<EmailVerification>> {
        self.guard(|tx| mail::email_verification(tx, hash))
    }
    fn use_email_verification(&mut self, hash: &str, at: Timestamp) -> Result<bool> {
        self.guard(|tx| mail::use_email_verification(tx, hash, at))
    }

    fn insert_session(&mut self, session: &Session) -> Result<()> {
        self.guard(|tx| accounts::insert_session(tx, session))
    }
    fn session(&mut self, id: SessionId) -> Result<Option<Session>> {
        self.guard(|tx| accounts::session(tx, id))
    }
    fn revoke_session(&mut self, id: SessionId, at: Timestamp) -> Result<()> {
        self.guard(|tx| accounts::revoke_session(tx, id, at))
    }
    fn insert_refresh_token(
        &mut self,
        hash: &str,
        session: SessionId,
        at: Timestamp,
    ) -> Result<()> {
        self.guard(|tx| accounts::insert_refresh_token(tx, hash, session, at))
    }
    fn refresh_token(&mut self, hash: &str) -> Result<Option<RefreshToken>> {
        self.guard(|tx| accounts::refresh_token(tx, hash))
    }
    fn use_refresh_token(&mut self, hash: &str, at: Timestamp) -> Result<bool> {
        self.guard(|tx| accounts::use_refresh_token(tx, hash, at))
    }

    fn insert_org(&mut self, org: &Org) -> Result<()> {
        self.guard(|tx| orgs::insert_org(tx, org))
    }
    fn org(&mut self, id: OrgId) -> Result<Option<Org>> {
        self.guard(|tx| orgs::org(tx, id, false))
    }
    fn lock_org(&mut self, id: OrgId) -> Result<Option<Org>> {
        self.guard(|tx| orgs::org(tx, id, true))
    }
    fn update_org(&mut self, org: &Org) -> Result<()> {
        self.guard(|tx| orgs::update_org(tx, org))
    }
    fn delete_org(&mut self, id: OrgId) -> Result<()> {
        self.guard(|tx| orgs::delete_org(tx, id))
    }
    fn list_user_orgs(
        &mut self,
        user: UserId,
        after: Option<OrgId>,
        limit: usize,
    ) -> Result<Vec<(Org, OrgRole)>> {
        self.guard(|tx| orgs::list_user_orgs(tx, user, after, limit))
    }

    fn membership(&mut self, org: OrgId, user: UserId) -> Result<Option<Membership>> {
        self.guard(|tx| orgs::membership(tx, org, user))
    }
    fn insert_membership(&mut self, membership: &Membership) -> Result<()> {
        self.guard(|tx| orgs::insert_membership(tx, membership))
    }
    fn update_membership_role(&mut self, org: OrgId, user: UserId, role: OrgRole) -> Result<()> {
        self.guard(|tx| orgs::update_membership_role(tx, org, user, role))
    }
    fn update_membership_labels(
        &mut self,
        org: OrgId,
        user: UserId,
        labels: &[String],
    ) -> Result<()> {
        self.guard(|tx| orgs::update_membership_labels(tx, org, user, labels))
    }
    fn list_members_offset(
        &mut self,
        org: OrgId,
        filter: &MemberFilter,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Member>> {
        self.guard(|tx| orgs::list_members_offset(tx, org, filter, offset, limit))
    }
    fn insert_api_key(&mut self, key: &ApiKey, hash: &str) -> Result<()> {
        self.guard(|tx| api_keys::insert_api_key(tx, key, hash))
    }
    fn api_key_by_hash(&mut self, hash: &str) -> Result<Option<ApiKey>> {
        self.guard(|tx| api_keys::api_key_by_hash(tx, hash))
    }
    fn api_key(&mut self, org: OrgId, id: ApiKeyId) -> Result<Option<ApiKey>> {
        self.guard(|tx| api_keys::api_key_in_org(tx, org, id))
    }
    fn list_api_keys(
        &mut self,
        org: OrgId,
        after: Option<ApiKeyId>,
        limit: usize,
    ) -> Result<Vec<ApiKey>> {
        self.guard(|tx| api_keys::list_api_keys(tx, org, after, limit))
    }
    fn revoke_api_key(&mut self, id: ApiKeyId, at: Timestamp) -> Result<()> {
        self.guard(|tx| api_keys::revoke_api_key(tx, id, at))
    }
    fn touch_api_key(&mut self, id: ApiKeyId, at: Timestamp) -> Result<()> {
        self.guard(|tx| api_keys::touch_api_key(tx, id, at))
    }
    fn delete_membership(&mut self, org: OrgId, user: UserId) -> Result<()> {
        self.guard(|tx| orgs::delete_membership(tx, org, user))
    }
    fn count_owners(&mut self, org: OrgId) -> Result<u64> {
        self.guard(|tx| orgs::count_owners(tx, org))
    }
    fn member(&mut self, org: OrgId, user: UserId) -> Result<Option<Member>> {
        self.guard(|tx| orgs::member(tx, org, user))
    }
    fn list_members(
        &mut self,
        org: OrgId,
        filter: &MemberFilter,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<Member>> {
        self.guard(|tx| orgs::list_members(tx, org, filter, after, limit))
    }

    fn insert_project(&mut self, project: &Project) -> Result<()> {
        self.guard(|tx| projects::insert_project(tx, project))
    }
    fn project(&mut self, org: OrgId, id: ProjectId) -> Result<Option<Project>> {
        self.guard(|tx| projects::project(tx, org, id))
    }
    fn update_project(&mut self, project: &Project) -> Result<()> {
        self.guard(|tx| projects::update_project(tx, project))
    }
    fn delete_project(&mut self, org: OrgId, id: ProjectId) -> Result<()> {
        self.guard(|tx| projects::delete_project(tx, org, id))
    }
    fn list_projects(
        &mut self,
        org: OrgId,
        after: Option<ProjectId>,
        limit: usize,
    ) -> Result<Vec<Project>> {
        self.guard(|tx| projects::list_projects(tx, org, after, limit))
    }
    fn project_member(
        &mut self,
        project: ProjectId,
        user: UserId,
    ) -> Result<Option<ProjectMember>> {
        self.guard(|tx| projects::project_member(tx, project, user))
    }
    fn insert_project_member(
        &mut self,
        project: ProjectId,
        user: UserId,
        role: ProjectRole,
        at: Timestamp,
    ) -> Result<()> {
        self.guard(|tx| projects::insert_project_member(tx, project, user, role, at))
    }
    fn update_project_member_role(
        &mut self,
        project: ProjectId,
        user: UserId,
        role: ProjectRole,
    ) -> Result<()> {
        self.guard(|tx| projects::update_project_member_role(tx, project, user, role))
    }
    fn delete_project_member(&mut self, project: ProjectId, user: UserId) -> Result<()> {
        self.guard(|tx| projects::delete_project_member(tx, project, user))
    }
    fn list_project_members(
        &mut self,
        project: ProjectId,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<ProjectMember>> {
        self.guard(|tx| projects::list_project_members(tx, project, after, limit))
    }

    fn open_invitation(&mut self, org: OrgId, email: &str) -> Result<Option<Invitation>> {
        self.guard(|tx| invitations::open_invitation(tx, org, email))
    }
    fn has_open_invitation(&mut self, email: &str, now: Timestamp) -> Result<bool> {
        self.guard(|tx| invitations::has_open_invitation(tx, email, now))
    }
    fn insert_invitation(&mut self, invitation: &Invitation) -> Result<()> {
        self.guard(|tx| invitations::insert_invitation(tx, invitation))
    }
    fn update_invitation(&mut self, invitation: &Invitation) -> Result<()> {
        self.guard(|tx| invitations::update_invitation(tx, invitation))
    }
    fn invitation(&mut self, id: InvitationId) -> Result<Option<Invitation>> {
        self.guard(|tx| invitations::invitation(tx, id))
    }
    fn invitation_by_token_hash(&mut self, hash: &str) -> Result<Option<Invitation>> {
        self.guard(|tx| invitations::invitation_by_token_hash(tx, hash))
    }
    fn list_invitations(
        &mut self,
        org: OrgId,
        filter: &InvitationFilter,
        after: Option<InvitationId>,
        limit: usize,
    ) -> Result<Vec<Invitation>> {
        self.guard(|tx| invitations::list_invitations(tx, org, filter, after, limit))
    }
    fn list_open_invitations_for_email(
        &mut self,
        email: &str,
        now: Timestamp,
        after: Option<InvitationId>,
        limit: usize,
    ) -> Result<Vec<Invitation>> {
        self.guard(|tx| invitations::list_open_invitations_for_email(tx, email, now, after, limit))
    }
    fn list_open_invitations_offset(
        &mut self,
        org: OrgId,
        now: Timestamp,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Invitation>> {
        self.guard(|tx| invitations::list_open_invitations_offset(tx, org, now, offset, limit))
    }
    fn count_invitation_emails_since(&mut self, org: OrgId, since: Timestamp) -> Result<u64> {
        self.guard(|tx| invitations::count_invitation_emails_since(tx, org, since))
    }
    fn count_invitation_emails_to_since(
        &mut self,
        recipient: &str,
        since: Timestamp,
    ) -> Result<(u64, Option<Timestamp>)> {
        self.guard(|tx| invitations::count_invitation_emails_to_since(tx, recipient, since))
    }

    fn insert_outbox_email(&mut self, email: &OutboxEmail) -> Result<()> {
        self.guard(|tx| mail::insert_outbox_email(tx, email))
    }
    fn due_outbox_emails(&mut self, now: Timestamp, limit: usize) -> Result<Vec<OutboxEmail>> {
        self.guard(|tx| mail::due_outbox_emails(tx, now, limit))
    }
    fn claim_outbox_email(
        &mut self,
        id: OutboxEmailId,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<bool> {
        self.guard(|tx| mail::claim_outbox_email(tx, id, now, lease_until))
    }
    fn mark_outbox_email_sent(&mut self, id: OutboxEmailId, at: Timestamp) -> Result<()> {
        self.guard(|tx| mail::mark_outbox_email_sent(tx, id, at))
    }
    fn mark_outbox_email_failed(
        &mut self,
        id: OutboxEmailId,
        attempts: u32,
        next_attempt_at: Timestamp,
        error: &str,
    ) -> Result<()> {
        self.guard(|tx| mail::mark_outbox_email_failed(tx, id, attempts, next_attempt_at, error))
    }
    fn outbox_backlog(&mut self) -> Result<u64> {
        self.guard(mail::outbox_backlog)
    }
    fn oldest_undelivered_outbox_email(&mut self) -> Result<Option<Timestamp>> {
        self.guard(mail::oldest_undelivered_outbox_email)
    }
    fn list_outbox_emails(&mut self, to: Option<&str>, limit: usize) -> Result<Vec<OutboxEmail>> {
        self.guard(|tx| mail::list_outbox_emails(tx, to, limit))
    }

    fn claim_idempotency_key(
        &mut self,
        scope: &str,
        key: &str,
        request_hash: &str,
        at: Timestamp,
    ) -> Result<Option<IdempotencyRecord>> {
        self.guard(|tx| idempotency::claim_idempotency_key(tx, scope, key, request_hash, at))
    }
    fn idempotency_key(&mut self, scope: &str, key: &str) -> Result<Option<IdempotencyRecord>> {
        self.guard(|tx| idempotency::idempotency_key(tx, scope, key))
    }
    fn complete_idempotency_key(
        &mut self,
        scope: &str,
        key: &str,
        status: u16,
        response: Option<&str>,
    ) -> Result<()> {
        self.guard(|tx| idempotency::complete_idempotency_key(tx, scope, key, status, response))
    }
    fn delete_idempotency_key(&mut self, scope: &str, key: &str) -> Result<()> {
        self.guard(|tx| idempotency::delete_idempotency_key(tx, scope, key))
    }
    fn purge_idempotency_keys(&mut self, before: Timestamp) -> Result<u64> {
        self.guard(|tx| idempotency::purge_idempotency_keys(tx, before))
    }
    fn insert_audit_event(&mut self, event: &AuditEvent) -> Result<()> {
        self.guard(|tx| audit::insert_audit_event(tx, event))
    }
    fn list_audit_events(
        &mut self,
        org: OrgId,
        before: Option<AuditEventId>,
        limit: usize,
    ) -> Result<Vec<AuditEvent>> {
        self.guard(|tx| audit::list_audit_events(tx, org, before, limit))
    }
    fn count_actor_events_since(
        &mut self,
        actor_id: &str,
        action: &str,
        since: Timestamp,
    ) -> Result<u64> {
        self.guard(|tx| audit::count_actor_events_since(tx, actor_id, action, since))
    }
    fn list_audit_events_matching(
        &mut self,
        org: OrgId,
        filter: &AuditFilter,
        before: Option<AuditEventId>,
        limit: usize,
    ) -> Result<Vec<AuditEvent>> {
        self.guard(|tx| audit::list_audit_events_matching(tx, org, filter, before, limit))
    }
}
