//! The org switcher (the caller's orgs and "create organization") and an
//! org's overview: settings for admins, deletion for owners.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use maud::{html, Markup};
use roster_core::ids::OrgId;
use roster_core::model::{Org, User};
use roster_core::pagination::PageRequest;
use roster_core::role::OrgRole;
use roster_core::service::OrgUpdate;
use roster_core::{Ctx, DomainError, Roster};
use serde::Deserialize;

use crate::actions::{notice, Confirm, Notice};
use crate::error::PageError;
use crate::forms::{Form, ListQuery, Path, Query};
use crate::layout::{self, csrf_field, OrgFrame, Section};
use crate::paths::{self, OrgPaths};
use crate::session::Visit;
use crate::ConsoleState;

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
/// it (the core answers 404 to non-members), and what it takes to run core
/// calls and render the page.
pub struct OrgPage {
    pub ctx: Ctx,
    pub user: User,
    pub org: Org,
    pub role: OrgRole,
    pub visit: Visit,
    state: ConsoleState,
}

impl OrgPage {
    /// Loads the caller and the org, or sends a logged-out caller to login
    /// and then to the org's page that `back_to` picks.
    pub async fn load(
        state: &ConsoleState,
        visit: &Visit,
        org: &str,
        back_to: impl FnOnce(&OrgPaths) -> String,
    ) -> Result<Self, PageError> {
        let ctx = visit.require_login(&back_to(&OrgPaths::new(org)))?;
        let org = org_id(org)?;
        let inner = ctx.clone();
        let (user, (org, role)) = state
            .run(move |r| Ok((r.me(&inner)?, r.get_org(&inner, org)?)))
            .await?;
        Ok(Self {
            ctx,
            user,
            org,
            role,
            visit: visit.clone(),
            state: state.clone(),
        })
    }

    /// Runs a core call as the caller, in this org.
    pub async fn run<T, F>(&self, f: F) -> Result<T, DomainError>
    where
        T: Send + 'static,
        F: FnOnce(&Roster, &Ctx, OrgId) -> Result<T, DomainError> + Send + 'static,
    {
        let (ctx, org) = (self.ctx.clone(), self.org.id);
        self.state.run(move |r| f(r, &ctx, org)).await
    }

    /// The page under tab `section`, titled `title`.
    pub fn render(&self, section: Section, title: &str, content: Markup) -> Response {
        let frame = OrgFrame {
            org: &self.org,
            role: self.role,
            section,
        };
        layout::page(&self.visit, &self.user, Some(frame), title, content)
    }

    /// The addresses of the org's pages.
    pub fn paths(&self) -> OrgPaths {
        OrgPaths::new(self.org.id)
    }
}

/// `GET /console/orgs`: the org switcher.
pub(crate) async fn list(
    State(state): State<ConsoleState>,
    visit: Visit,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let ctx = visit.require_login(paths::ORGS)?;
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
                        a href=(OrgPaths::new(org.id).overview()) { (org.name) }
                        " " span.badge { (role.as_str()) }
                    }
                }
            }
            (layout::next_page(paths::ORGS, &[], page.next_cursor.as_deref()))
        }
        section.card.narrow aria-labelledby="create-org" {
            h2 #create-org { "Create an organization" }
            form method="post" action=(paths::ORGS) {
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
pub(crate) struct OrgForm {
    name: String,
    #[serde(default)]
    description: String,
}

/// `POST /console/orgs`: the creator becomes owner.
pub(crate) async fn create(
    State(state): State<ConsoleState>,
    visit: Visit,
    Form(form): Form<OrgForm>,
) -> Result<Redirect, PageError> {
    let ctx = visit.require_login(paths::ORGS)?;
    state
        .act(
            move |r| {
                let description = Some(form.description.as_str()).filter(|d| !d.trim().is_empty());
                r.create_org(&ctx, &form.name, description)
            },
            |org| Notice::OrgCreated.at(OrgPaths::new(org.id).overview()),
        )
        .await
}

/// `GET /console/orgs/{org}`: overview and settings.
pub(crate) async fn overview(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path(org): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let page = OrgPage::load(&state, &visit, &org, OrgPaths::overview).await?;
    let paths = page.paths();
    let content = html! {
        h1 { (page.org.name) }
        (notice(query.done.as_deref()))
        @if page.org.description.is_empty() {
            p.muted { "No description." }
        } @else {
            p { (page.org.description) }
        }
        p { "Your role: " span.badge { (page.role.as_str()) } }
        @if page.role.can_administer() {
            section.card.narrow aria-labelledby="settings" {
                h2 #settings { "Settings" }
                form method="post" action=(paths.overview()) {
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
            p { a.button.secondary href=(paths.leave()) { "Leave this organization" } }
            @if page.role == OrgRole::Owner {
                p { a.button.danger href=(paths.delete()) { "Delete this organization" } }
            }
        }
    };
    Ok(page.render(Section::Settings, &page.org.name, content))
}

/// `POST /console/orgs/{org}`: saves name and description (admin and up).
pub(crate) async fn update(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path(org): Path<String>,
    Form(form): Form<OrgForm>,
) -> Result<Redirect, PageError> {
    let ctx = visit.require_login(&OrgPaths::new(&org).overview())?;
    let org = org_id(&org)?;
    state
        .act(
            move |r| {
                r.update_org(
                    &ctx,
                    org,
                    OrgUpdate {
                        name: Some(&form.name),
                        description: Some(&form.description),
                    },
                )
            },
            |_| Notice::OrgUpdated.at(OrgPaths::new(org).overview()),
        )
        .await
}

/// `GET /console/orgs/{org}/delete`: asks first.
pub(crate) async fn confirm_delete(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path(org): Path<String>,
) -> Result<Response, PageError> {
    let page = OrgPage::load(&state, &visit, &org, OrgPaths::overview).await?;
    if page.role != OrgRole::Owner {
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
pub(crate) async fn delete(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path(org): Path<String>,
) -> Result<Redirect, PageError> {
    let ctx = visit.require_login(&OrgPaths::new(&org).overview())?;
    let org = org_id(&org)?;
    state
        .act(
            move |r| r.delete_org(&ctx, org),
            |_| Notice::OrgDeleted.at(paths::ORGS),
        )
        .await
}
