//! The `Idempotency-Key` header on every POST, PATCH and DELETE of every
//! surface. The core decides (first use, replay, reuse, in progress,
//! withheld); this layer authenticates the caller, hashes the request, and
//! runs it or replays the stored answer.
//!
//! It runs after authentication: a request without a valid credential
//! (none, bad, expired, logged out, revoked) is passed on untouched — its
//! handler answers 401, or serves it if the endpoint is public — and never
//! writes or reads a record. The key is scoped by the core to the
//! authenticated principal (user or API key) plus method and path
//! (`IdempotencyScope`). An answer that carries a secret (a handler marks
//! it with `HoldsSecret`: tokens, API keys) is never stored; a retry gets
//! 409 `idempotency_secret` and nothing runs again.

use std::time::{Duration, Instant};

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, IntoResponseParts, Response, ResponseParts};
use roster_core::crypto::sha256_hex;
use roster_core::service::{IdempotencyScope, IdempotencyStart, IdempotentAnswer};

use crate::error::{ApiError, HttpError};
use crate::extract::{authenticate, Authenticated};
use crate::{blocking, AppState, MAX_BULK_BODY_BYTES};

/// Largest answer kept for replay.
const MAX_STORED_RESPONSE: usize = 1024 * 1024;
/// How long a retry waits for the first request to finish.
const IN_PROGRESS_WAIT: Duration = Duration::from_secs(10);

/// Marks an answer that carries a secret (an access or refresh token, an
/// API key): it is never stored for replay. Put it in the handler's
/// answer tuple.
#[derive(Clone, Copy, Debug)]
pub struct HoldsSecret;

impl IntoResponseParts for HoldsSecret {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut parts: ResponseParts) -> Result<ResponseParts, Self::Error> {
        parts.extensions_mut().insert(HoldsSecret);
        Ok(parts)
    }
}

/// The middleware.
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !matches!(
        *request.method(),
        Method::POST | Method::PATCH | Method::DELETE
    ) {
        return next.run(request).await;
    }
    let Some(raw_key) = request.headers().get("idempotency-key") else {
        return next.run(request).await;
    };
    let Ok(key) = raw_key.to_str().map(str::to_string) else {
        return HttpError::InvalidRequest("Idempotency-Key must be visible ASCII".into())
            .into_response();
    };
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let target = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let (mut parts, body) = request.into_parts();
    let Ok(ctx) = authenticate(&parts, &state).await else {
        // Not authenticated: no record is read or written; the handler
        // gives its own answer (401, or a public endpoint's).
        return next.run(Request::from_parts(parts, body)).await;
    };
    let scope = IdempotencyScope::new(&ctx, method.as_str(), &path);
    parts.extensions.insert(Authenticated(ctx));
    // The route's own body limit still applies when the handler reads the
    // body; this bound only has to admit the largest route's.
    let Ok(bytes) = to_bytes(body, MAX_BULK_BODY_BYTES).await else {
        return HttpError::PayloadTooLarge("the request body is too large".into()).into_response();
    };
    let mut fingerprint = format!("{method} {target}\n").into_bytes();
    fingerprint.extend_from_slice(&bytes);
    let request_hash = sha256_hex(&fingerprint);

    let deadline = Instant::now() + IN_PROGRESS_WAIT;
    loop {
        let start = {
            let (scope, key, request_hash) = (scope.clone(), key.clone(), request_hash.clone());
            blocking(&state, move |roster| {
                roster.begin_idempotent(&scope, &key, &request_hash)
            })
            .await
        };
        match start {
            Err(error) => return ApiError(error).into_response(),
            Ok(IdempotencyStart::Proceed) => break,
            Ok(IdempotencyStart::Reused) => return HttpError::IdempotencyKeyReused.into_response(),
            Ok(IdempotencyStart::Replay { status, response }) => return replay(status, response),
            Ok(IdempotencyStart::Withheld { status }) => {
                return HttpError::IdempotencySecret {
                    first_status: status,
                }
                .into_response()
            }
            Ok(IdempotencyStart::InProgress) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Ok(IdempotencyStart::InProgress) => {
                return HttpError::IdempotencyKeyInProgress.into_response()
            }
        }
    }

    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let status = response.status();
    if status.is_server_error() {
        let _ = blocking(&state, move |roster| {
            roster.abandon_idempotent(&scope, &key)
        })
        .await;
        return response;
    }
    let holds_secret = response.extensions().get::<HoldsSecret>().is_some();
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_STORED_RESPONSE).await else {
        let _ = blocking(&state, move |roster| {
            roster.abandon_idempotent(&scope, &key)
        })
        .await;
        return ApiError(roster_core::DomainError::Internal(
            "response too large to keep for replay".into(),
        ))
        .into_response();
    };
    let text = (!holds_secret).then(|| String::from_utf8_lossy(&bytes).into_owned());
    let code = status.as_u16();
    if let Err(error) = blocking(&state, move |roster| {
        let answer = match &text {
            Some(body) => IdempotentAnswer::Body(body),
            None => IdempotentAnswer::HoldsSecret,
        };
        roster.finish_idempotent(&scope, &key, code, answer)
    })
    .await
    {
        tracing::error!(?error, "could not store an idempotent answer");
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn replay(status: u16, response: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut replayed = (status, response).into_response();
    let headers = replayed.headers_mut();
    if status != StatusCode::NO_CONTENT {
        headers.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    replayed
}
