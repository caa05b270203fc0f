//! SQL for API keys. Scopes are stored as one space-separated string; a key
//! is found by the hash of its secret (unique index).

use roster_core::error::Result;
use roster_core::ids::{ApiKeyId, OrgId, UserId};
use roster_core::model::ApiKey;
use roster_core::scope::Scope;
use roster_core::store::{ApiKeysRead, ApiKeysWrite};
use roster_core::time::Timestamp;

use super::decode::{id, opt_id, opt_ts, ts};
use super::{Row, SqlTx, Value};

/// The columns `api_key` decodes, from `api_keys`.
macro_rules! api_key_columns {
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

impl ApiKeysRead for SqlTx<'_> {
    fn api_key_by_hash(&mut self, hash: &str) -> Result<Option<ApiKey>> {
        let sql = concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM api_keys WHERE key_hash = $1"
        );
        self.query_opt(sql, &[Value::text(hash)], api_key)
    }

    fn api_key(&mut self, org: OrgId, id: ApiKeyId) -> Result<Option<ApiKey>> {
        let sql = concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM api_keys WHERE id = $1 AND org_id = $2"
        );
        self.query_opt(sql, &[Value::text(id), Value::text(org)], api_key)
    }

    fn list_api_keys(
        &mut self,
        org: OrgId,
        after: Option<ApiKeyId>,
        limit: usize,
    ) -> Result<Vec<ApiKey>> {
        let sql = concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM api_keys WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        let params = [Value::text(org), Value::after(after), Value::limit(limit)];
        self.query_all(sql, &params, api_key)
    }
}

impl ApiKeysWrite for SqlTx<'_> {
    fn insert_api_key(&mut self, key: &ApiKey, hash: &str) -> Result<()> {
        let scopes: Vec<&str> = key.scopes.iter().map(Scope::as_str).collect();
        self.run(
            concat!(
                "INSERT INTO api_keys (",
                api_key_columns!(),
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
        )
    }

    /// Keeps the first revocation time when revoked twice.
    fn revoke_api_key(&mut self, id: ApiKeyId, at: Timestamp) -> Result<()> {
        self.run(
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            &[Value::Int(at.0), Value::text(id)],
        )
    }

    fn touch_api_key(&mut self, id: ApiKeyId, at: Timestamp) -> Result<()> {
        self.run(
            "UPDATE api_keys SET last_used_at = $1 WHERE id = $2",
            &[Value::Int(at.0), Value::text(id)],
        )
    }
}
