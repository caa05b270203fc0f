//! Signing up, logging in and out, and the two pages that links in emails
//! open: email verification and invitation acceptance. A person without
//! an account who follows an invitation link is led through sign-up and
//! lands on the accepted invitation.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use roster_core::service::NewAccount;
use serde::Deserialize;

use crate::actions::{notice, Notice};
use crate::error::{message_of, status_of, PageError};
use crate::forms::{Form, Query};
use crate::layout::{self, csrf_field};
use crate::paths::{self, OrgPaths, MOUNT};
use crate::session::Visit;
use crate::ConsoleState;

/// Only console paths are followed after login, so a crafted link cannot
/// send a person elsewhere.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if (path == MOUNT
                || path
                    .strip_prefix(MOUNT)
                    .is_some_and(|rest| rest.starts_with('/')))
                && !path.contains("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_string()
        }
        _ => paths::ORGS.to_string(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AuthQuery {
    next: Option<String>,
    invite: Option<String>,
    done: Option<String>,
    token: Option<String>,
}

/// `GET /console`: to the orgs when logged in, else to the login page.
pub async fn home(visit: Visit) -> Redirect {
    if visit.viewer.is_some() {
        Redirect::to(paths::ORGS)
    } else {
        Redirect::to(paths::LOGIN)
    }
}

fn login_form(
    visit: &Visit,
    next: &str,
    email: &str,
    error: Option<&str>,
    done: Option<&str>,
) -> Markup {
    html! {
        div.card.narrow {
            h1 { "Log in" }
            (notice(done))
            @if let Some(error) = error { p.error role="alert" { (error) } }
            form method="post" action=(paths::LOGIN) {
                (csrf_field(visit))
                input type="hidden" name="next" value=(next);
                label for="email" { "Email" }
                input #email type="email" name="email" value=(email) required autocomplete="username" autofocus;
                label for="password" { "Password" }
                input #password type="password" name="password" required autocomplete="current-password";
                button type="submit" { "Log in" }
            }
            p { "No account yet? " a href=(paths::signup_then(next)) { "Sign up" } }
        }
    }
}

/// `GET /console/login`.
pub async fn login_page(visit: Visit, Query(query): Query<AuthQuery>) -> Response {
    let next = safe_next(query.next.as_deref());
    if visit.viewer.is_some() {
        return Redirect::to(&next).into_response();
    }
    layout::bare(
        "Log in",
        login_form(&visit, &next, "", None, query.done.as_deref()),
    )
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

/// `POST /console/login`: a new session, its tokens in cookies.
pub async fn login(
    State(state): State<ConsoleState>,
    visit: Visit,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let client = visit.client.clone();
    let (email, password) = (form.email.clone(), form.password);
    match state
        .run_password_work(move |r| r.login(&email, &password, &client))
        .await
    {
        Ok(pair) => with_session(&visit, &pair, &next),
        Err(error) => {
            let status = status_of(&error);
            let body = layout::bare(
                "Log in",
                login_form(&visit, &next, &form.email, Some(&message_of(&error)), None),
            );
            (status, body).into_response()
        }
    }
}

/// A redirect to `next` that carries the new session's cookies.
fn with_session(visit: &Visit, pair: &roster_core::service::TokenPair, next: &str) -> Response {
    let mut response = Redirect::to(next).into_response();
    for value in visit.session_cookies(pair) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `POST /console/logout`: ends the session in the core and the browser.
pub async fn logout(State(state): State<ConsoleState>, visit: Visit) -> Response {
    if let Some(ctx) = visit.viewer.clone() {
        if let Err(error) = state.run(move |r| r.logout(&ctx, None)).await {
            tracing::warn!(%error, "console logout failed");
        }
    }
    let mut response = Notice::LoggedOut.redirect(paths::LOGIN).into_response();
    for value in visit.cleared_session_cookies() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

struct SignupValues<'a> {
    next: &'a str,
    invite: &'a str,
    email: &'a str,
    name: &'a str,
    username: &'a str,
}

fn signup_form(visit: &Visit, values: &SignupValues<'_>, error: Option<&str>) -> Markup {
    html! {
        div.card.narrow {
            h1 { "Create your account" }
            @if !values.invite.is_empty() {
                p { "You were invited to an organization. Create your account with the address the invitation was sent to; you will join right after." }
            }
            @if let Some(error) = error { p.error role="alert" { (error) } }
            form method="post" action=(paths::SIGNUP) {
                (csrf_field(visit))
                input type="hidden" name="next" value=(values.next);
                input type="hidden" name="invite" value=(values.invite);
                label for="email" { "Email" }
                input #email type="email" name="email" value=(values.email) required autocomplete="email" autofocus;
                label for="name" { "Your name " span.muted { "(optional)" } }
                input #name type="text" name="name" value=(values.name) autocomplete="name" maxlength="100";
                label for="username" { "Username " span.muted { "(optional)" } }
                input #username type="text" name="username" value=(values.username) autocomplete="nickname" aria-describedby="username-hint";
                p.hint #username-hint { "Leave empty to derive one from your email." }
                label for="password" { "Password" }
                input #password type="password" name="password" required minlength="12" autocomplete="new-password" aria-describedby="password-hint";
                p.hint #password-hint { "At least 12 characters, not a common password." }
                button type="submit" { "Sign up" }
            }
            p { "Already have an account? " a href=(paths::login_then(values.next)) { "Log in" } }
        }
    }
}

/// `GET /console/signup`.
pub async fn signup_page(visit: Visit, Query(query): Query<AuthQuery>) -> Response {
    let invite = query.invite.unwrap_or_default();
    let next = if invite.is_empty() {
        safe_next(query.next.as_deref())
    } else {
        paths::accept_invite(&invite)
    };
    if visit.viewer.is_some() {
        return Redirect::to(&next).into_response();
    }
    let values = SignupValues {
        next: &next,
        invite: &invite,
        email: "",
        name: "",
        username: "",
    };
    layout::bare("Sign up", signup_form(&visit, &values, None))
}

#[derive(Debug, Deserialize)]
pub struct SignupForm {
    email: String,
    password: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    username: String,
    next: Option<String>,
    #[serde(default)]
    invite: String,
}

/// `POST /console/signup`: creates the account, logs it in, and goes on
/// (to the invitation, when the person came from one).
pub async fn signup(
    State(state): State<ConsoleState>,
    visit: Visit,
    Form(form): Form<SignupForm>,
) -> Response {
    let next = if form.invite.is_empty() {
        safe_next(form.next.as_deref())
    } else {
        paths::accept_invite(&form.invite)
    };
    let client = visit.client.clone();
    let (email, password) = (form.email.clone(), form.password.clone());
    let (name, username) = (form.name.clone(), form.username.clone());
    let created = state
        .run_password_work(move |r| {
            r.signup(
                NewAccount {
                    email: &email,
                    password: &password,
                    username: Some(username.trim()).filter(|u| !u.is_empty()),
                    name: Some(name.trim()).filter(|n| !n.is_empty()),
                },
                &client,
            )?;
            r.login(&email, &password, &client)
        })
        .await;
    match created {
        Ok(pair) => with_session(&visit, &pair, &next),
        Err(error) => {
            let values = SignupValues {
                next: &next,
                invite: &form.invite,
                email: &form.email,
                name: &form.name,
                username: &form.username,
            };
            let body = layout::bare(
                "Sign up",
                signup_form(&visit, &values, Some(&message_of(&error))),
            );
            (status_of(&error), body).into_response()
        }
    }
}

fn incomplete_verification_link() -> PageError {
    PageError::Status(
        StatusCode::BAD_REQUEST,
        "This verification link is incomplete: open the link from the email in full.".into(),
    )
}

/// `GET /console/verify-email?token=…`: the link of the verification
/// email. It only shows a button: mail scanners and link previews fetch
/// links with GET, and must not verify an address for whoever signed up
/// with it. The address is verified by the POST the button sends.
pub async fn verify_email_page(
    visit: Visit,
    Query(query): Query<AuthQuery>,
) -> Result<Response, PageError> {
    let token = query.token.unwrap_or_default();
    if token.trim().is_empty() {
        return Err(incomplete_verification_link());
    }
    Ok(layout::bare(
        "Verify your email address",
        html! {
            div.card.narrow {
                h1 { "Verify your email address" }
                p { "Confirm that you signed up for Roster with this email address." }
                form method="post" action=(paths::VERIFY_EMAIL) {
                    (csrf_field(&visit))
                    input type="hidden" name="token" value=(token);
                    button type="submit" { "Verify my email address" }
                }
                p.hint { "If you did not sign up for Roster, close this page: nothing happens unless you press the button." }
            }
        },
    ))
}

#[derive(Debug, Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    token: String,
}

/// `POST /console/verify-email`: marks the address verified (the token is
/// single-use and proves that the mailbox received it).
pub async fn verify_email(
    State(state): State<ConsoleState>,
    visit: Visit,
    Form(form): Form<VerifyForm>,
) -> Result<Response, PageError> {
    let token = form.token;
    if token.trim().is_empty() {
        return Err(incomplete_verification_link());
    }
    let user = state.run(move |r| r.verify_email(&token)).await?;
    if visit.viewer.is_some() {
        return Ok(Notice::EmailVerified.redirect(paths::ORGS).into_response());
    }
    Ok(layout::bare(
        "Email verified",
        html! {
            div.card.narrow {
                h1 { "Email verified" }
                p { "Thank you: " strong { (user.email) } " is verified." }
                p { a.button href=(paths::LOGIN) { "Log in" } }
            }
        },
    ))
}

/// `POST /console/resend-verification`.
pub async fn resend_verification(
    State(state): State<ConsoleState>,
    visit: Visit,
) -> Result<Redirect, PageError> {
    let ctx = visit.require_login(paths::ORGS)?;
    state
        .act(
            move |r| r.resend_verification(&ctx),
            |_| Notice::VerificationSent.at(paths::ORGS),
        )
        .await
}

/// `GET /console/accept-invite?token=…`: a person not logged in chooses
/// between signing up and logging in (both come back here); a logged-in
/// person confirms with one button.
pub async fn accept_invite_page(
    visit: Visit,
    Query(query): Query<AuthQuery>,
) -> Result<Response, PageError> {
    let token = query.token.unwrap_or_default();
    if token.trim().is_empty() {
        return Err(PageError::Status(
            StatusCode::BAD_REQUEST,
            "This invitation link is incomplete: open the link from the email in full.".into(),
        ));
    }
    let back = paths::accept_invite(&token);
    let content = html! {
        div.card.narrow {
            h1 { "You are invited" }
            @if visit.viewer.is_some() {
                p { "Accept the invitation to join the organization with the role it names." }
                form method="post" action=(paths::ACCEPT_INVITE) {
                    (csrf_field(&visit))
                    input type="hidden" name="token" value=(token);
                    button type="submit" { "Accept invitation" }
                }
                p.hint { "The invitation must have been sent to the email address of the account you are logged in with." }
            } @else {
                p { "Create an account with the address this invitation was sent to, or log in if you already have one." }
                p {
                    a.button href=(paths::signup_for_invite(&token)) { "Sign up and accept" }
                    " "
                    a.button.secondary href=(paths::login_then(&back)) { "Log in" }
                }
            }
        }
    };
    Ok(layout::bare("Invitation", content))
}

#[derive(Debug, Deserialize)]
pub struct AcceptForm {
    token: String,
}

/// `POST /console/accept-invite`.
pub async fn accept_invite(
    State(state): State<ConsoleState>,
    visit: Visit,
    Form(form): Form<AcceptForm>,
) -> Result<Redirect, PageError> {
    let ctx = visit.require_login(&paths::accept_invite(&form.token))?;
    state
        .act(
            move |r| r.accept_invitation_by_token(&ctx, &form.token),
            |(org, _)| Notice::InvitationAccepted.at(OrgPaths::new(org).overview()),
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_console_paths_are_followed() {
        assert_eq!(safe_next(Some("/console/orgs/x")), "/console/orgs/x");
        assert_eq!(safe_next(Some("https://evil.test/")), "/console/orgs");
        assert_eq!(safe_next(Some("//evil.test/console/")), "/console/orgs");
        assert_eq!(safe_next(Some("/console//evil.test")), "/console/orgs");
        assert_eq!(safe_next(Some("/console/\\evil")), "/console/orgs");
        assert_eq!(safe_next(Some("/consolex")), "/console/orgs");
        assert_eq!(safe_next(None), "/console/orgs");
    }
}
