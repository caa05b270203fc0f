//! An org's projects and each project's members. Org admins and project
//! admins manage a project; the page asks the core which the caller is.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::html;
use roster_core::ids::ProjectId;
use roster_core::pagination::PageRequest;
use roster_core::role::ProjectRole;
use roster_core::service::{Action, MemberRef, ProjectUpdate};
use serde::Deserialize;

use crate::error::PageError;
use crate::forms::{Form, ListQuery, Path, Query};
use crate::layout::{self, csrf_field, notice, when, Section};
use crate::members::user_id;
use crate::orgs::{org_id, OrgPage};
use crate::session::Visit;
use crate::ConsoleState;

pub fn routes() -> Router<ConsoleState> {
    Router::new()
        .route("/orgs/{org}/projects", get(list).post(create))
        .route("/orgs/{org}/projects/{project}", get(show).post(update))
        .route(
            "/orgs/{org}/projects/{project}/delete",
            get(confirm_delete).post(delete),
        )
        .route("/orgs/{org}/projects/{project}/members", post(add_member))
        .route(
            "/orgs/{org}/projects/{project}/members/{user}/remove",
            get(confirm_remove_member).post(remove_member),
        )
}

fn project_id(raw: &str) -> Result<ProjectId, PageError> {
    ProjectId::parse(raw)
        .map_err(|_| PageError::Status(StatusCode::NOT_FOUND, "There is no such project.".into()))
}

/// `GET /console/orgs/{org}/projects`.
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
        &format!("/console/orgs/{org}/projects"),
    )
    .await?;
    let (ctx, org_id) = (page.ctx.clone(), page.org.id);
    let cursor = query.cursor.clone();
    let projects = state
        .run(move |r| {
            let request =
                PageRequest::parse(Some("50"), cursor.as_deref(), PageRequest::MAX_LIMIT)?;
            r.list_projects(&ctx, org_id, &request)
        })
        .await?;
    let base = page.base();
    let content = html! {
        h1 { "Projects" }
        (notice(query.done.as_deref()))
        @if projects.items.is_empty() {
            p { "No projects yet." }
        } @else {
            table {
                thead { tr { th { "Name" } th { "Description" } th { "Status" } th { "Created" } } }
                tbody {
                    @for project in &projects.items {
                        tr {
                            td data-label="Name" { a href={ (base) "/projects/" (project.id) } { (project.name) } }
                            td data-label="Description" { (project.description) }
                            td data-label="Status" { (project.status.as_str()) }
                            td data-label="Created" { (when(project.created_at)) }
                        }
                    }
                }
            }
            (layout::next_page(&format!("{base}/projects"), &[], projects.next_cursor.as_deref()))
        }
        @if page.grant.allows(Action::CreateProject) {
            section.card.narrow aria-labelledby="create-project" {
                h2 #create-project { "Create a project" }
                form method="post" action={ (base) "/projects" } {
                    (csrf_field(&visit))
                    label for="project-name" { "Name" }
                    input #project-name type="text" name="name" required maxlength="100";
                    label for="project-description" { "Description " span.muted { "(optional)" } }
                    textarea #project-description name="description" maxlength="1000" {}
                    button type="submit" { "Create project" }
                }
            }
        }
    };
    Ok(layout::page(
        &visit,
        &page.user,
        Some(page.frame(Section::Projects)),
        "Projects",
        content,
    ))
}

#[derive(Debug, Deserialize)]
struct ProjectForm {
    name: String,
    #[serde(default)]
    description: String,
}

/// `POST /console/orgs/{org}/projects`.
async fn create(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path(org): Path<String>,
    Form(form): Form<ProjectForm>,
) -> Result<Redirect, PageError> {
    let ctx = visit.require_login(&format!("/console/orgs/{org}/projects"))?;
    let org = org_id(&org)?;
    let project = state
        .run(move |r| {
            let description = Some(form.description.as_str()).filter(|d| !d.trim().is_empty());
            r.create_project(&ctx, org, &form.name, description)
        })
        .await?;
    Ok(Redirect::to(&format!(
        "/console/orgs/{org}/projects/{}?done=project_created",
        project.id
    )))
}

