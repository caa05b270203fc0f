//! The audit log of an organization.

use axum::extract::State;
use roster_core::ids::OrgId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiResult;
use crate::extract::{Caller, Json, Page, PathArgs};
use crate::shared_docs::{OrgErrors, OrgPath};
use crate::tenant::dto::{AuditEventResponse, ListResponse, PageParams};
use crate::{blocking, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit_events))
}

/// List audit events.
///
/// The organization's audit events, newest first (admin and up).
#[utoipa::path(
    get,
    path = "/orgs/{org_id}/audit-events",
    tag = "Audit",
    operation_id = "listAuditEvents",
    params(OrgPath, PageParams),
    responses(
        (status = 200, description = "The audit events", body = ListResponse<AuditEventResponse>),
        OrgErrors,
    )
)]
async fn list_audit_events(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs(org): PathArgs<OrgId>,
    Page { page, .. }: Page<PageParams>,
) -> ApiResult<Json<ListResponse<AuditEventResponse>>> {
    let events = blocking(&state, move |roster| {
        roster.list_audit_events(&ctx, org, &page)
    })
    .await?;
    Ok(Json(ListResponse::from_page(
        events,
        AuditEventResponse::from,
    )))
}
