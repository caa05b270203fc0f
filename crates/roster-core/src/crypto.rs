//! Secrets: password hashing (Argon2id), random tokens stored only as
//! SHA-256 hashes, and the signed access tokens (compact JWS, HS256).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::DomainError;
use crate::ids::{OrgId, SessionId, UserId};
use crate::types::Password;

/// Argon2id with OWASP's recommended minimum: 19 MiB, 2 passes, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant Argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Bounds how many Argon2 computations run at once (`hashing_capacity`).
/// Each takes 19 MiB and a core for tens of milliseconds; a burst of
/// signups or logins would otherwise run hundreds at once, exhausting
/// memory and starving every other request. Extra callers wait their turn.
struct HashingPermits {
    available: std::sync::Mutex<usize>,
    freed: std::sync::Condvar,
}

static HASHING: std::sync::OnceLock<HashingPermits> = std::sync::OnceLock::new();

struct Permit(&'static HashingPermits);

impl Drop for Permit {
    fn drop(&mut self) {
        *self.0.available.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.0.freed.notify_one();
    }
}

/// How many password hashes may run at once: one per core but one, so
/// that a burst of logins always leaves a core to every other request
/// (on a single core, one).
pub fn hashing_capacity() -> usize {
    static CAPACITY: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CAPACITY.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .saturating_sub(1)
            .max(1)
    })
}

/// The turns at password work for async callers (the HTTP adapters), with
/// the same capacity as the permits below. A request that must hash waits
/// for a turn here *before* it takes a blocking thread: hundreds of
/// concurrent logins then wait as cheap futures, instead of filling
/// Tokio's blocking pool with threads parked on the permits below — which
/// made every other request, needing a blocking thread for its database
/// call, queue behind them.
pub fn password_work_turns() -> &'static std::sync::Arc<tokio::sync::Semaphore> {
    static TURNS: std::sync::OnceLock<std::sync::Arc<tokio::sync::Semaphore>> =
        std::sync::OnceLock::new();
    TURNS.get_or_init(|| std::sync::Arc::new(tokio::sync::Semaphore::new(hashing_capacity())))
}

/// Waits, as a future, for a turn at password work (see
/// `password_work_turns`); the turn lasts as long as the permit.
pub async fn password_work_turn() -> Result<tokio::sync::OwnedSemaphorePermit, DomainError> {
    password_work_turns()
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| DomainError::Internal("password work turns closed".into()))
}

fn with_hashing_permit<T>(work: impl FnOnce() -> T) -> T {
    let permits = HASHING.get_or_init(|| HashingPermits {
        available: std::sync::Mutex::new(hashing_capacity()),
        freed: std::sync::Condvar::new(),
    });
    let _permit = {
        let mut available = permits.available.lock().unwrap_or_else(|e| e.into_inner());
        while *available == 0 {
            available = permits
                .freed
                .wait(available)
                .unwrap_or_else(|e| e.into_inner());
        }
        *available -= 1;
        Permit(permits)
    };
    work()
}

/// Hashes a password into a PHC string.
pub fn hash_password(password: &Password) -> Result<String, DomainError> {
    with_hashing_permit(|| hash_password_now(password))
}

fn hash_password_now(password: &Password) -> Result<String, DomainError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| DomainError::Internal(format!("password hashing failed: {e}")))
}

/// Checks a password against a stored PHC string, in constant time.
pub fn verify_password(password: &Password, phc: &str) -> bool {
    with_hashing_permit(|| verify_password_now(password, phc))
}

fn verify_password_now(password: &Password, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => argon2()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A PHC hash of a password nobody knows: verified against when the account
/// does not exist, so that a login takes as long either way.
pub fn dummy_password_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_password(&Password::parse_new("no account has this password").expect("valid"))
            .unwrap_or_default()
    })
}

/// A fresh random secret of 256 bits, base64url without padding, with a
/// short prefix naming its kind (`rt_` refresh, `inv_` invitation, …).
pub fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The hash under which a token is stored (hex SHA-256). Lookups are by
/// this hash, so comparison never touches the secret itself.
pub fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// Hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for byte in digest {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// A fresh 256-bit signing key, base64url.
pub fn generate_signing_key() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    /// The user.
    pub sub: String,
    /// The session the token belongs to; logging out kills it.
    pub sid: String,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expires at, seconds since the epoch.
    pub exp: i64,
    /// The org an org-scoped token is bound to (absent: any org of the user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
}

