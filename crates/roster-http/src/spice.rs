//! The Members API (Spice-style), at `/v1/members`: the members of "the
//! authenticated organization" — the org of the API key, or of an
//! org-scoped access token — addressed by the user's integer `number`,
//! with `roles` = base role + labels.
//!
//! A thin adapter: shapes in and out, and the core's commands; every rule
//! (owner protection, role ordering, scopes) is the core's.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use roster_core::ids::OrgId;
use roster_core::model::{Member, MemberFilter};
use roster_core::service::{
    AddMemberOutcome, IfMember, MemberRef, NewMember, OwnerPolicy, RoleSet,
};
use roster_core::{Ctx, DomainError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorResponse};
use crate::extract::{keyset_query, CredentialOrgCaller, Json, Page, PathArgs, PathParams};
use crate::{blocking, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_members, add_member))
        .routes(routes!(get_member, update_member, remove_member))
}

/// A caller of this surface and "the authenticated organization" it acts
/// in: the org of its API key, or of its org-scoped access token.
struct OrgCaller {
    ctx: Ctx,
    org: OrgId,
}

impl FromRequestParts<AppState> for OrgCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let CredentialOrgCaller(ctx) =
            CredentialOrgCaller::from_request_parts(parts, state).await?;
        let org = match (&ctx.api_key, ctx.org_scope) {
            (Some(grant), _) => grant.org,
            (None, Some(org)) => org,
            (None, None) => {
                return Err(ApiError(DomainError::insufficient_scope(
                    "the Members API needs an org API key or an org access token \
                     (POST /api/v1/orgs/{org_id}/access-token)",
                )))
            }
        };
        Ok(OrgCaller { ctx, org })
    }
}

/// The user number in the path. Any integer is a well-formed id (the spec
/// says `integer`): one that no user can have (zero, negative, too large)
/// is simply not found; only a non-integer is a bad request.
struct MemberNumber(i64);

impl PathParams for MemberNumber {
    type Raw = String;

    fn parse(raw: String) -> Result<Self, DomainError> {
        let digits = raw.strip_prefix('-').unwrap_or(&raw);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::invalid(
                "memberId",
                "must be an integer user id",
            ));
        }
        match raw.parse::<i64>() {
            Ok(n) if n > 0 => Ok(MemberNumber(n)),
            _ => Err(DomainError::member_not_found()),
        }
    }
}

/// A member as this surface shows one.
#[derive(Serialize, ToSchema)]
#[schema(as = Member)]
struct MemberBody {
    /// The user's number.
    user_id: i64,
    username: String,
    /// The base role (`owner`, `admin`, `member` or `guest`) and the labels.
    roles: Vec<String>,
    is_owner: bool,
    /// When the user joined the organization.
    #[schema(format = DateTime)]
    created_at: String,
}

impl From<Member> for MemberBody {
    fn from(member: Member) -> Self {
        Self {
            roles: RoleSet::render(&member),
            is_owner: member.role == roster_core::role::OrgRole::Owner,
            user_id: member.user.number,
            username: member.user.username,
            created_at: member.joined_at.to_rfc3339(),
        }
    }
}

/// The organization's members.
#[derive(Serialize, ToSchema)]
struct MemberList {
    members: Vec<MemberBody>,
    /// Only when the caller asked for one page (`limit` or `cursor`):
    /// the next page's cursor, or null after the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    next_cursor: Option<Option<String>>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListParams {
    /// Extension: page size (1-1000); without `limit` and `cursor` the
    /// answer has every member.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// Extension: the `next_cursor` of the previous page.
    cursor: Option<String>,
}

keyset_query!(ListParams);

/// List organization members.
///
/// Every member of the org; with `limit`/`cursor` (an extension), one
/// keyset page of them and the next cursor.
#[utoipa::path(
    get,
    path = "/v1/members",
    tag = "Members",
    operation_id = "listMembers",
    params(ListParams),
    responses(
        (status = 200, description = "List of organization members", body = MemberList),
        (status = 403, description = "Insufficient scope", body = ErrorResponse),
    )
)]
async fn list_members(
    State(state): State<AppState>,
    OrgCaller { ctx, org }: OrgCaller,
    Page {
        page: first,
        params,
    }: Page<ListParams>,
) -> ApiResult<Json<MemberList>> {
    let one_page = params.limit.is_some() || params.cursor.is_some();
    let (members, next_cursor) = blocking(&state, move |roster| {
        if one_page {
            let page = roster.list_members(&ctx, org, &MemberFilter::default(), &first)?;
            return Ok((page.items, Some(page.next_cursor)));
        }
        Ok((roster.all_members(&ctx, org)?, None))
    })
    .await?;
    Ok(Json(MemberList {
        members: members.into_iter().map(MemberBody::from).collect(),
        next_cursor,
    }))
}

/// Who to add, and with which roles.
#[derive(Deserialize, ToSchema)]
struct AddMemberRequest {
    /// The username of a registered user.
    username: String,
    /// The highest base role named is the role (default `member`); other
    /// strings are labels. `owner` cannot be granted here.
    #[schema(nullable = false)]
    roles: Option<Vec<String>>,
}

/// A member as the add and update answers show one (no `is_owner`).
#[derive(Serialize, ToSchema)]
struct ChangedMember {
    user_id: i64,
    username: String,
    roles: Vec<String>,
    #[schema(format = DateTime)]
    created_at: String,
}

