//! Invitations: the org's list, revoke and resend; the invitee's own list,
//! accept and decline; acceptance by the emailed token; email verification.

use axum::extract::State;
use roster_core::ids::{InvitationId, OrgId};
use roster_core::model::{InvitationStatus, Member};
use roster_core::DomainError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorResponse};
use crate::extract::{keyset_query, Caller, Json, Page, PathArgs};
use crate::schema;
use crate::shared_docs::{
    InvitationPath, MyInvitationErrors, OpenInvitationErrors, OrgErrors, OrgInvitationPath, OrgPath,
};
use crate::tenant::dto::{
    InvitationResponse, ListResponse, PageParams, SuccessResponse, UserResponse,
};
use crate::{blocking, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_invitations))
        .routes(routes!(revoke_invitation))
        .routes(routes!(resend_invitation))
        .routes(routes!(my_invitations))
        .routes(routes!(accept_by_id))
        .routes(routes!(decline))
        .routes(routes!(accept_by_token))
        .routes(routes!(verify_email))
        .routes(routes!(resend_verification))
}

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
struct InvitationListParams {
    /// Page size (default 100).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Only invitations in this state.
    #[param(value_type = Option<schema::InvitationStatus>)]
    status: Option<String>,
}

keyset_query!(InvitationListParams);

/// List invitations.
///
/// The org's invitations, optionally of one status (admin and up).
#[utoipa::path(
    get,
    path = "/orgs/{org_id}/invitations",
    tag = "Invitations",
    operation_id = "listInvitations",
    params(OrgPath, InvitationListParams),
    responses(
        (status = 200, description = "The invitations", body = ListResponse<InvitationResponse>),
        OrgErrors,
    )
)]
async fn list_invitations(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs(org): PathArgs<OrgId>,
    Page { page, params }: Page<InvitationListParams>,
) -> ApiResult<Json<ListResponse<InvitationResponse>>> {
    let status = params
        .status
        .as_deref()
        .map(|raw| {
            InvitationStatus::parse(raw).ok_or_else(|| {
                DomainError::invalid(
                    "status",
                    "must be one of pending, sent, accepted, declined, revoked, expired",
                )
            })
        })
        .transpose()?;
    let invitations = blocking(&state, move |roster| {
        roster.list_invitations(&ctx, org, status, &page)
    })
    .await?;
    Ok(Json(ListResponse::from_page(
        invitations,
        InvitationResponse::from,
    )))
}

/// Revoke invitation.
///
/// Revokes an open invitation (its link stops working).
#[utoipa::path(
    delete,
    path = "/orgs/{org_id}/invitations/{invitation_id}",
    tag = "Invitations",
    operation_id = "revokeInvitation",
    params(OrgInvitationPath),
    responses(
        (status = 200, description = "Invitation revoked", body = SuccessResponse),
        OpenInvitationErrors,
    )
)]
async fn revoke_invitation(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs((org, id)): PathArgs<(OrgId, InvitationId)>,
) -> ApiResult<Json<SuccessResponse>> {
    blocking(&state, move |roster| {
        roster.revoke_invitation(&ctx, org, id)
    })
    .await?;
    Ok(Json(SuccessResponse::new(
        "Invitation revoked successfully",
    )))
}

/// Resend invitation.
///
/// Emails the invitation again with a new link; the old link dies.
#[utoipa::path(
    post,
    path = "/orgs/{org_id}/invitations/{invitation_id}/resend",
    tag = "Invitations",
    operation_id = "resendInvitation",
    params(OrgInvitationPath),
    responses(
        (status = 200, description = "Invitation sent again", body = InvitationResponse),
        OpenInvitationErrors,
        (status = 410, description = "The invitation has expired or was revoked", body = ErrorResponse),
    )
)]
async fn resend_invitation(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs((org, id)): PathArgs<(OrgId, InvitationId)>,
) -> ApiResult<Json<InvitationResponse>> {
    let invitation = blocking(&state, move |roster| {
        roster.resend_invitation(&ctx, org, id)
    })
    .await?;
    Ok(Json(invitation.into()))
}

/// An invitation to the caller, with the inviting organization's name.
#[derive(Serialize, ToSchema)]
struct MyInvitationResponse {
    #[serde(flatten)]
    invitation: InvitationResponse,
    org_name: String,
}

/// My invitations.
///
/// Open invitations to the caller's verified email address.
#[utoipa::path(
    get,
    path = "/me/invitations",
    tag = "Invitations",
    operation_id = "listMyInvitations",
    params(PageParams),
    responses(
        (status = 200, description = "Open invitations to the caller", body = ListResponse<MyInvitationResponse>),
        (status = 403, description = "An API key has no invitations", body = ErrorResponse),
    )
)]
async fn my_invitations(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Page { page, .. }: Page<PageParams>,
) -> ApiResult<Json<ListResponse<MyInvitationResponse>>> {
    let invitations = blocking(&state, move |roster| roster.my_invitations(&ctx, &page)).await?;
    Ok(Json(ListResponse::from_page(
        invitations,
        |(invitation, org_name)| MyInvitationResponse {
            invitation: invitation.into(),
            org_name,
        },
    )))
}

