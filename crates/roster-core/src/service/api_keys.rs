//! API keys: an org's machine credentials. The secret is shown once at
//! creation and stored only as a SHA-256 hash; a key is looked up by that
//! hash, checked for revocation and expiry, and acts as an admin of its own
//! org limited by its scopes.

use crate::authcache::ValidKey;
use crate::crypto::{random_token, token_hash};
use crate::error::{DomainError, Result};
use crate::ids::{ApiKeyId, OrgId};
use crate::model::{Actor, ApiKey};
use crate::pagination::{Page, PageRequest};
use crate::scope::Scope;
use crate::store;
use crate::time::Timestamp;
use crate::types::OrgName;

use super::authz::{authorize, Action};
use super::{record, ApiKeyGrant, Ctx, Roster, Target};

/// Every API key starts with this, so a bearer credential can be told apart
/// from an access token without a lookup.
pub const API_KEY_PREFIX: &str = "rsk_";

/// How often `last_used_at` is written at most: once a minute per key, so
/// a busy key does not turn every read into a write.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

impl Roster {
    /// Creates a key (admin and up); answers it with its secret, which is
    /// never shown again.
    pub fn create_api_key(
        &self,
        ctx: &Ctx,
        org: OrgId,
        name: &str,
        scopes: &[String],
        expires_at: Option<Timestamp>,
    ) -> Result<(ApiKey, String)> {
        // Names follow the org-name rules: 1–100 printable characters.
        let name = OrgName::parse(name)?;
        let scopes = Scope::parse_list(scopes)?;
        let now = Timestamp::now();
        if expires_at.is_some_and(|at| at <= now) {
            return Err(DomainError::invalid("expires_at", "must be in the future"));
        }
        let secret = random_token(API_KEY_PREFIX);
        let key = store::write(&**self.store(), |tx| {
            authorize(tx, ctx, org, Action::CreateApiKey)?;
            let key = ApiKey {
                id: ApiKeyId::new(),
                org_id: org,
                name: name.as_str().to_string(),
                scopes: scopes.clone(),
                created_by: match ctx.actor {
                    Actor::User(user) => Some(user),
                    Actor::ApiKey(_) => None,
                },
                created_at: now,
                last_used_at: None,
                expires_at,
                revoked_at: None,
            };
            tx.insert_api_key(&key, &token_hash(&secret))?;
            let scope_list: Vec<&str> = key.scopes.iter().map(Scope::as_str).collect();
            record(
                tx,
                ctx,
                org,
                "api_key.created",
                Target {
                    kind: "api_key",
                    id: key.id.to_string(),
                },
                format!(
                    "created API key {:?} with {}",
                    key.name,
                    scope_list.join(" ")
                ),
            )?;
            Ok(key)
        })?;
        Ok((key, secret))
    }

    /// The org's keys, revoked ones included (admin and up).
    pub fn list_api_keys(&self, ctx: &Ctx, org: OrgId, page: &PageRequest) -> Result<Page<ApiKey>> {
        let after = page.after_id(ApiKeyId::parse)?;
        let rows = store::read(&**self.store(), |tx| {
            authorize(tx, ctx, org, Action::ListApiKeys)?;
            tx.list_api_keys(org, after, page.fetch_limit())
        })?;
        Ok(page.page(rows, |key| key.id.to_string()))
    }

    /// Revokes a key: it answers 401 from now on (admin and up).
    pub fn revoke_api_key(&self, ctx: &Ctx, org: OrgId, id: ApiKeyId) -> Result<()> {
        let now = Timestamp::now();
        store::write(&**self.store(), |tx| {
            authorize(tx, ctx, org, Action::RevokeApiKey)?;
            let key = tx
                .api_key(org, id)?
                .ok_or_else(DomainError::api_key_not_found)?;
            if key.revoked_at.is_some() {
                return Err(DomainError::api_key_revoked());
            }
            tx.revoke_api_key(id, now)?;
            record(
                tx,
                ctx,
                org,
                "api_key.revoked",
                Target {
                    kind: "api_key",
                    id: id.to_string(),
                },
                format!("revoked API key {:?}", key.name),
            )
        })?;
        self.credentials_changed();
        Ok(())
    }

    /// Turns a presented key into its caller: unknown, revoked or expired
    /// keys are `Unauthenticated`.
    pub fn authenticate_api_key(&self, secret: &str) -> Result<(ApiKeyId, ApiKeyGrant)> {
        if !secret.starts_with(API_KEY_PREFIX) || secret.len() > 200 {
            return Err(DomainError::Unauthenticated);
        }
        let now = Timestamp::now();
        let hash = token_hash(secret);
        if let Some(valid) = self.auth_cache.key(&hash, now) {
            if !last_use_due(valid.last_used_at, now) {
                return Ok((valid.id, valid.grant));
            }
        }
        let generation = self.auth_cache.generation();
        let (key, creator_ok) = store::read(&**self.store(), |tx| {
            let Some(key) = tx.api_key_by_hash(&hash)? else {
                return Ok((None, false));
            };
            let creator_ok = super::authz::key_creator_still_admin(tx, key.org_id, key.created_by)?;
            Ok((Some(key), creator_ok))
        })?;
        let key = key.ok_or(DomainError::Unauthenticated)?;
        if key.revoked_at.is_some() || key.expires_at.is_some_and(|at| at <= now) || !creator_ok {
            return Err(DomainError::Unauthenticated);
        }
        let mut last_used_at = key.last_used_at;
        if last_use_due(last_used_at, now) {
            store::write(&**self.store(), |tx| tx.touch_api_key(key.id, now))?;
            last_used_at = Some(now);
        }
        let grant = ApiKeyGrant {
            org: key.org_id,
            scopes: key.scopes,
            creator: key.created_by,
        };
        self.auth_cache.store_key(
            hash,
            ValidKey {
                id: key.id,
                grant: grant.clone(),
                expires_at: key.expires_at,
                last_used_at,
            },
            generation,
        );
        Ok((key.id, grant))
    }

    /// `authenticate_api_key` answered from the in-process cache alone,
    /// without the database: `None` when the cache cannot tell, or when
    /// `last_used_at` is due for its write (then call
    /// `authenticate_api_key`). A SHA-256 and a map lookup.
    pub fn authenticate_api_key_cached(&self, secret: &str) -> Option<(ApiKeyId, ApiKeyGrant)> {
        if !secret.starts_with(API_KEY_PREFIX) || secret.len() > 200 {
            return None;
        }
        let now = Timestamp::now();
        let valid = self.auth_cache.key(&token_hash(secret), now)?;
        (!last_use_due(valid.last_used_at, now)).then_some((valid.id, valid.grant))
    }
}

/// Whether `last_used_at` should be written now (at most once per
/// `LAST_USED_RESOLUTION_MS`).
fn last_use_due(last_used_at: Option<Timestamp>, now: Timestamp) -> bool {
    last_used_at.is_none_or(|at| now.0 - at.0 >= LAST_USED_RESOLUTION_MS)
}
