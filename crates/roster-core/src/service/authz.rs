//! Who may do what in an org: the one authorisation check of the product.
//!
//! Every service command and query that acts in an org asks
//! [`authorize`] (or [`authorize_project`]) with the [`Action`] it
//! performs, inside its transaction, before it reads or changes anything
//! else. The answer is a [`Grant`]: proof that the caller may, carrying the
//! caller's role so that the rules about *targets* (only an owner touches
//! an owner, nobody acts above their own role: [`check_role_change`],
//! [`check_removal`]) can be applied by the command. A page renders its
//! buttons from the same grant ([`Grant::allows`]), so the console offers
//! exactly what the core would accept.
//!
//! The table in [`Action::rule`] is the whole policy:
//! - a person acts with their membership's role; a person who is not a
//!   member learns nothing (the org "does not exist" for them, 404);
//! - an API key acts as an admin of its own org only, within its scopes,
//!   never with owner powers, and only while the person who created it is
//!   still an active admin or owner there; some actions are for people only;
//! - an org-scoped access token acts only in its own org;
//! - some actions need a verified email address (adding or inviting people,
//!   creating keys), so whoever signed up with someone else's address gets
//!   nothing out of it.
//!
//! Custom roles and a permission-check API plug in here: they are more
//! rows of the same table.

use crate::error::{DomainError, Result};
use crate::ids::{OrgId, ProjectId, UserId};
use crate::model::{Actor, Project};
use crate::role::{OrgRole, ProjectRole};
use crate::scope::Scope;
use crate::store::prelude::*;
use crate::types::ResourceStatus;

use super::{Ctx, RouteOrg};

/// Everything a caller may be allowed to do in an org.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    ViewOrg,
    UpdateOrg,
    DeleteOrg,
    TransferOwnership,
    /// Ask for an access token limited to this org.
    IssueOrgToken,
    ListMembers,
    /// Read another member's membership.
    ViewMember,
    /// Read one's own membership.
    ViewOwnMembership,
    AddMember,
    ChangeMemberRole,
    /// Replace a member's labels (the free strings beside the base role).
    SetMemberLabels,
    RemoveMember,
    /// Remove oneself.
    Leave,
    ListInvitations,
    /// Invite an address, or send an invitation again.
    Invite,
    RevokeInvitation,
    ListProjects,
    CreateProject,
    DeleteProject,
    /// Read a project and its members.
    ViewProject,
    /// Change a project and its members.
    ManageProject,
    /// Remove oneself from a project.
    LeaveProject,
    ReadAudit,
    ListApiKeys,
    CreateApiKey,
    RevokeApiKey,
}

/// Who may perform an action, as a row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The least org role a person needs (API keys count as admins).
    pub least: OrgRole,
    /// For project actions: the least project role that also suffices,
    /// whatever the org role (a project admin manages its own project).
    pub or_project: Option<ProjectRole>,
    /// The scope an API key needs; `None`: people only.
    pub key_scope: Option<Scope>,
    /// The caller's email address must be verified.
    pub verified_email: bool,
    /// Whether the action changes the org (it then locks the org first, so
    /// that concurrent changes to one org queue).
    pub changes: bool,
    /// What a caller who may not is told (403).
    pub refusal: &'static str,
}

impl Action {
    pub const ALL: [Action; 26] = [
        Action::ViewOrg,
        Action::UpdateOrg,
        Action::DeleteOrg,
        Action::TransferOwnership,
        Action::IssueOrgToken,
        Action::ListMembers,
        Action::ViewMember,
        Action::ViewOwnMembership,
        Action::AddMember,
        Action::ChangeMemberRole,
        Action::SetMemberLabels,
        Action::RemoveMember,
        Action::Leave,
        Action::ListInvitations,
        Action::Invite,
        Action::RevokeInvitation,
        Action::ListProjects,
        Action::CreateProject,
        Action::DeleteProject,
        Action::ViewProject,
        Action::ManageProject,
        Action::LeaveProject,
        Action::ReadAudit,
        Action::ListApiKeys,
        Action::CreateApiKey,
        Action::RevokeApiKey,
    ];