impl From<Member> for ChangedMember {
    fn from(member: Member) -> Self {
        let MemberBody {
            user_id,
            username,
            roles,
            created_at,
            ..
        } = MemberBody::from(member);
        Self {
            user_id,
            username,
            roles,
            created_at,
        }
    }
}

/// Add a member.
///
/// Adds a user whose email is verified, by username, with roles (default
/// `["member"]`), and emails them who added them and how to leave. A
/// username whose account has not verified its email is not found (404).
#[utoipa::path(
    post,
    path = "/v1/members",
    tag = "Members",
    operation_id = "addMember",
    request_body = AddMemberRequest,
    responses(
        (status = 201, description = "Member added successfully", body = ChangedMember),
        (status = 403, description = "Insufficient scope, or `owner` asked for", body = ErrorResponse),
        (status = 404, description = "User not found (or its email is not verified)", body = ErrorResponse),
        (status = 409, description = "User is already a member of this organization", body = ErrorResponse),
    )
)]
async fn add_member(
    State(state): State<AppState>,
    OrgCaller { ctx, org }: OrgCaller,
    Json(body): Json<AddMemberRequest>,
) -> ApiResult<(StatusCode, Json<ChangedMember>)> {
    if body.username.trim().is_empty() {
        return Err(DomainError::invalid("username", "is required").into());
    }
    let roles = RoleSet::parse(body.roles.as_deref())?;
    let new = NewMember {
        who: MemberRef::Username(body.username),
        role: roles.base,
        labels: roles.labels,
        message: None,
        projects: &[],
        if_member: IfMember::Refuse,
    };
    let outcome = blocking(&state, move |roster| roster.add_member(&ctx, org, &new)).await?;
    match outcome {
        AddMemberOutcome::Added(member) => Ok((StatusCode::CREATED, Json(member.into()))),
        _ => Err(
            DomainError::Internal("a username is added, never re-roled or invited".into()).into(),
        ),
    }
}

/// Get a member.
///
/// One member, by user id.
#[utoipa::path(
    get,
    path = "/v1/members/{memberId}",
    tag = "Members",
    operation_id = "getMember",
    params(("memberId" = i64, Path, description = "The user ID of the member")),
    responses(
        (status = 200, description = "Member details", body = MemberBody),
        (status = 403, description = "Insufficient scope", body = ErrorResponse),
        (status = 404, description = "Member not found", body = ErrorResponse),
    )
)]
async fn get_member(
    State(state): State<AppState>,
    OrgCaller { ctx, org }: OrgCaller,
    PathArgs(MemberNumber(number)): PathArgs<MemberNumber>,
) -> ApiResult<Json<MemberBody>> {
    let who = MemberRef::Number(number);
    let member = blocking(&state, move |roster| roster.get_member(&ctx, org, &who)).await?;
    Ok(Json(member.into()))
}

/// The member's new roles.
#[derive(Deserialize, ToSchema)]
struct UpdateMemberRequest {
    /// Replaces the base role and labels (see `AddMemberRequest.roles`).
    roles: Vec<String>,
}

/// Update a member's roles.
///
/// Replaces a member's roles; owners cannot be modified here.
#[utoipa::path(
    patch,
    path = "/v1/members/{memberId}",
    tag = "Members",
    operation_id = "updateMember",
    params(("memberId" = i64, Path, description = "The user ID of the member")),
    request_body = UpdateMemberRequest,
    responses(
        (status = 200, description = "Member roles updated successfully", body = ChangedMember),
        (status = 403, description = "Insufficient scope or cannot modify organization owner", body = ErrorResponse),
        (status = 404, description = "Member not found", body = ErrorResponse),
    )
)]
async fn update_member(
    State(state): State<AppState>,
    OrgCaller { ctx, org }: OrgCaller,
    PathArgs(MemberNumber(number)): PathArgs<MemberNumber>,
    Json(body): Json<UpdateMemberRequest>,
) -> ApiResult<Json<ChangedMember>> {
    let change = RoleSet::parse(Some(&body.roles))?.change();
    let who = MemberRef::Number(number);
    let outcome = blocking(&state, move |roster| {
        roster.change_member(&ctx, org, &who, &change, OwnerPolicy::Refuse)
    })
    .await?;
    Ok(Json(outcome.into_member().into()))
}

/// Remove a member.
///
/// Removes a member; owners cannot be removed here.
#[utoipa::path(
    delete,
    path = "/v1/members/{memberId}",
    tag = "Members",
    operation_id = "removeMember",
    params(("memberId" = i64, Path, description = "The user ID of the member")),
    responses(
        (status = 204, description = "Member removed successfully"),
        (status = 403, description = "Insufficient scope or cannot remove organization owner", body = ErrorResponse),
        (status = 404, description = "Member not found", body = ErrorResponse),
    )
)]
async fn remove_member(
    State(state): State<AppState>,
    OrgCaller { ctx, org }: OrgCaller,
    PathArgs(MemberNumber(number)): PathArgs<MemberNumber>,
) -> ApiResult<StatusCode> {
    let who = MemberRef::Number(number);
    blocking(&state, move |roster| {
        roster.remove_member(&ctx, org, &who, OwnerPolicy::Refuse)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
