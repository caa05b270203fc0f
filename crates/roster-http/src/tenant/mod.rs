//! The Tenant API (native surface), served under `/api/v1` and again under
//! `/tenant/api/v1`: the seed endpoints plus DESIGN.md's extensions.

mod api_keys;
mod audit;
mod auth;
pub mod dto;
mod invitations;
mod members;
mod orgs;
mod projects;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

/// Every Tenant API route, relative to the surface's base path, with the
/// OpenAPI description of each (see `crate::openapi`).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::router())
        .merge(orgs::router())
        .merge(members::router())
        .merge(projects::router())
        .merge(audit::router())
        .merge(api_keys::router())
        .merge(invitations::router())
}
