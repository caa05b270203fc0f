//! Roster's web console, served under `/console`: server-rendered pages
//! (maud, which escapes every spliced value) over the domain core. Pages
//! call the same `Roster` services as the APIs, so every permission is
//! checked in the core; a page hides what the caller's role may not do,
//! and the core refuses it anyway.
//!
//! This crate knows no SQL and no JSON API: it depends on `roster-core`
//! only, and `roster-http` nests its router.

mod api_keys;
mod assets;
mod audit;
mod auth;
mod error;
mod forms;
mod invitations;
mod layout;
mod members;
mod orgs;
mod projects;
mod session;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use roster_core::{DomainError, Roster};

pub use session::{CSRF_COOKIE, CSRF_FIELD, REFRESH_COOKIE, SESSION_COOKIE};

/// Settings of the console.
#[derive(Debug, Clone, Default)]
pub struct ConsoleOptions {
    /// Mark cookies `Secure` on every answer, not only on requests that
    /// came over https (directly or, per `X-Forwarded-Proto`, via a proxy).
    pub secure_cookies: bool,
}

impl ConsoleOptions {
    /// The console's settings from the core's: a public URL on https means
    /// browsers reach the console over https, so cookies are always Secure.
    pub fn from_core(config: &roster_core::CoreConfig) -> Self {
        Self {
            secure_cookies: config.public_url.starts_with("https://"),
        }
    }
}

/// What every console handler can reach.
#[derive(Clone)]
pub(crate) struct ConsoleState {
    pub roster: Arc<Roster>,
    pub options: ConsoleOptions,
}

impl ConsoleState {
    /// Runs a synchronous core call on a blocking thread (the store is
    /// synchronous).
    pub async fn run<T, F>(&self, f: F) -> Result<T, DomainError>
    where
        T: Send + 'static,
        F: FnOnce(&Roster) -> Result<T, DomainError> + Send + 'static,
    {
        let roster = self.roster.clone();
        tokio::task::spawn_blocking(move || f(&roster))
            .await
            .map_err(|e| DomainError::Internal(format!("worker thread failed: {e}")))?
    }

    /// `run` for a call that hashes a password (signup, login): waits for
    /// a turn at password work first, as a future, so a burst of logins
    /// does not occupy the blocking threads other requests need.
    pub async fn run_password_work<T, F>(&self, f: F) -> Result<T, DomainError>
    where
        T: Send + 'static,
        F: FnOnce(&Roster) -> Result<T, DomainError> + Send + 'static,
    {
        let _turn = roster_core::crypto::password_work_turn().await?;
        self.run(f).await
    }
}

/// Where roster-http nests the console.
pub const MOUNT: &str = "/console";

/// Every route of the console's router (method, path under [`MOUNT`]), for
/// the isolation matrix's route coverage: a route added to the router is
/// added here too, or that test fails to list it.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/signup"),
    ("POST", "/signup"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/verify-email"),
    ("POST", "/verify-email"),
    ("POST", "/resend-verification"),
    ("GET", "/accept-invite"),
    ("POST", "/accept-invite"),
    ("GET", "/orgs"),
    ("POST", "/orgs"),
    ("GET", "/orgs/{org}"),
    ("POST", "/orgs/{org}"),
    ("GET", "/orgs/{org}/delete"),
    ("POST", "/orgs/{org}/delete"),
    ("GET", "/orgs/{org}/members"),
    ("POST", "/orgs/{org}/members"),
    ("POST", "/orgs/{org}/members/{user}/role"),
    ("GET", "/orgs/{org}/members/{user}/remove"),
    ("POST", "/orgs/{org}/members/{user}/remove"),
    ("GET", "/orgs/{org}/leave"),
    ("POST", "/orgs/{org}/leave"),
    ("GET", "/orgs/{org}/invitations"),
    ("POST", "/orgs/{org}/invitations/{id}/resend"),
    ("GET", "/orgs/{org}/invitations/{id}/revoke"),
    ("POST", "/orgs/{org}/invitations/{id}/revoke"),
    ("GET", "/orgs/{org}/projects"),
    ("POST", "/orgs/{org}/projects"),
    ("GET", "/orgs/{org}/projects/{project}"),
    ("POST", "/orgs/{org}/projects/{project}"),
    ("GET", "/orgs/{org}/projects/{project}/delete"),
    ("POST", "/orgs/{org}/projects/{project}/delete"),
    ("POST", "/orgs/{org}/projects/{project}/members"),
    (
        "GET",
        "/orgs/{org}/projects/{project}/members/{user}/remove",
    ),
    (
        "POST",
        "/orgs/{org}/projects/{project}/members/{user}/remove",
    ),
    ("GET", "/orgs/{org}/api-keys"),
    ("POST", "/orgs/{org}/api-keys"),
    ("GET", "/orgs/{org}/api-keys/{id}/revoke"),
    ("POST", "/orgs/{org}/api-keys/{id}/revoke"),
    ("GET", "/orgs/{org}/audit"),
    ("GET", "/assets/{file}"),
];

/// The console's router, to be nested at `/console`. Every request passes
/// the session layer: CSRF check on POST, session cookie to caller, and
/// the security headers of an HTML page.
pub fn router<S>(roster: Arc<Roster>, options: ConsoleOptions) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let state = ConsoleState { roster, options };
    Router::new()
        .route("/", get(auth::home))
        .route("/signup", get(auth::signup_page).post(auth::signup))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route(
            "/verify-email",
            get(auth::verify_email_page).post(auth::verify_email),
        )
        .route("/resend-verification", post(auth::resend_verification))
        .route(
            "/accept-invite",
            get(auth::accept_invite_page).post(auth::accept_invite),
        )
        .merge(orgs::routes())
        .merge(members::routes())
        .merge(invitations::routes())
        .merge(projects::routes())
        .merge(api_keys::routes())
        .merge(audit::routes())
        .route("/assets/{file}", get(assets::serve))
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::layer,
        ))
        .with_state(state)
}
