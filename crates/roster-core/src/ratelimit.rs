//! Rate limiting kept in process memory: fixed windows per key (signups
//! and logins per client address, invitations per account per hour, orgs
//! per account per day), and the failed-login throttle per (account,
//! client address). With several server instances each enforces its own
//! budget, which bounds the total at instances × budget — acceptable for
//! slowing abuse, and it keeps these paths free of extra database writes.
//! The limit that must hold across instances (invitation emails per
//! recipient per day) is counted in the database instead
//! (`service/invitations.rs`).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::error::DomainError;

const WINDOW_SECS: i64 = 60;

/// Counts events per key in fixed windows (one minute unless told).
#[derive(Debug, Default)]
pub struct RateLimiter {
    /// key → (window start, window length, events in it), in seconds.
    windows: Mutex<HashMap<String, (i64, i64, u32)>>,
}

impl RateLimiter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one event for `key` in one-minute windows; refuses once
    /// `limit` events fell in the current window.
    pub fn hit(&self, key: &str, limit: u32, now_secs: i64) -> Result<(), DomainError> {
        self.hit_in_window(key, limit, WINDOW_SECS, now_secs)
    }

    /// Counts one event for `key` in windows of `window_secs`; refuses once
    /// `limit` events fell in the current window, telling when it ends.
    pub fn hit_in_window(
        &self,
        key: &str,
        limit: u32,
        window_secs: i64,
        now_secs: i64,
    ) -> Result<(), DomainError> {
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, (start, length, _)| now_secs - *start < *length);
        }
        let entry = windows
            .entry(key.to_string())
            .or_insert((now_secs, window_secs, 0));
        if now_secs - entry.0 >= entry.1 {
            *entry = (now_secs, window_secs, 0);
        }
        if entry.2 >= limit {
            return Err(DomainError::RateLimited {
                retry_after_secs: (entry.1 - (now_secs - entry.0)).max(1) as u64,
            });
        }
        entry.2 += 1;
        Ok(())
    }

    /// Refuses if `key` already reached `limit` in the current window,
    /// without counting an event.
    pub fn check(&self, key: &str, limit: u32, now_secs: i64) -> Result<(), DomainError> {
        let windows = self
            .windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match windows.get(key) {
            Some((start, length, count)) if now_secs - start < *length && *count >= limit => {
                Err(DomainError::RateLimited {
                    retry_after_secs: (length - (now_secs - start)).max(1) as u64,
                })
            }
            _ => Ok(()),
        }
    }
}

/// Failed logins that cost nothing extra, per (account, client address).
const FREE_FAILURES: u32 = 3;
/// The first delay after the free failures; it doubles with each failure.
const FIRST_DELAY_SECS: i64 = 1;
/// The longest delay.
const MAX_DELAY_SECS: i64 = 15 * 60;
/// A pair with no failure for this long is forgotten.
const FORGET_AFTER_SECS: i64 = 24 * 3600;

/// Slows password guessing without letting a stranger lock the owner
/// out: failures are counted per (account, client address), and past a
/// few free ones each failure makes that pair wait twice as long before
/// its next attempt (1 s, 2 s, 4 s, … up to 15 minutes). Other clients —
/// the owner at their own address — are never delayed by it, and a
/// successful login from the client resets its count.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    /// key → (failures, not before, last failure), in milliseconds: a wait
    /// of one second must last a second, not until the clock's next second.
    pairs: Mutex<HashMap<String, (u32, i64, i64)>>,
}

impl LoginThrottle {
    pub fn new() -> Self {
        Self::default()
    }

    /// Refuses while the pair must still wait, telling how long (whole
    /// seconds, rounded up).
    pub fn check(&self, key: &str, now_ms: i64) -> Result<(), DomainError> {
        let pairs = self.pairs.lock().unwrap_or_else(|p| p.into_inner());
        match pairs.get(key) {
            Some((_, not_before, _)) if *not_before > now_ms => Err(DomainError::RateLimited {
                retry_after_secs: ((not_before - now_ms + 999) / 1000) as u64,
            }),
            _ => Ok(()),
        }
    }

