//! The Organization API (Ango-style), at `/v2/organization/{orgId}/…`:
//! members and invitations by page number and by email, bulk role changes,
//! bulk removals, bulk invitations and bulk invitation deletion, all in the
//! `{status, data}` envelope, with the roles `Admin | Member | Guest`.
//!
//! A thin adapter: each item of a bulk request is one core command in its
//! own transaction, checked by the same rules as on every other surface and
//! reported on its own; one failure does not undo the others.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use roster_core::ids::{InvitationId, OrgId, ProjectId};
use roster_core::model::{Invitation, Member};
use roster_core::pagination::PageNumber;
use roster_core::role::{OrgRole, ProjectRole};
use roster_core::service::{
    effective_status, MemberChange, MemberRef, OwnerPolicy, RoleChangeOutcome,
};
use roster_core::time::Timestamp;
use roster_core::DomainError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{public_message, status_of, ApiResult, ErrorResponse};
use crate::extract::{Caller, Json, Page, PageQuery, PathArgs};
use crate::schema::{self, ango_invitation_status, ango_role};
use crate::shared_docs::{AngoErrors, AngoOrgPath};
use crate::{blocking, AppState, MAX_BULK_BODY_BYTES};

/// Most items one bulk request may carry.
pub const MAX_BULK_ITEMS: usize = 1000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, update_users, delete_users))
        .routes(routes!(list_invites, send_invites, delete_invites))
        .layer(DefaultBodyLimit::max(MAX_BULK_BODY_BYTES))
}

/// This surface's error body: the common `{code, message}` in its
/// `{status: "error"}` envelope (see `error_envelope`).
#[derive(Serialize, ToSchema)]
pub(crate) struct AngoError {
    /// Always `error`.
    status: &'static str,
    code: String,
    message: String,
}

impl From<ErrorResponse> for AngoError {
    fn from(ErrorResponse { code, message }: ErrorResponse) -> Self {
        Self {
            status: "error",
            code,
            message,
        }
    }
}

/// An email address.
#[derive(ToSchema)]
#[schema(format = Email)]
#[allow(dead_code)]
struct EmailAddress(String);

/// The path prefix of this surface.
pub const PREFIX: &str = "/v2/";

/// Puts every error of this surface — from handlers, extractors and the
/// app-wide layers (idempotency, unknown routes) alike — into the
/// surface's envelope: `{status: "error", code, message}`. Every error
/// answer carries its typed `ErrorResponse` (see `crate::error`); this
/// re-renders that value, keeping the status and headers, and takes it
/// out so that a second pass leaves the answer alone. Leaves other
/// surfaces' answers alone.
///
/// Installed twice around the app: inside the idempotency layer, so that
/// a stored (and replayed) answer is already in the envelope, and
/// outermost, for what the idempotency and body layers answer themselves.
pub async fn error_envelope(request: Request, next: Next) -> Response {
    let ours = request.uri().path().starts_with(PREFIX);
    let mut response = next.run(request).await;
    if !ours {
        return response;
    }
    let Some(error) = response.extensions_mut().remove::<ErrorResponse>() else {
        return response;
    };
    let Ok(body) = serde_json::to_vec(&AngoError::from(error)) else {
        return response;
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

/// The success envelope.
#[derive(Serialize, ToSchema)]
struct Envelope<T> {
    /// Always `success`.
    status: &'static str,
    data: T,
}

fn success<T>(data: T) -> Json<Envelope<T>> {
    Json(Envelope {
        status: "success",
        data,
    })
}

/// `Admin` is admin, never owner.
fn parse_role(raw: &str) -> Result<OrgRole, DomainError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "admin" => Ok(OrgRole::Admin),
        "member" => Ok(OrgRole::Member),
        "guest" => Ok(OrgRole::Guest),
        _ => Err(DomainError::invalid(
            "organizationRole",
            "must be Admin, Member or Guest",
        )),
    }
}

/// A bulk list holds `min` to `MAX_BULK_ITEMS` items. The spec lets the
/// lists of updates and removals be empty (nothing to do: zero counts);
/// only the invitation addresses need one (`minItems: 1`).
fn check_bulk_size(field: &'static str, len: usize, min: usize) -> Result<(), DomainError> {
    if len < min || len > MAX_BULK_ITEMS {
        return Err(DomainError::invalid(
            field,
            format!("must hold {min} to {MAX_BULK_ITEMS} items"),
        ));
    }
    Ok(())
}

