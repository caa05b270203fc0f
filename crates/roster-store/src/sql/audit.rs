//! SQL for audit events: appended, then read newest first by keyset on the
//! id (index (org_id, id), walked backwards).

use roster_core::error::Result;
use roster_core::ids::{AuditEventId, OrgId};
use roster_core::model::{AuditEvent, AuditFilter};
use roster_core::time::Timestamp;

use super::decode::{self, audit_cols};
use super::{SqlTx, Value};

pub fn insert_audit_event(tx: &mut SqlTx, event: &AuditEvent) -> Result<()> {
    tx.execute(
        concat!(
            "INSERT INTO audit_events (",
            audit_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ),
        &[
            Value::text(event.id),
            Value::text(event.org_id),
            Value::text(&event.actor_type),
            Value::text(&event.actor_id),
            Value::text(&event.action),
            Value::text(&event.target_type),
            Value::text(&event.target_id),
            Value::text(&event.summary),
            Value::text(&event.request_id),
            Value::Int(event.created_at.0),
        ],
    )?;
    Ok(())
}

/// Newest first, strictly before `before`.
pub fn list_audit_events(
    tx: &mut SqlTx,
    org: OrgId,
    before: Option<AuditEventId>,
    limit: usize,
) -> Result<Vec<AuditEvent>> {
    // No "greater than every id" string is safe under every collation, so
    // the first page is its own statement rather than a sentinel bound.
    let rows = match before {
        Some(before) => tx.query(
            concat!(
                "SELECT ",
                audit_cols!(),
                " FROM audit_events WHERE org_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
            ),
            &[Value::text(org), Value::text(before), Value::limit(limit)],
        )?,
        None => tx.query(
            concat!(
                "SELECT ",
                audit_cols!(),
                " FROM audit_events WHERE org_id = $1 ORDER BY id DESC LIMIT $2"
            ),
            &[Value::text(org), Value::limit(limit)],
        )?,
    };
    rows.iter().map(decode::audit_event).collect()
}

/// Newest first, strictly before `before`, filtered by actor and action.
/// The filters are equality tests on top of the (org_id, id) walk: an
/// org's log is read by its admins a page at a time, and a filtered page
/// stops at its limit, so no extra index is needed for it.
/// Served by the `audit_events_actor` index (migration 0007).
pub fn count_actor_events_since(
    tx: &mut SqlTx,
    actor_id: &str,
    action: &str,
    since: Timestamp,
) -> Result<u64> {
    let row = tx.query_one(
        "SELECT COUNT(*) FROM audit_events \
         WHERE actor_id = $1 AND action = $2 AND created_at >= $3",
        &[
            Value::text(actor_id),
            Value::text(action),
            Value::Int(since.0),
        ],
    )?;
    Ok(u64::try_from(row.int(0)?).unwrap_or(0))
}

pub fn list_audit_events_matching(
    tx: &mut SqlTx,
    org: OrgId,
    filter: &AuditFilter,
    before: Option<AuditEventId>,
    limit: usize,
) -> Result<Vec<AuditEvent>> {
    let mut sql = String::from(concat!(
        "SELECT ",
        audit_cols!(),
        " FROM audit_events WHERE org_id = $1"
    ));
    let mut params = vec![Value::text(org)];
    let mut condition = |column: &str, value: Value| {
        params.push(value);
        sql.push_str(&format!(" AND {column} ${}", params.len()));
    };
    if let Some(before) = before {
        condition("id <", Value::text(before));
    }
    if let Some(actor) = &filter.actor_id {
        condition("actor_id =", Value::text(actor));
    }
    if let Some(action) = &filter.action {
        condition("action =", Value::text(action));
    }
    params.push(Value::limit(limit));
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", params.len()));
    let rows = tx.query(&sql, &params)?;
    rows.iter().map(decode::audit_event).collect()
}
