//! An org's invitations (admin and up): status, resend, revoke.

use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use maud::html;
use roster_core::ids::{InvitationId, OrgId};
use roster_core::model::InvitationStatus;
use serde::Deserialize;

use crate::actions::{notice, Confirm, Notice};
use crate::error::PageError;
use crate::forms::{table_page, Query};
use crate::layout::{self, csrf_field, when, Section};
use crate::org_page::OrgRequest;
use crate::paths::OrgPaths;

#[derive(Debug, Default, Deserialize)]
pub struct InvitationQuery {
    done: Option<String>,
    cursor: Option<String>,
    status: Option<String>,
}

/// `GET /console/orgs/{org}/invitations`, optionally `?status=…`.
pub async fn list(
    request: OrgRequest<OrgId>,
    Query(query): Query<InvitationQuery>,
) -> Result<Response, PageError> {
    let (page, _) = request.page(OrgPaths::invitations).await?;
    let status_text = query.status.clone().unwrap_or_default();
    let status = match status_text.as_str() {
        "" => None,
        raw => Some(InvitationStatus::parse(raw).ok_or_else(|| {
            PageError::Status(
                StatusCode::BAD_REQUEST,
                "The status filter must be pending, sent, accepted, declined, revoked or expired."
                    .into(),
            )
        })?),
    };
    let cursor = query.cursor.clone();
    let invitations = page
        .run(move |r, ctx, org| r.list_invitations(ctx, org, status, &table_page(cursor)?))
        .await?;
    let paths = page.paths();
    let statuses = [
        "pending", "sent", "accepted", "declined", "revoked", "expired",
    ];
    let content = html! {
        h1 { "Invitations" }
        (notice(query.done.as_deref()))
        p { "New invitations are sent from the " a href={ (paths.members()) "#invite" } { "members page" } "." }
        form.row method="get" action=(paths.invitations()) {
            div {
                label for="status" { "Status" }
                select #status name="status" {
                    option value="" { "any" }
                    @for s in statuses {
                        option value=(s) selected[s == status_text] { (s) }
                    }
                }
            }
            div { button.secondary type="submit" { "Filter" } }
        }
        (layout::paged_table(&invitations, "No invitations.", &["Email", "Role", "Status", "Expires", "Actions"], &paths.invitations(), &[("status", status_text.as_str())], |invitation| html! {
            tr {
                td data-label="Email" { (invitation.email) }
                td data-label="Role" { (invitation.role.as_str()) }
                td data-label="Status" { span.badge { (invitation.status.as_str()) } }
                td data-label="Expires" { (when(invitation.expires_at)) }
                td data-label="Actions" {
                    @if invitation.status.is_open() || invitation.status == InvitationStatus::Expired {
                        form.inline method="post" action=(paths.invitation_resend(invitation.id)) {
                            (csrf_field(&page.visit))
                            button.small.secondary type="submit" { "Resend" }
                        }
                    }
                    @if invitation.status.is_open() {
                        " "
                        a href=(paths.invitation_revoke(invitation.id)) { "Revoke" }
                    }
                }
            }
        }))
    };
    Ok(page.render(Section::Invitations, "Invitations", content))
}

/// `POST /console/orgs/{org}/invitations/{id}/resend`.
pub async fn resend(request: OrgRequest<(OrgId, InvitationId)>) -> Result<Redirect, PageError> {
    request
        .act(
            OrgPaths::invitations,
            Notice::InvitationResent,
            |r, ctx, (org, id)| r.resend_invitation(ctx, org, id),
        )
        .await
}

/// `GET /console/orgs/{org}/invitations/{id}/revoke`: asks first.
pub async fn confirm_revoke(
    request: OrgRequest<(OrgId, InvitationId)>,
) -> Result<Response, PageError> {
    let (page, (_, id)) = request.page(OrgPaths::invitations).await?;
    let paths = page.paths();
    Ok(page.confirm(Confirm {
        section: Section::Invitations,
        question: "Revoke this invitation?",
        detail: html! { p { "Its link stops working at once. You can invite the address again later." } },
        action: paths.invitation_revoke(id),
        button: "Revoke invitation",
        cancel: paths.invitations(),
    }))
}

/// `POST /console/orgs/{org}/invitations/{id}/revoke`.
pub async fn revoke(request: OrgRequest<(OrgId, InvitationId)>) -> Result<Redirect, PageError> {
    request
        .act(
            OrgPaths::invitations,
            Notice::InvitationRevoked,
            |r, ctx, (org, id)| r.revoke_invitation(ctx, org, id),
        )
        .await
}
