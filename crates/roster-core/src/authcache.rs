//! The in-process cache of credential checks: which sessions are live and
//! which API keys are valid, so that a request does not read the database
//! to authenticate (issue 7: this read was on every request).
//!
//! Correctness rules:
//! - Whatever can end a credential — logout, a refresh token's reuse
//!   (which revokes its session), revoking a key, deleting an org (its keys
//!   go with it) — calls `credentials_changed` after its transaction
//!   committed. That empties the cache and bumps a generation counter.
//! - A check that read the database stores its answer only under the
//!   generation seen *before* the read; an entry of an older generation is
//!   never answered. So a check racing a logout can never bring the ended
//!   session back into the cache.
//! - Entries live at most `TTL` (1 s). Another process sharing the database
//!   (several servers on one PostgreSQL) cannot tell this one that a
//!   session ended: there the change takes effect within that second.
//! - Expiry times are cached with the entry and checked on every hit.
//!
//! Only credential validity is cached, never memberships or roles: those
//! are read in each request's own transaction, so removing a member or
//! changing a role needs no invalidation here.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::ids::{ApiKeyId, SessionId, UserId};
use crate::service::ApiKeyGrant;
use crate::time::Timestamp;

/// How long a cached check is answered without reading the database.
pub const TTL: Duration = Duration::from_secs(1);
/// Entries kept at most; beyond it the cache starts afresh (a burst of new
/// credentials costs one database read each, as without a cache).
const CAPACITY: usize = 50_000;

/// A live session, as last read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveSession {
    pub user: UserId,
    pub expires_at: Timestamp,
}

/// A valid API key, as last read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidKey {
    pub id: ApiKeyId,
    pub grant: ApiKeyGrant,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
}

struct Entry<T> {
    value: T,
    generation: u64,
    stored: Instant,
}

/// The cache; one per `Roster`.
pub struct AuthCache {
    ttl: Duration,
    generation: AtomicU64,
    sessions: RwLock<HashMap<SessionId, Entry<LiveSession>>>,
    /// By the key's SHA-256 hash (what the database stores), never the key.
    keys: RwLock<HashMap<String, Entry<ValidKey>>>,
}

impl Default for AuthCache {
    fn default() -> Self {
        Self::with_ttl(TTL)
    }
}

impl AuthCache {
    pub fn with_ttl(ttl: Duration) -> Self {
        Self {
            ttl,
            generation: AtomicU64::new(0),
            sessions: RwLock::default(),
            keys: RwLock::default(),
        }
    }

    /// The generation to pass to `store_*` for a database read that starts
    /// now.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Forgets every cached check; call after committing anything that may
    /// end a session or a key.
    pub fn credentials_changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.sessions
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.keys
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    fn fresh<T>(&self, entry: &Entry<T>) -> bool {
        entry.generation == self.generation() && entry.stored.elapsed() < self.ttl
    }

    /// The session, if a check within the TTL found it live and it has not
    /// expired since.
    pub fn session(&self, id: SessionId, now: Timestamp) -> Option<LiveSession> {
        let sessions = self.sessions.read().unwrap_or_else(PoisonError::into_inner);
        let entry = sessions.get(&id)?;
        (self.fresh(entry) && entry.value.expires_at > now).then_some(entry.value)
    }

    /// Remembers a live session read under `generation`.
    pub fn store_session(&self, id: SessionId, session: LiveSession, generation: u64) {
        store(&self.sessions, id, session, generation, self);
    }

    /// The key with this hash, if a check within the TTL found it valid and
    /// it has not expired since.
    pub fn key(&self, hash: &str, now: Timestamp) -> Option<ValidKey> {
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        let entry = keys.get(hash)?;
        let unexpired = entry.value.expires_at.is_none_or(|at| at > now);
        (self.fresh(entry) && unexpired).then(|| entry.value.clone())
    }

    /// Remembers a valid key read under `generation`.
    pub fn store_key(&self, hash: String, key: ValidKey, generation: u64) {
        store(&self.keys, hash, key, generation, self);
    }
}

fn store<K: std::hash::Hash + Eq, T>(
    map: &RwLock<HashMap<K, Entry<T>>>,
    key: K,
    value: T,
    generation: u64,
    cache: &AuthCache,
) {
    let mut map = map.write().unwrap_or_else(PoisonError::into_inner);
    // Checked under the lock that `credentials_changed` takes to clear: a
    // change that committed after our read has bumped the generation, and
    // the stale answer is dropped.
    if generation != cache.generation() {
        return;
    }
    if map.len() >= CAPACITY {
        map.clear();
    }
    map.insert(
        key,
        Entry {
            value,
            generation,
            stored: Instant::now(),
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::OrgId;

    fn live(now: Timestamp) -> LiveSession {
        LiveSession {
            user: UserId::new(),
            expires_at: Timestamp(now.0 + 60_000),
        }
    }

    #[test]
    fn a_stored_session_is_answered_until_credentials_change() {
        let cache = AuthCache::default();
        let now = Timestamp::now();
        let id = SessionId::new();
        cache.store_session(id, live(now), cache.generation());
        assert!(cache.session(id, now).is_some());
        cache.credentials_changed();
        assert_eq!(cache.session(id, now), None);
    }

    #[test]
    fn a_check_that_raced_a_change_is_not_stored() {
        let cache = AuthCache::default();
        let now = Timestamp::now();
        let id = SessionId::new();
        let before_read = cache.generation();
        // A logout commits while the check reads the database.
        cache.credentials_changed();
        cache.store_session(id, live(now), before_read);
        assert_eq!(cache.session(id, now), None);
    }

    #[test]
    fn entries_expire_after_the_ttl_and_with_their_credential() {
        let cache = AuthCache::with_ttl(Duration::from_millis(20));
        let now = Timestamp::now();
        let id = SessionId::new();
        cache.store_session(id, live(now), cache.generation());
        assert!(cache.session(id, Timestamp(now.0 + 61_000)).is_none());
        std::thread::sleep(Duration::from_millis(30));
        assert!(cache.session(id, now).is_none());
    }

    #[test]
    fn keys_are_found_by_hash_and_dropped_on_revocation() {
        let cache = AuthCache::default();
        let now = Timestamp::now();
        let key = ValidKey {
            id: ApiKeyId::new(),
            grant: ApiKeyGrant {
                org: OrgId::new(),
                scopes: vec![],
                creator: None,
            },
            expires_at: Some(Timestamp(now.0 + 1_000)),
            last_used_at: None,
        };
        cache.store_key("h".into(), key.clone(), cache.generation());
        assert_eq!(cache.key("h", now), Some(key));
        assert_eq!(cache.key("h", Timestamp(now.0 + 1_000)), None, "expired");
        cache.credentials_changed();
        assert_eq!(cache.key("h", now), None);
    }
}
