//! Role lists as the Spice-style surface speaks them: one array holding the
//! base role and free labels. The highest base role named is the base role
//! (default `member`); every other string is a label; `owner` cannot be
//! granted this way. Also: the member lookups that surface needs (by
//! username, by user number), and edits that leave owners alone.

use crate::error::{DomainError, Result};
use crate::ids::{OrgId, UserId};
use crate::model::{Member, Membership};
use crate::role::{check_removal, check_role_change, OrgRole};
use crate::scope::Scope;
use crate::store;
use crate::time::Timestamp;

use super::{caller_role, lock_for_change, record, require_verified_email, Ctx, Roster, Target};

/// A base role and labels, parsed from a roles array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSet {
    pub base: OrgRole,
    pub labels: Vec<String>,
}

impl RoleSet {
    /// Parses a roles array; `None` (absent) means `["member"]`.
    pub fn parse(roles: Option<&[String]>) -> Result<Self> {
        let roles = roles.unwrap_or_default();
        if roles.len() > 50 {
            return Err(DomainError::invalid("roles", "at most 50 roles"));
        }
        let mut base: Option<OrgRole> = None;
        let mut labels: Vec<String> = Vec::new();
        for raw in roles {
            let role = raw.trim();
            if role.is_empty() || role.chars().count() > 64 || role.chars().any(char::is_control) {
                return Err(DomainError::invalid(
                    "roles",
                    "each role is 1 to 64 printable characters",
                ));
            }
            match OrgRole::parse(role) {
                Ok(OrgRole::Owner) => {
                    return Err(DomainError::Forbidden(
                        "the owner role cannot be granted through this API",
                    ))
                }
                Ok(named) => base = Some(base.map_or(named, |b| b.max(named))),
                Err(_) if !labels.iter().any(|l| l == role) => labels.push(role.to_string()),
                Err(_) => {}
            }
        }
        Ok(Self {
            base: base.unwrap_or(OrgRole::Member),
            labels,
        })
    }

    /// The roles array of a member: base role first, then its labels.
    pub fn render(member: &Member) -> Vec<String> {
        std::iter::once(member.role.as_str().to_string())
            .chain(member.labels.iter().cloned())
            .collect()
    }
}

fn forbid_owner(member: &Member, what: &'static str) -> Result<()> {
    if member.role == OrgRole::Owner {
        return Err(DomainError::Forbidden(what));
    }
    Ok(())
}

impl Roster {
    /// A member by user number (member and up).
    pub fn member_by_number(&self, ctx: &Ctx, org: OrgId, number: i64) -> Result<Member> {
        store::read(&**self.store(), |tx| {
            if !caller_role(tx, ctx, org, Scope::MembersRead)?.can_view_directory() {
                return Err(DomainError::Forbidden("guests cannot read members"));
            }
            let user = tx
                .user_by_number(number)?
                .ok_or_else(DomainError::member_not_found)?;
            tx.member(org, user.id)?
                .ok_or_else(DomainError::member_not_found)
        })
    }

    /// Adds a user with a verified address, named by username, with a role
    /// set (never owner), and tells them by email.
    pub fn add_member_by_username(
        &self,
        ctx: &Ctx,
        org: OrgId,
        username: &str,
        roles: &RoleSet,
    ) -> Result<Member> {
        let now = Timestamp::now();
        let added = store::write(&**self.store(), |tx| {
            let actor = lock_for_change(tx, ctx, org, Scope::MembersWrite)?;
            check_role_change(actor, None, roles.base)?;
            require_verified_email(tx, ctx)?;
            let user = tx
                .user_by_username(&username.trim().to_lowercase())?
                .ok_or_else(DomainError::user_not_found)?;
            let member = tx.membership(org, user.id)?.is_some();
            // An account that has not proved its address is, for adding,
            // not registered: it answers as an unknown username.
            if !user.email_verified && !member {
                return Err(DomainError::user_not_found());
            }
            if member {
                return Err(DomainError::conflict(
                    "already_member",
                    format!("{} is already a member", user.username),
                ));
            }
            self.check_direct_add_budget(tx, ctx, now)?;
            tx.insert_membership(&Membership {
                org_id: org,
                user_id: user.id,
                role: roles.base,
                labels: roles.labels.clone(),
                created_at: now,
            })?;
            record(
                tx,
                ctx,
                org,
                "member.added",
                Target {
                    kind: "user",
                    id: user.id.to_string(),
                },
                format!("added {} as {}", user.email, roles.base),
            )?;
            self.queue_member_added_email(tx, ctx, org, &user, roles.base)?;
            Ok(Member {
                user,
                role: roles.base,
                labels: roles.labels.clone(),
                joined_at: now,
            })
        })?;
        self.mail_queued();
        Ok(added)
    }

