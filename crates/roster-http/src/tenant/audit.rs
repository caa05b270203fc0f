//! The audit log of an organization.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use roster_core::ids::OrgId;
use roster_core::pagination::PageRequest;

use crate::error::ApiResult;
use crate::extract::{Caller, Json, Path, Query};
use crate::tenant::dto::{AuditEventResponse, ListResponse, PageParams};
use crate::{blocking, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/orgs/{org_id}/audit-events", get(list_audit_events))
}

/// The organization's audit events, newest first (admin and up).
async fn list_audit_events(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(org_id): Path<String>,
    Query(params): Query<PageParams>,
) -> ApiResult<Json<ListResponse<AuditEventResponse>>> {
    let org = OrgId::parse(&org_id)?;
    let page = PageRequest::parse(
        params.limit.as_deref(),
        params.cursor.as_deref(),
        PageRequest::MAX_LIMIT,
    )?;
    let events = blocking(&state, move |roster| {
        roster.list_audit_events(&ctx, org, &page)
    })
    .await?;
    Ok(Json(ListResponse::from_page(
        events,
        AuditEventResponse::from,
    )))
}
