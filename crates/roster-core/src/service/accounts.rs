//! Accounts: signup, login, rotating refresh tokens, logout, and turning a
//! bearer token back into a caller.

use crate::authcache::LiveSession;
use crate::crypto::{
    dummy_password_hash, hash_password, random_token, token_hash, verify_password, VerifiedAccess,
};
use crate::error::{DomainError, Result};
use crate::ids::{OrgId, SessionId, UserId};
use crate::mail::{link, verification_email};
use crate::model::{Actor, EmailVerification, NewUser, Session, User};
use crate::store;
use crate::time::Timestamp;
use crate::types::{Email, Password, PersonName, ResourceStatus, Username};

use super::{Ctx, Roster, SignupMode};

/// What a successful login or refresh hands out.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

/// A caller proven by an access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthenticatedUser {
    pub user: UserId,
    pub session: SessionId,
    /// The org an org-scoped token is bound to.
    pub org: Option<OrgId>,
}

/// An access token bound to one org, for surfaces whose requests name no
/// org (the Spice-style Members API).
#[derive(Debug, Clone)]
pub struct OrgAccessToken {
    pub access_token: String,
    pub org: OrgId,
    pub expires_in: i64,
}

/// Input of signup and `roster user create`.
#[derive(Debug, Clone)]
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub username: Option<&'a str>,
    pub name: Option<&'a str>,
}

enum RefreshOutcome {
    Rotated(TokenPair, AuthenticatedUser),
    Refused,
    ReuseDetected,
}

/// What `canonicalize_stored_emails` did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EmailCanonicalization {
    /// Accounts whose address was rewritten: (account, stored, canonical).
    pub rewritten: Vec<(UserId, String, String)>,
    /// Accounts whose address was left as stored, and why: its canonical
    /// form belongs to another account, or it no longer parses (a local
    /// part mixing scripts). Their owners cannot log in with it until an
    /// operator resolves it.
    pub left: Vec<(UserId, String, &'static str)>,
}

/// The setting that records that stored emails are in today's canonical
/// form (`Email::parse`), so the data step runs once per database.
const EMAILS_CANONICAL: &str = "emails_canonical_v1";

impl Roster {
    /// Rewrites every stored email to the canonical form `Email::parse`
    /// gives today (NFKC, lowercase, IDNA/punycode domain), once per
    /// database: accounts created before that normalisation may hold a
    /// Unicode domain or a non-NFKC local part that no longer matches
    /// what their owners type. Only addresses with a character outside
    /// ASCII can differ (ASCII ones were already trimmed and lowercased).
    /// `roster serve` runs it at start; answers `None` when it had run.
    pub fn canonicalize_stored_emails(&self) -> Result<Option<EmailCanonicalization>> {
        store::write(&**self.store(), |tx| {
            if tx.setting(EMAILS_CANONICAL)?.is_some() {
                return Ok(None);
            }
            let now = Timestamp::now();
            let mut report = EmailCanonicalization::default();
            for (id, stored) in tx.users_with_non_ascii_email()? {
                let Ok(email) = Email::parse(&stored) else {
                    report
                        .left
                        .push((id, stored, "it is no longer a valid address"));
                    continue;
                };
                if email.as_str() == stored {
                    continue;
                }
                match tx.user_by_email(email.as_str())? {
                    Some(other) if other.id != id => report.left.push((
                        id,
                        stored,
                        "its canonical form belongs to another account",
                    )),
                    _ => {
                        tx.set_user_email(id, email.as_str(), now)?;
                        report
                            .rewritten
                            .push((id, stored, email.as_str().to_string()));
                    }
                }
            }
            tx.insert_setting_if_absent(EMAILS_CANONICAL, "1")?;
            Ok(Some(report))
        })
    }

    /// Creates an account through the public signup, honouring the signup
    /// mode and the per-address rate limit.
    pub fn signup(&self, account: NewAccount<'_>, client: &str) -> Result<User> {
        self.limiter.hit(
            &format!("auth:{client}"),
            self.config.auth_rate_per_minute,
            Timestamp::now().secs(),
        )?;
        let email = Email::parse(account.email)?;
        match self.config.signup {
            SignupMode::Open => {}
            SignupMode::Closed => return Err(DomainError::SignupClosed),
            SignupMode::InviteOnly => {
                let invited = store::read(&**self.store(), |tx| {
                    tx.has_open_invitation(email.as_str(), Timestamp::now())
                })?;
                if !invited {
                    return Err(DomainError::SignupClosed);
                }
            }
        }
        self.create_account(account, false)
    }

