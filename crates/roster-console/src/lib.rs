//! Roster's web console, served under [`MOUNT`]: server-rendered pages
//! (maud, which escapes every spliced value) over the domain core. Pages
//! call the same `Roster` services as the APIs, so every permission is
//! checked in the core; a page hides what the caller's role may not do,
//! and the core refuses it anyway.
//!
//! This crate knows no SQL and no JSON API: it depends on `roster-core`
//! only, and `roster-http` nests its router.

mod actions;
mod api_keys;
mod assets;
mod audit;
mod auth;
mod error;
mod forms;
mod invitations;
mod layout;
mod members;
mod org_page;
mod orgs;
mod paths;
mod projects;
mod session;

use std::sync::Arc;

use axum::routing::{on, MethodFilter};
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

pub use paths::MOUNT;

/// The console's routes as one table: method, path under [`MOUNT`],
/// handler. The router is built from it, and so is [`ROUTES`], the list
/// the isolation matrix checks for a row per route: a route cannot be
/// served without being listed.
macro_rules! route_table {
    ($($method:ident $path:literal => $handler:path,)*) => {
        /// Every route of the console's router (method, path under
        /// [`MOUNT`]).
        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($method), $path)),*];

        fn routes() -> Router<ConsoleState> {
            Router::new()
                $(.route($path, on(MethodFilter::$method, $handler)))*
        }
    };
}

route_table! {
    GET  "/"                     => auth::home,
    GET  "/signup"               => auth::signup_page,
    POST "/signup"               => auth::signup,
    GET  "/login"                => auth::login_page,
    POST "/login"                => auth::login,
    POST "/logout"               => auth::logout,
    GET  "/verify-email"         => auth::verify_email_page,
    POST "/verify-email"         => auth::verify_email,
    POST "/resend-verification"  => auth::resend_verification,
    GET  "/accept-invite"        => auth::accept_invite_page,
    POST "/accept-invite"        => auth::accept_invite,
    GET  "/orgs"                 => orgs::list,
    POST "/orgs"                 => orgs::create,
    GET  "/orgs/{org}"           => orgs::overview,
    POST "/orgs/{org}"           => orgs::update,
    GET  "/orgs/{org}/delete"    => orgs::confirm_delete,
    POST "/orgs/{org}/delete"    => orgs::delete,
    GET  "/orgs/{org}/members"   => members::list,
    POST "/orgs/{org}/members"   => members::invite,
    POST "/orgs/{org}/members/{user}/role"   => members::change_role,
    GET  "/orgs/{org}/members/{user}/remove" => members::confirm_remove,
    POST "/orgs/{org}/members/{user}/remove" => members::remove,
    GET  "/orgs/{org}/leave"     => members::confirm_leave,
    POST "/orgs/{org}/leave"     => members::leave,
    GET  "/orgs/{org}/invitations"             => invitations::list,
    POST "/orgs/{org}/invitations/{id}/resend" => invitations::resend,
    GET  "/orgs/{org}/invitations/{id}/revoke" => invitations::confirm_revoke,
    POST "/orgs/{org}/invitations/{id}/revoke" => invitations::revoke,
    GET  "/orgs/{org}/projects"                     => projects::list,
    POST "/orgs/{org}/projects"                     => projects::create,
    GET  "/orgs/{org}/projects/{project}"           => projects::show,
    POST "/orgs/{org}/projects/{project}"           => projects::update,
    GET  "/orgs/{org}/projects/{project}/delete"    => projects::confirm_delete,
    POST "/orgs/{org}/projects/{project}/delete"    => projects::delete,
    POST "/orgs/{org}/projects/{project}/members"   => projects::add_member,
    GET  "/orgs/{org}/projects/{project}/members/{user}/remove" => projects::confirm_remove_member,
    POST "/orgs/{org}/projects/{project}/members/{user}/remove" => projects::remove_member,
    GET  "/orgs/{org}/api-keys"              => api_keys::list,
    POST "/orgs/{org}/api-keys"              => api_keys::create,
    GET  "/orgs/{org}/api-keys/{id}/revoke"  => api_keys::confirm_revoke,
    POST "/orgs/{org}/api-keys/{id}/revoke"  => api_keys::revoke,
    GET  "/orgs/{org}/audit"     => audit::list,
    GET  "/assets/{file}"        => assets::serve,
}

/// The console's router, to be nested at [`MOUNT`]. Every request passes
/// the session layer: CSRF check on POST, session cookie to caller, and
/// the security headers of an HTML page.
pub fn router<S>(roster: Arc<Roster>, options: ConsoleOptions) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let state = ConsoleState { roster, options };
    routes()
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::layer,
        ))
        .with_state(state)
}