/// A member of the organization.
#[derive(Serialize, ToSchema)]
struct User {
    /// The user's id.
    #[serde(rename = "_id")]
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Email)]
    email: String,
    name: String,
    #[serde(rename = "organizationRole")]
    #[schema(value_type = schema::ango::OrganizationRole)]
    organization_role: &'static str,
    #[serde(rename = "createdAt")]
    #[schema(format = DateTime)]
    created_at: String,
}

impl From<Member> for User {
    fn from(member: Member) -> Self {
        Self {
            id: member.user.id.to_string(),
            email: member.user.email,
            name: member.user.name,
            organization_role: ango_role(member.role),
            created_at: member.user.created_at.to_rfc3339(),
        }
    }
}

/// An invitation.
#[derive(Serialize, ToSchema)]
#[schema(as = Invitation)]
struct InvitationBody {
    #[serde(rename = "_id")]
    #[schema(format = Uuid)]
    id: String,
    /// The invited address.
    #[schema(format = Email)]
    to: String,
    #[serde(rename = "organizationRole")]
    #[schema(value_type = schema::ango::OrganizationRole)]
    organization_role: &'static str,
    #[schema(value_type = schema::ango::InvitationStatus)]
    status: &'static str,
    /// The inviting user (absent when an API key invited).
    #[serde(rename = "createdBy", skip_serializing_if = "Option::is_none")]
    #[schema(format = Uuid, nullable = false)]
    created_by: Option<String>,
    #[serde(rename = "createdAt")]
    #[schema(format = DateTime)]
    created_at: String,
    #[serde(rename = "expiresAt")]
    #[schema(format = DateTime)]
    expires_at: String,
}

impl InvitationBody {
    fn new(invitation: Invitation, now: Timestamp) -> Self {
        let status = ango_invitation_status(effective_status(&invitation, now));
        Self {
            id: invitation.id.to_string(),
            to: invitation.email,
            organization_role: ango_role(invitation.role),
            status,
            created_by: invitation.created_by.map(|u| u.to_string()),
            created_at: invitation.created_at.to_rfc3339(),
            expires_at: invitation.expires_at.to_rfc3339(),
        }
    }
}

/// How one item of a bulk request went.
#[derive(Serialize, ToSchema)]
struct ItemResult {
    /// The item, when it was named by email.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    email: Option<String>,
    /// The item, when it was named by id.
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    id: Option<String>,
    /// What happened (`updated`, `deleted`, `sent`, `refreshed`, `failed`…).
    status: &'static str,
    /// Why the item failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    message: Option<String>,
    /// The status the item would have had on its own.
    #[serde(rename = "httpStatus", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    http_status: Option<u16>,
}

impl ItemResult {
    fn ok(status: &'static str) -> Self {
        Self {
            email: None,
            id: None,
            status,
            code: None,
            message: None,
            http_status: None,
        }
    }

    /// One item's outcome: the status its success is reported with, or
    /// why it failed.
    fn of<T>(outcome: Result<T, DomainError>, done: impl FnOnce(T) -> &'static str) -> Self {
        match outcome {
            Ok(value) => Self::ok(done(value)),
            Err(err) => Self::failed(&err),
        }
    }

    fn failed(err: &DomainError) -> Self {
        Self {
            email: None,
            id: None,
            status: "failed",
            code: Some(err.code()),
            message: Some(public_message(err)),
            http_status: Some(status_of(err).as_u16()),
        }
    }

    fn for_email(mut self, email: &str) -> Self {
        self.email = Some(email.to_string());
        self
    }