    /// Creates an account (signup, or an operator's `roster user create`
    /// with `email_verified` set).
    pub fn create_account(&self, account: NewAccount<'_>, email_verified: bool) -> Result<User> {
        let email = Email::parse(account.email)?;
        let password = Password::parse_new(account.password)?;
        let name = PersonName::parse(account.name.unwrap_or_default())?;
        let chosen = account.username.map(Username::parse).transpose()?;
        // Hash before the transaction: it is the slow part and needs no lock.
        let password_hash = hash_password(&password)?;
        let mut replaced = false;
        let user = store::write(&**self.store(), |tx| {
            replaced = false;
            if let Some(holder) = tx.user_by_email(email.as_str())? {
                // An account that never proved the address does not keep
                // its owner out: the new signup replaces it (see
                // docs/security.md, "Who owns an email address"). A
                // verified account, or one already in an org, stays.
                if holder.email_verified || !tx.delete_unverified_user(holder.id)? {
                    return Err(DomainError::email_taken(
                        "an account with this email already exists",
                    ));
                }
                replaced = true;
            }
            let username = match &chosen {
                Some(username) => {
                    if tx.username_taken(username.as_str())? {
                        return Err(DomainError::username_taken("this username is taken"));
                    }
                    username.clone()
                }
                None => free_username(tx, &email)?,
            };
            let user = tx.insert_user(&NewUser {
                id: UserId::new(),
                email: email.as_str().to_string(),
                username: username.as_str().to_string(),
                name: name.as_str().to_string(),
                password_hash: Some(password_hash.clone()),
                email_verified,
                created_at: Timestamp::now(),
            })?;
            if !email_verified {
                self.queue_verification(tx, &user)?;
            }
            Ok(user)
        })?;
        if replaced {
            // The replaced account's sessions are gone: forget them here too.
            self.credentials_changed();
        }
        if !email_verified {
            self.mail_queued();
        }
        Ok(user)
    }

    /// Writes a verification token and its email, in the caller's transaction.
    fn queue_verification(&self, tx: &mut dyn crate::store::Tx, user: &User) -> Result<()> {
        let now = Timestamp::now();
        let token = random_token("ver_");
        tx.insert_email_verification(
            &token_hash(&token),
            &EmailVerification {
                user_id: user.id,
                email: user.email.clone(),
                expires_at: now.plus_secs(self.config.verification_ttl_secs),
                used_at: None,
            },
            now,
        )?;
        let url = link(&self.config.public_url, "verify-email", &token);
        tx.insert_outbox_email(&verification_email(&user.email, &url))?;
        Ok(())
    }

    /// Proves an address with the token from the verification email.
    pub fn verify_email(&self, token: &str) -> Result<User> {
        let now = Timestamp::now();
        let hash = token_hash(token.trim());
        store::write(&**self.store(), |tx| {
            let not_found = DomainError::verification_not_found;
            let verification = tx.email_verification(&hash)?.ok_or_else(not_found)?;
            if verification.used_at.is_some() {
                return Err(DomainError::verification_already_used());
            }
            let user = tx.user(verification.user_id)?.ok_or_else(not_found)?;
            if verification.expires_at <= now || user.email != verification.email {
                return Err(DomainError::verification_expired());
            }
            tx.use_email_verification(&hash, now)?;
            tx.set_email_verified(user.id, now)?;
            Ok(User {
                email_verified: true,
                ..user
            })
        })
    }

    /// Sends a new verification email to the caller (unless already verified).
    pub fn resend_verification(&self, ctx: &Ctx) -> Result<()> {
        let Actor::User(id) = ctx.actor else {
            return Err(DomainError::Forbidden("API keys have no email address"));
        };
        let now = Timestamp::now();
        self.limiter
            .hit(&format!("verification:{id}"), 5, now.secs())?;
        store::write(&**self.store(), |tx| {
            let user = tx.user(id)?.ok_or(DomainError::Unauthenticated)?;
            if user.email_verified {
                return Err(DomainError::email_already_verified());
            }
            self.queue_verification(tx, &user)
        })?;
        self.mail_queued();
        Ok(())
    }

