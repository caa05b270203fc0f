//! The page frame: head with the embedded stylesheet and script (no inline
//! script or style anywhere, so the CSP can forbid them), the top bar with
//! the signed-in user and the org switcher link, the org's section tabs,
//! and the one-line notices shown after an action.

use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};
use roster_core::model::{Org, User};
use roster_core::service::{Action, Grant};
use roster_core::time::Timestamp;

use crate::assets;
use crate::session::{Visit, CSRF_FIELD};

/// The sections of an org's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Settings,
    Members,
    Invitations,
    Projects,
    ApiKeys,
    Audit,
}

/// The org a page belongs to and the caller's role in it.
pub struct OrgFrame<'a> {
    pub org: &'a Org,
    pub grant: &'a Grant,
    pub section: Section,
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · Roster" }
            link rel="stylesheet" href=(assets::CSS_PATH);
            script src=(assets::JS_PATH) defer {}
        }
    }
}

/// A page without the signed-in frame (login, signup, errors).
pub fn bare(title: &str, content: Markup) -> Response {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                (head(title))
                body {
                    header.topbar { a.brand href="/console" { "Roster" } }
                    main #main { (content) }
                }
            }
        }
        .into_string(),
    )
    .into_response()
}

/// A page of a signed-in user, optionally inside an org.
pub fn page(
    visit: &Visit,
    user: &User,
    org: Option<OrgFrame<'_>>,
    title: &str,
    content: Markup,
) -> Response {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                (head(title))
                body {
                    a.skip href="#main" { "Skip to content" }
                    header.topbar {
                        a.brand href="/console/orgs" { "Roster" }
                        nav.account aria-label="Account" {
                            a href="/console/orgs" { "Organizations" }
                            span.who { (user.email) }
                            form.inline method="post" action="/console/logout" {
                                (csrf_field(visit))
                                button.link type="submit" { "Log out" }
                            }
                        }
                    }
                    @if !user.email_verified {
                        div.banner role="status" {
                            "Your email address is not verified yet: follow the link we sent you. "
                            form.inline method="post" action="/console/resend-verification" {
                                (csrf_field(visit))
                                button.link type="submit" { "Send the link again" }
                            }
                        }
                    }
                    @if let Some(frame) = &org {
                        (org_tabs(frame))
                    }
                    main #main { (content) }
                }
            }
        }
        .into_string(),
    )
    .into_response()
}

fn org_tabs(frame: &OrgFrame<'_>) -> Markup {
    let base = format!("/console/orgs/{}", frame.org.id);
    let allows = |action| frame.grant.allows(action);
    let tab = |section: Section, path: &str, label: &str| {
        let href = format!("{base}{path}");
        let current = frame.section == section;
        html! {
            li { a href=(href) aria-current=[current.then_some("page")] { (label) } }
        }
    };
    html! {
        nav.orgnav aria-label="Organization" {
            p.orgname {
                (frame.org.name)
                " "
                span.badge { (frame.grant.role.as_str()) }
            }
            ul {
                (tab(Section::Settings, "", "Overview"))
                @if allows(Action::ListMembers) {
                    (tab(Section::Members, "/members", "Members"))
                }
                @if allows(Action::ListProjects) {
                    (tab(Section::Projects, "/projects", "Projects"))
                }
                @if allows(Action::ListInvitations) {
                    (tab(Section::Invitations, "/invitations", "Invitations"))
                }
                @if allows(Action::ListApiKeys) {
                    (tab(Section::ApiKeys, "/api-keys", "API keys"))
                }
                @if allows(Action::ReadAudit) {
                    (tab(Section::Audit, "/audit", "Audit log"))
                }
            }
        }
    }
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(visit: &Visit) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(visit.csrf); }
}

/// The notice for `?done=CODE` after an action. Only known codes show
/// text, so a link cannot make the console say something it did not.
pub fn notice(done: Option<&str>) -> Markup {
    let text = match done.unwrap_or_default() {
        "org_created" => "Organization created.",
        "org_updated" => "Settings saved.",
        "org_deleted" => "Organization deleted.",
        "member_added" => "Member added.",
        "member_invited" => "Invitation sent.",
        "invitation_refreshed" => "The open invitation to that address was renewed and sent again.",
        "role_changed" => "Role changed.",
        "member_removed" => "Member removed.",
        "left_org" => "You left the organization.",
        "invitation_resent" => "Invitation sent again.",
        "invitation_revoked" => "Invitation revoked.",
        "invitation_accepted" => "Invitation accepted: welcome!",
        "project_created" => "Project created.",
        "project_updated" => "Project saved.",
        "project_deleted" => "Project deleted.",
        "project_member_added" => "Project member added.",
        "project_member_removed" => "Project member removed.",
        "key_revoked" => "API key revoked.",
        "email_verified" => "Your email address is verified.",
        "verification_sent" => "A new verification link is on its way.",
        "logged_out" => "You are logged out.",
        _ => return html! {},
    };
    html! { p.notice role="status" { (text) } }
}

/// A confirmation page for a destructive action: what will happen, a
/// button that does it, and a way out. Works without JavaScript.
pub struct Confirm<'a> {
    pub question: &'a str,
    pub detail: Markup,
    /// Where the form posts.
    pub action: &'a str,
    pub button: &'a str,
    /// Where "Cancel" leads.
    pub cancel: &'a str,
}

impl Confirm<'_> {
    pub fn render(self, visit: &Visit, user: &User, frame: OrgFrame<'_>) -> Response {
        page(
            visit,
            user,
            Some(frame),
            self.question,
            html! {
                h1 { (self.question) }
                (self.detail)
                form method="post" action=(self.action) {
                    (csrf_field(visit))
                    button.danger type="submit" { (self.button) }
                    " "
                    a.button.secondary href=(self.cancel) { "Cancel" }
                }
            },
        )
    }
}

/// The "next page" link of a keyset-paginated table.
pub fn next_page(base: &str, extra: &[(&str, &str)], cursor: Option<&str>) -> Markup {
    let Some(cursor) = cursor else {
        return html! {};
    };
    let mut pairs: Vec<(&str, &str)> = extra
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .copied()
        .collect();
    pairs.push(("cursor", cursor));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    html! {
        nav.pager aria-label="Pages" {
            a href={ (base) "?" (query) } { "Next page →" }
        }
    }
}

/// A time as people read it: `2026-11-22 10:00 UTC`.
pub fn when(at: Timestamp) -> String {
    let text = at.to_rfc3339();
    match text.get(..16) {
        Some(minutes) => format!("{} UTC", minutes.replace('T', " ")),
        None => text,
    }
}