    /// Counts a failed attempt and sets the pair's next allowed time, from
    /// when the attempt failed (after its password check).
    pub fn failed(&self, key: &str, now_ms: i64) {
        const FORGET_AFTER_MS: i64 = FORGET_AFTER_SECS * 1000;
        let mut pairs = self.pairs.lock().unwrap_or_else(|p| p.into_inner());
        if pairs.len() > 100_000 {
            // Forget the stale pairs; if that is not enough (failures from
            // very many addresses), keep only those made to wait now, so
            // the map stays bounded whatever an attacker sends.
            pairs.retain(|_, (_, not_before, last)| {
                now_ms - *last < FORGET_AFTER_MS || *not_before > now_ms
            });
            if pairs.len() > 100_000 {
                pairs.retain(|_, (_, not_before, _)| *not_before > now_ms);
            }
        }
        let entry = pairs.entry(key.to_string()).or_insert((0, 0, now_ms));
        if now_ms - entry.2 >= FORGET_AFTER_MS {
            *entry = (0, 0, now_ms);
        }
        entry.0 = entry.0.saturating_add(1);
        entry.2 = now_ms;
        if entry.0 > FREE_FAILURES {
            let doublings = (entry.0 - FREE_FAILURES - 1).min(20);
            let delay = (FIRST_DELAY_SECS << doublings).min(MAX_DELAY_SECS);
            entry.1 = now_ms + delay * 1000;
        }
    }

    /// A successful login from the client: its count starts over.
    pub fn succeeded(&self, key: &str) {
        self.pairs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_refused_after_its_limit_until_the_window_ends() {
        let limiter = RateLimiter::new();
        for _ in 0..3 {
            limiter.hit("ip:1", 3, 100).unwrap();
        }
        let err = limiter.hit("ip:1", 3, 110).unwrap_err();
        assert!(matches!(
            err,
            DomainError::RateLimited {
                retry_after_secs: 50
            }
        ));
        assert!(
            limiter.hit("ip:2", 3, 110).is_ok(),
            "other keys are independent"
        );
        assert!(limiter.hit("ip:1", 3, 160).is_ok(), "a new window starts");
    }

    #[test]
    fn longer_windows_tell_when_they_end() {
        let limiter = RateLimiter::new();
        limiter.hit_in_window("orgs:u", 2, 86_400, 0).unwrap();
        limiter.hit_in_window("orgs:u", 2, 86_400, 10).unwrap();
        let err = limiter.hit_in_window("orgs:u", 2, 86_400, 100).unwrap_err();
        assert!(matches!(
            err,
            DomainError::RateLimited {
                retry_after_secs: 86_300
            }
        ));
        assert!(limiter.hit_in_window("orgs:u", 2, 86_400, 86_400).is_ok());
    }

    #[test]
    fn failed_logins_back_off_exponentially_per_pair_and_success_resets() {
        let throttle = LoginThrottle::new();
        for _ in 0..FREE_FAILURES {
            throttle.check("acct|a", 0).unwrap();
            throttle.failed("acct|a", 0);
        }
        throttle.check("acct|a", 0).unwrap();
        throttle.failed("acct|a", 0); // 4th: wait 1 s
        assert!(throttle.check("acct|a", 0).is_err());
        assert!(
            throttle.check("acct|a", 999).is_err(),
            "a wait of one second lasts a second"
        );
        throttle.check("acct|a", 1000).unwrap();
        throttle.failed("acct|a", 1000); // 5th: wait 2 s
        let Err(DomainError::RateLimited { retry_after_secs }) = throttle.check("acct|a", 1000)
        else {
            panic!("not throttled");
        };
        assert_eq!(retry_after_secs, 2);
        assert!(
            throttle.check("acct|b", 1000).is_ok(),
            "another client is free"
        );
        for _ in 0..40 {
            throttle.failed("acct|a", 10_000);
        }
        let Err(DomainError::RateLimited { retry_after_secs }) = throttle.check("acct|a", 10_000)
        else {
            panic!("not throttled");
        };
        assert_eq!(retry_after_secs, MAX_DELAY_SECS as u64, "capped");
        throttle.succeeded("acct|a");
        assert!(throttle.check("acct|a", 10_000).is_ok(), "success resets");
    }

    #[test]
    fn check_does_not_count() {
        let limiter = RateLimiter::new();
        for _ in 0..5 {
            limiter.check("acct", 1, 0).unwrap();
        }
        limiter.hit("acct", 1, 0).unwrap();
        assert!(limiter.check("acct", 1, 1).is_err());
    }
}
