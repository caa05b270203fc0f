//! What every console action shares. A form post runs one core call and
//! then sends the browser to the page the action leads to, with a notice
//! of what happened ([`ConsoleState::act`], [`Notice`]); a destructive
//! action first shows a [`Confirm`] page whose button sends that post.
//! The CSRF check of every post is the session layer's; a refusal from
//! the core becomes an error page through `PageError`.

use axum::response::{Redirect, Response};
use maud::{html, Markup};
use roster_core::{DomainError, Roster};

use crate::layout::{csrf_field, Section};
use crate::org_page::OrgPage;
use crate::ConsoleState;

/// The one-line notices a page shows after an action (`?done=CODE`).
/// Only these codes show text, so a link cannot make the console say
/// something it did not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    OrgCreated,
    OrgUpdated,
    OrgDeleted,
    MemberAdded,
    MemberInvited,
    InvitationRefreshed,
    RoleChanged,
    MemberRemoved,
    LeftOrg,
    InvitationResent,
    InvitationRevoked,
    InvitationAccepted,
    ProjectCreated,
    ProjectUpdated,
    ProjectDeleted,
    ProjectMemberAdded,
    ProjectMemberRemoved,
    KeyRevoked,
    EmailVerified,
    VerificationSent,
    LoggedOut,
}

impl Notice {
    const ALL: [Notice; 21] = [
        Notice::OrgCreated,
        Notice::OrgUpdated,
        Notice::OrgDeleted,
        Notice::MemberAdded,
        Notice::MemberInvited,
        Notice::InvitationRefreshed,
        Notice::RoleChanged,
        Notice::MemberRemoved,
        Notice::LeftOrg,
        Notice::InvitationResent,
        Notice::InvitationRevoked,
        Notice::InvitationAccepted,
        Notice::ProjectCreated,
        Notice::ProjectUpdated,
        Notice::ProjectDeleted,
        Notice::ProjectMemberAdded,
        Notice::ProjectMemberRemoved,
        Notice::KeyRevoked,
        Notice::EmailVerified,
        Notice::VerificationSent,
        Notice::LoggedOut,
    ];

    /// The code in the address (never renamed: people bookmark pages) and
    /// the text shown for it.
    fn code_and_text(self) -> (&'static str, &'static str) {
        match self {
            Notice::OrgCreated => ("org_created", "Organization created."),
            Notice::OrgUpdated => ("org_updated", "Settings saved."),
            Notice::OrgDeleted => ("org_deleted", "Organization deleted."),
            Notice::MemberAdded => ("member_added", "Member added."),
            Notice::MemberInvited => ("member_invited", "Invitation sent."),
            Notice::InvitationRefreshed => (
                "invitation_refreshed",
                "The open invitation to that address was renewed and sent again.",
            ),
            Notice::RoleChanged => ("role_changed", "Role changed."),
            Notice::MemberRemoved => ("member_removed", "Member removed."),
            Notice::LeftOrg => ("left_org", "You left the organization."),
            Notice::InvitationResent => ("invitation_resent", "Invitation sent again."),
            Notice::InvitationRevoked => ("invitation_revoked", "Invitation revoked."),
            Notice::InvitationAccepted => ("invitation_accepted", "Invitation accepted: welcome!"),
            Notice::ProjectCreated => ("project_created", "Project created."),
            Notice::ProjectUpdated => ("project_updated", "Project saved."),
            Notice::ProjectDeleted => ("project_deleted", "Project deleted."),
            Notice::ProjectMemberAdded => ("project_member_added", "Project member added."),
            Notice::ProjectMemberRemoved => ("project_member_removed", "Project member removed."),
            Notice::KeyRevoked => ("key_revoked", "API key revoked."),
            Notice::EmailVerified => ("email_verified", "Your email address is verified."),
            Notice::VerificationSent => (
                "verification_sent",
                "A new verification link is on its way.",
            ),
            Notice::LoggedOut => ("logged_out", "You are logged out."),
        }
    }

    pub fn code(self) -> &'static str {
        self.code_and_text().0
    }

    /// The notice a `?done=` code names, if any.
    pub fn from_code(code: &str) -> Option<Notice> {
        Notice::ALL.into_iter().find(|notice| notice.code() == code)
    }

    /// Where an action leads: page `path`, showing this notice.
    pub fn at(self, path: impl Into<String>) -> Done {
        Done {
            path: path.into(),
            notice: self,
        }
    }

    /// The redirect to `path` showing this notice.
    pub fn redirect(self, path: &str) -> Redirect {
        Redirect::to(&format!("{path}?done={}", self.code()))
    }
}

/// The notice for `?done=CODE` after an action; nothing for an unknown
/// or missing code.
pub fn notice(done: Option<&str>) -> Markup {
    match done.and_then(Notice::from_code) {
        Some(notice) => html! { p.notice role="status" { (notice.code_and_text().1) } },
        None => html! {},
    }
}

/// Where the browser goes after an action, and what it is told there.
#[derive(Debug)]
pub struct Done {
    path: String,
    notice: Notice,
}

impl ConsoleState {
    /// A form post's core call and answer: on success a redirect to the
    /// page `then` picks from the outcome, with its notice; a refusal from
    /// the core is the error page.
    pub async fn act<T, F>(
        &self,
        call: F,
        then: impl FnOnce(T) -> Done,
    ) -> Result<Redirect, crate::error::PageError>
    where
        T: Send + 'static,
        F: FnOnce(&Roster) -> Result<T, DomainError> + Send + 'static,
    {
        let outcome = self.run(call).await?;
        let done = then(outcome);
        Ok(done.notice.redirect(&done.path))
    }
}

/// A confirmation page for a destructive action of an org: what will
/// happen, a button that does it, and a way out. Works without
/// JavaScript.
pub struct Confirm {
    /// The org tab the page sits under.
    pub section: Section,
    pub question: &'static str,
    pub detail: Markup,
    /// Where the form posts.
    pub action: String,
    pub button: &'static str,
    /// Where "Cancel" leads.
    pub cancel: String,
}

impl OrgPage {
    /// The confirmation page of `confirm`, inside this org's frame.
    pub fn confirm(&self, confirm: Confirm) -> Response {
        let content = html! {
            h1 { (confirm.question) }
            (confirm.detail)
            form method="post" action=(confirm.action) {
                (csrf_field(&self.visit))
                button.danger type="submit" { (confirm.button) }
                " "
                a.button.secondary href=(confirm.cancel) { "Cancel" }
            }
        };
        self.render(confirm.section, confirm.question, content)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_notice_is_found_by_its_own_code_only() {
        for notice in Notice::ALL {
            assert_eq!(Notice::from_code(notice.code()), Some(notice));
        }
        assert_eq!(Notice::from_code("<b>hello"), None);
        assert_eq!(Notice::from_code(""), None);
    }
}
