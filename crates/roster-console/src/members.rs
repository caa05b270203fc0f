//! An org's members: the searchable, paginated table; inviting by email
//! with a role and a message; changing roles; removing; leaving.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use roster_core::ids::UserId;
use roster_core::model::MemberFilter;
use roster_core::pagination::PageRequest;
use roster_core::role::OrgRole;
use roster_core::service::{
    Action, AddMemberOutcome, IfMember, MemberChange, MemberRef, NewMember, OwnerPolicy,
};
use serde::Deserialize;

use crate::error::PageError;
use crate::forms::{Form, ListQuery, Path, Query};
use crate::layout::{self, csrf_field, notice, Section};
use crate::orgs::{org_id, OrgPage};
use crate::session::Visit;
use crate::ConsoleState;

/// Rows per page of the member table.
const PAGE_SIZE: &str = "50";

pub fn routes() -> Router<ConsoleState> {
    Router::new()
        .route("/orgs/{org}/members", get(list).post(invite))
        .route(
            "/orgs/{org}/members/{user}/role",
            axum::routing::post(change_role),
        )
        .route(
            "/orgs/{org}/members/{user}/remove",
            get(confirm_remove).post(remove),
        )
        .route("/orgs/{org}/leave", get(confirm_leave).post(leave))
}

/// A user id from the path; a malformed one names no member.
pub fn user_id(raw: &str) -> Result<UserId, PageError> {
    UserId::parse(raw)
        .map_err(|_| PageError::Status(StatusCode::NOT_FOUND, "There is no such member.".into()))
}

fn role_select(id: &str, name: &str, roles: &[OrgRole], selected: OrgRole) -> Markup {
    html! {
        select id=(id) name=(name) {
            @for role in roles {
                option value=(role.as_str()) selected[*role == selected] { (role.as_str()) }
            }
        }
    }
}

/// `GET /console/orgs/{org}/members`.
async fn list(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path(org): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let page = OrgPage::load(
        &state,
        &visit,
        &org,
        &format!("/console/orgs/{org}/members"),
    )
    .await?;
    let (ctx, org_id) = (page.ctx.clone(), page.org.id);
    let search = query.q.clone().unwrap_or_default();
    let cursor = query.cursor.clone();
    let filter = MemberFilter {
        query: Some(search.clone()),
        role: None,
    };
    let members = state
        .run(move |r| {
            let request =
                PageRequest::parse(Some(PAGE_SIZE), cursor.as_deref(), PageRequest::MAX_LIMIT)?;
            r.list_members(&ctx, org_id, &filter, &request)
        })
        .await?;
    let base = page.base();
    let admin = page.grant.allows(Action::AddMember);
    let roles = page.grant.grantable_roles();
    let me = page.user.id;
    let content = html! {
        h1 { "Members" }
        (notice(query.done.as_deref()))
        form.row role="search" method="get" action={ (base) "/members" } {
            div {
                label for="member-search" { "Search by email, username or name" }
                input #member-search type="search" name="q" value=(search) maxlength="254";
            }
            div { button.secondary type="submit" { "Search" } }
            @if !search.is_empty() {
                div { a href={ (base) "/members" } { "Clear search" } }
            }
        }
        @if members.items.is_empty() {
            p { "No member matches." }
        } @else {
            table {
                thead { tr { th { "Email" } th { "Name" } th { "Username" } th { "Role" } th { "Actions" } } }
                tbody {
                    @for member in &members.items {
                        @let uid = member.user.id.to_string();
                        @let editable = page.grant.may_manage(member.role);
                        tr {
                            td data-label="Email" { (member.user.email) }
                            td data-label="Name" { (member.user.name) }
                            td data-label="Username" { (member.user.username) }
                            td data-label="Role" {
                                @if editable && member.user.id != me {
                                    form.row method="post" action={ (base) "/members/" (uid) "/role" } {
                                        (csrf_field(&visit))
                                        label.visually-hidden for={ "role-" (uid) } { "Role of " (member.user.email) }
                                        (role_select(&format!("role-{uid}"), "role", &roles, member.role))
                                        button.small.secondary type="submit" { "Change role" }
                                    }
                                } @else {
                                    span.badge { (member.role.as_str()) }
                                }
                            }
                            td data-label="Actions" {
                                @if member.user.id == me {
                                    a href={ (base) "/leave" } { "Leave" }
                                } @else if editable {
                                    a href={ (base) "/members/" (uid) "/remove" } { "Remove" }
                                }
                            }
                        }
                    }
                }
            }
            (layout::next_page(&format!("{base}/members"), &[("q", search.as_str())], members.next_cursor.as_deref()))
        }
        @if admin {
            section.card.narrow aria-labelledby="invite" {
                h2 #invite { "Invite someone" }
                p.hint { "A person who already has an account joins at once; anyone else gets an invitation by email." }
                form method="post" action={ (base) "/members" } {
                    (csrf_field(&visit))
                    label for="invite-email" { "Email" }
                    input #invite-email type="email" name="email" required;
                    label for="invite-role" { "Role" }
                    (role_select("invite-role", "role", &roles, OrgRole::Member))
                    label for="invite-message" { "Message " span.muted { "(optional, included in the email)" } }
                    textarea #invite-message name="message" maxlength="1000" {}
                    button type="submit" { "Invite" }
                }
            }
        }
    };
    Ok(layout::page(
        &visit,
        &page.user,
        Some(page.frame(Section::Members)),
        "Members",
        content,
    ))
}