    /// The table: one row per action.
    pub const fn rule(self) -> Rule {
        use OrgRole::{Admin, Guest, Member, Owner};
        use Scope::*;
        const fn row(least: OrgRole, key_scope: Option<Scope>, refusal: &'static str) -> Rule {
            Rule {
                least,
                or_project: None,
                key_scope,
                verified_email: false,
                changes: false,
                refusal,
            }
        }
        const fn change(least: OrgRole, key_scope: Option<Scope>, refusal: &'static str) -> Rule {
            Rule {
                changes: true,
                ..row(least, key_scope, refusal)
            }
        }
        const fn verified(rule: Rule) -> Rule {
            Rule {
                verified_email: true,
                ..rule
            }
        }
        const fn or_project(rule: Rule, role: ProjectRole) -> Rule {
            Rule {
                or_project: Some(role),
                ..rule
            }
        }
        const ADMINS: &str = "only admins and owners may do this";
        match self {
            Action::ViewOrg => row(Guest, Some(OrgRead), ADMINS),
            Action::UpdateOrg => change(
                Admin,
                Some(OrgWrite),
                "only admins and owners may update the organization",
            ),
            Action::DeleteOrg => change(
                Owner,
                Some(OrgWrite),
                "only an owner may delete the organization",
            ),
            Action::TransferOwnership => {
                change(Owner, None, "only an owner may transfer ownership")
            }
            Action::IssueOrgToken => row(
                Guest,
                None,
                "only a logged-in user can have an org access token",
            ),
            Action::ListMembers => row(Member, Some(MembersRead), "guests cannot list members"),
            Action::ViewMember => row(
                Member,
                Some(MembersRead),
                "guests can see only their own membership",
            ),
            Action::ViewOwnMembership => row(Guest, Some(MembersRead), ADMINS),
            Action::AddMember => verified(change(
                Admin,
                Some(MembersWrite),
                "only admins and owners may add members",
            )),
            Action::ChangeMemberRole | Action::SetMemberLabels => change(
                Admin,
                Some(MembersWrite),
                "only admins and owners may change roles",
            ),
            Action::RemoveMember => change(
                Admin,
                Some(MembersWrite),
                "only admins and owners may remove members",
            ),
            Action::Leave => change(Guest, Some(MembersWrite), ADMINS),
            Action::ListInvitations => row(
                Admin,
                Some(InvitationsRead),
                "only admins and owners may see invitations",
            ),
            Action::Invite => verified(change(
                Admin,
                Some(InvitationsWrite),
                "only admins and owners may manage members",
            )),
            Action::RevokeInvitation => change(
                Admin,
                Some(InvitationsWrite),
                "only admins and owners may revoke invitations",
            ),
            Action::ListProjects => row(Member, Some(ProjectsRead), "guests cannot list projects"),
            Action::CreateProject => change(
                Admin,
                Some(ProjectsWrite),
                "only admins and owners may create projects",
            ),
            Action::DeleteProject => change(
                Admin,
                Some(ProjectsWrite),
                "only admins and owners may delete projects",
            ),
            Action::ViewProject => or_project(
                row(
                    Member,
                    Some(ProjectsRead),
                    "guests see only the projects they belong to",
                ),
                ProjectRole::Member,
            ),
            Action::ManageProject => or_project(
                change(
                    Admin,
                    Some(ProjectsWrite),
                    "only org admins and project admins may manage this project",
                ),
                ProjectRole::Admin,
            ),
            Action::LeaveProject => or_project(
                change(
                    Member,
                    Some(ProjectsWrite),
                    "guests see only the projects they belong to",
                ),
                ProjectRole::Member,
            ),
            Action::ReadAudit => row(
                Admin,
                Some(AuditRead),
                "only admins and owners may read the audit log",
            ),
            Action::ListApiKeys => row(Admin, None, "API keys cannot manage API keys"),
            Action::CreateApiKey => {
                verified(change(Admin, None, "API keys cannot manage API keys"))
            }
            Action::RevokeApiKey => change(Admin, None, "API keys cannot manage API keys"),
        }
    }

    /// What a person who lacks the role is told, where it differs from
    /// what an API key is told (the people-only actions).
    const fn role_refusal(self) -> &'static str {
        match self {
            Action::ListApiKeys => "only admins and owners may see API keys",
            Action::CreateApiKey => "only admins and owners may create API keys",
            Action::RevokeApiKey => "only admins and owners may revoke API keys",
            other => other.rule().refusal,
        }
    }
}

/// How the caller holds its powers in the org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// A person, by membership.
    Person(UserId),
    /// An API key of the org, with its scopes.
    Key(Vec<Scope>),
}

/// Proof that the caller may act in an org, with the caller's powers there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub org: OrgId,
    /// The caller's role (an API key acts as an admin).
    pub role: OrgRole,
    /// The caller's role in the project the grant is about, if any.
    pub project_role: Option<ProjectRole>,
    pub holder: Holder,
}

