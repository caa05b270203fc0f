//! An org's audit log (admin and up): newest first, paginated, filtered by
//! actor (email or id) and action.

use axum::response::Response;
use maud::html;
use roster_core::ids::OrgId;
use serde::Deserialize;

use crate::error::PageError;
use crate::forms::{table_page, Query};
use crate::layout::{self, when, Section};
use crate::org_page::OrgRequest;
use crate::paths::OrgPaths;

/// The actions the core records, for the filter's choices.
const ACTIONS: [&str; 22] = [
    "api_key.created",
    "api_key.revoked",
    "invitation.accepted",
    "invitation.created",
    "invitation.declined",
    "invitation.refreshed",
    "invitation.resent",
    "invitation.revoked",
    "member.added",
    "member.left",
    "member.removed",
    "member.role_changed",
    "org.created",
    "org.deleted",
    "org.ownership_transferred",
    "org.updated",
    "project.created",
    "project.deleted",
    "project.updated",
    "project_member.added",
    "project_member.removed",
    "project_member.role_changed",
];

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    cursor: Option<String>,
    actor: Option<String>,
    action: Option<String>,
}

/// `GET /console/orgs/{org}/audit?actor=…&action=…`.
pub async fn list(
    request: OrgRequest<OrgId>,
    Query(query): Query<AuditQuery>,
) -> Result<Response, PageError> {
    let (page, _) = request.page(OrgPaths::audit).await?;
    let actor = query.actor.clone().unwrap_or_default();
    let action = query.action.clone().unwrap_or_default();
    let (a, b, cursor) = (actor.clone(), action.clone(), query.cursor.clone());
    let entries = page
        .run(move |r, ctx, org| r.audit_log(ctx, org, Some(&a), Some(&b), &table_page(cursor)?))
        .await?;
    let paths = page.paths();
    let content = html! {
        h1 { "Audit log" }
        form.row method="get" action=(paths.audit()) {
            div {
                label for="actor" { "Actor (email or id)" }
                input #actor type="text" name="actor" value=(actor) maxlength="254";
            }
            div {
                label for="action" { "Action" }
                select #action name="action" {
                    option value="" { "any" }
                    @for known in ACTIONS {
                        option value=(known) selected[known == action] { (known) }
                    }
                }
            }
            div { button.secondary type="submit" { "Filter" } }
            @if !actor.is_empty() || !action.is_empty() {
                div { a href=(paths.audit()) { "Clear filters" } }
            }
        }
        (layout::paged_table(&entries, "No events match.", &["When", "Actor", "Action", "Target", "Summary"], &paths.audit(), &[("actor", actor.as_str()), ("action", action.as_str())], |entry| html! {
            @let event = &entry.event;
            tr {
                td data-label="When" { (when(event.created_at)) }
                td data-label="Actor" {
                    @match &entry.actor_email {
                        Some(email) => (email),
                        None => { (event.actor_type) " " span.muted { (event.actor_id) } },
                    }
                }
                td data-label="Action" { code { (event.action) } }
                td data-label="Target" { (event.target_type) " " span.muted { (event.target_id) } }
                td data-label="Summary" { (event.summary) }
            }
        }))
    };
    Ok(page.render(Section::Audit, "Audit log", content))
}
