//! SQL for accounts: users, email verifications, sessions and refresh
//! tokens. Tokens are single use by one conditional UPDATE each: of two
//! concurrent uses exactly one changes the row (PostgreSQL re-checks
//! `used_at IS NULL` after waiting for the row lock; SQLite runs writers
//! one at a time).

use roster_core::error::Result;
use roster_core::ids::{SessionId, UserId};
use roster_core::model::{
    EmailVerification, NewUser, RefreshToken, Session, User, UserCredentials,
};
use roster_core::store::{AccountsRead, AccountsWrite};
use roster_core::time::Timestamp;
use roster_core::types::ResourceStatus;

use super::decode::{decode, insert_into, params, select};
use super::{dialect, Row, SqlTx, Value};

/// The columns `user` decodes, from `users u`.
macro_rules! user_columns {
    () => {
        "u.id, u.number, u.email, u.username, u.name, u.email_verified, u.status, u.created_at"
    };
}
pub(crate) use user_columns;

/// How many columns `user_columns!` names.
pub const USER_WIDTH: usize = 8;

/// A user from `user_columns!()` starting at column `at`.
pub fn user(row: &Row, at: usize) -> Result<User> {
    decode! { row, at, User { id, number, email, username, name, email_verified, status, created_at } }
}

/// One user, found by the condition `$where_` on `users u`.
macro_rules! select_user {
    ($where_:literal) => {
        concat!("SELECT ", user_columns!(), " FROM users u WHERE ", $where_)
    };
}

/// The columns `session` decodes, from `sessions`.
macro_rules! session_columns {
    () => {
        "id, user_id, created_at, expires_at, revoked_at"
    };
}

/// What member search matches: lowercase "email username name".
pub(crate) fn search_text(new: &NewUser) -> String {
    format!("{} {} {}", new.email, new.username, new.name).to_lowercase()
}

impl SqlTx<'_> {
    fn one_user(&mut self, sql: &str, key: Value) -> Result<Option<User>> {
        self.query_opt(sql, &[key], |row| user(row, 0))
    }
}

impl AccountsRead for SqlTx<'_> {
    fn user(&mut self, id: UserId) -> Result<Option<User>> {
        self.one_user(select_user!("u.id = $1"), id.into())
    }

    fn user_by_email(&mut self, email: &str) -> Result<Option<User>> {
        self.one_user(select_user!("u.email = $1"), email.into())
    }

    fn user_by_username(&mut self, username: &str) -> Result<Option<User>> {
        self.one_user(select_user!("u.username = $1"), username.into())
    }

    fn user_by_number(&mut self, number: i64) -> Result<Option<User>> {
        self.one_user(select_user!("u.number = $1"), number.into())
    }

    fn user_credentials(&mut self, email: &str) -> Result<Option<UserCredentials>> {
        let sql = select! { user_columns!(), ", u.password_hash FROM users u WHERE u.email = $1" };
        self.query_opt(sql, &params! { email }, |row| {
            let (user, password_hash) = (user(row, 0)?, row.get(USER_WIDTH)?);
            Ok(UserCredentials {
                user,
                password_hash,
            })
        })
    }

    fn username_taken(&mut self, username: &str) -> Result<bool> {
        let sql = "SELECT 1 FROM users WHERE username = $1";
        Ok(self
            .query_opt(sql, &params! { username }, |_| Ok(()))?
            .is_some())
    }

    fn users_with_non_ascii_email(&mut self) -> Result<Vec<(UserId, String)>> {
        // More bytes than characters: some character is not ASCII (both
        // SQLite, from 3.43, and PostgreSQL have `octet_length`).
        let sql =
            "SELECT id, email FROM users WHERE octet_length(email) <> length(email) ORDER BY id";
        self.query_all(sql, &[], |row| Ok((row.get(0)?, row.get(1)?)))
    }

    fn email_verification(&mut self, hash: &str) -> Result<Option<EmailVerification>> {
        let sql =
            "SELECT user_id, email, expires_at, used_at FROM email_verifications WHERE hash = $1";
        self.query_opt(sql, &params! { hash }, |row| {
            decode! { row, 0, EmailVerification { user_id, email, expires_at, used_at } }
        })
    }

    fn session(&mut self, id: SessionId) -> Result<Option<Session>> {
        let sql = select!(session_columns!(), " FROM sessions WHERE id = $1");
        self.query_opt(sql, &params! { id }, |row| {
            decode! { row, 0, Session { id, user_id, created_at, expires_at, revoked_at } }
        })
    }

    fn refresh_token(&mut self, hash: &str) -> Result<Option<RefreshToken>> {
        let sql = "SELECT session_id, used_at FROM refresh_tokens WHERE hash = $1";
        self.query_opt(sql, &params! { hash }, |row| {
            decode! { row, 0, RefreshToken { session_id, used_at } }
        })
    }
}

