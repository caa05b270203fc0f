//! API keys of an organization: create (the secret is shown once), list,
//! revoke.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::Router;
use roster_core::ids::{ApiKeyId, OrgId};
use roster_core::model::ApiKey;
use roster_core::pagination::PageRequest;
use roster_core::time::Timestamp;
use roster_core::DomainError;
use serde::{Deserialize, Serialize};

use crate::error::ApiResult;
use crate::extract::{Caller, Json, Path, Query};
use crate::tenant::dto::{ListResponse, MessageResponse, PageParams};
use crate::{blocking, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/orgs/{org_id}/api-keys",
            get(list_api_keys).post(create_api_key),
        )
        .route("/orgs/{org_id}/api-keys/{key_id}", delete(revoke_api_key))
}

/// An API key as lists show it (never the secret).
#[derive(Serialize)]
pub struct ApiKeyResponse {
    id: String,
    name: String,
    scopes: Vec<&'static str>,
    created_by: Option<String>,
    created_at: String,
    last_used_at: Option<String>,
    expires_at: Option<String>,
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
#[derive(Serialize)]
struct CreatedApiKeyResponse {
    id: String,
    name: String,
    scopes: Vec<&'static str>,
    key: String,
    created_at: String,
    expires_at: Option<String>,
}

#[derive(Deserialize)]
struct CreateApiKeyRequest {
    name: String,
    scopes: Vec<String>,
    /// RFC 3339 time after which the key stops working.
    expires_at: Option<String>,
}

fn parse_time(field: &'static str, raw: &str) -> Result<Timestamp, DomainError> {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(raw.trim(), &Rfc3339)
        .map(|t| Timestamp((t.unix_timestamp_nanos() / 1_000_000) as i64))
        .map_err(|_| DomainError::invalid(field, "must be an RFC 3339 date-time"))
}

/// Creates an API key; the `key` in the answer is shown only this once.
async fn create_api_key(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(org_id): Path<String>,
    Json(body): Json<CreateApiKeyRequest>,
) -> ApiResult<(StatusCode, Json<CreatedApiKeyResponse>)> {
    let org = OrgId::parse(&org_id)?;
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

/// The organization's API keys (admin and up).
async fn list_api_keys(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(org_id): Path<String>,
    Query(params): Query<PageParams>,
) -> ApiResult<Json<ListResponse<ApiKeyResponse>>> {
    let org = OrgId::parse(&org_id)?;
    let page = PageRequest::parse(
        params.limit.as_deref(),
        params.cursor.as_deref(),
        PageRequest::MAX_LIMIT,
    )?;
    let keys = blocking(&state, move |roster| roster.list_api_keys(&ctx, org, &page)).await?;
    Ok(Json(ListResponse::from_page(keys, ApiKeyResponse::from)))
}

/// Revokes an API key: it answers 401 from now on.
async fn revoke_api_key(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((org_id, key_id)): Path<(String, String)>,
) -> ApiResult<Json<MessageResponse>> {
    let org = OrgId::parse(&org_id)?;
    let key = ApiKeyId::parse(&key_id)?;
    blocking(&state, move |roster| roster.revoke_api_key(&ctx, org, key)).await?;
    Ok(Json(MessageResponse::new("API key revoked successfully")))
}
