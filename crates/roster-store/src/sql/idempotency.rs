//! SQL for idempotency keys. The claim is one `INSERT … ON CONFLICT DO
//! NOTHING` (both backends speak it), so of two concurrent first requests
//! exactly one inserts and the other reads the winner's record.

use roster_core::error::Result;
use roster_core::model::IdempotencyRecord;
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

pub fn idempotency_key(
    tx: &mut SqlTx,
    scope: &str,
    key: &str,
) -> Result<Option<IdempotencyRecord>> {
    let row = tx.query_opt(
        "SELECT request_hash, status, response, created_at FROM idempotency_keys \
         WHERE scope = $1 AND key = $2",
        &[Value::text(scope), Value::text(key)],
    )?;
    row.map(|row| record(&row)).transpose()
}

pub fn claim_idempotency_key(
    tx: &mut SqlTx,
    scope: &str,
    key: &str,
    request_hash: &str,
    at: Timestamp,
) -> Result<Option<IdempotencyRecord>> {
    let inserted = tx.execute(
        "INSERT INTO idempotency_keys (scope, key, request_hash, status, response, created_at) \
         VALUES ($1, $2, $3, NULL, NULL, $4) ON CONFLICT DO NOTHING",
        &[
            Value::text(scope),
            Value::text(key),
            Value::text(request_hash),
            Value::Int(at.0),
        ],
    )?;
    if inserted > 0 {
        return Ok(None);
    }
    idempotency_key(tx, scope, key)
}

pub fn complete_idempotency_key(
    tx: &mut SqlTx,
    scope: &str,
    key: &str,
    status: u16,
    response: Option<&str>,
) -> Result<()> {
    tx.execute(
        "UPDATE idempotency_keys SET status = $3, response = $4 WHERE scope = $1 AND key = $2",
        &[
            Value::text(scope),
            Value::text(key),
            Value::Int(i64::from(status)),
            Value::opt_text(response),
        ],
    )?;
    Ok(())
}

pub fn delete_idempotency_key(tx: &mut SqlTx, scope: &str, key: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2",
        &[Value::text(scope), Value::text(key)],
    )?;
    Ok(())
}

pub fn purge_idempotency_keys(tx: &mut SqlTx, before: Timestamp) -> Result<u64> {
    tx.execute(
        "DELETE FROM idempotency_keys WHERE created_at < $1",
        &[Value::Int(before.0)],
    )
}
