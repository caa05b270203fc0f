//! Organizations: list mine, create, read, update, delete, transfer ownership.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use roster_core::ids::{OrgId, UserId};
use roster_core::pagination::PageRequest;
use roster_core::service::OrgUpdate;
use serde::Deserialize;

use crate::error::ApiResult;
use crate::extract::{Caller, Json, Path, Query};
use crate::tenant::dto::{ListResponse, MessageResponse, OrgResponse, PageParams};
use crate::{blocking, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orgs", get(list_orgs).post(create_org))
        .route(
            "/orgs/{org_id}",
            get(get_org).patch(update_org).delete(delete_org),
        )
        .route(
            "/orgs/{org_id}/transfer-ownership",
            post(transfer_ownership),
        )
        .route("/orgs/{org_id}/access-token", post(org_access_token))
}

#[derive(serde::Serialize)]
struct OrgAccessTokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    org_id: String,
}

/// Extension: an access token of the caller's session bound to one org, for
/// the Members API (`/v1/members`), whose requests name no org.
async fn org_access_token(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(org_id): Path<String>,
) -> ApiResult<(StatusCode, Json<OrgAccessTokenResponse>)> {
    let org = OrgId::parse(&org_id)?;
    let token = blocking(&state, move |roster| {
        roster.issue_org_access_token(&ctx, org)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(OrgAccessTokenResponse {
            access_token: token.access_token,
            token_type: "Bearer",
            expires_in: token.expires_in,
            org_id: token.org.to_string(),
        }),
    ))
}

/// Retrieve all organizations of the current user.
async fn list_orgs(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Query(params): Query<PageParams>,
) -> ApiResult<Json<ListResponse<OrgResponse>>> {
    let page = PageRequest::parse(
        params.limit.as_deref(),
        params.cursor.as_deref(),
        PageRequest::MAX_LIMIT,
    )?;
    let orgs = blocking(&state, move |roster| roster.list_my_orgs(&ctx, &page)).await?;
    Ok(Json(ListResponse::from_page(orgs, |(org, role)| {
        OrgResponse::new(org, role)
    })))
}

#[derive(Deserialize)]
struct CreateOrgRequest {
    name: String,
    description: Option<String>,
}

/// Creates an organization; the caller becomes its owner.
async fn create_org(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Json(body): Json<CreateOrgRequest>,
) -> ApiResult<(StatusCode, Json<OrgResponse>)> {
    let org = blocking(&state, move |roster| {
        roster.create_org(&ctx, &body.name, body.description.as_deref())
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(OrgResponse::new(org, roster_core::role::OrgRole::Owner)),
    ))
}

/// Retrieve organization by ID.
async fn get_org(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(org_id): Path<String>,
) -> ApiResult<Json<OrgResponse>> {
    let org = OrgId::parse(&org_id)?;
    let (org, role) = blocking(&state, move |roster| roster.get_org(&ctx, org)).await?;
    Ok(Json(OrgResponse::new(org, role)))
}

#[derive(Deserialize)]
struct UpdateOrgRequest {
    name: Option<String>,
    description: Option<String>,
}

/// Update organization name and/or description (admin and up).
async fn update_org(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(org_id): Path<String>,
    Json(body): Json<UpdateOrgRequest>,
) -> ApiResult<Json<OrgResponse>> {
    let org = OrgId::parse(&org_id)?;
    let (updated, role) = blocking(&state, move |roster| {
        let update = OrgUpdate {
            name: body.name.as_deref(),
            description: body.description.as_deref(),
        };
        let updated = roster.update_org(&ctx, org, update)?;
        let (_, role) = roster.get_org(&ctx, org)?;
        Ok((updated, role))
    })
    .await?;
    Ok(Json(OrgResponse::new(updated, role)))
}

/// Deletes the organization (owner only).
async fn delete_org(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(org_id): Path<String>,
) -> ApiResult<Json<MessageResponse>> {
    let org = OrgId::parse(&org_id)?;
    blocking(&state, move |roster| roster.delete_org(&ctx, org)).await?;
    Ok(Json(MessageResponse::new(
        "Organization deleted successfully",
    )))
}

#[derive(Deserialize)]
struct TransferOwnershipRequest {
    member_id: String,
}

/// Makes a member the owner; the calling owner becomes an admin.
async fn transfer_ownership(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(org_id): Path<String>,
    Json(body): Json<TransferOwnershipRequest>,
) -> ApiResult<Json<MessageResponse>> {
    let org = OrgId::parse(&org_id)?;
    let member = UserId::parse(&body.member_id)
        .map_err(|_| roster_core::DomainError::invalid("member_id", "must be a UUID"))?;
    blocking(&state, move |roster| {
        roster.transfer_ownership(&ctx, org, member)
    })
    .await?;
    Ok(Json(MessageResponse::new(
        "Ownership transferred successfully",
    )))
}
