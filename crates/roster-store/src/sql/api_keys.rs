//! SQL for API keys. Scopes are stored as one space-separated string; a key
//! is found by the hash of its secret (unique index).

use roster_core::error::Result;
use roster_core::ids::{ApiKeyId, OrgId, UserId};
use roster_core::model::ApiKey;
use roster_core::scope::Scope;
use roster_core::time::Timestamp;

use super::decode::{id, opt_id, opt_ts, ts};
use super::{Row, SqlTx, Value};

macro_rules! api_key_cols {
    () => {
        "id, org_id, name, scopes, created_by, created_at, last_used_at, expires_at, revoked_at"
    };
}

fn api_key(row: &Row) -> Result<ApiKey> {
    let scopes = row.text(3)?;
    Ok(ApiKey {
        id: id(row, 0, "api_keys.id")?,
        org_id: id(row, 1, "api_keys.org_id")?,
        name: row.text(2)?,
        scopes: scopes
            .split_whitespace()
            .map(Scope::parse)
            .collect::<Result<Vec<_>>>()?,
        created_by: opt_id::<UserId>(row, 4, "api_keys.created_by")?,
        created_at: ts(row, 5)?,
        last_used_at: opt_ts(row, 6)?,
        expires_at: opt_ts(row, 7)?,
        revoked_at: opt_ts(row, 8)?,
    })
}

pub fn insert_api_key(tx: &mut SqlTx, key: &ApiKey, hash: &str) -> Result<()> {
    let scopes: Vec<&str> = key.scopes.iter().map(Scope::as_str).collect();
    tx.execute(
        concat!(
            "INSERT INTO api_keys (",
            api_key_cols!(),
            ", key_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ),
        &[
            Value::text(key.id),
            Value::text(key.org_id),
            Value::text(&key.name),
            Value::text(scopes.join(" ")),
            Value::opt_text(key.created_by),
            Value::Int(key.created_at.0),
            Value::opt_int(key.last_used_at.map(|t| t.0)),
            Value::opt_int(key.expires_at.map(|t| t.0)),
            Value::opt_int(key.revoked_at.map(|t| t.0)),
            Value::text(hash),
        ],
    )?;
    Ok(())
}

pub fn api_key_by_hash(tx: &mut SqlTx, hash: &str) -> Result<Option<ApiKey>> {
    let sql = concat!(
        "SELECT ",
        api_key_cols!(),
        " FROM api_keys WHERE key_hash = $1"
    );
    let row = tx.query_opt(sql, &[Value::text(hash)])?;
    row.map(|row| api_key(&row)).transpose()
}

pub fn api_key_in_org(tx: &mut SqlTx, org: OrgId, key: ApiKeyId) -> Result<Option<ApiKey>> {
    let sql = concat!(
        "SELECT ",
        api_key_cols!(),
        " FROM api_keys WHERE id = $1 AND org_id = $2"
    );
    let row = tx.query_opt(sql, &[Value::text(key), Value::text(org)])?;
    row.map(|row| api_key(&row)).transpose()
}

pub fn list_api_keys(
    tx: &mut SqlTx,
    org: OrgId,
    after: Option<ApiKeyId>,
    limit: usize,
) -> Result<Vec<ApiKey>> {
    let sql = concat!(
        "SELECT ",
        api_key_cols!(),
        " FROM api_keys WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    );
    let rows = tx.query(
        sql,
        &[Value::text(org), Value::after(after), Value::limit(limit)],
    )?;
    rows.iter().map(api_key).collect()
}

pub fn revoke_api_key(tx: &mut SqlTx, key: ApiKeyId, at: Timestamp) -> Result<()> {
    tx.execute(
        "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        &[Value::text(key), Value::Int(at.0)],
    )?;
    Ok(())
}

pub fn touch_api_key(tx: &mut SqlTx, key: ApiKeyId, at: Timestamp) -> Result<()> {
    tx.execute(
        "UPDATE api_keys SET last_used_at = $2 WHERE id = $1",
        &[Value::text(key), Value::Int(at.0)],
    )?;
    Ok(())
}
