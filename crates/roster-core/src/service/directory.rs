//! Commands and queries in the shape of page-numbered, email-addressed
//! surfaces (the Ango-style API): members and open invitations by page
//! number, a member by email, and inviting an address directly. The rules
//! are the ones every other surface uses.

use crate::error::{DomainError, Result};
use crate::ids::{OrgId, ProjectId};
use crate::model::{Actor, Invitation, Member, MemberFilter};
use crate::role::{check_role_change, OrgRole, ProjectRole};
use crate::scope::Scope;
use crate::store::{self, prelude::*};
use crate::time::Timestamp;
use crate::types::{Email, InvitationMessage};

use super::members::{apply_removal, apply_role_change};
use super::{caller_role, lock_for_change, require_verified_email, Ctx, Invited, Roster};

/// What a role change addressed by email did.
#[derive(Debug, Clone)]
pub enum RoleChangeOutcome {
    Updated(Member),
    /// The member already held the role as the surface names it.
    Unchanged(Member),
}

/// A 1-based page number and a page size, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageNumber {
    pub page: usize,
    pub limit: usize,
}

impl PageNumber {
    pub const MAX_LIMIT: usize = 100;
    /// Pages after this one are empty for any org (a hundred million
    /// members), so they are answered without a query.
    pub const LAST_QUERIED_PAGE: usize = 1_000_000;

    /// Parses `page` (≥ 1, default 1) and `limit` (1..=100, default 10).
    /// Any whole page number is valid (the spec sets no maximum): one past
    /// the data is an empty page, even one too large for a machine word.
    pub fn parse(page: Option<&str>, limit: Option<&str>) -> Result<Self> {
        let number =
            |field: &'static str, raw: Option<&str>, default: usize, max: usize| -> Result<usize> {
                let Some(raw) = raw else { return Ok(default) };
                match raw.trim().parse::<usize>() {
                    Ok(n) if (1..=max).contains(&n) => Ok(n),
                    _ => Err(DomainError::invalid(
                        field,
                        format!("must be a whole number from 1 to {max}"),
                    )),
                }
            };
        Ok(Self {
            page: match page.map(str::trim) {
                None => 1,
                Some(raw) => match raw.parse::<usize>() {
                    Ok(n) if n >= 1 => n,
                    // Digits beyond a machine word: a page past the end.
                    Err(_) if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) => {
                        usize::MAX
                    }
                    _ => {
                        return Err(DomainError::invalid(
                            "page",
                            "must be a whole number from 1",
                        ))
                    }
                },
            },
            limit: number("limit", limit, 10, Self::MAX_LIMIT)?,
        })
    }

    fn offset(&self) -> usize {
        (self.page - 1).saturating_mul(self.limit)
    }

    /// Whether the page lies past any org's data.
    pub fn is_past_any_data(&self) -> bool {
        self.page > Self::LAST_QUERIED_PAGE
    }
}

impl Roster {
    /// One numbered page of members, searched by email, username or name.
    pub fn list_members_by_page(
        &self,
        ctx: &Ctx,
        org: OrgId,
        search: Option<&str>,
        page: PageNumber,
    ) -> Result<Vec<Member>> {
        let filter = MemberFilter {
            query: search
                .map(|q| q.trim().to_lowercase())
                .filter(|q| !q.is_empty()),
            role: None,
        };
        store::read(&**self.store(), |tx| {
            if !caller_role(tx, ctx, org, Scope::MembersRead)?.can_view_directory() {
                return Err(DomainError::Forbidden("guests cannot list members"));
            }
            if page.is_past_any_data() {
                return Ok(Vec::new());
            }
            tx.list_members_offset(org, &filter, page.offset(), page.limit)
        })
    }

    /// The member with this email address.
    pub fn member_by_email(&self, ctx: &Ctx, org: OrgId, email: &str) -> Result<Member> {
        let email = Email::parse(email)?;
        store::read(&**self.store(), |tx| {
            if !caller_role(tx, ctx, org, Scope::MembersRead)?.can_view_directory() {
                return Err(DomainError::Forbidden("guests cannot read members"));
            }
            let user = tx
                .user_by_email(email.as_str())?
                .ok_or_else(DomainError::member_not_found)?;
            tx.member(org, user.id)?
                .ok_or_else(DomainError::member_not_found)
        })
    }

    /// Checks, before a bulk request runs item by item, that the caller may
    /// act in the org with this scope at all (and as an admin, when asked):
    /// a caller who may do none of the items gets one answer, not a failure
    /// per item.
    pub fn check_bulk_access(
        &self,
        ctx: &Ctx,
        org: OrgId,
        scope: Scope,
        needs_admin: bool,
    ) -> Result<OrgRole> {
        store::read(&**self.store(), |tx| {
            let role = caller_role(tx, ctx, org, scope)?;
            if needs_admin && !role.can_administer() {
                return Err(DomainError::Forbidden("only admins and owners may do this"));
            }
            Ok(role)
        })
    }