impl Grant {
    /// Whether this caller may perform `action` (the table, without
    /// touching the database): what a page uses to show only the buttons
    /// the core would accept.
    pub fn allows(&self, action: Action) -> bool {
        self.require(action).is_ok()
    }

    /// Refuses an action this grant does not cover (403, or 403
    /// `insufficient_scope` for a key lacking the scope): for a command
    /// that decides between actions after a lookup (removing someone else
    /// or leaving).
    pub fn require(&self, action: Action) -> Result<()> {
        let rule = action.rule();
        if let Holder::Key(scopes) = &self.holder {
            let Some(scope) = rule.key_scope else {
                return Err(DomainError::Forbidden(rule.refusal));
            };
            if !scopes.contains(&scope) {
                return Err(DomainError::insufficient_scope(
                    "this API key lacks the scope this action needs",
                ));
            }
        }
        let by_project = rule
            .or_project
            .is_some_and(|least| self.project_role.is_some_and(|held| held >= least));
        if self.role >= rule.least || by_project {
            Ok(())
        } else {
            Err(DomainError::Forbidden(action.role_refusal()))
        }
    }

    /// Whether the caller may change the role of, or remove, a member
    /// holding `role` (for a page's controls; the command checks again).
    pub fn may_manage(&self, role: OrgRole) -> bool {
        self.allows(Action::ChangeMemberRole)
            && check_role_change(self.role, Some(role), role).is_ok()
    }

    /// The roles the caller may give someone (for a role picker).
    pub fn grantable_roles(&self) -> Vec<OrgRole> {
        OrgRole::ALL
            .into_iter()
            .filter(|role| check_role_change(self.role, None, *role).is_ok())
            .collect()
    }

    /// Whether the caller is this person.
    pub fn is(&self, user: UserId) -> bool {
        self.holder == Holder::Person(user)
    }
}

/// The one authorisation check: may the caller of `ctx` perform `action`
/// in `org`? Runs inside the caller's transaction; an action that changes
/// the org locks it first. A caller who is not a member (or a key of
/// another org) gets 404 `org_not_found`, whatever the action.
pub fn authorize(tx: &mut dyn ReadTx, ctx: &Ctx, org: OrgId, action: Action) -> Result<Grant> {
    let grant = holder(tx, ctx, org, action.rule().changes)?;
    grant.require(action)?;
    if action.rule().verified_email {
        require_verified_email(tx, ctx)?;
    }
    Ok(grant)
}

/// [`authorize`] for an action on one project of the org (which must
/// exist: 404 `project_not_found`); a project role counts where the table
/// says so.
pub fn authorize_project(
    tx: &mut dyn ReadTx,
    ctx: &Ctx,
    org: OrgId,
    project: ProjectId,
    action: Action,
) -> Result<(Grant, Project)> {
    let mut grant = holder(tx, ctx, org, action.rule().changes)?;
    let found = tx
        .project(org, project)?
        .ok_or_else(DomainError::project_not_found)?;
    if let Holder::Person(user) = grant.holder {
        if action.rule().or_project.is_some() {
            grant.project_role = tx.project_member(project, user)?.map(|m| m.role);
        }
    }
    grant.require(action)?;
    Ok((grant, found))
}

/// [`authorize`] without the org lock or the email check, in a read
/// transaction: whether the caller may perform `action` at all, before a
/// bulk request runs item by item (each item then authorizes itself).
pub(crate) fn authorize_unlocked(
    tx: &mut dyn ReadTx,
    ctx: &Ctx,
    org: OrgId,
    action: Action,
) -> Result<Grant> {
    let grant = holder(tx, ctx, org, false)?;
    grant.require(action)?;
    Ok(grant)
}

