//! Accounts: signup, login, refresh, logout, and the caller's own account.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use roster_core::service::NewAccount;
use serde::{Deserialize, Serialize};

use crate::error::ApiResult;
use crate::extract::{Caller, ClientAddr, Json};
use crate::tenant::dto::{MessageResponse, UserResponse};
use crate::{blocking, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/signup", post(signup))
        .route("/auth/login", post(login))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .route("/me", get(me))
}

#[derive(Deserialize)]
struct SignupRequest {
    email: String,
    password: String,
    username: Option<String>,
    name: Option<String>,
}

/// Creates an account (201 with the user).
async fn signup(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(body): Json<SignupRequest>,
) -> ApiResult<(StatusCode, Json<UserResponse>)> {
    let user = blocking(&state, move |roster| {
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

#[derive(Deserialize)]
struct LoginRequest {
    email: String,
    password: String,
}

#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    refresh_token: String,
    token_type: &'static str,
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

/// Exchanges email and password for an access and a refresh token.
async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(body): Json<LoginRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let pair = blocking(&state, move |roster| {
        roster.login(&body.email, &body.password, &client)
    })
    .await?;
    Ok(Json(pair.into()))
}

#[derive(Deserialize)]
struct RefreshRequest {
    refresh_token: String,
}

/// Rotates a refresh token: a new pair, and the old refresh token dies.
async fn refresh(
    State(state): State<AppState>,
    Json(body): Json<RefreshRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let pair = blocking(&state, move |roster| roster.refresh(&body.refresh_token)).await?;
    Ok(Json(pair.into()))
}

#[derive(Deserialize, Default)]
struct LogoutRequest {
    refresh_token: Option<String>,
}

/// Ends the session: its access and refresh tokens stop working at once.
async fn logout(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    body: axum::body::Bytes,
) -> ApiResult<Json<MessageResponse>> {
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
    Ok(Json(MessageResponse::new("Logged out")))
}

/// The caller's own account.
async fn me(State(state): State<AppState>, Caller(ctx): Caller) -> ApiResult<Json<UserResponse>> {
    let user = blocking(&state, move |roster| roster.me(&ctx)).await?;
    Ok(Json(user.into()))
}
