//! SQL for projects and project memberships. A project is always read
//! within its org (`id` and `org_id`), so an id from another org finds
//! nothing.

use roster_core::error::Result;
use roster_core::ids::{OrgId, ProjectId, UserId};
use roster_core::model::{Project, ProjectMember};
use roster_core::role::ProjectRole;
use roster_core::store::{ProjectsRead, ProjectsWrite};
use roster_core::time::Timestamp;

use super::decode::{id, project_role, status, ts};
use super::{Row, SqlTx, Value};

/// The columns `project` decodes, from `projects`.
macro_rules! project_columns {
    () => {
        "id, org_id, name, description, status, created_at, updated_at"
    };
}

fn project(row: &Row) -> Result<Project> {
    Ok(Project {
        id: id(row, 0, "projects.id")?,
        org_id: id(row, 1, "projects.org_id")?,
        name: row.text(2)?,
        description: row.text(3)?,
        status: status(row, 4)?,
        created_at: ts(row, 5)?,
        updated_at: ts(row, 6)?,
    })
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
    Ok(ProjectMember {
        project_id: id(row, 0, "project_members.project_id")?,
        user_id: id(row, 1, "project_members.user_id")?,
        email: row.text(2)?,
        role: project_role(row, 3)?,
        created_at: ts(row, 4)?,
    })
}

impl ProjectsRead for SqlTx<'_> {
    /// The project, only if it belongs to `org`.
    fn project(&mut self, org: OrgId, id: ProjectId) -> Result<Option<Project>> {
        let sql = concat!(
            "SELECT ",
            project_columns!(),
            " FROM projects WHERE id = $1 AND org_id = $2"
        );
        self.query_opt(sql, &[Value::text(id), Value::text(org)], project)
    }

    /// One page in id order, by the index (org_id, id).
    fn list_projects(
        &mut self,
        org: OrgId,
        after: Option<ProjectId>,
        limit: usize,
    ) -> Result<Vec<Project>> {
        let sql = concat!(
            "SELECT ",
            project_columns!(),
            " FROM projects WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        let params = [Value::text(org), Value::after(after), Value::limit(limit)];
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
        self.query_opt(
            sql,
            &[Value::text(project), Value::text(user)],
            project_member,
        )
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
        let params = [
            Value::text(project),
            Value::after(after),
            Value::limit(limit),
        ];
        self.query_all(sql, &params, project_member)
    }
}

impl ProjectsWrite for SqlTx<'_> {
    fn insert_project(&mut self, project: &Project) -> Result<()> {
        self.run(
            concat!(
                "INSERT INTO projects (",
                project_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
            ),
            &[
                Value::text(project.id),
                Value::text(project.org_id),
                Value::text(&project.name),
                Value::text(&project.description),
                Value::text(project.status.as_str()),
                Value::Int(project.created_at.0),
                Value::Int(project.updated_at.0),
            ],
        )
    }

    /// Updates name, description, status and `updated_at`; a project never
    /// moves to another org.
    fn update_project(&mut self, project: &Project) -> Result<()> {
        self.run(
            "UPDATE projects SET name = $1, description = $2, status = $3, updated_at = $4 \
             WHERE id = $5 AND org_id = $6",
            &[
                Value::text(&project.name),
                Value::text(&project.description),
                Value::text(project.status.as_str()),
                Value::Int(project.updated_at.0),
                Value::text(project.id),
                Value::text(project.org_id),
            ],
        )
    }

    /// Its members go by `ON DELETE CASCADE`.
    fn delete_project(&mut self, org: OrgId, id: ProjectId) -> Result<()> {
        self.run(
            "DELETE FROM projects WHERE id = $1 AND org_id = $2",
            &[Value::text(id), Value::text(org)],
        )
    }

    fn insert_project_member(
        &mut self,
        project: ProjectId,
        user: UserId,
        role: ProjectRole,
        at: Timestamp,
    ) -> Result<()> {
        self.run(
            "INSERT INTO project_members (project_id, user_id, role, created_at) \
             VALUES ($1, $2, $3, $4)",
            &[
                Value::text(project),
                Value::text(user),
                Value::text(role.as_str()),
                Value::Int(at.0),
            ],
        )
    }

    fn update_project_member_role(
        &mut self,
        project: ProjectId,
        user: UserId,
        role: ProjectRole,
    ) -> Result<()> {
        self.run(
            "UPDATE project_members SET role = $1 WHERE project_id = $2 AND user_id = $3",
            &[
                Value::text(role.as_str()),
                Value::text(project),
                Value::text(user),
            ],
        )
    }

    fn delete_project_member(&mut self, project: ProjectId, user: UserId) -> Result<()> {
        self.run(
            "DELETE FROM project_members WHERE project_id = $1 AND user_id = $2",
            &[Value::text(project), Value::text(user)],
        )
    }
}
