//! The org switcher (the caller's orgs and "create organization") and an
//! org's overview: settings for admins, deletion for owners.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use maud::html;
use roster_core::ids::OrgId;
use roster_core::pagination::PageRequest;
use roster_core::service::{Action, OrgUpdate};

use crate::actions::{notice, Confirm, Notice};
use crate::error::PageError;
use crate::forms::{Form, ListQuery, NameForm, Query};
use crate::layout::{self, csrf_field, Section};
use crate::org_page::OrgRequest;
use crate::paths::{self, OrgPaths};
use crate::session::Visit;
use crate::ConsoleState;

/// `GET /console/orgs`: the org switcher.
pub async fn list(
    State(state): State<ConsoleState>,
    visit: Visit,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let ctx = visit.require_login(paths::ORGS)?;
    let cursor = query.cursor.clone();
    let (user, page) = state
        .run(move |r| {
            let page = PageRequest::parse(None, cursor.as_deref(), PageRequest::MAX_LIMIT)?;
            r.my_orgs_view(&ctx, &page)
        })
        .await?;
    let content = html! {
        h1 { "Your organizations" }
        (notice(query.done.as_deref()))
        @if page.items.is_empty() {
            p { "You are not a member of any organization yet. Create one below, or follow an invitation link from an email." }
        } @else {
            ul.orglist {
                @for (org, role) in &page.items {
                    li {
                        a href=(OrgPaths::new(org.id).overview()) { (org.name) }
                        " " span.badge { (role.as_str()) }
                    }
                }
            }
            (layout::next_page(paths::ORGS, &[], page.next_cursor.as_deref()))
        }
        (layout::create_form(&visit, "org", "Create an organization", paths::ORGS, "Create organization"))
    };
    Ok(layout::page(&visit, &user, None, "Organizations", content))
}

/// `POST /console/orgs`: the creator becomes owner.
pub async fn create(
    State(state): State<ConsoleState>,
    visit: Visit,
    Form(form): Form<NameForm>,
) -> Result<Redirect, PageError> {
    let ctx = visit.require_login(paths::ORGS)?;
    state
        .act(
            move |r| r.create_org(&ctx, &form.name, form.optional_description()),
            |org| Notice::OrgCreated.at(OrgPaths::new(org.id).overview()),
        )
        .await
}

/// `GET /console/orgs/{org}`: overview and settings.
pub async fn overview(
    request: OrgRequest<OrgId>,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let (page, _) = request.page(OrgPaths::overview).await?;
    let paths = page.paths();
    let content = html! {
        h1 { (page.org.name) }
        (notice(query.done.as_deref()))
        @if page.org.description.is_empty() {
            p.muted { "No description." }
        } @else {
            p { (page.org.description) }
        }
        p { "Your role: " span.badge { (page.grant.role.as_str()) } }
        @if page.grant.allows(Action::UpdateOrg) {
            section.card.narrow aria-labelledby="settings" {
                h2 #settings { "Settings" }
                form method="post" action=(paths.overview()) {
                    (csrf_field(&page.visit))
                    (layout::name_and_description("org", Some((&page.org.name, &page.org.description))))
                    button type="submit" { "Save settings" }
                }
            }
        }
        section.card.narrow aria-labelledby="danger" {
            h2 #danger { "Leave or delete" }
            p { a.button.secondary href=(paths.leave()) { "Leave this organization" } }
            @if page.grant.allows(Action::DeleteOrg) {
                p { a.button.danger href=(paths.delete()) { "Delete this organization" } }
            }
        }
    };
    Ok(page.render(Section::Settings, &page.org.name, content))
}

/// `POST /console/orgs/{org}`: saves name and description (admin and up).
pub async fn update(
    request: OrgRequest<OrgId>,
    Form(form): Form<NameForm>,
) -> Result<Redirect, PageError> {
    request
        .act(
            OrgPaths::overview,
            Notice::OrgUpdated,
            move |r, ctx, org| {
                let fields = OrgUpdate {
                    name: Some(&form.name),
                    description: Some(&form.description),
                };
                r.update_org(ctx, org, fields)
            },
        )
        .await
}

/// `GET /console/orgs/{org}/delete`: asks first.
pub async fn confirm_delete(request: OrgRequest<OrgId>) -> Result<Response, PageError> {
    let (page, _) = request.page(OrgPaths::overview).await?;
    if !page.grant.allows(Action::DeleteOrg) {
        return Err(PageError::Status(
            StatusCode::FORBIDDEN,
            "Only an owner may delete the organization.".into(),
        ));
    }
    let paths = page.paths();
    Ok(page.confirm(Confirm {
        section: Section::Settings,
        question: "Delete this organization?",
        detail: html! {
            p { "Deleting " strong { (page.org.name) } " removes its members, projects, invitations and API keys. This cannot be undone." }
        },
        action: paths.delete(),
        button: "Delete organization",
        cancel: paths.overview(),
    }))
}

/// `POST /console/orgs/{org}/delete` (owner).
pub async fn delete(request: OrgRequest<OrgId>) -> Result<Redirect, PageError> {
    request
        .act_then(
            OrgPaths::overview,
            |r, ctx, org| r.delete_org(ctx, org),
            |_, _, _| Notice::OrgDeleted.at(paths::ORGS),
        )
        .await
}
