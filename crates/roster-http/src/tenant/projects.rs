//! Projects and project members.

use axum::extract::State;
use axum::http::StatusCode;
use roster_core::ids::{OrgId, ProjectId, UserId};
use roster_core::role::ProjectRole;
use roster_core::service::{MemberRef, ProjectUpdate};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorResponse};
use crate::extract::{member_id, Caller, Json, Page, PathArgs};
use crate::schema;
use crate::shared_docs::{OrgErrors, OrgPath, OrgProjectMemberPath, OrgProjectPath, ProjectErrors};
use crate::tenant::dto::{
    AddProjectMemberResponse, ListResponse, PageParams, ProjectMemberResponse, ProjectResponse,
    SuccessResponse,
};
use crate::{blocking, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project, update_project, delete_project))
        .routes(routes!(list_project_members, add_project_member))
        .routes(routes!(remove_project_member))
}

/// List projects.
///
/// The organization's projects (keyset pages).
#[utoipa::path(
    get,
    path = "/orgs/{org_id}/projects",
    tag = "Projects",
    operation_id = "listProjects",
    params(OrgPath, PageParams),
    responses(
        (status = 200, description = "The projects", body = ListResponse<ProjectResponse>),
        ProjectErrors,
    )
)]
async fn list_projects(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs(org): PathArgs<OrgId>,
    Page { page, .. }: Page<PageParams>,
) -> ApiResult<Json<ListResponse<ProjectResponse>>> {
    let projects = blocking(&state, move |roster| roster.list_projects(&ctx, org, &page)).await?;
    Ok(Json(ListResponse::from_page(
        projects,
        ProjectResponse::from,
    )))
}

/// A new project.
#[derive(Deserialize, ToSchema)]
struct CreateProjectRequest {
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    description: Option<String>,
}

/// Create project.
///
/// Creates a project (org admin and up).
#[utoipa::path(
    post,
    path = "/orgs/{org_id}/projects",
    tag = "Projects",
    operation_id = "createProject",
    params(OrgPath),
    request_body = CreateProjectRequest,
    responses(
        (status = 201, description = "Project created", body = ProjectResponse),
        OrgErrors,
    )
)]
async fn create_project(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs(org): PathArgs<OrgId>,
    Json(body): Json<CreateProjectRequest>,
) -> ApiResult<(StatusCode, Json<ProjectResponse>)> {
    let project = blocking(&state, move |roster| {
        roster.create_project(&ctx, org, &body.name, body.description.as_deref())
    })
    .await?;
    Ok((StatusCode::CREATED, Json(project.into())))
}

/// Get project.
///
/// One project.
#[utoipa::path(
    get,
    path = "/orgs/{org_id}/projects/{project_id}",
    tag = "Projects",
    operation_id = "getProject",
    params(OrgProjectPath),
    responses(
        (status = 200, description = "The project", body = ProjectResponse),
        ProjectErrors,
    )
)]
async fn get_project(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs((org, project)): PathArgs<(OrgId, ProjectId)>,
) -> ApiResult<Json<ProjectResponse>> {
    let found = blocking(&state, move |roster| roster.get_project(&ctx, org, project)).await?;
    Ok(Json(found.into()))
}

/// Fields to change; absent fields keep their value.
#[derive(Deserialize, ToSchema)]
struct UpdateProjectRequest {
    #[schema(min_length = 1, max_length = 100, nullable = false)]
    name: Option<String>,
    #[schema(nullable = false)]
    description: Option<String>,
    #[schema(value_type = Option<schema::ResourceState>, nullable = false)]
    status: Option<String>,
}

