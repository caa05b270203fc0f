//! Org members: list, read, add (or re-role, or invite), change role,
//! remove and leave. The last-owner rule lives here, checked under the org
//! lock so that concurrent requests cannot both pass it.

use crate::error::{DomainError, Result};
use crate::ids::{OrgId, ProjectId, UserId};
use crate::mail::{leave_link, member_added_email, MemberAddedEmail};
use crate::model::{Actor, Invitation, Member, MemberFilter, Membership, User};
use crate::pagination::{Page, PageRequest};
use crate::role::{check_removal, check_role_change, OrgRole, ProjectRole};
use crate::scope::Scope;
use crate::store::{self, prelude::*};
use crate::time::Timestamp;
use crate::types::{Email, InvitationMessage};

use super::invitations::actor_display;
use super::{caller_role, lock_for_change, record, require_verified_email, Ctx, Roster, Target};

/// What `add_member` did.
#[derive(Debug, Clone)]
pub enum AddMemberOutcome {
    /// A registered user who was not a member joined at once.
    Added(Member),
    /// An existing member got the requested role.
    RoleUpdated(Member),
    /// The address has no verified account, or the role is `owner` for
    /// someone not yet a member: an invitation was created (or the open
    /// one refreshed). `token` is the secret for the invitation link; only
    /// its hash is stored.
    Invited {
        invitation: Invitation,
        token: String,
        refreshed: bool,
    },
}

fn user_target(user: UserId) -> Target<'static> {
    Target {
        kind: "user",
        id: user.to_string(),
    }
}

/// Refuses a change that would leave the org without an owner.
fn ensure_not_last_owner(tx: &mut dyn Tx, org: OrgId, current: OrgRole) -> Result<()> {
    if current == OrgRole::Owner && tx.count_owners(org)? <= 1 {
        return Err(DomainError::LastOwner);
    }
    Ok(())
}

impl Roster {
    /// Members of the org, filtered, by keyset page (member and up).
    pub fn list_members(
        &self,
        ctx: &Ctx,
        org: OrgId,
        filter: &MemberFilter,
        page: &PageRequest,
    ) -> Result<Page<Member>> {
        let after = page.after_id(UserId::parse)?;
        let filter = MemberFilter {
            query: filter
                .query
                .as_ref()
                .map(|q| q.trim().to_lowercase())
                .filter(|q| !q.is_empty()),
            role: filter.role,
        };
        if filter
            .query
            .as_ref()
            .is_some_and(|q| q.chars().count() > 254)
        {
            return Err(DomainError::invalid("q", "must be at most 254 characters"));
        }
        let rows = store::read(&**self.store(), |tx| {
            if !caller_role(tx, ctx, org, Scope::MembersRead)?.can_view_directory() {
                return Err(DomainError::Forbidden("guests cannot list members"));
            }
            tx.list_members(org, &filter, after, page.fetch_limit())
        })?;
        Ok(page.page(rows, |member| member.user.id.to_string()))
    }

    /// One member (member and up; a guest only itself).
    pub fn get_member(&self, ctx: &Ctx, org: OrgId, user: UserId) -> Result<Member> {
        store::read(&**self.store(), |tx| {
            let role = caller_role(tx, ctx, org, Scope::MembersRead)?;
            if !role.can_view_directory() && ctx.actor != Actor::User(user) {
                return Err(DomainError::Forbidden(
                    "guests can see only their own membership",
                ));
            }
            tx.member(org, user)?
                .ok_or_else(DomainError::member_not_found)
        })
    }

