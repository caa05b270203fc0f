//! The services: every command and query of the product, once, for every
//! surface. Each command runs in one store transaction that checks the
//! rule, makes the change and writes its audit event. Services are
//! synchronous (the store is); the HTTP layer runs them on blocking threads.

mod accounts;
mod api_keys;
mod audit;
pub mod authz;
mod idempotency;
mod invitations;
mod members;
mod orgs;
mod projects;

use std::sync::Arc;

pub use accounts::{
    AuthenticatedUser, EmailCanonicalization, NewAccount, OrgAccessToken, TokenPair,
};
pub use api_keys::API_KEY_PREFIX;
pub use audit::AuditEntry;
pub use authz::{authorize, Action, Grant, Holder};
pub use idempotency::{
    parse_idempotency_key, IdempotencyScope, IdempotencyStart, IdempotentAnswer,
    IDEMPOTENCY_WINDOW_SECS,
};
pub use invitations::{effective_status, Invited};
pub use members::{
    AddMemberOutcome, IfMember, MemberChange, MemberRef, NewMember, OwnerPolicy, RoleChangeOutcome,
    RoleSet,
};
pub use orgs::OrgUpdate;
pub use projects::ProjectUpdate;

use crate::authcache::AuthCache;
use crate::crypto::{generate_signing_key, TokenSigner};
use crate::error::{DomainError, Result};
use crate::ids::{AuditEventId, OrgId, SessionId, UserId};
use crate::model::{Actor, AuditEvent};
use crate::ratelimit::{LoginThrottle, RateLimiter};
use crate::scope::Scope;
use crate::store::{self, Store, Tx};
use crate::time::Timestamp;

/// Who may create an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignupMode {
    /// Anyone.
    Open,
    /// Only an address that holds an open invitation.
    InviteOnly,
    /// Nobody (accounts come from `roster user create`).
    Closed,
}

impl SignupMode {
    pub fn parse(raw: &str) -> std::result::Result<Self, String> {
        match raw.trim() {
            "open" => Ok(SignupMode::Open),
            "invite-only" => Ok(SignupMode::InviteOnly),
            "closed" => Ok(SignupMode::Closed),
            other => Err(format!(
                "ROSTER_SIGNUP must be open, invite-only or closed, not {other:?}"
            )),
        }
    }
}

/// The settings the core needs.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    pub invitation_ttl_secs: i64,
    pub signup: SignupMode,
    pub access_token_ttl_secs: i64,
    pub session_ttl_secs: i64,
    /// Signup and login attempts per client address per minute.
    pub auth_rate_per_minute: u32,
    /// Base of the links in emails, e.g. `https://roster.example.com`.
    pub public_url: String,
    /// Invitation emails one org may queue per hour.
    pub invitation_emails_per_hour: u32,
    /// Lifetime of an email-verification link.
    pub verification_ttl_secs: i64,
    /// Invitation emails one address may receive per day, from all orgs
    /// together (counted in the database, so every instance agrees).
    pub invitation_emails_per_recipient_per_day: u32,
    /// Invitation emails one account or API key may cause per hour; also
    /// the people it may add at once (each add mails the person).
    pub invitation_emails_per_account_per_hour: u32,
    /// Organizations one account may create per day.
    pub orgs_per_account_per_day: u32,
}

impl Default for CoreConfig {
    fn default() -> Self {
        Self {
            invitation_ttl_secs: 7 * 86_400,
            signup: SignupMode::Open,
            access_token_ttl_secs: 900,
            session_ttl_secs: 30 * 86_400,
            auth_rate_per_minute: 30,
            public_url: "http://127.0.0.1:8080".to_string(),
            invitation_emails_per_hour: 100,
            verification_ttl_secs: 2 * 86_400,
            invitation_emails_per_recipient_per_day: 5,
            invitation_emails_per_account_per_hour: 50,
            orgs_per_account_per_day: 10,
        }
    }
}

/// Who is calling, and under which request id.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub actor: Actor,
    /// The login session, when the caller presented an access token.
    pub session: Option<SessionId>,
    /// The org and scopes, when the caller presented an API key.
    pub api_key: Option<ApiKeyGrant>,
    /// The one org an org-scoped access token may act in.
    pub org_scope: Option<OrgId>,
    pub request_id: String,
}

