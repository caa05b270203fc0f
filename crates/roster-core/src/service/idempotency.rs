//! Idempotency keys: a retry of a write with the same key and the same
//! request within 24 hours gets the first answer again and changes
//! nothing; the same key with another request is refused. The first
//! request claims the key in one insert, so of concurrent retries exactly
//! one runs and the others wait for its answer.
//!
//! A key belongs to an authenticated caller: it is scoped to the principal
//! (the user, or the API key) plus the method and path, so two callers
//! never see each other's answers and a caller whose credential ended
//! (logout, a revoked key) gets nothing replayed — it is not authenticated
//! at all. Taking a `Ctx` is what guarantees that anonymous requests never
//! write a record. An answer that carries a secret (an access or refresh
//! token, an API key) is never stored: its record keeps only the status,
//! and a retry is told so (`Withheld`) instead of being run again.

use crate::crypto::sha256_hex;
use crate::error::{DomainError, Result};
use crate::model::Actor;
use crate::store;
use crate::time::Timestamp;

use super::{Ctx, Roster};

/// How long an answer is kept for replay.
pub const IDEMPOTENCY_WINDOW_SECS: i64 = 24 * 3600;

/// What to do with a request that carries an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyStart {
    /// First use of the key: run the request, then `finish_idempotent`.
    Proceed,
    /// A retry: answer this instead of running it again.
    Replay { status: u16, response: String },
    /// The key was used for another request.
    Reused,
    /// The first request with this key is still running.
    InProgress,
    /// The first request succeeded with `status`, but its answer carried a
    /// secret and was not kept; nothing is run again.
    Withheld { status: u16 },
}

/// Which request an idempotency key is claimed for: who sent it (an
/// authenticated `Ctx`) and where (method and path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyScope(String);

impl IdempotencyScope {
    /// The scope of `ctx`'s `method` on `path` (the path with its ids, so
    /// one org's key never meets another org's request).
    pub fn new(ctx: &Ctx, method: &str, path: &str) -> Self {
        let principal = match ctx.actor {
            Actor::User(user) => format!("user:{user}"),
            Actor::ApiKey(key) => format!("key:{key}"),
        };
        Self(sha256_hex(
            format!("{principal}\n{method} {path}").as_bytes(),
        ))
    }

    /// The scope as stored (a SHA-256 hex digest).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The answer of the first request, as it may be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdempotentAnswer<'a> {
    /// Kept for replay.
    Body(&'a str),
    /// Carries a secret: only the status is kept.
    HoldsSecret,
}

/// Checks the header's value: 1–255 visible ASCII characters.
pub fn parse_idempotency_key(raw: &str) -> Result<&str> {
    let key = raw.trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DomainError::invalid(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        ));
    }
    Ok(key)
}

impl Roster {
    /// Claims `key` for the caller `scope` and request `request_hash`, or
    /// says how to answer a retry.
    pub fn begin_idempotent(
        &self,
        scope: &IdempotencyScope,
        key: &str,
        request_hash: &str,
    ) -> Result<IdempotencyStart> {
        let scope = scope.as_str();
        let key = parse_idempotency_key(key)?;
        let now = Timestamp::now();
        let stale_before = now.plus_secs(-IDEMPOTENCY_WINDOW_SECS);
        store::write(&**self.store(), |tx| {
            let Some(existing) = tx.claim_idempotency_key(scope, key, request_hash, now)? else {
                return Ok(IdempotencyStart::Proceed);
            };
            if existing.created_at < stale_before {
                // Past the window: the key is free again.
                tx.delete_idempotency_key(scope, key)?;
                tx.claim_idempotency_key(scope, key, request_hash, now)?;
                return Ok(IdempotencyStart::Proceed);
            }
            if existing.request_hash != request_hash {
                return Ok(IdempotencyStart::Reused);
            }
            Ok(match (existing.status, existing.response) {
                (Some(status), Some(response)) => IdempotencyStart::Replay { status, response },
                (Some(status), None) => IdempotencyStart::Withheld { status },
                (None, _) => IdempotencyStart::InProgress,
            })
        })
    }

    /// Records the first request's answer for its retries.
    pub fn finish_idempotent(
        &self,
        scope: &IdempotencyScope,
        key: &str,
        status: u16,
        answer: IdempotentAnswer<'_>,
    ) -> Result<()> {
        let key = parse_idempotency_key(key)?;
        let response = match answer {
            IdempotentAnswer::Body(body) => Some(body),
            IdempotentAnswer::HoldsSecret => None,
        };
        store::write(&**self.store(), |tx| {
            tx.complete_idempotency_key(scope.as_str(), key, status, response)
        })
    }

    /// Frees the key after a failure that changed nothing (a 5xx), so a
    /// retry runs again.
    pub fn abandon_idempotent(&self, scope: &IdempotencyScope, key: &str) -> Result<()> {
        let key = parse_idempotency_key(key)?;
        store::write(&**self.store(), |tx| {
            tx.delete_idempotency_key(scope.as_str(), key)
        })
    }

    /// Deletes answers older than the window; answers how many.
    pub fn purge_idempotency_keys(&self) -> Result<u64> {
        let before = Timestamp::now().plus_secs(-IDEMPOTENCY_WINDOW_SECS);
        store::write(&**self.store(), |tx| tx.purge_idempotency_keys(before))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ApiKeyId, UserId};

    fn ctx(actor: Actor) -> Ctx {
        Ctx {
            actor,
            session: None,
            api_key: None,
            org_scope: None,
            request_id: String::new(),
        }
    }

    #[test]
    fn a_scope_is_one_principal_one_method_one_path() {
        let alice = ctx(Actor::User(UserId::new()));
        let bob = ctx(Actor::User(UserId::new()));
        let key = ctx(Actor::ApiKey(ApiKeyId::new()));
        let scope = |ctx: &Ctx, method, path| IdempotencyScope::new(ctx, method, path);
        assert_eq!(scope(&alice, "POST", "/a"), scope(&alice, "POST", "/a"));
        assert_ne!(scope(&alice, "POST", "/a"), scope(&bob, "POST", "/a"));
        assert_ne!(scope(&alice, "POST", "/a"), scope(&key, "POST", "/a"));
        assert_ne!(scope(&alice, "POST", "/a"), scope(&alice, "DELETE", "/a"));
        assert_ne!(scope(&alice, "POST", "/a"), scope(&alice, "POST", "/b"));
    }

    #[test]
    fn keys_are_visible_ascii_up_to_255() {
        assert_eq!(parse_idempotency_key(" abc-123 ").unwrap(), "abc-123");
        assert!(parse_idempotency_key("").is_err());
        assert!(parse_idempotency_key("has space").is_err());
        assert!(parse_idempotency_key(&"k".repeat(256)).is_err());
        assert!(parse_idempotency_key("ключ").is_err());
    }
}
