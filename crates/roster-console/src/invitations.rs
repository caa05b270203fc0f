//! An org's invitations (admin and up): status, resend, revoke.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::html;
use roster_core::ids::InvitationId;
use roster_core::model::InvitationStatus;
use roster_core::pagination::PageRequest;
use serde::Deserialize;

use crate::error::PageError;
use crate::forms::{Path, Query};
use crate::layout::{self, csrf_field, notice, when, Section};
use crate::orgs::{org_id, OrgPage};
use crate::session::Visit;
use crate::ConsoleState;

pub fn routes() -> Router<ConsoleState> {
    Router::new()
        .route("/orgs/{org}/invitations", get(list))
        .route("/orgs/{org}/invitations/{id}/resend", post(resend))
        .route(
            "/orgs/{org}/invitations/{id}/revoke",
            get(confirm_revoke).post(revoke),
        )
}

fn invitation_id(raw: &str) -> Result<InvitationId, PageError> {
    InvitationId::parse(raw).map_err(|_| {
        PageError::Status(StatusCode::NOT_FOUND, "There is no such invitation.".into())
    })
}

#[derive(Debug, Default, Deserialize)]
struct InvitationQuery {
    done: Option<String>,
    cursor: Option<String>,
    status: Option<String>,
}

/// `GET /console/orgs/{org}/invitations`, optionally `?status=…`.
async fn list(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path(org): Path<String>,
    Query(query): Query<InvitationQuery>,
) -> Result<Response, PageError> {
    let page = OrgPage::load(
        &state,
        &visit,
        &org,
        &format!("/console/orgs/{org}/invitations"),
    )
    .await?;
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
    let (ctx, org_id) = (page.ctx.clone(), page.org.id);
    let cursor = query.cursor.clone();
    let invitations = state
        .run(move |r| {
            let request =
                PageRequest::parse(Some("50"), cursor.as_deref(), PageRequest::MAX_LIMIT)?;
            r.list_invitations(&ctx, org_id, status, &request)
        })
        .await?;
    let base = page.base();
    let statuses = [
        "pending", "sent", "accepted", "declined", "revoked", "expired",
    ];
    let content = html! {
        h1 { "Invitations" }
        (notice(query.done.as_deref()))
        p { "New invitations are sent from the " a href={ (base) "/members#invite" } { "members page" } "." }
        form.row method="get" action={ (base) "/invitations" } {
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
                                    form.inline method="post" action={ (base) "/invitations/" (invitation.id) "/resend" } {
                                        (csrf_field(&visit))
                                        button.small.secondary type="submit" { "Resend" }
                                    }
                                }
                                @if invitation.status.is_open() {
                                    " "
                                    a href={ (base) "/invitations/" (invitation.id) "/revoke" } { "Revoke" }
                                }
                            }
                        }
                    }
                }
            }
            (layout::next_page(&format!("{base}/invitations"), &[("status", status_text.as_str())], invitations.next_cursor.as_deref()))
        }
    };
    Ok(layout::page(
        &visit,
        &page.user,
        Some(page.frame(Section::Invitations)),
        "Invitations",
        content,
    ))
}

/// `POST /console/orgs/{org}/invitations/{id}/resend`.
async fn resend(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path((org, id)): Path<(String, String)>,
) -> Result<Redirect, PageError> {
    let ctx = visit.require_login(&format!("/console/orgs/{org}/invitations"))?;
    let (org, id) = (org_id(&org)?, invitation_id(&id)?);
    state
        .run(move |r| r.resend_invitation(&ctx, org, id))
        .await?;
    Ok(Redirect::to(&format!(
        "/console/orgs/{org}/invitations?done=invitation_resent"
    )))
}

/// `GET /console/orgs/{org}/invitations/{id}/revoke`: asks first.
async fn confirm_revoke(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path((org, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let page = OrgPage::load(
        &state,
        &visit,
        &org,
        &format!("/console/orgs/{org}/invitations"),
    )
    .await?;
    let id = invitation_id(&id)?;
    let base = page.base();
    let response = layout::Confirm {
        question: "Revoke this invitation?",
        detail: html! { p { "Its link stops working at once. You can invite the address again later." } },
        action: &format!("{base}/invitations/{id}/revoke"),
        button: "Revoke invitation",
        cancel: &format!("{base}/invitations"),
    }
    .render(&visit, &page.user, page.frame(Section::Invitations));
    Ok(response)
}

/// `POST /console/orgs/{org}/invitations/{id}/revoke`.
async fn revoke(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path((org, id)): Path<(String, String)>,
) -> Result<Redirect, PageError> {
    let ctx = visit.require_login(&format!("/console/orgs/{org}/invitations"))?;
    let (org, id) = (org_id(&org)?, invitation_id(&id)?);
    state
        .run(move |r| r.revoke_invitation(&ctx, org, id))
        .await?;
    Ok(Redirect::to(&format!(
        "/console/orgs/{org}/invitations?done=invitation_revoked"
    )))
}
