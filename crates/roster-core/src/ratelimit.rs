//! Fixed-window rate limiting of authentication attempts, per client
//! address and per account. Kept in process memory: with several server
//! instances each enforces its own budget, which bounds the total at
//! instances × budget — acceptable for slowing password guessing, and it
//! keeps the login path free of extra database writes.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::error::DomainError;

const WINDOW_SECS: i64 = 60;

/// Counts events per key in one-minute windows.
#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, (i64, u32)>>,
}

impl RateLimiter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one event for `key`; refuses once `limit` events fell in the
    /// current window.
    pub fn hit(&self, key: &str, limit: u32, now_secs: i64) -> Result<(), DomainError> {
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now_secs - *start < WINDOW_SECS);
        }
        let entry = windows.entry(key.to_string()).or_insert((now_secs, 0));
        if now_secs - entry.0 >= WINDOW_SECS {
            *entry = (now_secs, 0);
        }
        if entry.1 >= limit {
            return Err(DomainError::RateLimited {
                retry_after_secs: retry_after(entry.0, now_secs),
            });
        }
        entry.1 += 1;
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
            Some((start, count)) if now_secs - start < WINDOW_SECS && *count >= limit => {
                Err(DomainError::RateLimited {
                    retry_after_secs: retry_after(*start, now_secs),
                })
            }
            _ => Ok(()),
        }
    }
}

fn retry_after(window_start: i64, now_secs: i64) -> u64 {
    (WINDOW_SECS - (now_secs - window_start)).max(1) as u64
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
    fn check_does_not_count() {
        let limiter = RateLimiter::new();
        for _ in 0..5 {
            limiter.check("acct", 1, 0).unwrap();
        }
        limiter.hit("acct", 1, 0).unwrap();
        assert!(limiter.check("acct", 1, 1).is_err());
    }
}
