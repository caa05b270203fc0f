//! An org's invitations (admin and up): status, resend, revoke.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use maud::html;
use roster_core::ids::InvitationId;
use roster_core::model::InvitationStatus;
use serde::Deserialize;

use crate::actions::{notice, Confirm, Notice};
use crate::error::PageError;
use crate::forms::{table_page, Path, Query};
use crate::layout::{self, csrf_field, when, Section};
use crate::orgs::{org_id, OrgPage};
use crate::paths::OrgPaths;
use crate::session::Visit;
use crate::ConsoleState;

fn invitation_id(raw: &str) -> Result<InvitationId, PageError> {
    InvitationId::parse(raw).map_err(|_| {
        PageError::Status(StatusCode::NOT_FOUND, "There is no such invitation.".into())
    })
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct InvitationQuery {
    done: Option<String>,
    cursor: Option<String>,
    status: Option<String>,
}

/// `GET /console/orgs/{org}/invitations`, optionally `?status=…`.
pub(crate) async fn list(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path(org): Path<String>,
    Query(query): Query<InvitationQuery>,
) -> Result<Response, PageError> {
    let page = OrgPage::load(&state, &visit, &org, OrgPaths::invitations).await?;
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
        @if invitations.items.is_empty() {
            p { "No invitations." }
        } @else {
            table {
                thead { tr { th { "Email" } th { "Role" } th { "Status" } th { "Expires" } th { "Actions" } } }
                tbody {
                    @for invitation in &invitations.items {
                        tr {
                            td data-label="Email" { (invitation.email) }
                            td data-label="Role" { (invitation.role.as_str()) }
                            td data-label="Status" { span.badge { (invitation.status.as_str()) } }
                            td data-label="Expires" { (when(invitation.expires_at)) }
                            td data-label="Actions" {
                                @if invitation.status.is_open() || invitation.status == InvitationStatus::Expired {
                                    form.inline method="post" action=(paths.invitation_resend(invitation.id)) {
                                        (csrf_field(&visit))
                                        button.small.secondary type="submit" { "Resend" }
                                    }
                                }
                                @if invitation.status.is_open() {
                                    " "
                                    a href=(paths.invitation_revoke(invitation.id)) { "Revoke" }
                                }
                            }
                        }
                    }
                }
            }
            (layout::next_page(&paths.invitations(), &[("status", status_text.as_str())], invitations.next_cursor.as_deref()))
        }
    };
    Ok(page.render(Section::Invitations, "Invitations", content))
}

/// `POST /console/orgs/{org}/invitations/{id}/resend`.
pub(crate) async fn resend(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path((org, id)): Path<(String, String)>,
) -> Result<Redirect, PageError> {
    let ctx = visit.require_login(&OrgPaths::new(&org).invitations())?;
    let (org, id) = (org_id(&org)?, invitation_id(&id)?);
    state
        .act(
            move |r| r.resend_invitation(&ctx, org, id),
            |_| Notice::InvitationResent.at(OrgPaths::new(org).invitations()),
        )
        .await
}

/// `GET /console/orgs/{org}/invitations/{id}/revoke`: asks first.
pub(crate) async fn confirm_revoke(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path((org, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let page = OrgPage::load(&state, &visit, &org, OrgPaths::invitations).await?;
    let id = invitation_id(&id)?;
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
pub(crate) async fn revoke(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path((org, id)): Path<(String, String)>,
) -> Result<Redirect, PageError> {
    let ctx = visit.require_login(&OrgPaths::new(&org).invitations())?;
    let (org, id) = (org_id(&org)?, invitation_id(&id)?);
    state
        .act(
            move |r| r.revoke_invitation(&ctx, org, id),
            |_| Notice::InvitationRevoked.at(OrgPaths::new(org).invitations()),
        )
        .await
}
