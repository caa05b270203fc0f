//! Organization members: list, add (or re-role, or invite), read, change
//! role, remove.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use roster_core::ids::{OrgId, UserId};
use roster_core::model::MemberFilter;
use roster_core::pagination::PageRequest;
use roster_core::role::OrgRole;
use roster_core::service::AddMemberOutcome;
use roster_core::DomainError;
use serde::Deserialize;

use crate::error::ApiResult;
use crate::extract::{Caller, Json, Path, Query};
use crate::tenant::dto::{
    parse_assignments, AddMemberResponse, ListResponse, MemberListParams, MemberResponse,
    MessageResponse, ProjectAssignment,
};
use crate::{blocking, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orgs/{org_id}/members", get(list_members).post(add_member))
        .route(
            "/orgs/{org_id}/members/{member_id}",
            get(get_member).patch(update_member).delete(remove_member),
        )
}

fn member_id(raw: &str) -> Result<UserId, DomainError> {
    UserId::parse(raw).map_err(|_| DomainError::invalid("member_id", "must be a UUID"))
}

/// Retrieve the members of an organization (keyset pages; `q`, `role`).
async fn list_members(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(org_id): Path<String>,
    Query(params): Query<MemberListParams>,
) -> ApiResult<Json<ListResponse<MemberResponse>>> {
    let org = OrgId::parse(&org_id)?;
    let page = PageRequest::parse(
        params.limit.as_deref(),
        params.cursor.as_deref(),
        PageRequest::MAX_LIMIT,
    )?;
    let role = params.role.as_deref().map(OrgRole::parse).transpose()?;
    let filter = MemberFilter {
        query: params.q,
        role,
    };
    let members = blocking(&state, move |roster| {
        roster.list_members(&ctx, org, &filter, &page)
    })
    .await?;
    Ok(Json(ListResponse::from_page(members, MemberResponse::from)))
}

#[derive(Deserialize)]
struct AddMemberRequest {
    member_email: String,
    member_role: String,
    message: Option<String>,
    /// Extension: projects the new member joins (on acceptance, for an invitation).
    #[serde(default)]
    project_assignments: Vec<ProjectAssignment>,
}

/// Adds a registered user at once, updates an existing member's role, or
/// invites an address that has no account; `message` says which happened.
async fn add_member(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(org_id): Path<String>,
    Json(body): Json<AddMemberRequest>,
) -> ApiResult<(StatusCode, Json<AddMemberResponse>)> {
    let org = OrgId::parse(&org_id)?;
    let role = OrgRole::parse(&body.member_role)?;
    let assignments = parse_assignments(&body.project_assignments)?;
    let outcome = blocking(&state, move |roster| {
        roster.add_member(
            &ctx,
            org,
            &body.member_email,
            role,
            body.message.as_deref(),
            &assignments,
        )
    })
    .await?;
    let response = match outcome {
        AddMemberOutcome::Added(member) => AddMemberResponse {
            member_id: Some(member.user.id.to_string()),
            member_email: member.user.email,
            member_role: member.role.as_str(),
            message: "Member added to the organization successfully".to_string(),
            expires_at: None,
        },
        AddMemberOutcome::RoleUpdated(member) => AddMemberResponse {
            member_id: Some(member.user.id.to_string()),
            member_email: member.user.email,
            member_role: member.role.as_str(),
            message: "Member role updated successfully".to_string(),
            expires_at: None,
        },
        AddMemberOutcome::Invited {
            invitation,
            refreshed,
            ..
        } => AddMemberResponse {
            member_id: None,
            member_email: invitation.email,
            member_role: invitation.role.as_str(),
            message: if refreshed {
                "Invitation refreshed and sent successfully".to_string()
            } else {
                "Invitation sent successfully".to_string()
            },
            expires_at: Some(invitation.expires_at.to_rfc3339()),
        },
    };
    Ok((StatusCode::CREATED, Json(response)))
}

/// One member of the organization.
async fn get_member(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((org_id, member)): Path<(String, String)>,
) -> ApiResult<Json<MemberResponse>> {
    let org = OrgId::parse(&org_id)?;
    let user = member_id(&member)?;
    let found = blocking(&state, move |roster| roster.get_member(&ctx, org, user)).await?;
    Ok(Json(found.into()))
}

#[derive(Deserialize)]
struct UpdateMemberRequest {
    member_role: String,
}

/// Changes a member's role.
async fn update_member(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((org_id, member)): Path<(String, String)>,
    Json(body): Json<UpdateMemberRequest>,
) -> ApiResult<Json<MemberResponse>> {
    let org = OrgId::parse(&org_id)?;
    let user = member_id(&member)?;
    let role = OrgRole::parse(&body.member_role)?;
    let updated = blocking(&state, move |roster| {
        roster.change_member_role(&ctx, org, user, role)
    })
    .await?;
    Ok(Json(updated.into()))
}

/// Removes a member (or, with one's own id, leaves the organization).
async fn remove_member(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((org_id, member)): Path<(String, String)>,
) -> ApiResult<Json<MessageResponse>> {
    let org = OrgId::parse(&org_id)?;
    let user = member_id(&member)?;
    blocking(&state, move |roster| roster.remove_member(&ctx, org, user)).await?;
    Ok(Json(MessageResponse::new("Member removed successfully")))
}
