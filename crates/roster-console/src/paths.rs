//! Every address the console links to, posts to or redirects to, built
//! from [`MOUNT`] so that a page's address is written once. The route
//! table in `lib.rs` holds the templates the router matches; a test below
//! checks that each address built here is one of them.
//!
//! An org's addresses take the org as anything displayable: a handler
//! sends a logged-out visitor to the login page with the address they
//! asked for before the id in it has been parsed.

use std::fmt::Display;

/// The mount point as a literal, for `concat!` in constants.
macro_rules! mount {
    () => {
        "/console"
    };
}
pub(crate) use mount;

/// Where roster-http nests the console.
pub const MOUNT: &str = mount!();

/// The console's root: to the orgs or to login.
pub const HOME: &str = MOUNT;
pub const LOGIN: &str = concat!(mount!(), "/login");
pub const SIGNUP: &str = concat!(mount!(), "/signup");
pub const LOGOUT: &str = concat!(mount!(), "/logout");
pub const VERIFY_EMAIL: &str = concat!(mount!(), "/verify-email");
pub const RESEND_VERIFICATION: &str = concat!(mount!(), "/resend-verification");
pub const ACCEPT_INVITE: &str = concat!(mount!(), "/accept-invite");
/// The org switcher.
pub const ORGS: &str = concat!(mount!(), "/orgs");

/// The login page, coming back to `next` afterwards.
pub fn login_then(next: &str) -> String {
    format!("{LOGIN}?next={}", encode(next))
}

/// The sign-up page, going on to `next` afterwards.
pub fn signup_then(next: &str) -> String {
    format!("{SIGNUP}?next={}", encode(next))
}

/// The sign-up page of a person who follows invitation `token`.
pub fn signup_for_invite(token: &str) -> String {
    format!("{SIGNUP}?invite={}", encode(token))
}

/// The page that accepts invitation `token`.
pub fn accept_invite(token: &str) -> String {
    format!("{ACCEPT_INVITE}?token={}", encode(token))
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    serde_urlencoded::to_string([("v", value)])
        .map(|s| s[2..].to_string())
        .unwrap_or_default()
}

/// The addresses of one org's pages.
#[derive(Debug, Clone)]
pub struct OrgPaths {
    base: String,
}

impl OrgPaths {
    pub fn new(org: impl Display) -> Self {
        Self {
            base: format!("{ORGS}/{org}"),
        }
    }

    /// The overview and settings; the settings form posts here.
    pub fn overview(&self) -> String {
        self.base.clone()
    }

    fn under(&self, rest: impl Display) -> String {
        format!("{}/{rest}", self.base)
    }

    pub fn delete(&self) -> String {
        self.under("delete")
    }

    pub fn leave(&self) -> String {
        self.under("leave")
    }

    /// The member table; the invitation form posts here.
    pub fn members(&self) -> String {
        self.under("members")
    }

    pub fn member_role(&self, user: impl Display) -> String {
        self.under(format_args!("members/{user}/role"))
    }

    pub fn member_remove(&self, user: impl Display) -> String {
        self.under(format_args!("members/{user}/remove"))
    }

    pub fn invitations(&self) -> String {
        self.under("invitations")
    }

    pub fn invitation_resend(&self, invitation: impl Display) -> String {
        self.under(format_args!("invitations/{invitation}/resend"))
    }

    pub fn invitation_revoke(&self, invitation: impl Display) -> String {
        self.under(format_args!("invitations/{invitation}/revoke"))
    }

    /// The project list; the create form posts here.
    pub fn projects(&self) -> String {
        self.under("projects")
    }

    pub fn project(&self, project: impl Display) -> ProjectPaths {
        ProjectPaths {
            base: self.under(format_args!("projects/{project}")),
        }
    }

    /// The key list; the create form posts here.
    pub fn api_keys(&self) -> String {
        self.under("api-keys")
    }

    pub fn api_key_revoke(&self, key: impl Display) -> String {
        self.under(format_args!("api-keys/{key}/revoke"))
    }

    pub fn audit(&self) -> String {
        self.under("audit")
    }
}

/// The addresses of one project's pages.
#[derive(Debug, Clone)]
pub struct ProjectPaths {
    base: String,
}

impl ProjectPaths {
    /// Details and members; the settings form posts here.
    pub fn page(&self) -> String {
        self.base.clone()
    }

    pub fn delete(&self) -> String {
        format!("{}/delete", self.base)
    }

    /// The add-member form posts here.
    pub fn members(&self) -> String {
        format!("{}/members", self.base)
    }

    pub fn member_remove(&self, user: impl Display) -> String {
        format!("{}/members/{user}/remove", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `path` (under the mount) matches route template `template`.
    fn matches(template: &str, path: &str) -> bool {
        let (template, path): (Vec<&str>, Vec<&str>) =
            (template.split('/').collect(), path.split('/').collect());
        template.len() == path.len()
            && template
                .iter()
                .zip(&path)
                .all(|(t, p)| (t.starts_with('{') && t.ends_with('}') && !p.is_empty()) || t == p)
    }

    #[test]
    fn every_address_built_here_is_a_route_of_the_console() {
        let org = OrgPaths::new("o");
        let project = org.project("p");
        let addresses = [
            LOGIN.to_string(),
            SIGNUP.to_string(),
            LOGOUT.to_string(),
            VERIFY_EMAIL.to_string(),
            RESEND_VERIFICATION.to_string(),
            ACCEPT_INVITE.to_string(),
            ORGS.to_string(),
            org.overview(),
            org.delete(),
            org.leave(),
            org.members(),
            org.member_role("u"),
            org.member_remove("u"),
            org.invitations(),
            org.invitation_resend("i"),
            org.invitation_revoke("i"),
            org.projects(),
            project.page(),
            project.delete(),
            project.members(),
            project.member_remove("u"),
            org.api_keys(),
            org.api_key_revoke("k"),
            org.audit(),
        ];
        for address in addresses {
            let under_mount = address
                .strip_prefix(MOUNT)
                .unwrap_or_else(|| panic!("{address} is outside the console"));
            assert!(
                crate::ROUTES
                    .iter()
                    .any(|(_, template)| matches(template, under_mount)),
                "{address} is no route of the console"
            );
        }
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            login_then("/console/orgs"),
            "/console/login?next=%2Fconsole%2Forgs"
        );
        assert_eq!(
            accept_invite("a b&c"),
            "/console/accept-invite?token=a+b%26c"
        );
    }
}