/// Which org an endpoint acts in, as its route says: what decides whether
/// an org-scoped access token may call it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteOrg {
    /// The route names an org (`/orgs/{org_id}/…`); `None` when the path
    /// segment is not an org id at all.
    Named(Option<OrgId>),
    /// The surface acts in the credential's own org (the Members API).
    Credential,
    /// The route is about no org (the caller's account, its list of orgs,
    /// invitations to other orgs, the session).
    Unnamed,
}

/// What an API key may do: act in one org, within its scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyGrant {
    pub org: OrgId,
    pub scopes: Vec<Scope>,
    /// The person who created the key (none for keys from before keys
    /// recorded one): the key acts with their authority while they hold it.
    pub creator: Option<UserId>,
}

/// The application: a store, the settings, and the token signer.
pub struct Roster {
    store: Arc<dyn Store>,
    config: CoreConfig,
    signer: TokenSigner,
    limiter: RateLimiter,
    login_throttle: LoginThrottle,
    auth_cache: AuthCache,
    mail_notifier: std::sync::OnceLock<Box<dyn Fn() + Send + Sync>>,
}

const SIGNING_KEY_SETTING: &str = "access_token_signing_key";

impl Roster {
    /// Builds the application. Without a key from the operator, the signing
    /// key is read from the database, generated there on first start, so
    /// that every instance sharing the database shares it.
    pub fn new(
        store: Arc<dyn Store>,
        config: CoreConfig,
        signing_key: Option<Vec<u8>>,
    ) -> Result<Self> {
        let key = match signing_key {
            Some(key) => key,
            None => store::write(&*store, |tx| {
                tx.insert_setting_if_absent(SIGNING_KEY_SETTING, &generate_signing_key())?;
                tx.setting(SIGNING_KEY_SETTING)?
                    .ok_or_else(|| DomainError::Internal("signing key missing after insert".into()))
            })?
            .into_bytes(),
        };
        Ok(Self {
            store,
            config,
            signer: TokenSigner::new(&key),
            limiter: RateLimiter::new(),
            login_throttle: LoginThrottle::new(),
            auth_cache: AuthCache::default(),
            mail_notifier: std::sync::OnceLock::new(),
        })
    }

    /// Registers what to call when an email was queued (the delivery
    /// worker's wake-up), so mail does not wait for the next poll.
    pub fn set_mail_notifier(&self, notify: impl Fn() + Send + Sync + 'static) {
        let _ = self.mail_notifier.set(Box::new(notify));
    }

    /// Wakes the delivery worker; called after the transaction that queued
    /// an email committed, so the worker finds it at once.
    pub(crate) fn mail_queued(&self) {
        if let Some(notify) = self.mail_notifier.get() {
            notify();
        }
    }

    /// Forgets every cached credential check (`authcache`); called after
    /// the commit of anything that may end a session or an API key.
    pub(crate) fn credentials_changed(&self) {
        self.auth_cache.credentials_changed();
    }

    pub fn config(&self) -> &CoreConfig {
        &self.config
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Answers once the database answers.
    pub fn ready(&self) -> Result<()> {
        self.store.ping()
    }
}

/// What an audit event says about its target.
pub(crate) struct Target<'a> {
    pub kind: &'a str,
    pub id: String,
}

/// Writes the audit event of a change, inside the change's transaction.
pub(crate) fn record(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    org: OrgId,
    action: &str,
    target: Target<'_>,
    summary: String,
) -> Result<()> {
    // The log reads newest first by id, so the id must follow the order in
    // which changes commit. Changes to an org run under its lock, so the
    // newest id read here is the last committed one.
    let mut id = AuditEventId::new();
    if let Some(last) = tx.list_audit_events(org, None, 1)?.first() {
        if id <= last.id {
            id = last.id.successor();
        }
    }
    tx.insert_audit_event(&AuditEvent {
        id,
        org_id: org,
        actor_type: ctx.actor.kind().to_string(),
        actor_id: ctx.actor.id_string(),
        action: action.to_string(),
        target_type: target.kind.to_string(),
        target_id: target.id,
        summary,
        request_id: ctx.request_id.clone(),
        created_at: Timestamp::now(),
    })
}
