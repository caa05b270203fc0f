//! An org's projects and each project's members. Org admins and project
//! admins manage a project; the page asks the core which the caller is.

use axum::response::{Redirect, Response};
use maud::html;
use roster_core::ids::{OrgId, ProjectId, UserId};
use roster_core::role::ProjectRole;
use roster_core::service::{Action, MemberRef, ProjectUpdate};
use serde::Deserialize;

use crate::actions::{notice, Confirm, Notice};
use crate::error::PageError;
use crate::forms::{table_page, Form, ListQuery, NameForm, Query};
use crate::layout::{self, csrf_field, when, Section};
use crate::org_page::{OrgRequest, Segment};
use crate::paths::OrgPaths;

/// `GET /console/orgs/{org}/projects`.
pub async fn list(
    request: OrgRequest<OrgId>,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let (page, _) = request.page(OrgPaths::projects).await?;
    let cursor = query.cursor.clone();
    let projects = page
        .run(move |r, ctx, org| r.list_projects(ctx, org, &table_page(cursor)?))
        .await?;
    let paths = page.paths();
    let content = html! {
        h1 { "Projects" }
        (notice(query.done.as_deref()))
        (layout::paged_table(&projects, "No projects yet.", &["Name", "Description", "Status", "Created"], &paths.projects(), &[], |project| html! {
            tr {
                td data-label="Name" { a href=(paths.project(project.id).page()) { (project.name) } }
                td data-label="Description" { (project.description) }
                td data-label="Status" { (project.status.as_str()) }
                td data-label="Created" { (when(project.created_at)) }
            }
        }))
        @if page.grant.allows(Action::CreateProject) {
            (layout::create_form(&page.visit, "project", "Create a project", &paths.projects(), "Create project"))
        }
    };
    Ok(page.render(Section::Projects, "Projects", content))
}

/// `POST /console/orgs/{org}/projects`.
pub async fn create(
    request: OrgRequest<OrgId>,
    Form(form): Form<NameForm>,
) -> Result<Redirect, PageError> {
    request
        .act_then(
            OrgPaths::projects,
            move |r, ctx, org| r.create_project(ctx, org, &form.name, form.optional_description()),
            |project, paths, _| Notice::ProjectCreated.at(paths.project(project.id).page()),
        )
        .await
}

