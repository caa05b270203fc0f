//! The Members API (Spice-style), at `/v1/members`: the members of "the
//! authenticated organization" — the org of the API key, or of an
//! org-scoped access token — addressed by the user's integer `number`,
//! with `roles` = base role + labels.
//!
//! A thin adapter: shapes in and out, and the core's commands; every rule
//! (owner protection, role ordering, scopes) is the core's.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use roster_core::ids::OrgId;
use roster_core::model::{Member, MemberFilter};
use roster_core::pagination::PageRequest;
use roster_core::service::RoleSet;
use roster_core::{Ctx, DomainError};
use serde::{Deserialize, Serialize};

use crate::error::ApiResult;
use crate::extract::{Caller, Json, Path, Query};
use crate::{blocking, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/members", get(list_members).post(add_member))
        .route(
            "/v1/members/{member_id}",
            get(get_member).patch(update_member).delete(remove_member),
        )
}

/// The org a caller of this surface acts in.
fn authenticated_org(ctx: &Ctx) -> Result<OrgId, DomainError> {
    if let Some(grant) = &ctx.api_key {
        return Ok(grant.org);
    }
    ctx.org_scope.ok_or(DomainError::Denied {
        code: "insufficient_scope",
        message: "the Members API needs an org API key or an org access token \
                  (POST /api/v1/orgs/{org_id}/access-token)",
    })
}

fn member_number(raw: &str) -> Result<i64, DomainError> {
    match raw.parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(DomainError::invalid(
            "memberId",
            "must be a positive integer user id",
        )),
    }
}

/// A member as this surface shows one.
#[derive(Serialize)]
struct MemberBody {
    user_id: i64,
    username: String,
    roles: Vec<String>,
    is_owner: bool,
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

#[derive(Serialize)]
struct MemberList {
    members: Vec<MemberBody>,
    /// Only when the caller asked for one page (`limit` or `cursor`):
    /// the next page's cursor, or null after the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<Option<String>>,
}

#[derive(Deserialize)]
struct ListParams {
    limit: Option<String>,
    cursor: Option<String>,
}

/// Every member of the org; with `limit`/`cursor` (an extension), one
/// keyset page of them and the next cursor.
async fn list_members(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Query(params): Query<ListParams>,
) -> ApiResult<Json<MemberList>> {
    let org = authenticated_org(&ctx)?;
    let one_page = params.limit.is_some() || params.cursor.is_some();
    let first = PageRequest::parse(
        params.limit.as_deref(),
        params.cursor.as_deref(),
        PageRequest::MAX_LIMIT,
    )?;
    let (members, next_cursor) = blocking(&state, move |roster| {
        let filter = MemberFilter::default();
        if one_page {
            let page = roster.list_members(&ctx, org, &filter, &first)?;
            return Ok((page.items, Some(page.next_cursor)));
        }
        let mut all = Vec::new();
        let mut request = PageRequest::parse(Some("1000"), None, PageRequest::MAX_LIMIT)?;
        loop {
            let page = roster.list_members(&ctx, org, &filter, &request)?;
            all.extend(page.items);
            match page.next_cursor {
                Some(cursor) => {
                    request =
                        PageRequest::parse(Some("1000"), Some(&cursor), PageRequest::MAX_LIMIT)?
                }
                None => return Ok((all, None)),
            }
        }
    })
    .await?;
    Ok(Json(MemberList {
        members: members.into_iter().map(MemberBody::from).collect(),
        next_cursor,
    }))
}

#[derive(Deserialize)]
struct AddMemberRequest {
    username: String,
    roles: Option<Vec<String>>,
}

/// A member as the add and update answers show one (no `is_owner`).
#[derive(Serialize)]
struct ChangedMemberBody {
    user_id: i64,
    username: String,
    roles: Vec<String>,
    created_at: String,
}

impl From<Member> for ChangedMemberBody {
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

/// Adds a registered user, by username, with roles (default `["member"]`).
async fn add_member(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Json(body): Json<AddMemberRequest>,
) -> ApiResult<(StatusCode, Json<ChangedMemberBody>)> {
    let org = authenticated_org(&ctx)?;
    if body.username.trim().is_empty() {
        return Err(DomainError::invalid("username", "is required").into());
    }
    let roles = RoleSet::parse(body.roles.as_deref())?;
    let member = blocking(&state, move |roster| {
        roster.add_member_by_username(&ctx, org, &body.username, &roles)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(member.into())))
}

/// One member, by user id.
async fn get_member(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(member_id): Path<String>,
) -> ApiResult<Json<MemberBody>> {
    let org = authenticated_org(&ctx)?;
    let number = member_number(&member_id)?;
    let member = blocking(&state, move |roster| {
        roster.member_by_number(&ctx, org, number)
    })
    .await?;
    Ok(Json(member.into()))
}

#[derive(Deserialize)]
struct UpdateMemberRequest {
    roles: Vec<String>,
}

/// Replaces a member's roles; owners cannot be modified here.
async fn update_member(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(member_id): Path<String>,
    Json(body): Json<UpdateMemberRequest>,
) -> ApiResult<Json<ChangedMemberBody>> {
    let org = authenticated_org(&ctx)?;
    let number = member_number(&member_id)?;
    let roles = RoleSet::parse(Some(&body.roles))?;
    let member = blocking(&state, move |roster| {
        let member = roster.member_by_number(&ctx, org, number)?;
        roster.set_member_roles(&ctx, org, member.user.id, &roles)
    })
    .await?;
    Ok(Json(member.into()))
}

/// Removes a member; owners cannot be removed here.
async fn remove_member(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(member_id): Path<String>,
) -> ApiResult<StatusCode> {
    let org = authenticated_org(&ctx)?;
    let number = member_number(&member_id)?;
    blocking(&state, move |roster| {
        let member = roster.member_by_number(&ctx, org, number)?;
        roster.remove_non_owner(&ctx, org, member.user.id)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
