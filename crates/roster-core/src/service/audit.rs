//! Reading the audit log (admin and up).

use crate::error::{DomainError, Result};
use crate::ids::{AuditEventId, OrgId};
use crate::model::AuditEvent;
use crate::pagination::{Page, PageRequest};
use crate::scope::Scope;
use crate::store;

use super::{caller_role, Ctx, Roster};

impl Roster {
    /// The org's audit events, newest first.
    pub fn list_audit_events(
        &self,
        ctx: &Ctx,
        org: OrgId,
        page: &PageRequest,
    ) -> Result<Page<AuditEvent>> {
        let before = page.after_id(AuditEventId::parse)?;
        let rows = store::read(&**self.store(), |tx| {
            if !caller_role(tx, ctx, org, Scope::AuditRead)?.can_administer() {
                return Err(DomainError::Forbidden(
                    "only admins and owners may read the audit log",
                ));
            }
            tx.list_audit_events(org, before, page.fetch_limit())
        })?;
        Ok(page.page(rows, |event| event.id.to_string()))
    }
}
