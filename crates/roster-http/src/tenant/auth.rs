//! Accounts: signup, login, refresh, logout, and the caller's own account.

use axum::extract::State;
use axum::http::StatusCode;
use roster_core::service::NewAccount;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorResponse};
use crate::extract::{Caller, ClientAddr, Json};
use crate::idempotency::HoldsSecret;
use crate::tenant::dto::{SuccessResponse, UserResponse};
use crate::{blocking, blocking_password_work, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(me))
}

/// A new account.
#[derive(Deserialize, ToSchema)]
struct SignupRequest {
    #[schema(format = Email)]
    email: String,
    /// At least 12 characters, not a common password.
    #[schema(format = Password)]
    password: String,
    /// Unique; derived from the email when absent.
    username: Option<String>,
    name: Option<String>,
}

/// Sign up.
///
/// Creates an account (201 with the user); a verification email is sent.
#[utoipa::path(
    post,
    path = "/auth/signup",
    tag = "Accounts",
    operation_id = "signup",
    request_body = SignupRequest,
    security(()),
    responses(
        (status = 201, description = "Account created", body = UserResponse),
        (status = 403, description = "Sign-up is closed or by invitation only", body = ErrorResponse),
        (status = 409, description = "Email or username taken", body = ErrorResponse),
        (status = 429, description = "Too many attempts; see Retry-After", body = ErrorResponse),
    )
)]
async fn signup(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(body): Json<SignupRequest>,
) -> ApiResult<(StatusCode, Json<UserResponse>)> {
    let user = blocking_password_work(&state, move |roster| {
        let account = NewAccount {
            email: &body.email,
            password: &body.password,
            username: body.username.as_deref(),
            name: body.name.as_deref(),
        };
        roster.signup(account, &client)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Credentials.
#[derive(Deserialize, ToSchema)]
struct LoginRequest {
    #[schema(format = Email)]
    email: String,
    #[schema(format = Password)]
    password: String,
}

/// A session's tokens.
#[derive(Serialize, ToSchema)]
struct TokenResponse {
    /// Send as `Authorization: Bearer <access_token>`.
    access_token: String,
    /// Single use: `POST /auth/refresh` answers a new pair.
    refresh_token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds until the access token expires.
    expires_in: i64,
}

impl From<roster_core::service::TokenPair> for TokenResponse {
    fn from(pair: roster_core::service::TokenPair) -> Self {
        Self {
            access_token: pair.access_token,
            refresh_token: pair.refresh_token,
            token_type: "Bearer",
            expires_in: pair.expires_in,
        }
    }
}

/// Log in.
///
/// Exchanges email and password for an access and a refresh token.
#[utoipa::path(
    post,
    path = "/auth/login",
    tag = "Accounts",
    operation_id = "login",
    request_body = LoginRequest,
    security(()),
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 401, description = "Wrong email or password", body = ErrorResponse),
        (status = 429, description = "Too many attempts; see Retry-After", body = ErrorResponse),
    )
)]
async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(body): Json<LoginRequest>,
) -> ApiResult<(HoldsSecret, Json<TokenResponse>)> {
    let pair = blocking_password_work(&state, move |roster| {
        roster.login(&body.email, &body.password, &client)
    })
    .await?;
    Ok((HoldsSecret, Json(pair.into())))
}

/// The refresh token to rotate.
#[derive(Deserialize, ToSchema)]
struct RefreshRequest {
    refresh_token: String,
}

/// Refresh tokens.
///
/// Rotates a refresh token: a new pair, and the old refresh token dies;
/// presenting a dead refresh token again ends the whole session.
#[utoipa::path(
    post,
    path = "/auth/refresh",
    tag = "Accounts",
    operation_id = "refreshTokens",
    request_body = RefreshRequest,
    security(()),
    responses(
        (status = 200, description = "A new token pair", body = TokenResponse),
        (status = 401, description = "Unknown, expired or reused refresh token", body = ErrorResponse),
    )
)]
async fn refresh(
    State(state): State<AppState>,
    Json(body): Json<RefreshRequest>,
) -> ApiResult<(HoldsSecret, Json<TokenResponse>)> {
    let pair = blocking(&state, move |roster| roster.refresh(&body.refresh_token)).await?;
    Ok((HoldsSecret, Json(pair.into())))
}

/// Optionally, the session's refresh token.
#[derive(Deserialize, Default, ToSchema)]
struct LogoutRequest {
    #[schema(nullable = false)]
    refresh_token: Option<String>,
}

/// Log out.
///
/// Ends the session: its access and refresh tokens stop working at once.
#[utoipa::path(
    post,
    path = "/auth/logout",
    tag = "Accounts",
    operation_id = "logout",
    request_body(content = Option<LogoutRequest>, description = "Optional; may be empty", content_type = "application/json"),
    responses(
        (status = 200, description = "Logged out", body = SuccessResponse),
        (status = 403, description = "An API key has no session", body = ErrorResponse),
    )
)]
async fn logout(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    body: axum::body::Bytes,
) -> ApiResult<Json<SuccessResponse>> {
    // The body is optional: empty, or `{"refresh_token": "…"}`.
    let refresh_token = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<LogoutRequest>(&body)
            .map_err(|e| roster_core::DomainError::invalid("body", e))?
            .refresh_token
    };
    blocking(&state, move |roster| {
        roster.logout(&ctx, refresh_token.as_deref())
    })
    .await?;
    Ok(Json(SuccessResponse::new("Logged out")))
}

/// My account.
///
/// The caller's own account.
#[utoipa::path(
    get,
    path = "/me",
    tag = "Accounts",
    operation_id = "getMe",
    responses(
        (status = 200, description = "The caller's account", body = UserResponse),
        (status = 403, description = "An API key is not a user", body = ErrorResponse),
    )
)]
async fn me(State(state): State<AppState>, Caller(ctx): Caller) -> ApiResult<Json<UserResponse>> {
    let user = blocking(&state, move |roster| roster.me(&ctx)).await?;
    Ok(Json(user.into()))
}