    /// The Tenant API's "add member": adds a user with a verified address at
    /// once (and tells them by email), re-roles an existing member, or
    /// invites: an address with no verified account, and anyone who is to
    /// become owner without being a member yet.
    pub fn add_member(
        &self,
        ctx: &Ctx,
        org: OrgId,
        email: &str,
        role: OrgRole,
        message: Option<&str>,
        assignments: &[(ProjectId, ProjectRole)],
    ) -> Result<AddMemberOutcome> {
        let email = Email::parse(email)?;
        let message = InvitationMessage::parse(message.unwrap_or_default())?;
        let now = Timestamp::now();
        let outcome = store::write(&**self.store(), |tx| {
            let actor_role = lock_for_change(tx, ctx, org, Scope::MembersWrite)?;
            if !actor_role.can_administer() {
                return Err(DomainError::Forbidden(
                    "only admins and owners may add members",
                ));
            }
            require_verified_email(tx, ctx)?;
            let found = tx.user_by_email(email.as_str())?;
            let is_member = match &found {
                Some(user) => tx.membership(org, user.id)?.is_some(),
                None => false,
            };
            // Only an account that proved the address counts as
            // "registered": whoever signed up with someone else's address
            // must not be added in their place. Nobody becomes an owner
            // without saying yes: for a newcomer the owner role is always
            // an invitation they accept. A member (even one unverified from
            // before verification was required) is managed as the member
            // it is.
            let user =
                found.filter(|user| is_member || (user.email_verified && role != OrgRole::Owner));
            let Some(user) = user else {
                check_role_change(actor_role, None, role)?;
                let invited = self.invite(
                    tx,
                    ctx,
                    actor_role,
                    org,
                    &email,
                    role,
                    &message,
                    assignments,
                    now,
                )?;
                return Ok(AddMemberOutcome::Invited {
                    invitation: invited.invitation,
                    token: invited.token,
                    refreshed: invited.refreshed,
                });
            };
            for (project, _) in assignments {
                tx.project(org, *project)?
                    .ok_or_else(DomainError::project_not_found)?;
            }
            let outcome = match tx.member(org, user.id)? {
                Some(existing) if existing.role == role => Err(DomainError::conflict(
                    "already_member",
                    format!("{} is already a member with role {role}", user.email),
                )),
                Some(existing) => {
                    check_role_change(actor_role, Some(existing.role), role)?;
                    ensure_not_last_owner(tx, org, existing.role)?;
                    tx.update_membership_role(org, user.id, role)?;
                    record(
                        tx,
                        ctx,
                        org,
                        "member.role_changed",
                        user_target(user.id),
                        format!("{}: {} → {role}", user.email, existing.role),
                    )?;
                    Ok(AddMemberOutcome::RoleUpdated(Member { role, ..existing }))
                }
                None => {
                    check_role_change(actor_role, None, role)?;
                    self.check_direct_add_budget(tx, ctx, now)?;
                    tx.insert_membership(&Membership {
                        org_id: org,
                        user_id: user.id,
                        role,
                        labels: Vec::new(),
                        created_at: now,
                    })?;
                    record(
                        tx,
                        ctx,
                        org,
                        "member.added",
                        user_target(user.id),
                        format!("added {} as {role}", user.email),
                    )?;
                    self.queue_member_added_email(tx, ctx, org, &user, role)?;
                    Ok(AddMemberOutcome::Added(Member {
                        user,
                        role,
                        labels: Vec::new(),
                        joined_at: now,
                    }))
                }
            }?;
            let user = match &outcome {
                AddMemberOutcome::Added(member) | AddMemberOutcome::RoleUpdated(member) => {
                    member.user.id
                }
                AddMemberOutcome::Invited { .. } => return Ok(outcome),
            };
            for (project, project_role) in assignments {
                if tx.project_member(*project, user)?.is_none() {
                    tx.insert_project_member(*project, user, *project_role, now)?;
                }
            }
            Ok(outcome)
        })?;
        if matches!(
            outcome,
            AddMemberOutcome::Invited { .. } | AddMemberOutcome::Added(_)
        ) {
            self.mail_queued();
        }
        Ok(outcome)
    }

    /// Refuses a direct add once the actor (a person or an API key) made
    /// as many in the last hour as it may cause invitation emails
    /// (`invitation_emails_per_account_per_hour`): each add mails its
    /// person, so adds are budgeted like invitations. Counted from the
    /// audit log, so every server sharing the database agrees.
    pub(crate) fn check_direct_add_budget(
        &self,
        tx: &mut dyn Tx,
        ctx: &Ctx,
        now: Timestamp,
    ) -> Result<()> {
        let per_hour = u64::from(self.config().invitation_emails_per_account_per_hour);
        let since = now.plus_secs(-3600);
        if tx.count_actor_events_since(&ctx.actor.id_string(), "member.added", since)? >= per_hour {
            return Err(DomainError::RateLimited {
                retry_after_secs: 60,
            });
        }
        Ok(())
    }

