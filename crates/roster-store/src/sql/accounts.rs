//! SQL for settings, users, sessions and refresh tokens.

use roster_core::error::Result;
use roster_core::ids::{SessionId, UserId};
use roster_core::model::{NewUser, RefreshToken, Session, User, UserCredentials};
use roster_core::time::Timestamp;
use roster_core::types::ResourceStatus;

use super::decode::{self, user_cols, USER_WIDTH};
use super::{Dialect, SqlTx, Value};

pub fn setting(tx: &mut SqlTx, key: &str) -> Result<Option<String>> {
    let row = tx.query_opt(
        "SELECT value FROM settings WHERE key = $1",
        &[Value::text(key)],
    )?;
    row.map(|row| row.text(0)).transpose()
}

pub fn insert_setting_if_absent(tx: &mut SqlTx, key: &str, value: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        &[Value::text(key), Value::text(value)],
    )?;
    Ok(())
}

/// What member search matches: lowercase "email username name".
pub(crate) fn search_text(new: &NewUser) -> String {
    format!("{} {} {}", new.email, new.username, new.name).to_lowercase()
}

pub fn insert_user(tx: &mut SqlTx, new: &NewUser) -> Result<User> {
    // The backends differ in how `number` is assigned. PostgreSQL: an
    // identity column (a sequence; concurrent inserts never collide, a
    // rolled-back insert leaves a gap). SQLite: MAX + 1, race-free because
    // the write transaction holds the database's write lock from BEGIN
    // IMMEDIATE on; the UNIQUE index on `number` makes MAX a lookup.
    let sql = match tx.dialect() {
        Dialect::Postgres => {
            "INSERT INTO users (id, email, username, name, password_hash, email_verified, status, \
             search, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING number"
        }
        Dialect::Sqlite => {
            "INSERT INTO users (id, email, username, name, password_hash, email_verified, status, \
             search, created_at, updated_at, number) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, \
             (SELECT COALESCE(MAX(number), 0) + 1 FROM users)) RETURNING number"
        }
    };
    let status = ResourceStatus::Active;
    let row = tx.query_one(
        sql,
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

pub fn user(tx: &mut SqlTx, id: UserId) -> Result<Option<User>> {
    let sql = concat!("SELECT ", user_cols!(), " FROM users u WHERE u.id = $1");
    let row = tx.query_opt(sql, &[Value::text(id)])?;
    row.map(|row| decode::user(&row, 0)).transpose()
}

pub fn user_by_email(tx: &mut SqlTx, email: &str) -> Result<Option<User>> {
    let sql = concat!("SELECT ", user_cols!(), " FROM users u WHERE u.email = $1");
    let row = tx.query_opt(sql, &[Value::text(email)])?;
    row.map(|row| decode::user(&row, 0)).transpose()
}

pub fn user_credentials(tx: &mut SqlTx, email: &str) -> Result<Option<UserCredentials>> {
    let sql = concat!(
        "SELECT ",
        user_cols!(),
        ", u.password_hash FROM users u WHERE u.email = $1"
    );
    let Some(row) = tx.query_opt(sql, &[Value::text(email)])? else {
        return Ok(None);
    };
    Ok(Some(UserCredentials {
        user: decode::user(&row, 0)?,
        password_hash: row.opt_text(USER_WIDTH)?,
    }))
}

pub fn username_taken(tx: &mut SqlTx, username: &str) -> Result<bool> {
    let row = tx.query_opt(
        "SELECT 1 FROM users WHERE username = $1",
        &[Value::text(username)],
    )?;
    Ok(row.is_some())
}

/// One statement, so the conditions and the delete cannot be split by a
/// concurrent verify or add: the row goes only while it is still unverified
/// and in no org. Sessions, refresh tokens and verification links cascade.
pub fn delete_unverified_user(tx: &mut SqlTx, id: UserId) -> Result<bool> {
    let deleted = tx.execute(
        "DELETE FROM users WHERE id = $1 AND email_verified = $2 \
         AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = $1)",
        &[Value::text(id), Value::Bool(false)],
    )?;
    Ok(deleted > 0)
}

pub fn users_with_non_ascii_email(tx: &mut SqlTx) -> Result<Vec<(UserId, String)>> {
    // More bytes than characters: some character is not ASCII (both
    // SQLite, from 3.43, and PostgreSQL have `octet_length`).
    let rows = tx.query(
        "SELECT id, email FROM users WHERE octet_length(email) <> length(email) ORDER BY id",
        &[],
    )?;
    rows.iter()
        .map(|row| Ok((decode::id(row, 0, "users.id")?, row.text(1)?)))
        .collect()
}

pub fn set_user_email(tx: &mut SqlTx, id: UserId, email: &str, at: Timestamp) -> Result<()> {
    tx.execute(
        "UPDATE users SET email = $2, updated_at = $3 WHERE id = $1",
        &[Value::text(id), Value::text(email), Value::Int(at.0)],
    )?;
    Ok(())
}

pub fn set_email_verified(tx: &mut SqlTx, id: UserId) -> Result<()> {
    // The trait passes no time, so `updated_at` is the store's clock.
    tx.execute(
        "UPDATE users SET email_verified = $2, updated_at = $3 WHERE id = $1",
        &[
            Value::text(id),
            Value::Bool(true),
            Value::Int(Timestamp::now().0),
        ],
    )?;
    Ok(())
}

pub fn insert_session(tx: &mut SqlTx, session: &Session) -> Result<()> {
    tx.execute(
        "INSERT INTO sessions (id, user_id, created_at, expires_at, revoked_at) \
         VALUES ($1, $2, $3, $4, $5)",
        &[
            Value::text(session.id),
            Value::text(session.user_id),
            Value::Int(session.created_at.0),
            Value::Int(session.expires_at.0),
            Value::opt_int(session.revoked_at.map(|t| t.0)),
        ],
    )?;
    Ok(())
}

pub fn session(tx: &mut SqlTx, id: SessionId) -> Result<Option<Session>> {
    let sql = "SELECT id, user_id, created_at, expires_at, revoked_at FROM sessions WHERE id = $1";
    let Some(row) = tx.query_opt(sql, &[Value::text(id)])? else {
        return Ok(None);
    };
    Ok(Some(Session {
        id: decode::id(&row, 0, "sessions.id")?,
        user_id: decode::id(&row, 1, "sessions.user_id")?,
        created_at: decode::ts(&row, 2)?,
        expires_at: decode::ts(&row, 3)?,
        revoked_at: decode::opt_ts(&row, 4)?,
    }))
}

/// Keeps the first revocation time when revoked twice.
pub fn revoke_session(tx: &mut SqlTx, id: SessionId, at: Timestamp) -> Result<()> {
    tx.execute(
        "UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        &[Value::text(id), Value::Int(at.0)],
    )?;
    Ok(())
}

pub fn insert_refresh_token(
    tx: &mut SqlTx,
    hash: &str,
    session: SessionId,
    at: Timestamp,
) -> Result<()> {
    tx.execute(
        "INSERT INTO refresh_tokens (hash, session_id, created_at, used_at) VALUES ($1, $2, $3, NULL)",
        &[Value::text(hash), Value::text(session), Value::Int(at.0)],
    )?;
    Ok(())
}

pub fn refresh_token(tx: &mut SqlTx, hash: &str) -> Result<Option<RefreshToken>> {
    let sql = "SELECT session_id, used_at FROM refresh_tokens WHERE hash = $1";
    let Some(row) = tx.query_opt(sql, &[Value::text(hash)])? else {
        return Ok(None);
    };
    Ok(Some(RefreshToken {
        session_id: decode::id(&row, 0, "refresh_tokens.session_id")?,
        used_at: decode::opt_ts(&row, 1)?,
    }))
}

/// One atomic statement: of two concurrent uses exactly one changes the row
/// (PostgreSQL re-checks `used_at IS NULL` after waiting for the row lock;
/// SQLite runs writers one at a time).
pub fn use_refresh_token(tx: &mut SqlTx, hash: &str, at: Timestamp) -> Result<bool> {
    let changed = tx.execute(
        "UPDATE refresh_tokens SET used_at = $2 WHERE hash = $1 AND used_at IS NULL",
        &[Value::text(hash), Value::Int(at.0)],
    )?;
    Ok(changed > 0)
}

pub fn user_by_username(tx: &mut SqlTx, username: &str) -> Result<Option<User>> {
    let sql = concat!(
        "SELECT ",
        user_cols!(),
        " FROM users u WHERE u.username = $1"
    );
    let row = tx.query_opt(sql, &[Value::text(username)])?;
    row.map(|row| decode::user(&row, 0)).transpose()
}

pub fn user_by_number(tx: &mut SqlTx, number: i64) -> Result<Option<User>> {
    let sql = concat!("SELECT ", user_cols!(), " FROM users u WHERE u.number = $1");
    let row = tx.query_opt(sql, &[Value::Int(number)])?;
    row.map(|row| decode::user(&row, 0)).transpose()
}