    fn for_id(mut self, id: &str) -> Self {
        self.id = Some(id.to_string());
        self
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PageParams {
    /// Page number (1-indexed).
    #[param(value_type = Option<i64>, minimum = 1)]
    page: Option<String>,
    /// Items per page (max 100, default 10).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// Search by email, username or name.
    search: Option<String>,
}

/// Implements `PageQuery` for query structs with `page` and `limit`: a
/// numbered page (from 1; 1 to 100 items, default 10).
macro_rules! page_number_query {
    ($($params:ty),*) => {$(
        impl PageQuery for $params {
            type Page = PageNumber;
            fn page(&self) -> Result<PageNumber, DomainError> {
                PageNumber::parse(self.page.as_deref(), self.limit.as_deref())
            }
        }
    )*};
}

page_number_query!(PageParams, InvitePageParams);

/// A page of members.
#[derive(Serialize, ToSchema)]
struct UserList {
    users: Vec<User>,
    page: usize,
    limit: usize,
}

/// Get organization members.
///
/// Members of the org by page number, searched by email, username or name.
#[utoipa::path(
    get,
    path = "/v2/organization/{orgId}/users",
    tag = "Organization",
    operation_id = "getOrganizationMembers",
    params(AngoOrgPath, PageParams),
    responses(
        (status = 200, description = "Members retrieved successfully", body = Envelope<UserList>),
        AngoErrors,
    )
)]
async fn list_users(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs(org): PathArgs<OrgId>,
    Page { page, params }: Page<PageParams>,
) -> ApiResult<Json<Envelope<UserList>>> {
    let members = blocking(&state, move |roster| {
        roster.list_members_by_page(&ctx, org, params.search.as_deref(), page)
    })
    .await?;
    Ok(success(UserList {
        users: members.into_iter().map(User::from).collect(),
        page: page.page,
        limit: page.limit,
    }))
}

/// One member's new role.
#[derive(Deserialize, ToSchema)]
struct RoleUpdate {
    #[schema(format = Email)]
    email: String,
    #[serde(rename = "organizationRole")]
    #[schema(value_type = schema::ango::OrganizationRole)]
    organization_role: String,
}

/// Role changes, 1 to 1000.
#[derive(Deserialize, ToSchema)]
struct BulkUpdateMembersRequest {
    users: Vec<RoleUpdate>,
}

/// What a bulk role change did.
#[derive(Serialize, ToSchema)]
struct UpdateUsersData {
    users: UpdateCounts,
}

/// Counts and per-item results.
#[derive(Serialize, ToSchema)]
struct UpdateCounts {
    updated: usize,
    failed: usize,
    results: Vec<ItemResult>,
}

/// Update members.
///
/// Sets the role of each listed member; each item on its own.
#[utoipa::path(
    post,
    path = "/v2/organization/{orgId}/users",
    tag = "Organization",
    operation_id = "bulkUpdateMembers",
    params(AngoOrgPath),
    request_body = BulkUpdateMembersRequest,
    responses(
        (status = 200, description = "Members updated (see each result)", body = Envelope<UpdateUsersData>),
        AngoErrors,
    )
)]
async fn update_users(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs(org): PathArgs<OrgId>,
    Json(body): Json<BulkUpdateMembersRequest>,
) -> ApiResult<Json<Envelope<UpdateUsersData>>> {
    check_bulk_size("users", body.users.len(), 0)?;
    let items = body
        .users
        .iter()
        .map(|item| {
            let who = MemberRef::email(&item.email)?;
            Ok((
                who,
                MemberChange::role(parse_role(&item.organization_role)?),
            ))
        })
        .collect();
    let outcomes = blocking(&state, move |roster| {
        roster.change_members(&ctx, org, items, OwnerPolicy::ShownAsAdmin)
    })
    .await?;
    let results: Vec<ItemResult> = outcomes
        .into_iter()
        .zip(&body.users)
        .map(|(outcome, item)| {
            ItemResult::of(outcome, |change| match change {
                RoleChangeOutcome::Updated(_) => "updated",
                RoleChangeOutcome::Unchanged(_) => "unchanged",
            })
            .for_email(&item.email)
        })
        .collect();
    let failed = results.iter().filter(|r| r.status == "failed").count();
    Ok(success(UpdateUsersData {
        users: UpdateCounts {
            updated: results.len() - failed,
            failed,
            results,
        },
    }))
}

/// Emails of the members to remove, 1 to 1000.
#[derive(Deserialize, ToSchema)]
struct BulkDeleteMembersRequest {
    #[schema(value_type = Vec<EmailAddress>)]
    users: Vec<String>,
}

/// Counts and per-item results.
#[derive(Serialize, ToSchema)]
struct DeleteCounts {
    deleted: usize,
    failed: usize,
    results: Vec<ItemResult>,
}

fn counts(results: Vec<ItemResult>) -> DeleteCounts {
    let failed = results.iter().filter(|r| r.status == "failed").count();
    DeleteCounts {
        deleted: results.len() - failed,
        failed,
        results,
    }
}

