//! Projects and project members.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use roster_core::ids::{OrgId, ProjectId, UserId};
use roster_core::pagination::PageRequest;
use roster_core::role::ProjectRole;
use roster_core::service::ProjectUpdate;
use roster_core::DomainError;
use serde::Deserialize;

use crate::error::ApiResult;
use crate::extract::{Caller, Json, Path, Query};
use crate::tenant::dto::{
    AddProjectMemberResponse, ListResponse, MessageResponse, PageParams, ProjectMemberResponse,
    ProjectResponse,
};
use crate::{blocking, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/orgs/{org_id}/projects",
            get(list_projects).post(create_project),
        )
        .route(
            "/orgs/{org_id}/projects/{project_id}",
            get(get_project)
                .patch(update_project)
                .delete(delete_project),
        )
        .route(
            "/orgs/{org_id}/projects/{project_id}/members",
            get(list_project_members).post(add_project_member),
        )
        .route(
            "/orgs/{org_id}/projects/{project_id}/members/{member_id}",
            axum::routing::delete(remove_project_member),
        )
}

fn ids(org: &str, project: &str) -> Result<(OrgId, ProjectId), DomainError> {
    Ok((OrgId::parse(org)?, ProjectId::parse(project)?))
}

fn member_id(raw: &str) -> Result<UserId, DomainError> {
    UserId::parse(raw).map_err(|_| DomainError::invalid("member_id", "must be a UUID"))
}

/// The organization's projects.
async fn list_projects(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(org_id): Path<String>,
    Query(params): Query<PageParams>,
) -> ApiResult<Json<ListResponse<ProjectResponse>>> {
    let org = OrgId::parse(&org_id)?;
    let page = PageRequest::parse(
        params.limit.as_deref(),
        params.cursor.as_deref(),
        PageRequest::MAX_LIMIT,
    )?;
    let projects = blocking(&state, move |roster| roster.list_projects(&ctx, org, &page)).await?;
    Ok(Json(ListResponse::from_page(
        projects,
        ProjectResponse::from,
    )))
}

#[derive(Deserialize)]
struct CreateProjectRequest {
    name: String,
    description: Option<String>,
}

/// Creates a project (org admin and up).
async fn create_project(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(org_id): Path<String>,
    Json(body): Json<CreateProjectRequest>,
) -> ApiResult<(StatusCode, Json<ProjectResponse>)> {
    let org = OrgId::parse(&org_id)?;
    let project = blocking(&state, move |roster| {
        roster.create_project(&ctx, org, &body.name, body.description.as_deref())
    })
    .await?;
    Ok((StatusCode::CREATED, Json(project.into())))
}

/// One project.
async fn get_project(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((org_id, project_id)): Path<(String, String)>,
) -> ApiResult<Json<ProjectResponse>> {
    let (org, project) = ids(&org_id, &project_id)?;
    let found = blocking(&state, move |roster| roster.get_project(&ctx, org, project)).await?;
    Ok(Json(found.into()))
}

#[derive(Deserialize)]
struct UpdateProjectRequest {
    name: Option<String>,
    description: Option<String>,
    status: Option<String>,
}

/// Updates a project's name, description or status.
async fn update_project(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((org_id, project_id)): Path<(String, String)>,
    Json(body): Json<UpdateProjectRequest>,
) -> ApiResult<Json<ProjectResponse>> {
    let (org, project) = ids(&org_id, &project_id)?;
    let updated = blocking(&state, move |roster| {
        let update = ProjectUpdate {
            name: body.name.as_deref(),
            description: body.description.as_deref(),
            status: body.status.as_deref(),
        };
        roster.update_project(&ctx, org, project, update)
    })
    .await?;
    Ok(Json(updated.into()))
}

/// Deletes a project and its memberships.
async fn delete_project(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((org_id, project_id)): Path<(String, String)>,
) -> ApiResult<Json<MessageResponse>> {
    let (org, project) = ids(&org_id, &project_id)?;
    blocking(&state, move |roster| {
        roster.delete_project(&ctx, org, project)
    })
    .await?;
    Ok(Json(MessageResponse::new("Project deleted successfully")))
}

/// Retrieve the members of a project.
async fn list_project_members(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((org_id, project_id)): Path<(String, String)>,
    Query(params): Query<PageParams>,
) -> ApiResult<Json<ListResponse<ProjectMemberResponse>>> {
    let (org, project) = ids(&org_id, &project_id)?;
    let page = PageRequest::parse(
        params.limit.as_deref(),
        params.cursor.as_deref(),
        PageRequest::MAX_LIMIT,
    )?;
    let members = blocking(&state, move |roster| {
        roster.list_project_members(&ctx, org, project, &page)
    })
    .await?;
    Ok(Json(ListResponse::from_page(
        members,
        ProjectMemberResponse::from,
    )))
}

#[derive(Deserialize)]
struct AddProjectMemberRequest {
    member_id: String,
    member_role: String,
}

/// Adds an org member to the project, or changes its project role.
async fn add_project_member(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((org_id, project_id)): Path<(String, String)>,
    Json(body): Json<AddProjectMemberRequest>,
) -> ApiResult<(StatusCode, Json<AddProjectMemberResponse>)> {
    let (org, project) = ids(&org_id, &project_id)?;
    let user = member_id(&body.member_id)?;
    let role = ProjectRole::parse(&body.member_role)?;
    let (member, updated) = blocking(&state, move |roster| {
        roster.add_project_member(&ctx, org, project, user, role)
    })
    .await?;
    let message = if updated {
        "Project member role updated successfully"
    } else {
        "Member added successfully"
    };
    Ok((
        StatusCode::CREATED,
        Json(AddProjectMemberResponse {
            member_id: member.user_id.to_string(),
            member_role: member.role.as_str(),
            message: message.to_string(),
        }),
    ))
}

/// Removes a member from the project.
async fn remove_project_member(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((org_id, project_id, member)): Path<(String, String, String)>,
) -> ApiResult<Json<MessageResponse>> {
    let (org, project) = ids(&org_id, &project_id)?;
    let user = member_id(&member)?;
    blocking(&state, move |roster| {
        roster.remove_project_member(&ctx, org, project, user)
    })
    .await?;
    Ok(Json(MessageResponse::new("Member removed successfully")))
}