    /// Checks email and password and opens a session.
    pub fn login(&self, email: &str, password: &str, client: &str) -> Result<TokenPair> {
        let now = Timestamp::now();
        let rate = self.config.auth_rate_per_minute;
        self.limiter
            .hit(&format!("auth:{client}"), rate, now.secs())?;
        let email = Email::parse(email).map_err(|_| DomainError::InvalidCredentials)?;
        // Failed logins slow down the (account, client address) pair that
        // made them, never the account everywhere: a stranger guessing from
        // elsewhere cannot lock the owner out.
        let pair = format!("{email}|{client}");
        self.login_throttle.check(&pair, now.millis())?;
        let password = Password::parse_presented(password)?;

        let credentials = store::read(&**self.store(), |tx| tx.user_credentials(email.as_str()))?;
        let phc = credentials
            .as_ref()
            .and_then(|c| c.password_hash.as_deref())
            .unwrap_or_else(|| dummy_password_hash());
        let password_ok = verify_password(&password, phc);
        let user = match credentials {
            Some(c) if password_ok && c.password_hash.is_some() => c.user,
            _ => {
                self.login_throttle.failed(&pair, Timestamp::now().millis());
                return Err(DomainError::InvalidCredentials);
            }
        };
        self.login_throttle.succeeded(&pair);
        if user.status != ResourceStatus::Active {
            return Err(DomainError::Forbidden("this account is not active"));
        }
        let session = Session {
            id: SessionId::new(),
            user_id: user.id,
            created_at: now,
            expires_at: now.plus_secs(self.config.session_ttl_secs),
            revoked_at: None,
        };
        let refresh_token = random_token("rt_");
        store::write(&**self.store(), |tx| {
            tx.insert_session(&session)?;
            tx.insert_refresh_token(&token_hash(&refresh_token), session.id, now)
        })?;
        Ok(self.token_pair(user.id, session.id, refresh_token, now))
    }

    fn token_pair(
        &self,
        user: UserId,
        session: SessionId,
        refresh_token: String,
        now: Timestamp,
    ) -> TokenPair {
        TokenPair {
            access_token: self.signer.issue(
                user,
                session,
                None,
                now.secs(),
                self.config.access_token_ttl_secs,
            ),
            refresh_token,
            expires_in: self.config.access_token_ttl_secs,
        }
    }

    /// Exchanges a refresh token for a new pair. The old token dies; a dead
    /// token presented again revokes its whole session (it was stolen, or
    /// the legitimate holder's copy was).
    pub fn refresh(&self, refresh_token: &str) -> Result<TokenPair> {
        self.refresh_session(refresh_token).map(|(pair, _)| pair)
    }

    /// [`Roster::refresh`], answering also who the new access token
    /// proves (what the console's session cookie needs).
    pub fn refresh_session(&self, refresh_token: &str) -> Result<(TokenPair, AuthenticatedUser)> {
        let now = Timestamp::now();
        let hash = token_hash(refresh_token.trim());
        let outcome = store::write(&**self.store(), |tx| {
            let Some(stored) = tx.refresh_token(&hash)? else {
                return Ok(RefreshOutcome::Refused);
            };
            let Some(session) = tx.session(stored.session_id)? else {
                return Ok(RefreshOutcome::Refused);
            };
            if session.revoked_at.is_some() || session.expires_at <= now {
                return Ok(RefreshOutcome::Refused);
            }
            if !tx.use_refresh_token(&hash, now)? {
                tx.revoke_session(session.id, now)?;
                return Ok(RefreshOutcome::ReuseDetected);
            }
            match tx.user(session.user_id)? {
                Some(user) if user.status == ResourceStatus::Active => {}
                _ => return Ok(RefreshOutcome::Refused),
            }
            let next = random_token("rt_");
            tx.insert_refresh_token(&token_hash(&next), session.id, now)?;
            let pair = self.token_pair(session.user_id, session.id, next, now);
            let proven = AuthenticatedUser {
                user: session.user_id,
                session: session.id,
                org: None,
            };
            Ok(RefreshOutcome::Rotated(pair, proven))
        })?;
        match outcome {
            RefreshOutcome::Rotated(pair, proven) => Ok((pair, proven)),
            RefreshOutcome::Refused => Err(DomainError::Unauthenticated),
            RefreshOutcome::ReuseDetected => {
                // The session was revoked: its access tokens stop at once.
                self.credentials_changed();
                Err(DomainError::Unauthenticated)
            }
        }
    }