/// Update project.
///
/// Updates a project's name, description or status.
#[utoipa::path(
    patch,
    path = "/orgs/{org_id}/projects/{project_id}",
    tag = "Projects",
    operation_id = "updateProject",
    params(OrgProjectPath),
    request_body = UpdateProjectRequest,
    responses(
        (status = 200, description = "The updated project", body = ProjectResponse),
        ProjectErrors,
    )
)]
async fn update_project(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs((org, project)): PathArgs<(OrgId, ProjectId)>,
    Json(body): Json<UpdateProjectRequest>,
) -> ApiResult<Json<ProjectResponse>> {
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

/// Delete project.
///
/// Deletes a project and its memberships.
#[utoipa::path(
    delete,
    path = "/orgs/{org_id}/projects/{project_id}",
    tag = "Projects",
    operation_id = "deleteProject",
    params(OrgProjectPath),
    responses(
        (status = 200, description = "Project deleted", body = SuccessResponse),
        ProjectErrors,
    )
)]
async fn delete_project(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs((org, project)): PathArgs<(OrgId, ProjectId)>,
) -> ApiResult<Json<SuccessResponse>> {
    blocking(&state, move |roster| {
        roster.delete_project(&ctx, org, project)
    })
    .await?;
    Ok(Json(SuccessResponse::new("Project deleted successfully")))
}

/// Get project members.
///
/// Retrieve the members of a project (keyset pages).
#[utoipa::path(
    get,
    path = "/orgs/{org_id}/projects/{project_id}/members",
    tag = "Project Members",
    operation_id = "listProjectMembers",
    params(OrgProjectPath, PageParams),
    responses(
        (status = 200, description = "Project members retrieved successfully", body = ListResponse<ProjectMemberResponse>),
        ProjectErrors,
    )
)]
async fn list_project_members(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs((org, project)): PathArgs<(OrgId, ProjectId)>,
    Page { page, .. }: Page<PageParams>,
) -> ApiResult<Json<ListResponse<ProjectMemberResponse>>> {
    let members = blocking(&state, move |roster| {
        roster.list_project_members(&ctx, org, project, &page)
    })
    .await?;
    Ok(Json(ListResponse::from_page(
        members,
        ProjectMemberResponse::from,
    )))
}

/// Request payload for adding or updating a project member.
#[derive(Deserialize, ToSchema)]
struct AddProjectMemberRequest {
    /// User id of a member of the organization.
    #[schema(format = Uuid)]
    member_id: String,
    #[schema(value_type = schema::ProjectRole)]
    member_role: String,
}

/// Add project member.
///
/// Adds an org member to the project, or changes its project role.
#[utoipa::path(
    post,
    path = "/orgs/{org_id}/projects/{project_id}/members",
    tag = "Project Members",
    operation_id = "addProjectMember",
    params(OrgProjectPath),
    request_body = AddProjectMemberRequest,
    responses(
        (status = 201, description = "Member added or role updated", body = AddProjectMemberResponse),
        (status = 403, description = "Insufficient permissions", body = ErrorResponse),
        (status = 404, description = "Organization, project or org member not found", body = ErrorResponse),
        (status = 409, description = "Already a project member with that role", body = ErrorResponse),
    )
)]
async fn add_project_member(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs((org, project)): PathArgs<(OrgId, ProjectId)>,
    Json(body): Json<AddProjectMemberRequest>,
) -> ApiResult<(StatusCode, Json<AddProjectMemberResponse>)> {
    let user = member_id(&body.member_id)?;
    let role = ProjectRole::parse(&body.member_role)?;
    let (member, updated) = blocking(&state, move |roster| {
        roster.add_project_member(&ctx, org, project, &MemberRef::Id(user), role)
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

/// Remove project member.
///
/// Removes a member from the project.
#[utoipa::path(
    delete,
    path = "/orgs/{org_id}/projects/{project_id}/members/{member_id}",
    tag = "Project Members",
    operation_id = "removeProjectMember",
    params(OrgProjectMemberPath),
    responses(
        (status = 200, description = "Member removed successfully", body = SuccessResponse),
        (status = 403, description = "Insufficient permissions", body = ErrorResponse),
        (status = 404, description = "Organization, project or member not found", body = ErrorResponse),
    )
)]
async fn remove_project_member(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs((org, project, user)): PathArgs<(OrgId, ProjectId, UserId)>,
) -> ApiResult<Json<SuccessResponse>> {
    blocking(&state, move |roster| {
        roster.remove_project_member(&ctx, org, project, user)
    })
    .await?;
    Ok(Json(SuccessResponse::new("Member removed successfully")))
}
