//! SQL for API keys. Scopes are stored as one space-separated string; a key
//! is found by the hash of its secret (unique index).

use roster_core::error::Result;
use roster_core::ids::{ApiKeyId, OrgId};
use roster_core::model::ApiKey;
use roster_core::store::{ApiKeysRead, ApiKeysWrite};
use roster_core::time::Timestamp;

use super::decode::{decode, encode_scopes, insert_into, params};
use super::{Row, SqlTx, Value};

/// The columns `api_key` decodes, from `api_keys`.
macro_rules! api_key_columns {
    () => {
        "id, org_id, name, scopes, created_by, created_at, last_used_at, expires_at, revoked_at"
    };
}

fn api_key(row: &Row) -> Result<ApiKey> {
    decode! { row, 0, ApiKey {
        id, org_id, name, scopes, created_by, created_at, last_used_at, expires_at, revoked_at,
    } }
}

/// The keys matching the condition `$where_`.
macro_rules! select_api_keys {
    ($where_:literal) => {
        concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM api_keys WHERE ",
            $where_
        )
    };
}

impl ApiKeysRead for SqlTx<'_> {
    fn api_key_by_hash(&mut self, hash: &str) -> Result<Option<ApiKey>> {
        let sql = select_api_keys!("key_hash = $1");
        self.query_opt(sql, &params! { hash }, api_key)
    }

    fn api_key(&mut self, org: OrgId, id: ApiKeyId) -> Result<Option<ApiKey>> {
        let sql = select_api_keys!("id = $1 AND org_id = $2");
        self.query_opt(sql, &params! { id, org }, api_key)
    }

    fn list_api_keys(
        &mut self,
        org: OrgId,
        after: Option<ApiKeyId>,
        limit: usize,
    ) -> Result<Vec<ApiKey>> {
        let sql = select_api_keys!("org_id = $1 AND id > $2 ORDER BY id LIMIT $3");
        let params = params! { org, Value::after(after), Value::limit(limit) };
        self.query_all(sql, &params, api_key)
    }
}

impl ApiKeysWrite for SqlTx<'_> {
    fn insert_api_key(&mut self, key: &ApiKey, hash: &str) -> Result<()> {
        let sql = insert_into!(
            "api_keys",
            concat!(api_key_columns!(), ", key_hash"),
            "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10"
        );
        let k = key;
        let params = params! {
            k.id, k.org_id, &k.name, encode_scopes(&k.scopes), k.created_by, k.created_at,
            k.last_used_at, k.expires_at, k.revoked_at, hash,
        };
        self.run(sql, &params)
    }

    /// Keeps the first revocation time when revoked twice.
    fn revoke_api_key(&mut self, id: ApiKeyId, at: Timestamp) -> Result<()> {
        let sql = "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
        self.run(sql, &params! { at, id })
    }

    fn touch_api_key(&mut self, id: ApiKeyId, at: Timestamp) -> Result<()> {
        let sql = "UPDATE api_keys SET last_used_at = $1 WHERE id = $2";
        self.run(sql, &params! { at, id })
    }
}
