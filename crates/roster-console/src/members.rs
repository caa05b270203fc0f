//! An org's members: the searchable, paginated table; inviting by email
//! with a role and a message; changing roles; removing; leaving.

use axum::response::{Redirect, Response};
use maud::{html, Markup};
use roster_core::ids::{OrgId, UserId};
use roster_core::model::MemberFilter;
use roster_core::role::OrgRole;
use roster_core::service::{
    Action, AddMemberOutcome, IfMember, MemberChange, MemberRef, NewMember, OwnerPolicy,
};
use serde::Deserialize;

use crate::actions::{notice, Confirm, Notice};
use crate::error::PageError;
use crate::forms::{table_page, Form, ListQuery, Query};
use crate::layout::{self, csrf_field, Section};
use crate::org_page::OrgRequest;
use crate::paths::{self, OrgPaths};

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
pub async fn list(
    request: OrgRequest<OrgId>,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let (page, _) = request.page(OrgPaths::members).await?;
    let visit = &page.visit;
    let search = query.q.clone().unwrap_or_default();
    let cursor = query.cursor.clone();
    let filter = MemberFilter {
        query: Some(search.clone()),
        role: None,
    };
    let members = page
        .run(move |r, ctx, org| r.list_members(ctx, org, &filter, &table_page(cursor)?))
        .await?;
    let paths = page.paths();
    let admin = page.grant.allows(Action::AddMember);
    let roles = page.grant.grantable_roles();
    let me = page.user.id;
    let content = html! {
        h1 { "Members" }
        (notice(query.done.as_deref()))
        form.row role="search" method="get" action=(paths.members()) {
            div {
                label for="member-search" { "Search by email, username or name" }
                input #member-search type="search" name="q" value=(search) maxlength="254";
            }
            div { button.secondary type="submit" { "Search" } }
            @if !search.is_empty() {
                div { a href=(paths.members()) { "Clear search" } }
            }
        }
        (layout::paged_table(&members, "No member matches.", &["Email", "Name", "Username", "Role", "Actions"], &paths.members(), &[("q", search.as_str())], |member| html! {
            @let uid = member.user.id.to_string();
            @let editable = page.grant.may_manage(member.role);
            tr {
                td data-label="Email" { (member.user.email) }
                td data-label="Name" { (member.user.name) }
                td data-label="Username" { (member.user.username) }
                td data-label="Role" {
                    @if editable && member.user.id != me {
                        form.row method="post" action=(paths.member_role(&uid)) {
                            (csrf_field(visit))
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
                        a href=(paths.leave()) { "Leave" }
                    } @else if editable {
                        a href=(paths.member_remove(&uid)) { "Remove" }
                    }
                }
            }
        }))
        @if admin {
            section.card.narrow aria-labelledby="invite" {
                h2 #invite { "Invite someone" }
                p.hint { "A person who already has an account joins at once; anyone else gets an invitation by email." }
                form method="post" action=(paths.members()) {
                    (csrf_field(visit))
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
    Ok(page.render(Section::Members, "Members", content))
}

#[derive(Debug, Deserialize)]
pub struct InviteForm {
    email: String,
    role: String,
    #[serde(default)]
    message: String,
}

/// `POST /console/orgs/{org}/members`: adds, re-roles or invites.
pub async fn invite(
    request: OrgRequest<OrgId>,
    Form(form): Form<InviteForm>,
) -> Result<Redirect, PageError> {
    request
        .act_then(
            OrgPaths::members,
            move |r, ctx, org| {
                let role = OrgRole::parse(&form.role)?;
                let message = Some(form.message.as_str()).filter(|m| !m.trim().is_empty());
                r.add_member(
                    ctx,
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
            },
            |outcome, paths, _| {
                let notice = match outcome {
                    AddMemberOutcome::Added(_) => Notice::MemberAdded,
                    AddMemberOutcome::RoleUpdated(_) => Notice::RoleChanged,
                    AddMemberOutcome::Invited {
                        refreshed: true, ..
                    } => Notice::InvitationRefreshed,
                    AddMemberOutcome::Invited { .. } => Notice::MemberInvited,
                };
                notice.at(paths.members())
            },
        )
        .await
}

#[derive(Debug, Deserialize)]
pub struct RoleForm {
    role: String,
}

/// `POST /console/orgs/{org}/members/{user}/role`.
pub async fn change_role(
    request: OrgRequest<(OrgId, UserId)>,
    Form(form): Form<RoleForm>,
) -> Result<Redirect, PageError> {
    request
        .act(
            OrgPaths::members,
            Notice::RoleChanged,
            move |r, ctx, (org, user)| {
                let role = OrgRole::parse(&form.role)?;
                r.change_member(
                    ctx,
                    org,
                    &MemberRef::Id(user),
                    &MemberChange::role(role),
                    OwnerPolicy::Manage,
                )
            },
        )
        .await
}

/// `GET /console/orgs/{org}/members/{user}/remove`: asks first.
pub async fn confirm_remove(request: OrgRequest<(OrgId, UserId)>) -> Result<Response, PageError> {
    let (page, (_, user)) = request.page(OrgPaths::members).await?;
    let member = page
        .run(move |r, ctx, org| r.get_member(ctx, org, &MemberRef::Id(user)))
        .await?;
    let paths = page.paths();
    Ok(page.confirm(Confirm {
        section: Section::Members,
        question: "Remove this member?",
        detail: html! {
            p { strong { (member.user.email) } " (" (member.role.as_str()) ") loses access to "
                strong { (page.org.name) } " and all its projects." }
        },
        action: paths.member_remove(user),
        button: "Remove member",
        cancel: paths.members(),
    }))
}

/// `POST /console/orgs/{org}/members/{user}/remove`.
pub async fn remove(request: OrgRequest<(OrgId, UserId)>) -> Result<Redirect, PageError> {
    request
        .act(
            OrgPaths::members,
            Notice::MemberRemoved,
            |r, ctx, (org, user)| {
                r.remove_member(ctx, org, &MemberRef::Id(user), OwnerPolicy::Manage)
            },
        )
        .await
}

/// `GET /console/orgs/{org}/leave`: asks first.
pub async fn confirm_leave(request: OrgRequest<OrgId>) -> Result<Response, PageError> {
    let (page, _) = request.page(OrgPaths::overview).await?;
    let paths = page.paths();
    Ok(page.confirm(Confirm {
        section: Section::Settings,
        question: "Leave this organization?",
        detail: html! {
            p { "You lose access to " strong { (page.org.name) } " and its projects until someone invites you again." }
        },
        action: paths.leave(),
        button: "Leave organization",
        cancel: paths.overview(),
    }))
}

/// `POST /console/orgs/{org}/leave`: any member but the last owner.
pub async fn leave(request: OrgRequest<OrgId>) -> Result<Redirect, PageError> {
    request
        .act_then(
            OrgPaths::overview,
            |r, ctx, org| r.leave_org(ctx, org),
            |_, _, _| Notice::LeftOrg.at(paths::ORGS),
        )
        .await
}
