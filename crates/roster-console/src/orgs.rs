//! The org switcher (the caller's orgs and "create organization") and an
//! org's overview: settings for admins, deletion for owners.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use axum::routing::get;
use axum::Router;
use maud::html;
use roster_core::ids::OrgId;
use roster_core::model::{Org, User};
use roster_core::pagination::PageRequest;
use roster_core::service::{Action, Grant, OrgUpdate};
use roster_core::Ctx;
use serde::Deserialize;

use crate::error::PageError;
use crate::forms::{Form, ListQuery, Path, Query};
use crate::layout::{self, csrf_field, notice, OrgFrame, Section};
use crate::session::Visit;
use crate::ConsoleState;

pub fn routes() -> Router<ConsoleState> {
    Router::new()
        .route("/orgs", get(list).post(create))
        .route("/orgs/{org}", get(overview).post(update))
        .route("/orgs/{org}/delete", get(confirm_delete).post(delete))
}

/// An org id from the path; a malformed one is a page that does not exist.
pub fn org_id(raw: &str) -> Result<OrgId, PageError> {
    OrgId::parse(raw).map_err(|_| {
        PageError::Status(
            StatusCode::NOT_FOUND,
            "There is no such organization, or you are not a member of it.".into(),
        )
    })
}

/// What every org page needs: the caller, the org and the caller's role in
/// it (the core answers 404 to non-members).
pub struct OrgPage {
    pub ctx: Ctx,
    pub user: User,
    pub org: Org,
    /// What the caller may do here: pages offer only what it allows.
    pub grant: Grant,
}

impl OrgPage {
    /// Loads the caller and the org, or sends a logged-out caller to login.
    pub async fn load(
        state: &ConsoleState,
        visit: &Visit,
        org: &str,
        back_to: &str,
    ) -> Result<Self, PageError> {
        let ctx = visit.require_login(back_to)?;
        let org = org_id(org)?;
        let inner = ctx.clone();
        let (user, (org, grant)) = state
            .run(move |r| Ok((r.me(&inner)?, r.get_org(&inner, org)?)))
            .await?;
        Ok(Self {
            ctx,
            user,
            org,
            grant,
        })
    }

    pub fn frame(&self, section: Section) -> OrgFrame<'_> {
        OrgFrame {
            org: &self.org,
            grant: &self.grant,
            section,
        }
    }

    /// The org's console base path.
    pub fn base(&self) -> String {
        format!("/console/orgs/{}", self.org.id)
    }
}

/// `GET /console/orgs`: the org switcher.
async fn list(
    State(state): State<ConsoleState>,
    visit: Visit,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let ctx = visit.require_login("/console/orgs")?;
    let cursor = query.cursor.clone();
    let (user, page) = state
        .run(move |r| {
            let page = PageRequest::parse(None, cursor.as_deref(), PageRequest::MAX_LIMIT)?;
            Ok((r.me(&ctx)?, r.list_my_orgs(&ctx, &page)?))
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
                        a href={ "/console/orgs/" (org.id) } { (org.name) }
                        " " span.badge { (role.as_str()) }
                    }
                }
            }
            (layout::next_page("/console/orgs", &[], page.next_cursor.as_deref()))
        }
        section.card.narrow aria-labelledby="create-org" {
            h2 #create-org { "Create an organization" }
            form method="post" action="/console/orgs" {
                (csrf_field(&visit))
                label for="org-name" { "Name" }
                input #org-name type="text" name="name" required maxlength="100";
                label for="org-description" { "Description " span.muted { "(optional)" } }
                textarea #org-description name="description" maxlength="1000" {}
                button type="submit" { "Create organization" }
            }
        }
    };
    Ok(layout::page(&visit, &user, None, "Organizations", content))
}

#[derive(Debug, Deserialize)]
struct OrgForm {
    name: String,
    #[serde(default)]
    description: String,
}

/// `POST /console/orgs`: the creator becomes owner.
async fn create(
    State(state): State<ConsoleState>,
    visit: Visit,
    Form(form): Form<OrgForm>,
) -> Result<Redirect, PageError> {
    let ctx = visit.require_login("/console/orgs")?;
    let org = state
        .run(move |r| {
            let description = Some(form.description.as_str()).filter(|d| !d.trim().is_empty());
            r.create_org(&ctx, &form.name, description)
        })
        .await?;
    Ok(Redirect::to(&format!(
        "/console/orgs/{}?done=org_created",
        org.id
    )))
}

/// `GET /console/orgs/{org}`: overview and settings.
async fn overview(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path(org): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let page = OrgPage::load(&state, &visit, &org, &format!("/console/orgs/{org}")).await?;
    let base = page.base();
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
                form method="post" action=(base) {
                    (csrf_field(&visit))
                    label for="org-name" { "Name" }
                    input #org-name type="text" name="name" value=(page.org.name) required maxlength="100";
                    label for="org-description" { "Description" }
                    textarea #org-description name="description" maxlength="1000" { (page.org.description) }
                    button type="submit" { "Save settings" }
                }
            }
        }
        section.card.narrow aria-labelledby="danger" {
            h2 #danger { "Leave or delete" }
            p { a.button.secondary href={ (base) "/leave" } { "Leave this organization" } }
            @if page.grant.allows(Action::DeleteOrg) {
                p { a.button.danger href={ (base) "/delete" } { "Delete this organization" } }
            }
        }
    };
    let title = page.org.name.clone();
    Ok(layout::page(
        &visit,
        &page.user,
        Some(page.frame(Section::Settings)),
        &title,
        content,
    ))
}

/// `POST /console/orgs/{org}`: saves name and description (admin and up).
async fn update(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path(org): Path<String>,
    Form(form): Form<OrgForm>,
) -> Result<Redirect, PageError> {
    let ctx = visit.require_login(&format!("/console/orgs/{org}"))?;
    let org = org_id(&org)?;
    state
        .run(move |r| {
            r.update_org(
                &ctx,
                org,
                OrgUpdate {
                    name: Some(&form.name),
                    description: Some(&form.description),
                },
            )
        })
        .await?;
    Ok(Redirect::to(&format!(
        "/console/orgs/{org}?done=org_updated"
    )))
}

/// `GET /console/orgs/{org}/delete`: asks first.
async fn confirm_delete(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path(org): Path<String>,
) -> Result<Response, PageError> {
    let page = OrgPage::load(&state, &visit, &org, &format!("/console/orgs/{org}")).await?;
    if !page.grant.allows(Action::DeleteOrg) {
        return Err(PageError::Status(
            StatusCode::FORBIDDEN,
            "Only an owner may delete the organization.".into(),
        ));
    }
    let base = page.base();
    let detail = html! {
        p { "Deleting " strong { (page.org.name) } " removes its members, projects, invitations and API keys. This cannot be undone." }
    };
    Ok(layout::Confirm {
        question: "Delete this organization?",
        detail,
        action: &format!("{base}/delete"),
        button: "Delete organization",
        cancel: &base,
    }
    .render(&visit, &page.user, page.frame(Section::Settings)))
}

/// `POST /console/orgs/{org}/delete` (owner).
async fn delete(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path(org): Path<String>,
) -> Result<Redirect, PageError> {
    let ctx = visit.require_login(&format!("/console/orgs/{org}"))?;
    let org = org_id(&org)?;
    state.run(move |r| r.delete_org(&ctx, org)).await?;
    Ok(Redirect::to("/console/orgs?done=org_deleted"))
}
