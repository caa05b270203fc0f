//! SQL for audit events: appended, then read newest first by keyset on the
//! id (index (org_id, id), walked backwards).

use roster_core::error::Result;
use roster_core::ids::{AuditEventId, OrgId};
use roster_core::model::{AuditEvent, AuditFilter};
use roster_core::store::{AuditRead, AuditWrite};
use roster_core::time::Timestamp;

use super::decode::{decode, insert_into, params, select};
use super::{Row, SqlTx, Value};

/// The columns `audit_event` decodes, from `audit_events`.
macro_rules! audit_event_columns {
    () => {
        "id, org_id, actor_type, actor_id, action, target_type, target_id, summary, request_id, \
         created_at"
    };
}

fn audit_event(row: &Row) -> Result<AuditEvent> {
    decode! { row, 0, AuditEvent {
        id, org_id, actor_type, actor_id, action, target_type, target_id, summary, request_id,
        created_at,
    } }
}

impl AuditRead for SqlTx<'_> {
    /// Newest first, strictly before `before`.
    fn list_audit_events(
        &mut self,
        org: OrgId,
        before: Option<AuditEventId>,
        limit: usize,
    ) -> Result<Vec<AuditEvent>> {
        // No "greater than every id" string is safe under every collation,
        // so the first page is its own statement rather than a sentinel.
        match before {
            Some(before) => self.query_all(
                select!(
                    audit_event_columns!(),
                    " FROM audit_events WHERE org_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
                ),
                &params! { org, before, Value::limit(limit) },
                audit_event,
            ),
            None => self.query_all(
                select!(
                    audit_event_columns!(),
                    " FROM audit_events WHERE org_id = $1 ORDER BY id DESC LIMIT $2"
                ),
                &params! { org, Value::limit(limit) },
                audit_event,
            ),
        }
    }

    /// Newest first, strictly before `before`, filtered by actor and
    /// action. The filters are equality tests on top of the (org_id, id)
    /// walk: an org's log is read by its admins a page at a time, and a
    /// filtered page stops at its limit, so no extra index is needed.
    fn list_audit_events_matching(
        &mut self,
        org: OrgId,
        filter: &AuditFilter,
        before: Option<AuditEventId>,
        limit: usize,
    ) -> Result<Vec<AuditEvent>> {
        let mut sql = String::from(select!(
            audit_event_columns!(),
            " FROM audit_events WHERE org_id = $1"
        ));
        let mut params = vec![org.into()];
        let mut condition = |column: &str, value: Value| {
            params.push(value);
            sql.push_str(&format!(" AND {column} ${}", params.len()));
        };
        if let Some(before) = before {
            condition("id <", before.into());
        }
        if let Some(actor) = &filter.actor_id {
            condition("actor_id =", actor.into());
        }
        if let Some(action) = &filter.action {
            condition("action =", action.into());
        }
        params.push(Value::limit(limit));
        sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", params.len()));
        self.query_all(&sql, &params, audit_event)
    }

    /// Served by the `audit_events_actor` index (migration 0007).
    fn count_actor_events_since(
        &mut self,
        actor_id: &str,
        action: &str,
        since: Timestamp,
    ) -> Result<u64> {
        let sql = "SELECT COUNT(*) FROM audit_events \
                   WHERE actor_id = $1 AND action = $2 AND created_at >= $3";
        self.query_one(sql, &params! { actor_id, action, since })?
            .count(0)
    }
}

impl AuditWrite for SqlTx<'_> {
    fn insert_audit_event(&mut self, event: &AuditEvent) -> Result<()> {
        let sql = insert_into!(
            "audit_events",
            audit_event_columns!(),
            "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10"
        );
        let e = event;
        let params = params! {
            e.id, e.org_id, &e.actor_type, &e.actor_id, &e.action, &e.target_type, &e.target_id,
            &e.summary, &e.request_id, e.created_at,
        };
        self.run(sql, &params)
    }
}