    /// Replaces a member's base role and labels; an owner cannot be modified
    /// this way.
    pub fn set_member_roles(
        &self,
        ctx: &Ctx,
        org: OrgId,
        user: UserId,
        roles: &RoleSet,
    ) -> Result<Member> {
        store::write(&**self.store(), |tx| {
            let actor = lock_for_change(tx, ctx, org, Scope::MembersWrite)?;
            let existing = tx
                .member(org, user)?
                .ok_or_else(DomainError::member_not_found)?;
            forbid_owner(&existing, "an owner cannot be modified through this API")?;
            if existing.role == roles.base && existing.labels == roles.labels {
                return Ok(existing);
            }
            check_role_change(actor, Some(existing.role), roles.base)?;
            tx.update_membership_role(org, user, roles.base)?;
            tx.update_membership_labels(org, user, &roles.labels)?;
            let mut summary = format!(
                "{}: {} → {}",
                existing.user.email, existing.role, roles.base
            );
            if existing.labels != roles.labels {
                summary.push_str(&format!("; labels [{}]", roles.labels.join(", ")));
            }
            record(
                tx,
                ctx,
                org,
                "member.role_changed",
                Target {
                    kind: "user",
                    id: user.to_string(),
                },
                summary,
            )?;
            Ok(Member {
                role: roles.base,
                labels: roles.labels.clone(),
                ..existing
            })
        })
    }

    /// Removes a member that is not an owner (the Spice-style removal).
    pub fn remove_non_owner(&self, ctx: &Ctx, org: OrgId, user: UserId) -> Result<()> {
        store::write(&**self.store(), |tx| {
            let actor = lock_for_change(tx, ctx, org, Scope::MembersWrite)?;
            let existing = tx
                .member(org, user)?
                .ok_or_else(DomainError::member_not_found)?;
            forbid_owner(&existing, "an owner cannot be removed through this API")?;
            check_removal(actor, existing.role)?;
            tx.delete_membership(org, user)?;
            record(
                tx,
                ctx,
                org,
                "member.removed",
                Target {
                    kind: "user",
                    id: user.to_string(),
                },
                format!("removed {} ({})", existing.user.email, existing.role),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(raw: &[&str]) -> Result<RoleSet> {
        let owned: Vec<String> = raw.iter().map(|s| s.to_string()).collect();
        RoleSet::parse(Some(&owned))
    }

    #[test]
    fn the_highest_base_role_wins_and_the_rest_are_labels() {
        let set = roles(&["billing", "member", "admin", "billing"]).unwrap();
        assert_eq!(
            set,
            RoleSet {
                base: OrgRole::Admin,
                labels: vec!["billing".into()]
            }
        );
    }

    #[test]
    fn no_roles_means_member_and_owner_is_refused() {
        assert_eq!(RoleSet::parse(None).unwrap().base, OrgRole::Member);
        assert_eq!(roles(&["ops"]).unwrap().base, OrgRole::Member);
        assert!(matches!(roles(&["owner"]), Err(DomainError::Forbidden(_))));
        assert!(roles(&[""]).is_err());
    }
}