/// `GET /console/orgs/{org}/projects/{project}`: details and members.
async fn show(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path((org, project)): Path<(String, String)>,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let page = OrgPage::load(
        &state,
        &visit,
        &org,
        &format!("/console/orgs/{org}/projects/{project}"),
    )
    .await?;
    let project = project_id(&project)?;
    let (ctx, org_id) = (page.ctx.clone(), page.org.id);
    let cursor = query.cursor.clone();
    let ((project, manage), members) = state
        .run(move |r| {
            let request =
                PageRequest::parse(Some("50"), cursor.as_deref(), PageRequest::MAX_LIMIT)?;
            Ok((
                r.project_with_access(&ctx, org_id, project)?,
                r.list_project_members(&ctx, org_id, project, &request)?,
            ))
        })
        .await?;
    let here = format!("{}/projects/{}", page.base(), project.id);
    let content = html! {
        p { a href={ (page.base()) "/projects" } { "← All projects" } }
        h1 { (project.name) }
        (notice(query.done.as_deref()))
        @if project.description.is_empty() { p.muted { "No description." } } @else { p { (project.description) } }
        h2 { "Project members" }
        @if members.items.is_empty() {
            p { "No members yet." }
        } @else {
            table {
                thead { tr { th { "Email" } th { "Project role" } th { "Added" } @if manage { th { "Actions" } } } }
                tbody {
                    @for member in &members.items {
                        tr {
                            td data-label="Email" { (member.email) }
                            td data-label="Project role" { span.badge { (member.role.as_str()) } }
                            td data-label="Added" { (when(member.created_at)) }
                            @if manage {
                                td data-label="Actions" { a href={ (here) "/members/" (member.user_id) "/remove" } { "Remove" } }
                            }
                        }
                    }
                }
            }
            (layout::next_page(&here, &[], members.next_cursor.as_deref()))
        }
        @if manage {
            section.card.narrow aria-labelledby="add-project-member" {
                h2 #add-project-member { "Add or re-role a member" }
                p.hint { "The person must already be a member of the organization." }
                form method="post" action={ (here) "/members" } {
                    (csrf_field(&visit))
                    label for="pm-email" { "Email" }
                    input #pm-email type="email" name="email" required;
                    label for="pm-role" { "Project role" }
                    select #pm-role name="role" {
                        option value="member" selected { "member" }
                        option value="admin" { "admin" }
                    }
                    button type="submit" { "Add to project" }
                }
            }
            section.card.narrow aria-labelledby="project-settings" {
                h2 #project-settings { "Settings" }
                form method="post" action=(here) {
                    (csrf_field(&visit))
                    label for="project-name" { "Name" }
                    input #project-name type="text" name="name" value=(project.name) required maxlength="100";
                    label for="project-description" { "Description" }
                    textarea #project-description name="description" maxlength="1000" { (project.description) }
                    button type="submit" { "Save project" }
                }
                p { a.button.danger href={ (here) "/delete" } { "Delete project" } }
            }
        }
    };
    let title = project.name.clone();
    Ok(layout::page(
        &visit,
        &page.user,
        Some(page.frame(Section::Projects)),
        &title,
        content,
    ))
}

/// `POST /console/orgs/{org}/projects/{project}`.
async fn update(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path((org, project)): Path<(String, String)>,
    Form(form): Form<ProjectForm>,
) -> Result<Redirect, PageError> {
    let ctx = visit.require_login(&format!("/console/orgs/{org}/projects"))?;
    let (org, project) = (org_id(&org)?, project_id(&project)?);
    state
        .run(move |r| {
            r.update_project(
                &ctx,
                org,
                project,
                ProjectUpdate {
                    name: Some(&form.name),
                    description: Some(&form.description),
                    status: None,
                },
            )
        })
        .await?;
    Ok(Redirect::to(&format!(
        "/console/orgs/{org}/projects/{project}?done=project_updated"
    )))
}

