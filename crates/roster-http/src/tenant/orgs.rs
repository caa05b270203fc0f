//! Organizations: list mine, create, read, update, delete, transfer ownership.

use axum::extract::State;
use axum::http::StatusCode;
use roster_core::ids::OrgId;
use roster_core::role::OrgRole;
use roster_core::service::OrgUpdate;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorResponse};
use crate::extract::{member_id, Caller, Json, Page, PathArgs};
use crate::idempotency::HoldsSecret;
use crate::shared_docs::{OrgErrors, OrgPath};
use crate::tenant::dto::{ListResponse, OrganizationResponse, PageParams, SuccessResponse};
use crate::{blocking, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_orgs, create_org))
        .routes(routes!(get_org, update_org, delete_org))
        .routes(routes!(transfer_ownership))
        .routes(routes!(org_access_token))
}

/// An access token bound to one organization.
#[derive(serde::Serialize, ToSchema)]
struct OrgAccessTokenResponse {
    access_token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds until the token expires.
    expires_in: i64,
    #[schema(format = Uuid)]
    org_id: String,
}

/// Issue an org-scoped access token.
///
/// Extension: an access token of the caller's session bound to one org, for
/// the Members API (`/v1/members`), whose requests name no org.
#[utoipa::path(
    post,
    path = "/orgs/{org_id}/access-token",
    tag = "Organizations",
    operation_id = "issueOrgAccessToken",
    params(OrgPath),
    responses(
        (status = 201, description = "Token issued", body = OrgAccessTokenResponse),
        (status = 403, description = "An API key cannot issue tokens", body = ErrorResponse),
        (status = 404, description = "Organization not found", body = ErrorResponse),
    )
)]
async fn org_access_token(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs(org): PathArgs<OrgId>,
) -> ApiResult<(StatusCode, HoldsSecret, Json<OrgAccessTokenResponse>)> {
    let token = blocking(&state, move |roster| {
        roster.issue_org_access_token(&ctx, org)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        HoldsSecret,
        Json(OrgAccessTokenResponse {
            access_token: token.access_token,
            token_type: "Bearer",
            expires_in: token.expires_in,
            org_id: token.org.to_string(),
        }),
    ))
}

/// Get user organizations.
///
/// Retrieve all organizations of the current user (keyset pages).
#[utoipa::path(
    get,
    path = "/orgs",
    tag = "Organizations",
    operation_id = "listUserOrganizations",
    params(PageParams),
    responses(
        (status = 200, description = "Organizations retrieved successfully", body = ListResponse<OrganizationResponse>),
        (status = 403, description = "An API key lists no organizations", body = ErrorResponse),
    )
)]
async fn list_orgs(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Page { page, .. }: Page<PageParams>,
) -> ApiResult<Json<ListResponse<OrganizationResponse>>> {
    let orgs = blocking(&state, move |roster| roster.list_my_orgs(&ctx, &page)).await?;
    Ok(Json(ListResponse::from_page(orgs, |(org, role)| {
        OrganizationResponse::new(org, role)
    })))
}

/// A new organization.
#[derive(Deserialize, ToSchema)]
struct CreateOrgRequest {
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    description: Option<String>,
}

/// Create an organization.
///
/// Creates an organization; the caller becomes its owner.
#[utoipa::path(
    post,
    path = "/orgs",
    tag = "Organizations",
    operation_id = "createOrganization",
    request_body = CreateOrgRequest,
    responses(
        (status = 201, description = "Organization created", body = OrganizationResponse),
        (status = 403, description = "An API key cannot create organizations, nor can a person whose email is not verified yet (`email_not_verified`)", body = ErrorResponse),
        (status = 429, description = "This account created as many organizations as it may per day; see Retry-After", body = ErrorResponse),
    )
)]
async fn create_org(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Json(body): Json<CreateOrgRequest>,
) -> ApiResult<(StatusCode, Json<OrganizationResponse>)> {
    let org = blocking(&state, move |roster| {
        roster.create_org(&ctx, &body.name, body.description.as_deref())
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(OrganizationResponse::new(org, OrgRole::Owner)),
    ))
}

