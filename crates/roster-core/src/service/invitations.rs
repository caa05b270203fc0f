//! The invitation lifecycle: create (or refresh), email, list, revoke,
//! resend, decline, and accept — by the emailed token, or by id for a
//! verified address. Accepting creates the membership and applies the
//! project assignments in the same transaction, under the org lock, so two
//! concurrent accepts make one membership.

use crate::crypto::{random_token, token_hash};
use crate::error::{DomainError, Result};
use crate::ids::{InvitationId, OrgId, ProjectId};
use crate::mail::{invitation_email, link, InvitationEmail};
use crate::model::{
    Actor, Invitation, InvitationFilter, InvitationStatus, Member, Membership, User,
};
use crate::pagination::{Page, PageNumber, PageRequest};
use crate::role::{OrgRole, ProjectRole};
use crate::store::{self, prelude::*};
use crate::time::Timestamp;
use crate::types::{Email, InvitationMessage};

use super::authz::{authorize, check_role_change, Action};
use super::{record, Ctx, Roster, Target};

/// A created or refreshed invitation and the secret of its link.
#[derive(Debug, Clone)]
pub struct Invited {
    pub invitation: Invitation,
    /// Goes only into the email; only its hash is stored.
    pub token: String,
    pub refreshed: bool,
}

fn invitation_target(id: InvitationId) -> Target<'static> {
    Target {
        kind: "invitation",
        id: id.to_string(),
    }
}

/// The status as of `now`: an open invitation past its expiry is expired.
pub fn effective_status(invitation: &Invitation, now: Timestamp) -> InvitationStatus {
    if invitation.status.is_open() && invitation.expires_at <= now {
        InvitationStatus::Expired
    } else {
        invitation.status
    }
}

/// The invitation as of `now` (its status made effective).
fn as_of(mut invitation: Invitation, now: Timestamp) -> Invitation {
    invitation.status = effective_status(&invitation, now);
    invitation
}

/// Refuses an invitation that can no longer be accepted, with its own code.
fn ensure_open(invitation: &Invitation, now: Timestamp) -> Result<()> {
    match effective_status(invitation, now) {
        InvitationStatus::Pending | InvitationStatus::Sent => Ok(()),
        InvitationStatus::Expired => Err(DomainError::invitation_expired()),
        InvitationStatus::Revoked => Err(DomainError::invitation_revoked()),
        InvitationStatus::Accepted | InvitationStatus::Declined => {
            Err(DomainError::invitation_already_used())
        }
    }
}

fn invitation_not_found() -> DomainError {
    DomainError::invitation_not_found()
}

fn email_not_verified() -> DomainError {
    DomainError::email_not_verified()
}