/// Delete members.
///
/// Removes each listed member (by email); each item on its own.
#[utoipa::path(
    delete,
    path = "/v2/organization/{orgId}/users",
    tag = "Organization",
    operation_id = "bulkDeleteMembers",
    params(AngoOrgPath),
    request_body = BulkDeleteMembersRequest,
    responses(
        (status = 200, description = "Members deleted (see each result)", body = Envelope<DeleteCounts>),
        AngoErrors,
    )
)]
async fn delete_users(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs(org): PathArgs<OrgId>,
    Json(body): Json<BulkDeleteMembersRequest>,
) -> ApiResult<Json<Envelope<DeleteCounts>>> {
    check_bulk_size("users", body.users.len(), 0)?;
    let items = body
        .users
        .iter()
        .map(|email| MemberRef::email(email))
        .collect();
    // Members may remove themselves (leave); the core decides per item.
    let outcomes = blocking(&state, move |roster| {
        roster.remove_members(&ctx, org, items, OwnerPolicy::ShownAsAdmin)
    })
    .await?;
    let results = outcomes
        .into_iter()
        .zip(&body.users)
        .map(|(outcome, email)| ItemResult::of(outcome, |()| "deleted").for_email(email))
        .collect();
    Ok(success(counts(results)))
}

/// A page of open invitations.
#[derive(Serialize, ToSchema)]
struct InviteList {
    invites: Vec<InvitationBody>,
    page: usize,
    limit: usize,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct InvitePageParams {
    /// Page number (1-indexed).
    #[param(value_type = Option<i64>, minimum = 1)]
    page: Option<String>,
    /// Items per page (max 100, default 10).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
}

/// Get invitations.
///
/// Open (pending and sent) invitations by page number.
#[utoipa::path(
    get,
    path = "/v2/organization/{orgId}/invites",
    tag = "Organization",
    operation_id = "getOrganizationInvites",
    params(AngoOrgPath, InvitePageParams),
    responses(
        (status = 200, description = "Invitations retrieved successfully", body = Envelope<InviteList>),
        AngoErrors,
    )
)]
async fn list_invites(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs(org): PathArgs<OrgId>,
    Page { page, .. }: Page<InvitePageParams>,
) -> ApiResult<Json<Envelope<InviteList>>> {
    let invitations = blocking(&state, move |roster| {
        roster.list_open_invitations_by_page(&ctx, org, page)
    })
    .await?;
    let now = Timestamp::now();
    Ok(success(InviteList {
        invites: invitations
            .into_iter()
            .map(|i| InvitationBody::new(i, now))
            .collect(),
        page: page.page,
        limit: page.limit,
    }))
}

/// A project the invitee joins on acceptance.
#[derive(Deserialize, ToSchema)]
struct AngoProjectAssignment {
    #[serde(rename = "projectId")]
    #[schema(format = Uuid)]
    project_id: String,
    /// `admin` or `member`.
    #[serde(rename = "projectRole")]
    project_role: String,
}

/// Addresses to invite, 1 to 1000.
#[derive(Deserialize, ToSchema)]
struct InvitationRequest {
    #[schema(value_type = Vec<EmailAddress>)]
    to: Vec<String>,
    #[serde(rename = "organizationRole")]
    #[schema(value_type = schema::ango::OrganizationRole)]
    organization_role: String,
    #[serde(rename = "projectAssignments", default)]
    project_assignments: Vec<AngoProjectAssignment>,
    /// Per-address org role, overriding `organizationRole` for that address.
    #[serde(rename = "organizationRoleAssignments", default)]
    organization_role_assignments: HashMap<String, String>,
    /// Per-project role, adding projects to `projectAssignments` (or
    /// overriding the role of one listed there).
    #[serde(rename = "projectRoleAssignments", default)]
    project_role_assignments: HashMap<String, String>,
}

/// The invitations sent, counts and per-address results.
#[derive(Serialize, ToSchema)]
struct SentInvites {
    invites: Vec<InvitationBody>,
    sent: usize,
    failed: usize,
    results: Vec<ItemResult>,
}

fn project_assignments(
    body: &InvitationRequest,
) -> Result<Vec<(ProjectId, ProjectRole)>, DomainError> {
    let mut assignments: Vec<(ProjectId, ProjectRole)> = Vec::new();
    let listed = body
        .project_assignments
        .iter()
        .map(|a| (a.project_id.as_str(), a.project_role.as_str()));
    let mut extra: Vec<(&String, &String)> = body.project_role_assignments.iter().collect();
    extra.sort();
    let extra = extra.into_iter().map(|(p, r)| (p.as_str(), r.as_str()));
    for (project, role) in listed.chain(extra) {
        let project = ProjectId::parse(project)
            .map_err(|_| DomainError::invalid("projectId", "must be a project id"))?;
        let role = ProjectRole::parse(role)?;
        match assignments.iter_mut().find(|(p, _)| *p == project) {
            Some(existing) => existing.1 = role,
            None => assignments.push((project, role)),
        }
    }
    if assignments.len() > 100 {
        return Err(DomainError::invalid(
            "projectAssignments",
            "at most 100 projects",
        ));
    }
    Ok(assignments)
}

