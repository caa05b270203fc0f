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

use super::decode::{id, opt_ts, status, ts};
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
    Ok(User {
        id: id(row, at, "users.id")?,
        number: row.int(at + 1)?,
        email: row.text(at + 2)?,
        username: row.text(at + 3)?,
        name: row.text(at + 4)?,
        email_verified: row.bool(at + 5)?,
        status: status(row, at + 6)?,
        created_at: ts(row, at + 7)?,
    })
}

fn first_user(row: &Row) -> Result<User> {
    user(row, 0)
}

/// The columns `session` decodes, from `sessions`.
macro_rules! session_columns {
    () => {
        "id, user_id, created_at, expires_at, revoked_at"
    };
}

fn session(row: &Row) -> Result<Session> {
    Ok(Session {
        id: id(row, 0, "sessions.id")?,
        user_id: id(row, 1, "sessions.user_id")?,
        created_at: ts(row, 2)?,
        expires_at: ts(row, 3)?,
        revoked_at: opt_ts(row, 4)?,
    })
}

fn email_verification(row: &Row) -> Result<EmailVerification> {
    Ok(EmailVerification {
        user_id: id(row, 0, "email_verifications.user_id")?,
        email: row.text(1)?,
        expires_at: ts(row, 2)?,
        used_at: opt_ts(row, 3)?,
    })
}

fn refresh_token(row: &Row) -> Result<RefreshToken> {
    Ok(RefreshToken {
        session_id: id(row, 0, "refresh_tokens.session_id")?,
        used_at: opt_ts(row, 1)?,
    })
}

/// What member search matches: lowercase "email username name".
pub(crate) fn search_text(new: &NewUser) -> String {
    format!("{} {} {}", new.email, new.username, new.name).to_lowercase()
}

impl AccountsRead for SqlTx<'_> {
    fn user(&mut self, id: UserId) -> Result<Option<User>> {
        let sql = concat!("SELECT ", user_columns!(), " FROM users u WHERE u.id = $1");
        self.query_opt(sql, &[Value::text(id)], first_user)
    }

    fn user_by_email(&mut self, email: &str) -> Result<Option<User>> {
        let sql = concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u WHERE u.email = $1"
        );
        self.query_opt(sql, &[Value::text(email)], first_user)
    }

    fn user_credentials(&mut self, email: &str) -> Result<Option<UserCredentials>> {
        let sql = concat!(
            "SELECT ",
            user_columns!(),
            ", u.password_hash FROM users u WHERE u.email = $1"
        );
        self.query_opt(sql, &[Value::text(email)], |row| {
            Ok(UserCredentials {
                user: user(row, 0)?,
                password_hash: row.opt_text(USER_WIDTH)?,
            })
        })
    }

    fn user_by_username(&mut self, username: &str) -> Result<Option<User>> {
        let sql = concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u WHERE u.username = $1"
        );
        self.query_opt(sql, &[Value::text(username)], first_user)
    }

    fn user_by_number(&mut self, number: i64) -> Result<Option<User>> {
        let sql = concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u WHERE u.number = $1"
        );
        self.query_opt(sql, &[Value::Int(number)], first_user)
    }

    fn username_taken(&mut self, username: &str) -> Result<bool> {
        let sql = "SELECT 1 FROM users WHERE username = $1";
        let found = self.query_opt(sql, &[Value::text(username)], |_| Ok(()))?;
        Ok(found.is_some())
    }

    fn users_with_non_ascii_email(&mut self) -> Result<Vec<(UserId, String)>> {
        // More bytes than characters: some character is not ASCII (both
        // SQLite, from 3.43, and PostgreSQL have `octet_length`).
        let sql =
            "SELECT id, email FROM users WHERE octet_length(email) <> length(email) ORDER BY id";
        self.query_all(sql, &[], |row| Ok((id(row, 0, "users.id")?, row.text(1)?)))
    }

    fn email_verification(&mut self, hash: &str) -> Result<Option<EmailVerification>> {
        let sql =
            "SELECT user_id, email, expires_at, used_at FROM email_verifications WHERE hash = $1";
        self.query_opt(sql, &[Value::text(hash)], email_verification)
    }

    fn session(&mut self, id: SessionId) -> Result<Option<Session>> {
        let sql = concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions WHERE id = $1"
        );
        self.query_opt(sql, &[Value::text(id)], session)
    }

    fn refresh_token(&mut self, hash: &str) -> Result<Option<RefreshToken>> {
        let sql = "SELECT session_id, used_at FROM refresh_tokens WHERE hash = $1";
        self.query_opt(sql, &[Value::text(hash)], refresh_token)
    }
}

