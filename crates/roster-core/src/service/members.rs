//! Org members: one command per action (add, change, remove — leaving is
//! removing oneself) and the queries, for every surface. A member is named
//! by a [`MemberRef`] (id, email, user number or username), resolved inside
//! the command's transaction; what differs between surfaces is stated as a
//! parameter ([`OwnerPolicy`], [`IfMember`]), not as another method. The
//! last-owner rule lives here, checked under the org lock so that
//! concurrent requests cannot both pass it.

use crate::error::{DomainError, Result};
use crate::ids::{OrgId, ProjectId, UserId};
use crate::mail::{leave_link, member_added_email, MemberAddedEmail};
use crate::model::{Invitation, Member, MemberFilter, Membership, User};
use crate::pagination::{Page, PageNumber, PageRequest};
use crate::role::{OrgRole, ProjectRole};
use crate::store::{self, prelude::*};
use crate::time::Timestamp;
use crate::types::{Email, InvitationMessage};

use super::authz::{authorize, check_removal, check_role_change, Action, Grant};
use super::invitations::actor_display;
use super::{record, Ctx, Invited, Roster, Target};

/// Names one member (or, for adding, one person) of an org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberRef {
    Id(UserId),
    Email(Email),
    /// The account's user number (the Spice-style surface's id).
    Number(i64),
    Username(String),
}

impl MemberRef {
    /// A reference by email address, validated.
    pub fn email(raw: &str) -> Result<Self> {
        Email::parse(raw).map(MemberRef::Email)
    }

    /// The account it names, if there is one.
    fn account(&self, tx: &mut dyn ReadTx) -> Result<Option<User>> {
        match self {
            MemberRef::Id(id) => tx.user(*id),
            MemberRef::Email(email) => tx.user_by_email(email.as_str()),
            MemberRef::Number(number) => tx.user_by_number(*number),
            MemberRef::Username(name) => tx.user_by_username(&name.trim().to_lowercase()),
        }
    }

    /// The member it names in `org` (404 `member_not_found` otherwise).
    pub(super) fn member(&self, tx: &mut dyn ReadTx, org: OrgId) -> Result<Member> {
        let user = match self {
            MemberRef::Id(id) => *id,
            other => {
                other
                    .account(tx)?
                    .ok_or_else(DomainError::member_not_found)?
                    .id
            }
        };
        tx.member(org, user)?
            .ok_or_else(DomainError::member_not_found)
    }
}

/// How a surface treats owners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerPolicy {
    /// Owners are managed by the owner rules (the Tenant API, the console).
    Manage,
    /// Owners are shown as admins: asking an owner to be `admin` leaves
    /// them as they are (the Ango-style surface).
    ShownAsAdmin,
    /// Owners cannot be changed or removed, and nobody leaves, through
    /// this surface (the Spice-style surface: an administration API).
    Refuse,
}

/// What adding someone who is already a member does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMember {
    /// Give them the requested role (409 `already_member` if they hold it).
    ChangeRole,
    /// 409 `already_member`.
    Refuse,
}

/// Whom to add, as what.
#[derive(Debug, Clone)]
pub struct NewMember<'a> {
    /// An email address (someone without a verified account is invited)
    /// or a username (who must have a verified account).
    pub who: MemberRef,
    pub role: OrgRole,
    pub labels: Vec<String>,
    /// The note in the invitation email, when one is sent.
    pub message: Option<&'a str>,
    /// Projects to put the person in (or in the invitation).
    pub projects: &'a [(ProjectId, ProjectRole)],
    pub if_member: IfMember,
}

impl NewMember<'static> {
    /// Adds (or invites) an address with a role, nothing else: the Tenant
    /// API's add without a message or projects.
    pub fn by_email(email: &str, role: OrgRole) -> Result<Self> {
        Ok(Self {
            who: MemberRef::email(email)?,
            role,
            labels: Vec::new(),
            message: None,
            projects: &[],
            if_member: IfMember::ChangeRole,
        })
    }
}

/// One address of a bulk invitation: who, as what, into which projects.
pub type Invitee = (MemberRef, OrgRole, Vec<(ProjectId, ProjectRole)>);

/// What adding did.
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

/// A change to a membership; `None` leaves a part as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberChange {
    pub role: Option<OrgRole>,
    pub labels: Option<Vec<String>>,
}

impl MemberChange {
    pub fn role(role: OrgRole) -> Self {
        Self {
            role: Some(role),
            labels: None,
        }
    }
}

/// What a change did.
#[derive(Debug, Clone)]
pub enum RoleChangeOutcome {
    Updated(Member),
    /// The member already was as asked (no audit event).
    Unchanged(Member),
}

impl RoleChangeOutcome {
    pub fn into_member(self) -> Member {
        match self {
            RoleChangeOutcome::Updated(member) | RoleChangeOutcome::Unchanged(member) => member,
        }
    }
}

