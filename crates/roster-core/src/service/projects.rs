//! Projects and their members. Org admins and owners act as admins of
//! every project of their org; a project admin manages its own project.

use crate::error::{DomainError, Result};
use crate::ids::{OrgId, ProjectId, UserId};
use crate::model::{Actor, Project, ProjectMember};
use crate::pagination::{Page, PageRequest};
use crate::role::ProjectRole;
use crate::store;
use crate::time::Timestamp;
use crate::types::{Description, ProjectName, ResourceStatus};

use super::authz::{authorize, authorize_project, Action};
use super::{record, Ctx, MemberRef, Roster, Target};

/// A change to a project; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProjectUpdate<'a> {
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub status: Option<&'a str>,
}

fn project_target(project: ProjectId) -> Target<'static> {
    Target {
        kind: "project",
        id: project.to_string(),
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
            authorize(tx, ctx, org, Action::ListProjects)?;
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
            authorize(tx, ctx, org, Action::CreateProject)?;
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
            authorize_project(tx, ctx, org, project, Action::ViewProject).map(|(_, found)| found)
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
            let (_, mut current) = authorize_project(tx, ctx, org, project, Action::ManageProject)?;
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
            let (_, found) = authorize_project(tx, ctx, org, project, Action::DeleteProject)?;
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
            authorize_project(tx, ctx, org, project, Action::ViewProject)?;
            tx.list_project_members(project, after, page.fetch_limit())
        })?;
        Ok(page.page(rows, |member| member.user_id.to_string()))
    }

    /// A project, whether the caller may manage it, and a page of its
    /// members (the console's project page), read in one transaction.
    pub fn project_view(
        &self,
        ctx: &Ctx,
        org: OrgId,
        project: ProjectId,
        page: &PageRequest,
    ) -> Result<(Project, bool, Page<ProjectMember>)> {
        let after = page.after_id(UserId::parse)?;
        let (found, manage, rows) = store::read(&**self.store(), |tx| {
            let (grant, found) = authorize_project(tx, ctx, org, project, Action::ViewProject)?;
            let rows = tx.list_project_members(project, after, page.fetch_limit())?;
            Ok((found, grant.allows(Action::ManageProject), rows))
        })?;
        let members = page.page(rows, |member| member.user_id.to_string());
        Ok((found, manage, members))
    }

    /// A project and one of its members (anyone who may view the project).
    pub fn get_project_member(
        &self,
        ctx: &Ctx,
        org: OrgId,
        project: ProjectId,
        user: UserId,
    ) -> Result<(Project, ProjectMember)> {
        store::read(&**self.store(), |tx| {
            let (_, found) = authorize_project(tx, ctx, org, project, Action::ViewProject)?;
            let member = tx
                .project_member(project, user)?
                .ok_or_else(DomainError::member_not_found)?;
            Ok((found, member))
        })
    }

    /// Adds an org member to a project, or changes its project role.
    /// Answers the membership and whether anything changed role (`false`
    /// means it was newly added).
    pub fn add_project_member(
        &self,
        ctx: &Ctx,
        org: OrgId,
        project: ProjectId,
        who: &MemberRef,
        role: ProjectRole,
    ) -> Result<(ProjectMember, bool)> {
        let now = Timestamp::now();
        store::write(&**self.store(), |tx| {
            authorize_project(tx, ctx, org, project, Action::ManageProject)?;
            let member = who.member(tx, org)?;
            let user = member.user.id;
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
        let action = if ctx.actor == Actor::User(user) {
            Action::LeaveProject
        } else {
            Action::ManageProject
        };
        store::write(&**self.store(), |tx| {
            authorize_project(tx, ctx, org, project, action)?;
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