/// Who the caller is in `org`, before the table is asked; `lock` takes
/// the org's lock first (for a change).
fn holder(tx: &mut dyn ReadTx, ctx: &Ctx, org: OrgId, lock: bool) -> Result<Grant> {
    if lock {
        tx.lock_org(org)?.ok_or_else(DomainError::org_not_found)?;
    }
    match ctx.actor {
        Actor::User(_) if ctx.org_scope.is_some_and(|scoped| scoped != org) => {
            Err(DomainError::org_not_found())
        }
        Actor::User(user) => {
            let role = tx
                .membership(org, user)?
                .map(|m| m.role)
                .ok_or_else(DomainError::org_not_found)?;
            Ok(Grant {
                org,
                role,
                project_role: None,
                holder: Holder::Person(user),
            })
        }
        Actor::ApiKey(_) => {
            let key = ctx.api_key.as_ref().ok_or(DomainError::Unauthenticated)?;
            if key.org != org || (!lock && tx.org(org)?.is_none()) {
                return Err(DomainError::org_not_found());
            }
            if !key_creator_still_admin(tx, org, key.creator)? {
                return Err(DomainError::Unauthenticated);
            }
            Ok(Grant {
                org,
                role: OrgRole::Admin,
                project_role: None,
                holder: Holder::Key(key.scopes.clone()),
            })
        }
    }
}

/// A key's powers are bounded by its creator's current role: once the
/// person who created it has left the org, is demoted below admin, or is
/// no longer active, the key stops working (it acted with their
/// authority, which they no longer hold). A key with no recorded creator
/// (rows from before keys recorded one) keeps working. Read inside the
/// caller's transaction, so it sees the membership as of that moment.
pub(crate) fn key_creator_still_admin(
    tx: &mut dyn ReadTx,
    org: OrgId,
    creator: Option<UserId>,
) -> Result<bool> {
    let Some(creator) = creator else {
        return Ok(true);
    };
    let role = tx.membership(org, creator)?.map(|m| m.role);
    let active = tx
        .user(creator)?
        .is_some_and(|u| u.status == ResourceStatus::Active);
    Ok(active && role.is_some_and(|r| r >= OrgRole::Admin))
}

/// Refuses a person whose email address is not verified yet: until the
/// address is proven, the account may verify, ask for a new link, log out
/// and read itself, but not create orgs, add or invite people, or create
/// API keys (403 `email_not_verified`). API keys pass: the person who
/// created one had a verified address then.
pub(crate) fn require_verified_email(tx: &mut dyn ReadTx, ctx: &Ctx) -> Result<()> {
    let Actor::User(user) = ctx.actor else {
        return Ok(());
    };
    match tx.user(user)? {
        Some(account) if account.email_verified => Ok(()),
        Some(_) => Err(DomainError::email_not_verified()),
        None => Err(DomainError::Unauthenticated),
    }
}

impl Ctx {
    /// The one check of org-scoped access tokens at the edge: such a token
    /// works only on endpoints about its own org; anything else is refused
    /// with 403 `token_scope`, whether or not the other org exists. Other
    /// credentials pass (the table above applies in the services).
    pub fn admit(&self, route: RouteOrg) -> Result<()> {
        let Some(scoped) = self.org_scope else {
            return Ok(());
        };
        match route {
            RouteOrg::Credential => Ok(()),
            RouteOrg::Named(Some(org)) if org == scoped => Ok(()),
            RouteOrg::Named(_) | RouteOrg::Unnamed => Err(DomainError::token_scope()),
        }
    }
}