/// Send invitations.
///
/// Invites each listed address (refreshing an open invitation of the same
/// address); each address on its own.
#[utoipa::path(
    post,
    path = "/v2/organization/{orgId}/invites",
    tag = "Organization",
    operation_id = "sendInvitations",
    params(AngoOrgPath),
    request_body = InvitationRequest,
    responses(
        (status = 200, description = "Invitations sent (see each result)", body = Envelope<SentInvites>),
        AngoErrors,
    )
)]
async fn send_invites(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs(org): PathArgs<OrgId>,
    Json(body): Json<InvitationRequest>,
) -> ApiResult<Json<Envelope<SentInvites>>> {
    check_bulk_size("to", body.to.len(), 1)?;
    let default_role = parse_role(&body.organization_role)?;
    // A bad project or per-address role fails the addresses it applies to
    // (each reported in `results`), as every item of a bulk request does.
    let assignments = project_assignments(&body);
    let mut overrides: HashMap<String, Result<OrgRole, DomainError>> = HashMap::new();
    for (email, role) in &body.organization_role_assignments {
        overrides.insert(email.trim().to_lowercase(), parse_role(role));
    }
    let items = body
        .to
        .iter()
        .map(|email| {
            let role = match overrides.get(&email.trim().to_lowercase()) {
                Some(role) => role.clone()?,
                None => default_role,
            };
            Ok((MemberRef::email(email)?, role, assignments.clone()?))
        })
        .collect();
    let outcomes = blocking(&state, move |roster| {
        roster.invite_addresses(&ctx, org, items)
    })
    .await?;
    let outcomes = body.to.iter().cloned().zip(outcomes);
    let now = Timestamp::now();
    let mut invites = Vec::new();
    let mut results = Vec::new();
    for (email, outcome) in outcomes {
        match outcome {
            Ok(invited) => {
                let status = if invited.refreshed {
                    "refreshed"
                } else {
                    "sent"
                };
                results.push(
                    ItemResult::ok(status)
                        .for_email(&email)
                        .for_id(&invited.invitation.id.to_string()),
                );
                invites.push(InvitationBody::new(invited.invitation, now));
            }
            Err(err) => results.push(ItemResult::failed(&err).for_email(&email)),
        }
    }
    Ok(success(SentInvites {
        sent: invites.len(),
        failed: results.len() - invites.len(),
        invites,
        results,
    }))
}

/// Ids of open invitations to revoke, 1 to 1000.
#[derive(Deserialize, ToSchema)]
struct BulkDeleteInvitesRequest {
    invites: Vec<String>,
}

/// Delete invitations.
///
/// Revokes each listed open invitation (by id); each item on its own.
#[utoipa::path(
    delete,
    path = "/v2/organization/{orgId}/invites",
    tag = "Organization",
    operation_id = "bulkDeleteInvites",
    params(AngoOrgPath),
    request_body = BulkDeleteInvitesRequest,
    responses(
        (status = 200, description = "Invitations revoked (see each result)", body = Envelope<DeleteCounts>),
        AngoErrors,
    )
)]
async fn delete_invites(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs(org): PathArgs<OrgId>,
    Json(body): Json<BulkDeleteInvitesRequest>,
) -> ApiResult<Json<Envelope<DeleteCounts>>> {
    check_bulk_size("invites", body.invites.len(), 0)?;
    let ids = body
        .invites
        .iter()
        .map(|raw| {
            InvitationId::parse(raw.trim())
                .map_err(|_| DomainError::invalid("invites", "each item is an invitation id"))
        })
        .collect();
    let outcomes = blocking(&state, move |roster| {
        roster.revoke_invitations(&ctx, org, ids)
    })
    .await?;
    let results = outcomes
        .into_iter()
        .zip(&body.invites)
        .map(|(outcome, raw)| ItemResult::of(outcome, |_| "deleted").for_id(raw))
        .collect();
    Ok(success(counts(results)))
}
