//! API keys of an organization: create (the secret is shown once), list,
//! revoke.

use axum::extract::State;
use axum::http::StatusCode;
use roster_core::ids::{ApiKeyId, OrgId};
use roster_core::model::ApiKey;
use roster_core::time::Timestamp;
use roster_core::DomainError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorResponse};
use crate::extract::{Caller, Json, Page, PathArgs};
use crate::idempotency::HoldsSecret;
use crate::schema;
use crate::shared_docs::{OrgErrors, OrgPath};
use crate::tenant::dto::{ListResponse, PageParams, SuccessResponse};
use crate::{blocking, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_api_keys, create_api_key))
        .routes(routes!(revoke_api_key))
}

/// An API key as lists show it (never the secret).
#[derive(Serialize, ToSchema)]
pub struct ApiKeyResponse {
    #[schema(format = Uuid)]
    id: String,
    name: String,
    #[schema(value_type = Vec<schema::ApiKeyScope>)]
    scopes: Vec<&'static str>,
    /// The user who created the key (null when another key did).
    #[schema(format = Uuid)]
    created_by: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    last_used_at: Option<String>,
    #[schema(format = DateTime)]
    expires_at: Option<String>,
    #[schema(format = DateTime)]
    revoked_at: Option<String>,
}

impl From<ApiKey> for ApiKeyResponse {
    fn from(key: ApiKey) -> Self {
        Self {
            id: key.id.to_string(),
            name: key.name,
            scopes: key.scopes.iter().map(|s| s.as_str()).collect(),
            created_by: key.created_by.map(|id| id.to_string()),
            created_at: key.created_at.to_rfc3339(),
            last_used_at: key.last_used_at.map(|t| t.to_rfc3339()),
            expires_at: key.expires_at.map(|t| t.to_rfc3339()),
            revoked_at: key.revoked_at.map(|t| t.to_rfc3339()),
        }
    }
}

/// The one answer that carries the secret.
#[derive(Serialize, ToSchema)]
struct CreatedApiKeyResponse {
    #[schema(format = Uuid)]
    id: String,
    name: String,
    #[schema(value_type = Vec<schema::ApiKeyScope>)]
    scopes: Vec<&'static str>,
    /// The secret: send it as `Authorization: Bearer <key>` or `apikey: <key>`.
    key: String,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    expires_at: Option<String>,
}

/// A new API key.
#[derive(Deserialize, ToSchema)]
struct CreateApiKeyRequest {
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    #[schema(value_type = Vec<schema::ApiKeyScope>)]
    scopes: Vec<String>,
    /// RFC 3339 time after which the key stops working.
    #[schema(format = DateTime)]
    expires_at: Option<String>,
}

fn parse_time(field: &'static str, raw: &str) -> Result<Timestamp, DomainError> {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(raw.trim(), &Rfc3339)
        .map(|t| Timestamp((t.unix_timestamp_nanos() / 1_000_000) as i64))
        .map_err(|_| DomainError::invalid(field, "must be an RFC 3339 date-time"))
}

/// Create API key.
///
/// Creates an API key; the `key` in the answer is shown only this once.
#[utoipa::path(
    post,
    path = "/orgs/{org_id}/api-keys",
    tag = "API Keys",
    operation_id = "createApiKey",
    params(OrgPath),
    request_body = CreateApiKeyRequest,
    responses(
        (status = 201, description = "API key created", body = CreatedApiKeyResponse),
        OrgErrors,
    )
)]
async fn create_api_key(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs(org): PathArgs<OrgId>,
    Json(body): Json<CreateApiKeyRequest>,
) -> ApiResult<(StatusCode, HoldsSecret, Json<CreatedApiKeyResponse>)> {
    let expires_at = body
        .expires_at
        .as_deref()
        .map(|raw| parse_time("expires_at", raw))
        .transpose()?;
    let (key, secret) = blocking(&state, move |roster| {
        roster.create_api_key(&ctx, org, &body.name, &body.scopes, expires_at)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        HoldsSecret,
        Json(CreatedApiKeyResponse {
            id: key.id.to_string(),
            name: key.name,
            scopes: key.scopes.iter().map(|s| s.as_str()).collect(),
            key: secret,
            created_at: key.created_at.to_rfc3339(),
            expires_at: key.expires_at.map(|t| t.to_rfc3339()),
        }),
    ))
}

/// List API keys.
///
/// The organization's API keys (admin and up), never their secrets.
#[utoipa::path(
    get,
    path = "/orgs/{org_id}/api-keys",
    tag = "API Keys",
    operation_id = "listApiKeys",
    params(OrgPath, PageParams),
    responses(
        (status = 200, description = "The API keys", body = ListResponse<ApiKeyResponse>),
        OrgErrors,
    )
)]
async fn list_api_keys(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs(org): PathArgs<OrgId>,
    Page { page, .. }: Page<PageParams>,
) -> ApiResult<Json<ListResponse<ApiKeyResponse>>> {
    let keys = blocking(&state, move |roster| roster.list_api_keys(&ctx, org, &page)).await?;
    Ok(Json(ListResponse::from_page(keys, ApiKeyResponse::from)))
}

/// Revoke API key.
///
/// Revokes an API key: it answers 401 from now on.
#[utoipa::path(
    delete,
    path = "/orgs/{org_id}/api-keys/{key_id}",
    tag = "API Keys",
    operation_id = "revokeApiKey",
    params(OrgPath, ("key_id" = uuid::Uuid, Path, description = "API key ID")),
    responses(
        (status = 200, description = "API key revoked", body = SuccessResponse),
        (status = 403, description = "Insufficient permissions", body = ErrorResponse),
        (status = 404, description = "Organization or API key not found", body = ErrorResponse),
    )
)]
async fn revoke_api_key(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    PathArgs((org, key)): PathArgs<(OrgId, ApiKeyId)>,
) -> ApiResult<Json<SuccessResponse>> {
    blocking(&state, move |roster| roster.revoke_api_key(&ctx, org, key)).await?;
    Ok(Json(SuccessResponse::new("API key revoked successfully")))
}