    /// Tells a person added without an invitation who added them, where,
    /// and how to leave again; in the transaction of the add.
    pub(crate) fn queue_member_added_email(
        &self,
        tx: &mut dyn Tx,
        ctx: &Ctx,
        org: OrgId,
        user: &User,
        role: OrgRole,
    ) -> Result<()> {
        let found = tx.org(org)?.ok_or_else(DomainError::org_not_found)?;
        let adder = actor_display(tx, ctx, &found.name)?;
        let leave_url = leave_link(&self.config().public_url, &org.to_string());
        tx.insert_outbox_email(&member_added_email(&MemberAddedEmail {
            to: &user.email,
            org_name: &found.name,
            adder: &adder,
            role,
            leave_url: &leave_url,
        }))
    }

    /// Changes a member's base role.
    pub fn change_member_role(
        &self,
        ctx: &Ctx,
        org: OrgId,
        user: UserId,
        role: OrgRole,
    ) -> Result<Member> {
        store::write(&**self.store(), |tx| {
            let actor_role = lock_for_change(tx, ctx, org, Scope::MembersWrite)?;
            if !actor_role.can_administer() {
                return Err(DomainError::Forbidden(
                    "only admins and owners may change roles",
                ));
            }
            let existing = tx
                .member(org, user)?
                .ok_or_else(DomainError::member_not_found)?;
            apply_role_change(tx, ctx, org, actor_role, existing, role)
        })
    }

    /// Removes a member, or lets a member leave (remove itself). The user's
    /// project memberships in the org go in the same transaction.
    pub fn remove_member(&self, ctx: &Ctx, org: OrgId, user: UserId) -> Result<()> {
        store::write(&**self.store(), |tx| {
            let actor_role = lock_for_change(tx, ctx, org, Scope::MembersWrite)?;
            let leaving = ctx.actor == Actor::User(user);
            if !leaving && !actor_role.can_administer() {
                return Err(DomainError::Forbidden(
                    "only admins and owners may remove members",
                ));
            }
            let existing = tx
                .member(org, user)?
                .ok_or_else(DomainError::member_not_found)?;
            apply_removal(tx, ctx, org, actor_role, existing)
        })
    }
}

/// Changes `existing`'s base role inside the caller's transaction, by the
/// rules every surface shares; no change, no audit event.
pub(super) fn apply_role_change(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    org: OrgId,
    actor_role: OrgRole,
    existing: Member,
    role: OrgRole,
) -> Result<Member> {
    if !actor_role.can_administer() {
        return Err(DomainError::Forbidden(
            "only admins and owners may change roles",
        ));
    }
    if existing.role == role {
        return Ok(existing);
    }
    check_role_change(actor_role, Some(existing.role), role)?;
    ensure_not_last_owner(tx, org, existing.role)?;
    let user = existing.user.id;
    tx.update_membership_role(org, user, role)?;
    record(
        tx,
        ctx,
        org,
        "member.role_changed",
        user_target(user),
        format!("{}: {} → {role}", existing.user.email, existing.role),
    )?;
    Ok(Member { role, ..existing })
}

/// Removes `existing` from the org inside the caller's transaction (or lets
/// the caller leave), by the rules every surface shares.
pub(super) fn apply_removal(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    org: OrgId,
    actor_role: OrgRole,
    existing: Member,
) -> Result<()> {
    let user = existing.user.id;
    let leaving = ctx.actor == Actor::User(user);
    if !leaving {
        check_removal(actor_role, existing.role)?;
    }
    ensure_not_last_owner(tx, org, existing.role)?;
    tx.delete_membership(org, user)?;
    let (action, summary) = if leaving {
        ("member.left", format!("{} left", existing.user.email))
    } else {
        (
            "member.removed",
            format!("removed {} ({})", existing.user.email, existing.role),
        )
    };
    record(tx, ctx, org, action, user_target(user), summary)
}
