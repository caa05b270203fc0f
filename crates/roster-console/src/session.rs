//! Sessions and CSRF for the console: the one middleware every console
//! request passes.
//!
//! A login leaves the Tenant API's token pair in two HttpOnly cookies
//! (access and refresh token, both `SameSite=Lax` so the links in emails
//! arrive logged in). The access token is checked by the core on every
//! request, exactly like a bearer token; when it has expired the refresh
//! token is rotated and the new pair set. Logout kills the session in the
//! core, so stolen cookies die with it.
//!
//! CSRF: a random secret in a `SameSite=Strict` HttpOnly cookie, and in a
//! hidden field of every form a token derived from that secret and the
//! console session (`session_csrf`: an HMAC of the session id keyed by the
//! secret; a visitor without a session gets the token of "no session").
//! Every POST must carry a field equal to the token of its own cookie and
//! its own session, so a token minted for one session is refused in
//! another even when an attacker planted the same cookie; a POST whose
//! `Origin` names another host is refused too. The check runs here, before
//! any handler, so no form can forget it.

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use roster_core::ids::SessionId;
use roster_core::model::Actor;
use roster_core::service::TokenPair;
use roster_core::{Ctx, DomainError};
use subtle::ConstantTimeEq;

use crate::error::PageError;
use crate::paths::MOUNT;
use crate::ConsoleState;

/// Cookie holding the access token.
pub const SESSION_COOKIE: &str = "roster_session";
/// Cookie holding the refresh token.
pub const REFRESH_COOKIE: &str = "roster_refresh";
/// Cookie holding the CSRF token.
pub const CSRF_COOKIE: &str = "roster_csrf";
/// The hidden form field that repeats the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// Largest console form body, in bytes.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// What a handler knows about the request beyond its own input.
#[derive(Clone, Debug)]
pub struct Visit {
    /// The CSRF token to put into every form of the page.
    pub csrf: String,
    /// The logged-in caller, if any.
    pub viewer: Option<Ctx>,
    /// Whether cookies set in the answer must be `Secure`.
    pub secure: bool,
    /// The client's address, for the core's rate limits.
    pub client: String,
}

impl Visit {
    /// The caller, or a redirect to the login page that comes back here.
    pub fn require_login(&self, back_to: &str) -> Result<Ctx, PageError> {
        self.viewer.clone().ok_or_else(|| PageError::Login {
            next: back_to.to_string(),
        })
    }

    /// `Set-Cookie` values that start a session with `pair`.
    pub fn session_cookies(&self, pair: &TokenPair) -> [HeaderValue; 2] {
        [
            cookie(SESSION_COOKIE, &pair.access_token, "Lax", self.secure, None),
            cookie(
                REFRESH_COOKIE,
                &pair.refresh_token,
                "Lax",
                self.secure,
                None,
            ),
        ]
    }

    /// `Set-Cookie` values that end the session in the browser.
    pub fn cleared_session_cookies(&self) -> [HeaderValue; 2] {
        [
            cookie(SESSION_COOKIE, "", "Lax", self.secure, Some(0)),
            cookie(REFRESH_COOKIE, "", "Lax", self.secure, Some(0)),
        ]
    }
}

/// A `Set-Cookie` value scoped to the console, HttpOnly always.
fn cookie(
    name: &str,
    value: &str,
    same_site: &str,
    secure: bool,
    max_age: Option<u64>,
) -> HeaderValue {
    let mut text = format!("{name}={value}; Path={MOUNT}; HttpOnly; SameSite={same_site}");
    if secure {
        text.push_str("; Secure");
    }
    if let Some(age) = max_age {
        text.push_str(&format!("; Max-Age={age}"));
    }
    // Values are base64url or JWT text (visible ASCII), so this cannot fail;
    // should it ever, no cookie beats a broken header.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The value of cookie `name` in the request.
pub fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

fn new_csrf_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The form token of the browser whose CSRF cookie holds `secret`, in
/// console session `session` (None: not logged in).
fn session_csrf(secret: &str, session: Option<SessionId>) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
        return new_csrf_token();
    };
    mac.update(b"roster console csrf\n");
    match session {
        Some(session) => mac.update(session.to_string().as_bytes()),
        None => mac.update(b"no session"),
    }
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// A CSRF cookie we could have set: 43 base64url characters.
fn plausible_csrf(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether the request reached us (or the proxy in front) over https.
fn came_over_https(request: &Request) -> bool {
    request.uri().scheme_str() == Some("https")
        || request
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

/// A POST from a page of another site: its `Origin` names another host.
/// Browsers send `Origin` on every POST; a request without one is not
/// from a browser page, and the CSRF token still has to match.
fn foreign_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(origin);
    origin == "null" || !origin_host.eq_ignore_ascii_case(host)
}

/// The `csrf` field of a urlencoded form body.
fn form_csrf(body: &[u8]) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    pairs
        .into_iter()
        .find(|(key, _)| key == CSRF_FIELD)
        .map(|(_, value)| value)
}

