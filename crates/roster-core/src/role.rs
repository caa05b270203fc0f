//! Roles and the pure rules that compare them. Who may do what is decided
//! here and in the services, never in a surface adapter.

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

    /// Admin and up manage the org: settings, members, projects, invitations, keys, audit.
    pub fn can_administer(&self) -> bool {
        *self >= OrgRole::Admin
    }

    /// Member and up see the org's members and projects; a guest sees only
    /// the org and its own membership.
    pub fn can_view_directory(&self) -> bool {
        *self >= OrgRole::Member
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

/// May an actor holding `actor` change a membership from `current` to `new`
/// (or grant `new` to a newcomer, with `current = None`)? Only owners touch
/// the owner role, and nobody acts on a role above their own.
pub fn check_role_change(
    actor: OrgRole,
    current: Option<OrgRole>,
    new: OrgRole,
) -> Result<(), DomainError> {
    if !actor.can_administer() {
        return Err(DomainError::Forbidden(
            "only admins and owners may manage members",
        ));
    }
    if (new == OrgRole::Owner || current == Some(OrgRole::Owner)) && actor != OrgRole::Owner {
        return Err(DomainError::Forbidden(
            "only an owner may grant or change the owner role",
        ));
    }
    if current.is_some_and(|c| c > actor) {
        return Err(DomainError::Forbidden(
            "cannot change the role of a member above your own",
        ));
    }
    Ok(())
}

/// May an actor holding `actor` remove a member holding `target`?
/// (Leaving, i.e. removing oneself, is decided by the caller of this.)
pub fn check_removal(actor: OrgRole, target: OrgRole) -> Result<(), DomainError> {
    if !actor.can_administer() {
        return Err(DomainError::Forbidden(
            "only admins and owners may remove members",
        ));
    }
    if target == OrgRole::Owner && actor != OrgRole::Owner {
        return Err(DomainError::Forbidden("only an owner may remove an owner"));
    }
    Ok(())
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

    #[test]
    fn only_owners_grant_or_change_the_owner_role() {
        assert!(check_role_change(OrgRole::Admin, None, OrgRole::Owner).is_err());
        assert!(check_role_change(OrgRole::Admin, Some(OrgRole::Owner), OrgRole::Member).is_err());
        assert!(check_role_change(OrgRole::Owner, Some(OrgRole::Member), OrgRole::Owner).is_ok());
    }

    #[test]
    fn members_and_guests_cannot_change_roles() {
        assert!(check_role_change(OrgRole::Member, Some(OrgRole::Guest), OrgRole::Member).is_err());
        assert!(check_role_change(OrgRole::Guest, None, OrgRole::Guest).is_err());
    }

    #[test]
    fn admins_manage_admins_members_and_guests() {
        assert!(check_role_change(OrgRole::Admin, Some(OrgRole::Admin), OrgRole::Member).is_ok());
        assert!(check_removal(OrgRole::Admin, OrgRole::Admin).is_ok());
        assert!(check_removal(OrgRole::Admin, OrgRole::Owner).is_err());
        assert!(check_removal(OrgRole::Owner, OrgRole::Owner).is_ok());
    }
}