/// What accepting an invitation answers: the new membership.
#[derive(Serialize, ToSchema)]
struct AcceptedResponse {
    #[schema(format = Uuid)]
    org_id: String,
    #[schema(format = Uuid)]
    member_id: String,
    #[schema(format = Email)]
    member_email: String,
    #[schema(value_type = schema::OrganizationRole)]
    member_role: &'static str,
    message: &'static str,
}

fn accepted(org: String, member: Member) -> AcceptedResponse {
    AcceptedResponse {
        org_id: org,
        member_id: member.user.id.to_string(),
        member_email: member.user.email,
        member_role: member.role.as_str(),
        message: "Invitation accepted",
    }
}

/// Accept invitation.
///
/// Accepts an invitation to the caller's verified address, by id.
#[utoipa::path(
    post,
    path = "/me/invitations/{invitation_id}/accept",
    tag = "Invitations",
    operation_id = "acceptMyInvitation",
    params(InvitationPath),
    responses(
        (status = 200, description = "Invitation accepted: the new membership", body = AcceptedResponse),
        MyInvitationErrors,
    )
)]
async fn accept_by_id(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs(id): PathArgs<InvitationId>,
) -> ApiResult<Json<AcceptedResponse>> {
    let (org, member) = blocking(&state, move |roster| {
        roster.accept_invitation_by_id(&ctx, id)
    })
    .await?;
    Ok(Json(accepted(org.to_string(), member)))
}

/// Decline invitation.
///
/// Declines an invitation to the caller's verified address.
#[utoipa::path(
    post,
    path = "/me/invitations/{invitation_id}/decline",
    tag = "Invitations",
    operation_id = "declineMyInvitation",
    params(InvitationPath),
    responses(
        (status = 200, description = "Invitation declined", body = InvitationResponse),
        MyInvitationErrors,
    )
)]
async fn decline(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs(id): PathArgs<InvitationId>,
) -> ApiResult<Json<InvitationResponse>> {
    let invitation = blocking(&state, move |roster| roster.decline_invitation(&ctx, id)).await?;
    Ok(Json(invitation.into()))
}

/// Accept invitation by token.
///
/// Accepts by the token from the invitation email (logged in as the invited
/// address; the token also proves that address).
#[utoipa::path(
    post,
    path = "/invitations/{token}/accept",
    tag = "Invitations",
    operation_id = "acceptInvitationByToken",
    params(("token" = String, Path, description = "The token from the invitation link")),
    responses(
        (status = 200, description = "Invitation accepted: the new membership", body = AcceptedResponse),
        (status = 403, description = "The invitation is for another address, or the caller is an API key", body = ErrorResponse),
        (status = 404, description = "Unknown token", body = ErrorResponse),
        (status = 409, description = "The invitation was already used", body = ErrorResponse),
        (status = 410, description = "The invitation has expired or was revoked", body = ErrorResponse),
    )
)]
async fn accept_by_token(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs(token): PathArgs<String>,
) -> ApiResult<Json<AcceptedResponse>> {
    let (org, member) = blocking(&state, move |roster| {
        roster.accept_invitation_by_token(&ctx, &token)
    })
    .await?;
    Ok(Json(accepted(org.to_string(), member)))
}

/// The token from the verification email.
#[derive(Deserialize, ToSchema)]
struct VerifyEmailRequest {
    token: String,
}

/// Verify email.
///
/// Proves an email address with the token from the verification email.
#[utoipa::path(
    post,
    path = "/auth/verify-email",
    tag = "Accounts",
    operation_id = "verifyEmail",
    request_body = VerifyEmailRequest,
    security(()),
    responses(
        (status = 200, description = "Email verified", body = UserResponse),
        (status = 404, description = "Unknown token", body = ErrorResponse),
        (status = 410, description = "The token has expired", body = ErrorResponse),
    )
)]
async fn verify_email(
    State(state): State<AppState>,
    Json(body): Json<VerifyEmailRequest>,
) -> ApiResult<Json<UserResponse>> {
    let user = blocking(&state, move |roster| roster.verify_email(&body.token)).await?;
    Ok(Json(user.into()))
}

/// Resend verification email.
///
/// Sends the caller a new verification email.
#[utoipa::path(
    post,
    path = "/auth/verify-email/resend",
    tag = "Accounts",
    operation_id = "resendVerificationEmail",
    responses(
        (status = 200, description = "Verification email sent", body = SuccessResponse),
        (status = 403, description = "An API key has no email", body = ErrorResponse),
        (status = 409, description = "The email is already verified", body = ErrorResponse),
        (status = 429, description = "Too many emails; see Retry-After", body = ErrorResponse),
    )
)]
async fn resend_verification(
    State(state): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<SuccessResponse>> {
    blocking(&state, move |roster| roster.resend_verification(&ctx)).await?;
    Ok(Json(SuccessResponse::new("Verification email sent")))
}
