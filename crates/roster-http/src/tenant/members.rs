//! Organization members: list, add (or re-role, or invite), read, change
//! role, remove.

use axum::extract::State;
use axum::http::StatusCode;
use roster_core::ids::{OrgId, UserId};
use roster_core::model::MemberFilter;
use roster_core::role::OrgRole;
use roster_core::service::{IfMember, MemberChange, MemberRef, NewMember, OwnerPolicy};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorResponse};
use crate::extract::{Caller, Json, Page, PathArgs};
use crate::schema;
use crate::shared_docs::{MemberErrors, OrgMemberPath, OrgPath};
use crate::tenant::dto::{
    parse_assignments, AddOrganizationMemberResponse, ListResponse, MemberListParams,
    OrganizationMemberResponse, ProjectAssignment, SuccessResponse,
};
use crate::{blocking, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_members, add_member))
        .routes(routes!(get_member, update_member, remove_member))
}

/// Get organization members.
///
/// Retrieve the members of an organization (keyset pages; search with `q`,
/// filter by `role`).
#[utoipa::path(
    get,
    path = "/orgs/{org_id}/members",
    tag = "Organization Members",
    operation_id = "listOrganizationMembers",
    params(OrgPath, MemberListParams),
    responses(
        (status = 200, description = "Organization members retrieved successfully", body = ListResponse<OrganizationMemberResponse>),
        (status = 403, description = "Insufficient permissions to list organization members", body = ErrorResponse),
        (status = 404, description = "Organization not found", body = ErrorResponse),
    )
)]
async fn list_members(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs(org): PathArgs<OrgId>,
    Page { page, params }: Page<MemberListParams>,
) -> ApiResult<Json<ListResponse<OrganizationMemberResponse>>> {
    let role = params.role.as_deref().map(OrgRole::parse).transpose()?;
    let filter = MemberFilter {
        query: params.q,
        role,
    };
    let members = blocking(&state, move |roster| {
        roster.list_members(&ctx, org, &filter, &page)
    })
    .await?;
    Ok(Json(ListResponse::from_page(
        members,
        OrganizationMemberResponse::from,
    )))
}

/// Request payload adding a user to an organization.
#[derive(Deserialize, ToSchema)]
struct AddOrganizationMemberRequest {
    /// Email address of the user to add or invite.
    #[schema(format = Email)]
    member_email: String,
    #[schema(value_type = schema::OrganizationRole)]
    member_role: String,
    /// Optional personal message to include in the invitation email.
    #[schema(max_length = 500, nullable = false)]
    message: Option<String>,
    /// Extension: projects the new member joins (on acceptance, for an invitation).
    #[serde(default)]
    project_assignments: Vec<ProjectAssignment>,
}

/// Add organization member.
///
/// Adds a user whose email is verified at once (and emails them who added
/// them and how to leave), updates an existing member's role, or invites:
/// an address with no verified account, and anyone who is to become owner
/// without being a member yet; `message` says which happened.
#[utoipa::path(
    post,
    path = "/orgs/{org_id}/members",
    tag = "Organization Members",
    operation_id = "addOrganizationMember",
    params(OrgPath),
    request_body = AddOrganizationMemberRequest,
    responses(
        (status = 201, description = "Invitation sent to the member or member added to the organization successfully", body = AddOrganizationMemberResponse),
        (status = 403, description = "Insufficient permissions, or the caller's email is not verified (`email_not_verified`)", body = ErrorResponse),
        (status = 404, description = "Organization or project not found", body = ErrorResponse),
        (status = 409, description = "Already a member with that role", body = ErrorResponse),
        (status = 429, description = "Too many invitation emails (per organization, recipient or account) or direct adds (per account); see Retry-After", body = ErrorResponse),
    )
)]
async fn add_member(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs(org): PathArgs<OrgId>,
    Json(body): Json<AddOrganizationMemberRequest>,
) -> ApiResult<(StatusCode, Json<AddOrganizationMemberResponse>)> {
    let role = OrgRole::parse(&body.member_role)?;
    let assignments = parse_assignments(&body.project_assignments)?;
    let who = MemberRef::email(&body.member_email)?;
    let outcome = blocking(&state, move |roster| {
        roster.add_member(
            &ctx,
            org,
            &NewMember {
                who,
                role,
                labels: Vec::new(),
                message: body.message.as_deref(),
                projects: &assignments,
                if_member: IfMember::ChangeRole,
            },
        )
    })
    .await?;
    Ok((StatusCode::CREATED, Json(outcome.into())))
}

/// Get organization member.
///
/// One member of the organization.
#[utoipa::path(
    get,
    path = "/orgs/{org_id}/members/{member_id}",
    tag = "Organization Members",
    operation_id = "getOrganizationMember",
    params(OrgMemberPath),
    responses(
        (status = 200, description = "The member", body = OrganizationMemberResponse),
        MemberErrors,
    )
)]
async fn get_member(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs((org, user)): PathArgs<(OrgId, UserId)>,
) -> ApiResult<Json<OrganizationMemberResponse>> {
    let who = MemberRef::Id(user);
    let found = blocking(&state, move |roster| roster.get_member(&ctx, org, &who)).await?;
    Ok(Json(found.into()))
}

/// The member's new role.
#[derive(Deserialize, ToSchema)]
struct UpdateMemberRequest {
    #[schema(value_type = schema::OrganizationRole)]
    member_role: String,
}

/// Change a member's role.
///
/// Only an owner grants the owner role or changes an owner's role; the
/// last owner cannot be demoted (409 `last_owner`).
#[utoipa::path(
    patch,
    path = "/orgs/{org_id}/members/{member_id}",
    tag = "Organization Members",
    operation_id = "updateOrganizationMember",
    params(OrgMemberPath),
    request_body = UpdateMemberRequest,
    responses(
        (status = 200, description = "Role changed", body = OrganizationMemberResponse),
        MemberErrors,
        (status = 409, description = "The last owner cannot be demoted", body = ErrorResponse),
    )
)]
async fn update_member(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs((org, user)): PathArgs<(OrgId, UserId)>,
    Json(body): Json<UpdateMemberRequest>,
) -> ApiResult<Json<OrganizationMemberResponse>> {
    let role = OrgRole::parse(&body.member_role)?;
    let updated = blocking(&state, move |roster| {
        let change = MemberChange::role(role);
        roster.change_member(
            &ctx,
            org,
            &MemberRef::Id(user),
            &change,
            OwnerPolicy::Manage,
        )
    })
    .await?;
    Ok(Json(updated.into_member().into()))
}

/// Remove organization member.
///
/// Removes a member (or, with one's own id, leaves the organization); the
/// last owner cannot be removed (409 `last_owner`).
#[utoipa::path(
    delete,
    path = "/orgs/{org_id}/members/{member_id}",
    tag = "Organization Members",
    operation_id = "removeOrganizationMember",
    params(OrgMemberPath),
    responses(
        (status = 200, description = "Member removed successfully", body = SuccessResponse),
        MemberErrors,
        (status = 409, description = "The last owner cannot be removed", body = ErrorResponse),
    )
)]
async fn remove_member(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs((org, user)): PathArgs<(OrgId, UserId)>,
) -> ApiResult<Json<SuccessResponse>> {
    blocking(&state, move |roster| {
        roster.remove_member(&ctx, org, &MemberRef::Id(user), OwnerPolicy::Manage)
    })
    .await?;
    Ok(Json(SuccessResponse::new("Member removed successfully")))
}
