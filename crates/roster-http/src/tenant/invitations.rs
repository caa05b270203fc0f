//! Invitations: the org's list, revoke and resend; the invitee's own list,
//! accept and decline; acceptance by the emailed token; email verification.

use axum::extract::State;
use axum::routing::{delete, get, post};
use axum::Router;
use roster_core::ids::{InvitationId, OrgId};
use roster_core::model::{InvitationStatus, Member};
use roster_core::pagination::PageRequest;
use roster_core::DomainError;
use serde::{Deserialize, Serialize};

use crate::error::ApiResult;
use crate::extract::{Caller, Json, Path, Query};
use crate::tenant::dto::{
    InvitationResponse, ListResponse, MessageResponse, PageParams, UserResponse,
};
use crate::{blocking, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orgs/{org_id}/invitations", get(list_invitations))
        .route(
            "/orgs/{org_id}/invitations/{invitation_id}",
            delete(revoke_invitation),
        )
        .route(
            "/orgs/{org_id}/invitations/{invitation_id}/resend",
            post(resend_invitation),
        )
        .route("/me/invitations", get(my_invitations))
        .route("/me/invitations/{invitation_id}/accept", post(accept_by_id))
        .route("/me/invitations/{invitation_id}/decline", post(decline))
        .route("/invitations/{token}/accept", post(accept_by_token))
        .route("/auth/verify-email", post(verify_email))
        .route("/auth/verify-email/resend", post(resend_verification))
}

#[derive(Deserialize, Default)]
struct InvitationListParams {
    limit: Option<String>,
    cursor: Option<String>,
    status: Option<String>,
}

/// The org's invitations, optionally of one status (admin and up).
async fn list_invitations(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(org_id): Path<String>,
    Query(params): Query<InvitationListParams>,
) -> ApiResult<Json<ListResponse<InvitationResponse>>> {
    let org = OrgId::parse(&org_id)?;
    let page = PageRequest::parse(
        params.limit.as_deref(),
        params.cursor.as_deref(),
        PageRequest::MAX_LIMIT,
    )?;
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

fn ids(org: &str, invitation: &str) -> Result<(OrgId, InvitationId), DomainError> {
    Ok((OrgId::parse(org)?, InvitationId::parse(invitation)?))
}

/// Revokes an open invitation (its link stops working).
async fn revoke_invitation(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((org_id, invitation_id)): Path<(String, String)>,
) -> ApiResult<Json<MessageResponse>> {
    let (org, id) = ids(&org_id, &invitation_id)?;
    blocking(&state, move |roster| {
        roster.revoke_invitation(&ctx, org, id)
    })
    .await?;
    Ok(Json(MessageResponse::new(
        "Invitation revoked successfully",
    )))
}

/// Emails the invitation again with a new link; the old link dies.
async fn resend_invitation(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((org_id, invitation_id)): Path<(String, String)>,
) -> ApiResult<Json<InvitationResponse>> {
    let (org, id) = ids(&org_id, &invitation_id)?;
    let invitation = blocking(&state, move |roster| {
        roster.resend_invitation(&ctx, org, id)
    })
    .await?;
    Ok(Json(invitation.into()))
}

#[derive(Serialize)]
struct MyInvitationResponse {
    #[serde(flatten)]
    invitation: InvitationResponse,
    org_name: String,
}

/// Open invitations to the caller's verified email address.
async fn my_invitations(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Query(params): Query<PageParams>,
) -> ApiResult<Json<ListResponse<MyInvitationResponse>>> {
    let page = PageRequest::parse(
        params.limit.as_deref(),
        params.cursor.as_deref(),
        PageRequest::MAX_LIMIT,
    )?;
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
#[derive(Serialize)]
struct AcceptedResponse {
    org_id: String,
    member_id: String,
    member_email: String,
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

/// Accepts an invitation to the caller's verified address, by id.
async fn accept_by_id(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(invitation_id): Path<String>,
) -> ApiResult<Json<AcceptedResponse>> {
    let id = InvitationId::parse(&invitation_id)?;
    let (org, member) = blocking(&state, move |roster| {
        roster.accept_invitation_by_id(&ctx, id)
    })
    .await?;
    Ok(Json(accepted(org.to_string(), member)))
}

/// Declines an invitation to the caller's verified address.
async fn decline(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(invitation_id): Path<String>,
) -> ApiResult<Json<InvitationResponse>> {
    let id = InvitationId::parse(&invitation_id)?;
    let invitation = blocking(&state, move |roster| roster.decline_invitation(&ctx, id)).await?;
    Ok(Json(invitation.into()))
}

/// Accepts by the token from the invitation email (logged in as the invited address).
async fn accept_by_token(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(token): Path<String>,
) -> ApiResult<Json<AcceptedResponse>> {
    let (org, member) = blocking(&state, move |roster| {
        roster.accept_invitation_by_token(&ctx, &token)
    })
    .await?;
    Ok(Json(accepted(org.to_string(), member)))
}

#[derive(Deserialize)]
struct VerifyEmailRequest {
    token: String,
}

/// Proves an email address with the token from the verification email.
async fn verify_email(
    State(state): State<AppState>,
    Json(body): Json<VerifyEmailRequest>,
) -> ApiResult<Json<UserResponse>> {
    let user = blocking(&state, move |roster| roster.verify_email(&body.token)).await?;
    Ok(Json(user.into()))
}

/// Sends the caller a new verification email.
async fn resend_verification(
    State(state): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<MessageResponse>> {
    blocking(&state, move |roster| roster.resend_verification(&ctx)).await?;
    Ok(Json(MessageResponse::new("Verification email sent")))
}