/// `GET /console/orgs/{org}/projects/{project}/delete`: asks first.
async fn confirm_delete(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path((org, project)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let page = OrgPage::load(
        &state,
        &visit,
        &org,
        &format!("/console/orgs/{org}/projects"),
    )
    .await?;
    let project = project_id(&project)?;
    let (ctx, org_id) = (page.ctx.clone(), page.org.id);
    let (project, _) = state
        .run(move |r| r.project_with_access(&ctx, org_id, project))
        .await?;
    let here = format!("{}/projects/{}", page.base(), project.id);
    let response = layout::Confirm {
        question: "Delete this project?",
        detail: html! { p { "Deleting " strong { (project.name) } " removes its member list. This cannot be undone." } },
        action: &format!("{here}/delete"),
        button: "Delete project",
        cancel: &here,
    }
    .render(&visit, &page.user, page.frame(Section::Projects))
    ;
    Ok(response)
}

/// `POST /console/orgs/{org}/projects/{project}/delete`.
async fn delete(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path((org, project)): Path<(String, String)>,
) -> Result<Redirect, PageError> {
    let ctx = visit.require_login(&format!("/console/orgs/{org}/projects"))?;
    let (org, project) = (org_id(&org)?, project_id(&project)?);
    state
        .run(move |r| r.delete_project(&ctx, org, project))
        .await?;
    Ok(Redirect::to(&format!(
        "/console/orgs/{org}/projects?done=project_deleted"
    )))
}

#[derive(Debug, Deserialize)]
struct ProjectMemberForm {
    email: String,
    role: String,
}

/// `POST /console/orgs/{org}/projects/{project}/members`.
async fn add_member(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path((org, project)): Path<(String, String)>,
    Form(form): Form<ProjectMemberForm>,
) -> Result<Redirect, PageError> {
    let ctx = visit.require_login(&format!("/console/orgs/{org}/projects"))?;
    let (org, project) = (org_id(&org)?, project_id(&project)?);
    state
        .run(move |r| {
            let role = ProjectRole::parse(&form.role)?;
            let who = MemberRef::email(&form.email)?;
            r.add_project_member(&ctx, org, project, &who, role)
        })
        .await?;
    Ok(Redirect::to(&format!(
        "/console/orgs/{org}/projects/{project}?done=project_member_added"
    )))
}

/// `GET …/projects/{project}/members/{user}/remove`: asks first.
async fn confirm_remove_member(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path((org, project, user)): Path<(String, String, String)>,
) -> Result<Response, PageError> {
    let page = OrgPage::load(
        &state,
        &visit,
        &org,
        &format!("/console/orgs/{org}/projects"),
    )
    .await?;
    let (project, user) = (project_id(&project)?, user_id(&user)?);
    let (ctx, org_id) = (page.ctx.clone(), page.org.id);
    let (project, member) = state
        .run(move |r| r.get_project_member(&ctx, org_id, project, user))
        .await?;
    let here = format!("{}/projects/{}", page.base(), project.id);
    let response = layout::Confirm {
        question: "Remove from the project?",
        detail: html! { p { strong { (member.email) } " leaves the project " strong { (project.name) } " (but stays in the organization)." } },
        action: &format!("{here}/members/{user}/remove"),
        button: "Remove from project",
        cancel: &here,
    }
    .render(&visit, &page.user, page.frame(Section::Projects))
    ;
    Ok(response)
}

/// `POST …/projects/{project}/members/{user}/remove`.
async fn remove_member(
    State(state): State<ConsoleState>,
    visit: Visit,
    Path((org, project, user)): Path<(String, String, String)>,
) -> Result<Redirect, PageError> {
    let ctx = visit.require_login(&format!("/console/orgs/{org}/projects"))?;
    let (org, project, user) = (org_id(&org)?, project_id(&project)?, user_id(&user)?);
    state
        .run(move |r| r.remove_project_member(&ctx, org, project, user))
        .await?;
    Ok(Redirect::to(&format!(
        "/console/orgs/{org}/projects/{project}?done=project_member_removed"
    )))
}
