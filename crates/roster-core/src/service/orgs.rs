//! Organizations: create, read, list, update, delete, transfer ownership.

use crate::crypto::random_token;
use crate::error::{DomainError, Result};
use crate::ids::{OrgId, UserId};
use crate::model::{Actor, Membership, Org, User};
use crate::pagination::{Page, PageRequest};
use crate::role::OrgRole;
use crate::store;
use crate::time::Timestamp;
use crate::types::{Description, OrgName, ResourceStatus};

use super::authz::{authorize, require_verified_email, Action, Grant, Holder};
use super::{record, Ctx, Roster, Target};

/// A change to an org's settings; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct OrgUpdate<'a> {
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
}

fn org_target(org: OrgId) -> Target<'static> {
    Target {
        kind: "organization",
        id: org.to_string(),
    }
}

fn referral_code() -> String {
    random_token("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(10)
        .collect::<String>()
        .to_ascii_uppercase()
}

impl Roster {
    /// Creates an org; the creating user becomes its owner.
    pub fn create_org(&self, ctx: &Ctx, name: &str, description: Option<&str>) -> Result<Org> {
        let Actor::User(user) = ctx.actor else {
            return Err(DomainError::Forbidden(
                "API keys cannot create organizations",
            ));
        };
        if ctx.org_scope.is_some() {
            return Err(DomainError::Forbidden(
                "an org-scoped access token cannot create organizations",
            ));
        }
        let name = OrgName::parse(name)?;
        let description = Description::parse(description.unwrap_or_default())?;
        let now = Timestamp::now();
        // Each org brings its own invitation budget: creating orgs without
        // end must not multiply what one account may send.
        self.limiter.hit_in_window(
            &format!("orgs-by:{user}"),
            self.config().orgs_per_account_per_day,
            86_400,
            now.secs(),
        )?;
        let org = Org {
            id: OrgId::new(),
            name: name.into_string(),
            description: description.into_string(),
            referral_code: referral_code(),
            status: ResourceStatus::Active,
            created_at: now,
            updated_at: now,
        };
        store::write(&**self.store(), |tx| {
            require_verified_email(tx, ctx)?;
            tx.insert_org(&org)?;
            tx.insert_membership(&Membership {
                org_id: org.id,
                user_id: user,
                role: OrgRole::Owner,
                labels: Vec::new(),
                created_at: now,
            })?;
            record(
                tx,
                ctx,
                org.id,
                "org.created",
                org_target(org.id),
                format!("created organization {:?}", org.name),
            )?;
            Ok(org.clone())
        })
    }

    /// The org and what the caller may do in it (any member, guests
    /// included).
    pub fn get_org(&self, ctx: &Ctx, org: OrgId) -> Result<(Org, Grant)> {
        store::read(&**self.store(), |tx| {
            let grant = authorize(tx, ctx, org, Action::ViewOrg)?;
            let found = tx.org(org)?.ok_or_else(DomainError::org_not_found)?;
            Ok((found, grant))
        })
    }

    /// What every console page of an org shows: the caller's account, the
    /// org, and what the caller may do there, read in one transaction.
    pub fn org_view(&self, ctx: &Ctx, org: OrgId) -> Result<(User, Org, Grant)> {
        store::read(&**self.store(), |tx| {
            let grant = authorize(tx, ctx, org, Action::ViewOrg)?;
            let found = tx.org(org)?.ok_or_else(DomainError::org_not_found)?;
            let me = super::invitations::caller_user(tx, ctx)?;
            Ok((me, found, grant))
        })
    }

    /// The caller's orgs, with the caller's role in each.
    pub fn list_my_orgs(&self, ctx: &Ctx, page: &PageRequest) -> Result<Page<(Org, OrgRole)>> {
        self.my_orgs_view(ctx, page).map(|(_, orgs)| orgs)
    }

    /// The caller's account and a page of its orgs (the console's list of
    /// orgs), read in one transaction.
    pub fn my_orgs_view(
        &self,
        ctx: &Ctx,
        page: &PageRequest,
    ) -> Result<(User, Page<(Org, OrgRole)>)> {
        let Actor::User(user) = ctx.actor else {
            return Err(DomainError::Forbidden(
                "API keys belong to one organization",
            ));
        };
        let after = page.after_id(OrgId::parse)?;
        let (me, rows) = store::read(&**self.store(), |tx| {
            let me = tx.user(user)?.ok_or(DomainError::Unauthenticated)?;
            Ok((me, tx.list_user_orgs(user, after, page.fetch_limit())?))
        })?;
        Ok((me, page.page(rows, |(org, _)| org.id.to_string())))
    }

    /// Updates name and/or description (admin and up); answers the org and
    /// the caller's role in it.
    pub fn update_org(
        &self,
        ctx: &Ctx,
        org: OrgId,
        update: OrgUpdate<'_>,
    ) -> Result<(Org, OrgRole)> {
        if update.name.is_none() && update.description.is_none() {
            return Err(DomainError::invalid(
                "body",
                "give at least one of name or description",
            ));
        }
        let name = update.name.map(OrgName::parse).transpose()?;
        let description = update.description.map(Description::parse).transpose()?;
        store::write(&**self.store(), |tx| {
            let role = authorize(tx, ctx, org, Action::UpdateOrg)?.role;
            let mut current = tx.org(org)?.ok_or_else(DomainError::org_not_found)?;
            let mut changes = Vec::new();
            if let Some(name) = &name {
                if name.as_str() != current.name {
                    changes.push(format!("name {:?} → {:?}", current.name, name.as_str()));
                    current.name = name.as_str().to_string();
                }
            }
            if let Some(description) = &description {
                if description.as_str() != current.description {
                    changes.push("description changed".to_string());
                    current.description = description.as_str().to_string();
                }
            }
            if changes.is_empty() {
                return Ok((current, role));
            }
            current.updated_at = Timestamp::now();
            tx.update_org(&current)?;
            record(
                tx,
                ctx,
                org,
                "org.updated",
                org_target(org),
                changes.join("; "),
            )?;
            Ok((current, role))
        })
    }

    /// Deletes the org with its memberships, projects and invitations (owner only).
    pub fn delete_org(&self, ctx: &Ctx, org: OrgId) -> Result<()> {
        store::write(&**self.store(), |tx| {
            authorize(tx, ctx, org, Action::DeleteOrg)?;
            let found = tx.org(org)?.ok_or_else(DomainError::org_not_found)?;
            record(
                tx,
                ctx,
                org,
                "org.deleted",
                org_target(org),
                format!("deleted organization {:?}", found.name),
            )?;
            tx.delete_org(org)
        })?;
        // The org's API keys went with it.
        self.credentials_changed();
        Ok(())
    }

    /// Makes `member` an owner and the calling owner an admin, in one step.
    pub fn transfer_ownership(&self, ctx: &Ctx, org: OrgId, member: UserId) -> Result<()> {
        if ctx.actor == Actor::User(member) {
            return Err(DomainError::invalid("member_id", "is already the caller"));
        }
        store::write(&**self.store(), |tx| {
            let grant = authorize(tx, ctx, org, Action::TransferOwnership)?;
            let Holder::Person(caller) = grant.holder else {
                return Err(DomainError::Internal("an owner is a person".into()));
            };
            let target = tx
                .member(org, member)?
                .ok_or_else(DomainError::member_not_found)?;
            if target.role != OrgRole::Owner {
                tx.update_membership_role(org, member, OrgRole::Owner)?;
            }
            tx.update_membership_role(org, caller, OrgRole::Admin)?;
            record(
                tx,
                ctx,
                org,
                "org.ownership_transferred",
                Target {
                    kind: "user",
                    id: member.to_string(),
                },
                format!("ownership transferred to {}", target.user.email),
            )
        })
    }
}
