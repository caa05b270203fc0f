//! Extractors that answer malformed input in our `{code, message}` shape
//! instead of axum's plain-text rejections; typed path ids and pages, so a
//! handler receives parsed values (a bad id is a 400 naming the field
//! before the handler runs); and the caller extractor that turns
//! `Authorization: Bearer …` into a core `Ctx`.

use std::net::SocketAddr;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use roster_core::credentials::{apikey_credential, bearer_credential};
use roster_core::ids::{ApiKeyId, InvitationId, OrgId, ProjectId, UserId};
use roster_core::model::Actor;
use roster_core::service::{RouteOrg, API_KEY_PREFIX};
use roster_core::{Ctx, DomainError};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, HttpError};
use crate::{blocking, AppState};

/// `axum::Json` with our rejection.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> Response {
    let message = rejection.body_text();
    match &rejection {
        JsonRejection::JsonDataError(_) => HttpError::InvalidRequest(message),
        JsonRejection::JsonSyntaxError(_) => HttpError::InvalidJson(message),
        JsonRejection::MissingJsonContentType(_) => HttpError::UnsupportedMediaType(message),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            HttpError::PayloadTooLarge(message)
        }
        other => HttpError::Rejected(other.status(), message),
    }
    .into_response()
}

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Query` with our rejection.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(query_rejection(rejection)),
        }
    }
}

fn query_rejection(rejection: QueryRejection) -> Response {
    HttpError::InvalidRequest(rejection.body_text()).into_response()
}

/// Query parameters that carry a page: a keyset page (`limit`, `cursor`;
/// see `keyset_query!`) or the Organization API's numbered page (`page`,
/// `limit`), with whatever else a list takes (a filter, a search). Each
/// type documents its parameters for its surface.
pub trait PageQuery: DeserializeOwned + Send {
    /// `PageRequest` or `PageNumber`.
    type Page;
    /// Parses the page out of the parameters as they came.
    fn page(&self) -> Result<Self::Page, DomainError>;
}

/// A page parsed from the query string, and the rest of the list's
/// parameters. Every list of every surface takes one.
pub struct Page<P: PageQuery> {
    pub page: P::Page,
    pub params: P,
}

impl<P: PageQuery, S: Send + Sync> FromRequestParts<S> for Page<P> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(params) = Query::<P>::from_request_parts(parts, state).await?;
        let page = params.page().map_err(|err| ApiError(err).into_response())?;
        Ok(Page { page, params })
    }
}

/// Implements `PageQuery` for query structs with `limit` and `cursor`
/// fields (`Option<String>`): a keyset page, `limit` 1 to 1000 (default
/// 100) after the `next_cursor` of the previous page.
macro_rules! keyset_query {
    ($($params:ty),* $(,)?) => {$(
        impl $crate::extract::PageQuery for $params {
            type Page = roster_core::pagination::PageRequest;
            fn page(&self) -> Result<Self::Page, roster_core::DomainError> {
                roster_core::pagination::PageRequest::parse(
                    self.limit.as_deref(),
                    self.cursor.as_deref(),
                    roster_core::pagination::PageRequest::MAX_LIMIT,
                )
            }
        }
    )*};
}
pub(crate) use keyset_query;

/// The request id that the request-id layer put on the request.
pub fn request_id(parts: &Parts) -> String {
    parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_default()
}

/// The client's address, for rate limits.
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let addr = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string())
            .unwrap_or_else(|| "unknown".to_string());
        Ok(ClientAddr(addr))
    }
}

/// An authenticated caller of the Tenant API.
pub struct Caller(pub Ctx);

/// The bearer credential of a request, if any.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    bearer_credential(value)
}

/// The `apikey` header's key: `apikey: <key>` or `apikey: apikey <key>`.
pub fn apikey_header(parts: &Parts) -> Option<&str> {
    apikey_credential(parts.headers.get("apikey")?.to_str().ok()?)
}

/// Path parameters that name the org a route acts in.
const ORG_PATH_PARAMS: [&str; 2] = ["org_id", "orgId"];

/// The org the matched route names in its path, if any.
async fn route_org(parts: &mut Parts, state: &AppState) -> RouteOrg {
    let Ok(params) = RawPathParams::from_request_parts(parts, state).await else {
        return RouteOrg::Unnamed;
    };
    params
        .iter()
        .find(|(name, _)| ORG_PATH_PARAMS.contains(name))
        .map_or(RouteOrg::Unnamed, |(_, value)| {
            RouteOrg::Named(OrgId::parse(value).ok())
        })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    /// Authenticates, then lets an org-scoped access token through only
    /// when the route names its org (`Ctx::admit`).
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ctx = authenticate(parts, state).await?;
        ctx.admit(route_org(parts, state).await)?;
        Ok(Caller(ctx))
    }
}

/// An authenticated caller of a surface that acts in the credential's own
/// org (the Members API): an org-scoped access token is welcome there.
pub struct CredentialOrgCaller(pub Ctx);

impl FromRequestParts<AppState> for CredentialOrgCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ctx = authenticate(parts, state).await?;
        ctx.admit(RouteOrg::Credential)?;
        Ok(CredentialOrgCaller(ctx))
    }
}

/// Turns the request's bearer token or API key into a `Ctx`: 401 when
/// there is none or it is not valid (bad, expired, logged out, revoked).
/// Says nothing yet about what the caller may do.
/// The caller an earlier layer of this request already authenticated (the
/// idempotency layer must know it before the handler runs), so the
/// handler's extractor does not authenticate a second time.
#[derive(Clone)]
pub(crate) struct Authenticated(pub Ctx);

pub async fn authenticate(parts: &Parts, state: &AppState) -> Result<Ctx, ApiError> {
    if let Some(Authenticated(ctx)) = parts.extensions.get::<Authenticated>() {
        return Ok(ctx.clone());
    }
    let credential = bearer_token(parts)
        .or_else(|| apikey_header(parts))
        .ok_or(ApiError(DomainError::Unauthenticated))?
        .to_string();
    let request_id = request_id(parts);
    if credential.starts_with(API_KEY_PREFIX) {
        // The core's credential cache answers most requests without a
        // trip to a blocking thread and the database.
        let cached = state.roster.authenticate_api_key_cached(&credential);
        let (key, grant) = match cached {
            Some(found) => found,
            None => {
                blocking(state, move |roster| {
                    roster.authenticate_api_key(&credential)
                })
                .await?
            }
        };
        return Ok(Ctx {
            actor: Actor::ApiKey(key),
            session: None,
            api_key: Some(grant),
            org_scope: None,
            request_id,
        });
    }
    let user = match state.roster.authenticate_access_token_cached(&credential) {
        Some(user) => user,
        None => {
            blocking(state, move |roster| {
                roster.authenticate_access_token(&credential)
            })
            .await?
        }
    };
    Ok(Ctx {
        actor: Actor::User(user.user),
        session: Some(user.session),
        api_key: None,
        org_scope: user.org,
        request_id,
    })
}

/// The path's parameters, parsed: `PathArgs<OrgId>`,
/// `PathArgs<(OrgId, UserId)>`, `PathArgs<String>`… A segment that does
/// not parse is a 400 naming the field (`org_id: must be a UUID`) before
/// the handler runs. (Not named `Path`: utoipa would then read the
/// handler's argument types as the documented parameters; the documents
/// name their parameters in `crate::shared_docs`.)
pub struct PathArgs<T>(pub T);

impl<T: PathParams, S: Send + Sync> FromRequestParts<S> for PathArgs<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T::Raw>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(raw)) => T::parse(raw)
                .map(PathArgs)
                .map_err(|err| ApiError(err).into_response()),
            Err(rejection) => Err(HttpError::InvalidRequest(rejection.body_text()).into_response()),
        }
    }
}

/// One path segment's value.
pub trait PathSegment: Sized {
    fn parse_segment(raw: &str) -> Result<Self, DomainError>;
}

/// What `PathArgs` can hold: one segment, or a tuple of them in path order
/// (parsed in that order, so the first bad one is the one reported).
pub trait PathParams: Sized {
    /// The segments as text.
    type Raw: DeserializeOwned + Send;
    fn parse(raw: Self::Raw) -> Result<Self, DomainError>;
}

/// The user id of a member, in a path or a body: malformed, it is a 400
/// about `member_id` (the name every route and body gives a user id), not
/// `user_id`.
pub fn member_id(raw: &str) -> Result<UserId, DomainError> {
    UserId::parse(raw).map_err(|_| DomainError::invalid("member_id", "must be a UUID"))
}

macro_rules! path_segments {
    ($($segment:ty => $parse:expr;)*) => {$(
        impl PathSegment for $segment {
            fn parse_segment(raw: &str) -> Result<Self, DomainError> {
                $parse(raw)
            }
        }

        impl PathParams for $segment {
            type Raw = String;
            fn parse(raw: String) -> Result<Self, DomainError> {
                <$segment>::parse_segment(&raw)
            }
        }
    )*};
}

path_segments! {
    String => |raw: &str| Ok(raw.to_string());
    OrgId => OrgId::parse;
    ProjectId => ProjectId::parse;
    InvitationId => InvitationId::parse;
    ApiKeyId => ApiKeyId::parse;
    UserId => member_id;
}

impl<A: PathSegment, B: PathSegment> PathParams for (A, B) {
    type Raw = (String, String);
    fn parse((a, b): Self::Raw) -> Result<Self, DomainError> {
        Ok((A::parse_segment(&a)?, B::parse_segment(&b)?))
    }
}

impl<A: PathSegment, B: PathSegment, C: PathSegment> PathParams for (A, B, C) {
    type Raw = (String, String, String);
    fn parse((a, b, c): Self::Raw) -> Result<Self, DomainError> {
        Ok((
            A::parse_segment(&a)?,
            B::parse_segment(&b)?,
            C::parse_segment(&c)?,
        ))
    }
}