/// The middleware: CSRF on POST, caller from the cookies, security headers
/// on the answer.
pub async fn layer(State(state): State<ConsoleState>, request: Request, next: Next) -> Response {
    let secure = state.options.secure_cookies || came_over_https(&request);
    let is_asset = request.uri().path().starts_with("/assets/");
    let existing_csrf = read_cookie(request.headers(), CSRF_COOKIE)
        .filter(|t| plausible_csrf(t))
        .map(str::to_string);
    let csrf = existing_csrf.clone().unwrap_or_else(new_csrf_token);

    let (parts, body) = request.into_parts();
    let (form, body) = if parts.method == Method::POST {
        match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
            Ok(bytes) => (Some(bytes), Body::empty()),
            Err(_) => {
                return finish(
                    PageError::Status(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "That form was too large to accept.".into(),
                    )
                    .into_response(),
                    false,
                    None,
                    None,
                );
            }
        }
    } else {
        (None, body)
    };

    let client = parts
        .extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".to_string());
    let request_id = parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let (viewer, refreshed) = if is_asset {
        (None, None)
    } else {
        resolve_caller(&state, &parts.headers, &request_id).await
    };
    let form_token = session_csrf(&csrf, viewer.as_ref().and_then(|ctx| ctx.session));
    let visit = Visit {
        csrf: form_token.clone(),
        viewer,
        secure,
        client,
    };
    let new_csrf = existing_csrf.is_none().then_some(csrf.as_str());
    let refreshed_cookies = refreshed.as_ref().map(|pair| visit.session_cookies(pair));

    let body = match form {
        Some(bytes) => {
            // The field must be this cookie's token for this very session.
            let sent = form_csrf(&bytes);
            let matches = existing_csrf.is_some()
                && sent
                    .is_some_and(|field| bool::from(field.as_bytes().ct_eq(form_token.as_bytes())));
            if !matches || foreign_origin(&parts.headers) {
                // A new secret is set with the refusal, so reloading the
                // form (e.g. after cookies were cleared) makes it work
                // again; a refreshed session is kept.
                return finish(
                    PageError::Csrf.into_response(),
                    secure,
                    new_csrf,
                    refreshed_cookies,
                );
            }
            Body::from(bytes)
        }
        None => body,
    };
    let mut request = Request::from_parts(parts, body);
    request.extensions_mut().insert(visit.clone());
    let response = next.run(request).await;
    finish(response, secure, new_csrf, refreshed_cookies)
}

/// The caller of the session cookies, rotating the refresh token when the
/// access token has expired. A dead session is no caller.
async fn resolve_caller(
    state: &ConsoleState,
    headers: &HeaderMap,
    request_id: &str,
) -> (Option<Ctx>, Option<TokenPair>) {
    let access = read_cookie(headers, SESSION_COOKIE).map(str::to_string);
    let refresh = read_cookie(headers, REFRESH_COOKIE).map(str::to_string);
    let as_ctx = |user: roster_core::service::AuthenticatedUser| Ctx {
        actor: Actor::User(user.user),
        session: Some(user.session),
        api_key: None,
        org_scope: None,
        request_id: request_id.to_string(),
    };
    if let Some(token) = access {
        match state
            .run(move |r| r.authenticate_access_token(&token))
            .await
        {
            Ok(user) if user.org.is_none() => return (Some(as_ctx(user)), None),
            Ok(_) | Err(DomainError::Unauthenticated) => {}
            Err(error) => {
                tracing::warn!(%error, "console session check failed");
                return (None, None);
            }
        }
    }
    let Some(refresh) = refresh else {
        return (None, None);
    };
    let rotated = state.run(move |r| r.refresh_session(&refresh)).await;
    match rotated {
        Ok((pair, user)) => (Some(as_ctx(user)), Some(pair)),
        Err(_) => (None, None),
    }
}

/// Adds the cookies and the headers every console answer carries.
fn finish(
    mut response: Response,
    secure: bool,
    new_csrf: Option<&str>,
    session: Option<[HeaderValue; 2]>,
) -> Response {
    let headers = response.headers_mut();
    if let Some(token) = new_csrf {
        headers.append(
            header::SET_COOKIE,
            cookie(CSRF_COOKIE, token, "Strict", secure, None),
        );
    }
    if let Some(cookies) = session {
        // A handler that set its own session cookies (login, logout) wins.
        if !headers
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|v| v.as_bytes().starts_with(SESSION_COOKIE.as_bytes()))
        {
            for value in cookies {
                headers.append(header::SET_COOKIE, value);
            }
        }
    }
    let set = |headers: &mut HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(
            header::HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    };
    set(
        headers,
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
         frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    set(headers, "x-frame-options", "DENY");
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "referrer-policy", "same-origin");
    if !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, "cache-control", "no-store");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("xroster_csrf=a; roster_csrf=b; other=c"),
        );
        assert_eq!(read_cookie(&headers, CSRF_COOKIE), Some("b"));
        assert_eq!(read_cookie(&headers, "missing"), None);
    }

    #[test]
    fn origin_of_another_host_is_foreign() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("roster.test:8080"));
        assert!(!foreign_origin(&headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://roster.test:8080"),
        );
        assert!(!foreign_origin(&headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.test"),
        );
        assert!(foreign_origin(&headers));
        headers.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(foreign_origin(&headers));
    }

    #[test]
    fn csrf_tokens_are_random_and_plausible() {
        let (a, b) = (new_csrf_token(), new_csrf_token());
        assert_ne!(a, b);
        assert!(plausible_csrf(&a));
        assert!(!plausible_csrf("short"));
    }

    #[test]
    fn a_form_token_belongs_to_one_secret_and_one_session() {
        let (secret, other_secret) = (new_csrf_token(), new_csrf_token());
        let (one, two) = (SessionId::new(), SessionId::new());
        let token = session_csrf(&secret, Some(one));
        assert_eq!(token, session_csrf(&secret, Some(one)));
        assert_ne!(token, session_csrf(&secret, Some(two)));
        assert_ne!(token, session_csrf(&secret, None));
        assert_ne!(token, session_csrf(&other_secret, Some(one)));
        assert_ne!(token, secret, "the form never shows the cookie's secret");
    }

    #[test]
    fn form_field_is_found_among_others() {
        assert_eq!(
            form_csrf(b"name=x&csrf=abc%2Bd&role=member").as_deref(),
            Some("abc+d")
        );
        assert_eq!(form_csrf(b"name=x"), None);
    }
}
