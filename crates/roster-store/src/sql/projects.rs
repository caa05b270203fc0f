//! SQL for projects and project memberships. A project is always read
//! within its org (`id` and `org_id`), so an id from another org finds
//! nothing.

use roster_core::error::Result;
use roster_core::ids::{OrgId, ProjectId, UserId};
use roster_core::model::{Project, ProjectMember};
use roster_core::role::ProjectRole;
use roster_core::store::{ProjectsRead, ProjectsWrite};
use roster_core::time::Timestamp;

use super::decode::{decode, insert_into, params, select};
use super::{Row, SqlTx, Value};

/// The columns `project` decodes, from `projects`.
macro_rules! project_columns {
    () => {
        "id, org_id, name, description, status, created_at, updated_at"
    };
}

fn project(row: &Row) -> Result<Project> {
    decode! { row, 0, Project { id, org_id, name, description, status, created_at, updated_at } }
}

/// The columns `project_member` decodes, from
/// `project_members pm JOIN users u`.
macro_rules! project_member_select {
    () => {
        "SELECT pm.project_id, pm.user_id, u.email, pm.role, pm.created_at \
         FROM project_members pm JOIN users u ON u.id = pm.user_id "
    };
}

fn project_member(row: &Row) -> Result<ProjectMember> {
    decode! { row, 0, ProjectMember { project_id, user_id, email, role, created_at } }
}

impl ProjectsRead for SqlTx<'_> {
    /// The project, only if it belongs to `org`.
    fn project(&mut self, org: OrgId, id: ProjectId) -> Result<Option<Project>> {
        let sql = select! { project_columns!(), " FROM projects WHERE id = $1 AND org_id = $2" };
        self.query_opt(sql, &params! { id, org }, project)
    }

    /// One page in id order, by the index (org_id, id).
    fn list_projects(
        &mut self,
        org: OrgId,
        after: Option<ProjectId>,
        limit: usize,
    ) -> Result<Vec<Project>> {
        let sql = select!(
            project_columns!(),
            " FROM projects WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        let params = params! { org, Value::after(after), Value::limit(limit) };
        self.query_all(sql, &params, project)
    }

    fn project_member(
        &mut self,
        project: ProjectId,
        user: UserId,
    ) -> Result<Option<ProjectMember>> {
        let sql = concat!(
            project_member_select!(),
            "WHERE pm.project_id = $1 AND pm.user_id = $2"
        );
        self.query_opt(sql, &params! { project, user }, project_member)
    }

    /// One page in user-id order, by the primary key (project_id,
    /// user_id); `u.id > $2` repeats the bound on the joined side (see
    /// `list_members`).
    fn list_project_members(
        &mut self,
        project: ProjectId,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<ProjectMember>> {
        let sql = concat!(
            project_member_select!(),
            "WHERE pm.project_id = $1 AND pm.user_id > $2 AND u.id > $2 \
             ORDER BY pm.user_id LIMIT $3"
        );
        let params = params! { project, Value::after(after), Value::limit(limit) };
        self.query_all(sql, &params, project_member)
    }
}

impl ProjectsWrite for SqlTx<'_> {
    fn insert_project(&mut self, project: &Project) -> Result<()> {
        let sql = insert_into!("projects", project_columns!(), "$1, $2, $3, $4, $5, $6, $7");
        let p = project;
        let params = params! {
            p.id, p.org_id, &p.name, &p.description, p.status, p.created_at, p.updated_at,
        };
        self.run(sql, &params)
    }

    /// Updates name, description, status and `updated_at`; a project never
    /// moves to another org.
    fn update_project(&mut self, project: &Project) -> Result<()> {
        let sql = "UPDATE projects SET name = $1, description = $2, status = $3, updated_at = $4 \
                   WHERE id = $5 AND org_id = $6";
        let p = project;
        let params = params! { &p.name, &p.description, p.status, p.updated_at, p.id, p.org_id };
        self.run(sql, &params)
    }

    /// Its members go by `ON DELETE CASCADE`.
    fn delete_project(&mut self, org: OrgId, id: ProjectId) -> Result<()> {
        let sql = "DELETE FROM projects WHERE id = $1 AND org_id = $2";
        self.run(sql, &params! { id, org })
    }

    fn insert_project_member(
        &mut self,
        project: ProjectId,
        user: UserId,
        role: ProjectRole,
        at: Timestamp,
    ) -> Result<()> {
        let sql = "INSERT INTO project_members (project_id, user_id, role, created_at) \
                   VALUES ($1, $2, $3, $4)";
        self.run(sql, &params! { project, user, role, at })
    }

    fn update_project_member_role(
        &mut self,
        project: ProjectId,
        user: UserId,
        role: ProjectRole,
    ) -> Result<()> {
        let sql = "UPDATE project_members SET role = $1 WHERE project_id = $2 AND user_id = $3";
        self.run(sql, &params! { role, project, user })
    }

    fn delete_project_member(&mut self, project: ProjectId, user: UserId) -> Result<()> {
        let sql = "DELETE FROM project_members WHERE project_id = $1 AND user_id = $2";
        self.run(sql, &params! { project, user })
    }
}