/// What a verified access token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedAccess {
    pub user: UserId,
    pub session: SessionId,
    pub org: Option<OrgId>,
}

/// Signs and verifies access tokens with one HMAC-SHA256 key.
#[derive(Clone)]
pub struct TokenSigner {
    key: Vec<u8>,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSigner(<key redacted>)")
    }
}

const JWT_HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"; // {"alg":"HS256","typ":"JWT"}

impl TokenSigner {
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts keys of any length")
    }

    /// Issues a token for a session, valid for `ttl_secs` from `now_secs`;
    /// with `org`, the token acts in that org only.
    pub fn issue(
        &self,
        user: UserId,
        session: SessionId,
        org: Option<OrgId>,
        now_secs: i64,
        ttl_secs: i64,
    ) -> String {
        let claims = AccessClaims {
            sub: user.to_string(),
            sid: session.to_string(),
            iat: now_secs,
            exp: now_secs + ttl_secs,
            org: org.map(|o| o.to_string()),
        };
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
        let signing_input = format!("{JWT_HEADER}.{payload}");
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{signature}")
    }

    /// Verifies the signature (in constant time) and expiry; answers the
    /// user, session and org the token names.
    pub fn verify(&self, token: &str, now_secs: i64) -> Result<VerifiedAccess, DomainError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(DomainError::Unauthenticated);
        };
        if header != JWT_HEADER {
            return Err(DomainError::Unauthenticated);
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| DomainError::Unauthenticated)?;
        let mut mac = self.mac();
        mac.update(header.as_bytes());
        mac.update(b".");
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature)
            .map_err(|_| DomainError::Unauthenticated)?;
        let claims: AccessClaims = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(DomainError::Unauthenticated)?;
        if claims.exp <= now_secs {
            return Err(DomainError::Unauthenticated);
        }
        let user = UserId::parse(&claims.sub).map_err(|_| DomainError::Unauthenticated)?;
        let session = SessionId::parse(&claims.sid).map_err(|_| DomainError::Unauthenticated)?;
        let org = claims
            .org
            .as_deref()
            .map(OrgId::parse)
            .transpose()
            .map_err(|_| DomainError::Unauthenticated)?;
        Ok(VerifiedAccess { user, session, org })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let password = Password::parse_new("correct horse battery").unwrap();
        let hash = hash_password(&password).unwrap();
        // Argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password(&password, &hash));
        assert!(!verify_password(
            &Password::parse_new("wrong horse battery").unwrap(),
            &hash
        ));
        assert!(!verify_password(&password, "not a phc string"));
    }

    #[test]
    fn tokens_are_random_and_hashes_are_stable() {
        let a = random_token("rt_");
        let b = random_token("rt_");
        assert_ne!(a, b);
        assert!(a.len() >= 3 + 43);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
    }

    #[test]
    fn access_tokens_verify_until_they_expire() {
        let signer = TokenSigner::new(b"key");
        let (user, session) = (UserId::new(), SessionId::new());
        let token = signer.issue(user, session, None, 1_000, 60);
        assert_eq!(
            signer.verify(&token, 1_059).unwrap(),
            VerifiedAccess {
                user,
                session,
                org: None
            }
        );
        let org = OrgId::new();
        let scoped = signer.issue(user, session, Some(org), 1_000, 60);
        assert_eq!(signer.verify(&scoped, 1_001).unwrap().org, Some(org));
        assert!(signer.verify(&token, 1_060).is_err());
    }

    #[test]
    fn tampered_or_foreign_tokens_are_refused() {
        let signer = TokenSigner::new(b"key");
        let token = signer.issue(UserId::new(), SessionId::new(), None, 1_000, 60);
        assert!(TokenSigner::new(b"other key")
            .verify(&token, 1_001)
            .is_err());
        let mut tampered = token.clone();
        tampered.insert(40, 'x');
        assert!(signer.verify(&tampered, 1_001).is_err());
        assert!(signer.verify("a.b", 1_001).is_err());
    }
}
