//! Reading the audit log (admin and up).

use crate::error::{DomainError, Result};
use crate::ids::{AuditEventId, OrgId, UserId};
use crate::model::{AuditEvent, AuditFilter};
use crate::pagination::{Page, PageRequest};
use crate::store;
use crate::types::Email;

use super::authz::{authorize, Action};
use super::{Ctx, Roster};

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
            authorize(tx, ctx, org, Action::ReadAudit)?;
            tx.list_audit_events(org, before, page.fetch_limit())
        })?;
        Ok(page.page(rows, |event| event.id.to_string()))
    }
}

/// An audit event with its actor's email, when the actor is a user whose
/// account still exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub event: AuditEvent,
    pub actor_email: Option<String>,
}

impl Roster {
    /// The org's audit events, newest first, filtered by actor and action
    /// (admin and up). `actor` is a user's email, or a user's or API key's
    /// id; an email of no account matches nothing. Each entry names its
    /// actor's email, so a reader need not decode ids.
    pub fn audit_log(
        &self,
        ctx: &Ctx,
        org: OrgId,
        actor: Option<&str>,
        action: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<AuditEntry>> {
        let before = page.after_id(AuditEventId::parse)?;
        let actor = actor.map(str::trim).filter(|a| !a.is_empty());
        let action = action.map(str::trim).filter(|a| !a.is_empty());
        for (field, value) in [("actor", actor), ("action", action)] {
            if value.is_some_and(|v| v.chars().count() > 254) {
                return Err(DomainError::invalid(
                    field,
                    "must be at most 254 characters",
                ));
            }
        }
        let rows = store::read(&**self.store(), |tx| {
            authorize(tx, ctx, org, Action::ReadAudit)?;
            let actor_id = match actor {
                Some(raw) if raw.contains('@') => match Email::parse(raw) {
                    Ok(email) => match tx.user_by_email(email.as_str())? {
                        Some(found) => Some(found.id.to_string()),
                        None => return Ok(Vec::new()),
                    },
                    Err(_) => return Ok(Vec::new()),
                },
                Some(id) => Some(id.to_string()),
                None => None,
            };
            let filter = AuditFilter {
                actor_id,
                action: action.map(str::to_string),
            };
            let events = tx.list_audit_events_matching(org, &filter, before, page.fetch_limit())?;
            let mut entries = Vec::with_capacity(events.len());
            for event in events {
                let actor_email = match event.actor_type.as_str() {
                    "user" => match UserId::parse(&event.actor_id) {
                        Ok(id) => tx.user(id)?.map(|u| u.email),
                        Err(_) => None,
                    },
                    _ => None,
                };
                entries.push(AuditEntry { event, actor_email });
            }
            Ok(entries)
        })?;
        Ok(page.page(rows, |entry| entry.event.id.to_string()))
    }
}
