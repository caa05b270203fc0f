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

/// Declares [`Notice`] from one list: variant, code in the address (never
/// renamed: people bookmark pages), text shown for it.
macro_rules! notices {
    ($($variant:ident $code:literal => $text:literal,)*) => {
        /// The one-line notices a page shows after an action
        /// (`?done=CODE`). Only these codes show text, so a link cannot
        /// make the console say something it did not.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Notice {
            $($variant,)*
        }

        impl Notice {
            const ALL: &[Notice] = &[$(Notice::$variant,)*];

            fn code_and_text(self) -> (&'static str, &'static str) {
                match self {
                    $(Notice::$variant => ($code, $text),)*
                }
            }
        }
    };
}

notices! {
    OrgCreated "org_created" => "Organization created.",
    OrgUpdated "org_updated" => "Settings saved.",
    OrgDeleted "org_deleted" => "Organization deleted.",
    MemberAdded "member_added" => "Member added.",
    MemberInvited "member_invited" => "Invitation sent.",
    InvitationRefreshed "invitation_refreshed" =>
        "The open invitation to that address was renewed and sent again.",
    RoleChanged "role_changed" => "Role changed.",
    MemberRemoved "member_removed" => "Member removed.",
    LeftOrg "left_org" => "You left the organization.",
    InvitationResent "invitation_resent" => "Invitation sent again.",
    InvitationRevoked "invitation_revoked" => "Invitation revoked.",
    InvitationAccepted "invitation_accepted" => "Invitation accepted: welcome!",
    ProjectCreated "project_created" => "Project created.",
    ProjectUpdated "project_updated" => "Project saved.",
    ProjectDeleted "project_deleted" => "Project deleted.",
    ProjectMemberAdded "project_member_added" => "Project member added.",
    ProjectMemberRemoved "project_member_removed" => "Project member removed.",
    KeyRevoked "key_revoked" => "API key revoked.",
    EmailVerified "email_verified" => "Your email address is verified.",
    VerificationSent "verification_sent" => "A new verification link is on its way.",
    LoggedOut "logged_out" => "You are logged out.",
}

impl Notice {
    pub fn code(self) -> &'static str {
        self.code_and_text().0
    }

    /// The notice a `?done=` code names, if any.
    pub fn from_code(code: &str) -> Option<Notice> {
        Notice::ALL
            .iter()
            .copied()
            .find(|notice| notice.code() == code)
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
        for &notice in Notice::ALL {
            assert_eq!(Notice::from_code(notice.code()), Some(notice));
        }
        assert_eq!(Notice::from_code("<b>hello"), None);
        assert_eq!(Notice::from_code(""), None);
    }
}