/// May a caller holding `actor` change a membership from `current` to `new`
/// (or grant `new` to a newcomer, with `current = None`)? Only owners touch
/// the owner role, and nobody acts on a role above their own.
pub fn check_role_change(
    actor: OrgRole,
    current: Option<OrgRole>,
    new: OrgRole,
) -> Result<(), DomainError> {
    if actor < OrgRole::Admin {
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

/// May a caller holding `actor` remove a member holding `target`?
/// (Leaving, i.e. removing oneself, is its own action.)
pub fn check_removal(actor: OrgRole, target: OrgRole) -> Result<(), DomainError> {
    if actor < OrgRole::Admin {
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

    /// Who may do what, one line per action: the callers allowed, from
    /// owner, admin, member, guest (people), and `key` (an API key holding
    /// the action's scope). `proj-admin` and `proj-member` are guests of
    /// the org holding that project role: what a guest may, they may too.
    const TABLE: &[(Action, &str)] = &[
        (Action::ViewOrg, "owner admin member guest key"),
        (Action::UpdateOrg, "owner admin key"),
        (Action::DeleteOrg, "owner"),
        (Action::TransferOwnership, "owner"),
        (Action::IssueOrgToken, "owner admin member guest"),
        (Action::ListMembers, "owner admin member key"),
        (Action::ViewMember, "owner admin member key"),
        (Action::ViewOwnMembership, "owner admin member guest key"),
        (Action::AddMember, "owner admin key"),
        (Action::ChangeMemberRole, "owner admin key"),
        (Action::SetMemberLabels, "owner admin key"),
        (Action::RemoveMember, "owner admin key"),
        (Action::Leave, "owner admin member guest key"),
        (Action::ListInvitations, "owner admin key"),
        (Action::Invite, "owner admin key"),
        (Action::RevokeInvitation, "owner admin key"),
        (Action::ListProjects, "owner admin member key"),
        (Action::CreateProject, "owner admin key"),
        (Action::DeleteProject, "owner admin key"),
        (
            Action::ViewProject,
            "owner admin member key proj-admin proj-member",
        ),
        (Action::ManageProject, "owner admin key proj-admin"),
        (
            Action::LeaveProject,
            "owner admin member key proj-admin proj-member",
        ),
        (Action::ReadAudit, "owner admin key"),
        (Action::ListApiKeys, "owner admin"),
        (Action::CreateApiKey, "owner admin"),
        (Action::RevokeApiKey, "owner admin"),
    ];

    fn person(role: OrgRole, project_role: Option<ProjectRole>) -> Grant {
        Grant {
            org: OrgId::new(),
            role,
            project_role,
            holder: Holder::Person(UserId::new()),
        }
    }

    fn callers(action: Action) -> Vec<(&'static str, Grant)> {
        let key = |scopes: Vec<Scope>| Grant {
            org: OrgId::new(),
            role: OrgRole::Admin,
            project_role: None,
            holder: Holder::Key(scopes),
        };
        vec![
            ("owner", person(OrgRole::Owner, None)),
            ("admin", person(OrgRole::Admin, None)),
            ("member", person(OrgRole::Member, None)),
            ("guest", person(OrgRole::Guest, None)),
            (
                "key",
                key(action.rule().key_scope.map(|s| vec![s]).unwrap_or_default()),
            ),
            (
                "proj-admin",
                person(OrgRole::Guest, Some(ProjectRole::Admin)),
            ),
            (
                "proj-member",
                person(OrgRole::Guest, Some(ProjectRole::Member)),
            ),
        ]
    }

    #[test]
    fn the_table_says_who_may_do_what() {
        assert_eq!(TABLE.len(), Action::ALL.len(), "every action has a line");
        for (action, allowed) in TABLE {
            let allowed: Vec<&str> = allowed.split_whitespace().collect();
            for (name, grant) in callers(*action) {
                let as_guest = name.starts_with("proj-") && allowed.contains(&"guest");
                assert_eq!(
                    grant.allows(*action),
                    allowed.contains(&name) || as_guest,
                    "{action:?} for {name}"
                );
            }
        }
    }

    #[test]
    fn a_key_without_the_scope_is_told_so_and_people_only_actions_refuse_keys() {
        let key = Grant {
            org: OrgId::new(),
            role: OrgRole::Admin,
            project_role: None,
            holder: Holder::Key(vec![Scope::MembersRead]),
        };
        for action in Action::ALL {
            let rule = action.rule();
            match (rule.key_scope, key.require(action)) {
                (Some(Scope::MembersRead), result) => assert!(result.is_ok(), "{action:?}"),
                (Some(_), Err(DomainError::Denied { code, .. })) => {
                    assert_eq!(code, "insufficient_scope", "{action:?}")
                }
                (None, Err(DomainError::Forbidden(_))) => {}
                (_, other) => panic!("{action:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn only_owners_touch_owners_and_nobody_acts_above_their_role() {
        use OrgRole::*;
        assert!(check_role_change(Admin, Some(Member), Admin).is_ok());
        assert!(check_role_change(Admin, None, Owner).is_err());
        assert!(check_role_change(Admin, Some(Owner), Member).is_err());
        assert!(check_role_change(Member, Some(Guest), Member).is_err());
        assert!(check_role_change(Owner, Some(Owner), Admin).is_ok());
        assert!(check_removal(Admin, Member).is_ok());
        assert!(check_removal(Admin, Owner).is_err());
        assert!(check_removal(Owner, Owner).is_ok());
        assert!(check_removal(Member, Guest).is_err());
        let owner = person(Owner, None);
        assert!(owner.grantable_roles().contains(&Owner));
        assert_eq!(
            person(Admin, None).grantable_roles(),
            vec![Admin, Member, Guest]
        );
        assert!(person(Member, None).grantable_roles().is_empty());
        assert!(person(Admin, None).may_manage(Admin));
        assert!(!person(Admin, None).may_manage(Owner));
        assert!(!person(Member, None).may_manage(Guest));
    }
}