#[derive(Debug, Deserialize)]
struct InviteForm {
    email: String,
    role: String,
    #[serde(default)]
    message: String,
}

/// `POST /console/orgs/{org}/members`: adds, re-roles or invites.
async fn invite(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path(org): Path<String>,
    Form(form): Form<InviteForm>,
) -> Result<Redirect, PageError> {
    let ctx = visit.require_login(&format!("/console/orgs/{org}/members"))?;
    let org = org_id(&org)?;
    let outcome = state
        .run(move |r| {
            let role = OrgRole::parse(&form.role)?;
            let message = Some(form.message.as_str()).filter(|m| !m.trim().is_empty());
            r.add_member(
                &ctx,
                org,
                &NewMember {
                    who: MemberRef::email(&form.email)?,
                    role,
                    labels: Vec::new(),
                    message,
                    projects: &[],
                    if_member: IfMember::ChangeRole,
                },
            )
        })
        .await?;
    let done = match outcome {
        AddMemberOutcome::Added(_) => "member_added",
        AddMemberOutcome::RoleUpdated(_) => "role_changed",
        AddMemberOutcome::Invited {
            refreshed: true, ..
        } => "invitation_refreshed",
        AddMemberOutcome::Invited { .. } => "member_invited",
    };
    Ok(Redirect::to(&format!(
        "/console/orgs/{org}/members?done={done}"
    )))
}

#[derive(Debug, Deserialize)]
struct RoleForm {
    role: String,
}

/// `POST /console/orgs/{org}/members/{user}/role`.
async fn change_role(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path((org, user)): Path<(String, String)>,
    Form(form): Form<RoleForm>,
) -> Result<Redirect, PageError> {
    let ctx = visit.require_login(&format!("/console/orgs/{org}/members"))?;
    let (org, user) = (org_id(&org)?, user_id(&user)?);
    state
        .run(move |r| {
            let role = OrgRole::parse(&form.role)?;
            r.change_member(
                &ctx,
                org,
                &MemberRef::Id(user),
                &MemberChange::role(role),
                OwnerPolicy::Manage,
            )
        })
        .await?;
    Ok(Redirect::to(&format!(
        "/console/orgs/{org}/members?done=role_changed"
    )))
}

/// `GET /console/orgs/{org}/members/{user}/remove`: asks first.
async fn confirm_remove(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path((org, user)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let page = OrgPage::load(
        &state,
        &visit,
        &org,
        &format!("/console/orgs/{org}/members"),
    )
    .await?;
    let user = user_id(&user)?;
    let (ctx, org_id) = (page.ctx.clone(), page.org.id);
    let member = state
        .run(move |r| r.get_member(&ctx, org_id, &MemberRef::Id(user)))
        .await?;
    let base = page.base();
    let detail = html! {
        p { strong { (member.user.email) } " (" (member.role.as_str()) ") loses access to "
            strong { (page.org.name) } " and all its projects." }
    };
    Ok(layout::Confirm {
        question: "Remove this member?",
        detail,
        action: &format!("{base}/members/{user}/remove"),
        button: "Remove member",
        cancel: &format!("{base}/members"),
    }
    .render(&visit, &page.user, page.frame(Section::Members)))
}

/// `POST /console/orgs/{org}/members/{user}/remove`.
async fn remove(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path((org, user)): Path<(String, String)>,
) -> Result<Redirect, PageError> {
    let ctx = visit.require_login(&format!("/console/orgs/{org}/members"))?;
    let (org, user) = (org_id(&org)?, user_id(&user)?);
    state
        .run(move |r| r.remove_member(&ctx, org, &MemberRef::Id(user), OwnerPolicy::Manage))
        .await?;
    Ok(Redirect::to(&format!(
        "/console/orgs/{org}/members?done=member_removed"
    )))
}

/// `GET /console/orgs/{org}/leave`: asks first.
async fn confirm_leave(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path(org): Path<String>,
) -> Result<Response, PageError> {
    let page = OrgPage::load(&state, &visit, &org, &format!("/console/orgs/{org}")).await?;
    let base = page.base();
    let detail = html! {
        p { "You lose access to " strong { (page.org.name) } " and its projects until someone invites you again." }
    };
    Ok(layout::Confirm {
        question: "Leave this organization?",
        detail,
        action: &format!("{base}/leave"),
        button: "Leave organization",
        cancel: &base,
    }
    .render(&visit, &page.user, page.frame(Section::Settings)))
}

/// `POST /console/orgs/{org}/leave`: any member but the last owner.
async fn leave(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path(org): Path<String>,
) -> Result<Redirect, PageError> {
    let ctx = visit.require_login(&format!("/console/orgs/{org}"))?;
    let org = org_id(&org)?;
    state.run(move |r| r.leave_org(&ctx, org)).await?;
    Ok(Redirect::to("/console/orgs?done=left_org"))
}
