//! SQL for idempotency keys. The claim is one `INSERT … ON CONFLICT DO
//! NOTHING` (both backends speak it), so of two concurrent first requests
//! exactly one inserts and the other reads the winner's record.

use roster_core::error::Result;
use roster_core::model::IdempotencyRecord;
use roster_core::store::IdempotencyWrite;
use roster_core::time::Timestamp;

use super::decode::params;
use super::{Row, SqlTx};

fn record(row: &Row) -> Result<IdempotencyRecord> {
    let status: Option<i64> = row.get(1)?;
    Ok(IdempotencyRecord {
        request_hash: row.get(0)?,
        status: status.and_then(|s| u16::try_from(s).ok()),
        response: row.get(2)?,
        created_at: row.get(3)?,
    })
}

impl IdempotencyWrite for SqlTx<'_> {
    fn claim_idempotency_key(
        &mut self,
        scope: &str,
        key: &str,
        request_hash: &str,
        at: Timestamp,
    ) -> Result<Option<IdempotencyRecord>> {
        let claim = "INSERT INTO idempotency_keys \
                     (scope, key, request_hash, status, response, created_at) \
                     VALUES ($1, $2, $3, NULL, NULL, $4) ON CONFLICT DO NOTHING";
        if self.changed(claim, &params! { scope, key, request_hash, at })? {
            return Ok(None);
        }
        let existing = "SELECT request_hash, status, response, created_at FROM idempotency_keys \
                        WHERE scope = $1 AND key = $2";
        self.query_opt(existing, &params! { scope, key }, record)
    }

    fn complete_idempotency_key(
        &mut self,
        scope: &str,
        key: &str,
        status: u16,
        response: Option<&str>,
    ) -> Result<()> {
        let sql =
            "UPDATE idempotency_keys SET status = $1, response = $2 WHERE scope = $3 AND key = $4";
        self.run(sql, &params! { i64::from(status), response, scope, key })
    }

    fn delete_idempotency_key(&mut self, scope: &str, key: &str) -> Result<()> {
        let sql = "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2";
        self.run(sql, &params! { scope, key })
    }

    fn purge_idempotency_keys(&mut self, before: Timestamp) -> Result<u64> {
        let sql = "DELETE FROM idempotency_keys WHERE created_at < $1";
        self.execute(sql, &params! { before })
    }
}
