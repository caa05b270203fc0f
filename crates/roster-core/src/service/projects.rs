//! Projects and their members. Org admins and owners act as admins of
//! every project of their org; a project admin manages its own project.

use crate::error::{DomainError, Result};
use crate::ids::{OrgId, ProjectId, UserId};
use crate::model::{Actor, Project, ProjectMember};
use crate::pagination::{Page, PageRequest};
use crate::role::{OrgRole, ProjectRole};
use crate::scope::Scope;
use crate::store::{self, Tx};
use crate::time::Timestamp;
use crate::types::{Description, ProjectName, ResourceStatus};

use super::{caller_role, lock_for_change, record, Ctx, Roster, Target};

/// A change to a project; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProjectUpdate<'a> {
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub status: Option<&'a str>,
}

/// What the caller may do with one project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProjectAccess {
    /// Org admin/owner, or project admin.
    Manage,
    /// Org member, or project member.
    View,
}

fn project_target(project: ProjectId) -> Target<'static> {
    Target {
        kind: "project",
        id: project.to_string(),
    }
}

/// The caller's access to a project of `org` (which must exist in it).
fn project_access(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    org: OrgId,
    project: ProjectId,
    scope: Scope,
) -> Result<(Project, ProjectAccess, OrgRole)> {
    let org_role = caller_role(tx, ctx, org, scope)?;
    let found = tx
        .project(org, project)?
        .ok_or_else(DomainError::project_not_found)?;
    let project_role = match ctx.actor {
        Actor::User(user) => tx.project_member(project, user)?.map(|m| m.role),
        Actor::ApiKey(_) => None,
    };
    let access = if org_role.can_administer() || project_role == Some(ProjectRole::Admin) {
        ProjectAccess::Manage
    } else if org_role.can_view_directory() || project_role.is_some() {
        ProjectAccess::View
    } else {
        return Err(DomainError::Forbidden(
            "guests see only the projects they belong to",
        ));
    };
    Ok((found, access, org_role))
}

fn require_manage(access: ProjectAccess) -> Result<()> {
    match access {
        ProjectAccess::Manage => Ok(()),
        ProjectAccess::View => Err(DomainError::Forbidden(
            "only org admins and project admins may manage this project",
        )),
    }
}

impl Roster {
    /// The org's projects (member and up).
    pub fn list_projects(
        &self,
        ctx: &Ctx,
        org: OrgId,
        page: &PageRequest,
    ) -> Result<Page<Project>> {
        let after = page.after_id(ProjectId::parse)?;
        let rows = store::read(&**self.store(), |tx| {
            if !caller_role(tx, ctx, org, Scope::ProjectsRead)?.can_view_directory() {
                return Err(DomainError::Forbidden("guests cannot list projects"));
            }
            tx.list_projects(org, after, page.fetch_limit())
        })?;
        Ok(page.page(rows, |project| project.id.to_string()))
    }

    /// Creates a project (org admin and up).
    pub fn create_project(
        &self,
        ctx: &Ctx,
        org: OrgId,
        name: &str,
        description: Option<&str>,
    ) -> Result<Project> {
        let name = ProjectName::parse(name)?;
        let description = Description::parse(description.unwrap_or_default())?;
        let now = Timestamp::now();
        store::write(&**self.store(), |tx| {
            if !lock_for_change(tx, ctx, org, Scope::ProjectsWrite)?.can_administer() {
                return Err(DomainError::Forbidden(
                    "only admins and owners may create projects",
                ));
            }
            let project = Project {
                id: ProjectId::new(),
                org_id: org,
                name: name.as_str().to_string(),
                description: description.as_str().to_string(),
                status: ResourceStatus::Active,
                created_at: now,
                updated_at: now,
            };
            tx.insert_project(&project)?;
            record(
                tx,
                ctx,
                org,
                "project.created",
                project_target(project.id),
                format!("created project {:?}", project.name),
            )?;
            Ok(project)
        })
    }

    /// One project (org member and up, or a member of the project).
    pub fn get_project(&self, ctx: &Ctx, org: OrgId, project: ProjectId) -> Result<Project> {
        store::read(&**self.store(), |tx| {
            project_access(tx, ctx, org, project, Scope::ProjectsRead).map(|(found, _, _)| found)
        })
    }

    /// One project and whether the caller may manage it (org admin and
    /// up, or project admin), so a page can offer only what the caller may
    /// do; every change still checks again.
    pub fn project_with_access(
        &self,
        ctx: &Ctx,
        org: OrgId,
        project: ProjectId,
    ) -> Result<(Project, bool)> {
        store::read(&**self.store(), |tx| {
            project_access(tx, ctx, org, project, Scope::ProjectsRead)
                .map(|(found, access, _)| (found, access == ProjectAccess::Manage))
        })
    }

