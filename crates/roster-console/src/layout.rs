//! The page frame: head with the embedded stylesheet and script (no inline
//! script or style anywhere, so the CSP can forbid them), the top bar with
//! the signed-in user and the org switcher link, and the org's section
//! tabs.

use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};
use roster_core::model::{Org, User};
use roster_core::pagination::Page;
use roster_core::service::{Action, Grant};
use roster_core::time::Timestamp;

use crate::assets;
use crate::paths::{self, OrgPaths};
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

/// An HTML document titled `title` with `body`.
fn document(title: &str, body: Markup) -> Response {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                (head(title))
                body { (body) }
            }
        }
        .into_string(),
    )
    .into_response()
}

/// A page without the signed-in frame (login, signup, errors).
pub fn bare(title: &str, content: Markup) -> Response {
    document(
        title,
        html! {
            header.topbar { a.brand href=(paths::HOME) { "Roster" } }
            main #main { (content) }
        },
    )
}

/// A page of a signed-in user, optionally inside an org.
pub fn page(
    visit: &Visit,
    user: &User,
    org: Option<OrgFrame<'_>>,
    title: &str,
    content: Markup,
) -> Response {
    let body = html! {
        a.skip href="#main" { "Skip to content" }
        header.topbar {
            a.brand href=(paths::ORGS) { "Roster" }
            nav.account aria-label="Account" {
                a href=(paths::ORGS) { "Organizations" }
                span.who { (user.email) }
                form.inline method="post" action=(paths::LOGOUT) {
                    (csrf_field(visit))
                    button.link type="submit" { "Log out" }
                }
            }
        }
        @if !user.email_verified {
            div.banner role="status" {
                "Your email address is not verified yet: follow the link we sent you. "
                form.inline method="post" action=(paths::RESEND_VERIFICATION) {
                    (csrf_field(visit))
                    button.link type="submit" { "Send the link again" }
                }
            }
        }
        @if let Some(frame) = &org {
            (org_tabs(frame))
        }
        main #main { (content) }
    };
    document(title, body)
}

fn org_tabs(frame: &OrgFrame<'_>) -> Markup {
    let paths = OrgPaths::new(frame.org.id);
    let allows = |action| frame.grant.allows(action);
    let tab = |section: Section, href: String, label: &str| {
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
                (tab(Section::Settings, paths.overview(), "Overview"))
                @if allows(Action::ListMembers) {
                    (tab(Section::Members, paths.members(), "Members"))
                }
                @if allows(Action::ListProjects) {
                    (tab(Section::Projects, paths.projects(), "Projects"))
                }
                @if allows(Action::ListInvitations) {
                    (tab(Section::Invitations, paths.invitations(), "Invitations"))
                }
                @if allows(Action::ListApiKeys) {
                    (tab(Section::ApiKeys, paths.api_keys(), "API keys"))
                }
                @if allows(Action::ReadAudit) {
                    (tab(Section::Audit, paths.audit(), "Audit log"))
                }
            }
        }
    }
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(visit: &Visit) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(visit.csrf); }
}

/// The name and description fields of an org's or a project's form, their
/// ids starting with `prefix`: empty to create (the description
/// optional), or holding `current` (name, description) to edit.
pub fn name_and_description(prefix: &str, current: Option<(&str, &str)>) -> Markup {
    let (name_id, description_id) = (format!("{prefix}-name"), format!("{prefix}-description"));
    html! {
        label for=(name_id) { "Name" }
        input id=(name_id) type="text" name="name" value=[current.map(|(name, _)| name)] required maxlength="100";
        label for=(description_id) {
            "Description"
            @if current.is_none() { " " span.muted { "(optional)" } }
        }
        textarea id=(description_id) name="description" maxlength="1000" {
            @if let Some((_, description)) = current { (description) }
        }
    }
}

/// The card whose form creates an org or a project (`prefix`).
pub fn create_form(
    visit: &Visit,
    prefix: &str,
    heading: &str,
    action: &str,
    button: &str,
) -> Markup {
    let heading_id = format!("create-{prefix}");
    html! {
        section.card.narrow aria-labelledby=(heading_id) {
            h2 id=(heading_id) { (heading) }
            form method="post" action=(action) {
                (csrf_field(visit))
                (name_and_description(prefix, None))
                button type="submit" { (button) }
            }
        }
    }
}

/// One page of items as a table: `empty` when there are none, else the
/// `headers`, a `row` per item and the link to the next page (at `base`,
/// keeping the non-empty `filters`).
pub fn paged_table<T>(
    page: &Page<T>,
    empty: &str,
    headers: &[&str],
    base: &str,
    filters: &[(&str, &str)],
    row: impl Fn(&T) -> Markup,
) -> Markup {
    html! {
        @if page.items.is_empty() {
            p { (empty) }
        } @else {
            table {
                thead { tr { @for header in headers { th { (header) } } } }
                tbody { @for item in &page.items { (row(item)) } }
            }
            (next_page(base, filters, page.next_cursor.as_deref()))
        }
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