    /// Ends the caller's session (and, if given, the session of a refresh
    /// token of the same user): both tokens stop working at once.
    pub fn logout(&self, ctx: &Ctx, refresh_token: Option<&str>) -> Result<()> {
        let now = Timestamp::now();
        let Actor::User(user) = ctx.actor else {
            return Err(DomainError::Forbidden("only a logged-in user can log out"));
        };
        store::write(&**self.store(), |tx| {
            if let Some(session) = ctx.session {
                tx.revoke_session(session, now)?;
            }
            if let Some(token) = refresh_token {
                if let Some(stored) = tx.refresh_token(&token_hash(token.trim()))? {
                    if tx
                        .session(stored.session_id)?
                        .is_some_and(|s| s.user_id == user)
                    {
                        tx.revoke_session(stored.session_id, now)?;
                    }
                }
            }
            Ok(())
        })?;
        self.credentials_changed();
        Ok(())
    }

    /// Turns an access token into its caller: the signature and expiry must
    /// hold, and the session must still be live (logout is immediate).
    pub fn authenticate_access_token(&self, token: &str) -> Result<AuthenticatedUser> {
        let now = Timestamp::now();
        let VerifiedAccess { user, session, org } = self.signer.verify(token, now.secs())?;
        if self
            .auth_cache
            .session(session, now)
            .is_some_and(|s| s.user == user)
        {
            return Ok(AuthenticatedUser { user, session, org });
        }
        let generation = self.auth_cache.generation();
        let live = store::read(&**self.store(), |tx| {
            let Some(stored) = tx.session(session)? else {
                return Ok(None);
            };
            if stored.user_id != user || stored.revoked_at.is_some() || stored.expires_at <= now {
                return Ok(None);
            }
            let active = tx
                .user(user)?
                .is_some_and(|u| u.status == ResourceStatus::Active);
            Ok(active.then_some(stored.expires_at))
        })?;
        let Some(expires_at) = live else {
            return Err(DomainError::Unauthenticated);
        };
        self.auth_cache
            .store_session(session, LiveSession { user, expires_at }, generation);
        Ok(AuthenticatedUser { user, session, org })
    }

    /// `authenticate_access_token` answered from the in-process cache
    /// alone, without the database: `None` when the cache cannot tell
    /// (then call `authenticate_access_token`). Cheap enough for an async
    /// context: an HMAC check and a map lookup.
    pub fn authenticate_access_token_cached(&self, token: &str) -> Option<AuthenticatedUser> {
        let now = Timestamp::now();
        let VerifiedAccess { user, session, org } = self.signer.verify(token, now.secs()).ok()?;
        let live = self.auth_cache.session(session, now)?;
        (live.user == user).then_some(AuthenticatedUser { user, session, org })
    }

    /// An access token of the caller's session that acts in `org` only.
    /// Any member of the org may have one (it carries the member's own
    /// role, nothing more); it expires with the usual access-token lifetime.
    pub fn issue_org_access_token(&self, ctx: &Ctx, org: OrgId) -> Result<OrgAccessToken> {
        store::read(&**self.store(), |tx| {
            super::authorize(tx, ctx, org, super::Action::IssueOrgToken)
        })?;
        let (Actor::User(user), Some(session)) = (ctx.actor, ctx.session) else {
            return Err(DomainError::Forbidden(
                "only a logged-in user can have an org access token",
            ));
        };
        let now = Timestamp::now();
        let ttl = self.config.access_token_ttl_secs;
        Ok(OrgAccessToken {
            access_token: self.signer.issue(user, session, Some(org), now.secs(), ttl),
            org,
            expires_in: ttl,
        })
    }

    /// The caller's own account.
    pub fn me(&self, ctx: &Ctx) -> Result<User> {
        let Actor::User(user) = ctx.actor else {
            return Err(DomainError::Forbidden("API keys have no user account"));
        };
        store::read(&**self.store(), |tx| tx.user(user))?.ok_or(DomainError::Unauthenticated)
    }
}

/// The email's local part as a username, with a short random suffix when
/// that is taken.
fn free_username(tx: &mut dyn crate::store::Tx, email: &Email) -> Result<Username> {
    let base = Username::suggest_from(email);
    if !tx.username_taken(base.as_str())? {
        return Ok(base);
    }
    for _ in 0..8 {
        let suffix = &random_token("")[..6]
            .to_ascii_lowercase()
            .replace(['_', '-'], "x");
        let candidate = base.with_suffix(suffix);
        if !tx.username_taken(candidate.as_str())? {
            return Ok(candidate);
        }
    }
    Err(DomainError::username_taken(
        "could not find a free username; choose one",
    ))
}