    /// Sets the role of the member with this email address. Where an owner
    /// shows as `admin` (the Ango-style surface), asking for `admin` leaves
    /// the owner as it is; any other role goes through the owner rules.
    pub fn change_role_by_email(
        &self,
        ctx: &Ctx,
        org: OrgId,
        email: &str,
        role: OrgRole,
    ) -> Result<RoleChangeOutcome> {
        let email = Email::parse(email)?;
        store::write(&**self.store(), |tx| {
            let actor_role = lock_for_change(tx, ctx, org, Scope::MembersWrite)?;
            if !actor_role.can_administer() {
                return Err(DomainError::Forbidden(
                    "only admins and owners may change roles",
                ));
            }
            let existing = member_with_email(tx, org, &email)?;
            let shown_as_asked = existing.role == role
                || (existing.role == OrgRole::Owner && role == OrgRole::Admin);
            if shown_as_asked {
                return Ok(RoleChangeOutcome::Unchanged(existing));
            }
            apply_role_change(tx, ctx, org, actor_role, existing, role)
                .map(RoleChangeOutcome::Updated)
        })
    }

    /// Removes the member with this email address (or lets the caller
    /// leave), by the rules of every other removal.
    pub fn remove_member_by_email(&self, ctx: &Ctx, org: OrgId, email: &str) -> Result<()> {
        let email = Email::parse(email)?;
        store::write(&**self.store(), |tx| {
            let actor_role = lock_for_change(tx, ctx, org, Scope::MembersWrite)?;
            let existing = member_with_email(tx, org, &email);
            let leaving = matches!(&existing, Ok(m) if ctx.actor == Actor::User(m.user.id));
            if !actor_role.can_administer() && !leaving {
                return Err(DomainError::Forbidden(
                    "only admins and owners may remove members",
                ));
            }
            apply_removal(tx, ctx, org, actor_role, existing?)
        })
    }

    /// One numbered page of open (pending or sent, unexpired) invitations.
    pub fn list_open_invitations_by_page(
        &self,
        ctx: &Ctx,
        org: OrgId,
        page: PageNumber,
    ) -> Result<Vec<Invitation>> {
        let now = Timestamp::now();
        store::read(&**self.store(), |tx| {
            if !caller_role(tx, ctx, org, Scope::InvitationsRead)?.can_administer() {
                return Err(DomainError::Forbidden(
                    "only admins and owners may see invitations",
                ));
            }
            if page.is_past_any_data() {
                return Ok(Vec::new());
            }
            tx.list_open_invitations_offset(org, now, page.offset(), page.limit)
        })
    }

    /// Invites an address (registered or not) with project assignments;
    /// refreshes its open invitation if there is one. A current member
    /// cannot be invited.
    pub fn invite_address(
        &self,
        ctx: &Ctx,
        org: OrgId,
        email: &str,
        role: OrgRole,
        assignments: &[(ProjectId, ProjectRole)],
    ) -> Result<Invited> {
        let email = Email::parse(email)?;
        let message = InvitationMessage::parse("")?;
        let now = Timestamp::now();
        let invited = store::write(&**self.store(), |tx| {
            let actor = lock_for_change(tx, ctx, org, Scope::InvitationsWrite)?;
            check_role_change(actor, None, role)?;
            require_verified_email(tx, ctx)?;
            if let Some(user) = tx.user_by_email(email.as_str())? {
                if tx.membership(org, user.id)?.is_some() {
                    return Err(DomainError::conflict(
                        "already_member",
                        format!("{email} is already a member"),
                    ));
                }
            }
            self.invite(
                tx,
                ctx,
                actor,
                org,
                &email,
                role,
                &message,
                assignments,
                now,
            )
        })?;
        self.mail_queued();
        Ok(invited)
    }
}

fn member_with_email(tx: &mut dyn ReadTx, org: OrgId, email: &Email) -> Result<Member> {
    let user = tx
        .user_by_email(email.as_str())?
        .ok_or_else(DomainError::member_not_found)?;
    tx.member(org, user.id)?
        .ok_or_else(DomainError::member_not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_default_and_are_bounded() {
        assert_eq!(
            PageNumber::parse(None, None).unwrap(),
            PageNumber { page: 1, limit: 10 }
        );
        assert_eq!(
            PageNumber::parse(Some("3"), Some("100")).unwrap().offset(),
            200
        );
        for (page, limit) in [
            (Some("0"), None),
            (None, Some("101")),
            (None, Some("0")),
            (Some("x"), None),
        ] {
            assert!(PageNumber::parse(page, limit).is_err());
        }
    }

    #[test]
    fn any_whole_page_number_is_valid_and_far_pages_are_past_the_data() {
        let far = PageNumber::parse(Some("1000001"), None).unwrap();
        assert!(far.is_past_any_data());
        let huge = PageNumber::parse(Some("99999999999999999999999999"), None).unwrap();
        assert!(huge.is_past_any_data());
        assert!(!PageNumber::parse(Some("1000000"), None)
            .unwrap()
            .is_past_any_data());
        assert!(PageNumber::parse(Some("-5"), None).is_err());
    }
}