impl AccountsWrite for SqlTx<'_> {
    fn insert_user(&mut self, new: &NewUser) -> Result<User> {
        let status = ResourceStatus::Active;
        let row = self.query_one(
            dialect::insert_user(self.backend()),
            &[
                Value::text(new.id),
                Value::text(&new.email),
                Value::text(&new.username),
                Value::text(&new.name),
                Value::opt_text(new.password_hash.as_ref()),
                Value::Bool(new.email_verified),
                Value::text(status.as_str()),
                Value::Text(search_text(new)),
                Value::Int(new.created_at.0),
            ],
        )?;
        Ok(User {
            id: new.id,
            number: row.int(0)?,
            email: new.email.clone(),
            username: new.username.clone(),
            name: new.name.clone(),
            email_verified: new.email_verified,
            status,
            created_at: new.created_at,
        })
    }

    fn set_email_verified(&mut self, id: UserId, at: Timestamp) -> Result<()> {
        self.run(
            "UPDATE users SET email_verified = $1, updated_at = $2 WHERE id = $3",
            &[Value::Bool(true), Value::Int(at.0), Value::text(id)],
        )
    }

    /// One statement, so the conditions and the delete cannot be split by a
    /// concurrent verify or add: the row goes only while it is still
    /// unverified and in no org. Sessions, refresh tokens and verification
    /// links cascade.
    fn delete_unverified_user(&mut self, id: UserId) -> Result<bool> {
        self.changed(
            "DELETE FROM users WHERE id = $1 AND email_verified = $2 \
             AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = $1)",
            &[Value::text(id), Value::Bool(false)],
        )
    }

    fn set_user_email(&mut self, id: UserId, email: &str, at: Timestamp) -> Result<()> {
        self.run(
            "UPDATE users SET email = $1, updated_at = $2 WHERE id = $3",
            &[Value::text(email), Value::Int(at.0), Value::text(id)],
        )
    }

    fn insert_email_verification(
        &mut self,
        hash: &str,
        verification: &EmailVerification,
        at: Timestamp,
    ) -> Result<()> {
        self.run(
            "INSERT INTO email_verifications (hash, user_id, email, created_at, expires_at, \
             used_at) VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                Value::text(hash),
                Value::text(verification.user_id),
                Value::text(&verification.email),
                Value::Int(at.0),
                Value::Int(verification.expires_at.0),
                Value::opt_int(verification.used_at.map(|t| t.0)),
            ],
        )
    }

    fn use_email_verification(&mut self, hash: &str, at: Timestamp) -> Result<bool> {
        self.changed(
            "UPDATE email_verifications SET used_at = $1 WHERE hash = $2 AND used_at IS NULL",
            &[Value::Int(at.0), Value::text(hash)],
        )
    }

    fn insert_session(&mut self, session: &Session) -> Result<()> {
        let sql = concat!(
            "INSERT INTO sessions (",
            session_columns!(),
            ") VALUES ($1, $2, $3, $4, $5)"
        );
        self.run(
            sql,
            &[
                Value::text(session.id),
                Value::text(session.user_id),
                Value::Int(session.created_at.0),
                Value::Int(session.expires_at.0),
                Value::opt_int(session.revoked_at.map(|t| t.0)),
            ],
        )
    }

    /// Keeps the first revocation time when revoked twice.
    fn revoke_session(&mut self, id: SessionId, at: Timestamp) -> Result<()> {
        self.run(
            "UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            &[Value::Int(at.0), Value::text(id)],
        )
    }

    fn insert_refresh_token(
        &mut self,
        hash: &str,
        session: SessionId,
        at: Timestamp,
    ) -> Result<()> {
        self.run(
            "INSERT INTO refresh_tokens (hash, session_id, created_at, used_at) \
             VALUES ($1, $2, $3, NULL)",
            &[Value::text(hash), Value::text(session), Value::Int(at.0)],
        )
    }

    fn use_refresh_token(&mut self, hash: &str, at: Timestamp) -> Result<bool> {
        self.changed(
            "UPDATE refresh_tokens SET used_at = $1 WHERE hash = $2 AND used_at IS NULL",
            &[Value::Int(at.0), Value::text(hash)],
        )
    }
}
