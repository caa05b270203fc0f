//! API key scopes: what a key may do inside its one org. A key acts with
//! admin powers limited by its scopes, never with owner powers.

use std::fmt;

use crate::error::DomainError;

/// One permission of an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    OrgRead,
    OrgWrite,
    MembersRead,
    MembersWrite,
    ProjectsRead,
    ProjectsWrite,
    InvitationsRead,
    InvitationsWrite,
    AuditRead,
}

impl Scope {
    pub const ALL: [Scope; 9] = [
        Scope::OrgRead,
        Scope::OrgWrite,
        Scope::MembersRead,
        Scope::MembersWrite,
        Scope::ProjectsRead,
        Scope::ProjectsWrite,
        Scope::InvitationsRead,
        Scope::InvitationsWrite,
        Scope::AuditRead,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Scope::OrgRead => "org:read",
            Scope::OrgWrite => "org:write",
            Scope::MembersRead => "members:read",
            Scope::MembersWrite => "members:write",
            Scope::ProjectsRead => "projects:read",
            Scope::ProjectsWrite => "projects:write",
            Scope::InvitationsRead => "invitations:read",
            Scope::InvitationsWrite => "invitations:write",
            Scope::AuditRead => "audit:read",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == raw.trim())
            .ok_or_else(|| DomainError::invalid("scopes", format!("unknown scope {raw:?}")))
    }

    /// Parses a list of scopes: at least one, no unknown ones; duplicates
    /// collapse and the result is sorted.
    pub fn parse_list<S: AsRef<str>>(raw: &[S]) -> Result<Vec<Scope>, DomainError> {
        if raw.is_empty() {
            return Err(DomainError::invalid("scopes", "give at least one scope"));
        }
        let mut scopes = raw
            .iter()
            .map(|s| Scope::parse(s.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        scopes.sort();
        scopes.dedup();
        Ok(scopes)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_round_trips() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()).unwrap(), scope);
        }
    }

    #[test]
    fn scope_lists_reject_unknown_and_empty_and_collapse_duplicates() {
        assert!(Scope::parse_list::<&str>(&[]).is_err());
        assert!(Scope::parse_list(&["members:read", "members:admin"]).is_err());
        assert_eq!(
            Scope::parse_list(&["members:write", "members:read", "members:write"]).unwrap(),
            vec![Scope::MembersRead, Scope::MembersWrite]
        );
    }
}