    /// Updates a project (org admin and up, or project admin).
    pub fn update_project(
        &self,
        ctx: &Ctx,
        org: OrgId,
        project: ProjectId,
        update: ProjectUpdate<'_>,
    ) -> Result<Project> {
        if update.name.is_none() && update.description.is_none() && update.status.is_none() {
            return Err(DomainError::invalid(
                "body",
                "give at least one of name, description or status",
            ));
        }
        let name = update.name.map(ProjectName::parse).transpose()?;
        let description = update.description.map(Description::parse).transpose()?;
        let status = update.status.map(ResourceStatus::parse).transpose()?;
        store::write(&**self.store(), |tx| {
            lock_for_change(tx, ctx, org, Scope::ProjectsWrite)?;
            let (mut current, access, _) =
                project_access(tx, ctx, org, project, Scope::ProjectsWrite)?;
            require_manage(access)?;
            let before = current.clone();
            if let Some(name) = &name {
                current.name = name.as_str().to_string();
            }
            if let Some(description) = &description {
                current.description = description.as_str().to_string();
            }
            if let Some(status) = status {
                current.status = status;
            }
            if current == before {
                return Ok(current);
            }
            current.updated_at = Timestamp::now();
            tx.update_project(&current)?;
            record(
                tx,
                ctx,
                org,
                "project.updated",
                project_target(project),
                format!("updated project {:?}", current.name),
            )?;
            Ok(current)
        })
    }

    /// Deletes a project and its memberships (org admin and up).
    pub fn delete_project(&self, ctx: &Ctx, org: OrgId, project: ProjectId) -> Result<()> {
        store::write(&**self.store(), |tx| {
            let role = lock_for_change(tx, ctx, org, Scope::ProjectsWrite)?;
            let found = tx
                .project(org, project)?
                .ok_or_else(DomainError::project_not_found)?;
            if !role.can_administer() {
                return Err(DomainError::Forbidden(
                    "only admins and owners may delete projects",
                ));
            }
            tx.delete_project(org, project)?;
            record(
                tx,
                ctx,
                org,
                "project.deleted",
                project_target(project),
                format!("deleted project {:?}", found.name),
            )
        })
    }

    /// The project's members (anyone who may view the project).
    pub fn list_project_members(
        &self,
        ctx: &Ctx,
        org: OrgId,
        project: ProjectId,
        page: &PageRequest,
    ) -> Result<Page<ProjectMember>> {
        let after = page.after_id(UserId::parse)?;
        let rows = store::read(&**self.store(), |tx| {
            project_access(tx, ctx, org, project, Scope::ProjectsRead)?;
            tx.list_project_members(project, after, page.fetch_limit())
        })?;
        Ok(page.page(rows, |member| member.user_id.to_string()))
    }

    /// Adds an org member to a project, or changes its project role.
    /// Answers the membership and whether anything changed role (`false`
    /// means it was newly added).
    pub fn add_project_member(
        &self,
        ctx: &Ctx,
        org: OrgId,
        project: ProjectId,
        user: UserId,
        role: ProjectRole,
    ) -> Result<(ProjectMember, bool)> {
        let now = Timestamp::now();
        store::write(&**self.store(), |tx| {
            lock_for_change(tx, ctx, org, Scope::ProjectsWrite)?;
            let (_, access, _) = project_access(tx, ctx, org, project, Scope::ProjectsWrite)?;
            require_manage(access)?;
            let member = tx
                .member(org, user)?
                .ok_or_else(DomainError::member_not_found)?;
            match tx.project_member(project, user)? {
                Some(existing) if existing.role == role => {
                    Err(DomainError::already_project_member(format!(
                        "{} is already a {role} of this project",
                        member.user.email
                    )))
                }
                Some(existing) => {
                    tx.update_project_member_role(project, user, role)?;
                    record(
                        tx,
                        ctx,
                        org,
                        "project_member.role_changed",
                        project_target(project),
                        format!("{}: {} → {role}", member.user.email, existing.role),
                    )?;
                    Ok((ProjectMember { role, ..existing }, true))
                }
                None => {
                    tx.insert_project_member(project, user, role, now)?;
                    record(
                        tx,
                        ctx,
                        org,
                        "project_member.added",
                        project_target(project),
                        format!("added {} as {role}", member.user.email),
                    )?;
                    let added = ProjectMember {
                        project_id: project,
                        user_id: user,
                        email: member.user.email,
                        role,
                        created_at: now,
                    };
                    Ok((added, false))
                }
            }
        })
    }

    /// Removes a project member (managers of the project, or the member itself).
    pub fn remove_project_member(
        &self,
        ctx: &Ctx,
        org: OrgId,
        project: ProjectId,
        user: UserId,
    ) -> Result<()> {
        store::write(&**self.store(), |tx| {
            lock_for_change(tx, ctx, org, Scope::ProjectsWrite)?;
            let (_, access, _) = project_access(tx, ctx, org, project, Scope::ProjectsWrite)?;
            if ctx.actor != Actor::User(user) {
                require_manage(access)?;
            }
            let existing = tx
                .project_member(project, user)?
                .ok_or_else(DomainError::member_not_found)?;
            tx.delete_project_member(project, user)?;
            record(
                tx,
                ctx,
                org,
                "project_member.removed",
                project_target(project),
                format!("removed {} from the project", existing.email),
            )
        })
    }
}
