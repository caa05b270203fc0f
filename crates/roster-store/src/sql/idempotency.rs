//! SQL for idempotency keys. The claim is one `INSERT … ON CONFLICT DO
//! NOTHING` (both backends speak it), so of two concurrent first requests
//! exactly one inserts and the other reads the winner's record.

use roster_core::error::Result;
use roster_core::model::IdempotencyRecord;
use roster_core::store::IdempotencyWrite;
use roster_core::time::Timestamp;

use super::decode::ts;
use super::{Row, SqlTx, Value};

fn record(row: &Row) -> Result<IdempotencyRecord> {
    Ok(IdempotencyRecord {
        request_hash: row.text(0)?,
        status: row.opt_int(1)?.and_then(|s| u16::try_from(s).ok()),
        response: row.opt_text(2)?,
        created_at: ts(row, 3)?,
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
        let inserted = self.changed(
            "INSERT INTO idempotency_keys (scope, key, request_hash, status, response, \
             created_at) VALUES ($1, $2, $3, NULL, NULL, $4) ON CONFLICT DO NOTHING",
            &[
                Value::text(scope),
                Value::text(key),
                Value::text(request_hash),
                Value::Int(at.0),
            ],
        )?;
        if inserted {
            return Ok(None);
        }
        self.query_opt(
            "SELECT request_hash, status, response, created_at FROM idempotency_keys \
             WHERE scope = $1 AND key = $2",
            &[Value::text(scope), Value::text(key)],
            record,
        )
    }

    fn complete_idempotency_key(
        &mut self,
        scope: &str,
        key: &str,
        status: u16,
        response: Option<&str>,
    ) -> Result<()> {
        self.run(
            "UPDATE idempotency_keys SET status = $1, response = $2 WHERE scope = $3 AND key = $4",
            &[
                Value::Int(i64::from(status)),
                Value::opt_text(response),
                Value::text(scope),
                Value::text(key),
            ],
        )
    }

    fn delete_idempotency_key(&mut self, scope: &str, key: &str) -> Result<()> {
        self.run(
            "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2",
            &[Value::text(scope), Value::text(key)],
        )
    }

    fn purge_idempotency_keys(&mut self, before: Timestamp) -> Result<u64> {
        self.execute(
            "DELETE FROM idempotency_keys WHERE created_at < $1",
            &[Value::Int(before.0)],
        )
    }
}