impl Roster {
    /// Creates an invitation, or refreshes the open one of the same address
    /// (new token, role, message, assignments and expiry) instead of
    /// creating a second; queues its email. Runs inside the caller's
    /// transaction, which holds the org lock and has checked that the
    /// caller, acting as `actor`, may grant `role`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn invite(
        &self,
        tx: &mut dyn Tx,
        ctx: &Ctx,
        actor: OrgRole,
        org: OrgId,
        email: &Email,
        role: OrgRole,
        message: &InvitationMessage,
        assignments: &[(ProjectId, ProjectRole)],
        now: Timestamp,
    ) -> Result<Invited> {
        self.check_invitation_budget(tx, ctx, org, email.as_str(), now)?;
        for (project, _) in assignments {
            tx.project(org, *project)?
                .ok_or_else(DomainError::project_not_found)?;
        }
        let token = random_token("inv_");
        let expires_at = now.plus_secs(self.config().invitation_ttl_secs);
        let created_by = match ctx.actor {
            Actor::User(user) => Some(user),
            Actor::ApiKey(_) => None,
        };
        let (invitation, refreshed) = match tx.open_invitation(org, email.as_str())? {
            Some(open) => {
                // Refreshing rewrites the open invitation's role: the caller
                // must be allowed to change that role, so an admin cannot
                // turn an owner's invitation into a lesser one (nor take
                // it over by re-inviting the address).
                check_role_change(actor, Some(open.role), role)?;
                let refreshed = Invitation {
                    role,
                    message: message.as_str().to_string(),
                    status: InvitationStatus::Pending,
                    project_assignments: assignments.to_vec(),
                    token_hash: token_hash(&token),
                    expires_at,
                    ..open
                };
                tx.update_invitation(&refreshed, now)?;
                (refreshed, true)
            }
            None => {
                let invitation = Invitation {
                    id: InvitationId::new(),
                    org_id: org,
                    email: email.as_str().to_string(),
                    role,
                    message: message.as_str().to_string(),
                    status: InvitationStatus::Pending,
                    project_assignments: assignments.to_vec(),
                    token_hash: token_hash(&token),
                    created_by,
                    created_at: now,
                    expires_at,
                };
                tx.insert_invitation(&invitation)?;
                (invitation, false)
            }
        };
        self.queue_invitation_email(tx, ctx, &invitation, &token)?;
        let action = if refreshed {
            "invitation.refreshed"
        } else {
            "invitation.created"
        };
        record(
            tx,
            ctx,
            org,
            action,
            invitation_target(invitation.id),
            format!("invited {} as {role}", invitation.email),
        )?;
        Ok(Invited {
            invitation,
            token,
            refreshed,
        })
    }

    /// Refuses an invitation email past one of its budgets (429 with
    /// `Retry-After`): per org per hour, per recipient address per day
    /// (from every org together, so nobody can flood one inbox by creating
    /// orgs), and per account or API key per hour. The org and recipient
    /// counts are read from the outbox in this transaction, so every
    /// instance sharing the database agrees on them.
    fn check_invitation_budget(
        &self,
        tx: &mut dyn Tx,
        ctx: &Ctx,
        org: OrgId,
        recipient: &str,
        now: Timestamp,
    ) -> Result<()> {
        let config = self.config();
        let per_org = u64::from(config.invitation_emails_per_hour);
        if tx.count_invitation_emails_since(org, now.plus_secs(-3600))? >= per_org {
            return Err(DomainError::RateLimited {
                retry_after_secs: 60,
            });
        }
        const DAY_SECS: i64 = 86_400;
        let per_recipient = u64::from(config.invitation_emails_per_recipient_per_day);
        let (sent, oldest) =
            tx.count_invitation_emails_to_since(recipient, now.plus_secs(-DAY_SECS))?;
        if sent >= per_recipient {
            let frees_at = oldest.map_or(now.secs() + DAY_SECS, |t| t.secs() + DAY_SECS);
            return Err(DomainError::RateLimited {
                retry_after_secs: (frees_at - now.secs()).max(1) as u64,
            });
        }
        self.limiter.hit_in_window(
            &format!("invitations-by:{}", ctx.actor.id_string()),
            config.invitation_emails_per_account_per_hour,
            3600,
            now.secs(),
        )
    }

    fn queue_invitation_email(
        &self,
        tx: &mut dyn Tx,
        ctx: &Ctx,
        invitation: &Invitation,
        token: &str,
    ) -> Result<()> {
        let org = tx
            .org(invitation.org_id)?
            .ok_or_else(DomainError::org_not_found)?;
        let inviter = actor_display(tx, ctx, &org.name)?;
        let accept_url = link(&self.config().public_url, "accept-invite", token);
        tx.insert_outbox_email(&invitation_email(&InvitationEmail {
            to: &invitation.email,
            org_name: &org.name,
            inviter: &inviter,
            role: invitation.role,
            message: &invitation.message,
            accept_url: &accept_url,
            expires_at: invitation.expires_at,
            invitation: invitation.id,
        }))?;
        Ok(())
    }

    /// The org's invitations (admin and up), optionally of one status.
    pub fn list_invitations(
        &self,
        ctx: &Ctx,
        org: OrgId,
        status: Option<InvitationStatus>,
        page: &PageRequest,
    ) -> Result<Page<Invitation>> {
        let after = page.after_id(InvitationId::parse)?;
        let now = Timestamp::now();
        let rows = store::read(&**self.store(), |tx| {
            authorize(tx, ctx, org, Action::ListInvitations)?;
            tx.list_invitations(
                org,
                &InvitationFilter { status, now },
                after,
                page.fetch_limit(),
            )
        })?;
        Ok(page.page(rows, |i| i.id.to_string()).map(|i| as_of(i, now)))
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
            authorize(tx, ctx, org, Action::ListInvitations)?;
            if page.is_past_any_data() {
                return Ok(Vec::new());
            }
            tx.list_open_invitations_offset(org, now, page.offset(), page.limit)
        })
    }

    /// Revokes several open invitations (each on its own, in its own
    /// transaction); an id that could not be parsed fails on its own.
    pub fn revoke_invitations(
        &self,
        ctx: &Ctx,
        org: OrgId,
        ids: Vec<Result<InvitationId>>,
    ) -> Result<Vec<Result<Invitation>>> {
        self.bulk(ctx, org, Action::RevokeInvitation, ids, |id| {
            self.revoke_invitation(ctx, org, id)
        })
    }

    /// Revokes an open invitation: its link stops working.
    pub fn revoke_invitation(&self, ctx: &Ctx, org: OrgId, id: InvitationId) -> Result<Invitation> {
        let now = Timestamp::now();
        store::write(&**self.store(), |tx| {
            authorize(tx, ctx, org, Action::RevokeInvitation)?;
            let invitation = tx
                .invitation(id)?
                .filter(|i| i.org_id == org)
                .ok_or_else(invitation_not_found)?;
            ensure_open(&invitation, now)?;
            let revoked = Invitation {
                status: InvitationStatus::Revoked,
                ..invitation
            };
            tx.update_invitation(&revoked, now)?;
            record(
                tx,
                ctx,
                org,
                "invitation.revoked",
                invitation_target(id),
                format!("revoked the invitation of {}", revoked.email),
            )?;
            Ok(revoked)
        })
    }

    /// Sends an invitation again with a new token (the old link dies) and a
    /// new expiry; an expired invitation comes back to life this way.
    pub fn resend_invitation(&self, ctx: &Ctx, org: OrgId, id: InvitationId) -> Result<Invitation> {
        let now = Timestamp::now();
        let resent = store::write(&**self.store(), |tx| {
            let grant = authorize(tx, ctx, org, Action::Invite)?;
            let invitation = tx
                .invitation(id)?
                .filter(|i| i.org_id == org)
                .ok_or_else(invitation_not_found)?;
            check_role_change(grant.role, None, invitation.role)?;
            if effective_status(&invitation, now) != InvitationStatus::Expired {
                ensure_open(&invitation, now)?;
            }
            self.check_invitation_budget(tx, ctx, org, &invitation.email, now)?;
            let token = random_token("inv_");
            let resent = Invitation {
                status: InvitationStatus::Pending,
                token_hash: token_hash(&token),
                expires_at: now.plus_secs(self.config().invitation_ttl_secs),
                ..invitation
            };
            tx.update_invitation(&resent, now)?;
            self.queue_invitation_email(tx, ctx, &resent, &token)?;
            record(
                tx,
                ctx,
                org,
                "invitation.resent",
                invitation_target(id),
                format!("resent the invitation of {}", resent.email),
            )?;
            Ok(resent)
        })?;
        self.mail_queued();
        Ok(resent)
    }

    /// Open invitations to the caller's verified address, with org names.
    pub fn my_invitations(
        &self,
        ctx: &Ctx,
        page: &PageRequest,
    ) -> Result<Page<(Invitation, String)>> {
        let after = page.after_id(InvitationId::parse)?;
        let now = Timestamp::now();
        let rows = store::read(&**self.store(), |tx| {
            let user = caller_user(tx, ctx)?;
            if !user.email_verified {
                return Err(email_not_verified());
            }
            let invitations =
                tx.list_open_invitations_for_email(&user.email, now, after, page.fetch_limit())?;
            let mut rows = Vec::with_capacity(invitations.len());
            for invitation in invitations {
                let org_name = tx
                    .org(invitation.org_id)?
                    .map(|o| o.name)
                    .unwrap_or_default();
                rows.push((invitation, org_name));
            }
            Ok(rows)
        })?;
        Ok(page.page(rows, |(i, _)| i.id.to_string()))
    }

    /// Accepts by the token from the email. The caller's email must be the
    /// invited address; the token proves it, so it is marked verified.
    pub fn accept_invitation_by_token(&self, ctx: &Ctx, token: &str) -> Result<(OrgId, Member)> {
        let hash = token_hash(token.trim());
        store::write(&**self.store(), |tx| {
            let user = caller_user(tx, ctx)?;
            let invitation = tx
                .invitation_by_token_hash(&hash)?
                .ok_or_else(invitation_not_found)?;
            if invitation.email != user.email {
                return Err(DomainError::invitation_email_mismatch());
            }
            self.accept(tx, ctx, &user, invitation.id, true)
        })
    }

    /// Accepts by id (from `my_invitations`): needs a verified email equal
    /// to the invited address.
    pub fn accept_invitation_by_id(&self, ctx: &Ctx, id: InvitationId) -> Result<(OrgId, Member)> {
        store::write(&**self.store(), |tx| {
            let user = caller_user(tx, ctx)?;
            let invitation = tx
                .invitation(id)?
                .filter(|i| i.email == user.email)
                .ok_or_else(invitation_not_found)?;
            if !user.email_verified {
                return Err(email_not_verified());
            }
            self.accept(tx, ctx, &user, invitation.id, false)
        })
    }

    /// Declines an invitation to the caller's verified address.
    pub fn decline_invitation(&self, ctx: &Ctx, id: InvitationId) -> Result<Invitation> {
        let now = Timestamp::now();
        store::write(&**self.store(), |tx| {
            let user = caller_user(tx, ctx)?;
            let invitation = tx
                .invitation(id)?
                .filter(|i| i.email == user.email)
                .ok_or_else(invitation_not_found)?;
            if !user.email_verified {
                return Err(email_not_verified());
            }
            tx.lock_org(invitation.org_id)?
                .ok_or_else(invitation_not_found)?;
            let invitation = tx.invitation(id)?.ok_or_else(invitation_not_found)?;
            ensure_open(&invitation, now)?;
            let declined = Invitation {
                status: InvitationStatus::Declined,
                ..invitation
            };
            tx.update_invitation(&declined, now)?;
            record(
                tx,
                ctx,
                declined.org_id,
                "invitation.declined",
                invitation_target(id),
                format!("{} declined the invitation", user.email),
            )?;
            Ok(declined)
        })
    }

    /// The membership an accepted invitation makes, under the org lock;
    /// answers the org and the membership.
    fn accept(
        &self,
        tx: &mut dyn Tx,
        ctx: &Ctx,
        user: &User,
        id: InvitationId,
        proves_email: bool,
    ) -> Result<(OrgId, Member)> {
        let now = Timestamp::now();
        // Lock first, then read the invitation again: a concurrent accept
        // that committed meanwhile is seen here, so only one succeeds.
        let org = tx.invitation(id)?.ok_or_else(invitation_not_found)?.org_id;
        tx.lock_org(org)?.ok_or_else(invitation_not_found)?;
        let invitation = tx.invitation(id)?.ok_or_else(invitation_not_found)?;
        ensure_open(&invitation, now)?;
        if proves_email && !user.email_verified {
            tx.set_email_verified(user.id, now)?;
        }
        let summary = match tx.membership(org, user.id)? {
            // Already a member: the invitation is used up, the role is not
            // silently changed.
            Some(existing) => format!(
                "{} accepted an invitation and stays {}",
                user.email, existing.role
            ),
            None => {
                tx.insert_membership(&Membership {
                    org_id: org,
                    user_id: user.id,
                    role: invitation.role,
                    labels: Vec::new(),
                    created_at: now,
                })?;
                format!("{} joined as {} by invitation", user.email, invitation.role)
            }
        };
        for (project, role) in &invitation.project_assignments {
            let still_there = tx.project(org, *project)?.is_some();
            if still_there && tx.project_member(*project, user.id)?.is_none() {
                tx.insert_project_member(*project, user.id, *role, now)?;
            }
        }
        tx.update_invitation(
            &Invitation {
                status: InvitationStatus::Accepted,
                ..invitation
            },
            now,
        )?;
        record(
            tx,
            ctx,
            org,
            "invitation.accepted",
            Target {
                kind: "user",
                id: user.id.to_string(),
            },
            summary,
        )?;
        let member = tx
            .member(org, user.id)?
            .ok_or_else(DomainError::member_not_found)?;
        Ok((org, member))
    }
}

/// How an email names the person (or key) who acted: "Name (email)".
pub(crate) fn actor_display(tx: &mut dyn ReadTx, ctx: &Ctx, org_name: &str) -> Result<String> {
    Ok(match ctx.actor {
        Actor::User(user) => match tx.user(user)? {
            Some(user) if !user.name.is_empty() => format!("{} ({})", user.name, user.email),
            Some(user) => user.email,
            None => "Someone".to_string(),
        },
        Actor::ApiKey(_) => format!("An administrator of {org_name}"),
    })
}

/// The calling user's account (API keys have none).
pub(crate) fn caller_user(tx: &mut dyn ReadTx, ctx: &Ctx) -> Result<User> {
    match ctx.actor {
        Actor::User(user) => tx.user(user)?.ok_or(DomainError::Unauthenticated),
        Actor::ApiKey(_) => Err(DomainError::Forbidden("API keys cannot accept invitations")),
    }
}