/// Get organization.
///
/// Retrieve organization by ID.
#[utoipa::path(
    get,
    path = "/orgs/{org_id}",
    tag = "Organizations",
    operation_id = "getOrganization",
    params(OrgPath),
    responses(
        (status = 200, description = "Organization retrieved successfully", body = OrganizationResponse),
        OrgErrors,
    )
)]
async fn get_org(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs(org): PathArgs<OrgId>,
) -> ApiResult<Json<OrganizationResponse>> {
    let (org, grant) = blocking(&state, move |roster| roster.get_org(&ctx, org)).await?;
    Ok(Json(OrganizationResponse::new(org, grant.role)))
}

/// Request payload for updating an organization; absent fields keep their value.
#[derive(Deserialize, ToSchema)]
struct OrganizationUpdateRequest {
    #[schema(min_length = 1, max_length = 100, nullable = false)]
    name: Option<String>,
    /// An empty string clears the description.
    #[schema(nullable = false)]
    description: Option<String>,
}

/// Update organization.
///
/// Update organization name and/or description (admin and up).
#[utoipa::path(
    patch,
    path = "/orgs/{org_id}",
    tag = "Organizations",
    operation_id = "updateOrganization",
    params(OrgPath),
    request_body = OrganizationUpdateRequest,
    responses(
        (status = 200, description = "Organization updated successfully", body = OrganizationResponse),
        OrgErrors,
    )
)]
async fn update_org(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs(org): PathArgs<OrgId>,
    Json(body): Json<OrganizationUpdateRequest>,
) -> ApiResult<Json<OrganizationResponse>> {
    let (updated, role) = blocking(&state, move |roster| {
        let update = OrgUpdate {
            name: body.name.as_deref(),
            description: body.description.as_deref(),
        };
        roster.update_org(&ctx, org, update)
    })
    .await?;
    Ok(Json(OrganizationResponse::new(updated, role)))
}

/// Delete organization.
///
/// Deletes the organization and everything in it (owner only).
#[utoipa::path(
    delete,
    path = "/orgs/{org_id}",
    tag = "Organizations",
    operation_id = "deleteOrganization",
    params(OrgPath),
    responses(
        (status = 200, description = "Organization deleted", body = SuccessResponse),
        (status = 403, description = "Only an owner may delete the organization", body = ErrorResponse),
        (status = 404, description = "Organization not found", body = ErrorResponse),
    )
)]
async fn delete_org(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs(org): PathArgs<OrgId>,
) -> ApiResult<Json<SuccessResponse>> {
    blocking(&state, move |roster| roster.delete_org(&ctx, org)).await?;
    Ok(Json(SuccessResponse::new(
        "Organization deleted successfully",
    )))
}

/// Who becomes the owner.
#[derive(Deserialize, ToSchema)]
struct TransferOwnershipRequest {
    /// User id of a member of the organization.
    #[schema(format = Uuid)]
    member_id: String,
}

/// Transfer ownership.
///
/// Makes a member the owner; the calling owner becomes an admin, in one
/// transaction.
#[utoipa::path(
    post,
    path = "/orgs/{org_id}/transfer-ownership",
    tag = "Organizations",
    operation_id = "transferOwnership",
    params(OrgPath),
    request_body = TransferOwnershipRequest,
    responses(
        (status = 200, description = "Ownership transferred", body = SuccessResponse),
        (status = 403, description = "Only an owner may transfer ownership", body = ErrorResponse),
        (status = 404, description = "Organization or member not found", body = ErrorResponse),
        (status = 409, description = "The member already owns the organization", body = ErrorResponse),
    )
)]
async fn transfer_ownership(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs(org): PathArgs<OrgId>,
    Json(body): Json<TransferOwnershipRequest>,
) -> ApiResult<Json<SuccessResponse>> {
    let member = member_id(&body.member_id)?;
    blocking(&state, move |roster| {
        roster.transfer_ownership(&ctx, org, member)
    })
    .await?;
    Ok(Json(SuccessResponse::new(
        "Ownership transferred successfully",
    )))
}