/// `GET /console/orgs/{org}/projects/{project}`: details and members.
pub async fn show(
    request: OrgRequest<(OrgId, ProjectId)>,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let back_to = request.paths().project(request.raw(ProjectId::NAME)).page();
    let (page, (_, project)) = request.page(|_| back_to).await?;
    let cursor = query.cursor.clone();
    let (project, manage, members) = page
        .run(move |r, ctx, org| r.project_view(ctx, org, project, &table_page(cursor)?))
        .await?;
    let here = page.paths().project(project.id);
    let headers: &[&str] = match manage {
        true => &["Email", "Project role", "Added", "Actions"],
        false => &["Email", "Project role", "Added"],
    };
    let content = html! {
        p { a href=(page.paths().projects()) { "← All projects" } }
        h1 { (project.name) }
        (notice(query.done.as_deref()))
        @if project.description.is_empty() { p.muted { "No description." } } @else { p { (project.description) } }
        h2 { "Project members" }
        (layout::paged_table(&members, "No members yet.", headers, &here.page(), &[], |member| html! {
            tr {
                td data-label="Email" { (member.email) }
                td data-label="Project role" { span.badge { (member.role.as_str()) } }
                td data-label="Added" { (when(member.created_at)) }
                @if manage {
                    td data-label="Actions" { a href=(here.member_remove(member.user_id)) { "Remove" } }
                }
            }
        }))
        @if manage {
            section.card.narrow aria-labelledby="add-project-member" {
                h2 #add-project-member { "Add or re-role a member" }
                p.hint { "The person must already be a member of the organization." }
                form method="post" action=(here.members()) {
                    (csrf_field(&page.visit))
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
                form method="post" action=(here.page()) {
                    (csrf_field(&page.visit))
                    (layout::name_and_description("project", Some((&project.name, &project.description))))
                    button type="submit" { "Save project" }
                }
                p { a.button.danger href=(here.delete()) { "Delete project" } }
            }
        }
    };
    Ok(page.render(Section::Projects, &project.name, content))
}

/// `POST /console/orgs/{org}/projects/{project}`.
pub async fn update(
    request: OrgRequest<(OrgId, ProjectId)>,
    Form(form): Form<NameForm>,
) -> Result<Redirect, PageError> {
    request
        .act_then(
            OrgPaths::projects,
            move |r, ctx, (org, project)| {
                r.update_project(
                    ctx,
                    org,
                    project,
                    ProjectUpdate {
                        name: Some(&form.name),
                        description: Some(&form.description),
                        status: None,
                    },
                )
            },
            |_, paths, (_, project)| Notice::ProjectUpdated.at(paths.project(project).page()),
        )
        .await
}

/// `GET /console/orgs/{org}/projects/{project}/delete`: asks first.
pub async fn confirm_delete(
    request: OrgRequest<(OrgId, ProjectId)>,
) -> Result<Response, PageError> {
    let (page, (_, project)) = request.page(OrgPaths::projects).await?;
    let project = page
        .run(move |r, ctx, org| r.get_project(ctx, org, project))
        .await?;
    let here = page.paths().project(project.id);
    Ok(page.confirm(Confirm {
        section: Section::Projects,
        question: "Delete this project?",
        detail: html! { p { "Deleting " strong { (project.name) } " removes its member list. This cannot be undone." } },
        action: here.delete(),
        button: "Delete project",
        cancel: here.page(),
    }))
}

/// `POST /console/orgs/{org}/projects/{project}/delete`.
pub async fn delete(request: OrgRequest<(OrgId, ProjectId)>) -> Result<Redirect, PageError> {
    request
        .act(
            OrgPaths::projects,
            Notice::ProjectDeleted,
            |r, ctx, (org, project)| r.delete_project(ctx, org, project),
        )
        .await
}

#[derive(Debug, Deserialize)]
pub struct ProjectMemberForm {
    email: String,
    role: String,
}

/// `POST /console/orgs/{org}/projects/{project}/members`.
pub async fn add_member(
    request: OrgRequest<(OrgId, ProjectId)>,
    Form(form): Form<ProjectMemberForm>,
) -> Result<Redirect, PageError> {
    request
        .act_then(
            OrgPaths::projects,
            move |r, ctx, (org, project)| {
                let role = ProjectRole::parse(&form.role)?;
                let who = MemberRef::email(&form.email)?;
                r.add_project_member(ctx, org, project, &who, role)
            },
            |_, paths, (_, project)| Notice::ProjectMemberAdded.at(paths.project(project).page()),
        )
        .await
}

/// `GET …/projects/{project}/members/{user}/remove`: asks first.
pub async fn confirm_remove_member(
    request: OrgRequest<(OrgId, ProjectId, UserId)>,
) -> Result<Response, PageError> {
    let (page, (_, project, user)) = request.page(OrgPaths::projects).await?;
    let (project, member) = page
        .run(move |r, ctx, org| r.get_project_member(ctx, org, project, user))
        .await?;
    let here = page.paths().project(project.id);
    Ok(page.confirm(Confirm {
        section: Section::Projects,
        question: "Remove from the project?",
        detail: html! { p { strong { (member.email) } " leaves the project " strong { (project.name) } " (but stays in the organization)." } },
        action: here.member_remove(user),
        button: "Remove from project",
        cancel: here.page(),
    }))
}

/// `POST …/projects/{project}/members/{user}/remove`.
pub async fn remove_member(
    request: OrgRequest<(OrgId, ProjectId, UserId)>,
) -> Result<Redirect, PageError> {
    request
        .act_then(
            OrgPaths::projects,
            |r, ctx, (org, project, user)| r.remove_project_member(ctx, org, project, user),
            |_, paths, (_, project, _)| {
                Notice::ProjectMemberRemoved.at(paths.project(project).page())
            },
        )
        .await
}