impl AccountsWrite for SqlTx<'_> {
    fn insert_user(&mut self, new: &NewUser) -> Result<User> {
        let status = ResourceStatus::Active;
        let params = params! {
            new.id, &new.email, &new.username, &new.name, new.password_hash.as_deref(),
            new.email_verified, status, search_text(new), new.created_at,
        };
        let row = self.query_one(dialect::insert_user(self.backend()), &params)?;
        Ok(User {
            id: new.id,
            number: row.get(0)?,
            email: new.email.clone(),
            username: new.username.clone(),
            name: new.name.clone(),
            email_verified: new.email_verified,
            status,
            created_at: new.created_at,
        })
    }

    fn set_email_verified(&mut self, id: UserId, at: Timestamp) -> Result<()> {
        let sql = "UPDATE users SET email_verified = $1, updated_at = $2 WHERE id = $3";
        self.run(sql, &params! { true, at, id })
    }

    /// One statement, so the conditions and the delete cannot be split by a
    /// concurrent verify or add: the row goes only while it is still
    /// unverified and in no org. Sessions, refresh tokens and verification
    /// links cascade.
    fn delete_unverified_user(&mut self, id: UserId) -> Result<bool> {
        let sql = "DELETE FROM users WHERE id = $1 AND email_verified = $2 \
                   AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = $1)";
        self.changed(sql, &params! { id, false })
    }

    fn set_user_email(&mut self, id: UserId, email: &str, at: Timestamp) -> Result<()> {
        let sql = "UPDATE users SET email = $1, updated_at = $2 WHERE id = $3";
        self.run(sql, &params! { email, at, id })
    }

    fn insert_email_verification(
        &mut self,
        hash: &str,
        verification: &EmailVerification,
        at: Timestamp,
    ) -> Result<()> {
        let sql = "INSERT INTO email_verifications \
                   (hash, user_id, email, created_at, expires_at, used_at) \
                   VALUES ($1, $2, $3, $4, $5, $6)";
        let v = verification;
        self.run(
            sql,
            &params! { hash, v.user_id, &v.email, at, v.expires_at, v.used_at },
        )
    }

    fn use_email_verification(&mut self, hash: &str, at: Timestamp) -> Result<bool> {
        let sql = "UPDATE email_verifications SET used_at = $1 WHERE hash = $2 AND used_at IS NULL";
        self.changed(sql, &params! { at, hash })
    }

    fn insert_session(&mut self, session: &Session) -> Result<()> {
        let sql = insert_into!("sessions", session_columns!(), "$1, $2, $3, $4, $5");
        let s = session;
        self.run(
            sql,
            &params! { s.id, s.user_id, s.created_at, s.expires_at, s.revoked_at },
        )
    }

    /// Keeps the first revocation time when revoked twice.
    fn revoke_session(&mut self, id: SessionId, at: Timestamp) -> Result<()> {
        let sql = "UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
        self.run(sql, &params! { at, id })
    }

    fn insert_refresh_token(
        &mut self,
        hash: &str,
        session: SessionId,
        at: Timestamp,
    ) -> Result<()> {
        let sql = "INSERT INTO refresh_tokens (hash, session_id, created_at, used_at) \
                   VALUES ($1, $2, $3, NULL)";
        self.run(sql, &params! { hash, session, at })
    }

    fn use_refresh_token(&mut self, hash: &str, at: Timestamp) -> Result<bool> {
        let sql = "UPDATE refresh_tokens SET used_at = $1 WHERE hash = $2 AND used_at IS NULL";
        self.changed(sql, &params! { at, hash })
    }
}