/// A base role and labels, parsed from a roles array (the Spice-style
/// surface's one list): the highest base role named is the base role
/// (default `member`); every other string is a label; `owner` cannot be
/// granted this way.
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

    /// The change that sets a member to this set.
    pub fn change(self) -> MemberChange {
        MemberChange {
            role: Some(self.base),
            labels: Some(self.labels),
        }
    }
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

fn refuse_owner(policy: OwnerPolicy, member: &Member, what: &'static str) -> Result<()> {
    if policy == OwnerPolicy::Refuse && member.role == OrgRole::Owner {
        return Err(DomainError::Forbidden(what));
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
        let filter = filter.normalized("q")?;
        let rows = store::read(&**self.store(), |tx| {
            authorize(tx, ctx, org, Action::ListMembers)?;
            tx.list_members(org, &filter, after, page.fetch_limit())
        })?;
        Ok(page.page(rows, |member| member.user.id.to_string()))
    }

    /// Every member of the org, read in one transaction (the surfaces that
    /// answer the whole list at once).
    pub fn all_members(&self, ctx: &Ctx, org: OrgId) -> Result<Vec<Member>> {
        const BATCH: usize = 1000;
        store::read(&**self.store(), |tx| {
            authorize(tx, ctx, org, Action::ListMembers)?;
            let filter = MemberFilter::default();
            let mut all: Vec<Member> = Vec::new();
            loop {
                let after = all.last().map(|m| m.user.id);
                let rows = tx.list_members(org, &filter, after, BATCH)?;
                let done = rows.len() < BATCH;
                all.extend(rows);
                if done {
                    return Ok(all);
                }
            }
        })
    }

    /// One numbered page of members, searched by email, username or name.
    pub fn list_members_by_page(
        &self,
        ctx: &Ctx,
        org: OrgId,
        search: Option<&str>,
        page: PageNumber,
    ) -> Result<Vec<Member>> {
        let filter = MemberFilter {
            query: search.map(str::to_string),
            role: None,
        }
        .normalized("search")?;
        store::read(&**self.store(), |tx| {
            authorize(tx, ctx, org, Action::ListMembers)?;
            if page.is_past_any_data() {
                return Ok(Vec::new());
            }
            tx.list_members_offset(org, &filter, page.offset(), page.limit)
        })
    }

    /// One member (member and up; a guest only itself).
    pub fn get_member(&self, ctx: &Ctx, org: OrgId, who: &MemberRef) -> Result<Member> {
        store::read(&**self.store(), |tx| {
            let grant = authorize(tx, ctx, org, Action::ViewOwnMembership)?;
            let found = who.member(tx, org);
            let own = match (&found, who) {
                (Ok(member), _) => grant.is(member.user.id),
                (Err(_), MemberRef::Id(id)) => grant.is(*id),
                (Err(_), _) => false,
            };
            if !own {
                grant.require(Action::ViewMember)?;
            }
            found
        })
    }

    /// Adds a person: a user with a verified address joins at once (and is
    /// told by email); an address with no verified account, and anyone who
    /// is to become owner without being a member yet, is invited instead.
    /// A username must name a verified account (404 `user_not_found`).
    pub fn add_member(
        &self,
        ctx: &Ctx,
        org: OrgId,
        new: &NewMember<'_>,
    ) -> Result<AddMemberOutcome> {
        let message = InvitationMessage::parse(new.message.unwrap_or_default())?;
        let now = Timestamp::now();
        let outcome = store::write(&**self.store(), |tx| {
            let grant = authorize(tx, ctx, org, Action::AddMember)?;
            self.add_in(tx, ctx, &grant, new, &message, now)
        })?;
        if matches!(
            outcome,
            AddMemberOutcome::Invited { .. } | AddMemberOutcome::Added(_)
        ) {
            self.mail_queued();
        }
        Ok(outcome)
    }

    fn add_in(
        &self,
        tx: &mut dyn Tx,
        ctx: &Ctx,
        grant: &Grant,
        new: &NewMember<'_>,
        message: &InvitationMessage,
        now: Timestamp,
    ) -> Result<AddMemberOutcome> {
        let (org, role) = (grant.org, new.role);
        let found = new.who.account(tx)?;
        let existing = match &found {
            Some(user) => tx.member(grant.org, user.id)?,
            None => None,
        };
        if let Some(existing) = existing {
            return match new.if_member {
                IfMember::ChangeRole if existing.role != role => {
                    let changed = self.change_in(
                        tx,
                        ctx,
                        grant,
                        existing,
                        &MemberChange::role(role),
                        OwnerPolicy::Manage,
                    )?;
                    self.join_projects(tx, org, changed.user.id, new.projects, now)?;
                    Ok(AddMemberOutcome::RoleUpdated(changed))
                }
                IfMember::ChangeRole => Err(DomainError::already_member(format!(
                    "{} is already a member with role {role}",
                    existing.user.email
                ))),
                IfMember::Refuse => Err(DomainError::already_member(format!(
                    "{} is already a member",
                    existing.user.username
                ))),
            };
        }
        // Only an account that proved the address counts as "registered":
        // whoever signed up with someone else's address must not be added
        // in their place. Nobody becomes an owner without saying yes: for a
        // newcomer the owner role is always an invitation they accept.
        check_role_change(grant.role, None, role)?;
        let user = found.filter(|user| user.email_verified && role != OrgRole::Owner);
        let Some(user) = user else {
            let MemberRef::Email(email) = &new.who else {
                // Only an address can be invited: an unknown (or unproven)
                // username answers as unknown.
                return Err(DomainError::user_not_found());
            };
            let invited = self.invite(
                tx,
                ctx,
                grant.role,
                org,
                email,
                role,
                message,
                new.projects,
                now,
            )?;
            return Ok(AddMemberOutcome::Invited {
                invitation: invited.invitation,
                token: invited.token,
                refreshed: invited.refreshed,
            });
        };
        self.check_direct_add_budget(tx, ctx, now)?;
        tx.insert_membership(&Membership {
            org_id: org,
            user_id: user.id,
            role,
            labels: new.labels.clone(),
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
        self.join_projects(tx, org, user.id, new.projects, now)?;
        Ok(AddMemberOutcome::Added(Member {
            user,
            role,
            labels: new.labels.clone(),
            joined_at: now,
        }))
    }

    fn join_projects(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        user: UserId,
        projects: &[(ProjectId, ProjectRole)],
        now: Timestamp,
    ) -> Result<()> {
        for (project, project_role) in projects {
            tx.project(org, *project)?
                .ok_or_else(DomainError::project_not_found)?;
            if tx.project_member(*project, user)?.is_none() {
                tx.insert_project_member(*project, user, *project_role, now)?;
            }
        }
        Ok(())
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

    /// Changes a member's base role and/or labels. Under
    /// `OwnerPolicy::ShownAsAdmin`, asking an owner to be `admin` changes
    /// nothing; under `Refuse`, an owner cannot be changed at all.
    pub fn change_member(
        &self,
        ctx: &Ctx,
        org: OrgId,
        who: &MemberRef,
        change: &MemberChange,
        policy: OwnerPolicy,
    ) -> Result<RoleChangeOutcome> {
        store::write(&**self.store(), |tx| {
            let grant = authorize(tx, ctx, org, Action::ChangeMemberRole)?;
            let existing = who.member(tx, org)?;
            let before = existing.clone();
            let after = self.change_in(tx, ctx, &grant, existing, change, policy)?;
            Ok(if after == before {
                RoleChangeOutcome::Unchanged(after)
            } else {
                RoleChangeOutcome::Updated(after)
            })
        })
    }

    fn change_in(
        &self,
        tx: &mut dyn Tx,
        ctx: &Ctx,
        grant: &Grant,
        existing: Member,
        change: &MemberChange,
        policy: OwnerPolicy,
    ) -> Result<Member> {
        refuse_owner(
            policy,
            &existing,
            "an owner cannot be modified through this API",
        )?;
        let org = grant.org;
        let mut role = change.role.unwrap_or(existing.role);
        if policy == OwnerPolicy::ShownAsAdmin
            && existing.role == OrgRole::Owner
            && role == OrgRole::Admin
        {
            role = OrgRole::Owner;
        }
        let labels = change.labels.as_ref().unwrap_or(&existing.labels);
        if role == existing.role && *labels == existing.labels {
            return Ok(existing);
        }
        let user = existing.user.id;
        let mut summary = format!("{}: {} → {role}", existing.user.email, existing.role);
        if role != existing.role {
            check_role_change(grant.role, Some(existing.role), role)?;
            ensure_not_last_owner(tx, org, existing.role)?;
            tx.update_membership_role(org, user, role)?;
        }
        if *labels != existing.labels {
            tx.update_membership_labels(org, user, labels)?;
            summary.push_str(&format!("; labels [{}]", labels.join(", ")));
        }
        record(
            tx,
            ctx,
            org,
            "member.role_changed",
            user_target(user),
            summary,
        )?;
        Ok(Member {
            role,
            labels: labels.clone(),
            ..existing
        })
    }

    /// Removes a member, or lets the caller leave (remove itself). The
    /// user's project memberships in the org go in the same transaction.
    pub fn remove_member(
        &self,
        ctx: &Ctx,
        org: OrgId,
        who: &MemberRef,
        policy: OwnerPolicy,
    ) -> Result<()> {
        store::write(&**self.store(), |tx| {
            let grant = authorize(tx, ctx, org, Action::Leave)?;
            remove_in(tx, ctx, &grant, who, policy)
        })
    }

    /// Leaves the org.
    pub fn leave_org(&self, ctx: &Ctx, org: OrgId) -> Result<()> {
        let crate::model::Actor::User(me) = ctx.actor else {
            return Err(DomainError::Forbidden("API keys cannot leave an org"));
        };
        self.remove_member(ctx, org, &MemberRef::Id(me), OwnerPolicy::Manage)
    }

    /// Sets the role of several members (each on its own, in its own
    /// transaction), after one check that the caller may change roles at
    /// all; an item that could not be parsed fails on its own.
    pub fn change_members(
        &self,
        ctx: &Ctx,
        org: OrgId,
        items: Vec<Result<(MemberRef, MemberChange)>>,
        policy: OwnerPolicy,
    ) -> Result<Vec<Result<RoleChangeOutcome>>> {
        self.bulk(
            ctx,
            org,
            Action::ChangeMemberRole,
            items,
            |(who, change)| self.change_member(ctx, org, &who, &change, policy),
        )
    }

    /// Removes several members (each on its own); the caller may be among
    /// them (leaving).
    pub fn remove_members(
        &self,
        ctx: &Ctx,
        org: OrgId,
        items: Vec<Result<MemberRef>>,
        policy: OwnerPolicy,
    ) -> Result<Vec<Result<()>>> {
        self.bulk(ctx, org, Action::Leave, items, |who| {
            self.remove_member(ctx, org, &who, policy)
        })
    }

    /// Invites several addresses (each on its own).
    pub fn invite_addresses(
        &self,
        ctx: &Ctx,
        org: OrgId,
        items: Vec<Result<Invitee>>,
    ) -> Result<Vec<Result<Invited>>> {
        self.bulk(ctx, org, Action::Invite, items, |(who, role, projects)| {
            self.invite_address(ctx, org, &who, role, &projects)
        })
    }

    /// Runs a bulk request item by item, each in its own transaction, after
    /// one check that the caller may perform `action` in the org at all: a
    /// caller who may do none of the items gets one answer, not a failure
    /// per item.
    pub(crate) fn bulk<I, T>(
        &self,
        ctx: &Ctx,
        org: OrgId,
        action: Action,
        items: Vec<Result<I>>,
        mut each: impl FnMut(I) -> Result<T>,
    ) -> Result<Vec<Result<T>>> {
        store::read(&**self.store(), |tx| {
            super::authz::authorize_unlocked(tx, ctx, org, action)
        })?;
        Ok(items
            .into_iter()
            .map(|item| item.and_then(&mut each))
            .collect())
    }

    /// Invites an address (registered or not) with project assignments;
    /// refreshes its open invitation if there is one. A current member
    /// cannot be invited.
    pub fn invite_address(
        &self,
        ctx: &Ctx,
        org: OrgId,
        who: &MemberRef,
        role: OrgRole,
        projects: &[(ProjectId, ProjectRole)],
    ) -> Result<Invited> {
        let MemberRef::Email(email) = who else {
            return Err(DomainError::invalid(
                "email",
                "only an address can be invited",
            ));
        };
        let message = InvitationMessage::parse("")?;
        let now = Timestamp::now();
        let invited = store::write(&**self.store(), |tx| {
            let grant = authorize(tx, ctx, org, Action::Invite)?;
            check_role_change(grant.role, None, role)?;
            if let Some(user) = tx.user_by_email(email.as_str())? {
                if tx.membership(org, user.id)?.is_some() {
                    return Err(DomainError::already_member(format!(
                        "{email} is already a member"
                    )));
                }
            }
            self.invite(
                tx, ctx, grant.role, org, email, role, &message, projects, now,
            )
        })?;
        self.mail_queued();
        Ok(invited)
    }
}

/// Removes the member `who` names (or lets the caller leave) inside the
/// caller's transaction. A caller who may not remove others learns nothing
/// about who is a member: it is refused before the lookup's answer counts.
fn remove_in(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    grant: &Grant,
    who: &MemberRef,
    policy: OwnerPolicy,
) -> Result<()> {
    let org = grant.org;
    let found = who.member(tx, org);
    let leaving = policy != OwnerPolicy::Refuse
        && match (&found, who) {
            (Ok(member), _) => grant.is(member.user.id),
            (Err(_), MemberRef::Id(id)) => grant.is(*id),
            (Err(_), _) => false,
        };
    if !leaving {
        grant.require(Action::RemoveMember)?;
    }
    let existing = found?;
    refuse_owner(
        policy,
        &existing,
        "an owner cannot be removed through this API",
    )?;
    if !leaving {
        check_removal(grant.role, existing.role)?;
    }
    ensure_not_last_owner(tx, org, existing.role)?;
    let user = existing.user.id;
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
