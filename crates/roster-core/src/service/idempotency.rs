//! Idempotency keys: a retry of a write with the same key and the same
//! request within 24 hours gets the first answer again and changes
//! nothing; the same key with another request is refused. The first
//! request claims the key in one insert, so of concurrent retries exactly
//! one runs and the others wait for its answer.

use crate::error::{DomainError, Result};
use crate::store;
use crate::time::Timestamp;

use super::Roster;

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
        scope: &str,
        key: &str,
        request_hash: &str,
    ) -> Result<IdempotencyStart> {
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
                (Some(status), response) => IdempotencyStart::Replay {
                    status,
                    response: response.unwrap_or_default(),
                },
                (None, _) => IdempotencyStart::InProgress,
            })
        })
    }

    /// Records the first request's answer for its retries.
    pub fn finish_idempotent(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        response: &str,
    ) -> Result<()> {
        let key = parse_idempotency_key(key)?;
        store::write(&**self.store(), |tx| {
            tx.complete_idempotency_key(scope, key, status, response)
        })
    }

    /// Frees the key after a failure that changed nothing (a 5xx), so a
    /// retry runs again.
    pub fn abandon_idempotent(&self, scope: &str, key: &str) -> Result<()> {
        let key = parse_idempotency_key(key)?;
        store::write(&**self.store(), |tx| tx.delete_idempotency_key(scope, key))
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

    #[test]
    fn keys_are_visible_ascii_up_to_255() {
        assert_eq!(parse_idempotency_key(" abc-123 ").unwrap(), "abc-123");
        assert!(parse_idempotency_key("").is_err());
        assert!(parse_idempotency_key("has space").is_err());
        assert!(parse_idempotency_key(&"k".repeat(256)).is_err());
        assert!(parse_idempotency_key("ключ").is_err());
    }
}
