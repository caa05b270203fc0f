//! Roles. Who may do what with them is decided in one place,
//! `service::authz`, never in a surface adapter.

use std::fmt;

use crate::error::DomainError;

/// The base role of an org membership, ordered `Guest < Member < Admin < Owner`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OrgRole {
    Guest,
    Member,
    Admin,
    Owner,
}

impl OrgRole {
    pub const ALL: [OrgRole; 4] = [
        OrgRole::Owner,
        OrgRole::Admin,
        OrgRole::Member,
        OrgRole::Guest,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            OrgRole::Owner => "owner",
            OrgRole::Admin => "admin",
            OrgRole::Member => "member",
            OrgRole::Guest => "guest",
        }
    }

    /// Parses a role name (case-insensitive, surrounding space ignored).
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "owner" => Ok(OrgRole::Owner),
            "admin" => Ok(OrgRole::Admin),
            "member" => Ok(OrgRole::Member),
            "guest" => Ok(OrgRole::Guest),
            _ => Err(DomainError::invalid(
                "role",
                "must be one of owner, admin, member, guest",
            )),
        }
    }
}

impl fmt::Display for OrgRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The role of a project membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProjectRole {
    Member,
    Admin,
}

impl ProjectRole {
    pub const ALL: [ProjectRole; 2] = [ProjectRole::Admin, ProjectRole::Member];

    pub fn as_str(&self) -> &'static str {
        match self {
            ProjectRole::Admin => "admin",
            ProjectRole::Member => "member",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "admin" => Ok(ProjectRole::Admin),
            "member" => Ok(ProjectRole::Member),
            _ => Err(DomainError::invalid("role", "must be one of admin, member")),
        }
    }
}

impl fmt::Display for ProjectRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_guest_member_admin_owner() {
        assert!(OrgRole::Guest < OrgRole::Member);
        assert!(OrgRole::Member < OrgRole::Admin);
        assert!(OrgRole::Admin < OrgRole::Owner);
    }

    #[test]
    fn role_names_parse_case_insensitively_and_reject_others() {
        for role in OrgRole::ALL {
            assert_eq!(OrgRole::parse(&role.as_str().to_uppercase()).unwrap(), role);
        }
        assert!(OrgRole::parse("superuser").is_err());
        assert!(ProjectRole::parse("owner").is_err());
    }
}
